//! Python distributions: `*.dist-info` (METADATA, RECORD), `*.egg-info` (PKG-INFO,
//! installed-files.txt, or a single PKG-INFO-format file) and `.egg` (unpacked or zipped), in
//! venvs, `site-packages` and Debian's `dist-packages` alike.
//!
//! Every distribution is reported where it is installed, so the same project installed twice
//! yields two packages. The files each one records are kept (absolute image paths) so the
//! orchestrator can attribute a distribution owned by an OS package to that package.

use anchorage_image::ImageFs;
use anchorage_types::PackageType;

use super::util::{base_name, is_file, join, parent_dir, purl, read_entry, read_optional, text};
use super::{LangLimits, PackageDraft, location_of, location_of_path};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{FileDigest, Package, PackageFile, PackageMetadata, PythonMetadata};

const STAGE: &str = "python";

/// Finds installed Python distributions.
pub(crate) struct PythonCataloger {
    limits: LangLimits,
}

impl PythonCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

/// PEP 503 normalization (shared with the matcher through `anchorage-types`).
pub(crate) fn normalize_name(name: &str) -> String {
    anchorage_types::pep503_normalize(name)
}

/// Header fields of a METADATA / PKG-INFO document (RFC 822 style, body ignored).
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct CoreMetadata {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) author: Option<String>,
    pub(crate) home_page: Option<String>,
    pub(crate) licenses: Vec<String>,
    pub(crate) requires_dist: Vec<String>,
}

/// Parses core metadata headers; stops at the first blank line (the description body).
pub(crate) fn parse_core_metadata(input: &str) -> CoreMetadata {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in input.lines() {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(last) = fields.last_mut() {
                last.1.push('\n');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            fields.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let mut md = CoreMetadata::default();
    let mut license_field = None;
    let mut license_expr = None;
    let mut classifier_licenses = Vec::new();
    for (k, v) in fields {
        match k.as_str() {
            "name" => md.name = v,
            "version" => md.version = v,
            "author" if !v.is_empty() => md.author = Some(v),
            "author-email" if md.author.is_none() && !v.is_empty() => md.author = Some(v),
            "home-page" if !v.is_empty() => md.home_page = Some(v),
            "requires-dist" => md.requires_dist.push(v),
            "license-expression" if !v.is_empty() => license_expr = Some(v),
            "license" => {
                let first = v.lines().next().unwrap_or("").trim().to_string();
                if !first.is_empty() && !first.eq_ignore_ascii_case("unknown") && first.len() < 100
                {
                    license_field = Some(first);
                }
            }
            "classifier" => {
                if let Some(rest) = v.strip_prefix("License ::")
                    && let Some(last) = rest.rsplit("::").next()
                {
                    let l = last.trim();
                    if !l.is_empty() && l != "OSI Approved" {
                        classifier_licenses.push(l.to_string());
                    }
                }
            }
            _ => {}
        }
    }
    md.licenses = if let Some(e) = license_expr {
        vec![e]
    } else if let Some(l) = license_field {
        vec![l]
    } else {
        classifier_licenses
    };
    md
}

/// Splits one RECORD (CSV) line into path and hash fields; the path may be quoted.
fn record_fields(line: &str) -> Option<(String, String)> {
    let line = line.trim_end_matches('\r');
    if line.is_empty() {
        return None;
    }
    let (path, rest) = if let Some(stripped) = line.strip_prefix('"') {
        let mut path = String::new();
        let mut chars = stripped.char_indices().peekable();
        let mut end = None;
        while let Some((i, c)) = chars.next() {
            if c == '"' {
                if matches!(chars.peek(), Some((_, '"'))) {
                    path.push('"');
                    chars.next();
                } else {
                    end = Some(i + 1);
                    break;
                }
            } else {
                path.push(c);
            }
        }
        let rest = end.map(|e| &stripped[e..]).unwrap_or("");
        (path, rest.strip_prefix(',').unwrap_or(rest))
    } else {
        match line.split_once(',') {
            Some((p, r)) => (p.to_string(), r),
            None => (line.to_string(), ""),
        }
    };
    let hash = rest.split(',').next().unwrap_or("").to_string();
    Some((path, hash))
}

/// Decodes unpadded URL-safe base64 (RECORD digests) to lower-case hex. Hand-written: it is
/// a few lines and the base64 crate is not a dependency of this crate.
fn urlsafe_b64_to_hex(s: &str) -> Option<String> {
    let mut bits: u32 = 0;
    let mut nbits = 0;
    let mut out = String::new();
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        };
        bits = (bits << 6) | u32::from(v);
        nbits += 6;
        if nbits >= 8 {
            nbits -= 8;
            out.push_str(&format!("{:02x}", (bits >> nbits) & 0xff));
        }
    }
    Some(out)
}

/// Parses RECORD into absolute files; `root` is the site-packages directory.
pub(crate) fn parse_record(input: &str, root: &str) -> Vec<PackageFile> {
    input
        .lines()
        .filter_map(record_fields)
        .map(|(path, hash)| {
            let digest = hash.split_once('=').and_then(|(alg, v)| {
                urlsafe_b64_to_hex(v).map(|hex| FileDigest {
                    algorithm: alg.to_string(),
                    value: hex,
                })
            });
            PackageFile {
                path: join(root, &path),
                digest,
            }
        })
        .collect()
}

/// Parses installed-files.txt (paths relative to the egg-info directory).
fn parse_installed_files(input: &str, egg_info_dir: &str) -> Vec<PackageFile> {
    input
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| PackageFile {
            path: join(egg_info_dir, l),
            digest: None,
        })
        .collect()
}

enum Kind {
    DistInfo,
    EggInfoDir,
    EggInfoFile,
    EggDir,
    EggZip,
}

fn classify(path: &str) -> Option<Kind> {
    let base = base_name(path);
    // directory suffixes in any case (`.DIST-INFO` exists in the wild)
    let parent = base_name(parent_dir(path)).to_ascii_lowercase();
    if base == "METADATA" && parent.ends_with(".dist-info") {
        Some(Kind::DistInfo)
    } else if base == "PKG-INFO" && parent.ends_with(".egg-info") {
        Some(Kind::EggInfoDir)
    } else if base == "PKG-INFO"
        && parent == "EGG-INFO"
        && base_name(parent_dir(parent_dir(path))).ends_with(".egg")
    {
        Some(Kind::EggDir)
    } else if base.ends_with(".egg-info") {
        Some(Kind::EggInfoFile)
    } else if base.ends_with(".egg") {
        Some(Kind::EggZip)
    } else {
        None
    }
}

impl Cataloger for PythonCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn catalog(&self, fs: &dyn ImageFs, ctx: &mut CatalogContext) -> Vec<Package> {
        let mut out = Vec::new();
        let candidates: Vec<_> = fs
            .entries()
            .filter(|e| is_file(e))
            .filter_map(|e| classify(&e.path).map(|k| (e, k)))
            .collect();
        let lim = self.limits.max_manifest_bytes;
        for (entry, kind) in candidates {
            let (meta_bytes, root, format, meta_dir) = match kind {
                Kind::DistInfo | Kind::EggInfoDir => {
                    let dir = parent_dir(&entry.path).to_string();
                    let root = parent_dir(&dir).to_string();
                    let fmt = if matches!(kind, Kind::DistInfo) {
                        "dist-info"
                    } else {
                        "egg-info"
                    };
                    (read_entry(fs, entry, lim, ctx, STAGE), root, fmt, Some(dir))
                }
                Kind::EggInfoFile => {
                    let root = parent_dir(&entry.path).to_string();
                    (
                        read_entry(fs, entry, lim, ctx, STAGE),
                        root,
                        "egg-info",
                        None,
                    )
                }
                Kind::EggDir => {
                    let egg = parent_dir(parent_dir(&entry.path)).to_string();
                    let root = parent_dir(&egg).to_string();
                    (read_entry(fs, entry, lim, ctx, STAGE), root, "egg", None)
                }
                Kind::EggZip => {
                    let root = parent_dir(&entry.path).to_string();
                    let bytes = read_entry(fs, entry, self.limits.max_archive_bytes, ctx, STAGE)
                        .and_then(|b| {
                            match super::java::zip_member(&b, "EGG-INFO/PKG-INFO", lim) {
                                Ok(m) => m,
                                Err(e) => {
                                    ctx.warn(STAGE, Some(&entry.path), e);
                                    None
                                }
                            }
                        });
                    (bytes, root, "egg", None)
                }
            };
            let Some(meta_bytes) = meta_bytes else {
                continue;
            };
            let md = parse_core_metadata(&text(&meta_bytes));
            if md.name.is_empty() || md.version.is_empty() {
                ctx.warn(STAGE, Some(&entry.path), "metadata has no Name or Version");
                continue;
            }
            let mut locations = vec![location_of(fs, entry)];
            let mut files = Vec::new();
            if let Some(dir) = &meta_dir {
                let (list, is_record) = if format == "dist-info" {
                    (format!("{dir}/RECORD"), true)
                } else {
                    (format!("{dir}/installed-files.txt"), false)
                };
                if let Some(b) = read_optional(fs, &list, lim, ctx, STAGE) {
                    let t = text(&b);
                    files = if is_record {
                        parse_record(&t, &root)
                    } else {
                        parse_installed_files(&t, dir)
                    };
                    locations.push(location_of_path(fs, &list));
                }
                let top = format!("{dir}/top_level.txt");
                if fs.entry(&top).is_some() {
                    locations.push(location_of_path(fs, &top));
                }
            }
            let name = normalize_name(&md.name);
            let mut d = PackageDraft::new(
                PackageType::Python,
                name.clone(),
                md.version.clone(),
                purl("pypi", None, &name, &md.version),
                locations.remove(0),
            );
            d.locations.extend(locations);
            d.licenses = md.licenses;
            d.metadata = PackageMetadata::Python(PythonMetadata {
                author: md.author,
                home_page: md.home_page,
                site_packages_root: Some(root),
                format: Some(format.to_string()),
                files,
                requires_dist: md.requires_dist,
            });
            out.push(d.build());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503() {
        assert_eq!(normalize_name("Jinja2"), "jinja2");
        assert_eq!(normalize_name("zope.interface"), "zope-interface");
        assert_eq!(normalize_name("Foo__Bar-.baz"), "foo-bar-baz");
    }

    #[test]
    fn record_digest_is_hex() {
        let f = parse_record(
            "\"a,b.py\",sha256=n_VLfuLN3E966vObL5yznSnEemZi9-mN_NYciEbtu1U,50439\nx/RECORD,,\n",
            "/sp",
        );
        assert_eq!(f[0].path, "/sp/a,b.py");
        assert_eq!(
            f[0].digest.as_ref().map(|d| d.value.len()),
            Some(64),
            "sha256 hex"
        );
        assert_eq!(f[1].digest, None);
    }
}
