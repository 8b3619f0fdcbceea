//! The per-role sections of the config file: `[scan]`, `[server]`, `[worker]`, `[database]`,
//! `[feeds]`, `[webhooks]`. Each is deserialized with unknown keys refused, then validated
//! into a resolved struct with its defaults; errors name the key (`server.listen`).

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use anchorage_types::Severity;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

/// `[scan]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawScan {
    fail_on: Option<String>,
    only_fixed: Option<bool>,
    output: Option<String>,
    policy: Option<PathBuf>,
    content_search: Option<Vec<String>>,
}

/// `[server]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    listen: Option<String>,
    public_url: Option<String>,
    max_request_bytes: Option<u64>,
}

/// `[worker]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWorker {
    count: Option<usize>,
    poll_interval_secs: Option<u64>,
    job_timeout_secs: Option<u64>,
}

/// `[database]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDatabase {
    url: Option<SecretString>,
    max_connections: Option<u32>,
}

/// `[feeds]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFeeds {
    #[serde(default)]
    sources: Vec<String>,
    osv_base: Option<String>,
    #[serde(default)]
    ecosystems: Vec<String>,
    sync_interval_secs: Option<u64>,
    max_record_bytes: Option<u64>,
    max_document_bytes: Option<u64>,
    http_timeout_secs: Option<u64>,
}

/// `[webhooks]` as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawWebhooks {
    url: Option<String>,
    secret: Option<SecretString>,
    secret_env: Option<String>,
    secret_file: Option<PathBuf>,
    timeout_secs: Option<u64>,
}

/// The role sections of one file, as written.
#[derive(Deserialize, Default)]
pub(crate) struct RawRoles {
    #[serde(default)]
    pub(crate) scan: RawScan,
    #[serde(default)]
    pub(crate) server: RawServer,
    #[serde(default)]
    pub(crate) worker: RawWorker,
    #[serde(default)]
    pub(crate) database: RawDatabase,
    #[serde(default)]
    pub(crate) feeds: RawFeeds,
    #[serde(default)]
    pub(crate) webhooks: RawWebhooks,
}

/// `[scan]`: defaults of `anchorage scan` (a flag wins).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScanSettings {
    /// `fail_on`: exit 1 at or above this severity.
    pub fail_on: Option<Severity>,
    /// `only_fixed`: print only findings with a fix.
    pub only_fixed: Option<bool>,
    /// `output`: `table`, `json`, `sarif`, `cyclonedx-json` or `anchore-json`.
    pub output: Option<String>,
    /// `policy`: bundle evaluated on every scan.
    pub policy: Option<PathBuf>,
    /// `content_search`: content search rules, each `NAME=REGEX` or a bare `REGEX` (named by
    /// itself), checked when written; `files/content_regex_match` reports their hits.
    pub content_search: Option<Vec<(String, String)>>,
}

/// Default listen address of the server.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8228";

/// `[server]`: the API role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSettings {
    /// `listen`: socket address (default `127.0.0.1:8228`).
    pub listen: SocketAddr,
    /// `public_url`: the URL clients reach the API at (for links and webhooks).
    pub public_url: Option<url::Url>,
    /// `max_request_bytes`: largest request body (default 64 MiB).
    pub max_request_bytes: u64,
}

/// `[worker]`: the job-running role.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkerSettings {
    /// `count`: jobs run at the same time (1..=256, default 2).
    pub count: usize,
    /// `poll_interval_secs`: pause between job-queue polls when idle (default 5).
    pub poll_interval_secs: u64,
    /// `job_timeout_secs`: lease length of a job (default 3600).
    pub job_timeout_secs: u64,
}

/// `[database]`: where the server keeps its state.
#[derive(Clone)]
pub struct DatabaseSettings {
    /// `url` (env `ANCHORAGE_DATABASE_URL` wins): `sqlite:PATH` or `postgres://...`; default
    /// `sqlite:<data_dir>/anchorage.sqlite`. Held as a secret (it may carry a password).
    pub url: SecretString,
    /// `max_connections`: pool size (1..=1000, default 8).
    pub max_connections: u32,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let url = self.url.expose_secret();
        let scheme = url.split(':').next().unwrap_or("");
        f.debug_struct("DatabaseSettings")
            .field("url", &format!("{scheme}:[redacted]"))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

/// `[feeds]`: what `feeds sync` and the sync job read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedSettings {
    /// `sources` (env `ANCHORAGE_FEED_SOURCES` wins): `[kind:]URL-or-PATH` each.
    pub sources: Vec<String>,
    /// `osv_base`: base URL of an OSV exports mirror.
    pub osv_base: Option<String>,
    /// `ecosystems`: OSV ecosystems synced from the exports.
    pub ecosystems: Vec<String>,
    /// `sync_interval_secs`: how often the server syncs (default 21600, at least 60).
    pub sync_interval_secs: u64,
    /// `max_record_bytes`: largest record.
    pub max_record_bytes: Option<u64>,
    /// `max_document_bytes`: largest download or document.
    pub max_document_bytes: Option<u64>,
    /// `http_timeout_secs`: timeout of one request.
    pub http_timeout_secs: Option<u64>,
}

/// `[webhooks]`: where notifications are posted.
#[derive(Clone, Default)]
pub struct WebhookSettings {
    /// `url`: HTTP(S) endpoint receiving notifications.
    pub url: Option<url::Url>,
    /// `secret`, `secret_env` or `secret_file`: HMAC key signing each delivery.
    pub secret: Option<SecretString>,
    /// `timeout_secs`: per delivery (default 10).
    pub timeout_secs: u64,
}

impl std::fmt::Debug for WebhookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookSettings")
            .field("url", &self.url.as_ref().map(url::Url::as_str))
            .field("secret", &self.secret.as_ref().map(|_| "[redacted]"))
            .field("timeout_secs", &self.timeout_secs)
            .finish()
    }
}

/// The role sections of one file after validation; unset keys stay unset so files can be
/// layered before defaults apply.
#[derive(Clone, Default)]
pub(crate) struct RoleLayer {
    pub(crate) scan: ScanSettings,
    pub(crate) listen: Option<SocketAddr>,
    pub(crate) public_url: Option<url::Url>,
    pub(crate) max_request_bytes: Option<u64>,
    pub(crate) worker_count: Option<usize>,
    pub(crate) poll_interval_secs: Option<u64>,
    pub(crate) job_timeout_secs: Option<u64>,
    pub(crate) database_url: Option<SecretString>,
    pub(crate) max_connections: Option<u32>,
    pub(crate) feeds: FeedSettings,
    pub(crate) sync_interval_secs: Option<u64>,
    pub(crate) webhook_url: Option<url::Url>,
    pub(crate) webhook_secret: Option<SecretString>,
    pub(crate) webhook_timeout_secs: Option<u64>,
}

/// Checks a database URL's form: `sqlite:` or `postgres://` / `postgresql://`.
pub(crate) fn check_database_url(url: &str) -> Result<(), String> {
    if url.starts_with("sqlite:") {
        if url.len() == "sqlite:".len() {
            return Err("sqlite: URL names no file".into());
        }
        return Ok(());
    }
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return url::Url::parse(url)
            .map(|_| ())
            .map_err(|e| format!("not a valid URL: {e}"));
    }
    let scheme = url.split(':').next().unwrap_or("");
    Err(format!(
        "scheme {scheme:?} is not supported (use sqlite:PATH or postgres://...)"
    ))
}

fn check_feed_source(s: &str) -> Result<(), String> {
    let s = s.trim();
    if s.is_empty() {
        return Err("empty source".into());
    }
    let rest = match s.split_once(':') {
        Some(("osv" | "debian-tracker" | "debian" | "alpine-secdb" | "alpine" | "nvd", r)) => r,
        _ => s,
    };
    if rest.is_empty() {
        return Err(format!("{s:?} names no URL or path"));
    }
    if rest.contains("://") && !(rest.starts_with("http://") || rest.starts_with("https://")) {
        return Err(format!("{s:?}: only http:// and https:// URLs are fetched"));
    }
    Ok(())
}

/// Validates the role sections of one file. `base` resolves relative paths; `env` looks up
/// `secret_env`; `read` reads `secret_file`; `invalid(key, reason)` builds the error.
pub(crate) fn validate_roles<E>(
    raw: RawRoles,
    base: &Path,
    env: &dyn Fn(&str) -> Option<OsString>,
    read: &dyn Fn(&Path) -> Result<Vec<u8>, std::io::Error>,
    invalid: &dyn Fn(String, String) -> E,
) -> Result<RoleLayer, E> {
    let mut out = RoleLayer::default();
    let bad = |k: &str, r: String| invalid(k.to_string(), r);
    // [scan]
    let s = raw.scan;
    out.scan.fail_on = s
        .fail_on
        .map(|v| {
            Severity::from_str(&v).map_err(|_| {
                bad(
                    "scan.fail_on",
                    format!(
                        "{v:?} is not a severity (unknown, negligible, low, medium, high, critical)"
                    ),
                )
            })
        })
        .transpose()?;
    out.scan.only_fixed = s.only_fixed;
    if let Some(o) = &s.output
        && ![
            "table",
            "json",
            "sarif",
            "cyclonedx-json",
            "cyclonedx",
            "anchore-json",
        ]
        .contains(&o.as_str())
    {
        return Err(bad(
            "scan.output",
            format!("{o:?} is not an output (table, json, sarif, cyclonedx-json, anchore-json)"),
        ));
    }
    out.scan.output = s.output;
    out.scan.policy = s.policy.map(|p| base.join(p));
    out.scan.content_search = s
        .content_search
        .map(|rules| {
            rules
                .iter()
                .map(|r| parse_content_rule(r).map_err(|why| bad("scan.content_search", why)))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?;
    // [server]
    if let Some(l) = raw.server.listen {
        out.listen = Some(l.parse::<SocketAddr>().map_err(|e| {
            bad(
                "server.listen",
                format!("{l:?} is not an address like 127.0.0.1:8228: {e}"),
            )
        })?);
    }
    if let Some(u) = raw.server.public_url {
        let parsed = url::Url::parse(&u)
            .map_err(|e| bad("server.public_url", format!("{u:?} is not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad(
                "server.public_url",
                "must be http:// or https://".into(),
            ));
        }
        out.public_url = Some(parsed);
    }
    if raw.server.max_request_bytes == Some(0) {
        return Err(bad("server.max_request_bytes", "must be at least 1".into()));
    }
    out.max_request_bytes = raw.server.max_request_bytes;
    // [worker]
    if let Some(c) = raw.worker.count
        && !(1..=256).contains(&c)
    {
        return Err(bad("worker.count", format!("{c} is outside 1..=256")));
    }
    out.worker_count = raw.worker.count;
    if raw.worker.poll_interval_secs == Some(0) {
        return Err(bad(
            "worker.poll_interval_secs",
            "must be at least 1".into(),
        ));
    }
    out.poll_interval_secs = raw.worker.poll_interval_secs;
    if raw.worker.job_timeout_secs == Some(0) {
        return Err(bad("worker.job_timeout_secs", "must be at least 1".into()));
    }
    out.job_timeout_secs = raw.worker.job_timeout_secs;
    // [database]
    if let Some(u) = &raw.database.url {
        check_database_url(u.expose_secret()).map_err(|r| bad("database.url", r))?;
    }
    out.database_url = raw.database.url;
    if let Some(m) = raw.database.max_connections
        && !(1..=1000).contains(&m)
    {
        return Err(bad(
            "database.max_connections",
            format!("{m} is outside 1..=1000"),
        ));
    }
    out.max_connections = raw.database.max_connections;
    // [feeds]
    let f = raw.feeds;
    for (i, s) in f.sources.iter().enumerate() {
        check_feed_source(s).map_err(|r| bad(&format!("feeds.sources[{i}]"), r))?;
    }
    if let Some(b) = &f.osv_base
        && !(b.starts_with("http://") || b.starts_with("https://"))
    {
        return Err(bad(
            "feeds.osv_base",
            format!("{b:?} is not an http(s) URL"),
        ));
    }
    if let Some(i) = f.sync_interval_secs
        && i < 60
    {
        return Err(bad("feeds.sync_interval_secs", format!("{i} is below 60")));
    }
    out.sync_interval_secs = f.sync_interval_secs;
    out.feeds = FeedSettings {
        sources: f
            .sources
            .iter()
            .map(|s| {
                // A relative local path is relative to the file's directory.
                let s = s.trim();
                match s.split_once(':') {
                    Some((k, r))
                        if matches!(
                            k,
                            "osv" | "debian-tracker" | "debian" | "alpine-secdb" | "alpine" | "nvd"
                        ) && !r.contains("://")
                            && Path::new(r).is_relative() =>
                    {
                        format!("{k}:{}", base.join(r).display())
                    }
                    _ => s.to_string(),
                }
            })
            .collect(),
        osv_base: f.osv_base,
        ecosystems: f.ecosystems,
        sync_interval_secs: 0,
        max_record_bytes: f.max_record_bytes,
        max_document_bytes: f.max_document_bytes,
        http_timeout_secs: f.http_timeout_secs,
    };
    // [webhooks]
    let w = raw.webhooks;
    if let Some(u) = w.url {
        let parsed =
            url::Url::parse(&u).map_err(|e| bad("webhooks.url", format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(bad("webhooks.url", "must be http:// or https://".into()));
        }
        out.webhook_url = Some(parsed);
    }
    let set = [
        w.secret.is_some(),
        w.secret_env.is_some(),
        w.secret_file.is_some(),
    ];
    if set.iter().filter(|s| **s).count() > 1 {
        return Err(bad(
            "webhooks.secret",
            "set only one of secret, secret_env and secret_file".into(),
        ));
    }
    out.webhook_secret = if let Some(s) = w.secret {
        Some(s)
    } else if let Some(var) = &w.secret_env {
        let v = env(var).and_then(|v| v.into_string().ok()).ok_or_else(|| {
            bad(
                "webhooks.secret_env",
                format!("environment variable {var} is not set"),
            )
        })?;
        Some(SecretString::from(v))
    } else if let Some(file) = &w.secret_file {
        let file = base.join(file);
        let bytes = read(&file)
            .map_err(|e| bad("webhooks.secret_file", format!("{}: {e}", file.display())))?;
        let text = String::from_utf8(bytes).map_err(|_| {
            bad(
                "webhooks.secret_file",
                format!("{}: not UTF-8", file.display()),
            )
        })?;
        Some(SecretString::from(
            text.trim_end_matches(['\n', '\r']).to_string(),
        ))
    } else {
        None
    };
    if out
        .webhook_secret
        .as_ref()
        .is_some_and(|s| s.expose_secret().is_empty())
    {
        return Err(bad("webhooks.secret", "is empty".into()));
    }
    if w.timeout_secs == Some(0) {
        return Err(bad("webhooks.timeout_secs", "must be at least 1".into()));
    }
    out.webhook_timeout_secs = w.timeout_secs;
    Ok(out)
}

impl std::fmt::Debug for RoleLayer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // URLs may carry passwords and the webhook secret is a secret: none is printed.
        f.debug_struct("RoleLayer")
            .field("scan", &self.scan)
            .field("listen", &self.listen)
            .field("worker_count", &self.worker_count)
            .field(
                "database_url",
                &self.database_url.as_ref().map(|_| "[redacted]"),
            )
            .field("feeds", &self.feeds)
            .field(
                "webhook_secret",
                &self.webhook_secret.as_ref().map(|_| "[redacted]"),
            )
            .finish_non_exhaustive()
    }
}

impl RoleLayer {
    /// Each key from `self`, else from `lower`.
    pub(crate) fn combine(self, lower: Self) -> Self {
        Self {
            scan: ScanSettings {
                fail_on: self.scan.fail_on.or(lower.scan.fail_on),
                only_fixed: self.scan.only_fixed.or(lower.scan.only_fixed),
                output: self.scan.output.or(lower.scan.output),
                policy: self.scan.policy.or(lower.scan.policy),
                content_search: self.scan.content_search.or(lower.scan.content_search),
            },
            listen: self.listen.or(lower.listen),
            public_url: self.public_url.or(lower.public_url),
            max_request_bytes: self.max_request_bytes.or(lower.max_request_bytes),
            worker_count: self.worker_count.or(lower.worker_count),
            poll_interval_secs: self.poll_interval_secs.or(lower.poll_interval_secs),
            job_timeout_secs: self.job_timeout_secs.or(lower.job_timeout_secs),
            database_url: self.database_url.or(lower.database_url),
            max_connections: self.max_connections.or(lower.max_connections),
            feeds: FeedSettings {
                sources: if self.feeds.sources.is_empty() {
                    lower.feeds.sources
                } else {
                    self.feeds.sources
                },
                osv_base: self.feeds.osv_base.or(lower.feeds.osv_base),
                ecosystems: if self.feeds.ecosystems.is_empty() {
                    lower.feeds.ecosystems
                } else {
                    self.feeds.ecosystems
                },
                sync_interval_secs: 0,
                max_record_bytes: self.feeds.max_record_bytes.or(lower.feeds.max_record_bytes),
                max_document_bytes: self
                    .feeds
                    .max_document_bytes
                    .or(lower.feeds.max_document_bytes),
                http_timeout_secs: self
                    .feeds
                    .http_timeout_secs
                    .or(lower.feeds.http_timeout_secs),
            },
            sync_interval_secs: self.sync_interval_secs.or(lower.sync_interval_secs),
            webhook_url: self.webhook_url.or(lower.webhook_url),
            webhook_secret: self.webhook_secret.or(lower.webhook_secret),
            webhook_timeout_secs: self.webhook_timeout_secs.or(lower.webhook_timeout_secs),
        }
    }
}

/// Parses a content search rule: `NAME=REGEX`, or a bare `REGEX` named by its own text (as
/// Anchore's analyzer config lists bare regexes). The regex must compile.
pub fn parse_content_rule(rule: &str) -> Result<(String, String), String> {
    let (name, regex) = match rule.split_once('=') {
        Some((n, r))
            if !n.is_empty()
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-') =>
        {
            (n.to_string(), r.to_string())
        }
        _ => (rule.to_string(), rule.to_string()),
    };
    if regex.is_empty() {
        return Err(format!("{rule:?}: empty regular expression"));
    }
    regex::Regex::new(&regex).map_err(|e| format!("{rule:?}: invalid regular expression: {e}"))?;
    Ok((name, regex))
}
