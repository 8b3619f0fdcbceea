//! Errors of SBOM encoding and decoding.

use anchorage_types::ErrorKind;

/// An SBOM could not be written or read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SbomError {
    /// Writing to or reading from the output failed.
    #[error("sbom i/o failed: {0}")]
    Io(#[from] std::io::Error),
    /// JSON (de)serialization failed.
    #[error("sbom json: {0}")]
    Json(#[from] serde_json::Error),
    /// The native document carries no `schema_version` field.
    #[error("analysis document has no schema_version field")]
    MissingSchemaVersion,
    /// The native document was written by an incompatible schema version.
    #[error(
        "analysis document schema_version {found:?} is not supported (this build reads {supported}.x)"
    )]
    UnsupportedSchemaVersion {
        /// Version found in the document.
        found: String,
        /// Major version this build reads.
        supported: String,
    },
    /// An unknown output format name.
    #[error("unknown sbom format {0:?} (expected json, cyclonedx-json, spdx-json or table)")]
    UnknownFormat(String),
}

impl SbomError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            SbomError::Io(e) => ErrorKind::of_io(e),
            SbomError::Json(_) | SbomError::MissingSchemaVersion => ErrorKind::InvalidInput,
            SbomError::UnsupportedSchemaVersion { .. } | SbomError::UnknownFormat(_) => {
                ErrorKind::Unsupported
            }
        }
    }
}
