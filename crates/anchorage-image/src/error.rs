//! Why acquiring an image failed. A leaf module shared by every source.

use std::path::PathBuf;

use crate::cache::CacheError;
use crate::source::SourceError;

/// Why acquiring an image failed. Messages name the image, registry, repository, digest or path.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AcquireError {
    /// The source string is invalid.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The blob cache failed.
    #[error(transparent)]
    Cache(#[from] CacheError),
    /// A blob of an image failed verification or could not be stored.
    #[error("image {image}: {source}")]
    Blob {
        /// The image.
        image: String,
        /// What went wrong.
        #[source]
        source: CacheError,
    },
    /// A local file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A manifest, index or config is malformed.
    #[error("image {image}: {reason}")]
    InvalidManifest {
        /// The image.
        image: String,
        /// What is wrong.
        reason: String,
    },
    /// The image uses Docker schema 1 manifests.
    #[error(
        "image {image}: Docker image manifest schema 1 is unsupported (re-push the image with a current client to get schema 2 or OCI)"
    )]
    UnsupportedSchema1 {
        /// The image.
        image: String,
    },
    /// No entry of an index matches the wanted platform.
    #[error("image {image}: no manifest for platform {wanted}; available platforms: {available}")]
    NoMatchingPlatform {
        /// The image.
        image: String,
        /// The platform asked for.
        wanted: String,
        /// The platforms the index offers.
        available: String,
    },
    /// The registry does not have the image, tag or blob.
    #[error("registry {registry}: {what} not found (HTTP 404)")]
    NotFound {
        /// Registry host.
        registry: String,
        /// Repository, tag or blob.
        what: String,
    },
    /// The registry refused our credentials (or we had none).
    #[error("registry {registry}: access to repository {repository} denied: {reason}")]
    Unauthorized {
        /// Registry host.
        registry: String,
        /// Repository.
        repository: String,
        /// Why.
        reason: String,
    },
    /// The registry answered with an unexpected status or could not be reached.
    #[error("registry {registry}: {reason}")]
    Registry {
        /// Registry host.
        registry: String,
        /// What happened.
        reason: String,
    },
    /// A docker-archive, oci-archive or OCI layout is malformed.
    #[error("{kind} {path}: {reason}")]
    Archive {
        /// `docker-archive`, `oci-archive`, `oci-dir`.
        kind: &'static str,
        /// The archive or directory.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The operation does not apply to this source.
    #[error("{0}")]
    Unsupported(String),
}
