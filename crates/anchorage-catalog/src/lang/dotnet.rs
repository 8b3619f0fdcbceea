//! .NET packages from `*.deps.json` (the `libraries` map: `Name/Version` -> type, sha512, path).

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use serde_json::Value;

use super::util::{is_file, purl, read_entry};
use super::{LangLimits, PackageDraft, location_of};
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

impl Cataloger for DotnetCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e) && e.path.ends_with(".deps.json")
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        for entry in files {
            let Some(b) = read_entry(fs, entry, self.limits.max_manifest_bytes, ctx, STAGE) else {
                continue;
            };
            match parse_deps_json(&b) {
                Ok(list) => {
                    for (name, version, sha512, path) in list {
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
                }
                Err(e) => ctx.warn(STAGE, Some(&entry.path), e),
            }
        }
        out
    }
}
