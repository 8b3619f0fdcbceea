//! Acquisition entry points: a source string in, an [`AcquiredImage`] out. Each source lives in
//! its own module (`registry`, `archive`, `oci_layout`); the types they share live in the leaf
//! modules `acquired`, `options` and `error`.

use anchorage_types::ErrorKind;
use std::sync::Arc;

use crate::acquired::AcquiredImage;
use crate::cache::BlobCache;
use crate::error::AcquireError;
use crate::options::{AcquireOptions, AcquireRequest};
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

/// Acquires the image named by `source` (see [`Source`]) with a one-off [`Acquirer`]: fetches
/// or extracts its manifest, config and layers into the blob cache, verifying every digest.
/// Long-running callers build one [`Acquirer`] and reuse it (its registry client keeps tokens
/// and connections).
pub async fn acquire(
    source: &str,
    options: &AcquireOptions,
) -> Result<AcquiredImage, AcquireError> {
    Acquirer::new(options.clone())?
        .acquire(source, &AcquireRequest::default())
        .await
}

/// Lists the tags of a registry repository with a one-off registry client (`reference` is a
/// source string or bare reference; its tag/digest is ignored). Follows `Link` pagination.
pub async fn list_tags(
    reference: &str,
    options: &AcquireOptions,
) -> Result<Vec<String>, AcquireError> {
    RegistryClient::new(options)?.list_tags(reference).await
}

/// Acquires images from every kind of source. Built once (per process, or per server) from
/// [`AcquireOptions`]: it owns the long-lived [`RegistryClient`] (bearer-token cache, host
/// states, credentials, connection pools) and the blob cache, so tokens and blobs are reused
/// across acquisitions. Cheap to clone (shared state).
#[derive(Clone)]
pub struct Acquirer {
    registry: Arc<RegistryClient>,
    cache: BlobCache,
    options: AcquireOptions,
}

impl std::fmt::Debug for Acquirer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acquirer")
            .field("cache", &self.cache.root())
            .field("options", &self.options)
            .finish_non_exhaustive()
    }
}

impl Acquirer {
    /// Opens the blob cache and builds the registry client. Needs no async runtime.
    pub fn new(options: AcquireOptions) -> Result<Self, AcquireError> {
        let cache = BlobCache::open(&options.cache_dir)?;
        let registry = Arc::new(RegistryClient::new(&options)?);
        Ok(Self {
            registry,
            cache,
            options,
        })
    }

    /// The long-lived registry client (digest resolution, tag listing).
    pub fn registry(&self) -> &RegistryClient {
        &self.registry
    }

    /// The blob cache.
    pub fn cache(&self) -> &BlobCache {
        &self.cache
    }

    /// The options this acquirer was built with.
    pub fn options(&self) -> &AcquireOptions {
        &self.options
    }

    /// Acquires the image named by `source` (see [`Source`]): fetches or extracts its manifest,
    /// config and layers into the blob cache, verifying every digest. Archive and layout
    /// reading runs on blocking threads.
    pub async fn acquire(
        &self,
        source: &str,
        request: &AcquireRequest,
    ) -> Result<AcquiredImage, AcquireError> {
        let parsed = Source::parse(source)?;
        let cache = self.cache.clone();
        let mut options = self.options.clone();
        if let Some(p) = &request.platform {
            options.platform = Some(p.clone());
        }
        let request = AcquireRequest {
            platform: options.platform.clone(),
            progress: request
                .progress
                .clone()
                .or_else(|| options.progress.clone()),
        };
        let mut image = match &parsed {
            Source::Registry(reference) => self.registry.pull(reference, &cache, &request).await?,
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
                let path = path.clone();
                blocking(move || crate::archive::read_docker_archive(&path, &cache, &options))
                    .await?
            }
            Source::OciArchive(path, sel) => {
                let (path, sel) = (path.clone(), sel.clone());
                blocking(move || crate::oci_layout::read_oci_archive(&path, &sel, &cache, &options))
                    .await?
            }
            Source::OciDir(path, sel) => {
                let (path, sel) = (path.clone(), sel.clone());
                blocking(move || crate::oci_layout::read_oci_dir(&path, &sel, &cache, &options))
                    .await?
            }
        };
        image.scheme = parsed.scheme().to_string();
        image.input = source.to_string();
        Ok(image)
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, AcquireError> + Send + 'static,
) -> Result<T, AcquireError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| AcquireError::Unsupported(format!("archive reader task failed: {e}")))?
}
