//! The error of matching.

use anchorage_advisory::SourceError;
use anchorage_types::ErrorKind;

/// A matching error: only reading the vulnerability data can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// The vulnerability source failed.
    #[error("reading vulnerability data: {0}")]
    Source(#[from] SourceError),
}

impl MatchError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            MatchError::Source(e) => e.kind(),
        }
    }
}
