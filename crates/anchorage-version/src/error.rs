//! The one error type of this crate.

use crate::Scheme;
use anchorage_types::ErrorKind;

/// A version string (or a range event) that the scheme's own tool would reject.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
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
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            VersionError::Invalid { .. } => ErrorKind::InvalidInput,
        }
    }
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

#[cfg(test)]
mod tests {
    use crate::{Scheme, compare};
    use anchorage_types::ErrorKind;

    #[test]
    fn synthetic_unparsable_version_is_invalid_input() {
        let e = compare(Scheme::Dpkg, "not a version!", "1.0-1").err();
        assert_eq!(e.map(|e| e.kind()), Some(ErrorKind::InvalidInput));
    }
}
