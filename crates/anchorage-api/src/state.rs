//! What every handler shares: the store, the engine, the secret sealer, watch mode and
//! a small cache of decoded analyses.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use anchorage_engine::{Analysis, Engine};
use anchorage_store::{ArchiveStore, Database, Sealer};
use anchorage_vulndb::FeedSource;
use secrecy::SecretString;

use crate::error::{ApiError, ApiResult};

/// Settings of the API.
#[derive(Clone)]
pub struct ApiConfig {
    /// Password of the bootstrap admin user.
    pub admin_password: SecretString,
    /// Email of the admin account.
    pub admin_email: Option<String>,
    /// Largest request body, bytes.
    pub max_request_bytes: usize,
    /// Registries every pull may reach over plain HTTP (`ANCHORAGE_INSECURE_REGISTRIES`).
    pub insecure_registries: Vec<String>,
    /// Feed sources of `POST system/feeds` and the start-up sync.
    pub feed_sources: Vec<FeedSource>,
    /// Attempts of an analysis job.
    pub max_attempts: i64,
    /// This process' host id (`GET system`).
    pub host_id: String,
    /// Base URL of this process (`GET system` when the process list cannot be read).
    pub base_url: String,
    /// This process' role: `api`, `worker` or `all`.
    pub role: String,
    /// Whether `GET /metrics` is served (`metrics.enabled`).
    pub metrics_enabled: bool,
    /// Whether `GET /metrics` is served without basic auth (`metrics.auth_disabled`).
    pub metrics_auth_disabled: bool,
}

impl std::fmt::Debug for ApiConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiConfig")
            .field("max_request_bytes", &self.max_request_bytes)
            .field("host_id", &self.host_id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// State shared by the handlers (cheap to clone).
#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) db: Database,
    pub(crate) engine: Engine,
    pub(crate) sealer: Sealer,
    pub(crate) config: ApiConfig,
    pub(crate) watch: anchorage_watch::Watch,
    pub(crate) analyses: Mutex<AnalysisCache>,
    pub(crate) auth_cache: Mutex<HashMap<String, [u8; 32]>>,
    /// The analysis archive's store (set once by the server; unset: archive calls answer 503).
    pub(crate) archive: std::sync::OnceLock<ArchiveStore>,
}

/// Decoded analyses by digest, the most recent few (decoding a large document costs more than
/// matching it).
#[derive(Default)]
pub(crate) struct AnalysisCache {
    map: HashMap<String, Arc<Analysis>>,
    order: VecDeque<String>,
}

const ANALYSIS_CACHE_SIZE: usize = 32;

impl AppState {
    /// Builds the state.
    pub fn new(
        db: Database,
        engine: Engine,
        sealer: Sealer,
        config: ApiConfig,
        watch: anchorage_watch::Watch,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                db,
                engine,
                sealer,
                config,
                watch,
                analyses: Mutex::new(AnalysisCache::default()),
                auth_cache: Mutex::new(HashMap::new()),
                archive: std::sync::OnceLock::new(),
            }),
        }
    }

    /// Sets the analysis archive's store (`services.catalog.analysis_archive`); `false` when
    /// one was set already.
    pub fn set_archive_store(&self, store: ArchiveStore) -> bool {
        self.inner.archive.set(store).is_ok()
    }

    /// The analysis archive's store, or 503 when the server has none.
    pub(crate) fn archive_store(&self) -> ApiResult<&ArchiveStore> {
        self.inner.archive.get().ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "the analysis archive is not configured (services.catalog.analysis_archive)",
            )
        })
    }

    /// The store.
    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Watch mode (subscriptions, cycles, notifications).
    pub fn watch(&self) -> &anchorage_watch::Watch {
        &self.inner.watch
    }

    /// The analysis of `digest`, from the cache or decoded from the store.
    pub(crate) async fn analysis(&self, digest: &str) -> ApiResult<Arc<Analysis>> {
        if let Some(a) = self
            .inner
            .analyses
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map
            .get(digest)
        {
            return Ok(a.clone());
        }
        let doc = self
            .inner
            .db
            .analysis_document(digest)
            .await?
            .ok_or_else(|| ApiError::not_found(format!("no analysis stored for {digest}")))?;
        let digest_owned = digest.to_string();
        let analysis =
            tokio::task::spawn_blocking(move || serde_json::from_slice::<Analysis>(&doc))
                .await
                .map_err(|e| ApiError::internal("decoding an analysis", &e))?
                .map_err(|e| {
                    ApiError::internal(&format!("decoding the analysis of {digest_owned}"), &e)
                })?;
        let analysis = Arc::new(analysis);
        let mut cache = self
            .inner
            .analyses
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if cache
            .map
            .insert(digest.to_string(), analysis.clone())
            .is_none()
        {
            cache.order.push_back(digest.to_string());
            while cache.order.len() > ANALYSIS_CACHE_SIZE {
                if let Some(old) = cache.order.pop_front() {
                    cache.map.remove(&old);
                }
            }
        }
        Ok(analysis)
    }

    /// Forgets a cached analysis (re-analysed or deleted).
    pub(crate) fn forget_analysis(&self, digest: &str) {
        let mut cache = self
            .inner
            .analyses
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if cache.map.remove(digest).is_some() {
            cache.order.retain(|d| d != digest);
        }
    }
}
