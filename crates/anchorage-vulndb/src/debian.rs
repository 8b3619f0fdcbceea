//! Debian security tracker driver: the tracker's JSON dump (source package -> CVE -> releases)
//! and the per-entry layout (one JSON file per CVE/DSA/DLA, each tracker line an annotation).
//!
//! Release codenames map to OSV ecosystems `Debian:<major>`. In the per-entry layout a CVE
//! with no line for a release takes the fix recorded for that release by a DSA/DLA naming the
//! CVE, else the unstable line (the tracker records release fixes made by advisories only in
//! the advisory's file).

use crate::driver::{FeedDriver, ItemIter, collected};
use crate::error::VulnDbError;
use crate::input::RecordIter;
use std::collections::{BTreeMap, HashMap};

use serde::Deserialize;

use anchorage_advisory::vendor_label;
use anchorage_advisory::{Advisory, Affected, AffectedStatus, Event, Range, RangeKind, Reference};

pub use anchorage_types::{DEBIAN_RELEASES, debian_release_number};

const SOURCE: &str = "debian-tracker";

fn tracker_url(id: &str) -> String {
    format!("https://security-tracker.debian.org/tracker/{id}")
}

fn affected(
    release: &str,
    package: &str,
    status: AffectedStatus,
    fixed: Option<&str>,
    severity: Option<&str>,
    note: String,
) -> Affected {
    let mut events = vec![Event::Introduced("0".into())];
    if let Some(v) = fixed {
        events.push(Event::Fixed(v.to_string()));
    }
    let ranges = if status == AffectedStatus::NotAffected {
        Vec::new()
    } else {
        vec![Range {
            kind: RangeKind::Ecosystem,
            repo: None,
            events,
        }]
    };
    Affected {
        ecosystem: format!("Debian:{release}"),
        name: package.to_string(),
        purl: Some(format!("pkg:deb/debian/{package}")),
        ranges,
        versions: Vec::new(),
        status,
        severity: severity.map(str::to_string),
        note: Some(note),
    }
}

/// Status of a tracker line kind; `None` for kinds that mean "nothing to match".
fn kind_status(
    kind: &str,
    version: Option<&str>,
    severity: Option<&str>,
) -> Option<AffectedStatus> {
    let unimportant = severity.is_some_and(|s| s.starts_with("unimportant"));
    Some(match kind {
        "fixed" => {
            if version.is_none_or(|v| v == "0") {
                AffectedStatus::NotAffected
            } else {
                AffectedStatus::Fixed
            }
        }
        "not-affected" | "removed" | "itp" => AffectedStatus::NotAffected,
        "ignored" | "no-dsa" | "end-of-life" => AffectedStatus::WontFix,
        "unfixed" | "postponed" | "undetermined" if unimportant => AffectedStatus::WontFix,
        "unfixed" | "postponed" | "undetermined" => AffectedStatus::NotFixed,
        _ => return None,
    })
}

// ---------------------------------------------------------------- per-entry layout

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Entry {
    header: Header,
    #[serde(default)]
    annotations: Vec<Annotation>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Header {
    #[serde(rename = "ID")]
    id: String,
    #[serde(default)]
    description: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Annotation {
    #[serde(default)]
    original: Option<String>,
    #[serde(rename = "Type", default)]
    kind_of_line: Option<String>,
    #[serde(default)]
    release: Option<String>,
    #[serde(default)]
    package: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    version: Option<String>,
    #[serde(default)]
    severity: Option<String>,
    #[serde(default)]
    bugs: Vec<String>,
}

/// A parsed per-entry file, kept until every file of the feed is read.
#[derive(Debug)]
pub(crate) struct TrackerEntry {
    entry: Entry,
}

/// Parse one per-entry tracker file.
pub(crate) fn parse_entry(name: &str, bytes: &[u8]) -> Result<TrackerEntry, String> {
    let entry: Entry = serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?;
    if entry.header.id.trim().is_empty() {
        return Err(format!("{name}: empty Header.ID"));
    }
    Ok(TrackerEntry { entry })
}

/// True when a JSON document looks like a per-entry tracker file.
pub(crate) fn is_entry(value: &serde_json::Value) -> bool {
    value.get("Header").is_some() && value.get("Annotations").is_some()
}

/// Normalize all per-entry files of one feed together (see the module docs).
pub(crate) fn normalize_entries(entries: Vec<TrackerEntry>) -> Vec<Advisory> {
    // (cve, release, package) -> (advisory id, fixed version) from DSA/DLA files.
    let mut advisory_fixes: HashMap<(String, String, String), (String, String)> = HashMap::new();
    let mut cve_advisories: HashMap<String, Vec<String>> = HashMap::new();
    for e in &entries {
        let id = &e.entry.header.id;
        if id.starts_with("CVE-") {
            continue;
        }
        let cves: Vec<String> = e
            .entry
            .annotations
            .iter()
            .filter(|a| a.kind_of_line.as_deref() == Some("xref"))
            .flat_map(|a| a.bugs.iter().cloned())
            .collect();
        for cve in &cves {
            cve_advisories
                .entry(cve.clone())
                .or_default()
                .push(id.clone());
        }
        for a in &e.entry.annotations {
            if let (Some(release), Some(package), Some("fixed"), Some(version)) =
                (&a.release, &a.package, a.kind.as_deref(), &a.version)
            {
                for cve in &cves {
                    advisory_fixes.insert(
                        (cve.clone(), release.clone(), package.clone()),
                        (id.clone(), version.clone()),
                    );
                }
            }
        }
    }
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let Entry {
            header,
            annotations,
        } = e.entry;
        let mut adv = Advisory::new(header.id.trim());
        adv.details = header.description.filter(|d| !d.is_empty());
        adv.references.push(Reference {
            kind: "ADVISORY".into(),
            url: tracker_url(&adv.id),
        });
        let lines: Vec<&Annotation> = annotations
            .iter()
            .filter(|a| a.kind_of_line.as_deref() == Some("package") && a.package.is_some())
            .collect();
        if adv.id.starts_with("CVE-") {
            adv.aliases = cve_advisories.get(&adv.id).cloned().unwrap_or_default();
            let mut packages: Vec<&str> =
                lines.iter().filter_map(|a| a.package.as_deref()).collect();
            packages.sort_unstable();
            packages.dedup();
            for package in packages {
                let unstable = lines
                    .iter()
                    .find(|a| a.release.is_none() && a.package.as_deref() == Some(package));
                for (codename, number) in DEBIAN_RELEASES {
                    let own = lines.iter().find(|a| {
                        a.release.as_deref() == Some(*codename)
                            && a.package.as_deref() == Some(package)
                    });
                    let severity = own
                        .and_then(|a| a.severity.as_deref())
                        .or_else(|| unstable.and_then(|a| a.severity.as_deref()));
                    if let Some(line) = own {
                        push_line(&mut adv, line, number, package, severity);
                    } else if let Some((by, version)) = advisory_fixes.get(&(
                        adv.id.clone(),
                        (*codename).to_string(),
                        package.to_string(),
                    )) {
                        adv.affected.push(affected(
                            number,
                            package,
                            if version == "0" {
                                AffectedStatus::NotAffected
                            } else {
                                AffectedStatus::Fixed
                            },
                            Some(version),
                            severity,
                            format!(
                                "no [{codename}] line; {by} fixes it for {codename}: {version}"
                            ),
                        ));
                    } else if let Some(line) = unstable {
                        push_line(&mut adv, line, number, package, severity);
                    }
                }
            }
        } else {
            adv.aliases = annotations
                .iter()
                .filter(|a| a.kind_of_line.as_deref() == Some("xref"))
                .flat_map(|a| a.bugs.iter().cloned())
                .collect();
            for line in &lines {
                let (Some(release), Some(package)) = (&line.release, &line.package) else {
                    continue;
                };
                if let Some(number) = debian_release_number(release) {
                    push_line(&mut adv, line, number, package, line.severity.as_deref());
                }
            }
        }
        if let Some(label) = lines
            .iter()
            .find(|a| a.release.is_none())
            .and_then(|a| a.severity.as_deref())
        {
            adv.severities.push(vendor_label(label, SOURCE));
        }
        out.push(adv);
    }
    out
}

fn push_line(
    adv: &mut Advisory,
    line: &Annotation,
    number: &str,
    package: &str,
    severity: Option<&str>,
) {
    let kind = line.kind.as_deref().unwrap_or("");
    let Some(status) = kind_status(kind, line.version.as_deref(), severity) else {
        return;
    };
    let fixed = if status == AffectedStatus::Fixed {
        line.version.as_deref()
    } else {
        None
    };
    let note = line
        .original
        .clone()
        .unwrap_or_else(|| format!("{package} {kind}"));
    adv.affected
        .push(affected(number, package, status, fixed, severity, note));
}

// ---------------------------------------------------------------- JSON dump

#[derive(Debug, Deserialize)]
struct DumpCve {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    releases: serde_json::Value,
}

#[derive(Debug, Deserialize)]
struct DumpRelease {
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    fixed_version: Option<String>,
    #[serde(default)]
    urgency: Option<String>,
    #[serde(default)]
    nodsa: Option<String>,
}

/// Parse the tracker's JSON dump. Returns the advisories (one per CVE/TEMP id, all packages
/// merged) and the malformed entries (`package/CVE: reason`), which are skipped.
pub(crate) fn parse_dump(bytes: &[u8]) -> Result<(Vec<Advisory>, Vec<String>), String> {
    let root: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
        serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    let mut advisories: BTreeMap<String, Advisory> = BTreeMap::new();
    let mut malformed = Vec::new();
    for (package, cves) in root {
        for (cve_id, value) in cves {
            let cve: DumpCve = match serde_json::from_value(value) {
                Ok(c) => c,
                Err(e) => {
                    malformed.push(format!("{package}/{cve_id}: {e}"));
                    continue;
                }
            };
            let releases: BTreeMap<String, DumpRelease> = match cve.releases {
                serde_json::Value::Object(map) => {
                    let mut out = BTreeMap::new();
                    for (k, v) in map {
                        match serde_json::from_value(v) {
                            Ok(r) => {
                                out.insert(k, r);
                            }
                            Err(e) => malformed.push(format!("{package}/{cve_id}/{k}: {e}")),
                        }
                    }
                    out
                }
                // Seen in a real fixture: an empty list where an object is expected.
                serde_json::Value::Array(list) if list.is_empty() => BTreeMap::new(),
                serde_json::Value::Null => BTreeMap::new(),
                other => {
                    malformed.push(format!("{package}/{cve_id}: releases is {other}"));
                    continue;
                }
            };
            let adv = advisories.entry(cve_id.clone()).or_insert_with(|| {
                let mut a = Advisory::new(cve_id.clone());
                a.references.push(Reference {
                    kind: "ADVISORY".into(),
                    url: tracker_url(&cve_id),
                });
                a
            });
            if adv.details.is_none() {
                adv.details = cve.description.clone().filter(|d| !d.is_empty());
            }
            for (codename, rel) in releases {
                let Some(number) = debian_release_number(&codename) else {
                    continue;
                };
                let urgency = rel.urgency.as_deref();
                let wont = urgency
                    .is_some_and(|u| u.starts_with("unimportant") || u == "end-of-life")
                    || rel.nodsa.is_some();
                let (status, fixed) = match rel.status.as_deref() {
                    Some("resolved") => match rel.fixed_version.as_deref() {
                        Some("0") | None => (AffectedStatus::NotAffected, None),
                        Some(v) => (AffectedStatus::Fixed, Some(v)),
                    },
                    Some("open") | Some("undetermined") => {
                        if wont {
                            (AffectedStatus::WontFix, None)
                        } else {
                            (AffectedStatus::NotFixed, None)
                        }
                    }
                    other => {
                        malformed.push(format!("{package}/{cve_id}/{codename}: status {other:?}"));
                        continue;
                    }
                };
                let severity = urgency.filter(|u| *u != "not yet assigned");
                adv.affected.push(affected(
                    number,
                    &package,
                    status,
                    fixed,
                    severity,
                    format!(
                        "tracker {codename}: status {}, fixed_version {}, urgency {}",
                        rel.status.as_deref().unwrap_or("?"),
                        rel.fixed_version.as_deref().unwrap_or("-"),
                        urgency.unwrap_or("-")
                    ),
                ));
            }
        }
    }
    for adv in advisories.values_mut() {
        let label = adv
            .affected
            .iter()
            .filter_map(|a| a.severity.as_deref())
            .filter(|s| anchorage_advisory::label_severity(s).is_some())
            .max_by_key(|s| anchorage_advisory::label_severity(s));
        if let Some(label) = label {
            adv.severities.push(vendor_label(label, SOURCE));
        }
    }
    Ok((advisories.into_values().collect(), malformed))
}

/// The Debian security tracker: per-entry files or the JSON dump.
pub(crate) struct DebianDriver;

impl FeedDriver for DebianDriver {
    fn items(&self, files: RecordIter) -> Result<ItemIter, VulnDbError> {
        let mut entries = Vec::new();
        let mut dumped = Vec::new();
        let mut malformed = Vec::new();
        for f in files {
            let f = f?;
            let bytes = match f.content {
                Ok(b) => b,
                Err(why) => {
                    malformed.push(format!("{}: {why}", f.name));
                    continue;
                }
            };
            let value: serde_json::Value = match serde_json::from_slice(&bytes) {
                Ok(v) => v,
                Err(e) => {
                    malformed.push(format!("{}: {e}", f.name));
                    continue;
                }
            };
            if is_entry(&value) {
                match parse_entry(&f.name, &bytes) {
                    Ok(e) => entries.push(e),
                    Err(e) => malformed.push(e),
                }
            } else {
                match parse_dump(&bytes) {
                    Ok((advs, bad)) => {
                        dumped.extend(advs);
                        malformed.extend(bad.into_iter().map(|b| format!("{}: {b}", f.name)));
                    }
                    Err(e) => malformed.push(format!("{}: {e}", f.name)),
                }
            }
        }
        let mut advisories = normalize_entries(entries);
        advisories.extend(dumped);
        Ok(collected(advisories, Vec::new(), malformed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(rel: &str) -> std::path::PathBuf {
        anchorage_testkit::corpus_dir().join("distro").join(rel)
    }

    #[test]
    fn dump_shape_from_osv_dev_fixture() {
        let bytes = std::fs::read(corpus(
            "debian-tracker-json/google-osv.dev/debian_security_tracker_mock.json",
        ))
        .unwrap();
        let (advs, malformed) = parse_dump(&bytes).unwrap();
        assert!(malformed.is_empty(), "{malformed:?}");
        let busybox = advs.iter().find(|a| a.id == "CVE-2018-1000500").unwrap();
        let bookworm = busybox
            .affected
            .iter()
            .find(|a| a.ecosystem == "Debian:12")
            .unwrap();
        assert_eq!(bookworm.status, AffectedStatus::WontFix);
        let buster = busybox
            .affected
            .iter()
            .find(|a| a.ecosystem == "Debian:10")
            .unwrap();
        assert_eq!(buster.status, AffectedStatus::WontFix);
        assert_eq!(buster.severity.as_deref(), Some("end-of-life"));
        let apparmor = advs.iter().find(|a| a.id == "CVE-2014-1424").unwrap();
        assert!(
            apparmor
                .affected
                .iter()
                .all(|a| a.status == AffectedStatus::NotAffected)
        );
        let c = advs.iter().find(|a| a.id == "CVE-2017-6507").unwrap();
        let a = c
            .affected
            .iter()
            .find(|a| a.ecosystem == "Debian:12")
            .unwrap();
        assert_eq!(a.fixed_versions(), vec!["2.11.0-3"]);
    }

    #[test]
    fn dump_shape_edge_cases_from_vunnel_fixture() {
        let bytes =
            std::fs::read(corpus("debian-tracker-json/anchore-vunnel/debian.json")).unwrap();
        let (advs, _malformed) = parse_dump(&bytes).unwrap();
        // `"releases": []` (a list) is accepted as "no releases".
        assert!(advs.iter().any(|a| a.id == "CVE-2022-0358"));
        let proto = advs.iter().find(|a| a.id == "CVE-2008-7220").unwrap();
        assert!(proto.severities.iter().any(|s| s.value == "high**"));
    }
}
