//! GitHub Actions referenced by workflows (`.github/workflows/*.yml`: `jobs.*.steps[].uses`
//! and reusable workflows in `jobs.*.uses`) and by composite actions (`action.yml`:
//! `runs.steps[].uses`). Local (`./...`) and container (`docker://...`) references are not
//! packages.

use std::collections::BTreeSet;

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use serde_yaml_ng::Value;

use super::util::{base_name, is_file, parent_dir, purl, read_entry, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::Package;

const STAGE: &str = "github-actions";

/// The one place that says which files this cataloger wants: YAML files directly in a
/// `.github/workflows` directory, and `action.yml` / `action.yaml` anywhere.
pub(crate) fn wants(path: &str) -> bool {
    let name = base_name(path);
    let yaml = name.ends_with(".yml") || name.ends_with(".yaml");
    (yaml && parent_dir(path).ends_with("/.github/workflows"))
        || name == "action.yml"
        || name == "action.yaml"
}

/// One `uses:` reference.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct ActionRef {
    /// `owner/repo` or `owner/repo/path`.
    pub(crate) name: String,
    /// The ref after `@` (tag, branch or commit).
    pub(crate) version: String,
}

/// Splits `owner/repo[/path]@ref`; `None` for local, docker and malformed references.
pub(crate) fn parse_uses(uses: &str) -> Option<ActionRef> {
    let u = uses.trim();
    if u.starts_with("./") || u.starts_with("docker://") {
        return None;
    }
    let (name, version) = u.rsplit_once('@')?;
    let parts: Vec<&str> = name.split('/').collect();
    if parts.len() < 2 || parts.iter().any(|p| p.is_empty()) || version.is_empty() {
        return None;
    }
    Some(ActionRef {
        name: name.to_string(),
        version: version.to_string(),
    })
}

fn uses_of_steps(steps: Option<&Value>, out: &mut BTreeSet<ActionRef>) {
    for step in steps.and_then(Value::as_sequence).into_iter().flatten() {
        if let Some(r) = step
            .get("uses")
            .and_then(Value::as_str)
            .and_then(parse_uses)
        {
            out.insert(r);
        }
    }
}

/// The distinct action references of a workflow or composite action file.
pub(crate) fn parse_workflow(input: &str) -> Result<Vec<ActionRef>, String> {
    let v: Value = serde_yaml_ng::from_str(input).map_err(|e| format!("invalid YAML: {e}"))?;
    let mut out = BTreeSet::new();
    if let Some(jobs) = v.get("jobs").and_then(Value::as_mapping) {
        for job in jobs.values() {
            if let Some(r) = job.get("uses").and_then(Value::as_str).and_then(parse_uses) {
                out.insert(r);
            }
            uses_of_steps(job.get("steps"), &mut out);
        }
    }
    uses_of_steps(v.get("runs").and_then(|r| r.get("steps")), &mut out);
    Ok(out.into_iter().collect())
}

/// `pkg:github/OWNER/REPO@REF`, with any path inside the repository as the subpath.
fn action_purl(r: &ActionRef) -> String {
    let mut parts = r.name.splitn(3, '/');
    let owner = parts.next().unwrap_or("");
    let repo = parts.next().unwrap_or("");
    let mut p = purl("github", Some(owner), repo, &r.version);
    if let Some(sub) = parts.next() {
        p.push('#');
        let segments: Vec<String> = sub
            .split('/')
            .map(anchorage_types::purl::encode_component)
            .collect();
        p.push_str(&segments.join("/"));
    }
    p
}

/// Finds GitHub Actions used by workflows in the image.
pub(crate) struct GithubActionsCataloger {
    limits: LangLimits,
}

impl GithubActionsCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

impl Cataloger for GithubActionsCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e) && wants(&e.path)
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        for entry in files {
            let Some(bytes) = read_entry(fs, entry, self.limits.max_manifest_bytes, ctx, STAGE)
            else {
                continue;
            };
            let refs = match parse_workflow(&text(&bytes)) {
                Ok(r) => r,
                Err(e) => {
                    ctx.warn(STAGE, Some(&entry.path), e);
                    continue;
                }
            };
            for r in refs {
                let purl = action_purl(&r);
                let d = PackageDraft::new(
                    PackageType::GithubAction,
                    r.name,
                    r.version,
                    purl,
                    location_of(fs, entry),
                );
                out.push(d.build());
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_uses_forms() {
        assert_eq!(parse_uses("./local/action"), None);
        assert_eq!(parse_uses("docker://alpine:3.20"), None);
        let r = parse_uses("github/codeql-action/init@v2").unwrap();
        assert_eq!(action_purl(&r), "pkg:github/github/codeql-action@v2#init");
        let r = parse_uses("pypa/gh-action-pypi-publish@release/v1").unwrap();
        assert_eq!(r.version, "release/v1");
        assert_eq!(
            action_purl(&r),
            "pkg:github/pypa/gh-action-pypi-publish@release%2Fv1"
        );
        let w = parse_workflow("jobs:\n  a:\n    uses: o/r/.github/workflows/x.yml@v1\n  b:\n    steps:\n      - uses: actions/checkout@v4\n      - run: echo\n").unwrap();
        assert_eq!(w.len(), 2);
        assert!(wants("/src/.github/workflows/ci.yml"));
        assert!(!wants("/src/.github/dependabot.yml"));
    }
}
