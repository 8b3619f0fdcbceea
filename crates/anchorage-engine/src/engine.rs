//! [`Engine`]: the long-lived pipeline handle.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anchorage_catalog::Analysis;
use anchorage_image::{
    AcquireRequest, AcquiredImage, Acquirer, ImageFs, RegistryClient, SquashOptions,
};
use anchorage_match::{Explanation, Finding, FindingsDiff, MatchReport};
use anchorage_policy::{Evaluation, ValidBundle};
use anchorage_types::FeedGroupStatus;
use anchorage_vulndb::{FeedSource, SourceStatus, Store, SyncOptions, SyncReport, VulnDbError};
use chrono::{DateTime, Utc};

use crate::analyze::AnalyzeSettings;
use crate::error::EngineError;

/// Everything an [`Engine`] is built from (resolved from the settings by the caller).
#[derive(Debug, Clone)]
pub struct EngineOptions {
    /// Acquisition, squash and catalog settings.
    pub analysis: AnalyzeSettings,
    /// Directory of the vulnerability store (`vulndb.sqlite`); opened on first use, so
    /// commands that never match do not create it.
    pub vulndb_dir: PathBuf,
    /// Feed sync limits and the NVD API key.
    pub sync: SyncOptions,
}

/// What one server-side analysis adds to the engine's settings: the account's registry
/// credentials and insecure registries, and the Dockerfile given with the image.
#[derive(Debug, Clone, Default)]
pub struct ImageAccess {
    /// Credentials (matched by `host[:port]`); they win over the engine's own.
    pub credentials: Vec<anchorage_image::RegistryCredential>,
    /// Registries reached over plain HTTP or unverified TLS, besides the engine's own.
    pub insecure_registries: Vec<String>,
    /// Dockerfile text for the dockerfile gate.
    pub dockerfile: Option<String>,
}

/// The result of matching one analysis.
#[derive(Debug, Clone)]
pub struct Vulnerabilities {
    /// Findings, coverage and warnings.
    pub report: MatchReport,
    /// Feed group state at match time (what policy's feed triggers read).
    pub feeds: Vec<FeedGroupStatus>,
    /// Number of feed sources ever synced into the store (0: the store is empty).
    pub sources_synced: usize,
}

/// What one policy evaluation reads, owned so it can move to a blocking thread.
#[derive(Debug, Clone)]
pub struct EvaluateRequest {
    /// The analysis.
    pub analysis: Arc<Analysis>,
    /// The match whose findings the vulnerability gates read (never filtered for display).
    pub report: Arc<MatchReport>,
    /// Feed group state.
    pub feeds: Vec<FeedGroupStatus>,
    /// Normalized tag that selects the mapping; `None` means the analysis' own reference.
    pub tag: Option<String>,
    /// Image digest reported in the evaluation; `None` means the analysis' manifest digest.
    pub image_digest: Option<String>,
    /// Evaluation time.
    pub now: DateTime<Utc>,
}

/// The state of every synced source and feed group.
#[derive(Debug, Clone)]
pub struct FeedStatus {
    /// Directory of the store.
    pub dir: PathBuf,
    /// Each source.
    pub sources: Vec<SourceStatus>,
    /// Each feed group.
    pub groups: Vec<FeedGroupStatus>,
}

/// The vulnerability store, opened on first use and shared by every caller (one SQLite
/// connection behind a mutex, used only on blocking threads).
struct VulnStore {
    dir: PathBuf,
    store: Mutex<Option<Store>>,
}

impl VulnStore {
    /// Runs `f` with the open store, opening it on first use. Call only on a blocking thread.
    fn with<T>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, EngineError>,
    ) -> Result<T, EngineError> {
        // A panic while holding the lock leaves a store whose transaction was rolled back by
        // SQLite: the connection is still usable.
        let mut guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none() {
            let store = Store::open_dir(&self.dir).map_err(|e| self.error(e))?;
            *guard = Some(store);
        }
        match guard.as_mut() {
            Some(store) => f(store),
            None => Err(self.error(VulnDbError::BadSource("store not open".into()))),
        }
    }

    fn error(&self, e: VulnDbError) -> EngineError {
        EngineError::Store {
            dir: self.dir.clone(),
            error: Box::new(e),
        }
    }
}

/// One stored analysis to match again ([`Engine::rematch_batch`]).
#[derive(Debug, Clone)]
pub struct RematchItem {
    /// Caller's key (the image digest).
    pub key: String,
    /// The analysis (file records may be left out: matching reads packages and distro).
    pub analysis: Analysis,
    /// Findings of the last match, when there was one.
    pub previous: Option<Vec<Finding>>,
}

/// What matching one analysis again found.
#[derive(Debug, Clone)]
pub struct RematchOutcome {
    /// The item's key.
    pub key: String,
    /// The new findings.
    pub report: MatchReport,
    /// Difference from the previous findings, when they were given.
    pub diff: Option<FindingsDiff>,
}

/// The pipeline, built once and shared (cheap to clone: every part is behind an `Arc`).
#[derive(Clone)]
pub struct Engine {
    acquirer: Acquirer,
    acquire_options: Arc<anchorage_image::AcquireOptions>,
    squash: Arc<SquashOptions>,
    catalog: Arc<anchorage_catalog::CatalogOptions>,
    malware: Arc<Option<anchorage_malware::ScanOptions>>,
    sync: Arc<SyncOptions>,
    store: Arc<VulnStore>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("acquirer", &self.acquirer)
            .field("vulndb_dir", &self.store.dir)
            .finish_non_exhaustive()
    }
}

async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> Result<T, EngineError> + Send + 'static,
) -> Result<T, EngineError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::Task {
            what,
            reason: e.to_string(),
        })?
}

impl Engine {
    /// Builds the engine: opens the blob cache and builds the registry client (no network,
    /// no runtime needed). The vulnerability store is opened on first use.
    pub fn new(options: EngineOptions) -> Result<Self, EngineError> {
        let acquire_options = Arc::new(options.analysis.acquire.clone());
        let acquirer =
            Acquirer::new(options.analysis.acquire).map_err(|e| EngineError::Acquire {
                source_ref: "(blob cache and registry client)".into(),
                error: Box::new(e),
            })?;
        Ok(Self {
            acquirer,
            acquire_options,
            squash: Arc::new(options.analysis.squash),
            catalog: Arc::new(options.analysis.catalog),
            malware: Arc::new(options.analysis.malware),
            sync: Arc::new(options.sync),
            store: Arc::new(VulnStore {
                dir: options.vulndb_dir,
                store: Mutex::new(None),
            }),
        })
    }

    /// The long-lived registry client: `resolve_digest` (manifest HEAD) and `list_tags`
    /// (paginated) for watchers, sharing the token cache with analyses.
    pub fn registry(&self) -> &RegistryClient {
        self.acquirer.registry()
    }

    /// Directory of the vulnerability store.
    pub fn vulndb_dir(&self) -> &Path {
        &self.store.dir
    }

    /// Acquires an image (manifest, config and verified layer blobs in the blob cache).
    pub async fn acquire(
        &self,
        source: &str,
        request: &AcquireRequest,
    ) -> Result<AcquiredImage, EngineError> {
        self.acquirer
            .acquire(source, request)
            .await
            .map_err(|e| EngineError::Acquire {
                source_ref: source.to_string(),
                error: Box::new(e),
            })
    }

    /// Squashes an acquired image's layers into one read-only file tree (on a blocking
    /// thread); returns the image with its tree.
    pub async fn open_fs(
        &self,
        image: AcquiredImage,
    ) -> Result<(AcquiredImage, Box<dyn ImageFs>), EngineError> {
        let squash = self.squash.clone();
        blocking("squash", move || {
            let fs =
                anchorage_image::open_fs(&image, &squash).map_err(|e| EngineError::Squash {
                    source_ref: image.input.clone(),
                    error: Box::new(e),
                })?;
            Ok((image, fs))
        })
        .await
    }

    /// Analyzes the image at `source` (`registry:REF`, `docker-archive:PATH`,
    /// `oci-archive:PATH`, `oci-dir:PATH`, `dir:PATH` or a bare reference): acquire, then
    /// squash and catalog on a blocking thread.
    pub async fn analyze(
        &self,
        source: &str,
        request: &AcquireRequest,
    ) -> Result<Analysis, EngineError> {
        self.analyze_inner(source, request, None, self.catalog.clone())
            .await
    }

    /// [`Engine::analyze`] with an account's registry access and the image's Dockerfile (the
    /// server's analysis jobs). With extra credentials or insecure registries the pull uses its
    /// own registry client (tokens are never shared across accounts); blobs still come from
    /// the shared, digest-verified cache.
    pub async fn analyze_with(
        &self,
        source: &str,
        request: &AcquireRequest,
        access: ImageAccess,
    ) -> Result<Analysis, EngineError> {
        let acquirer = self.access_acquirer(source, &access)?;
        let catalog = match access.dockerfile {
            Some(text) => {
                let mut c = (*self.catalog).clone();
                c.dockerfile = Some(text);
                Arc::new(c)
            }
            None => self.catalog.clone(),
        };
        self.analyze_inner(source, request, acquirer.as_ref(), catalog)
            .await
    }

    /// The manifest digest a tag points at now (manifest HEAD), with an account's registry
    /// access (see [`Engine::analyze_with`]).
    pub async fn resolve_digest_with(
        &self,
        reference: &str,
        access: &ImageAccess,
    ) -> Result<anchorage_types::Digest, EngineError> {
        let acquire_err = |e| EngineError::Acquire {
            source_ref: reference.to_string(),
            error: Box::new(e),
        };
        match self.access_acquirer(reference, access)? {
            Some(a) => a
                .registry()
                .resolve_digest(reference)
                .await
                .map_err(acquire_err),
            None => self
                .registry()
                .resolve_digest(reference)
                .await
                .map_err(acquire_err),
        }
    }

    /// Every tag of a repository (`registry/repo`, paginated), with an account's registry
    /// access (the repository watcher).
    pub async fn list_tags_with(
        &self,
        repository: &str,
        access: &ImageAccess,
    ) -> Result<Vec<String>, EngineError> {
        let acquire_err = |e| EngineError::Acquire {
            source_ref: repository.to_string(),
            error: Box::new(e),
        };
        match self.access_acquirer(repository, access)? {
            Some(a) => a
                .registry()
                .list_tags(repository)
                .await
                .map_err(acquire_err),
            None => self
                .registry()
                .list_tags(repository)
                .await
                .map_err(acquire_err),
        }
    }

    /// A one-off acquirer when the access adds credentials or insecure registries.
    fn access_acquirer(
        &self,
        source: &str,
        access: &ImageAccess,
    ) -> Result<Option<Acquirer>, EngineError> {
        if access.credentials.is_empty() && access.insecure_registries.is_empty() {
            return Ok(None);
        }
        let mut options = (*self.acquire_options).clone();
        let mut credentials = access.credentials.clone();
        credentials.extend(options.credentials);
        options.credentials = credentials;
        options
            .insecure_registries
            .extend(access.insecure_registries.iter().cloned());
        Acquirer::new(options)
            .map(Some)
            .map_err(|e| EngineError::Acquire {
                source_ref: source.to_string(),
                error: Box::new(e),
            })
    }

    async fn analyze_inner(
        &self,
        source: &str,
        request: &AcquireRequest,
        acquirer: Option<&Acquirer>,
        catalog: Arc<anchorage_catalog::CatalogOptions>,
    ) -> Result<Analysis, EngineError> {
        let started = Instant::now();
        let image = match acquirer {
            Some(a) => a
                .acquire(source, request)
                .await
                .map_err(|e| EngineError::Acquire {
                    source_ref: source.to_string(),
                    error: Box::new(e),
                })?,
            None => self.acquire(source, request).await?,
        };
        let acquired = started.elapsed();
        let squash = self.squash.clone();
        let malware = self.malware.clone();
        let source_ref = source.to_string();
        let (analysis, squashed, cataloged) = blocking("squash and catalog", move || {
            let fs =
                anchorage_image::open_fs(&image, &squash).map_err(|e| EngineError::Squash {
                    source_ref,
                    error: Box::new(e),
                })?;
            let squashed = started.elapsed();
            let mut analysis = anchorage_catalog::catalog(fs.as_ref(), &image, &catalog);
            let cataloged = started.elapsed();
            if let Some(options) = malware.as_ref() {
                record_malware(
                    &mut analysis,
                    anchorage_malware::scan_image(fs.as_ref(), options),
                );
            }
            Ok((analysis, squashed, cataloged))
        })
        .await?;
        tracing::debug!(
            source,
            acquire_ms = acquired.as_millis() as u64,
            squash_ms = (squashed - acquired).as_millis() as u64,
            catalog_ms = (cataloged - squashed).as_millis() as u64,
            malware_ms = (started.elapsed() - cataloged).as_millis() as u64,
            packages = analysis.packages.len(),
            files = analysis.files.len(),
            "analysis finished"
        );
        Ok(analysis)
    }

    /// Scans an image tree for malware with the engine's settings (on a blocking thread), for
    /// callers that squash themselves (`inspect`); `None` when no scanner is configured.
    /// Returns the tree with the outcome.
    pub async fn scan_malware(
        &self,
        fs: Box<dyn ImageFs>,
    ) -> Result<(Box<dyn ImageFs>, Option<anchorage_malware::ScanOutcome>), EngineError> {
        let malware = self.malware.clone();
        blocking("malware scan", move || {
            let outcome = malware
                .as_ref()
                .as_ref()
                .map(|options| anchorage_malware::scan_image(fs.as_ref(), options));
            Ok((fs, outcome))
        })
        .await
    }

    /// Matches an analysis against one consistent snapshot of the vulnerability store.
    pub async fn vulnerabilities(
        &self,
        analysis: Arc<Analysis>,
    ) -> Result<Vulnerabilities, EngineError> {
        let store = self.store.clone();
        blocking("matching", move || {
            store.with(|s| {
                let sources_synced = s.sources().map_err(|e| store.error(e))?.len();
                let feeds = s.group_status().map_err(|e| store.error(e))?;
                let snapshot = s.snapshot().map_err(|e| store.error(e))?;
                let report = anchorage_match::match_analysis(&analysis, &snapshot)
                    .map_err(|e| match_error(&analysis, e))?;
                Ok(Vulnerabilities {
                    report,
                    feeds,
                    sources_synced,
                })
            })
        })
        .await
    }

    /// Matches a stored analysis again (after a feed sync) and diffs the findings against
    /// `previous`: what a re-match job records and notifies.
    pub async fn rematch(
        &self,
        analysis: Arc<Analysis>,
        previous: Vec<Finding>,
    ) -> Result<(MatchReport, FindingsDiff), EngineError> {
        let store = self.store.clone();
        blocking("re-matching", move || {
            store.with(|s| {
                let snapshot = s.snapshot().map_err(|e| store.error(e))?;
                anchorage_match::rematch(&analysis, &snapshot, &previous)
                    .map_err(|e| match_error(&analysis, e))
            })
        })
        .await
    }

    /// Matches many stored analyses against one consistent snapshot (on one blocking
    /// thread) and diffs each against its previous findings, when given: the re-match after
    /// a feed change. Returns the feed group state of the snapshot with the outcomes.
    pub async fn rematch_batch(
        &self,
        items: Vec<RematchItem>,
    ) -> Result<(Vec<FeedGroupStatus>, Vec<RematchOutcome>), EngineError> {
        let store = self.store.clone();
        blocking("re-matching", move || {
            store.with(|s| {
                let feeds = s.group_status().map_err(|e| store.error(e))?;
                let snapshot = s.snapshot().map_err(|e| store.error(e))?;
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let report = anchorage_match::match_analysis(&item.analysis, &snapshot)
                        .map_err(|e| match_error(&item.analysis, e))?;
                    let diff = item
                        .previous
                        .as_deref()
                        .map(|p| anchorage_match::diff_findings(p, &report.findings));
                    out.push(RematchOutcome {
                        key: item.key,
                        report,
                        diff,
                    });
                }
                Ok((feeds, out))
            })
        })
        .await
    }

    /// Explains why `vuln_id` matched a package of the analysis, or why it did not.
    pub async fn explain(
        &self,
        analysis: Arc<Analysis>,
        vuln_id: String,
    ) -> Result<(Explanation, usize), EngineError> {
        let store = self.store.clone();
        blocking("explaining", move || {
            store.with(|s| {
                let sources_synced = s.sources().map_err(|e| store.error(e))?.len();
                let snapshot = s.snapshot().map_err(|e| store.error(e))?;
                let e = anchorage_match::explain(&analysis, &snapshot, &vuln_id)
                    .map_err(|e| match_error(&analysis, e))?;
                Ok((e, sources_synced))
            })
        })
        .await
    }

    /// Evaluates a validated bundle for one image (on a blocking thread).
    pub async fn evaluate(
        &self,
        bundle: Arc<ValidBundle>,
        request: EvaluateRequest,
    ) -> Result<Evaluation, EngineError> {
        blocking("policy evaluation", move || {
            let tag = request
                .tag
                .clone()
                .or_else(|| request.analysis.source.reference.clone())
                .unwrap_or_default();
            let mut input = anchorage_policy::EvaluationInput::new(
                &request.analysis,
                &request.report.findings,
                &request.report.coverage,
                &request.feeds,
                &tag,
                request.now,
            );
            if let Some(d) = &request.image_digest {
                input.image_digest = d.clone();
            }
            Ok(anchorage_policy::evaluate(&bundle, &input))
        })
        .await
    }

    /// Syncs each source in turn: downloads asynchronously, then parses and applies on a
    /// blocking thread. A failed source keeps its previous data and does not stop the others;
    /// the result lists each source with its report or error.
    pub async fn sync_feeds(
        &self,
        sources: &[FeedSource],
    ) -> Vec<(FeedSource, Result<SyncReport, EngineError>)> {
        let mut out = Vec::with_capacity(sources.len());
        for source in sources {
            let result = self.sync_one(source).await;
            out.push((source.clone(), result));
        }
        out
    }

    async fn sync_one(&self, source: &FeedSource) -> Result<SyncReport, EngineError> {
        let started = Instant::now();
        let (store, s) = (self.store.clone(), source.clone());
        let validators = blocking("reading feed state", move || {
            store.with(|st| anchorage_vulndb::Validators::of(st, &s).map_err(|e| store.error(e)))
        })
        .await?;
        let fetched = anchorage_vulndb::fetch_source(source, &validators, &self.sync).await;
        let (store, s, options) = (self.store.clone(), source.clone(), self.sync.clone());
        let mut report = blocking("applying a feed", move || {
            store.with(|st| {
                anchorage_vulndb::apply_source(st, &s, fetched, &options)
                    .map_err(|e| store.error(e))
            })
        })
        .await?;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    /// Every source and feed group of the store.
    pub async fn feed_status(&self) -> Result<FeedStatus, EngineError> {
        let store = self.store.clone();
        blocking("reading feed state", move || {
            store.with(|s| {
                Ok(FeedStatus {
                    dir: store.dir.clone(),
                    sources: s.sources().map_err(|e| store.error(e))?,
                    groups: s.group_status().map_err(|e| store.error(e))?,
                })
            })
        })
        .await
    }
}

/// Puts a malware scan's result and warnings into the analysis.
fn record_malware(analysis: &mut Analysis, outcome: anchorage_malware::ScanOutcome) {
    analysis.malware = outcome.scan.into_iter().collect();
    analysis.warnings.extend(outcome.warnings);
}

fn match_error(analysis: &Analysis, e: anchorage_match::MatchError) -> EngineError {
    EngineError::Match {
        image: analysis
            .source
            .reference
            .clone()
            .unwrap_or_else(|| analysis.source.input.clone()),
        error: Box::new(e),
    }
}
