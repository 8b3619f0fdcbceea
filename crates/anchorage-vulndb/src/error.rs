//! Errors of feed sync and the store.

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
