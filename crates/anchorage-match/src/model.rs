//! Findings: one vulnerability in one package, with Anchore's vulnerability-row fields and the
//! evidence of the match.

use anchorage_types::{PackageType, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// CVSS scores from one source (NVD or the vendor), as in Anchore's `nvd_data`/`vendor_data`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CvssData {
    /// Vulnerability id the scores belong to (a CVE for NVD).
    pub id: String,
    /// CVSS v2 scores.
    #[serde(default)]
    pub cvss_v2: Option<CvssScores>,
    /// CVSS v3.x scores.
    #[serde(default)]
    pub cvss_v3: Option<CvssScores>,
    /// CVSS v4 scores (base only).
    #[serde(default)]
    pub cvss_v4: Option<CvssScores>,
}

/// Base, exploitability and impact scores; `-1.0` where unknown (Anchore's convention).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvssScores {
    /// Base score.
    pub base_score: f64,
    /// Exploitability sub-score.
    pub exploitability_score: f64,
    /// Impact sub-score.
    pub impact_score: f64,
    /// Vector string, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
}

/// Fix state of a finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", content = "versions", rename_all = "snake_case")]
pub enum FixState {
    /// Fixed in these versions.
    Fixed(Vec<String>),
    /// No fix available yet.
    NotFixed,
    /// The vendor will not fix (e.g. Debian `unimportant`, `end-of-life`, `ignored`).
    WontFix,
    /// Unknown.
    Unknown,
}

/// The package a finding is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MatchedPackage {
    /// Package id in the analysis.
    pub id: String,
    /// Name.
    pub name: String,
    /// Installed version.
    pub version: String,
    /// Type.
    #[serde(rename = "type")]
    pub package_type: PackageType,
    /// purl.
    pub purl: String,
    /// File path for language packages; `pkgdb` for OS packages (Anchore's `package_path`).
    pub path: String,
    /// First CPE, if any.
    #[serde(default)]
    pub cpe: Option<String>,
}

/// Why a finding matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    /// The advisory record id that matched (may differ from the reported id via aliases).
    pub record_id: String,
    /// The feed source (`osv`, `debian-tracker`, `alpine-secdb`).
    pub source: String,
    /// What was compared: `source package bash (Debian:12)` or `PyPI requests`.
    pub matched_on: String,
    /// Human-readable range or version list that contained the installed version.
    pub constraint: String,
    /// The version scheme used (`dpkg`, `apk`, `pep440`, ...).
    pub version_scheme: String,
    /// The version that was compared (the source package version for OS packages).
    #[serde(default)]
    pub installed_version: String,
    /// Fixed versions this record names for the matched range.
    #[serde(default)]
    pub fix_versions: Vec<String>,
}

/// One vulnerability in one package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Reported id (CVE preferred when an alias exists).
    pub vuln: String,
    /// All ids of the merged records (aliases included).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Effective severity: vendor first, then NVD/CVSS.
    pub severity: Severity,
    /// The package.
    pub package: MatchedPackage,
    /// Fix state.
    pub fix: FixState,
    /// Feed name (Anchore's `feed`), e.g. `vulnerabilities`, `github`, `osv`.
    pub feed: String,
    /// Feed group (Anchore's `feed_group`), e.g. `debian:12`, `alpine:3.20`, `github:python`.
    pub feed_group: String,
    /// Advisory link.
    pub url: String,
    /// NVD CVSS data.
    #[serde(default)]
    pub nvd_data: Vec<CvssData>,
    /// Vendor CVSS data.
    #[serde(default)]
    pub vendor_data: Vec<CvssData>,
    /// When the advisory was published.
    #[serde(default)]
    pub published: Option<DateTime<Utc>>,
    /// When the fix first appeared in the feed, when known.
    #[serde(default)]
    pub fix_observed_at: Option<DateTime<Utc>>,
    /// Why it matched.
    pub evidence: Vec<Evidence>,
}

impl Finding {
    /// True when the vendor will not fix.
    pub fn will_not_fix(&self) -> bool {
        matches!(self.fix, FixState::WontFix)
    }

    /// The fixed version nearest above the installed one (by the matched version scheme):
    /// what the user upgrades to. A range fixed in several release lines lists every line's
    /// fix; only the next one above the installed version is useful. `None` without a fix;
    /// the first listed fix when no scheme or no larger version is known.
    pub fn nearest_fix(&self) -> Option<String> {
        let FixState::Fixed(versions) = &self.fix else {
            return None;
        };
        let evidence = self.evidence.first();
        let scheme = evidence.and_then(|e| {
            anchorage_version::Scheme::ALL
                .into_iter()
                .find(|s| s.name() == e.version_scheme)
        });
        let installed = evidence
            .map(|e| e.installed_version.as_str())
            .filter(|v| !v.is_empty())
            .unwrap_or(&self.package.version);
        let (Some(scheme), false) = (scheme, versions.is_empty()) else {
            return versions.first().cloned();
        };
        let cmp = |a: &str, b: &str| anchorage_version::compare(scheme, a, b).ok();
        let above = versions
            .iter()
            .filter(|v| cmp(v, installed) == Some(std::cmp::Ordering::Greater));
        let nearest = above.fold(None::<&String>, |best, v| match best {
            Some(b) if cmp(v, b) != Some(std::cmp::Ordering::Less) => Some(b),
            _ => Some(v),
        });
        nearest.or_else(|| versions.first()).cloned()
    }

    /// Anchore's `fix` column: comma-joined fixed versions, or `None`.
    pub fn fix_column(&self) -> String {
        match &self.fix {
            FixState::Fixed(v) if !v.is_empty() => v.join(","),
            _ => "None".to_string(),
        }
    }
}

/// Vulnerability data coverage of an image: an image whose distro has no data must never look
/// clean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Coverage {
    /// Data existed for the distro release and every language ecosystem present.
    Complete,
    /// Data was unavailable for these groups (e.g. `Debian:13` with no records synced).
    Unavailable {
        /// Groups lacking data.
        groups: Vec<String>,
    },
}

/// The result of matching one analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MatchReport {
    /// Findings sorted by (severity desc, vuln, package name).
    pub findings: Vec<Finding>,
    /// Data coverage.
    pub coverage: Coverage,
    /// Problems that did not stop matching (e.g. a version that does not parse in its
    /// ecosystem's scheme; that package/record pair is then not reported).
    #[serde(default)]
    pub warnings: Vec<String>,
}
