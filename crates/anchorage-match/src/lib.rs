//! Pure matching of an analysis against a vulnerability snapshot. Every finding carries the
//! evidence of why it matched.

mod build;
mod diff;
mod error;
mod explain;
mod hit;
mod key;
mod lookup;
mod matcher;
mod nearest_fix;
mod render;
mod target;

pub use anchorage_model::finding::*;
pub use anchorage_model::{DistroTarget, distro_target};
pub use anchorage_model::{FindingUpdate, FindingsDiff};
pub use diff::{diff_findings, rematch};
pub use explain::{ExplainLine, Explanation, explain};
pub use matcher::{MatchError, MatchOptions, lookup_names, match_analysis, match_analysis_with};
pub use nearest_fix::nearest_fix;
pub use render::{OutputFormat, anchore_rows, render};

/// The finding types, defined in [`anchorage_model::finding`] and re-exported at their old path.
pub mod model {
    pub use anchorage_model::finding::*;
    pub use anchorage_model::{FindingUpdate, FindingsDiff};
}
