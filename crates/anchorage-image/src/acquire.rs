//! What acquiring an image produces: verified blobs on disk plus the manifest and config.
//! Sources (registry, archives, OCI layouts) produce an [`AcquiredImage`]; squashing consumes
//! its [`LayerBlob`]s.

use anchorage_types::ErrorKind;
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
    /// Read credentials from `$DOCKER_CONFIG/config.json` (else `~/.docker/config.json`):
    /// `auths` entries, the `credsStore` and `credHelpers` helper programs.
    pub use_docker_config: bool,
    /// Docker config file to read instead of the default location.
    pub docker_config_path: Option<PathBuf>,
    /// Search path (`PATH` syntax) for `docker-credential-<name>` helpers; `None` means the
    /// process `PATH`.
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
            .finish_non_exhaustive()
    }
}

impl Default for AcquireOptions {
    fn default() -> Self {
        Self {
            cache_dir: default_cache_dir(),
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
            progress: None,
        }
    }
}

impl AcquireOptions {
    /// The platform to select (`linux/amd64` unless set).
    pub fn wanted_platform(&self) -> Platform {
        self.platform.clone().unwrap_or_default()
    }

    pub(crate) fn report(&self, event: ProgressEvent) {
        if let Some(p) = &self.progress {
            p(&event);
        }
    }
}

/// `$XDG_CACHE_HOME/anchorage/blobs`, else `~/.cache/anchorage/blobs`, else a directory under
/// the system temp dir.
pub fn default_cache_dir() -> PathBuf {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| PathBuf::from(h).join(".cache"))
        })
        .unwrap_or_else(std::env::temp_dir);
    base.join("anchorage").join("blobs")
}

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
