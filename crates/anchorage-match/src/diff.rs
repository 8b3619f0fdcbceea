//! Re-match without re-analysis, and the difference between two sets of findings (the basis
//! of `vuln_update` notifications).

use anchorage_advisory::VulnSource;
use anchorage_model::{Analysis, Finding, FindingUpdate, FindingsDiff, MatchReport};

use crate::key::index;
use crate::matcher::{MatchError, match_analysis};

fn changes(a: &Finding, b: &Finding) -> Vec<String> {
    let mut out = Vec::new();
    if a.severity != b.severity {
        out.push("severity".to_string());
    }
    if a.fix != b.fix {
        out.push("fix".to_string());
    }
    if a.aliases != b.aliases {
        out.push("aliases".to_string());
    }
    if a.feed != b.feed || a.feed_group != b.feed_group {
        out.push("feed_group".to_string());
    }
    if a.nvd_data != b.nvd_data {
        out.push("nvd_data".to_string());
    }
    if a.vendor_data != b.vendor_data {
        out.push("vendor_data".to_string());
    }
    if a.url != b.url {
        out.push("url".to_string());
    }
    out
}

/// Compare two sets of findings of one image.
pub fn diff_findings(previous: &[Finding], current: &[Finding]) -> FindingsDiff {
    let before = index(previous);
    let after = index(current);
    let mut diff = FindingsDiff::default();
    for (k, f) in &after {
        match before.get(k) {
            None => diff.added.push((*f).clone()),
            Some(old) => {
                let c = changes(old, f);
                if !c.is_empty() {
                    diff.updated.push(FindingUpdate {
                        previous: (*old).clone(),
                        current: (*f).clone(),
                        changes: c,
                    });
                }
            }
        }
    }
    for (k, f) in &before {
        if !after.contains_key(k) {
            diff.removed.push((*f).clone());
        }
    }
    diff
}

/// Match a stored analysis against a new snapshot and diff against the previous findings.
pub fn rematch(
    analysis: &Analysis,
    source: &dyn VulnSource,
    previous: &[Finding],
) -> Result<(MatchReport, FindingsDiff), MatchError> {
    let report = match_analysis(analysis, source)?;
    let diff = diff_findings(previous, &report.findings);
    Ok((report, diff))
}
