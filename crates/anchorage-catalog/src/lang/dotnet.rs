//! .NET (NuGet) packages from four kinds of files:
//! - `*.deps.json` (the `libraries` map: `Name/Version` -> type, sha512, path), written by the SDK
//!   beside an application;
//! - `packages.lock.json` (NuGet's lock file: target framework -> package -> `resolved`);
//! - `*.nuspec`, the manifest NuGet extracts into an installed package's folder (the global
//!   packages folder `~/.nuget/packages/<id>/<version>/<id>.nuspec`, or a `packages/` folder);
//! - `*.nupkg` archives (the `.nuspec` at their root), unless an extracted `.nuspec` sits beside.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{Cursor, Read};

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use serde_json::Value;

use super::java::check_central_directory;
use super::util::{base_name, is_file, parent_dir, purl, read_entry, text};
use super::{LangLimits, PackageDraft, location_of, xml};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{NugetMetadata, Package, PackageMetadata};

const STAGE: &str = "dotnet";

/// Finds NuGet packages.
pub(crate) struct DotnetCataloger {
    limits: LangLimits,
}

impl DotnetCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

/// One library: name, version, sha512, path.
pub(crate) type DepsLibrary = (String, String, Option<String>, Option<String>);

/// Parses a deps.json; only `package` and `project` libraries are kept.
pub(crate) fn parse_deps_json(input: &[u8]) -> Result<Vec<DepsLibrary>, String> {
    let v: Value = serde_json::from_slice(input).map_err(|e| format!("invalid JSON: {e}"))?;
    let Some(libs) = v.get("libraries").and_then(Value::as_object) else {
        return Err("no libraries object".into());
    };
    let mut out = Vec::new();
    for (key, lib) in libs {
        let ty = lib.get("type").and_then(Value::as_str).unwrap_or("");
        if ty != "package" && ty != "project" {
            continue;
        }
        let Some((name, version)) = key.split_once('/') else {
            continue;
        };
        let s = |k: &str| {
            lib.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
        };
        out.push((
            name.to_string(),
            version.to_string(),
            s("sha512"),
            s("path"),
        ));
    }
    Ok(out)
}

/// One entry of a `packages.lock.json`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct LockedPackage {
    pub(crate) name: String,
    pub(crate) version: String,
    /// `contentHash` (base64 SHA-512 of the .nupkg).
    pub(crate) content_hash: Option<String>,
}

/// Parses a NuGet `packages.lock.json` (version 1 or 2): every `Direct`, `Transitive` and
/// `CentralTransitive` entry with a `resolved` version, once per name and version across the
/// target frameworks and runtime identifiers. `Project` entries (other projects of the same
/// build) carry no version and are skipped.
pub(crate) fn parse_packages_lock(input: &[u8]) -> Result<Vec<LockedPackage>, String> {
    let v: Value = serde_json::from_slice(input).map_err(|e| format!("invalid JSON: {e}"))?;
    let Some(frameworks) = v.get("dependencies").and_then(Value::as_object) else {
        return Err("no dependencies object".into());
    };
    let mut out = BTreeMap::new();
    for packages in frameworks.values().filter_map(Value::as_object) {
        for (name, p) in packages {
            let ty = p.get("type").and_then(Value::as_str).unwrap_or("");
            if ty.eq_ignore_ascii_case("project") {
                continue;
            }
            let Some(version) = p
                .get("resolved")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
            else {
                continue;
            };
            let hash = p
                .get("contentHash")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_string);
            out.entry((name.clone(), version.to_string()))
                .or_insert(hash);
        }
    }
    Ok(out
        .into_iter()
        .map(|((name, version), content_hash)| LockedPackage {
            name,
            version,
            content_hash,
        })
        .collect())
}

/// What a `.nuspec` says about its package.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Nuspec {
    pub(crate) id: String,
    pub(crate) version: String,
    /// `<license type="expression">` text, else `<licenseUrl>`.
    pub(crate) license: Option<String>,
    pub(crate) authors: Option<String>,
}

/// Most XML elements read from one `.nuspec`.
const MAX_NUSPEC_NODES: usize = 100_000;

/// Parses a `.nuspec` (`package/metadata/{id,version,license,licenseUrl,authors}`).
pub(crate) fn parse_nuspec(input: &str) -> Result<Nuspec, String> {
    let root = xml::parse(input, MAX_NUSPEC_NODES)?;
    if root.name != "package" {
        return Err(format!("root element is {:?}, not package", root.name));
    }
    let meta = root.child("metadata").ok_or("no metadata element")?;
    let id = meta.child_text("id").ok_or("no id")?.to_string();
    let version = meta.child_text("version").ok_or("no version")?.to_string();
    let license = meta
        .child_text("license")
        .or_else(|| meta.child_text("licenseUrl"))
        .map(str::to_string);
    Ok(Nuspec {
        id,
        version,
        license,
        authors: meta.child_text("authors").map(str::to_string),
    })
}

/// The `.nuspec` at the root of a `.nupkg` held in memory, read up to `limit` bytes.
fn nuspec_in_nupkg(bytes: &[u8], limit: u64, limits: &LangLimits) -> Result<Vec<u8>, String> {
    check_central_directory(bytes, limits)?;
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a readable zip: {e}"))?;
    let name = archive
        .file_names()
        .filter_map(Result::ok)
        .find(|n| !n.contains('/') && n.to_ascii_lowercase().ends_with(".nuspec"))
        .map(|n| n.into_owned())
        .ok_or("no .nuspec at the archive root")?;
    let file = archive.by_name(&name).map_err(|e| format!("{name}: {e}"))?;
    if file.size() > limit {
        return Err(format!(
            "{name}: {} bytes exceeds the limit of {limit}",
            file.size()
        ));
    }
    let mut buf = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{name}: {e}"))?;
    if buf.len() as u64 > limit {
        return Err(format!("{name}: more than {limit} bytes inflated"));
    }
    Ok(buf)
}

fn is_nuspec(path: &str) -> bool {
    path.ends_with(".nuspec")
}

fn is_nupkg(path: &str) -> bool {
    path.ends_with(".nupkg")
}

impl DotnetCataloger {
    fn deps_json(
        &self,
        fs: &dyn ImageFs,
        entry: &FileEntry,
        b: &[u8],
        out: &mut Vec<Package>,
    ) -> Result<(), String> {
        for (name, version, sha512, path) in parse_deps_json(b)? {
            let mut d = PackageDraft::new(
                PackageType::Nuget,
                name.clone(),
                version.clone(),
                purl("nuget", None, &name, &version),
                location_of(fs, entry),
            );
            d.metadata = PackageMetadata::Nuget(NugetMetadata { sha512, path });
            out.push(d.build());
        }
        Ok(())
    }

    fn packages_lock(
        &self,
        fs: &dyn ImageFs,
        entry: &FileEntry,
        b: &[u8],
        out: &mut Vec<Package>,
    ) -> Result<(), String> {
        for p in parse_packages_lock(b)? {
            let mut d = PackageDraft::new(
                PackageType::Nuget,
                p.name.clone(),
                p.version.clone(),
                purl("nuget", None, &p.name, &p.version),
                location_of(fs, entry),
            );
            d.metadata = PackageMetadata::Nuget(NugetMetadata {
                sha512: p.content_hash,
                path: None,
            });
            out.push(d.build());
        }
        Ok(())
    }

    fn nuspec(
        &self,
        fs: &dyn ImageFs,
        entry: &FileEntry,
        b: &[u8],
        out: &mut Vec<Package>,
    ) -> Result<(), String> {
        let n = parse_nuspec(&text(b))?;
        let mut d = PackageDraft::new(
            PackageType::Nuget,
            n.id.clone(),
            n.version.clone(),
            purl("nuget", None, &n.id, &n.version),
            location_of(fs, entry),
        );
        d.licenses = n.license.into_iter().collect();
        out.push(d.build());
        Ok(())
    }
}

impl Cataloger for DotnetCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e)
            && (e.path.ends_with(".deps.json")
                || base_name(&e.path) == "packages.lock.json"
                || is_nuspec(&e.path)
                || is_nupkg(&e.path))
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        // an extracted .nuspec describes the same package as the .nupkg beside it
        let nuspec_dirs: BTreeSet<&str> = files
            .iter()
            .filter(|e| is_nuspec(&e.path))
            .map(|e| parent_dir(&e.path))
            .collect();
        let mut out = Vec::new();
        for entry in files {
            if is_nupkg(&entry.path) {
                if nuspec_dirs.contains(parent_dir(&entry.path)) {
                    continue;
                }
                let Some(b) = read_entry(fs, entry, self.limits.max_archive_bytes, ctx, STAGE)
                else {
                    continue;
                };
                let res = nuspec_in_nupkg(&b, self.limits.max_manifest_bytes, &self.limits)
                    .and_then(|n| self.nuspec(fs, entry, &n, &mut out));
                if let Err(e) = res {
                    ctx.warn(STAGE, Some(&entry.path), e);
                }
                continue;
            }
            let Some(b) = read_entry(fs, entry, self.limits.max_manifest_bytes, ctx, STAGE) else {
                continue;
            };
            let res = if entry.path.ends_with(".deps.json") {
                self.deps_json(fs, entry, &b, &mut out)
            } else if is_nuspec(&entry.path) {
                self.nuspec(fs, entry, &b, &mut out)
            } else {
                self.packages_lock(fs, entry, &b, &mut out)
            };
            if let Err(e) = res {
                ctx.warn(STAGE, Some(&entry.path), e);
            }
        }
        out
    }
}
