//! Acquisition entry points: a source string in, an [`AcquiredImage`] out. Each source lives in
//! its own module (`registry`, `archive`, `oci_layout`); the types they share live in the leaf
//! modules `acquired`, `options` and `error`.

use anchorage_types::ErrorKind;
use std::path::PathBuf;

use crate::acquired::AcquiredImage;
use crate::cache::BlobCache;
use crate::error::AcquireError;
use crate::options::AcquireOptions;
use crate::registry::RegistryClient;
use crate::source::Source;

impl AcquireError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            AcquireError::Source(e) => e.kind(),
            AcquireError::Cache(e) | AcquireError::Blob { source: e, .. } => e.kind(),
            AcquireError::Io { source, .. } => ErrorKind::of_io(source),
            AcquireError::InvalidManifest { .. } => ErrorKind::Upstream,
            AcquireError::UnsupportedSchema1 { .. } | AcquireError::Unsupported(_) => {
                ErrorKind::Unsupported
            }
            AcquireError::NoMatchingPlatform { .. } | AcquireError::NotFound { .. } => {
                ErrorKind::NotFound
            }
            AcquireError::Unauthorized { .. } => ErrorKind::Unauthorized,
            AcquireError::Registry { .. } => ErrorKind::Upstream,
            AcquireError::Archive { .. } => ErrorKind::InvalidInput,
        }
    }
}

/// Acquires the image named by `source` (see [`Source`]): fetches or extracts its manifest,
/// config and layers into the blob cache, verifying every digest.
pub async fn acquire(
    source: &str,
    options: &AcquireOptions,
) -> Result<AcquiredImage, AcquireError> {
    let parsed = Source::parse(source)?;
    let cache = BlobCache::open(&options.cache_dir)?;
    let mut image = match &parsed {
        Source::Registry(reference) => {
            let client = RegistryClient::new(options)?;
            client.pull(reference, &cache).await?
        }
        Source::Dir(path) => {
            let meta = std::fs::metadata(path).map_err(|source| AcquireError::Io {
                path: path.clone(),
                source,
            })?;
            if !meta.is_dir() {
                return Err(AcquireError::Io {
                    path: path.clone(),
                    source: std::io::Error::other("not a directory"),
                });
            }
            AcquiredImage {
                scheme: String::new(),
                input: String::new(),
                reference: None,
                manifest_digest: None,
                index_digest: None,
                manifest_json: None,
                config_digest: None,
                config_json: None,
                platform: options.wanted_platform(),
                layers: Vec::new(),
                root_dir: Some(path.clone()),
            }
        }
        Source::DockerArchive(path) => {
            let (path, cache, options) = (path.clone(), cache.clone(), options.clone());
            blocking(move || crate::archive::read_docker_archive(&path, &cache, &options)).await?
        }
        Source::OciArchive(path, sel) => {
            let (path, sel, cache, options) =
                (path.clone(), sel.clone(), cache.clone(), options.clone());
            blocking(move || crate::oci_layout::read_oci_archive(&path, &sel, &cache, &options))
                .await?
        }
        Source::OciDir(path, sel) => {
            let (path, sel, cache, options) =
                (path.clone(), sel.clone(), cache.clone(), options.clone());
            blocking(move || crate::oci_layout::read_oci_dir(&path, &sel, &cache, &options)).await?
        }
    };
    image.scheme = parsed.scheme().to_string();
    image.input = source.to_string();
    Ok(image)
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AcquireError> + Send + 'static,
) -> Result<T, AcquireError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AcquireError::Unsupported(format!("archive reader task failed: {e}")))?
}

/// [`acquire`] on a new current-thread tokio runtime (for synchronous callers).
pub fn acquire_blocking(
    source: &str,
    options: &AcquireOptions,
) -> Result<AcquiredImage, AcquireError> {
    runtime()?.block_on(acquire(source, options))
}

/// Lists the tags of a registry repository (`reference` is a source string or bare reference;
/// its tag/digest is ignored). Follows `Link` pagination.
pub async fn list_tags(
    reference: &str,
    options: &AcquireOptions,
) -> Result<Vec<String>, AcquireError> {
    match Source::parse(reference)? {
        Source::Registry(r) => RegistryClient::new(options)?.list_tags(&r).await,
        other => Err(AcquireError::Unsupported(format!(
            "tag listing needs a registry reference, not a {} source",
            other.scheme()
        ))),
    }
}

/// [`list_tags`] on a new current-thread tokio runtime.
pub fn list_tags_blocking(
    reference: &str,
    options: &AcquireOptions,
) -> Result<Vec<String>, AcquireError> {
    runtime()?.block_on(list_tags(reference, options))
}

fn runtime() -> Result<tokio::runtime::Runtime, AcquireError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| AcquireError::Io {
            path: PathBuf::from("<tokio runtime>"),
            source,
        })
}
