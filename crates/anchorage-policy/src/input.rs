//! What one evaluation reads: the analysis, the findings, feed state, the tag and the clock, plus
//! the optional malware and packages-feed data. A leaf module: the evaluator and every gate read
//! it, and it depends on neither.

use std::collections::BTreeMap;

use anchorage_model::{Analysis, Coverage, Finding};
/// Malware scan results are the analysis' own (`Analysis::malware`), re-exported here.
pub use anchorage_model::{MalwareFinding, MalwareScan};
use anchorage_types::FeedGroupStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One package in the `packages` feed (npm / gem metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPackage {
    /// Latest version.
    pub latest: String,
    /// Every published version.
    #[serde(default)]
    pub versions: Vec<String>,
}

/// The optional `packages` feed used by the `npms` and `ruby_gems` feed triggers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PackageFeeds {
    /// npm packages by name.
    #[serde(default)]
    pub npm: BTreeMap<String, FeedPackage>,
    /// Ruby gems by name.
    #[serde(default)]
    pub gem: BTreeMap<String, FeedPackage>,
}

/// Everything one evaluation reads.
#[derive(Debug, Clone)]
pub struct EvaluationInput<'a> {
    /// The stored analysis.
    pub analysis: &'a Analysis,
    /// Findings of the current match.
    pub findings: &'a [Finding],
    /// Vulnerability data coverage of the match.
    pub coverage: &'a Coverage,
    /// Feed group state (for `stale_feed_data`, `vulnerability_data_unavailable`).
    pub feeds: &'a [FeedGroupStatus],
    /// Normalized full tag (`docker.io/library/alpine:3.20`); empty means `*/*:*`.
    pub tag: &'a str,
    /// Image (manifest) digest `sha256:...`; empty when unknown.
    pub image_digest: String,
    /// Image id (config digest hex, `sha256:` prefix optional); empty when unknown.
    pub image_id: String,
    /// Evaluation time.
    pub now: DateTime<Utc>,
    /// Bundle id to report as `policyId` (defaults to the bundle's id).
    pub policy_id: Option<&'a str>,
    /// Malware scan results, if a scanner ran (`malware` gate); [`EvaluationInput::new`]
    /// takes them from the analysis.
    pub malware: Option<&'a [MalwareScan]>,
    /// The `packages` feed, if synced (`npms`/`ruby_gems` feed triggers).
    pub package_feeds: Option<&'a PackageFeeds>,
}

impl<'a> EvaluationInput<'a> {
    /// An input whose digest, id and malware scans come from the analysis, with no packages
    /// feed.
    pub fn new(
        analysis: &'a Analysis,
        findings: &'a [Finding],
        coverage: &'a Coverage,
        feeds: &'a [FeedGroupStatus],
        tag: &'a str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            analysis,
            findings,
            coverage,
            feeds,
            tag,
            image_digest: analysis
                .source
                .manifest_digest
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            image_id: analysis
                .source
                .config_digest
                .as_ref()
                .map(|d| d.encoded().to_string())
                .unwrap_or_default(),
            now,
            policy_id: None,
            malware: (!analysis.malware.is_empty()).then_some(analysis.malware.as_slice()),
            package_feeds: None,
        }
    }
}
