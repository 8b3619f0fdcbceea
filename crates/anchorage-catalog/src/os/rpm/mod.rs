//! rpm: the three rpmdb formats (SQLite, Berkeley DB hash or btree, NDB) behind one trait, and the
//! header blob parser they share.

pub(crate) mod bdb;
pub(crate) mod header;
pub(crate) mod ndb;
pub(crate) mod sqlite;

use std::collections::{BTreeSet, HashSet};

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;

use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{FileDigest, Package, PackageFile, PackageMetadata, RpmMetadata};
use crate::os::{Parsed, distro_qualifier, location_for, package_id, read_db};
use crate::relationships::DependencyDecl;
use crate::{cpe, purl};

pub use header::{
    HeaderError, HeaderLimits, RpmFile, RpmHeader, parse_header, parse_header_with_limits,
};
pub use sqlite::SqliteLimits;

/// Bounds on reading rpm databases from an image ([`crate::CatalogOptions::rpm`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RpmLimits {
    /// Bounds on what one header blob may make us build.
    pub header: HeaderLimits,
    /// Bounds on reading an `rpmdb.sqlite`.
    pub sqlite: SqliteLimits,
}

/// An rpmdb storage format: turns the database file into header blobs.
pub trait RpmDbFormat {
    /// `sqlite`, `bdb`, `ndb`.
    fn name(&self) -> &'static str;
    /// Header blobs found in `db` (`wal`: the SQLite write-ahead log, when present), read with
    /// the default [`RpmLimits`].
    fn header_blobs(&self, db: &[u8], wal: Option<&[u8]>) -> Parsed<Vec<u8>>;
    /// Header blobs found in `db`, read within `limits` (formats whose reading cannot grow
    /// beyond the input ignore them).
    fn header_blobs_with_limits(
        &self,
        db: &[u8],
        wal: Option<&[u8]>,
        limits: &RpmLimits,
    ) -> Parsed<Vec<u8>> {
        let _ = limits;
        self.header_blobs(db, wal)
    }
}

/// `rpmdb.sqlite`.
#[derive(Debug, Clone, Copy)]
pub struct SqliteFormat;
/// Berkeley DB `Packages` (hash or btree access method).
#[derive(Debug, Clone, Copy)]
pub struct BdbFormat;
/// NDB `Packages.db`.
#[derive(Debug, Clone, Copy)]
pub struct NdbFormat;

impl RpmDbFormat for SqliteFormat {
    fn name(&self) -> &'static str {
        "sqlite"
    }
    fn header_blobs(&self, db: &[u8], wal: Option<&[u8]>) -> Parsed<Vec<u8>> {
        sqlite::read_blobs(db, wal, &SqliteLimits::default())
    }
    fn header_blobs_with_limits(
        &self,
        db: &[u8],
        wal: Option<&[u8]>,
        limits: &RpmLimits,
    ) -> Parsed<Vec<u8>> {
        sqlite::read_blobs(db, wal, &limits.sqlite)
    }
}

impl RpmDbFormat for BdbFormat {
    fn name(&self) -> &'static str {
        "bdb"
    }
    fn header_blobs(&self, db: &[u8], _wal: Option<&[u8]>) -> Parsed<Vec<u8>> {
        bdb::read_blobs(db)
    }
}

impl RpmDbFormat for NdbFormat {
    fn name(&self) -> &'static str {
        "ndb"
    }
    fn header_blobs(&self, db: &[u8], _wal: Option<&[u8]>) -> Parsed<Vec<u8>> {
        ndb::read_blobs(db)
    }
}

/// Reads every package header of a database in `format`. Blobs shorter than a header's fixed
/// part (BDB bookkeeping records) are skipped silently; other unreadable blobs are warnings.
pub fn read_database(format: &dyn RpmDbFormat, db: &[u8], wal: Option<&[u8]>) -> Parsed<RpmHeader> {
    read_database_with_limits(format, db, wal, &RpmLimits::default())
}

/// [`read_database`] within `limits`.
pub fn read_database_with_limits(
    format: &dyn RpmDbFormat,
    db: &[u8],
    wal: Option<&[u8]>,
    limits: &RpmLimits,
) -> Parsed<RpmHeader> {
    let blobs = format.header_blobs_with_limits(db, wal, limits);
    let mut out = Parsed {
        packages: Vec::new(),
        warnings: blobs.warnings,
    };
    for (i, blob) in blobs.packages.iter().enumerate() {
        if blob.len() < 16 {
            continue;
        }
        match parse_header_with_limits(blob, &limits.header) {
            Ok(h) => out.packages.push(h),
            Err(e) => out.warnings.push(format!("record {i}: {e}")),
        }
    }
    out
}

const DB_DIRS: [&str; 2] = ["/var/lib/rpm", "/usr/lib/sysimage/rpm"];

/// The rpm cataloger.
#[derive(Debug, Default)]
pub(crate) struct RpmCataloger {
    pub(crate) max_database_size: u64,
    pub(crate) limits: RpmLimits,
}

const STAGE: &str = "rpm";

impl Cataloger for RpmCataloger {
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
        let mut seen: BTreeSet<String> = BTreeSet::new();
        let mut headers: Vec<(String, RpmHeader)> = Vec::new();
        for dir in DB_DIRS {
            let candidates: [(&str, &dyn RpmDbFormat); 3] = [
                ("rpmdb.sqlite", &SqliteFormat),
                ("Packages", &BdbFormat),
                ("Packages.db", &NdbFormat),
            ];
            for (file, format) in candidates {
                let path = format!("{dir}/{file}");
                // /var/lib/rpm is often a symlink to /usr/lib/sysimage/rpm: read each file once.
                let Ok(entry) = fs.resolve(&path) else {
                    continue;
                };
                if !seen.insert(entry.path.clone()) {
                    continue;
                }
                let real = entry.path.clone();
                let Some(bytes) = read_db(fs, &real, self.max_database_size, ctx, STAGE) else {
                    continue;
                };
                let wal = if format.name() == "sqlite" {
                    read_db(
                        fs,
                        &format!("{real}-wal"),
                        self.max_database_size,
                        ctx,
                        STAGE,
                    )
                } else {
                    None
                };
                let parsed =
                    read_database_with_limits(format, &bytes, wal.as_deref(), &self.limits);
                for w in parsed.warnings {
                    ctx.warn(STAGE, Some(&real), format!("{}: {w}", format.name()));
                }
                for h in parsed.packages {
                    // gpg-pubkey entries are imported signing keys, not installed software.
                    if h.name == "gpg-pubkey" {
                        continue;
                    }
                    headers.push((real.clone(), h));
                }
            }
        }
        // distroless Mariner / Azure Linux: the manifest stands in for the database
        if seen.is_empty()
            && let Some(bytes) = read_db(fs, CONTAINER_MANIFEST, self.max_database_size, ctx, STAGE)
        {
            let parsed = parse_container_manifest(&bytes);
            for w in parsed.warnings {
                ctx.warn(STAGE, Some(CONTAINER_MANIFEST), w);
            }
            for h in parsed.packages {
                headers.push((CONTAINER_MANIFEST.to_string(), h));
            }
        }
        let required_paths: HashSet<String> = headers
            .iter()
            .flat_map(|(_, h)| &h.requires)
            .filter(|r| r.starts_with('/'))
            .cloned()
            .collect();
        let mut out = Vec::with_capacity(headers.len());
        for (db_path, h) in headers {
            let mut decl = dependency_decl(&h, &required_paths);
            let p = package(fs, ctx, &db_path, h);
            decl.package_id.clone_from(&p.id);
            ctx.dependencies.push(decl);
            out.push(p);
        }
        out
    }
}

/// The scope of rpm dependencies: the database of the image.
const SCOPE: &str = "rpm";

/// What a header provides (its name, PROVIDENAME, and those of its files some package requires
/// by path) and requires (REQUIRENAME; `rpmlib(...)` features are satisfied by rpm itself and
/// match nothing). The package id is filled in by the caller.
fn dependency_decl(h: &RpmHeader, required_paths: &HashSet<String>) -> DependencyDecl {
    let mut d = DependencyDecl::new("", SCOPE, &h.name);
    d.provides.extend(h.provides.iter().cloned());
    d.provides.extend(
        h.files
            .iter()
            .filter(|f| required_paths.contains(&f.path))
            .map(|f| f.path.clone()),
    );
    for r in &h.requires {
        if !r.starts_with("rpmlib(") {
            d.require(r.clone());
        }
    }
    d
}

/// The package list of CBL-Mariner / Azure Linux distroless images, which carry no rpm
/// database.
pub(crate) const CONTAINER_MANIFEST: &str = "/var/lib/rpmmanifest/container-manifest-2";

/// Parses a `container-manifest-2`: one package per line, the tab-separated output of
/// `rpm -qa --queryformat "%{NAME}\t%{VERSION}-%{RELEASE}\t%{INSTALLTIME}\t%{BUILDTIME}\t
/// %{VENDOR}\t%{EPOCH}\t%{SIZE}\t%{ARCH}\t%{EPOCHNUM}\t%{SOURCERPM}\n"`; rpm prints `(none)`
/// for an unset tag. Never panics.
pub fn parse_container_manifest(bytes: &[u8]) -> Parsed<RpmHeader> {
    let mut out = Parsed::default();
    let text = crate::os::lossy_text(bytes, "rpm manifest", &mut out.warnings);
    let set = |s: Option<&str>| {
        s.map(str::trim)
            .filter(|s| !s.is_empty() && *s != "(none)")
            .map(str::to_string)
    };
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split('\t').collect();
        let name = f.first().map(|s| s.trim()).unwrap_or_default();
        let Some((version, release)) = f.get(1).and_then(|vr| vr.trim().rsplit_once('-')) else {
            out.warnings
                .push(format!("line {}: no VERSION-RELEASE field", i + 1));
            continue;
        };
        if name.is_empty() || version.is_empty() {
            out.warnings.push(format!("line {}: no NAME", i + 1));
            continue;
        }
        out.packages.push(RpmHeader {
            name: name.to_string(),
            version: version.to_string(),
            release: release.to_string(),
            vendor: set(f.get(4).copied()),
            epoch: set(f.get(5).copied()).and_then(|e| e.parse().ok()),
            size: set(f.get(6).copied()).and_then(|e| e.parse().ok()),
            arch: set(f.get(7).copied()),
            source_rpm: set(f.get(9).copied()),
            ..RpmHeader::default()
        });
    }
    out
}

/// Splits `name-version-release.src.rpm` into (name, version-release).
pub(crate) fn split_source_rpm(srpm: &str) -> Option<(String, String)> {
    let base = srpm
        .strip_suffix(".src.rpm")
        .or_else(|| srpm.strip_suffix(".nosrc.rpm"))
        .unwrap_or(srpm);
    let (rest, release) = base.rsplit_once('-')?;
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || version.is_empty() || release.is_empty() {
        return None;
    }
    Some((name.to_string(), format!("{version}-{release}")))
}

fn package(fs: &dyn ImageFs, ctx: &CatalogContext, db_path: &str, h: RpmHeader) -> Package {
    let vr = if h.release.is_empty() {
        h.version.clone()
    } else {
        format!("{}-{}", h.version, h.release)
    };
    let full_version = match h.epoch {
        Some(e) => format!("{e}:{vr}"),
        None => vr.clone(),
    };
    let (source_name, source_version) = match h.source_rpm.as_deref().and_then(split_source_rpm) {
        Some((n, v)) => {
            let sv = (v != vr).then_some(v);
            (Some(n), sv)
        }
        None => (None, None),
    };
    let arch = h.arch.clone().unwrap_or_default();
    let epoch = h.epoch.map(|e| e.to_string()).unwrap_or_default();
    let distro = distro_qualifier(&ctx.distro);
    let namespace = (!ctx.distro.is_unknown()).then(|| ctx.distro.id.clone());
    let purl = purl::for_package(
        "rpm",
        namespace.as_deref(),
        &h.name,
        &vr,
        &[
            ("arch", &arch),
            ("epoch", &epoch),
            ("distro", &distro),
            ("upstream", h.source_rpm.as_deref().unwrap_or("")),
        ],
    );
    let algorithm = h.digest_algorithm.clone();
    let files = h
        .files
        .iter()
        .map(|f| PackageFile {
            path: f.path.clone(),
            digest: f.digest.as_ref().map(|d| FileDigest {
                algorithm: algorithm.clone(),
                value: d.clone(),
            }),
            // RPMFILE_CONFIG (`%config`)
            config: f.flags.is_some_and(|fl| fl & 1 != 0),
        })
        .collect();
    Package {
        id: package_id(PackageType::Rpm, &h.name, &full_version, db_path),
        cpes: cpe::candidates(&h.name, &full_version),
        purl,
        licenses: h.license.iter().cloned().collect(),
        locations: vec![location_for(fs, db_path)],
        source_name,
        source_version,
        arch: h.arch.clone(),
        owner: None,
        metadata: PackageMetadata::Rpm(RpmMetadata {
            epoch: h.epoch,
            version: h.version.clone(),
            release: h.release.clone(),
            source_rpm: h.source_rpm.clone(),
            vendor: h.vendor.clone(),
            size: h.size,
            files,
        }),
        name: h.name,
        version: full_version,
        package_type: PackageType::Rpm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_container_manifest_lines() {
        let p = parse_container_manifest(
            b"busybox\t1.35.0-13.cm2\t1\t2\tMicrosoft Corporation\t(none)\t580\tx86_64\t0\tbusybox-1.35.0-13.cm2.src.rpm\nbad line\n\nshort\t1.0-1\n",
        );
        assert_eq!(p.packages.len(), 2);
        assert_eq!(p.packages[0].release, "13.cm2");
        assert_eq!(p.packages[0].epoch, None);
        assert_eq!(
            p.packages[0].vendor.as_deref(),
            Some("Microsoft Corporation")
        );
        assert_eq!(p.packages[1].name, "short");
        assert_eq!(p.warnings, ["line 2: no VERSION-RELEASE field"]);
    }

    #[test]
    fn splits_source_rpm_names() {
        assert_eq!(
            split_source_rpm("util-linux-2.32.1-42.el8_8.src.rpm"),
            Some(("util-linux".into(), "2.32.1-42.el8_8".into()))
        );
        assert_eq!(split_source_rpm("bad.src.rpm"), None);
    }

    #[test]
    fn synthetic_garbage_databases_warn() {
        for f in [&SqliteFormat as &dyn RpmDbFormat, &BdbFormat, &NdbFormat] {
            let p = read_database(f, b"garbage that is not a database at all", None);
            assert!(p.packages.is_empty());
            assert!(!p.warnings.is_empty(), "{}", f.name());
        }
    }
}
