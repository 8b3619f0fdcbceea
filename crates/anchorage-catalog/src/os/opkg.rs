//! opkg (OpenWrt, Yocto / poky images): the status database `usr/lib/opkg/status` (OpenWrt)
//! or `var/lib/opkg/status` (Yocto), in dpkg's control-file format, and the file lists
//! `info/<package>.list` beside it.

use std::collections::BTreeSet;

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;

use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{DpkgMetadata, Package, PackageFile, PackageMetadata};
use crate::os::dpkg::{DpkgEntry, parse_list, parse_status};
use crate::os::{distro_qualifier, location_for, package_id, read_db};
use crate::{cpe, purl};

const STAGE: &str = "opkg";

/// Where opkg keeps its state: OpenWrt's and the default (Yocto) offline root.
const DB_DIRS: [&str; 2] = ["/usr/lib/opkg", "/var/lib/opkg"];

/// The opkg cataloger.
#[derive(Debug, Default)]
pub(crate) struct OpkgCataloger {
    pub(crate) max_database_size: u64,
    pub(crate) max_metadata_file_size: u64,
}

impl Cataloger for OpkgCataloger {
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
        let mut out = Vec::new();
        for dir in DB_DIRS {
            // /var/lib/opkg may be a symlink to /usr/lib/opkg: read each database once
            let Ok(entry) = fs.resolve(&format!("{dir}/status")) else {
                continue;
            };
            if !seen.insert(entry.path.clone()) {
                continue;
            }
            let db = entry.path;
            let Some(bytes) = read_db(fs, &db, self.max_database_size, ctx, STAGE) else {
                continue;
            };
            let parsed = parse_status(&bytes);
            for w in parsed.warnings {
                ctx.warn(STAGE, Some(&db), w);
            }
            let info_dir = format!("{}/info", db.rsplit_once('/').map_or("", |(d, _)| d));
            for e in parsed.packages {
                let installed = e
                    .status
                    .as_deref()
                    .is_none_or(|s| s.split_whitespace().last() == Some("installed"));
                if installed {
                    out.push(self.package(fs, ctx, &db, &info_dir, e));
                }
            }
        }
        out
    }
}

impl OpkgCataloger {
    fn package(
        &self,
        fs: &dyn ImageFs,
        ctx: &mut CatalogContext,
        db: &str,
        info_dir: &str,
        e: DpkgEntry,
    ) -> Package {
        let mut locations = vec![location_for(fs, db)];
        let mut files = Vec::new();
        let list = format!("{info_dir}/{}.list", e.package);
        if let Some(bytes) = read_db(fs, &list, self.max_metadata_file_size, ctx, STAGE) {
            locations.push(location_for(fs, &list));
            let parsed = parse_list(&bytes);
            for w in parsed.warnings {
                ctx.warn(STAGE, Some(&list), w);
            }
            files = parsed
                .packages
                .into_iter()
                .map(|path| PackageFile {
                    path,
                    digest: None,
                    config: false,
                })
                .collect();
        }
        let arch = e.architecture.clone().unwrap_or_default();
        let distro = distro_qualifier(&ctx.distro);
        let namespace = if ctx.distro.is_unknown() {
            "openwrt".to_string()
        } else {
            ctx.distro.id.clone()
        };
        let purl = purl::for_package(
            "opkg",
            Some(&namespace),
            &e.package,
            &e.version,
            &[("arch", &arch), ("distro", &distro)],
        );
        Package {
            id: package_id(PackageType::Opkg, &e.package, &e.version, db),
            cpes: cpe::candidates(&e.package, &e.version),
            purl,
            licenses: Vec::new(),
            locations,
            source_name: e.source.clone(),
            source_version: e.source_version.clone().filter(|v| *v != e.version),
            arch: e.architecture.clone(),
            owner: None,
            // opkg's database is dpkg's format: the same fields, the same metadata
            metadata: PackageMetadata::Dpkg(DpkgMetadata {
                maintainer: e.maintainer,
                installed_size_kib: e.installed_size,
                files,
                depends: e.depends,
            }),
            name: e.package,
            version: e.version,
            package_type: PackageType::Opkg,
        }
    }
}
