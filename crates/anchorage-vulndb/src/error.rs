//! Errors of feed sync and the store.

use anchorage_advisory::SourceError;
use anchorage_types::ErrorKind;

/// An error of the vulnerability store or a feed sync. Malformed single records are not errors:
/// they are counted and reported in the [`crate::SyncReport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VulnDbError {
    /// The SQLite store failed.
    #[error("vulnerability store {path}: {source}")]
    Store {
        /// Store file.
        path: String,
        /// Cause.
        #[source]
        source: rusqlite::Error,
    },
    /// Reading a local feed file or folder failed.
    #[error("feed {feed}: reading {path}: {source}")]
    Io {
        /// Feed source.
        feed: String,
        /// File at fault.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Downloading a feed failed.
    #[error("feed {feed}: request to {url} failed: {message}")]
    Http {
        /// Feed source.
        feed: String,
        /// URL requested.
        url: String,
        /// What went wrong (status or transport error).
        message: String,
    },
    /// A feed archive (zip) is unreadable as a whole (truncated download, bad central directory).
    #[error("feed {feed}: archive {path} is unreadable: {message}")]
    Archive {
        /// Feed source.
        feed: String,
        /// Archive path or URL.
        path: String,
        /// Cause.
        message: String,
    },
    /// A feed document that must parse as a whole (a secdb branch file, a tracker dump) did not.
    #[error("feed {feed}: document {path} is malformed: {message}")]
    Document {
        /// Feed source.
        feed: String,
        /// Document path or URL.
        path: String,
        /// Cause.
        message: String,
    },
    /// A configured limit was exceeded.
    #[error("feed {feed}: limit exceeded: {message}")]
    Limit {
        /// Feed source.
        feed: String,
        /// Which limit.
        message: String,
    },
    /// A feed source string could not be understood.
    #[error(
        "feed source {0:?} is not understood (expected [osv:|debian-tracker:|debian-json:|alpine-secdb:|nvd:]URL-or-PATH)"
    )]
    BadSource(String),
    /// The sync was aborted (an injected or upstream failure); nothing was applied.
    #[error("feed {feed}: sync aborted: {message}")]
    Aborted {
        /// Feed source.
        feed: String,
        /// Why.
        message: String,
    },
}

pub(crate) fn store_err(path: &str) -> impl Fn(rusqlite::Error) -> VulnDbError + '_ {
    move |source| VulnDbError::Store {
        path: path.to_string(),
        source,
    }
}

impl VulnDbError {
    /// What went wrong, for HTTP status and failure-reason mapping.
    pub fn kind(&self) -> ErrorKind {
        match self {
            VulnDbError::Store { source, .. } => match source {
                rusqlite::Error::SqliteFailure(e, _)
                    if matches!(
                        e.code,
                        rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
                    ) =>
                {
                    ErrorKind::Unavailable
                }
                _ => ErrorKind::Internal,
            },
            VulnDbError::Io { source, .. } => ErrorKind::of_io(source),
            VulnDbError::Http { .. } | VulnDbError::Aborted { .. } => ErrorKind::Upstream,
            VulnDbError::Archive { .. } | VulnDbError::Document { .. } => ErrorKind::Upstream,
            VulnDbError::Limit { .. } => ErrorKind::LimitExceeded,
            VulnDbError::BadSource(_) => ErrorKind::InvalidInput,
        }
    }
}

impl From<VulnDbError> for SourceError {
    fn from(e: VulnDbError) -> Self {
        SourceError::new(e.kind(), e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_feed_errors() {
        assert_eq!(
            VulnDbError::BadSource("x".into()).kind(),
            ErrorKind::InvalidInput
        );
        let limit = VulnDbError::Limit {
            feed: "osv:PyPI".into(),
            message: "record too large".into(),
        };
        assert_eq!(limit.kind(), ErrorKind::LimitExceeded);
        let src = SourceError::from(limit);
        assert_eq!(src.kind(), ErrorKind::LimitExceeded);
        assert!(src.to_string().contains("record too large"));
    }
}
