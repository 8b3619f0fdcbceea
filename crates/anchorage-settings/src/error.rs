//! Why settings could not be loaded. Messages name the file, line and key; never a secret.

use anchorage_types::ErrorKind;
use std::path::PathBuf;

/// A settings error, naming the file and the key at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// The file could not be read.
    #[error("config file {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key or a value of the wrong type.
    #[error("config file {path}, line {line}: {message}")]
    Parse {
        /// The config file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// What is wrong (values are elided so that secrets never show).
        message: String,
    },
    /// A key has a value that is not allowed.
    #[error("config file {path}: {key}: {reason}")]
    Invalid {
        /// The config file.
        path: PathBuf,
        /// The key, e.g. `registries[1].password_env`.
        key: String,
        /// What is wrong.
        reason: String,
    },
    /// A flag or environment variable has a value that is not allowed.
    #[error("{name}: {reason}")]
    Value {
        /// The flag (`--url`) or variable (`ANCHORAGE_URL`).
        name: String,
        /// What is wrong (the value itself is never quoted).
        reason: String,
    },
}

impl SettingsError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            SettingsError::Read { .. }
            | SettingsError::Parse { .. }
            | SettingsError::Invalid { .. }
            | SettingsError::Value { .. } => ErrorKind::InvalidInput,
        }
    }
}
