//! Rust crates: `Cargo.lock` files and the dependency list that cargo-auditable embeds in
//! executables (section `.dep-v0`: zlib-compressed JSON).
//!
//! The auditable data is read with `object` + `flate2` under an explicit inflate cap rather
//! than with `auditable-info`, whose reader wants the whole file path or bytes plus its own
//! limits type; the format is a compressed JSON list and takes a few lines here.

use std::io::Read;

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use object::{Object, ObjectSection};
use serde::Deserialize;

use super::util::{base_name, is_file, purl, read_entry, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{Package, PackageMetadata, RustMetadata};
use crate::relationships::DependencyDecl;

const STAGE: &str = "rust";
const MAX_AUDIT_JSON: u64 = 8 * 1024 * 1024;

/// Finds Rust crates in `Cargo.lock` files (binaries: see `executable.rs`).
pub(crate) struct RustCataloger {
    limits: LangLimits,
}

impl RustCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

/// One crate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct Crate {
    pub(crate) name: String,
    pub(crate) version: String,
    #[serde(default)]
    pub(crate) source: Option<String>,
    #[serde(default)]
    pub(crate) checksum: Option<String>,
    /// cargo-auditable: `build` / `runtime`.
    #[serde(default)]
    pub(crate) kind: Option<String>,
    /// Cargo.lock: `name`, `name version` or `name version (source)` of each dependency
    /// (cargo writes the shortest form that is unique in the file); cargo-auditable: indices.
    #[serde(default)]
    pub(crate) dependencies: Vec<CrateDependency>,
}

/// One entry of a crate's `dependencies`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub(crate) enum CrateDependency {
    /// Cargo.lock's `name[ version[ (source)]]`.
    Name(String),
    /// cargo-auditable's index into its package list.
    Index(usize),
}

/// What a Cargo.lock crate answers to (`name`, `name version`, `name version (source)`) and
/// requires (its `dependencies` as written), in `scope` (one Cargo.lock).
fn lock_decl(id: &str, scope: &str, c: &Crate) -> DependencyDecl {
    let mut d = DependencyDecl::new(id, scope, &c.name);
    d.provides.push(format!("{} {}", c.name, c.version));
    if let Some(src) = &c.source {
        d.provides.push(format!("{} {} ({src})", c.name, c.version));
    }
    for dep in &c.dependencies {
        if let CrateDependency::Name(n) = dep {
            d.require(n.clone());
        }
    }
    d
}

#[derive(Deserialize)]
struct Lock {
    #[serde(default)]
    package: Vec<Crate>,
}

/// Parses a Cargo.lock (v1-v4).
pub(crate) fn parse_cargo_lock(input: &str) -> Result<Vec<Crate>, String> {
    let lock: Lock = toml::from_str(input).map_err(|e| format!("invalid TOML: {e}"))?;
    Ok(lock.package)
}

#[derive(Deserialize)]
struct Audit {
    packages: Vec<Crate>,
}

/// Decodes cargo-auditable data (zlib-compressed JSON) under an inflate cap.
pub(crate) fn parse_auditable(compressed: &[u8], limit: u64) -> Result<Vec<Crate>, String> {
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(compressed)
        .take(limit + 1)
        .read_to_end(&mut json)
        .map_err(|e| format!("cargo-auditable data does not inflate: {e}"))?;
    if json.len() as u64 > limit {
        return Err(format!("cargo-auditable data inflates past {limit} bytes"));
    }
    let audit: Audit =
        serde_json::from_slice(&json).map_err(|e| format!("invalid cargo-auditable JSON: {e}"))?;
    Ok(audit.packages)
}

/// The `.dep-v0` section of an executable, if any.
pub(crate) fn auditable_section(data: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let file = object::File::parse(data).map_err(|e| format!("unreadable executable: {e}"))?;
    for name in [".dep-v0", "__dep-v0", "dep-v0"] {
        if let Some(sec) = file.section_by_name(name) {
            return sec
                .data()
                .map(|d| Some(d.to_vec()))
                .map_err(|e| format!("unreadable {name} section: {e}"));
        }
    }
    Ok(None)
}

/// Crates from the cargo-auditable data of an executable already in memory (`Ok(empty)` when
/// it has none); build-time dependencies are left out.
pub(crate) fn packages_from_executable(
    data: &[u8],
    loc: &anchorage_types::Location,
) -> Result<Vec<Package>, String> {
    if memchr::memmem::find(data, b"dep-v0").is_none() {
        return Ok(Vec::new());
    }
    let Some(section) = auditable_section(data)? else {
        return Ok(Vec::new());
    };
    let list = parse_auditable(&section, MAX_AUDIT_JSON)?;
    Ok(list
        .iter()
        .filter(|c| c.kind.as_deref() != Some("build"))
        .map(|c| crate_package(c, loc.clone()))
        .collect())
}

fn crate_package(c: &Crate, location: anchorage_types::Location) -> Package {
    let mut d = PackageDraft::new(
        PackageType::Rust,
        c.name.clone(),
        c.version.clone(),
        purl("cargo", None, &c.name, &c.version),
        location,
    );
    d.metadata = PackageMetadata::Rust(RustMetadata {
        source: c.source.clone(),
        checksum: c.checksum.clone(),
    });
    d.build()
}

impl Cataloger for RustCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e) && base_name(&e.path) == "Cargo.lock"
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        for entry in files {
            if base_name(&entry.path) == "Cargo.lock" {
                let Some(b) = read_entry(fs, entry, self.limits.max_manifest_bytes, ctx, STAGE)
                else {
                    continue;
                };
                match parse_cargo_lock(&text(&b)) {
                    Ok(list) => {
                        let loc = location_of(fs, entry);
                        let scope = format!("cargo:{}", entry.path);
                        for c in &list {
                            let p = crate_package(c, loc.clone());
                            ctx.dependencies.push(lock_decl(&p.id, &scope, c));
                            out.push(p);
                        }
                    }
                    Err(e) => ctx.warn(STAGE, Some(&entry.path), e),
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zlib(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn synthetic_auditable_json() {
        let json = br#"{"packages":[{"name":"app","version":"0.1.0","source":"local","root":true},
            {"name":"serde","version":"1.0.200","source":"crates.io","dependencies":[]},
            {"name":"cc","version":"1.0.0","source":"crates.io","kind":"build"}]}"#;
        let list = parse_auditable(&zlib(json), 1 << 20).unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(list[1].name, "serde");
        assert_eq!(list[2].kind.as_deref(), Some("build"));
    }

    #[test]
    fn synthetic_auditable_bomb_is_refused() {
        let big = vec![b' '; 4 << 20];
        assert!(
            parse_auditable(&zlib(&big), 1 << 20)
                .unwrap_err()
                .contains("inflates past")
        );
        assert!(parse_auditable(b"not zlib", 1 << 20).is_err());
    }
}
