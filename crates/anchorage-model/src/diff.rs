//! The difference between two sets of findings of one image (the basis of `vuln_update`
//! notifications). Computed by `anchorage_match::diff_findings`.

use serde::{Deserialize, Serialize};

use crate::finding::Finding;

/// A finding present before and after whose reported data changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FindingUpdate {
    /// Before.
    pub previous: Finding,
    /// After.
    pub current: Finding,
    /// What changed (`severity`, `fix`, `aliases`, `feed_group`, `nvd_data`, `vendor_data`, `url`).
    pub changes: Vec<String>,
}

/// Added, removed and updated findings between two matches of the same image.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct FindingsDiff {
    /// New findings.
    pub added: Vec<Finding>,
    /// Findings that no longer apply.
    pub removed: Vec<Finding>,
    /// Findings whose data changed.
    pub updated: Vec<FindingUpdate>,
}

impl FindingsDiff {
    /// True when nothing changed.
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.updated.is_empty()
    }
}
