//! The one error type of this crate.

use crate::Scheme;

/// A version string (or a range event) that the scheme's own tool would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VersionError {
    /// The string is not a valid version in `scheme`.
    #[error("invalid {scheme} version {version:?}: {reason}")]
    Invalid {
        /// Scheme the string was parsed with.
        scheme: Scheme,
        /// The offending string (truncated to 256 bytes when longer).
        version: String,
        /// Why it was rejected, lower-case.
        reason: String,
    },
}

impl VersionError {
    /// Builds an [`VersionError::Invalid`], truncating very long strings so errors stay small.
    pub(crate) fn invalid(scheme: Scheme, version: &str, reason: impl Into<String>) -> Self {
        let mut end = version.len().min(256);
        while !version.is_char_boundary(end) {
            end -= 1;
        }
        VersionError::Invalid {
            scheme,
            version: version[..end].to_string(),
            reason: reason.into(),
        }
    }
}
