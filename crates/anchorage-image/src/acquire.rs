//! What acquiring an image produces: verified blobs on disk plus the manifest and config.
//! Sources (registry, archives, OCI layouts) produce an [`AcquiredImage`]; squashing consumes
//! its [`LayerBlob`]s.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anchorage_types::{Digest, Platform};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use crate::cache::{BlobCache, CacheError};
use crate::registry::RegistryClient;
use crate::source::{Source, SourceError};

/// An image whose manifest, config and layer blobs are available locally and verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquiredImage {
    /// Source scheme: `registry`, `docker-archive`, `oci-archive`, `oci-dir`, `dir`.
    pub scheme: String,
    /// The source string as the user gave it.
    pub input: String,
    /// Normalized reference, when the source has one (`docker.io/library/alpine:3.20`).
    pub reference: Option<String>,
    /// Digest of the image manifest (absent for `dir:`).
    pub manifest_digest: Option<Digest>,
    /// Digest of the index the manifest was selected from, if any.
    pub index_digest: Option<Digest>,
    /// Raw manifest JSON.
    pub manifest_json: Option<String>,
    /// Digest of the config blob; its hex is the image id.
    pub config_digest: Option<Digest>,
    /// Raw config JSON.
    pub config_json: Option<String>,
    /// Platform of the selected manifest (from the config when present).
    pub platform: Platform,
    /// Layers bottom first.
    pub layers: Vec<LayerBlob>,
    /// For `dir:` sources: the host directory that is the image root.
    pub root_dir: Option<PathBuf>,
}

/// One layer blob, stored on local disk and verified against its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerBlob {
    /// Blob digest from the manifest (compressed form), when known.
    pub digest: Option<Digest>,
    /// Uncompressed digest from the config's `rootfs.diff_ids`, when known.
    pub diff_id: Option<Digest>,
    /// Blob size in bytes.
    pub size: u64,
    /// Media type from the manifest (compression is detected from content, not from this).
    pub media_type: String,
    /// Local file holding the blob bytes (inside the blob cache or the archive's scratch copy).
    pub path: PathBuf,
}

// ---------------------------------------------------------------------------------------------
// Acquisition: options, errors and the entry points.

/// Default limit on a single blob (layer or config), 8 GiB.
pub const DEFAULT_MAX_BLOB_SIZE: u64 = 8 << 30;
/// Default number of layer blobs downloaded at the same time.
pub const DEFAULT_PARALLEL_DOWNLOADS: usize = 3;
/// Default limit on a manifest, index or config document, 4 MiB.
pub const DEFAULT_MAX_MANIFEST_SIZE: u64 = 4 << 20;

/// Credentials for one registry. The password (or token) is held in a [`SecretString`].
#[derive(Clone)]
pub struct RegistryCredential {
    /// Registry host with optional port (`docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// User name.
    pub username: String,
    /// Password or personal access token.
    pub password: SecretString,
}

impl std::fmt::Debug for RegistryCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryCredential")
            .field("registry", &self.registry)
            .field("username", &self.username)
            .field("password", &"[redacted]")
            .finish()
    }
}

/// A progress notification while blobs are downloaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProgressEvent {
    /// A blob download starts (`size` from the manifest).
    BlobStarted {
        /// Blob digest.
        digest: Digest,
        /// Expected size in bytes.
        size: u64,
    },
    /// `bytes` more bytes of the current blob arrived.
    BlobBytes {
        /// Blob digest.
        digest: Digest,
        /// Bytes received since the last event.
        bytes: u64,
    },
    /// A blob was verified and stored (also sent for blobs already in the cache).
    BlobDone {
        /// Blob digest.
        digest: Digest,
        /// Whether it came from the cache without a download.
        cached: bool,
    },
}

/// Receives [`ProgressEvent`]s (e.g. to drive a progress bar).
pub type ProgressCallback = Arc<dyn Fn(&ProgressEvent) + Send + Sync>;

/// How to acquire an image.
#[derive(Clone)]
pub struct AcquireOptions {
    /// Content-addressed blob cache directory.
    pub cache_dir: PathBuf,
    /// Platform to pick from an index; `None` means `linux/amd64`.
    pub platform: Option<Platform>,
    /// Registries (`HOST[:PORT]`) that may be reached over plain HTTP or unverified TLS.
    pub insecure_registries: Vec<String>,
    /// Explicit credentials; they win over the Docker config file.
    pub credentials: Vec<RegistryCredential>,
    /// Read credentials from the Docker config file at `docker_config_path`: `auths`
    /// entries, the `credsStore` and `credHelpers` helper programs.
    pub use_docker_config: bool,
    /// The Docker config file (`anchorage-settings` resolves `$DOCKER_CONFIG/config.json`,
    /// else `~/.docker/config.json`); `None` means no Docker config is read.
    pub docker_config_path: Option<PathBuf>,
    /// Search path (`PATH` syntax) for `docker-credential-<name>` helpers
    /// (`anchorage-settings` passes the process `PATH`); `None` means no helper is found.
    pub credential_helper_path: Option<std::ffi::OsString>,
    /// Longest time a credential helper may take to answer.
    pub credential_helper_timeout: Duration,
    /// Retries after a 429, a 5xx or a connection error.
    pub retries: u32,
    /// First backoff delay (doubled at each retry).
    pub retry_base_delay: Duration,
    /// Longest backoff delay, also the cap on `Retry-After`.
    pub retry_max_delay: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    /// Longest wait for the next bytes of a response.
    pub read_timeout: Duration,
    /// Largest accepted blob.
    pub max_blob_size: u64,
    /// Largest accepted manifest, index or config.
    pub max_manifest_size: u64,
    /// Most layer blobs downloaded from a registry at the same time (at least 1).
    pub max_parallel_downloads: usize,
    /// Progress receiver.
    pub progress: Option<ProgressCallback>,
}

impl std::fmt::Debug for AcquireOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcquireOptions")
            .field("cache_dir", &self.cache_dir)
            .field("platform", &self.platform)
            .field("insecure_registries", &self.insecure_registries)
            .field("credentials", &self.credentials)
            .field("use_docker_config", &self.use_docker_config)
            .field("docker_config_path", &self.docker_config_path)
            .field("credential_helper_path", &self.credential_helper_path)
            .field("retries", &self.retries)
            .field("max_blob_size", &self.max_blob_size)
            .field("max_parallel_downloads", &self.max_parallel_downloads)
            .finish_non_exhaustive()
    }
}

impl Default for AcquireOptions {
    fn default() -> Self {
        Self {
            cache_dir: fallback_cache_dir(),
            platform: None,
            insecure_registries: Vec::new(),
            credentials: Vec::new(),
            use_docker_config: true,
            docker_config_path: None,
            credential_helper_path: None,
            credential_helper_timeout: Duration::from_secs(30),
            retries: 4,
            retry_base_delay: Duration::from_millis(500),
            retry_max_delay: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
            max_blob_size: DEFAULT_MAX_BLOB_SIZE,
            max_manifest_size: DEFAULT_MAX_MANIFEST_SIZE,
            max_parallel_downloads: DEFAULT_PARALLEL_DOWNLOADS,
            progress: None,
        }
    }
}

impl AcquireOptions {
    /// The platform to select (`linux/amd64` unless set).
    pub fn wanted_platform(&self) -> Platform {
        self.platform.clone().unwrap_or_default()
    }
}

/// The blob cache used when none is configured: `anchorage/blobs` under the system temp
/// directory. The per-user default (`$XDG_CACHE_HOME/anchorage/blobs`) is chosen by
/// `anchorage-settings`, which is where the environment is read.
pub fn fallback_cache_dir() -> PathBuf {
    std::env::temp_dir().join("anchorage").join("blobs")
}

/// Why acquiring an image failed. Messages name the image, registry, repository, digest or path.
#[derive(Debug, thiserror::Error)]
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

/// Per-call choices of one acquisition; unset fields fall back to the [`AcquireOptions`] the
/// [`Acquirer`] was built with.
#[derive(Clone, Default)]
pub struct AcquireRequest {
    /// Platform to pick from an index.
    pub platform: Option<Platform>,
    /// Progress receiver for this acquisition.
    pub progress: Option<ProgressCallback>,
}

impl std::fmt::Debug for AcquireRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AcquireRequest")
            .field("platform", &self.platform)
            .field("progress", &self.progress.is_some())
            .finish()
    }
}

impl AcquireRequest {
    pub(crate) fn report(&self, event: ProgressEvent) {
        if let Some(p) = &self.progress {
            p(&event);
        }
    }
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
