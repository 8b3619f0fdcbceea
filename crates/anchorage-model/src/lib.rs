//! The data that flows between Anchorage's stages, free of any I/O stack: the [`Analysis`] of an
//! image (packages, files, image metadata, distro, secrets, warnings), the [`Finding`]s of
//! matching and their [`MatchReport`], the [`FindingsDiff`] between two matches, and the policy
//! [`Evaluation`] with its result rows.
//!
//! Producers (catalog, match, policy) and consumers (SBOM encoders, the CLI, the future API)
//! depend on this crate; it depends only on `anchorage-types`, serde and chrono.

pub mod analysis;
mod diff;
mod distro_target;
mod evaluation;
pub mod finding;

pub use analysis::*;
pub use diff::{FindingUpdate, FindingsDiff};
pub use distro_target::{DistroTarget, distro_target};
pub use evaluation::{
    Action, Evaluation, Explanation, FinalActionReason, RESULT_HEADER, Row, StaleWhitelistItem,
    ValidationProblem, WhitelistMatch,
};
pub use finding::*;
