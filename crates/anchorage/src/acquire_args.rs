//! Command-line flags shared by every command that acquires an image (`inspect`, `sbom`,
//! `scan`), resolved with their environment fallbacks over the config files
//! (CLI > env > project file > user file > defaults; see `anchorage-settings`), and the
//! [`Engine`] built from them.

use std::path::{Path, PathBuf};

use anchorage_engine::{AnalyzeSettings, Engine, EngineOptions};
use anchorage_image::{RegistryCredential, Source};
use anchorage_settings::{
    ANCHORAGE_CACHE_DIR, ANCHORAGE_CONFIG, ANCHORAGE_INSECURE_REGISTRIES, ANCHORAGE_PLATFORM,
    ANCHORAGE_REGISTRY_PASSWORD, ANCHORAGE_REGISTRY_USERNAME, AcquireOverrides, Settings,
};
use anchorage_types::Platform;
use anyhow::Context as _;

/// How to reach registries and where to cache blobs (`#[command(flatten)]` into a command).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct AcquireArgs {
    /// Platform to pick from a multi-platform index (`os/arch[/variant]`; default linux/amd64).
    #[arg(long, env = ANCHORAGE_PLATFORM)]
    pub(crate) platform: Option<Platform>,
    /// Registry (`HOST[:PORT]`) that may be reached over plain HTTP or unverified TLS.
    /// Repeatable; added to the config file's `insecure_registries`.
    #[arg(
        long = "insecure-registry",
        value_name = "HOST[:PORT]",
        env = ANCHORAGE_INSECURE_REGISTRIES,
        value_delimiter = ','
    )]
    pub(crate) insecure_registries: Vec<String>,
    /// Blob cache directory (default `$XDG_CACHE_HOME/anchorage/blobs`).
    #[arg(long, value_name = "DIR", env = ANCHORAGE_CACHE_DIR)]
    pub(crate) cache_dir: Option<PathBuf>,
    /// Config file to read instead of `./anchorage.toml` and
    /// `$XDG_CONFIG_HOME/anchorage/config.toml`.
    #[arg(long, value_name = "FILE", env = ANCHORAGE_CONFIG)]
    pub(crate) config: Option<PathBuf>,
    /// User name for the source's registry (the password comes from
    /// `ANCHORAGE_REGISTRY_PASSWORD`). Without it, the config file's `[[registries]]` and the
    /// Docker config file are used.
    #[arg(long, env = ANCHORAGE_REGISTRY_USERNAME)]
    pub(crate) username: Option<String>,
    /// Do not read credentials from the Docker config file.
    #[arg(long)]
    pub(crate) no_docker_config: bool,
}

impl AcquireArgs {
    /// The settings files and analysis settings for `source`: acquisition options from these
    /// flags (or their environment variables) over the config files over the defaults, and
    /// the config files' squash limits. `source` names the registry that `--username`
    /// applies to.
    pub(crate) fn resolve(&self, source: &str) -> anyhow::Result<(Settings, AnalyzeSettings)> {
        let settings = anchorage_settings::load(self.config.as_deref())?;
        let mut overrides = AcquireOverrides {
            cache_dir: self.cache_dir.clone(),
            platform: self.platform.clone(),
            insecure_registries: self.insecure_registries.clone(),
            credentials: Vec::new(),
            no_docker_config: self.no_docker_config,
        };
        if let Some(username) = &self.username {
            let password = settings.env.registry_password.clone().with_context(|| {
                format!("--username needs the password in {ANCHORAGE_REGISTRY_PASSWORD}")
            })?;
            if let Ok(Source::Registry(r)) = Source::parse(source) {
                overrides.credentials.push(RegistryCredential {
                    registry: r.registry().to_string(),
                    username: username.clone(),
                    password,
                });
            }
        }
        let mut resolved = AnalyzeSettings {
            acquire: settings.acquire_options(&overrides),
            ..AnalyzeSettings::default()
        };
        resolved.squash.limits = settings.squash_limits();
        Ok((settings, resolved))
    }
}

/// Feed sync options from the settings: `[feeds]` limits and `$NVD_API_KEY`.
pub(crate) fn sync_options(settings: &Settings) -> anchorage_vulndb::SyncOptions {
    let feeds = settings.feeds();
    let mut sync = anchorage_vulndb::SyncOptions {
        nvd_api_key: settings.env.nvd_api_key.clone(),
        ..anchorage_vulndb::SyncOptions::default()
    };
    if let Some(n) = feeds.max_record_bytes {
        sync.limits.max_record_bytes = n;
    }
    if let Some(n) = feeds.max_document_bytes {
        sync.limits.max_document_bytes = n;
    }
    if let Some(n) = feeds.http_timeout_secs {
        sync.limits.http_timeout_secs = n;
    }
    sync
}

/// The engine for one command: analysis settings, the vulnerability store in `db_dir` (else
/// the settings' data directory), the feed options of the settings.
pub(crate) fn engine(
    settings: &Settings,
    analysis: AnalyzeSettings,
    db_dir: Option<&Path>,
) -> anyhow::Result<Engine> {
    engine_with(settings, analysis, db_dir, sync_options(settings))
}

/// [`engine`] with explicit feed sync options.
pub(crate) fn engine_with(
    settings: &Settings,
    analysis: AnalyzeSettings,
    db_dir: Option<&Path>,
    sync: anchorage_vulndb::SyncOptions,
) -> anyhow::Result<Engine> {
    Ok(Engine::new(EngineOptions {
        analysis,
        vulndb_dir: settings.vulndb_dir(db_dir),
        sync,
    })?)
}
