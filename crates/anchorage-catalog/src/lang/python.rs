//! Python distributions: `*.dist-info` (METADATA, RECORD), `*.egg-info` (PKG-INFO,
//! installed-files.txt, or a single PKG-INFO-format file) and `.egg` (unpacked or zipped), in
//! venvs, `site-packages` and Debian's `dist-packages` alike.
//!
//! Every distribution is reported where it is installed, so the same project installed twice
//! yields two packages. The files each one records are kept (absolute image paths) so the
//! orchestrator can attribute a distribution owned by an OS package to that package.

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};

use super::util::{base_name, is_file, join, parent_dir, purl, read_entry, read_optional, text};
use super::{LangLimits, PackageDraft, location_of, location_of_path};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{FileDigest, Package, PackageFile, PackageMetadata, PythonMetadata};
use crate::relationships::DependencyDecl;

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

/// The normalized project name of a PEP 508 requirement (`MarkupSafe>=2.0; extra == "x"`).
pub(crate) fn requirement_name(req: &str) -> Option<String> {
    let req = req.trim();
    let end = req
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(req.len());
    Some(&req[..end])
        .filter(|n| !n.is_empty())
        .map(normalize_name)
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

/// RECORD digests: URL-safe base64 without padding (PEP 376, PEP 427); padding and the
/// standard alphabet written by other tools are accepted too.
const RECORD_BASE64: [GeneralPurpose; 2] = {
    let config = GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true);
    [
        GeneralPurpose::new(&alphabet::URL_SAFE, config),
        GeneralPurpose::new(&alphabet::STANDARD, config),
    ]
};

/// Decodes a RECORD digest to lower-case hex.
fn urlsafe_b64_to_hex(s: &str) -> Option<String> {
    RECORD_BASE64
        .iter()
        .find_map(|engine| engine.decode(s).ok())
        .map(hex::encode)
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
                config: false,
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
            config: false,
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

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e) && classify(&e.path).is_some()
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        let candidates = files
            .iter()
            .filter_map(|e| classify(&e.path).map(|k| (e, k)));
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
                            match super::java::zip_member(
                                &b,
                                "EGG-INFO/PKG-INFO",
                                lim,
                                &self.limits,
                            ) {
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
            // Requires-Dist lines of an extra (`...; extra == "socks"`) are optional features,
            // not what the installed distribution needs: left out (Syft keeps them).
            let requires: Vec<String> = md
                .requires_dist
                .iter()
                .filter(|r| !r.split_once(';').is_some_and(|(_, m)| m.contains("extra")))
                .filter_map(|r| requirement_name(r))
                .collect();
            let scope = format!("python-site:{root}");
            d.metadata = PackageMetadata::Python(PythonMetadata {
                author: md.author,
                home_page: md.home_page,
                site_packages_root: Some(root),
                format: Some(format.to_string()),
                files,
                requires_dist: md.requires_dist,
            });
            let p = d.build();
            let mut decl = DependencyDecl::new(&p.id, scope, &name);
            for r in requires {
                decl.require(r);
            }
            ctx.dependencies.push(decl);
            out.push(p);
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

    #[test]
    fn record_digests_decode_like_pythons_urlsafe_b64decode() {
        // base64.urlsafe_b64encode(hashlib.sha256(b"hello\n").digest()) in Python 3.11
        let hex = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03";
        assert_eq!(
            urlsafe_b64_to_hex("WJG1tSLV3whtD_CxEPvZ0hu0_HFjrzTQgoai6Eb2vgM").as_deref(),
            Some(hex)
        );
        assert_eq!(
            urlsafe_b64_to_hex("WJG1tSLV3whtD_CxEPvZ0hu0_HFjrzTQgoai6Eb2vgM=").as_deref(),
            Some(hex)
        );
        assert_eq!(
            urlsafe_b64_to_hex("WJG1tSLV3whtD/CxEPvZ0hu0/HFjrzTQgoai6Eb2vgM").as_deref(),
            Some(hex)
        );
        assert_eq!(urlsafe_b64_to_hex("not base64!"), None);
    }
}
