//! The kind of an error, shared by every library crate so the server can map any failure to an
//! HTTP status and an analysis-failure reason without knowing each crate's error enum.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What went wrong, independent of the crate that failed. Every public error enum of the
/// library crates has a `kind(&self) -> ErrorKind`.
///
/// The server maps each kind to one HTTP status:
///
/// | kind | HTTP status |
/// |---|---|
/// | [`ErrorKind::InvalidInput`] | 400 Bad Request |
/// | [`ErrorKind::Unauthorized`] | 401 Unauthorized |
/// | [`ErrorKind::Forbidden`] | 403 Forbidden |
/// | [`ErrorKind::NotFound`] | 404 Not Found |
/// | [`ErrorKind::Conflict`] | 409 Conflict |
/// | [`ErrorKind::LimitExceeded`] | 413 Payload Too Large |
/// | [`ErrorKind::Unsupported`] | 422 Unprocessable Content |
/// | [`ErrorKind::Upstream`] | 502 Bad Gateway |
/// | [`ErrorKind::Unavailable`] | 503 Service Unavailable |
/// | [`ErrorKind::Timeout`] | 504 Gateway Timeout |
/// | [`ErrorKind::Internal`] | 500 Internal Server Error |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorKind {
    /// The caller's input is malformed: a bad reference, source string, bundle or document.
    InvalidInput,
    /// Credentials are missing or were rejected.
    Unauthorized,
    /// Authenticated, but not allowed.
    Forbidden,
    /// The image, tag, blob, file or record does not exist.
    NotFound,
    /// The request conflicts with the current state (e.g. a lock or a concurrent change).
    Conflict,
    /// A configured limit (size, count, depth, rate) was exceeded.
    LimitExceeded,
    /// The input is well-formed but uses something not supported (media type, platform,
    /// format version).
    Unsupported,
    /// A peer (registry, feed server) answered with an error or an invalid response.
    Upstream,
    /// A peer or local resource could not be reached right now; retrying may succeed.
    Unavailable,
    /// An operation took longer than allowed.
    Timeout,
    /// A local failure that is not the caller's fault (I/O, database, a bug).
    Internal,
}

impl ErrorKind {
    /// The HTTP status code the server answers with for this kind (see the table above).
    pub fn http_status(self) -> u16 {
        match self {
            ErrorKind::InvalidInput => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::Forbidden => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Conflict => 409,
            ErrorKind::LimitExceeded => 413,
            ErrorKind::Unsupported => 422,
            ErrorKind::Upstream => 502,
            ErrorKind::Unavailable => 503,
            ErrorKind::Timeout => 504,
            ErrorKind::Internal => 500,
        }
    }

    /// A stable snake_case name, usable as an analysis-failure reason.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Conflict => "conflict",
            ErrorKind::LimitExceeded => "limit_exceeded",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::Upstream => "upstream",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Internal => "internal",
        }
    }

    /// True when retrying the same request later may succeed.
    pub fn is_transient(self) -> bool {
        matches!(
            self,
            ErrorKind::Unavailable | ErrorKind::Timeout | ErrorKind::Upstream
        )
    }

    /// The kind of an I/O error: missing files are `NotFound`, permission problems
    /// `Forbidden`, timeouts `Timeout`, anything else `Internal`.
    pub fn of_io(e: &std::io::Error) -> Self {
        match e.kind() {
            std::io::ErrorKind::NotFound => ErrorKind::NotFound,
            std::io::ErrorKind::PermissionDenied => ErrorKind::Forbidden,
            std::io::ErrorKind::TimedOut => ErrorKind::Timeout,
            std::io::ErrorKind::InvalidData | std::io::ErrorKind::UnexpectedEof => {
                ErrorKind::InvalidInput
            }
            _ => ErrorKind::Internal,
        }
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_statuses_are_the_documented_ones() {
        assert_eq!(ErrorKind::InvalidInput.http_status(), 400);
        assert_eq!(ErrorKind::NotFound.http_status(), 404);
        assert_eq!(ErrorKind::LimitExceeded.http_status(), 413);
        assert_eq!(ErrorKind::Upstream.http_status(), 502);
        assert_eq!(ErrorKind::Internal.http_status(), 500);
    }

    #[test]
    fn names_serialize_as_snake_case() {
        let v = serde_json::to_value(ErrorKind::LimitExceeded).unwrap_or_default();
        assert_eq!(v, serde_json::json!("limit_exceeded"));
        assert_eq!(ErrorKind::LimitExceeded.as_str(), "limit_exceeded");
    }

    #[test]
    fn io_errors_map_by_kind() {
        let nf = std::io::Error::from(std::io::ErrorKind::NotFound);
        assert_eq!(ErrorKind::of_io(&nf), ErrorKind::NotFound);
        let other = std::io::Error::other("disk on fire");
        assert_eq!(ErrorKind::of_io(&other), ErrorKind::Internal);
        assert!(ErrorKind::Timeout.is_transient());
        assert!(!ErrorKind::InvalidInput.is_transient());
    }

    #[test]
    fn synthetic_value_type_errors_have_kinds() {
        let bad_digest = "sha256:xyz".parse::<crate::Digest>().err();
        assert_eq!(bad_digest.map(|e| e.kind()), Some(ErrorKind::InvalidInput));
        let unsupported = "md5:d41d8cd98f00b204e9800998ecf8427e"
            .parse::<crate::Digest>()
            .err();
        assert_eq!(unsupported.map(|e| e.kind()), Some(ErrorKind::Unsupported));
        let empty_ref = crate::ImageReference::parse("").err();
        assert_eq!(empty_ref.map(|e| e.kind()), Some(ErrorKind::InvalidInput));
        let long = format!("{}/x", "a".repeat(300));
        let too_long = crate::ImageReference::parse(&long).err().map(|e| e.kind());
        assert!(matches!(
            too_long,
            Some(ErrorKind::LimitExceeded | ErrorKind::InvalidInput)
        ));
    }
}
