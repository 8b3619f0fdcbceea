//! Feed sources and the sync driver: fetch (conditional HTTP or local), parse with the
//! source's driver, apply to the store in one transaction.

use std::collections::BTreeSet;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anchorage_version::{Scheme, Version};
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret as _, SecretString};

use crate::driver::{FeedDriver, Item, ItemIter};
use crate::error::VulnDbError;
use crate::input::{Limits, RecordIter, folder_records, read_file_limited, zip_records};
use crate::store::{Applied, Store};
use crate::{alpine, debian, nvd, osv};
use anchorage_advisory::{Advisory, Event, RangeKind};

/// The public OSV exports (one `all.zip` per ecosystem).
pub const OSV_EXPORTS_BASE: &str = "https://osv-vulnerabilities.storage.googleapis.com";

/// Ecosystems synced by default from the OSV exports.
pub const DEFAULT_OSV_ECOSYSTEMS: &[&str] = &[
    "Debian",
    "Ubuntu",
    "Alpine",
    "Rocky Linux",
    "AlmaLinux",
    "Red Hat",
    "PyPI",
    "npm",
    "Go",
    "Maven",
    "crates.io",
    "RubyGems",
    "NuGet",
    "Packagist",
    "Wolfi",
    "Chainguard",
    "Pub",
    "Hex",
    "SwiftURL",
    "Hackage",
    "ConanCenter",
    "CRAN",
    "GitHub Actions",
];

/// Which driver reads a source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedKind {
    /// OSV records (zip export, local zip, or folder of `.json`/`.yaml`).
    Osv,
    /// Debian security tracker (JSON dump, or per-entry CVE/DSA/DLA files).
    DebianTracker,
    /// Alpine secdb (per-branch JSON or YAML, or per-package files).
    AlpineSecdb,
    /// NVD CVE API 2.0 JSON (API pages or yearly files).
    Nvd,
}

impl FeedKind {
    /// The feed name stored with each record and shown in `feeds status`.
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::Osv => "osv",
            FeedKind::DebianTracker => "debian-tracker",
            FeedKind::AlpineSecdb => "alpine-secdb",
            FeedKind::Nvd => "nvd",
        }
    }
}

/// Where a source lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `http://` or `https://` URL.
    Url(String),
    /// A local zip, file or folder.
    Path(PathBuf),
}

/// One configured feed source, written `[kind:]URL-or-PATH` (kind defaults to `osv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedSource {
    /// Driver.
    pub kind: FeedKind,
    /// Location.
    pub location: Location,
}

impl FeedSource {
    /// The OSV export of one ecosystem under a base URL: `<base>/<ecosystem>/all.zip`.
    pub fn osv_export(base: &str, ecosystem: &str) -> Self {
        let eco = ecosystem.replace(' ', "%20");
        FeedSource {
            kind: FeedKind::Osv,
            location: Location::Url(format!("{}/{eco}/all.zip", base.trim_end_matches('/'))),
        }
    }

    /// The default list: the public OSV exports of [`DEFAULT_OSV_ECOSYSTEMS`].
    pub fn defaults() -> Vec<Self> {
        DEFAULT_OSV_ECOSYSTEMS
            .iter()
            .map(|e| Self::osv_export(OSV_EXPORTS_BASE, e))
            .collect()
    }

    /// The key the store tracks the source under.
    pub fn key(&self) -> String {
        self.to_string()
    }

    fn location_str(&self) -> String {
        match &self.location {
            Location::Url(u) => u.clone(),
            Location::Path(p) => p.display().to_string(),
        }
    }
}

impl fmt::Display for FeedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.kind.as_str(), self.location_str())
    }
}

impl FromStr for FeedSource {
    type Err = VulnDbError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.is_empty() {
            return Err(VulnDbError::BadSource(s.to_string()));
        }
        let (kind, rest) = match s.split_once(':') {
            Some(("osv", r)) => (FeedKind::Osv, r),
            Some(("debian-tracker" | "debian", r)) => (FeedKind::DebianTracker, r),
            Some(("alpine-secdb" | "alpine", r)) => (FeedKind::AlpineSecdb, r),
            Some(("nvd", r)) => (FeedKind::Nvd, r),
            _ => (FeedKind::Osv, s),
        };
        if rest.is_empty() {
            return Err(VulnDbError::BadSource(s.to_string()));
        }
        let location = if rest.starts_with("http://") || rest.starts_with("https://") {
            Location::Url(rest.to_string())
        } else {
            Location::Path(PathBuf::from(rest))
        };
        Ok(FeedSource { kind, location })
    }
}

/// Options of a sync.
#[derive(Debug, Clone, Default)]
pub struct SyncOptions {
    /// Limits.
    pub limits: Limits,
    /// NVD API key sent in the `apiKey` header (never in URLs, logs or errors); the settings
    /// read it from `NVD_API_KEY`.
    pub nvd_api_key: Option<SecretString>,
    /// Fault injection for tests and drills: abort after applying this many records, as a
    /// crash or a cut connection would. Nothing of the aborted sync is kept.
    pub abort_after: Option<usize>,
    /// The sync's clock (`last_sync`, first-seen fix dates); `None` means now. Tests inject it.
    pub now: Option<DateTime<Utc>>,
}

/// What a sync did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyncReport {
    /// Source key.
    pub source: String,
    /// True when the server answered 304 Not Modified (nothing downloaded or applied).
    pub not_modified: bool,
    /// HTTP requests made.
    pub requests: usize,
    /// Records added.
    pub added: u64,
    /// Records updated.
    pub updated: u64,
    /// Records unchanged (same content).
    pub unchanged: u64,
    /// Records skipped because the stored copy has a newer `modified`.
    pub older: u64,
    /// Records removed (no longer in the feed).
    pub removed: u64,
    /// Records stored for the source after the sync.
    pub record_count: u64,
    /// Malformed records skipped.
    pub malformed: u64,
    /// The first malformed-record messages (at most 20).
    pub malformed_samples: Vec<String>,
    /// Records stored although a version in them could not be read, even leniently: matching
    /// evaluates them only partially.
    pub partial: u64,
    /// The first partially readable records (at most 20), `id: ecosystem name: reason`.
    pub partial_samples: Vec<String>,
    /// Wall time in milliseconds.
    pub elapsed_ms: u64,
    /// Normalized package names whose advisories were added, updated or removed, or whose
    /// CVE scores changed: only stored images holding one of them can match differently.
    pub changed_names: BTreeSet<String>,
}

/// A downloaded feed document, or the pages of the NVD API.
struct Fetched {
    /// NVD API pages, when the source is the paginated API.
    pages: Option<Vec<Vec<u8>>>,
    bytes: Option<Vec<u8>>,
    folder: Option<PathBuf>,
    label: String,
    etag: Option<String>,
    last_modified: Option<String>,
}

/// What [`fetch_source`] got: the network half of a sync, handed to [`apply_source`].
pub struct FetchedSource {
    inner: FetchState,
    requests: usize,
}

enum FetchState {
    /// The server answered 304 Not Modified.
    NotModified,
    /// A downloaded document or the NVD API pages.
    Remote(Fetched),
    /// A local path, read by [`apply_source`] (on the caller's blocking thread).
    Local(PathBuf),
}

impl fmt::Debug for FetchedSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.inner {
            FetchState::NotModified => "not modified".to_string(),
            FetchState::Remote(r) => format!("downloaded {}", r.label),
            FetchState::Local(p) => format!("local {}", p.display()),
        };
        f.debug_struct("FetchedSource")
            .field("state", &state)
            .field("requests", &self.requests)
            .finish()
    }
}

/// The HTTP validators of the last successful sync of a source (sent as `If-None-Match` /
/// `If-Modified-Since` so an unchanged feed is not downloaded again).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    /// `ETag` of the last download.
    pub etag: Option<String>,
    /// `Last-Modified` of the last download.
    pub last_modified: Option<String>,
}

impl Validators {
    /// The validators stored for `source`; empty unless its last attempt succeeded.
    pub fn of(store: &Store, source: &FeedSource) -> Result<Self, VulnDbError> {
        Ok(match store.source_status(&source.key())? {
            Some(s) if s.last_error.is_none() && s.last_sync.is_some() => Validators {
                etag: s.etag,
                last_modified: s.last_modified,
            },
            _ => Validators::default(),
        })
    }
}

async fn fetch_url(
    key: &str,
    url: &str,
    validators: &Validators,
    limits: Limits,
    api_key: Option<&SecretString>,
) -> Result<Option<Fetched>, VulnDbError> {
    let http_err = |message: String| VulnDbError::Http {
        feed: key.to_string(),
        url: url.to_string(),
        message,
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(limits.http_timeout_secs))
        .build()
        .map_err(|e| http_err(e.to_string()))?;
    let mut req = client.get(url);
    if let Some(e) = &validators.etag {
        req = req.header(reqwest::header::IF_NONE_MATCH, e);
    }
    if let Some(lm) = &validators.last_modified {
        req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
    }
    if let Some(k) = api_key {
        // The key goes in a header only; it never appears in URLs, logs or errors.
        req = req.header("apiKey", k.expose_secret());
    }
    let mut resp = req.send().await.map_err(|e| http_err(e.to_string()))?;
    if resp.status() == reqwest::StatusCode::NOT_MODIFIED {
        return Ok(None);
    }
    if !resp.status().is_success() {
        return Err(http_err(format!("status {}", resp.status())));
    }
    let header = |name: reqwest::header::HeaderName| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let new_etag = header(reqwest::header::ETAG);
    let new_lm = header(reqwest::header::LAST_MODIFIED);
    let too_large = || VulnDbError::Limit {
        feed: key.to_string(),
        message: format!("{url} is larger than {} bytes", limits.max_document_bytes),
    };
    if let Some(len) = resp.content_length()
        && len > limits.max_document_bytes
    {
        return Err(VulnDbError::Limit {
            feed: key.to_string(),
            message: format!("{url} is {len} bytes (limit {})", limits.max_document_bytes),
        });
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| http_err(format!("reading body: {e}")))?
    {
        if (bytes.len() + chunk.len()) as u64 > limits.max_document_bytes {
            return Err(too_large());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(Fetched {
        pages: None,
        bytes: Some(bytes),
        folder: None,
        label: url.to_string(),
        etag: new_etag,
        last_modified: new_lm,
    }))
}

/// Path of the NVD CVE API 2.0 (paginated with `startIndex`).
const NVD_API_PATH: &str = "/rest/json/cves/2.0";

/// Fetch every page of the NVD CVE API 2.0 (with the API key of the options, if any).
async fn fetch_nvd_pages(
    key: &str,
    url: &str,
    options: &SyncOptions,
    requests: &mut usize,
) -> Result<Vec<Vec<u8>>, VulnDbError> {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(rename = "totalResults")]
        total: u64,
        #[serde(rename = "resultsPerPage")]
        per_page: u64,
    }
    let limits = options.limits;
    let sep = if url.contains('?') { '&' } else { '?' };
    let mut pages = Vec::new();
    let mut start = 0u64;
    loop {
        let page_url = format!("{url}{sep}startIndex={start}");
        *requests += 1;
        let fetched = fetch_url(
            key,
            &page_url,
            &Validators::default(),
            limits,
            options.nvd_api_key.as_ref(),
        )
        .await?
        .ok_or_else(|| VulnDbError::Http {
            feed: key.to_string(),
            url: page_url.clone(),
            message: "unexpected 304 without validators".into(),
        })?;
        let bytes = fetched.bytes.unwrap_or_default();
        let head: Head = serde_json::from_slice(&bytes).map_err(|e| VulnDbError::Document {
            feed: key.to_string(),
            path: page_url.clone(),
            message: e.to_string(),
        })?;
        pages.push(bytes);
        start += head.per_page;
        if head.per_page == 0 || start >= head.total {
            return Ok(pages);
        }
        if pages.len() >= limits.max_nvd_pages {
            return Err(VulnDbError::Limit {
                feed: key.to_string(),
                message: format!("more than {} NVD API pages", limits.max_nvd_pages),
            });
        }
        tokio::time::sleep(Duration::from_millis(limits.nvd_page_delay_ms)).await;
    }
}

/// The network half of a sync: downloads a URL source (conditionally, with `validators`) or
/// the NVD API pages. A local source is only noted here and read by [`apply_source`], so that
/// everything blocking (file reads, parsing, SQLite) happens in one place the caller puts on a
/// blocking thread.
pub async fn fetch_source(
    source: &FeedSource,
    validators: &Validators,
    options: &SyncOptions,
) -> Result<FetchedSource, VulnDbError> {
    let key = source.key();
    let mut requests = 0;
    let inner = match &source.location {
        Location::Url(url) if source.kind == FeedKind::Nvd && url.contains(NVD_API_PATH) => {
            let pages = fetch_nvd_pages(&key, url, options, &mut requests).await?;
            FetchState::Remote(Fetched {
                bytes: None,
                folder: None,
                label: url.clone(),
                etag: None,
                last_modified: None,
                pages: Some(pages),
            })
        }
        Location::Url(url) => {
            requests += 1;
            match fetch_url(&key, url, validators, options.limits, None).await? {
                Some(f) => FetchState::Remote(f),
                None => FetchState::NotModified,
            }
        }
        Location::Path(p) => FetchState::Local(p.clone()),
    };
    Ok(FetchedSource { inner, requests })
}

fn fetch_path(key: &str, path: &Path, limits: Limits) -> Result<Fetched, VulnDbError> {
    let meta = std::fs::metadata(path).map_err(|source| VulnDbError::Io {
        feed: key.to_string(),
        path: path.display().to_string(),
        source,
    })?;
    let label = path.display().to_string();
    if meta.is_dir() {
        Ok(Fetched {
            pages: None,
            bytes: None,
            folder: Some(path.to_path_buf()),
            label,
            etag: None,
            last_modified: None,
        })
    } else {
        Ok(Fetched {
            pages: None,
            bytes: Some(read_file_limited(key, path, limits.max_document_bytes)?),
            folder: None,
            label,
            etag: None,
            last_modified: None,
        })
    }
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06")
}

/// The record files of a fetched source: a zip's entries, a folder's files, or the one document.
fn record_files(key: &str, fetched: Fetched, limits: Limits) -> Result<RecordIter, VulnDbError> {
    if let Some(folder) = fetched.folder {
        return folder_records(key, &folder, limits);
    }
    let mut bytes = fetched.bytes.unwrap_or_default();
    let mut label = fetched.label.clone();
    if bytes.starts_with(&[0x1f, 0x8b]) {
        // NVD yearly files and mirrors ship gzip-compressed documents.
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .take(limits.max_document_bytes + 1)
            .read_to_end(&mut out)
            .map_err(|e| VulnDbError::Archive {
                feed: key.to_string(),
                path: label.clone(),
                message: format!("gzip: {e}"),
            })?;
        if out.len() as u64 > limits.max_document_bytes {
            return Err(VulnDbError::Limit {
                feed: key.to_string(),
                message: format!(
                    "{label} inflates to more than {} bytes",
                    limits.max_document_bytes
                ),
            });
        }
        bytes = out;
        if let Some(stripped) = label.strip_suffix(".gz") {
            label = stripped.to_string();
        }
    }
    if is_zip(&bytes) {
        return zip_records(key, &label, bytes, limits);
    }
    let name = if crate::input::is_record_name(&label) {
        label
    } else {
        format!("{label}.json")
    };
    Ok(Box::new(std::iter::once(Ok(crate::input::RecordFile {
        name,
        content: Ok(bytes),
    }))))
}

fn items(kind: FeedKind, files: RecordIter) -> Result<ItemIter, VulnDbError> {
    let driver: &dyn FeedDriver = match kind {
        FeedKind::Osv => &osv::OsvDriver,
        FeedKind::DebianTracker => &debian::DebianDriver,
        FeedKind::AlpineSecdb => &alpine::AlpineDriver,
        FeedKind::Nvd => &nvd::NvdDriver,
    };
    driver.items(files)
}

/// Sync one source into the store: [`fetch_source`] then [`apply_source`]. The apply half
/// (parsing, SQLite writes) runs on the calling task: one-shot callers (the CLI, tests) use
/// this; a server fetches with [`fetch_source`] and applies on a blocking thread. On error
/// nothing of this sync is applied, the previous store content stays as it was, and the error
/// is recorded as the source's `last_error`.
pub async fn sync_source(
    store: &mut Store,
    source: &FeedSource,
    options: &SyncOptions,
) -> Result<SyncReport, VulnDbError> {
    let started = Instant::now();
    let fetched = match Validators::of(store, source) {
        Ok(v) => fetch_source(source, &v, options).await,
        Err(e) => Err(e),
    };
    let mut report = apply_source(store, source, fetched, options)?;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}

/// The blocking half of a sync: reads a local source, parses the records with the source's
/// driver and applies them to the store in one transaction. `fetched` is what
/// [`fetch_source`] returned; a fetch error is recorded as the source's `last_error` like any
/// other failure, and returned.
pub fn apply_source(
    store: &mut Store,
    source: &FeedSource,
    fetched: Result<FetchedSource, VulnDbError>,
    options: &SyncOptions,
) -> Result<SyncReport, VulnDbError> {
    let key = source.key();
    let kind = source.kind.as_str();
    let location = source.location_str();
    match fetched.and_then(|f| apply_inner(store, source, f, options)) {
        Ok(r) => Ok(r),
        Err(e) => {
            // Recording the failure is best effort: the original error is what matters.
            let _ = store.record_failure(&key, kind, &location, &e.to_string());
            Err(e)
        }
    }
}

/// The first range or listed version of `adv` that its ecosystem's ordering cannot read, even
/// with the lenient reading OSV consumers apply; such a record is stored but can only be
/// partially evaluated.
pub(crate) fn unreadable_version(adv: &Advisory) -> Option<String> {
    for a in &adv.affected {
        let eco = Scheme::for_ecosystem(&a.ecosystem);
        for r in &a.ranges {
            let scheme = match r.kind {
                RangeKind::Git => continue,
                RangeKind::Semver if !matches!(eco, Scheme::Npm | Scheme::Go | Scheme::Semver) => {
                    Scheme::Semver
                }
                _ => eco,
            };
            for e in &r.events {
                let v = e.version();
                if matches!(e, Event::Introduced(x) if x == "0")
                    || matches!(e, Event::Limit(x) if x == "*")
                {
                    continue;
                }
                if let Err(err) = Version::parse_advisory(scheme, v) {
                    return Some(format!("{} {}: {err}", a.ecosystem, a.name));
                }
            }
        }
    }
    None
}

fn apply_inner(
    store: &mut Store,
    source: &FeedSource,
    fetched: FetchedSource,
    options: &SyncOptions,
) -> Result<SyncReport, VulnDbError> {
    let started = Instant::now();
    let key = source.key();
    let kind = source.kind.as_str();
    let location = source.location_str();
    let mut report = SyncReport {
        source: key.clone(),
        requests: fetched.requests,
        ..SyncReport::default()
    };
    let fetched = match fetched.inner {
        FetchState::NotModified => {
            let state = store.source_status(&key)?;
            store.record_unchanged(&key, kind, &location, options.now.unwrap_or_else(Utc::now))?;
            report.not_modified = true;
            report.record_count = state.map(|s| s.record_count).unwrap_or(0);
            report.elapsed_ms = started.elapsed().as_millis() as u64;
            return Ok(report);
        }
        FetchState::Remote(f) => f,
        FetchState::Local(p) => fetch_path(&key, &p, options.limits)?,
    };
    let etag = fetched.etag.clone();
    let last_modified = fetched.last_modified.clone();
    let files = match fetched.pages {
        Some(pages) => Box::new(pages.into_iter().enumerate().map(|(i, b)| {
            Ok(crate::input::RecordFile {
                name: format!("nvd-page-{i}.json"),
                content: Ok(b),
            })
        })) as RecordIter,
        None => record_files(&key, fetched, options.limits)?,
    };
    let stream = items(source.kind, files)?;
    let now = options.now.unwrap_or_else(Utc::now);
    let mut apply = store.begin_apply(&key, kind, &location, now)?;
    let mut applied = 0usize;
    for item in stream {
        if options.abort_after.is_some_and(|n| applied >= n) {
            return Err(VulnDbError::Aborted {
                feed: key,
                message: format!("injected abort after {applied} records"),
            });
        }
        let outcome = match item? {
            Item::Advisory(a) => {
                if let Some(why) = unreadable_version(&a) {
                    report.partial += 1;
                    if report.partial_samples.len() < 20 {
                        report.partial_samples.push(format!("{}: {why}", a.id));
                    }
                }
                apply.advisory(&a)?
            }
            Item::Nvd(n) => apply.nvd(&n)?,
            Item::Malformed(m) => {
                report.malformed += 1;
                if report.malformed_samples.len() < 20 {
                    report.malformed_samples.push(m);
                }
                continue;
            }
        };
        applied += 1;
        match outcome {
            Applied::Added => report.added += 1,
            Applied::Updated => report.updated += 1,
            Applied::Unchanged => report.unchanged += 1,
            Applied::Older => report.older += 1,
        }
    }
    let (removed, count, changed) = apply.commit(
        etag.as_deref(),
        last_modified.as_deref(),
        report.malformed,
        report.partial,
    )?;
    report.removed = removed;
    report.record_count = count;
    report.changed_names = changed;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    Ok(report)
}
