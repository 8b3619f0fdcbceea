//! Alpine secdb driver: the per-branch document (`{distroversion, reponame, packages:
//! [{pkg: {name, secfixes}}]}`, JSON or the older YAML) and per-package files (`{name,
//! secfixes, distroversion, ...}`). Secfixes map a fixed apk version to the ids it fixes;
//! key `0` means the branch was never affected.

use crate::driver::{FeedDriver, ItemIter, collected};
use crate::error::VulnDbError;
use crate::input::RecordIter;
use std::collections::BTreeMap;

use serde::Deserialize;

use anchorage_advisory::{Advisory, Affected, AffectedStatus, Event, Range, RangeKind, Reference};

#[derive(Debug, Deserialize)]
struct Branch {
    #[serde(default)]
    distroversion: Option<String>,
    #[serde(default)]
    packages: Option<Vec<PkgWrap>>,
    // Per-package shape.
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    secfixes: Option<BTreeMap<String, Option<Vec<serde_json::Value>>>>,
}

#[derive(Debug, Deserialize)]
struct PkgWrap {
    pkg: Pkg,
}

#[derive(Debug, Deserialize)]
struct Pkg {
    name: String,
    #[serde(default)]
    secfixes: Option<BTreeMap<String, Option<Vec<serde_json::Value>>>>,
}

pub use anchorage_types::alpine_branch;

/// Adds one document's secfixes to `into` (advisories keyed by id, merged across documents).
/// `fallback_branch` is used when the document has no `distroversion` (e.g. taken from the
/// path `v3.20/main/zlib.json`). Returns the malformed-entry messages.
pub(crate) fn parse_document(
    name: &str,
    bytes: &[u8],
    fallback_branch: Option<&str>,
    into: &mut BTreeMap<String, Advisory>,
) -> Result<Vec<String>, String> {
    let lower = name.to_ascii_lowercase();
    let doc: Branch = if lower.ends_with(".yaml") || lower.ends_with(".yml") {
        serde_yaml_ng::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?
    } else {
        serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?
    };
    let branch = doc
        .distroversion
        .as_deref()
        .and_then(alpine_branch)
        .or_else(|| fallback_branch.and_then(alpine_branch))
        .ok_or_else(|| format!("{name}: no distroversion and no branch in the path"))?;
    let mut packages: Vec<Pkg> = doc
        .packages
        .unwrap_or_default()
        .into_iter()
        .map(|w| w.pkg)
        .collect();
    if let Some(pkg_name) = doc.name {
        packages.push(Pkg {
            name: pkg_name,
            secfixes: doc.secfixes,
        });
    }
    let mut malformed = Vec::new();
    let ecosystem = format!("Alpine:{branch}");
    for pkg in packages {
        for (fixed, ids) in pkg.secfixes.unwrap_or_default() {
            let fixed = fixed.trim().to_string();
            for id_value in ids.unwrap_or_default() {
                let Some(text) = id_value.as_str() else {
                    malformed.push(format!(
                        "{name}: {}/{fixed}: id {id_value} is not a string",
                        pkg.name
                    ));
                    continue;
                };
                // Entries are `CVE-...`, sometimes several separated by spaces, sometimes with a
                // trailing comment; keep every id-looking token.
                for id in text.split_whitespace().filter(|t| {
                    t.contains('-') && t.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                }) {
                    let adv = into.entry(id.to_string()).or_insert_with(|| {
                        let mut a = Advisory::new(id);
                        if id.starts_with("CVE-") {
                            a.references.push(Reference {
                                kind: "ADVISORY".into(),
                                url: format!("https://security.alpinelinux.org/vuln/{id}"),
                            });
                        }
                        a
                    });
                    let (status, ranges) = if fixed == "0" {
                        (AffectedStatus::NotAffected, Vec::new())
                    } else {
                        (
                            AffectedStatus::Fixed,
                            vec![Range {
                                kind: RangeKind::Ecosystem,
                                repo: None,
                                events: vec![
                                    Event::Introduced("0".into()),
                                    Event::Fixed(fixed.clone()),
                                ],
                            }],
                        )
                    };
                    let dup = adv.affected.iter().any(|a| {
                        a.ecosystem == ecosystem
                            && a.name == pkg.name
                            && a.ranges == ranges
                            && a.status == status
                    });
                    if !dup {
                        adv.affected.push(Affected {
                            ecosystem: ecosystem.clone(),
                            name: pkg.name.clone(),
                            purl: Some(format!("pkg:apk/alpine/{}", pkg.name)),
                            ranges,
                            versions: Vec::new(),
                            status,
                            severity: None,
                            note: Some(format!("secfixes {branch} {}: {fixed}", pkg.name)),
                        });
                    }
                }
            }
        }
    }
    Ok(malformed)
}

/// The branch named by a path like `v3.20/main/zlib.json` or `.../v3.15/main.json`.
pub(crate) fn branch_from_path(path: &str) -> Option<String> {
    path.split(['/', '\\'])
        .rev()
        .find_map(|seg| seg.strip_prefix('v').and_then(|_| alpine_branch(seg)))
}

/// Alpine secdb branch documents.
pub(crate) struct AlpineDriver;

impl FeedDriver for AlpineDriver {
    fn items(&self, files: RecordIter) -> Result<ItemIter, VulnDbError> {
        let mut map: BTreeMap<String, Advisory> = BTreeMap::new();
        let mut malformed = Vec::new();
        for f in files {
            let f = f?;
            match f.content {
                Err(why) => malformed.push(format!("{}: {why}", f.name)),
                Ok(bytes) => {
                    let branch = branch_from_path(&f.name);
                    match parse_document(&f.name, &bytes, branch.as_deref(), &mut map) {
                        Ok(bad) => malformed.extend(bad),
                        Err(e) => malformed.push(e),
                    }
                }
            }
        }
        Ok(collected(
            map.into_values().collect(),
            Vec::new(),
            malformed,
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(rel: &str) -> std::path::PathBuf {
        anchorage_testkit::corpus_dir().join("distro").join(rel)
    }

    #[test]
    fn branches() {
        assert_eq!(alpine_branch("3.20.3").as_deref(), Some("v3.20"));
        assert_eq!(alpine_branch("v3.12").as_deref(), Some("v3.12"));
        assert_eq!(
            branch_from_path("x/v3.20/main/zlib.json").as_deref(),
            Some("v3.20")
        );
        assert_eq!(alpine_branch("garbage"), None);
    }

    #[test]
    fn three_shapes_parse() {
        let mut map = BTreeMap::new();
        let official = corpus("alpine-secdb-official/quay-claircore/v3_15_main_truncated.json");
        parse_document(
            "v3_15_main_truncated.json",
            &std::fs::read(official).unwrap(),
            None,
            &mut map,
        )
        .unwrap();
        let yaml = corpus("alpine-secdb/v3.10/main.yaml");
        parse_document("main.yaml", &std::fs::read(yaml).unwrap(), None, &mut map).unwrap();
        let per_pkg = corpus("alpine-secdb-json/v3.20/main/zlib.json");
        parse_document(
            "zlib.json",
            &std::fs::read(per_pkg).unwrap(),
            None,
            &mut map,
        )
        .unwrap();
        let c = &map["CVE-2022-37434"];
        let a = c
            .affected
            .iter()
            .find(|a| a.ecosystem == "Alpine:v3.20")
            .unwrap();
        assert_eq!(a.fixed_versions(), vec!["1.2.12-r2"]);
        let never = &map["CVE-2021-42373"];
        assert!(
            never
                .affected
                .iter()
                .any(|a| a.ecosystem == "Alpine:v3.15" && a.status == AffectedStatus::NotAffected)
        );
        assert!(
            map["CVE-2016-0634"]
                .affected
                .iter()
                .any(|a| a.name == "bash")
        );
    }
}
