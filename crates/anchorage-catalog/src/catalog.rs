//! The orchestrator: distro detection -> one walk of the tree (every cataloger's files, secrets
//! and content search, each file read at most once by the walk; the digests of regular files on
//! one helper thread beside it) -> OS and language catalogers -> ownership dedup and file owners
//! -> retrieved files -> image metadata.

use std::collections::HashMap;

use anchorage_image::{AcquiredImage, ImageFs};
use anchorage_types::PackageType;
use chrono::Utc;

use crate::cataloger::{CatalogContext, Cataloger};
use crate::distro::detect_distro;
use crate::files::{
    FileHasher, WalkOutput, WalkSettings, build_records, record_plan, resolved_ownership,
    walk_entry,
};
use crate::image_metadata::image_metadata;
use crate::model::{ANALYSIS_SCHEMA_VERSION, Analysis, Package, SourceInfo};
use crate::options::{CatalogOptions, FileRecordScope};
use crate::os::apk::ApkCataloger;
use crate::os::dpkg::DpkgCataloger;
use crate::os::opkg::OpkgCataloger;
use crate::os::rpm::RpmCataloger;
use crate::secrets::RuleSet;

/// Every cataloger configured by `options`, in the order their packages were always gathered:
/// the OS catalogers (dpkg, apk, rpm, opkg), then the language and binary catalogers.
pub fn catalogers(options: &CatalogOptions) -> Vec<Box<dyn Cataloger>> {
    let mut all = os_catalogers(options);
    all.extend(crate::lang::language_catalogers(&options.language));
    all
}

/// The OS package catalogers (dpkg, apk, rpm, opkg) configured by `options`.
pub(crate) fn os_catalogers(options: &CatalogOptions) -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(DpkgCataloger {
            max_database_size: options.max_database_size,
            max_metadata_file_size: options.max_metadata_file_size,
        }),
        Box::new(ApkCataloger {
            max_database_size: options.max_database_size,
        }),
        Box::new(RpmCataloger {
            max_database_size: options.max_database_size,
            limits: options.rpm,
        }),
        Box::new(OpkgCataloger {
            max_database_size: options.max_database_size,
            max_metadata_file_size: options.max_metadata_file_size,
        }),
    ]
}

/// Runs only the OS catalogers (after distro detection) and returns their packages, sorted,
/// with the context holding the distro and warnings.
pub fn catalog_os_packages(
    fs: &dyn ImageFs,
    options: &CatalogOptions,
) -> (Vec<Package>, CatalogContext) {
    let mut ctx = CatalogContext {
        distro: detect_distro(fs),
        warnings: Vec::new(),
        dependencies: Vec::new(),
    };
    let mut packages = Vec::new();
    for c in os_catalogers(options) {
        packages.extend(c.catalog(fs, &mut ctx));
    }
    sort_packages(&mut packages);
    (packages, ctx)
}

fn sort_packages(packages: &mut [Package]) {
    packages.sort_by(|a, b| {
        (
            a.package_type,
            &a.name,
            &a.version,
            a.locations.first().map(|l| &l.path),
        )
            .cmp(&(
                b.package_type,
                &b.name,
                &b.version,
                b.locations.first().map(|l| &l.path),
            ))
    });
}

/// Marks (or, without `report_owned`, drops) language packages whose evidence files an OS package
/// owns (e.g. Debian's python3-yaml owning its dist-info). Syft 1.18.1 keeps such packages and
/// records the ownership; so do we by default. Declared paths are also taken as the tree
/// resolves them: on merged-/usr images dpkg lists `/bin/bash`, the classifier finds
/// `/usr/bin/bash`.
fn dedup_owned(fs: &dyn ImageFs, packages: Vec<Package>, report_owned: bool) -> Vec<Package> {
    let owners: HashMap<String, String> = resolved_ownership(fs, &packages);
    packages
        .into_iter()
        .filter_map(|mut p| {
            if p.package_type.is_os() {
                return Some(p);
            }
            let owner = p
                .locations
                .iter()
                .find_map(|l| owners.get(&l.path).cloned());
            match owner {
                // A classifier hit on a file an OS package installed (busybox, libcrypto) is that
                // OS package seen again: dropped, as Syft's exclude-binary-overlap-by-ownership.
                Some(_) if p.package_type == PackageType::Binary => None,
                Some(o) if report_owned => {
                    p.owner = Some(o);
                    Some(p)
                }
                Some(_) => None,
                None => Some(p),
            }
        })
        .collect()
}

/// Analyzes one image: everything that goes into the stored analysis document. Never fails:
/// problems are recorded as warnings in the result.
pub fn catalog(fs: &dyn ImageFs, image: &AcquiredImage, options: &CatalogOptions) -> Analysis {
    let mut ctx = CatalogContext {
        distro: detect_distro(fs),
        warnings: Vec::new(),
        dependencies: Vec::new(),
    };
    if ctx.distro.is_unknown() {
        ctx.warn(
            "distro",
            None,
            "distribution not identified; reported as unknown",
        );
    }
    let catalogers = catalogers(options);
    let (secret_rules, secret_errors) = if options.secrets.enabled {
        RuleSet::compile(&options.secrets.rules)
    } else {
        RuleSet::compile(&[])
    };
    let (content_rules, content_errors) = RuleSet::compile(&options.content_search);
    let settings = WalkSettings {
        digests: options.file_digests,
        secrets: &secret_rules,
        content: &content_rules,
        scan_max_size: options.secrets.max_file_size,
    };

    // The one walk of the tree, with the digests of regular files on one helper thread that
    // runs beside the walk and the catalogers; the walk thread then helps with the files left.
    // When only the records related to packages are kept, only their files are hashed, after
    // the catalogers: hashing every file of an image of 3 million small files held a job per
    // file and doubled the work for records that are then dropped (issue 15).
    let hash_all = settings.digests && options.file_records == FileRecordScope::All;
    let hasher = hash_all.then(|| FileHasher::new(fs, None));
    let (packages, walk) = std::thread::scope(|scope| {
        let helper = hasher.as_ref().map(|h| scope.spawn(|| h.work()));
        let mut wanted: Vec<Vec<anchorage_image::FileEntry>> = vec![Vec::new(); catalogers.len()];
        let mut walk = WalkOutput::default();
        let mut buf = Vec::new();
        let mut head = Vec::with_capacity(crate::files::HEAD);
        let mut takers: Vec<usize> = Vec::new();
        for entry in fs.entries() {
            takers.clear();
            takers.extend(
                catalogers
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| c.wants(&entry))
                    .map(|(i, _)| i),
            );
            let head_wanted = !takers.is_empty();
            let read = walk_entry(
                fs,
                &entry,
                &settings,
                head_wanted,
                &mut buf,
                &mut head,
                &mut walk,
            );
            for &i in &takers {
                if catalogers[i].wants_content(&entry, read.then_some(head.as_slice())) {
                    wanted[i].push(entry.clone());
                }
            }
        }

        let mut packages = Vec::new();
        for (c, files) in catalogers.iter().zip(wanted) {
            packages.extend(c.catalog_files(fs, &files, &mut ctx));
        }
        let mut packages = dedup_owned(fs, packages, options.report_owned_language_packages);
        sort_packages(&mut packages);
        if let Some(hasher) = &hasher {
            hasher.work();
        }
        if let Some(helper) = helper {
            helper
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
        }
        (packages, walk)
    });

    let WalkOutput {
        secrets,
        content_hits,
        secret_warnings,
    } = walk;
    let (owners, related) = record_plan(fs, &packages, options.file_records);
    let hasher = match (hasher, &related) {
        (Some(h), _) => Some(h),
        (None, Some(only)) if settings.digests => {
            let h = FileHasher::new(fs, Some(only));
            std::thread::scope(|scope| {
                let helper = scope.spawn(|| h.work());
                h.work();
                helper
                    .join()
                    .unwrap_or_else(|e| std::panic::resume_unwind(e));
            });
            Some(h)
        }
        _ => None,
    };
    let (digests, file_warnings) = hasher
        .map(|h| {
            let side = h.finish();
            (side.digests, side.warnings)
        })
        .unwrap_or_default();
    let files = build_records(fs, &owners, related.as_ref(), digests);
    let relationships = crate::relationships::resolve(&ctx.dependencies, &packages);
    // warnings in the order the stages always reported them
    for (path, message) in file_warnings {
        ctx.warn("files", Some(&path), message);
    }
    for (name, err) in secret_errors.into_iter().chain(content_errors) {
        ctx.warn(
            "secrets",
            None,
            format!("rule {name} skipped: invalid regex: {err}"),
        );
    }
    for (path, message) in secret_warnings {
        ctx.warn("secrets", Some(&path), message);
    }
    let retrieved_files = crate::retrieved::retrieve(
        fs,
        &options.retrieve_files,
        options.retrieve_max_bytes,
        &mut ctx,
    );
    let image_meta = image_metadata(image, options.dockerfile.as_deref(), &mut ctx);
    Analysis {
        schema_version: ANALYSIS_SCHEMA_VERSION.to_string(),
        source: SourceInfo {
            scheme: image.scheme.clone(),
            input: image.input.clone(),
            reference: image.reference.clone(),
            manifest_digest: image.manifest_digest.clone(),
            config_digest: image.config_digest.clone(),
            index_digest: image.index_digest.clone(),
        },
        image: image_meta,
        distro: ctx.distro,
        packages,
        files,
        relationships,
        secrets,
        content_hits,
        retrieved_files,
        warnings: ctx.warnings,
        malware: Vec::new(),
        analyzed_at: Utc::now(),
    }
}
