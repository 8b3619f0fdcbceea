//! OSV driver: records in JSON or YAML (one record per file), from an export zip
//! (`<base>/<ecosystem>/all.zip`), a local zip or a local folder.

use crate::driver::{FeedDriver, Item, ItemIter};
use crate::error::VulnDbError;
use crate::input::RecordIter;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::Deserialize;

use anchorage_advisory::{
    Advisory, Affected, AffectedStatus, Event, Range, RangeKind, Reference, SeverityRating,
};
use anchorage_advisory::{rate_vector, vendor_label};

/// A scalar that may be written as a string or (in YAML) a bare number or boolean.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
enum Scalar {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Scalar {
    fn into_string(self) -> String {
        match self {
            Scalar::Str(s) => s,
            Scalar::Int(i) => i.to_string(),
            Scalar::Float(f) => f.to_string(),
            Scalar::Bool(b) => b.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
struct RawRecord {
    id: String,
    #[serde(default)]
    aliases: Option<Vec<String>>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    published: Option<Scalar>,
    #[serde(default)]
    modified: Option<Scalar>,
    #[serde(default)]
    withdrawn: Option<Scalar>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    affected: Option<Vec<RawAffected>>,
    #[serde(default)]
    references: Option<Vec<RawReference>>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: Scalar,
}

#[derive(Debug, Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default)]
    ranges: Option<Vec<RawRange>>,
    #[serde(default)]
    versions: Option<Vec<Scalar>>,
    #[serde(default)]
    severity: Option<Vec<RawSeverity>>,
    #[serde(default)]
    database_specific: Option<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
struct RawPackage {
    ecosystem: String,
    name: String,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Debug, Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    repo: Option<String>,
    #[serde(default)]
    events: Vec<BTreeMap<String, Scalar>>,
}

#[derive(Debug, Deserialize)]
struct RawReference {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    url: String,
}

/// Parse an OSV timestamp leniently (RFC 3339, with or without zone, or a bare date).
pub(crate) fn parse_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

fn time_of(value: Option<Scalar>) -> Option<DateTime<Utc>> {
    value.and_then(|v| parse_time(&v.into_string()))
}

/// Parse one OSV record; YAML when the name says so or the text does not start with `{`.
pub fn parse_osv_record(name: &str, bytes: &[u8]) -> Result<Advisory, String> {
    let lower = name.to_ascii_lowercase();
    let first = bytes
        .iter()
        .find(|b| !b.is_ascii_whitespace())
        .copied()
        .unwrap_or(b'{');
    let raw: RawRecord = if lower.ends_with(".yaml") || lower.ends_with(".yml") || first != b'{' {
        serde_yaml_ng::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?
    } else {
        serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?
    };
    convert(raw).map_err(|e| format!("{name}: {e}"))
}

fn severities(raw: Option<Vec<RawSeverity>>, source: &str) -> Vec<SeverityRating> {
    raw.unwrap_or_default()
        .into_iter()
        .filter_map(|s| {
            let value = s.score.into_string();
            match s.kind.as_str() {
                "CVSS_V2" | "CVSS_V3" | "CVSS_V4" => Some(rate_vector(&value, source)),
                // Ubuntu's priority labels and other qualitative types.
                _ if !value.is_empty() => Some(vendor_label(&value, source)),
                _ => None,
            }
        })
        .collect()
}

fn convert(raw: RawRecord) -> Result<Advisory, String> {
    if raw.id.trim().is_empty() {
        return Err("record has an empty id".into());
    }
    let mut adv = Advisory::new(raw.id.trim());
    adv.aliases = raw.aliases.unwrap_or_default();
    adv.summary = raw.summary.filter(|s| !s.is_empty());
    adv.details = raw.details.filter(|s| !s.is_empty());
    adv.published = time_of(raw.published);
    adv.modified = time_of(raw.modified);
    adv.withdrawn = time_of(raw.withdrawn);
    let label_source = if adv.id.starts_with("GHSA-") {
        "ghsa"
    } else {
        "osv"
    };
    adv.severities = severities(raw.severity, "osv");
    if let Some(db) = &raw.database_specific {
        if let Some(label) = db.get("severity").and_then(|v| v.as_str()) {
            adv.severities.push(vendor_label(label, label_source));
        }
        if let Some(cwes) = db.get("cwe_ids").and_then(|v| v.as_array()) {
            adv.cwes = cwes
                .iter()
                .filter_map(|c| c.as_str().map(str::to_string))
                .collect();
        }
    }
    adv.references = raw
        .references
        .unwrap_or_default()
        .into_iter()
        .map(|r| Reference {
            kind: r.kind.unwrap_or_else(|| "WEB".into()),
            url: r.url,
        })
        .collect();
    for a in raw.affected.unwrap_or_default() {
        let Some(package) = a.package else {
            // Affected entries without a package name only a commit range; nothing to match.
            continue;
        };
        let mut ranges = Vec::new();
        for r in a.ranges.unwrap_or_default() {
            let kind = match r.kind.as_str() {
                "ECOSYSTEM" => RangeKind::Ecosystem,
                "SEMVER" => RangeKind::Semver,
                "GIT" => RangeKind::Git,
                other => return Err(format!("unknown range type {other:?}")),
            };
            let mut events = Vec::new();
            for e in r.events {
                for (key, value) in e {
                    let v = value.into_string();
                    events.push(match key.as_str() {
                        "introduced" => Event::Introduced(v),
                        "fixed" => Event::Fixed(v),
                        "last_affected" => Event::LastAffected(v),
                        "limit" => Event::Limit(v),
                        other => return Err(format!("unknown range event {other:?}")),
                    });
                }
            }
            ranges.push(Range {
                kind,
                repo: r.repo,
                events,
            });
        }
        let mut severity = None;
        if let Some(db) = &a.database_specific
            && let Some(label) = db
                .get("severity")
                .or_else(|| db.get("urgency"))
                .and_then(|v| v.as_str())
        {
            severity = Some(label.to_string());
        }
        adv.severities.extend(severities(a.severity, "osv"));
        adv.affected.push(Affected {
            ecosystem: package.ecosystem,
            name: package.name,
            purl: package.purl,
            ranges,
            versions: a
                .versions
                .unwrap_or_default()
                .into_iter()
                .map(Scalar::into_string)
                .collect(),
            status: AffectedStatus::Fixed,
            severity,
            note: None,
        });
    }
    Ok(adv)
}

/// OSV records, one per file (JSON or YAML).
pub(crate) struct OsvDriver;

impl FeedDriver for OsvDriver {
    fn items(&self, files: RecordIter) -> Result<ItemIter, VulnDbError> {
        Ok(Box::new(files.map(|f| {
            let f = f?;
            Ok(match f.content {
                Err(why) => Item::Malformed(format!("{}: {why}", f.name)),
                Ok(bytes) => match parse_osv_record(&f.name, &bytes) {
                    Ok(a) => Item::Advisory(Box::new(a)),
                    Err(e) => Item::Malformed(e),
                },
            })
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus(rel: &str) -> std::path::PathBuf {
        anchorage_testkit::corpus_dir().join(rel)
    }

    #[test]
    fn parses_every_corpus_osv_record() {
        let mut n = 0;
        for eco in ["PyPI", "Go", "crates", "npm", "Maven"] {
            for entry in std::fs::read_dir(corpus(&format!("osv/{eco}"))).unwrap() {
                let path = entry.unwrap().path();
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                let bytes = std::fs::read(&path).unwrap();
                let adv = parse_osv_record(&name, &bytes).unwrap();
                assert!(!adv.id.is_empty());
                n += 1;
            }
        }
        assert_eq!(n, 70 + 52 + 52 + 2 + 1);
    }

    #[test]
    fn pysec_yaml_record_fields() {
        let bytes = std::fs::read(corpus("osv/PyPI/PYSEC-2018-28.yaml")).unwrap();
        let adv = parse_osv_record("PYSEC-2018-28.yaml", &bytes).unwrap();
        assert_eq!(adv.aliases, vec!["CVE-2018-18074", "GHSA-x84v-xcm2-53pg"]);
        let a = &adv.affected[0];
        assert_eq!(
            (a.ecosystem.as_str(), a.name.as_str()),
            ("PyPI", "requests")
        );
        assert_eq!(a.fixed_versions(), vec!["2.20.0"]);
        assert!(a.versions.contains(&"2.19.1".to_string()));
        assert_eq!(a.ranges[0].kind, RangeKind::Git);
        assert!(adv.modified.is_some());
    }

    #[test]
    fn synthetic_malformed_records_are_errors_not_panics() {
        assert!(parse_osv_record("x.json", b"{\"id\": 5").is_err());
        assert!(parse_osv_record("x.json", b"{\"summary\": \"no id\"}").is_err());
        assert!(parse_osv_record("x.yaml", b": : :\n- [").is_err());
        assert!(
            parse_osv_record(
                "x.json",
                br#"{"id":"X-1","affected":[{"package":{"ecosystem":"npm","name":"a"},"ranges":[{"type":"WEIRD","events":[]}]}]}"#
            )
            .is_err()
        );
    }
}
