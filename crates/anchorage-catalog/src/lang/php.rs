//! PHP composer packages: `vendor/composer/installed.json` (v1 array or v2 `{packages}`) and
//! `composer.lock` (`packages`, and `packages-dev` only when development dependencies are asked
//! for, as Syft 1.18.1 leaves them out).

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use serde_json::Value;

use super::util::{base_name, is_file, purl, read_entry};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{ComposerMetadata, Package, PackageMetadata};
use crate::relationships::DependencyDecl;

const STAGE: &str = "php";

/// Finds composer packages.
pub(crate) struct PhpCataloger {
    limits: LangLimits,
}

impl PhpCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

/// One composer package.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ComposerPackage {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) licenses: Vec<String>,
    pub(crate) source_reference: Option<String>,
    pub(crate) dist_url: Option<String>,
    /// Names in `require` (platform names like `php`, `ext-json` match no package).
    pub(crate) requires: Vec<String>,
    /// Names in `provide` and `replace`: the package stands in for them.
    pub(crate) provides: Vec<String>,
    /// Listed under a lock file's `packages-dev`.
    pub(crate) dev: bool,
}

/// Parses installed.json or composer.lock.
pub(crate) fn parse_composer(input: &[u8]) -> Result<Vec<ComposerPackage>, String> {
    let v: Value = serde_json::from_slice(input).map_err(|e| format!("invalid JSON: {e}"))?;
    let lists: Vec<(&Value, bool)> = match &v {
        Value::Array(_) => vec![(&v, false)],
        Value::Object(o) => [("packages", false), ("packages-dev", true)]
            .iter()
            .filter_map(|(k, dev)| o.get(*k).map(|l| (l, *dev)))
            .collect(),
        _ => return Err("neither an array nor an object".into()),
    };
    let mut out = Vec::new();
    for (list, dev) in lists {
        for p in list.as_array().map(Vec::as_slice).unwrap_or(&[]) {
            let s = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
            let (Some(name), Some(version)) = (s("name"), s("version")) else {
                continue;
            };
            let licenses = match p.get("license") {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect(),
                Some(Value::String(l)) => vec![l.clone()],
                _ => Vec::new(),
            };
            let keys = |fields: &[&str]| -> Vec<String> {
                fields
                    .iter()
                    .filter_map(|f| p.get(*f).and_then(Value::as_object))
                    .flat_map(|o| o.keys().map(|k| k.to_ascii_lowercase()))
                    .collect()
            };
            out.push(ComposerPackage {
                requires: keys(&["require"]),
                provides: keys(&["provide", "replace"]),
                name,
                version,
                licenses,
                source_reference: p
                    .get("source")
                    .and_then(|s| s.get("reference"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                dist_url: p
                    .get("dist")
                    .and_then(|s| s.get("url"))
                    .and_then(Value::as_str)
                    .map(str::to_string),
                dev,
            });
        }
    }
    Ok(out)
}

impl Cataloger for PhpCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e)
            && (base_name(&e.path) == "composer.lock"
                || e.path.ends_with("/composer/installed.json"))
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
            match parse_composer(&b) {
                Ok(list) => {
                    let dev_allowed = self.limits.include_dev_dependencies;
                    for p in list.into_iter().filter(|p| dev_allowed || !p.dev) {
                        let (ns, name) = p.name.split_once('/').unwrap_or(("", &p.name));
                        let mut d = PackageDraft::new(
                            PackageType::Composer,
                            p.name.clone(),
                            p.version.clone(),
                            purl("composer", Some(ns), name, &p.version),
                            location_of(fs, entry),
                        );
                        if !ns.is_empty() {
                            d.cpes = vec![super::util::cpe(ns, name, &p.version)];
                        }
                        d.licenses = p.licenses;
                        d.metadata = PackageMetadata::Composer(ComposerMetadata {
                            source_reference: p.source_reference,
                            dist_url: p.dist_url,
                        });
                        let built = d.build();
                        let mut decl = DependencyDecl::new(
                            &built.id,
                            format!("composer:{}", entry.path),
                            &p.name.to_ascii_lowercase(),
                        );
                        decl.provides.extend(p.provides);
                        for r in p.requires {
                            decl.require(r);
                        }
                        ctx.dependencies.push(decl);
                        out.push(built);
                    }
                }
                Err(e) => ctx.warn(STAGE, Some(&entry.path), e),
            }
        }
        out
    }
}
