//! The error of reading vulnerability data through [`crate::VulnSource`].

use std::error::Error as StdError;
use std::fmt;

use anchorage_types::ErrorKind;

/// Reading vulnerability data failed. A store wraps its own error (e.g. `VulnDbError`) here,
/// keeping its kind, message and cause chain.
#[derive(Debug)]
pub struct SourceError {
    kind: ErrorKind,
    inner: Box<dyn StdError + Send + Sync + 'static>,
}

impl SourceError {
    /// Wraps a store's error with its kind.
    pub fn new(
        kind: ErrorKind,
        error: impl Into<Box<dyn StdError + Send + Sync + 'static>>,
    ) -> Self {
        Self {
            kind,
            inner: error.into(),
        }
    }

    /// What went wrong, for HTTP status and failure-reason mapping.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The wrapped store error.
    pub fn inner(&self) -> &(dyn StdError + Send + Sync + 'static) {
        self.inner.as_ref()
    }
}

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

impl StdError for SourceError {
    // Transparent: the wrapped error's cause is this error's cause, so a chain printer shows
    // each message once.
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.inner.source()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_kind_and_message() {
        let e = SourceError::new(ErrorKind::Unavailable, "store locked");
        assert_eq!(e.kind(), ErrorKind::Unavailable);
        assert_eq!(e.to_string(), "store locked");
    }
}
