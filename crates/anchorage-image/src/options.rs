//! How to acquire an image: options, credentials and progress events. A leaf module shared by
//! the sources (registry, archives, OCI layouts) and the acquisition entry points.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anchorage_types::{Digest, Platform};
use secrecy::SecretString;

/// Default limit on a single blob (layer or config), 8 GiB.
pub const DEFAULT_MAX_BLOB_SIZE: u64 = 8 << 30;
/// Default number of layer blobs downloaded at the same time.
pub const DEFAULT_PARALLEL_DOWNLOADS: usize = 3;
/// Default limit on a manifest, index or config document, 4 MiB.
pub const DEFAULT_MAX_MANIFEST_SIZE: u64 = 4 << 20;
/// Default limit on a token endpoint's response, 1 MiB (registry tokens are a few KiB).
pub const DEFAULT_MAX_TOKEN_RESPONSE_SIZE: u64 = 1 << 20;

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
    /// Largest accepted token endpoint response.
    pub max_token_response_size: u64,
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
            max_token_response_size: DEFAULT_MAX_TOKEN_RESPONSE_SIZE,
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

/// Per-call choices of one acquisition; unset fields fall back to the [`AcquireOptions`] the
/// `Acquirer` was built with.
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
