//! `anchorage serve`: the Anchore-style YAML config file (`--config anchorage.yaml`) and the
//! service's environment variables, resolved into [`ServiceSettings`].
//!
//! The YAML keeps Anchore Engine's key names where the concept exists there (§7.2 of the
//! contract), so an Anchore operator recognises it:
//!
//! ```yaml
//! default_admin_password: ${ANCHORAGE_ADMIN_PASSWORD}   # or a literal
//! default_admin_email: admin@example.com
//! credentials:
//!   database:
//!     db_connect: postgresql://anchorage@127.0.0.1:5432/anchorage
//!     db_pool_size: 30
//! services:
//!   apiext:
//!     listen: 127.0.0.1
//!     port: 8228
//!     max_request_bytes: 4194304        # ours: largest request body
//!   analyzer:
//!     max_threads: 2                    # analysis workers in this process
//!     max_attempts: 3                   # ours: attempts per analysis job
//!     job_timeout_seconds: 3600         # ours
//!     lease_seconds: 60                 # ours: job lease, renewed every third of it
//!     shutdown_timeout_seconds: 30      # ours: SIGTERM grace for running analyses
//!   heartbeat_seconds: 5                # ours: `services` table heartbeat interval
//! metrics:
//!   enabled: true                       # GET /metrics (Prometheus)
//!   auth_disabled: false                # true: /metrics without basic auth
//! ```
//!
//! `${VAR}` in a value is replaced by that environment variable, as in Anchore's shipped file.

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use crate::SettingsError;

/// Admin password of the bootstrap `admin` user (over `default_admin_password`).
pub const ANCHORAGE_ADMIN_PASSWORD: &str = "ANCHORAGE_ADMIN_PASSWORD";
/// Key that encrypts stored registry passwords: 64 hex digits (over the key file
/// `<data-dir>/secret.key`, which is created when missing).
pub const ANCHORAGE_SECRET_KEY: &str = "ANCHORAGE_SECRET_KEY";

#[derive(Deserialize, Default)]
struct RawService {
    default_admin_password: Option<String>,
    default_admin_email: Option<String>,
    #[serde(default)]
    credentials: RawCredentials,
    #[serde(default)]
    services: RawServices,
    webhooks: Option<crate::watch::RawWebhooks>,
    cycle_timers: Option<std::collections::BTreeMap<String, u64>>,
    #[serde(default)]
    metrics: RawMetrics,
    #[serde(flatten)]
    _other: serde_yaml_ng::Mapping,
}

#[derive(Deserialize, Default)]
struct RawMetrics {
    enabled: Option<bool>,
    auth_disabled: Option<bool>,
    #[serde(flatten)]
    _other: serde_yaml_ng::Mapping,
}

#[derive(Deserialize, Default)]
struct RawCredentials {
    #[serde(default)]
    database: RawDb,
}

#[derive(Deserialize, Default)]
struct RawDb {
    db_connect: Option<String>,
    db_pool_size: Option<u32>,
    #[serde(flatten)]
    _other: serde_yaml_ng::Mapping,
}

#[derive(Deserialize, Default)]
struct RawServices {
    #[serde(default)]
    apiext: RawApi,
    #[serde(default)]
    analyzer: RawAnalyzer,
    #[serde(default)]
    catalog: RawCatalog,
    heartbeat_seconds: Option<u64>,
    #[serde(flatten)]
    _other: serde_yaml_ng::Mapping,
}

#[derive(Deserialize, Default)]
struct RawCatalog {
    cycle_timer_seconds: Option<u64>,
    cycle_timers: Option<std::collections::BTreeMap<String, u64>>,
    #[serde(flatten)]
    _other: serde_yaml_ng::Mapping,
}

#[derive(Deserialize, Default)]
struct RawApi {
    listen: Option<String>,
    port: Option<u16>,
    max_request_bytes: Option<usize>,
    #[serde(flatten)]
    _other: serde_yaml_ng::Mapping,
}

#[derive(Deserialize, Default)]
struct RawAnalyzer {
    max_threads: Option<usize>,
    max_attempts: Option<u32>,
    job_timeout_seconds: Option<u64>,
    lease_seconds: Option<u64>,
    shutdown_timeout_seconds: Option<u64>,
    #[serde(flatten)]
    _other: serde_yaml_ng::Mapping,
}

/// What an `anchorage serve` process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Role {
    /// The HTTP API only (Anchore's apiext, catalog, policy_engine, simplequeue).
    Api,
    /// Analysis workers only (Anchore's analyzer), with `/health`, `/ready`, `/metrics`.
    Worker,
    /// Both (the default; the only role on SQLite).
    #[default]
    All,
}

impl Role {
    /// `api`, `worker` or `all`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Api => "api",
            Role::Worker => "worker",
            Role::All => "all",
        }
    }

    /// Whether the process serves the HTTP API.
    pub fn serves_api(self) -> bool {
        matches!(self, Role::Api | Role::All)
    }

    /// Whether the process runs analysis workers.
    pub fn runs_workers(self) -> bool {
        matches!(self, Role::Worker | Role::All)
    }
}

/// Resolved settings of `anchorage serve`.
#[derive(Clone)]
pub struct ServiceSettings {
    /// Listen address (`--listen`, else `services.apiext.listen:port`, else 127.0.0.1:8228).
    pub listen: SocketAddr,
    /// Data directory (SQLite database, blob cache, vulnerability store, key file).
    pub data_dir: PathBuf,
    /// Database URL: `$ANCHORAGE_DATABASE_URL`, else `credentials.database.db_connect`, else
    /// `sqlite:<data_dir>/anchorage.sqlite`.
    pub database_url: SecretString,
    /// Pool size (PostgreSQL).
    pub db_pool_size: u32,
    /// Password of the bootstrap admin user.
    pub admin_password: SecretString,
    /// Whether the password is the development default (`--dev`).
    pub dev_password: bool,
    /// Email of the admin account.
    pub admin_email: Option<String>,
    /// `$ANCHORAGE_SECRET_KEY`: 32-byte key for registry passwords at rest.
    pub secret_key: Option<SecretString>,
    /// Feed sources (`$ANCHORAGE_FEED_SOURCES`, else the config file's `[feeds] sources`).
    pub feed_sources: Vec<String>,
    /// Registries reached over plain HTTP (`$ANCHORAGE_INSECURE_REGISTRIES`).
    pub insecure_registries: Vec<String>,
    /// Analysis workers in this process.
    pub workers: usize,
    /// Attempts per analysis job before it fails for good.
    pub max_attempts: u32,
    /// Longest time of one analysis.
    pub job_timeout_secs: u64,
    /// Largest request body.
    pub max_request_bytes: usize,
    /// Watcher intervals (`cycle_timers`, or Anchore's `services.catalog.cycle_timers`).
    pub cycle_timers: crate::watch::CycleTimers,
    /// Webhook endpoints and delivery policy (`webhooks`).
    pub webhooks: crate::watch::WebhookConfig,
    /// What this process runs.
    pub role: Role,
    /// Job lease length, seconds (`services.analyzer.lease_seconds`, default 60).
    pub lease_secs: u64,
    /// At SIGTERM, how long running analyses may go on before their jobs are given back
    /// (`--shutdown-timeout`, `services.analyzer.shutdown_timeout_seconds`, default 30).
    pub shutdown_timeout_secs: u64,
    /// Heartbeat interval of the `services` table (`--heartbeat-interval`,
    /// `services.heartbeat_seconds`, default 5).
    pub heartbeat_secs: u64,
    /// Whether `GET /metrics` is served (`metrics.enabled`, default true).
    pub metrics_enabled: bool,
    /// Whether `GET /metrics` needs no basic auth (`metrics.auth_disabled`, default false).
    pub metrics_auth_disabled: bool,
}

impl std::fmt::Debug for ServiceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServiceSettings")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("workers", &self.workers)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// What `anchorage serve` was given on its command line.
#[derive(Debug, Clone, Default)]
pub struct ServeFlags {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--config`.
    pub config: Option<PathBuf>,
    /// `--dev`: allow the development admin password `foobar` when none is configured.
    pub dev: bool,
    /// `--workers`.
    pub workers: Option<usize>,
    /// `--role`.
    pub role: Role,
    /// `--shutdown-timeout` (seconds).
    pub shutdown_timeout: Option<u64>,
    /// `--heartbeat-interval` (seconds).
    pub heartbeat_interval: Option<u64>,
}

/// Replaces `${VAR}` with the variable's value (unset: empty).
fn substitute(text: &str, env: &dyn Fn(&str) -> Option<OsString>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                let name = &after[..end];
                if let Some(v) = env(name).and_then(|v| v.into_string().ok()) {
                    out.push_str(&v);
                }
                rest = &after[end + 1..];
            }
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

fn nonempty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

impl ServiceSettings {
    /// Resolves the service settings from the flags, the YAML file they name, the environment
    /// and the TOML settings (`settings`, for the data directory and feeds). Refuses to go on
    /// without an admin password unless `--dev`.
    pub fn resolve(
        flags: &ServeFlags,
        settings: &crate::Settings,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Self, SettingsError> {
        let raw = match &flags.config {
            Some(path) => read_yaml(path, env)?,
            None => RawService::default(),
        };
        let file = flags.config.clone().unwrap_or_default();
        let invalid = |key: &str, reason: String| SettingsError::Invalid {
            path: file.clone(),
            key: key.to_string(),
            reason,
        };
        let text = |k: &str| {
            env(k)
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.is_empty())
        };
        let data_dir = flags
            .data_dir
            .clone()
            .unwrap_or_else(|| settings.data_dir());
        let listen = match flags.listen {
            Some(l) => l,
            None => {
                let host = nonempty(raw.services.apiext.listen.clone())
                    .unwrap_or_else(|| "127.0.0.1".into());
                let port = raw.services.apiext.port.unwrap_or(8228);
                let addr = if host.contains(':') {
                    format!("[{host}]:{port}")
                } else {
                    format!("{host}:{port}")
                };
                addr.parse().map_err(|e| {
                    invalid(
                        "services.apiext.listen",
                        format!("{addr:?} is not an address: {e}"),
                    )
                })?
            }
        };
        let password = text(ANCHORAGE_ADMIN_PASSWORD).or(nonempty(raw.default_admin_password));
        let (admin_password, dev_password) = match (password, flags.dev) {
            (Some(p), _) => (SecretString::from(p), false),
            (None, true) => (SecretString::from("foobar".to_string()), true),
            (None, false) => {
                return Err(invalid(
                    "default_admin_password",
                    format!(
                        "no admin password: set {ANCHORAGE_ADMIN_PASSWORD} or \
                         default_admin_password in the --config file (or pass --dev for the \
                         development password)"
                    ),
                ));
            }
        };
        let database_url = settings
            .env
            .database_url
            .clone()
            .or_else(|| {
                nonempty(raw.credentials.database.db_connect.clone()).map(SecretString::from)
            })
            .unwrap_or_else(|| {
                SecretString::from(format!(
                    "sqlite:{}",
                    data_dir.join("anchorage.sqlite").display()
                ))
            });
        let insecure_registries = text(crate::ANCHORAGE_INSECURE_REGISTRIES)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_else(|| settings.insecure_registries.clone());
        let workers = flags
            .workers
            .or(raw.services.analyzer.max_threads)
            .unwrap_or(2);
        if workers > 64 {
            return Err(invalid(
                "services.analyzer.max_threads",
                format!("{workers} workers; at most 64"),
            ));
        }
        let mut cycle_timers = crate::watch::CycleTimers::default();
        if let Some(t) = raw.services.catalog.cycle_timer_seconds {
            cycle_timers.tick_seconds = t.clamp(1, 60);
        }
        for values in [&raw.services.catalog.cycle_timers, &raw.cycle_timers]
            .into_iter()
            .flatten()
        {
            cycle_timers
                .apply(values)
                .map_err(|reason| invalid("cycle_timers", reason))?;
        }
        let webhooks = match raw.webhooks {
            Some(w) => w.resolve().map_err(|(key, reason)| invalid(&key, reason))?,
            None => crate::watch::WebhookConfig::default(),
        };
        let sqlite = database_url.expose_secret().starts_with("sqlite:");
        if sqlite && flags.role != Role::All {
            return Err(SettingsError::Value {
                name: "--role".into(),
                reason: format!(
                    "role {} needs PostgreSQL (ANCHORAGE_DATABASE_URL=postgres://... or \
                     credentials.database.db_connect): on SQLite, the single-process embedded \
                     mode, only --role all runs",
                    flags.role.as_str()
                ),
            });
        }
        let analyzer = &raw.services.analyzer;
        Ok(Self {
            cycle_timers,
            webhooks,
            role: flags.role,
            lease_secs: analyzer.lease_seconds.unwrap_or(60).clamp(3, 3600),
            shutdown_timeout_secs: flags
                .shutdown_timeout
                .or(analyzer.shutdown_timeout_seconds)
                .unwrap_or(30)
                .min(86_400),
            heartbeat_secs: flags
                .heartbeat_interval
                .or(raw.services.heartbeat_seconds)
                .unwrap_or(5)
                .clamp(1, 300),
            metrics_enabled: raw.metrics.enabled.unwrap_or(true),
            metrics_auth_disabled: raw.metrics.auth_disabled.unwrap_or(false),
            listen,
            data_dir,
            database_url,
            db_pool_size: raw
                .credentials
                .database
                .db_pool_size
                .unwrap_or(16)
                .clamp(2, 200),
            admin_password,
            dev_password,
            admin_email: nonempty(raw.default_admin_email),
            secret_key: text(ANCHORAGE_SECRET_KEY).map(SecretString::from),
            feed_sources: settings.feeds().sources,
            insecure_registries,
            workers,
            max_attempts: raw
                .services
                .analyzer
                .max_attempts
                .unwrap_or(3)
                .clamp(1, 100),
            job_timeout_secs: raw
                .services
                .analyzer
                .job_timeout_seconds
                .unwrap_or(3600)
                .max(10),
            max_request_bytes: raw
                .services
                .apiext
                .max_request_bytes
                .unwrap_or(4 << 20)
                .max(1024),
        })
    }
}

fn read_yaml(
    path: &Path,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<RawService, SettingsError> {
    let text = std::fs::read_to_string(path).map_err(|source| SettingsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = substitute(&text, env);
    serde_yaml_ng::from_str(&text).map_err(|e| SettingsError::Parse {
        path: path.to_path_buf(),
        line: e.location().map_or(0, |l| l.line()),
        // The message may quote a value; keep only its kind of problem.
        message: e
            .to_string()
            .split(" at line")
            .next()
            .unwrap_or("invalid YAML")
            .to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn without_a_password_serve_refuses_and_says_why() {
        let err = ServiceSettings::resolve(
            &ServeFlags::default(),
            &crate::Settings::default(),
            &env_of(&[]),
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("ANCHORAGE_ADMIN_PASSWORD"), "{err}");
        let dev = ServeFlags {
            dev: true,
            ..ServeFlags::default()
        };
        let s = ServiceSettings::resolve(&dev, &crate::Settings::default(), &env_of(&[])).ok();
        assert!(s.is_some_and(|s| s.dev_password));
    }

    #[test]
    fn anchore_keys_and_placeholders_are_read() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let path = dir.path().join("anchorage.yaml");
        let yaml = "default_admin_password: ${PW}\ncredentials:\n  database:\n    db_connect: postgresql://u@127.0.0.1:5432/x\n    db_connect_args: {timeout: 120}\nservices:\n  apiext:\n    port: 8338\n  analyzer:\n    max_threads: 3\n  catalog:\n    cycle_timer_seconds: 1\nwebhooks: {}\n";
        assert!(std::fs::write(&path, yaml).is_ok());
        let flags = ServeFlags {
            config: Some(path),
            ..ServeFlags::default()
        };
        let s = ServiceSettings::resolve(
            &flags,
            &crate::Settings::default(),
            &env_of(&[("PW", "s3cret")]),
        );
        let s = s.map_err(|e| e.to_string());
        assert!(s.is_ok(), "{:?}", s.err());
        let Ok(s) = s else { return };
        use secrecy::ExposeSecret as _;
        assert_eq!(s.admin_password.expose_secret(), "s3cret");
        assert_eq!(s.listen.port(), 8338);
        assert_eq!(s.workers, 3);
        assert!(s.database_url.expose_secret().starts_with("postgresql://"));
        // Defaults of the operations keys.
        assert_eq!(s.role, Role::All);
        assert_eq!(
            (s.lease_secs, s.shutdown_timeout_secs, s.heartbeat_secs),
            (60, 30, 5)
        );
        assert!(s.metrics_enabled && !s.metrics_auth_disabled);
    }

    #[test]
    fn operations_keys_are_read_and_flags_win() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { return };
        let path = dir.path().join("anchorage.yaml");
        let yaml = "credentials:\n  database:\n    db_connect: postgresql://u@127.0.0.1:5432/x\nservices:\n  heartbeat_seconds: 2\n  analyzer:\n    lease_seconds: 20\n    shutdown_timeout_seconds: 9\nmetrics:\n  enabled: false\n  auth_disabled: true\n";
        assert!(std::fs::write(&path, yaml).is_ok());
        let flags = ServeFlags {
            config: Some(path),
            dev: true,
            role: Role::Worker,
            shutdown_timeout: Some(4),
            ..ServeFlags::default()
        };
        let s = ServiceSettings::resolve(&flags, &crate::Settings::default(), &env_of(&[]));
        let s = s.map_err(|e| e.to_string());
        assert!(s.is_ok(), "{:?}", s.err());
        let Ok(s) = s else { return };
        assert_eq!(s.role, Role::Worker);
        assert_eq!(
            (s.lease_secs, s.shutdown_timeout_secs, s.heartbeat_secs),
            (20, 4, 2)
        );
        assert!(!s.metrics_enabled && s.metrics_auth_disabled);
    }

    #[test]
    fn roles_other_than_all_are_refused_on_sqlite() {
        for role in [Role::Api, Role::Worker] {
            let flags = ServeFlags {
                dev: true,
                role,
                ..ServeFlags::default()
            };
            let err = ServiceSettings::resolve(&flags, &crate::Settings::default(), &env_of(&[]))
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains("needs PostgreSQL") && err.contains(role.as_str()),
                "{err}"
            );
        }
    }
}
