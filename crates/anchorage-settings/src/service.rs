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
//!     malware:                          # Anchore's analyzer config `malware.clamav`
//!       clamav:
//!         enabled: true                 # default false; keys as in the TOML [malware.clamav]
//!         socket: /run/clamav/clamd.ctl # or address: 127.0.0.1:3310
//!   catalog:
//!     analysis_archive:                 # where archived analyses go (default: localfs,
//!       storage_driver:                 #   <data_dir>/analysis_archive)
//!         name: localfs                 # or s3
//!         config:
//!           archive_data_dir: /var/lib/anchorage/archive
//!         # s3: {url: http://127.0.0.1:9000, bucket: anchorage-archive, access_key: ...,
//!         #      secret_key: ${S3_SECRET}, region: us-east-1}  (or iamauto: true)
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
    analysis_archive: Option<RawObjectStore>,
    #[serde(flatten)]
    _other: serde_yaml_ng::Mapping,
}

#[derive(Deserialize, Default)]
struct RawObjectStore {
    storage_driver: Option<RawDriver>,
    // `compression` and the rest: accepted (documents are stored as they are).
    #[serde(flatten)]
    _other: serde_yaml_ng::Mapping,
}

#[derive(Deserialize)]
struct RawDriver {
    name: String,
    #[serde(default)]
    config: serde_yaml_ng::Mapping,
}

/// Where the analysis archive keeps archived analyses
/// (`services.catalog.analysis_archive.storage_driver`).
#[derive(Clone)]
#[non_exhaustive]
pub enum ArchiveStorage {
    /// `name: localfs`, `config.archive_data_dir` (default `<data_dir>/analysis_archive`).
    LocalFs {
        /// The directory.
        dir: PathBuf,
    },
    /// `name: s3`: an S3-compatible bucket.
    S3 {
        /// `url`: endpoint (`http://127.0.0.1:9000`); absent: AWS.
        url: Option<String>,
        /// `bucket` (must exist).
        bucket: String,
        /// `access_key`.
        access_key: Option<SecretString>,
        /// `secret_key`.
        secret_key: Option<SecretString>,
        /// `region` (`false` or absent: the default).
        region: Option<String>,
    },
}

impl std::fmt::Debug for ArchiveStorage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchiveStorage::LocalFs { dir } => f.debug_struct("LocalFs").field("dir", dir).finish(),
            ArchiveStorage::S3 {
                url,
                bucket,
                region,
                ..
            } => f
                .debug_struct("S3")
                .field("url", url)
                .field("bucket", bucket)
                .field("region", region)
                .finish_non_exhaustive(),
        }
    }
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
    malware: Option<crate::malware::RawMalware>,
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
    /// The analysis archive's store.
    pub analysis_archive: ArchiveStorage,
    /// `services.analyzer.malware.clamav` (Anchore's analyzer config `malware.clamav`): the
    /// ClamAV malware scan of analyses; its keys win over the TOML `[malware.clamav]`.
    pub clamav: crate::malware::ClamavSettings,
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
        let clamav = match analyzer.malware.clone() {
            Some(m) => crate::malware::validate_malware(
                m,
                "services.analyzer.malware.clamav",
                file.parent().unwrap_or(Path::new(".")),
                &|k, r| invalid(&k, r),
            )?
            .combine(settings.clamav.clone()),
            None => settings.clamav.clone(),
        };
        let analysis_archive = archive_storage(
            raw.services.catalog.analysis_archive.as_ref(),
            &data_dir,
            &file,
        )?;
        Ok(Self {
            clamav,
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
            analysis_archive,
        })
    }
}

/// Resolves `services.catalog.analysis_archive`.
fn archive_storage(
    raw: Option<&RawObjectStore>,
    data_dir: &Path,
    file: &Path,
) -> Result<ArchiveStorage, SettingsError> {
    const KEY: &str = "services.catalog.analysis_archive.storage_driver";
    let invalid = |reason: String| SettingsError::Invalid {
        path: file.to_path_buf(),
        key: KEY.to_string(),
        reason,
    };
    let default_dir = data_dir.join("analysis_archive");
    let Some(driver) = raw.and_then(|r| r.storage_driver.as_ref()) else {
        return Ok(ArchiveStorage::LocalFs { dir: default_dir });
    };
    let text = |k: &str| -> Result<Option<String>, SettingsError> {
        match driver.config.get(k) {
            None | Some(serde_yaml_ng::Value::Null) => Ok(None),
            Some(serde_yaml_ng::Value::String(s)) => Ok(nonempty(Some(s.clone()))),
            Some(serde_yaml_ng::Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(invalid(format!("config.{k} must be a string"))),
        }
    };
    let flag = |k: &str| match driver.config.get(k) {
        Some(serde_yaml_ng::Value::Bool(b)) => *b,
        Some(serde_yaml_ng::Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    };
    match driver.name.as_str() {
        "localfs" => Ok(ArchiveStorage::LocalFs {
            dir: text("archive_data_dir")?
                .map(PathBuf::from)
                .unwrap_or(default_dir),
        }),
        "s3" => {
            if flag("create_bucket") {
                return Err(invalid(
                    "config.create_bucket is not supported: create the bucket first".into(),
                ));
            }
            let bucket = text("bucket")?
                .ok_or_else(|| invalid("the s3 driver needs config.bucket".into()))?;
            let (access_key, secret_key) = if flag("iamauto") {
                (None, None)
            } else {
                let a = text("access_key")?;
                let s = text("secret_key")?;
                if a.is_none() || s.is_none() {
                    return Err(invalid(
                        "the s3 driver needs config.access_key and config.secret_key (or \
                         iamauto: true)"
                            .into(),
                    ));
                }
                (a.map(SecretString::from), s.map(SecretString::from))
            };
            let region = match driver.config.get("region") {
                Some(serde_yaml_ng::Value::Bool(false)) => None,
                _ => text("region")?,
            };
            Ok(ArchiveStorage::S3 {
                url: text("url")?,
                bucket,
                access_key,
                secret_key,
                region,
            })
        }
        other => Err(invalid(format!(
            "storage driver {other:?} is not supported for the analysis archive (localfs or s3)"
        ))),
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
        assert!(
            matches!(&s.analysis_archive, ArchiveStorage::LocalFs { dir } if dir.ends_with("analysis_archive"))
        );
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

    fn archive_of(yaml: &str) -> Result<ArchiveStorage, String> {
        let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
        let path = dir.path().join("anchorage.yaml");
        std::fs::write(&path, yaml).map_err(|e| e.to_string())?;
        let flags = ServeFlags {
            config: Some(path),
            dev: true,
            ..ServeFlags::default()
        };
        ServiceSettings::resolve(
            &flags,
            &crate::Settings::default(),
            &env_of(&[("S3_SECRET", "shh-secret")]),
        )
        .map(|s| s.analysis_archive)
        .map_err(|e| e.to_string())
    }

    #[test]
    fn analysis_archive_drivers_are_read_as_anchore_writes_them() {
        let local = archive_of(
            "services:\n  catalog:\n    analysis_archive:\n      compression: {enabled: false}\n      storage_driver:\n        name: localfs\n        config: {archive_data_dir: /srv/archive}\n",
        );
        assert!(
            matches!(&local, Ok(ArchiveStorage::LocalFs { dir }) if dir == Path::new("/srv/archive")),
            "{local:?}"
        );
        let s3 = archive_of(
            "services:\n  catalog:\n    analysis_archive:\n      storage_driver:\n        name: s3\n        config: {url: 'http://127.0.0.1:9000', bucket: arch, access_key: AK, secret_key: '${S3_SECRET}', region: false}\n",
        );
        let text = format!("{s3:?}");
        assert!(!text.contains("shh-secret"), "{text}");
        match s3 {
            Ok(ArchiveStorage::S3 {
                url,
                bucket,
                secret_key,
                region,
                ..
            }) => {
                use secrecy::ExposeSecret as _;
                assert_eq!(url.as_deref(), Some("http://127.0.0.1:9000"));
                assert_eq!(bucket, "arch");
                assert_eq!(
                    secret_key.map(|k| k.expose_secret().to_string()).as_deref(),
                    Some("shh-secret")
                );
                assert_eq!(region, None);
            }
            other => panic!("{other:?}"),
        }
        for (yaml, needle) in [
            ("name: db", "localfs or s3"),
            (
                "name: s3\n        config: {access_key: a, secret_key: b}",
                "config.bucket",
            ),
            ("name: s3\n        config: {bucket: b}", "access_key"),
            (
                "name: s3\n        config: {bucket: b, iamauto: true, create_bucket: true}",
                "create_bucket",
            ),
        ] {
            let e = archive_of(&format!(
                "services:\n  catalog:\n    analysis_archive:\n      storage_driver:\n        {yaml}\n"
            ));
            assert!(
                e.as_ref().is_err_and(|e| e.contains(needle)),
                "{yaml}: {e:?}"
            );
        }
    }
}
