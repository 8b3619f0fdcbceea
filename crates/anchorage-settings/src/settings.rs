//! [`Settings`]: the config files merged (project over user), and their conversion into
//! [`AcquireOptions`] under CLI/env overrides.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anchorage_image::{AcquireOptions, Limits, RegistryCredential};
use anchorage_types::Platform;

use secrecy::{ExposeSecret as _, SecretString};

use crate::env::{ANCHORAGE_CONFIG, Environment, HOME, PROJECT_FILE, XDG_CONFIG_HOME};
use crate::error::SettingsError;
use crate::file::{Layer, read_layer};
use crate::roles::{
    DEFAULT_LISTEN, DatabaseSettings, FeedSettings, RoleLayer, ScanSettings, ServerSettings,
    WebhookSettings, WorkerSettings, check_database_url,
};

pub use crate::sections::{LimitSettings, RegistrySettings};

/// Settings from the config files (project over user), before CLI/env overrides.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// The files that were read, highest precedence first.
    pub files: Vec<PathBuf>,
    /// Blob cache directory.
    pub cache_dir: Option<PathBuf>,
    /// Data directory of the local stores.
    pub data_dir: Option<PathBuf>,
    /// Platform to pick from an index.
    pub platform: Option<Platform>,
    /// Whether to read the Docker config file (default yes).
    pub docker_config: Option<bool>,
    /// `insecure_registries` of all files (higher precedence first).
    pub insecure_registries: Vec<String>,
    /// `[[registries]]` of all files; for one host the first entry wins.
    pub registries: Vec<RegistrySettings>,
    /// `[limits]`.
    pub limits: LimitSettings,
    /// `[scan]`: defaults of `anchorage scan`.
    pub scan: ScanSettings,
    /// `[malware.clamav]`: the ClamAV malware scan of analyses (off unless `enabled`).
    pub clamav: crate::malware::ClamavSettings,
    /// The environment values, captured when the settings were loaded.
    pub env: Environment,
    /// The other role sections, layered; resolved by [`Settings::server`] etc.
    roles: RoleLayer,
}

/// Values from the command line (or its environment fallbacks), which win over the files.
#[derive(Debug, Clone, Default)]
pub struct AcquireOverrides {
    /// Blob cache directory.
    pub cache_dir: Option<PathBuf>,
    /// Platform to pick from an index.
    pub platform: Option<Platform>,
    /// More `HOST[:PORT]`s allowed plain HTTP or unverified TLS (added to the files' list).
    pub insecure_registries: Vec<String>,
    /// Credentials that win over `[[registries]]` and the Docker config.
    pub credentials: Vec<RegistryCredential>,
    /// Do not read the Docker config file, whatever the files say.
    pub no_docker_config: bool,
}

/// Which config files to read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPaths {
    /// `--config` or `$ANCHORAGE_CONFIG`: when set, the only file read, and it must exist.
    pub explicit: Option<PathBuf>,
    /// `./anchorage.toml` (read when present).
    pub project: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME/anchorage/config.toml`, else `~/.config/anchorage/config.toml` (read
    /// when present).
    pub user: Option<PathBuf>,
}

impl ConfigPaths {
    /// The paths for this process: `explicit`, else `$ANCHORAGE_CONFIG`; the project file in
    /// the current directory; the user file under `$XDG_CONFIG_HOME` or `$HOME/.config`.
    pub fn from_env(explicit: Option<&Path>) -> Self {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
        let explicit = explicit
            .map(Path::to_path_buf)
            .or_else(|| var(ANCHORAGE_CONFIG).map(PathBuf::from));
        let user = var(XDG_CONFIG_HOME)
            .map(PathBuf::from)
            .or_else(|| var(HOME).map(|h| PathBuf::from(h).join(".config")))
            .map(|d| d.join("anchorage").join("config.toml"));
        Self {
            explicit,
            project: Some(PathBuf::from(PROJECT_FILE)),
            user,
        }
    }
}

/// Loads the settings of this process (see [`ConfigPaths::from_env`]); `password_env` values
/// come from the process environment.
pub fn load(explicit_path: Option<&Path>) -> Result<Settings, SettingsError> {
    load_with(&ConfigPaths::from_env(explicit_path), &|k| {
        std::env::var_os(k)
    })
}

/// Loads settings from `paths`, looking `password_env` variables up with `env`.
pub fn load_with(
    paths: &ConfigPaths,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Settings, SettingsError> {
    let mut layers: Vec<(PathBuf, Layer)> = Vec::new();
    if let Some(p) = &paths.explicit {
        layers.push((p.clone(), read_layer(p, env)?));
    } else {
        for p in [&paths.project, &paths.user].into_iter().flatten() {
            // A missing project or user file is normal; a directory or unreadable file is not.
            if std::fs::symlink_metadata(p).is_ok() {
                layers.push((p.clone(), read_layer(p, env)?));
            }
        }
    }
    let mut settings = Settings {
        env: Environment::capture(env),
        ..Settings::default()
    };
    // Highest precedence first: a value already set is kept; lists are concatenated.
    for (path, layer) in layers {
        settings.files.push(path);
        settings.cache_dir = settings.cache_dir.or(layer.cache_dir);
        settings.data_dir = settings.data_dir.or(layer.data_dir);
        settings.platform = settings.platform.or(layer.platform);
        settings.docker_config = settings.docker_config.or(layer.docker_config);
        settings
            .insecure_registries
            .extend(layer.insecure_registries);
        settings.registries.extend(layer.registries);
        settings.limits = std::mem::take(&mut settings.limits).combine(layer.limits);
        settings.roles = std::mem::take(&mut settings.roles).combine(layer.roles);
        settings.clamav = std::mem::take(&mut settings.clamav).combine(layer.clamav);
    }
    settings.scan = settings.roles.scan.clone();
    if let Some(url) = &settings.env.database_url {
        check_database_url(url.expose_secret()).map_err(|reason| SettingsError::Invalid {
            path: PathBuf::from(format!("${}", crate::env::ANCHORAGE_DATABASE_URL)),
            key: "database.url".into(),
            reason,
        })?;
    }
    Ok(settings)
}

impl Settings {
    /// The acquisition options: `overrides` first, then these settings, then the defaults.
    /// Insecure registries are the union of the overrides, `insecure_registries` and the
    /// `[[registries]]` marked insecure; credentials are the overrides' then the files' (the
    /// first for a host wins), then the Docker config unless disabled.
    pub fn acquire_options(&self, overrides: &AcquireOverrides) -> AcquireOptions {
        let defaults = AcquireOptions::default();
        let mut insecure: Vec<String> = Vec::new();
        let candidates = overrides
            .insecure_registries
            .iter()
            .chain(&self.insecure_registries)
            .cloned()
            .chain(
                self.registries
                    .iter()
                    .filter(|r| r.insecure)
                    .map(|r| r.host.clone()),
            );
        for host in candidates {
            if !insecure.contains(&host) {
                insecure.push(host);
            }
        }
        let mut credentials = overrides.credentials.clone();
        for r in &self.registries {
            if let (Some(username), Some(password)) = (&r.username, &r.password)
                && !credentials.iter().any(|c| c.registry == r.host)
            {
                credentials.push(RegistryCredential {
                    registry: r.host.clone(),
                    username: username.clone(),
                    password: password.clone(),
                });
            }
        }
        AcquireOptions {
            cache_dir: overrides
                .cache_dir
                .clone()
                .or_else(|| self.cache_dir.clone())
                .or_else(|| self.env.user_cache_dir.clone())
                .unwrap_or(defaults.cache_dir.clone()),
            docker_config_path: self.env.docker_config.clone(),
            credential_helper_path: self.env.helper_path.clone(),
            platform: overrides.platform.clone().or_else(|| self.platform.clone()),
            insecure_registries: insecure,
            credentials,
            use_docker_config: !overrides.no_docker_config && self.docker_config.unwrap_or(true),
            max_blob_size: self.limits.max_blob_size.unwrap_or(defaults.max_blob_size),
            max_manifest_size: self
                .limits
                .max_manifest_size
                .unwrap_or(defaults.max_manifest_size),
            max_parallel_downloads: self
                .limits
                .max_parallel_downloads
                .unwrap_or(defaults.max_parallel_downloads),
            ..defaults
        }
    }

    /// Squash limits: `[limits]` keys over [`Limits::default`].
    pub fn squash_limits(&self) -> Limits {
        let mut limits = Limits::default();
        let l = &self.limits;
        let set = |target: &mut u64, v: Option<u64>| {
            if let Some(v) = v {
                *target = v;
            }
        };
        set(
            &mut limits.max_layer_decompressed_bytes,
            l.max_layer_decompressed_bytes,
        );
        set(
            &mut limits.max_total_decompressed_bytes,
            l.max_total_decompressed_bytes,
        );
        set(&mut limits.max_entries, l.max_entries);
        set(&mut limits.max_file_size, l.max_file_size);
        set(&mut limits.max_pax_header_bytes, l.max_pax_header_bytes);
        set(&mut limits.max_compression_ratio, l.max_compression_ratio);
        set(
            &mut limits.compression_ratio_grace_bytes,
            l.compression_ratio_grace_bytes,
        );
        if let Some(v) = l.max_path_len {
            limits.max_path_len = v;
        }
        if let Some(v) = l.max_layers {
            limits.max_layers = v;
        }
        limits
    }
}

/// Default data directory, relative to the working directory.
pub const DEFAULT_DATA_DIR: &str = "anchorage-data";

impl Settings {
    /// The data directory: `$ANCHORAGE_DATA_DIR`, else the files' `data_dir`, else
    /// `./anchorage-data`.
    pub fn data_dir(&self) -> PathBuf {
        self.env
            .data_dir
            .clone()
            .or_else(|| self.data_dir.clone())
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR))
    }

    /// The vulnerability store directory: `flag` (`--db-dir`), else `<data_dir>/vulndb`.
    pub fn vulndb_dir(&self, flag: Option<&Path>) -> PathBuf {
        flag.map(Path::to_path_buf)
            .unwrap_or_else(|| self.data_dir().join("vulndb"))
    }

    /// `[server]` with its defaults.
    pub fn server(&self) -> ServerSettings {
        ServerSettings {
            listen: self.roles.listen.unwrap_or_else(|| {
                DEFAULT_LISTEN
                    .parse()
                    .unwrap_or(std::net::SocketAddr::from(([127, 0, 0, 1], 8228)))
            }),
            public_url: self.roles.public_url.clone(),
            max_request_bytes: self.roles.max_request_bytes.unwrap_or(64 << 20),
        }
    }

    /// `[worker]` with its defaults.
    pub fn worker(&self) -> WorkerSettings {
        WorkerSettings {
            count: self.roles.worker_count.unwrap_or(2),
            poll_interval_secs: self.roles.poll_interval_secs.unwrap_or(5),
            job_timeout_secs: self.roles.job_timeout_secs.unwrap_or(3600),
        }
    }

    /// `[database]`: `$ANCHORAGE_DATABASE_URL`, else `url`, else
    /// `sqlite:<data_dir>/anchorage.sqlite`.
    pub fn database(&self) -> DatabaseSettings {
        let url = self
            .env
            .database_url
            .clone()
            .or_else(|| self.roles.database_url.clone())
            .unwrap_or_else(|| {
                SecretString::from(format!(
                    "sqlite:{}",
                    self.data_dir().join("anchorage.sqlite").display()
                ))
            });
        DatabaseSettings {
            url,
            max_connections: self.roles.max_connections.unwrap_or(8),
        }
    }

    /// `[feeds]`: sources from `$ANCHORAGE_FEED_SOURCES` when set, else the files'.
    pub fn feeds(&self) -> FeedSettings {
        let mut f = self.roles.feeds.clone();
        if !self.env.feed_sources.is_empty() {
            f.sources = self.env.feed_sources.clone();
        }
        f.sync_interval_secs = self.roles.sync_interval_secs.unwrap_or(21_600);
        f
    }

    /// `[webhooks]` with its defaults.
    pub fn webhooks(&self) -> WebhookSettings {
        WebhookSettings {
            url: self.roles.webhook_url.clone(),
            secret: self.roles.webhook_secret.clone(),
            timeout_secs: self.roles.webhook_timeout_secs.unwrap_or(10),
        }
    }
}
