//! The normalized advisory model every feed driver produces (OSV-shaped, with fix states and
//! vendor severities that OSV leaves to `database_specific`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One advisory from one feed, normalized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Advisory {
    /// Record id (`PYSEC-2018-28`, `GHSA-...`, `CVE-2016-2781`, `DSA-5514-1`).
    pub id: String,
    /// Other ids of the same vulnerability (CVE, GHSA, DSA, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Longer description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// When published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub published: Option<DateTime<Utc>>,
    /// When last modified (the per-record change marker).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub modified: Option<DateTime<Utc>>,
    /// When withdrawn; withdrawn advisories never match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withdrawn: Option<DateTime<Utc>>,
    /// CVSS vectors with computed scores, and vendor labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub severities: Vec<SeverityRating>,
    /// Reference links.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<Reference>,
    /// CWE ids (`CWE-79`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cwes: Vec<String>,
    /// Affected packages.
    #[serde(default)]
    pub affected: Vec<Affected>,
}

impl Advisory {
    /// An advisory with only an id; drivers fill the rest.
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            aliases: Vec::new(),
            summary: None,
            details: None,
            published: None,
            modified: None,
            withdrawn: None,
            severities: Vec::new(),
            references: Vec::new(),
            cwes: Vec::new(),
            affected: Vec::new(),
        }
    }

    /// The id and every alias.
    pub fn all_ids(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.id.as_str()).chain(self.aliases.iter().map(String::as_str))
    }

    /// The first reference URL, preferring advisory-type references.
    pub fn primary_url(&self) -> Option<&str> {
        self.references
            .iter()
            .find(|r| r.kind.eq_ignore_ascii_case("ADVISORY"))
            .or_else(|| self.references.first())
            .map(|r| r.url.as_str())
    }
}

/// Kind of a severity rating.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeverityKind {
    /// CVSS v2 vector.
    CvssV2,
    /// CVSS v3.0/v3.1 vector.
    CvssV3,
    /// CVSS v4.0 vector.
    CvssV4,
    /// A vendor's label (`HIGH`, `moderate`, Debian urgency `low`).
    Vendor,
}

/// One severity rating: a CVSS vector (with computed scores) or a vendor label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeverityRating {
    /// What kind of rating.
    pub kind: SeverityKind,
    /// Who rated: `nvd`, or the feed (`osv`, `debian-tracker`, `ghsa`).
    pub source: String,
    /// The vector string or the label as published.
    pub value: String,
    /// Computed base score (CVSS only; `None` when the vector did not parse).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_score: Option<f64>,
    /// Computed exploitability sub-score (v2/v3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exploitability_score: Option<f64>,
    /// Computed impact sub-score (v2/v3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub impact_score: Option<f64>,
}

/// A reference link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// OSV reference type (`ADVISORY`, `WEB`, `FIX`, ...).
    #[serde(rename = "type")]
    pub kind: String,
    /// URL.
    pub url: String,
}

/// Type of a version range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RangeKind {
    /// Versions in the ecosystem's own ordering.
    Ecosystem,
    /// SemVer 2.0 versions.
    Semver,
    /// Git commits (never evaluated against installed versions).
    Git,
}

/// One range event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// Affected from this version (`0` = from the beginning).
    Introduced(String),
    /// Fixed in this version.
    Fixed(String),
    /// Last affected version (inclusive).
    LastAffected(String),
    /// Upper limit (exclusive) of the range.
    Limit(String),
}

impl Event {
    /// The version the event names.
    pub fn version(&self) -> &str {
        match self {
            Event::Introduced(v) | Event::Fixed(v) | Event::LastAffected(v) | Event::Limit(v) => v,
        }
    }
}

/// A version range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Range {
    /// Range type.
    pub kind: RangeKind,
    /// Repository for GIT ranges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    /// Events in the order published.
    pub events: Vec<Event>,
}

impl Range {
    /// Human-readable form, e.g. `ECOSYSTEM introduced 0, fixed 2.20.0`.
    pub fn describe(&self) -> String {
        let kind = match self.kind {
            RangeKind::Ecosystem => "ECOSYSTEM",
            RangeKind::Semver => "SEMVER",
            RangeKind::Git => "GIT",
        };
        let events: Vec<String> = self
            .events
            .iter()
            .map(|e| match e {
                Event::Introduced(v) => format!("introduced {v}"),
                Event::Fixed(v) => format!("fixed {v}"),
                Event::LastAffected(v) => format!("last_affected {v}"),
                Event::Limit(v) => format!("limit {v}"),
            })
            .collect();
        format!("{kind} {}", events.join(", "))
    }
}

/// Vendor fix state of one affected package in one ecosystem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AffectedStatus {
    /// Affected per the ranges; fixed versions are the ranges' `fixed` events.
    #[default]
    Fixed,
    /// Affected, no fix yet (Debian `<unfixed>`, `<postponed>`).
    NotFixed,
    /// Affected, and the vendor will not fix (Debian `<ignored>`, `<no-dsa>`, urgency
    /// `unimportant` or `end-of-life`).
    WontFix,
    /// The vendor states this release was never affected (Debian `<not-affected>`, fixed `0`,
    /// Alpine secfixes key `0`).
    NotAffected,
}

/// One affected package of an advisory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affected {
    /// OSV ecosystem (`Debian:12`, `Alpine:v3.20`, `PyPI`, `npm`).
    pub ecosystem: String,
    /// Package name as published (source package for distros).
    pub name: String,
    /// purl, when published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Ranges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<Range>,
    /// Explicitly listed affected versions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<String>,
    /// Vendor fix state.
    #[serde(default)]
    pub status: AffectedStatus,
    /// Vendor severity label for this package (Debian urgency), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// Where in the source data this entry came from (e.g. the tracker line), for evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl Affected {
    /// Fixed versions named by the ranges' `fixed` events (ECOSYSTEM/SEMVER only).
    pub fn fixed_versions(&self) -> Vec<String> {
        let mut out = Vec::new();
        for range in &self.ranges {
            if range.kind == RangeKind::Git {
                continue;
            }
            for event in &range.events {
                if let Event::Fixed(v) = event
                    && !out.contains(v)
                {
                    out.push(v.clone());
                }
            }
        }
        out
    }
}

/// Normalize a package name for lookup in an ecosystem: PEP 503 for PyPI, lower case for npm,
/// NuGet, Packagist, crates.io and distro packages; as-is for Go and Maven.
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    match base {
        "PyPI" => anchorage_types::pep503_normalize(name),
        "Go" | "Maven" => name.trim().to_string(),
        _ => name.trim().to_ascii_lowercase(),
    }
}

/// The ecosystem without its release suffix (`Debian:12` -> `Debian`).
pub fn ecosystem_base(ecosystem: &str) -> &str {
    ecosystem.split(':').next().unwrap_or(ecosystem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_names() {
        assert_eq!(normalize_name("PyPI", "PyYAML"), "pyyaml");
        assert_eq!(normalize_name("PyPI", "Foo__Bar.baz"), "foo-bar-baz");
        assert_eq!(normalize_name("npm", "@Scope/Pkg"), "@scope/pkg");
        assert_eq!(normalize_name("Go", "golang.org/x/Net"), "golang.org/x/Net");
    }
}
