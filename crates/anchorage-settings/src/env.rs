//! Every environment variable Anchorage reads, in one place. Library crates read none: the
//! values are captured here (see [`Environment`]) and passed down as options.

use std::ffi::OsString;
use std::path::PathBuf;

use secrecy::SecretString;

/// Path of the config file to read instead of `./anchorage.toml` and the user file.
pub const ANCHORAGE_CONFIG: &str = "ANCHORAGE_CONFIG";
/// Blob cache directory (`--cache-dir`).
pub const ANCHORAGE_CACHE_DIR: &str = "ANCHORAGE_CACHE_DIR";
/// Platform to pick from an index (`--platform`).
pub const ANCHORAGE_PLATFORM: &str = "ANCHORAGE_PLATFORM";
/// Comma-separated `HOST[:PORT]` list allowed plain HTTP / unverified TLS
/// (`--insecure-registry`).
pub const ANCHORAGE_INSECURE_REGISTRIES: &str = "ANCHORAGE_INSECURE_REGISTRIES";
/// User name for the source's registry (`--username`).
pub const ANCHORAGE_REGISTRY_USERNAME: &str = "ANCHORAGE_REGISTRY_USERNAME";
/// Password for `--username` (only ever taken from the environment, never a flag).
pub const ANCHORAGE_REGISTRY_PASSWORD: &str = "ANCHORAGE_REGISTRY_PASSWORD";
/// Data directory of the local stores (the vulnerability store is `<dir>/vulndb`).
pub const ANCHORAGE_DATA_DIR: &str = "ANCHORAGE_DATA_DIR";
/// Comma- or newline-separated feed sources for `feeds sync` (over `[feeds] sources`).
pub const ANCHORAGE_FEED_SOURCES: &str = "ANCHORAGE_FEED_SOURCES";
/// Database URL of the server (`sqlite:PATH` or `postgres://...`, over `[database] url`).
pub const ANCHORAGE_DATABASE_URL: &str = "ANCHORAGE_DATABASE_URL";
/// Log filter (`--log`).
pub const ANCHORAGE_LOG: &str = "ANCHORAGE_LOG";
/// Log line format: `text` (default) or `json` (one JSON object per line, with the span
/// fields: request id, image digest).
pub const ANCHORAGE_LOG_FORMAT: &str = "ANCHORAGE_LOG_FORMAT";
/// NVD API key, sent in the `apiKey` header of NVD API requests.
pub const NVD_API_KEY: &str = "NVD_API_KEY";
/// Docker's config directory (`config.json` inside).
pub const DOCKER_CONFIG: &str = "DOCKER_CONFIG";
/// Base of the per-user cache (`anchorage/blobs` inside).
pub const XDG_CACHE_HOME: &str = "XDG_CACHE_HOME";
/// Base of the per-user config (`anchorage/config.toml` inside).
pub const XDG_CONFIG_HOME: &str = "XDG_CONFIG_HOME";
/// Home directory (fallback for the XDG and Docker directories).
pub const HOME: &str = "HOME";
/// Search path for `docker-credential-<name>` helpers.
pub const PATH: &str = "PATH";
/// Project config file name, looked up in the current directory.
pub const PROJECT_FILE: &str = "anchorage.toml";

/// The environment values Anchorage uses, captured once (by [`crate::load`] from the process,
/// by [`crate::load_with`] from the given lookup, so tests stay hermetic).
#[derive(Clone, Default)]
pub struct Environment {
    /// `$ANCHORAGE_DATA_DIR`.
    pub data_dir: Option<PathBuf>,
    /// `$ANCHORAGE_FEED_SOURCES`, split on commas and newlines.
    pub feed_sources: Vec<String>,
    /// `$ANCHORAGE_DATABASE_URL`.
    pub database_url: Option<SecretString>,
    /// `$ANCHORAGE_REGISTRY_PASSWORD`.
    pub registry_password: Option<SecretString>,
    /// `$NVD_API_KEY`.
    pub nvd_api_key: Option<SecretString>,
    /// The per-user blob cache: `$XDG_CACHE_HOME/anchorage/blobs`, else
    /// `$HOME/.cache/anchorage/blobs`.
    pub user_cache_dir: Option<PathBuf>,
    /// The Docker config file: `$DOCKER_CONFIG/config.json`, else
    /// `$HOME/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
    /// `$PATH`, where credential helpers are looked up.
    pub helper_path: Option<OsString>,
}

impl std::fmt::Debug for Environment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redact = |s: &Option<SecretString>| s.as_ref().map(|_| "[redacted]");
        f.debug_struct("Environment")
            .field("data_dir", &self.data_dir)
            .field("feed_sources", &self.feed_sources)
            .field("database_url", &redact(&self.database_url))
            .field("registry_password", &redact(&self.registry_password))
            .field("nvd_api_key", &redact(&self.nvd_api_key))
            .field("user_cache_dir", &self.user_cache_dir)
            .field("docker_config", &self.docker_config)
            .field("helper_path", &self.helper_path)
            .finish()
    }
}

impl Environment {
    /// Captures the values from `env` (empty values count as unset).
    pub fn capture(env: &dyn Fn(&str) -> Option<OsString>) -> Self {
        let var = |k: &str| env(k).filter(|v| !v.is_empty());
        let text = |k: &str| var(k).and_then(|v| v.into_string().ok());
        let secret = |k: &str| text(k).map(SecretString::from);
        let home = var(HOME).map(PathBuf::from);
        Self {
            data_dir: var(ANCHORAGE_DATA_DIR).map(PathBuf::from),
            feed_sources: text(ANCHORAGE_FEED_SOURCES)
                .map(|v| {
                    v.split([',', '\n'])
                        .map(str::trim)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default(),
            database_url: secret(ANCHORAGE_DATABASE_URL),
            registry_password: secret(ANCHORAGE_REGISTRY_PASSWORD),
            nvd_api_key: secret(NVD_API_KEY),
            user_cache_dir: var(XDG_CACHE_HOME)
                .map(PathBuf::from)
                .or_else(|| home.as_ref().map(|h| h.join(".cache")))
                .map(|d| d.join("anchorage").join("blobs")),
            docker_config: var(DOCKER_CONFIG)
                .map(|d| PathBuf::from(d).join("config.json"))
                .or_else(|| home.as_ref().map(|h| h.join(".docker").join("config.json"))),
            helper_path: var(PATH),
        }
    }

    /// Captures the process environment.
    pub fn from_process() -> Self {
        Self::capture(&|k| std::env::var_os(k))
    }
}
