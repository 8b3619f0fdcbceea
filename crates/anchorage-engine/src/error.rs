//! Why an engine operation failed. Each variant's message names the image or store and the
//! step; the cause is only reachable through `source()` (never repeated in the message), so a
//! caller printing the chain prints each cause once.

use std::path::PathBuf;

use anchorage_image::{AcquireError, SquashError};
use anchorage_match::MatchError;
use anchorage_types::ErrorKind;
use anchorage_vulndb::VulnDbError;

/// Why an engine operation failed. Problems inside the image that do not stop cataloging are
/// warnings in the [`crate::Analysis`], not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The image could not be fetched or read from its source.
    #[error("acquiring {source_ref}")]
    Acquire {
        /// The source string as given.
        source_ref: String,
        /// What went wrong.
        #[source]
        error: Box<AcquireError>,
    },
    /// The layers could not be read into one file tree.
    #[error("reading the layers of {source_ref}")]
    Squash {
        /// The source string as given.
        source_ref: String,
        /// What went wrong.
        #[source]
        error: Box<SquashError>,
    },
    /// The vulnerability store could not be opened or read, or a feed could not be synced.
    #[error("vulnerability store {}", dir.display())]
    Store {
        /// The store directory.
        dir: PathBuf,
        /// What went wrong.
        #[source]
        error: Box<VulnDbError>,
    },
    /// Matching failed (the store could not be read while matching).
    #[error("matching {image} against the vulnerability store")]
    Match {
        /// The image (source string or reference).
        image: String,
        /// What went wrong.
        #[source]
        error: Box<MatchError>,
    },
    /// A blocking task panicked or was cancelled (a bug, or the runtime shutting down).
    #[error("{what}: the worker task failed: {reason}")]
    Task {
        /// The step that ran in the task.
        what: &'static str,
        /// The join error.
        reason: String,
    },
}

impl EngineError {
    /// What went wrong, for exit codes, HTTP status and analysis-failure reasons (see
    /// [`ErrorKind`]); the kind of the underlying cause.
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Acquire { error, .. } => error.kind(),
            EngineError::Squash { error, .. } => error.kind(),
            EngineError::Store { error, .. } => error.kind(),
            EngineError::Match { error, .. } => error.kind(),
            EngineError::Task { .. } => ErrorKind::Internal,
        }
    }

    /// Whether the failure is about the image (its source, registry or content) rather than
    /// the vulnerability store or the engine itself.
    pub fn is_image_error(&self) -> bool {
        matches!(
            self,
            EngineError::Acquire { .. } | EngineError::Squash { .. }
        )
    }
}
