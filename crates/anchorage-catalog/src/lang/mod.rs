//! Language-ecosystem and binary catalogers: what applications bring into an image.
//!
//! The tree is walked once for all of them ([`crate::catalog`]); each cataloger picks the files
//! whose names match its ecosystem (`wants`), reads only those, and never trusts sizes or
//! structure from the image: every read is capped by [`LangLimits`], and malformed input becomes
//! a warning in the [`CatalogContext`]. Every cataloger is listed once, in `catalogers_with`.

mod binary;
mod classify;
mod cocoapods;
mod conan;
mod dart;
mod dotnet;
mod executable;
mod github_actions;
mod golang;
mod haskell;
mod hex;
mod homebrew;
mod java;
mod javascript;
mod jdk;
mod lua;
mod maven;
mod nix;
mod php;
mod php_pear;
mod python;
mod python_lock;
mod r_package;
mod ruby;
mod rust;
mod swift;
mod util;
mod vcpkg;
mod wordpress;
mod xml;

#[doc(hidden)]
pub mod fuzzing;

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::{Location, PackageType};

use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{Package, PackageMetadata};

/// Limits applied by the language catalogers; every one is configurable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LangLimits {
    /// Largest manifest, lockfile or metadata file read (bytes).
    pub max_manifest_bytes: u64,
    /// Largest Java archive read from the image (bytes).
    pub max_archive_bytes: u64,
    /// Deepest nesting of archives inside archives (the outer archive is depth 0).
    pub max_archive_depth: usize,
    /// Most bytes inflated from one archive tree, nested archives included.
    pub max_inflated_bytes: u64,
    /// Highest compressed-to-inflated ratio accepted for one zip entry (zip bombs).
    pub max_compression_ratio: u64,
    /// Most entries in one archive: an archive whose central directory declares more is not
    /// read (checked before the directory is).
    pub max_archive_entries: usize,
    /// Largest zip central directory read (bytes), checked before it is read.
    pub max_central_directory_bytes: u64,
    /// Largest executable read for Go / Rust build information (bytes).
    pub max_binary_bytes: u64,
    /// Most bytes of a file scanned by a binary classifier.
    pub max_classifier_scan_bytes: u64,
    /// Report packages that lock files mark as development-only (default: left out).
    pub include_dev_dependencies: bool,
}

impl Default for LangLimits {
    fn default() -> Self {
        Self {
            max_manifest_bytes: 32 * 1024 * 1024,
            max_archive_bytes: 256 * 1024 * 1024,
            max_archive_depth: 3,
            max_inflated_bytes: 512 * 1024 * 1024,
            max_compression_ratio: 200,
            max_archive_entries: 100_000,
            max_central_directory_bytes: 64 * 1024 * 1024,
            max_binary_bytes: 512 * 1024 * 1024,
            max_classifier_scan_bytes: 256 * 1024 * 1024,
            include_dev_dependencies: false,
        }
    }
}

/// All language and binary catalogers using `limits`.
pub fn language_catalogers(limits: &LangLimits) -> Vec<Box<dyn Cataloger>> {
    catalogers_with(limits)
}

fn catalogers_with(limits: &LangLimits) -> Vec<Box<dyn Cataloger>> {
    vec![
        Box::new(python::PythonCataloger::new(limits.clone())),
        Box::new(python_lock::PythonLockCataloger::new(limits.clone())),
        Box::new(javascript::JavascriptCataloger::new(limits.clone())),
        Box::new(ruby::RubyCataloger::new(limits.clone())),
        Box::new(java::JavaCataloger::new(limits.clone())),
        Box::new(maven::gradle_cataloger(limits.clone())),
        Box::new(maven::PomCataloger::new(limits.clone())),
        Box::new(golang::GoCataloger::new(limits.clone())),
        Box::new(rust::RustCataloger::new(limits.clone())),
        Box::new(executable::ExecutableCataloger::new(limits.clone())),
        Box::new(dotnet::DotnetCataloger::new(limits.clone())),
        Box::new(php::PhpCataloger::new(limits.clone())),
        Box::new(php_pear::PearCataloger::new(limits.clone())),
        Box::new(wordpress::WordpressPluginCataloger::new(limits.clone())),
        Box::new(r_package::RPackageCataloger::new(limits.clone())),
        Box::new(github_actions::GithubActionsCataloger::new(limits.clone())),
        Box::new(conan::cataloger(limits.clone())),
        Box::new(dart::cataloger(limits.clone())),
        Box::new(hex::cataloger(limits.clone())),
        Box::new(swift::cataloger(limits.clone())),
        Box::new(cocoapods::cataloger(limits.clone())),
        Box::new(haskell::cataloger(limits.clone())),
        Box::new(lua::cataloger(limits.clone())),
        Box::new(vcpkg::cataloger(limits.clone())),
        Box::new(homebrew::cataloger(limits.clone())),
        Box::new(nix::NixCataloger),
        Box::new(binary::BinaryCataloger::new(limits.clone())),
    ]
}

/// One package read by a lock-file or manifest cataloger ([`catalog_text_files`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) purl: String,
    pub(crate) licenses: Vec<String>,
    /// CPEs; empty for the default `name:name` candidates.
    pub(crate) cpes: Vec<String>,
    /// Only needed to develop or build (left out unless `include_dev_dependencies`).
    pub(crate) dev: bool,
}

impl Found {
    /// A runtime package without licenses.
    pub(crate) fn new(name: impl Into<String>, version: impl Into<String>, purl: String) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            purl,
            licenses: Vec::new(),
            cpes: Vec::new(),
            dev: false,
        }
    }
}

/// The common loop of the text catalogers: reads each file (capped at
/// `limits.max_manifest_bytes`), parses it with `parse(path, text)`, and builds packages of
/// type `ty` located at the file. A parse error becomes a warning for `stage`.
pub(crate) fn catalog_text_files(
    fs: &dyn ImageFs,
    files: &[FileEntry],
    ctx: &mut CatalogContext,
    stage: &str,
    limits: &LangLimits,
    ty: PackageType,
    parse: impl Fn(&str, &str) -> Result<Vec<Found>, String>,
) -> Vec<Package> {
    let mut out = Vec::new();
    for entry in files {
        let Some(bytes) = util::read_entry(fs, entry, limits.max_manifest_bytes, ctx, stage) else {
            continue;
        };
        match parse(&entry.path, &util::text(&bytes)) {
            Ok(found) => {
                for f in found {
                    if f.dev && !limits.include_dev_dependencies {
                        continue;
                    }
                    let mut d =
                        PackageDraft::new(ty, f.name, f.version, f.purl, location_of(fs, entry));
                    d.licenses = f.licenses;
                    d.cpes = f.cpes;
                    out.push(d.build());
                }
            }
            Err(e) => ctx.warn(stage, Some(&entry.path), e),
        }
    }
    out
}

/// A cataloger that reads whole text files of one ecosystem: which files (`wants`, on the
/// path) and how to read one (`parse`) come from the ecosystem's module.
pub(crate) struct TextCataloger {
    name: &'static str,
    ty: PackageType,
    limits: LangLimits,
    wants: fn(&str) -> bool,
    parse: fn(&str, &str) -> Result<Vec<Found>, String>,
}

impl TextCataloger {
    pub(crate) fn new(
        name: &'static str,
        ty: PackageType,
        limits: LangLimits,
        wants: fn(&str) -> bool,
        parse: fn(&str, &str) -> Result<Vec<Found>, String>,
    ) -> Self {
        Self {
            name,
            ty,
            limits,
            wants,
            parse,
        }
    }
}

impl Cataloger for TextCataloger {
    fn name(&self) -> &'static str {
        self.name
    }

    fn wants(&self, e: &FileEntry) -> bool {
        util::is_file(e) && (self.wants)(&e.path)
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        catalog_text_files(fs, files, ctx, self.name, &self.limits, self.ty, self.parse)
    }
}

/// The location of `entry`, with the diff_id of the layer that provided it.
pub(crate) fn location_of(fs: &dyn ImageFs, entry: &FileEntry) -> Location {
    let layer = fs
        .layers()
        .get(entry.layer_index)
        .and_then(|l| l.diff_id.clone());
    Location::new(entry.path.clone(), layer)
}

/// The location of `path` (layer looked up when the path exists).
pub(crate) fn location_of_path(fs: &dyn ImageFs, path: &str) -> Location {
    match fs.entry(path) {
        Some(e) => location_of(fs, &e),
        None => Location::new(path.to_string(), None),
    }
}

/// Fields of a new package; [`PackageDraft::build`] computes the id.
pub(crate) struct PackageDraft {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) ty: PackageType,
    pub(crate) purl: String,
    pub(crate) cpes: Vec<String>,
    pub(crate) licenses: Vec<String>,
    pub(crate) locations: Vec<Location>,
    pub(crate) metadata: PackageMetadata,
}

impl PackageDraft {
    /// A draft with no CPEs, licenses or metadata.
    pub(crate) fn new(
        ty: PackageType,
        name: impl Into<String>,
        version: impl Into<String>,
        purl: String,
        location: Location,
    ) -> Self {
        Self {
            name: name.into(),
            version: version.into(),
            ty,
            purl,
            cpes: Vec::new(),
            licenses: Vec::new(),
            locations: vec![location],
            metadata: PackageMetadata::None,
        }
    }

    /// The finished package.
    pub(crate) fn build(self) -> Package {
        let first = self
            .locations
            .first()
            .map(|l| l.path.as_str())
            .unwrap_or("");
        // the same stable id as OS packages (type, name, version, first location)
        let id = crate::os::package_id(self.ty, &self.name, &self.version, first);
        let cpes = if self.cpes.is_empty() {
            util::default_cpes(self.ty, &self.name, &self.version)
        } else {
            self.cpes
        };
        Package {
            id,
            name: self.name,
            version: self.version,
            package_type: self.ty,
            purl: self.purl,
            cpes,
            licenses: self.licenses,
            locations: self.locations,
            source_name: None,
            source_version: None,
            arch: None,
            owner: None,
            metadata: self.metadata,
        }
    }
}
