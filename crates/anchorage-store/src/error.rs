//! Why a store operation failed.

use crate::Backend;

/// A store error. Messages name the backend and the step, never the database URL.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The URL's scheme names no supported backend.
    #[error("database URL scheme {scheme:?} is not supported (use sqlite:PATH or postgres://...)")]
    UnsupportedUrl {
        /// The scheme found.
        scheme: String,
    },
    /// The database could not be reached or opened.
    #[error("cannot connect to the {backend:?} database: {reason}")]
    Connect {
        /// The backend.
        backend: Backend,
        /// Why (the URL removed).
        reason: String,
    },
    /// A migration failed; nothing of it was applied.
    #[error("migration {version} ({description}) failed")]
    Migration {
        /// Its version.
        version: i64,
        /// Its description.
        description: &'static str,
        /// The database error.
        #[source]
        error: sqlx::Error,
    },
    /// The database holds migrations this program does not know (it was created by a newer
    /// version).
    #[error("the database has migration {version}, newer than this program knows (latest {known})")]
    NewerSchema {
        /// The unknown version found.
        version: i64,
        /// The latest version this program knows.
        known: i64,
    },
    /// A record with this key exists already.
    #[error("{what} already exists")]
    Conflict {
        /// What (names the record).
        what: String,
    },
    /// A stored document could not be decoded.
    #[error("stored {what} is corrupt: {reason}")]
    Corrupt {
        /// Which document.
        what: String,
        /// Why.
        reason: String,
    },
    /// The analysis archive store (directory or S3 bucket) failed.
    #[error("analysis archive: {what}: {reason}")]
    Archive {
        /// The step and the store (`writing KEY (s3:bucket at URL)`), never credentials.
        what: String,
        /// Why.
        reason: String,
    },
    /// Reading or writing a backup file failed.
    #[error("backup file: {what}")]
    Io {
        /// The step.
        what: String,
        /// The I/O error.
        #[source]
        error: std::io::Error,
    },
    /// A restore would overwrite data.
    #[error(
        "the database is not empty ({tables} hold rows): restore into an empty database, or \
         force it to replace everything"
    )]
    NotEmpty {
        /// The tables that hold rows.
        tables: String,
    },
    /// The operation does not fit the record's state (an image not analysed, not found...).
    #[error("{reason}")]
    State {
        /// Why, for the user.
        reason: String,
    },
    /// A query failed.
    #[error("database query failed: {what}")]
    Query {
        /// The step.
        what: &'static str,
        /// The database error.
        #[source]
        error: sqlx::Error,
    },
}

/// The class of a [`StoreError`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// Bad configuration (URL).
    Config,
    /// The database is unreachable or failed.
    Unavailable,
    /// The schema does not fit this program.
    Schema,
    /// A record with the same key exists.
    Conflict,
    /// Stored data is damaged.
    Corrupt,
}

impl StoreError {
    /// The class of this error.
    pub fn kind(&self) -> StoreErrorKind {
        match self {
            StoreError::UnsupportedUrl { .. } => StoreErrorKind::Config,
            StoreError::Connect { .. }
            | StoreError::Query { .. }
            | StoreError::Archive { .. }
            | StoreError::Io { .. } => StoreErrorKind::Unavailable,
            StoreError::Migration { .. } | StoreError::NewerSchema { .. } => StoreErrorKind::Schema,
            StoreError::Conflict { .. }
            | StoreError::NotEmpty { .. }
            | StoreError::State { .. } => StoreErrorKind::Conflict,
            StoreError::Corrupt { .. } => StoreErrorKind::Corrupt,
        }
    }
}
