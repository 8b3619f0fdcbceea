//! apk: `lib/apk/db/installed` with origin, arch, license, files and their checksums.

use std::collections::HashSet;

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use base64::Engine as _;

use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{ApkMetadata, FileDigest, Package, PackageFile, PackageMetadata};
use crate::os::{Parsed, distro_qualifier, location_for, lossy_text, package_id, read_db};
use crate::relationships::DependencyDecl;
use crate::{cpe, purl};

/// One package record of an apk installed database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ApkEntry {
    /// `P:`.
    pub name: String,
    /// `V:`.
    pub version: String,
    /// `o:` origin (source package).
    pub origin: Option<String>,
    /// `A:`.
    pub arch: Option<String>,
    /// `L:` license expression.
    pub license: Option<String>,
    /// `m:`.
    pub maintainer: Option<String>,
    /// `I:` bytes.
    pub installed_size: Option<u64>,
    /// `U:`.
    pub url: Option<String>,
    /// `c:`.
    pub commit: Option<String>,
    /// `D:` split on spaces.
    pub depends: Vec<String>,
    /// `p:` split on spaces (`so:libcrypto.so.3=3`, `cmd:openssl=3.3.2-r0`).
    pub provides: Vec<String>,
    /// `F:` + `R:` with `Z:`.
    pub files: Vec<PackageFile>,
}

/// Parses `lib/apk/db/installed`. Never panics.
pub fn parse_installed(bytes: &[u8]) -> Parsed<ApkEntry> {
    let mut out = Parsed::default();
    let text = lossy_text(bytes, "apk installed", &mut out.warnings);
    let mut cur = ApkEntry::default();
    let mut dir = String::new();
    let mut start = 1usize;
    let finish = |cur: &mut ApkEntry, out: &mut Parsed<ApkEntry>, at: usize| {
        let e = std::mem::take(cur);
        if e == ApkEntry::default() {
            return;
        }
        if e.name.is_empty() || e.version.is_empty() {
            out.warnings
                .push(format!("record at line {at}: missing P: or V: field"));
            return;
        }
        out.packages.push(e);
    };
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        if line.trim().is_empty() {
            finish(&mut cur, &mut out, start);
            dir.clear();
            start = line_no + 1;
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            out.warnings
                .push(format!("line {line_no}: not a `K:value` line"));
            continue;
        };
        if key.len() != 1 {
            out.warnings.push(format!(
                "line {line_no}: field key {key:?} is not one letter"
            ));
            continue;
        }
        let value = value.to_string();
        match key {
            "P" => cur.name = value,
            "V" => cur.version = value,
            "o" => cur.origin = Some(value),
            "A" => cur.arch = Some(value),
            "L" => cur.license = Some(value),
            "m" => cur.maintainer = Some(value),
            "I" => cur.installed_size = value.parse().ok(),
            "U" => cur.url = Some(value),
            "c" => cur.commit = Some(value),
            "D" => cur.depends = value.split_whitespace().map(str::to_string).collect(),
            "p" => cur.provides = value.split_whitespace().map(str::to_string).collect(),
            "F" => dir = value,
            "R" => {
                let path = if dir.is_empty() {
                    format!("/{value}")
                } else {
                    format!("/{dir}/{value}")
                };
                cur.files.push(PackageFile {
                    path,
                    digest: None,
                    config: false,
                });
            }
            "Z" => match cur.files.last_mut() {
                Some(f) => f.digest = Some(decode_checksum(&value)),
                None => out.warnings.push(format!(
                    "line {line_no}: Z: checksum without a preceding R: file"
                )),
            },
            _ => {}
        }
    }
    finish(&mut cur, &mut out, start);
    out
}

/// `Q1` + base64(sha1) becomes a sha1 hex digest; anything else is kept as written.
fn decode_checksum(value: &str) -> FileDigest {
    if let Some(b64) = value.strip_prefix("Q1")
        && let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(b64)
        && raw.len() == 20
    {
        return FileDigest {
            algorithm: "sha1".into(),
            value: hex::encode(raw),
        };
    }
    FileDigest {
        algorithm: "apk-checksum".into(),
        value: value.to_string(),
    }
}

/// The apk cataloger.
/// The scope of apk dependencies: the one installed database.
const SCOPE: &str = "apk";

/// What an installed entry provides (its name, its `p:` names without `=version`, and those of
/// its files some package requires by path, e.g. `/bin/sh`) and requires (`D:` names without
/// version constraints; `!conflicts` are not requirements).
fn dependency_decl(id: &str, e: &ApkEntry, required_paths: &HashSet<&str>) -> DependencyDecl {
    let mut d = DependencyDecl::new(id, SCOPE, &e.name);
    d.provides.extend(
        e.provides
            .iter()
            .filter_map(|p| dep_name(p))
            .map(str::to_string),
    );
    d.provides.extend(
        e.files
            .iter()
            .filter(|f| required_paths.contains(f.path.as_str()))
            .map(|f| f.path.clone()),
    );
    for dep in &e.depends {
        if let Some(name) = dep_name(dep).filter(|_| !dep.starts_with('!')) {
            d.require(name);
        }
    }
    d
}

/// `musl>=1.2` -> `musl`, `so:libc.musl-x86_64.so.1=1` -> `so:libc.musl-x86_64.so.1`.
fn dep_name(dep: &str) -> Option<&str> {
    let end = dep.find(['=', '<', '>', '~']).unwrap_or(dep.len());
    Some(dep[..end].trim()).filter(|n| !n.is_empty())
}

#[derive(Debug, Default)]
pub(crate) struct ApkCataloger {
    pub(crate) max_database_size: u64,
}

const STAGE: &str = "apk";
const DB: &str = "/lib/apk/db/installed";

impl Cataloger for ApkCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        let _ = e;
        false
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        _files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let Some(bytes) = read_db(fs, DB, self.max_database_size, ctx, STAGE) else {
            return Vec::new();
        };
        let parsed = parse_installed(&bytes);
        for w in parsed.warnings {
            ctx.warn(STAGE, Some(DB), w);
        }
        let distro = distro_qualifier(&ctx.distro);
        let namespace = if ctx.distro.is_unknown() {
            "alpine".to_string()
        } else {
            ctx.distro.id.clone()
        };
        let location = location_for(fs, DB);
        let required_paths: HashSet<&str> = parsed
            .packages
            .iter()
            .flat_map(|e| &e.depends)
            .map(String::as_str)
            .filter(|d| d.starts_with('/'))
            .collect();
        let decls: Vec<DependencyDecl> = parsed
            .packages
            .iter()
            .map(|e| {
                let id = package_id(PackageType::Apk, &e.name, &e.version, DB);
                dependency_decl(&id, e, &required_paths)
            })
            .collect();
        ctx.dependencies.extend(decls);
        parsed
            .packages
            .into_iter()
            .map(|e| {
                let upstream = match &e.origin {
                    Some(o) if *o != e.name => o.clone(),
                    _ => String::new(),
                };
                let arch = e.arch.clone().unwrap_or_default();
                Package {
                    id: package_id(PackageType::Apk, &e.name, &e.version, DB),
                    purl: purl::for_package(
                        "apk",
                        Some(&namespace),
                        &e.name,
                        &e.version,
                        &[
                            ("arch", &arch),
                            ("distro", &distro),
                            ("upstream", &upstream),
                        ],
                    ),
                    cpes: cpe::candidates(&e.name, &e.version),
                    licenses: e.license.iter().cloned().collect(),
                    locations: vec![location.clone()],
                    source_name: e.origin.clone(),
                    source_version: None,
                    arch: e.arch.clone(),
                    owner: None,
                    metadata: PackageMetadata::Apk(ApkMetadata {
                        maintainer: e.maintainer,
                        installed_size: e.installed_size,
                        url: e.url,
                        commit: e.commit,
                        files: e.files,
                        depends: e.depends,
                    }),
                    name: e.name,
                    version: e.version,
                    package_type: PackageType::Apk,
                }
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_checksum_without_file_is_a_warning() {
        let p =
            parse_installed(b"P:x\nV:1\nZ:Q1abc\nF:etc\nR:f\nZ:Q1SLkS9hBidUbPwwrw+XR0Whv3ww8=\n");
        assert_eq!(p.packages.len(), 1);
        assert_eq!(p.warnings.len(), 1);
        let f = &p.packages[0].files[0];
        assert_eq!(f.path, "/etc/f");
        assert_eq!(f.digest.as_ref().unwrap().algorithm, "sha1");
    }
}
