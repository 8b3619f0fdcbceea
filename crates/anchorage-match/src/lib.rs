//! Pure matching of an analysis against a vulnerability snapshot. Every finding carries the
//! evidence of why it matched.

mod diff;
mod explain;
mod matcher;
pub mod model;
mod render;
mod target;

pub use diff::{FindingUpdate, FindingsDiff, diff_findings, rematch};
pub use explain::{ExplainLine, Explanation, explain};
pub use matcher::{MatchError, MatchOptions, match_analysis, match_analysis_with};
pub use model::*;
pub use render::{OutputFormat, anchore_rows, render};
pub use target::{DistroTarget, distro_target};
