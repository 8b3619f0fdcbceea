//! Binary classifiers: runtimes whose version is only inside the executable or library
//! (python, node, openssl, busybox, bash, curl, redis, nginx, postgres) and the JDK `release`
//! file. Files are chosen by name first, then streamed in chunks (bounded memory, bounded
//! bytes) through a byte regex; the hit is kept as evidence.

use std::io::Read;
use std::sync::LazyLock;

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use regex::bytes::Regex;

use super::util::{base_name, cpe, is_file, parent_dir, purl, read_entry, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{BinaryMetadata, Package, PackageMetadata};

const STAGE: &str = "binary";
const CHUNK: usize = 4 * 1024 * 1024;
const OVERLAP: usize = 1024;

/// One classifier: which files, which pattern (capture 1 = version), and how to name the hit.
struct Classifier {
    id: &'static str,
    package: &'static str,
    vendor: &'static str,
    file: fn(&str) -> bool,
    pattern: &'static str,
}

fn num_suffix(name: &str, prefix: &str) -> bool {
    name.strip_prefix(prefix)
        .is_some_and(|r| r.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

static CLASSIFIERS: &[Classifier] = &[
    Classifier {
        id: "python-binary",
        package: "python",
        vendor: "python_software_foundation",
        file: |n| num_suffix(n, "python") || (n.starts_with("libpython") && n.contains(".so")),
        pattern: r"\x00((?:2|3)\.[0-9]+\.[0-9]+(?:(?:a|b|rc)[0-9]+)?)\x00",
    },
    Classifier {
        id: "nodejs-binary",
        package: "node",
        vendor: "nodejs",
        file: |n| n == "node" || n == "nodejs",
        pattern: r"(?:nodejs\.org/download/release/v|node\.js/v)([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        id: "openssl-binary",
        package: "openssl",
        vendor: "openssl",
        file: |n| n == "openssl" || n.starts_with("libssl.so") || n.starts_with("libcrypto.so"),
        pattern: r"OpenSSL ([0-9]+\.[0-9]+\.[0-9]+[a-z]?(?:-(?:alpha|beta)[0-9]+)?) ",
    },
    Classifier {
        id: "busybox-binary",
        package: "busybox",
        vendor: "busybox",
        file: |n| n == "busybox",
        pattern: r"BusyBox v([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        id: "bash-binary",
        package: "bash",
        vendor: "gnu",
        file: |n| n == "bash",
        pattern: r"(?:Bash version |\x00)([0-9]+\.[0-9]+\.[0-9]+)\([0-9]+\)[ -]release",
    },
    Classifier {
        id: "curl-binary",
        package: "curl",
        vendor: "haxx",
        file: |n| n == "curl" || n.starts_with("libcurl.so"),
        pattern: r"(?:lib)?curl/([0-9]+\.[0-9]+\.[0-9]+)\x00",
    },
    Classifier {
        id: "redis-binary",
        package: "redis",
        vendor: "redis",
        file: |n| n == "redis-server",
        pattern: r"([0-9]+\.[0-9]+\.[0-9]{1,2})(?:[a-z0-9]{12,15}-)?[0-9]{19}\x00",
    },
    Classifier {
        id: "nginx-binary",
        package: "nginx",
        vendor: "f5",
        file: |n| n == "nginx",
        pattern: r"nginx/([0-9]+\.[0-9]+\.[0-9]+)",
    },
    Classifier {
        id: "postgresql-binary",
        package: "postgresql",
        vendor: "postgresql",
        file: |n| n == "postgres",
        pattern: r"\(PostgreSQL\) ([0-9]+\.[0-9]+(?:\.[0-9]+)?)",
    },
];

static COMPILED: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    CLASSIFIERS
        .iter()
        .map(|c| Regex::new(&format!("(?-u){}", c.pattern)).expect("literal classifier pattern"))
        .collect()
});

/// Finds runtimes by classifying binaries.
pub(crate) struct BinaryCataloger {
    limits: LangLimits,
}

impl BinaryCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

/// Streams `reader` (at most `max` bytes) through `re`; returns (version, matched text).
/// `accept` can reject a candidate version (the python file-name check).
pub(crate) fn scan_stream(
    mut reader: impl Read,
    re: &Regex,
    max: u64,
    accept: &dyn Fn(&str) -> bool,
) -> std::io::Result<Option<(String, String)>> {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + OVERLAP);
    let mut total: u64 = 0;
    loop {
        let keep = buf.len().min(OVERLAP);
        let drop = buf.len() - keep;
        buf.drain(..drop);
        let start = buf.len();
        buf.resize(start + CHUNK, 0);
        let mut filled = start;
        while filled < buf.len() {
            let n = reader.read(&mut buf[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        let read = (filled - start) as u64;
        total += read;
        for caps in re.captures_iter(&buf) {
            if let (Some(all), Some(v)) = (caps.get(0), caps.get(1)) {
                let version = String::from_utf8_lossy(v.as_bytes()).into_owned();
                if accept(&version) {
                    let matched = String::from_utf8_lossy(all.as_bytes())
                        .replace('\0', "\\x00")
                        .chars()
                        .take(200)
                        .collect();
                    return Ok(Some((version, matched)));
                }
            }
        }
        if read == 0 || total >= max {
            return Ok(None);
        }
    }
}

/// `JAVA_VERSION` and `IMPLEMENTOR` from a JDK/JRE `release` file.
pub(crate) fn parse_java_release(input: &str) -> Option<(String, Option<String>, String)> {
    let mut version = None;
    let mut implementor = None;
    let mut line_hit = String::new();
    for line in input.lines() {
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim().trim_matches('"').to_string();
            match k.trim() {
                "JAVA_VERSION" => {
                    version = Some(v);
                    line_hit = line.to_string();
                }
                "IMPLEMENTOR" => implementor = Some(v),
                _ => {}
            }
        }
    }
    version
        .filter(|v| !v.is_empty())
        .map(|v| (v, implementor, line_hit))
}

fn binary_package(
    fs: &dyn ImageFs,
    entry: &FileEntry,
    classifier: &str,
    name: &str,
    vendor: &str,
    version: &str,
    matched: String,
) -> Package {
    let mut d = PackageDraft::new(
        PackageType::Binary,
        name,
        version,
        purl("generic", None, name, version),
        location_of(fs, entry),
    );
    d.cpes = vec![cpe(vendor, name, version)];
    d.metadata = PackageMetadata::Binary(BinaryMetadata {
        classifier: classifier.to_string(),
        matched,
    });
    d.build()
}

impl Cataloger for BinaryCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        if !is_file(e) {
            return false;
        }
        let name = base_name(&e.path);
        name == "release" || CLASSIFIERS.iter().any(|c| (c.file)(name))
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        for entry in files {
            let name = base_name(&entry.path);
            if name == "release"
                && fs
                    .entry(&format!("{}/bin/java", parent_dir(&entry.path)))
                    .is_some()
            {
                let Some(b) = read_entry(fs, entry, 1024 * 1024, ctx, STAGE) else {
                    continue;
                };
                if let Some((version, implementor, hit)) = parse_java_release(&text(&b)) {
                    let pkg = match implementor.as_deref() {
                        Some(i) if i.contains("Oracle") => "jdk",
                        _ => "openjdk",
                    };
                    let vendor = "oracle"; // NVD files both openjdk and jdk under oracle
                    out.push(binary_package(
                        fs,
                        entry,
                        "java-release",
                        pkg,
                        vendor,
                        &version,
                        hit,
                    ));
                }
                continue;
            }
            for (i, c) in CLASSIFIERS.iter().enumerate() {
                if !(c.file)(name) {
                    continue;
                }
                let Some(re) = COMPILED.get(i) else { continue };
                // python3.11 must report 3.11.x: tie the version to the file name's X.Y.
                let want: Option<String> = if c.id == "python-binary" {
                    let digits: String = name
                        .trim_start_matches("lib")
                        .trim_start_matches("python")
                        .chars()
                        .take_while(|ch| ch.is_ascii_digit() || *ch == '.')
                        .collect();
                    let parts: Vec<&str> = digits.split('.').filter(|p| !p.is_empty()).collect();
                    (parts.len() >= 2).then(|| format!("{}.{}.", parts[0], parts[1]))
                } else {
                    None
                };
                let accept = |v: &str| want.as_deref().is_none_or(|w| v.starts_with(w));
                let reader = match fs.open_entry(entry) {
                    Ok(r) => r,
                    Err(e) => {
                        ctx.warn(STAGE, Some(&entry.path), e.to_string());
                        continue;
                    }
                };
                match scan_stream(reader, re, self.limits.max_classifier_scan_bytes, &accept) {
                    Ok(Some((version, matched))) => {
                        out.push(binary_package(
                            fs, entry, c.id, c.package, c.vendor, &version, matched,
                        ));
                        break;
                    }
                    Ok(None) => {}
                    Err(e) => ctx.warn(STAGE, Some(&entry.path), format!("read failed: {e}")),
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_match_across_chunk_boundary() {
        let mut data = vec![b'x'; CHUNK - 5];
        data.extend(b"BusyBox v1.36.1 (2023)");
        let re = Regex::new(&format!("(?-u){}", CLASSIFIERS[3].pattern)).unwrap();
        let hit = scan_stream(&data[..], &re, u64::MAX, &|_| true).unwrap();
        assert_eq!(hit.map(|h| h.0), Some("1.36.1".to_string()));
    }
}
