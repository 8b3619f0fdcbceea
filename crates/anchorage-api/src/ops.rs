//! Operations endpoints and request observation: `/ready` (readiness: database, migrations,
//! feeds), `/metrics` (Prometheus, OpenMetrics text), the probe-only router of the worker role,
//! and the middleware that gives every request an id (`x-request-id`, taken or generated,
//! echoed), a tracing span carrying it, and a latency observation by route template.
//!
//! These endpoints are not part of the Anchore v1 API and stay out of its documents: `/ready`
//! answers 503 by design while the process is not ready.

use std::time::{Duration, Instant};

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequestParts as _, MatchedPath, State};
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tracing::Instrument as _;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;
use crate::util::now;

/// The request id header (taken from the request when sent, else generated; always echoed).
pub const REQUEST_ID: &str = "x-request-id";

/// How long a readiness or metrics check waits for the database or the feed store.
const CHECK_TIMEOUT: Duration = Duration::from_secs(3);

/// A request id the caller sent, if it is a sane token (no spaces or control characters, at
/// most 128 bytes), so it cannot forge log lines.
fn given_request_id(request: &Request<Body>) -> Option<String> {
    let v = request.headers().get(REQUEST_ID)?.to_str().ok()?;
    let ok = !v.is_empty()
        && v.len() <= 128
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=@".contains(&b));
    ok.then(|| v.to_string())
}

/// Whether a route is a probe or scrape (logged at debug, not info).
fn is_probe(route: &str) -> bool {
    matches!(route, "/health" | "/ready" | "/metrics")
}

/// Middleware: request id, span, access log line, latency histogram.
pub(crate) async fn observe(request: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let id =
        given_request_id(&request).unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
    let method = request.method().as_str().to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string());
    let span = tracing::info_span!("request", request_id = %id, method = %method, route = %route);
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    anchorage_metrics::observe_http(&method, &route, status, seconds);
    span.in_scope(|| {
        let ms = seconds * 1000.0;
        if is_probe(&route) {
            tracing::debug!(status, latency_ms = ms, "request");
        } else {
            tracing::info!(status, latency_ms = ms, "request");
        }
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
}

/// One readiness check's outcome.
fn check(ok: bool, detail: impl Into<String>) -> Value {
    json!({"ok": ok, "detail": detail.into()})
}

/// `GET /ready`: 200 when the database answers, every migration this program knows is
/// applied and the vulnerability feeds synced at least once; else 503 with the first reason.
pub(crate) async fn ready(State(state): State<AppState>) -> Response {
    let db = tokio::time::timeout(CHECK_TIMEOUT, state.db().missing_migration()).await;
    let (database, migrations, mut reason) = match db {
        Ok(Ok(None)) => (check(true, "reachable"), check(true, "current"), None),
        Ok(Ok(Some(v))) => (
            check(true, "reachable"),
            check(false, format!("migration {v} is not applied")),
            Some(format!(
                "database migration {v} is not applied (run anchorage migrate)"
            )),
        ),
        Ok(Err(e)) => (
            check(false, e.to_string()),
            check(false, "unknown"),
            Some(format!("database unavailable: {e}")),
        ),
        Err(_) => (
            check(false, "no answer"),
            check(false, "unknown"),
            Some(format!(
                "database did not answer within {} s",
                CHECK_TIMEOUT.as_secs()
            )),
        ),
    };
    let feeds = match tokio::time::timeout(CHECK_TIMEOUT, state.engine().feed_status()).await {
        Ok(Ok(s)) => {
            let synced = s.sources.iter().filter(|s| s.last_sync.is_some()).count();
            if synced > 0 {
                check(true, format!("{synced} source(s) synced"))
            } else {
                reason.get_or_insert_with(|| {
                    "the vulnerability feeds have not synced yet".to_string()
                });
                check(false, "never synced")
            }
        }
        Ok(Err(e)) => {
            reason.get_or_insert_with(|| format!("vulnerability store unavailable: {e}"));
            check(false, e.to_string())
        }
        Err(_) => {
            reason.get_or_insert_with(|| "the vulnerability store did not answer".to_string());
            check(false, "no answer")
        }
    };
    let checks = json!({"database": database, "migrations": migrations, "feeds": feeds});
    match reason {
        None => (
            StatusCode::OK,
            Json(json!({"status": "ready", "checks": checks})),
        )
            .into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready", "reason": reason, "checks": checks})),
        )
            .into_response(),
    }
}

/// Sets the gauges of shared state (queue depth, processes up, feed ages) before a scrape;
/// a source that does not answer in time keeps its last values.
async fn refresh_gauges(state: &AppState) {
    if let Ok(Ok(depths)) =
        tokio::time::timeout(CHECK_TIMEOUT, state.db().queue_depth_by_kind()).await
    {
        let mut rows: Vec<(String, i64, i64)> = depths
            .into_iter()
            .map(|d| (d.kind, d.queued, d.running))
            .collect();
        // The analysis kinds are always reported (zero when idle).
        for kind in [anchorage_store::ANALYZE, anchorage_store::ANALYZE_FORCE] {
            if !rows.iter().any(|r| r.0 == kind) {
                rows.push((kind.to_string(), 0, 0));
            }
        }
        anchorage_metrics::set_queue_depth(&rows);
    }
    if let Ok(Ok(n)) = tokio::time::timeout(CHECK_TIMEOUT, state.db().notification_counts()).await {
        // The webhook backlog (waiting or being delivered) and the dead letters, cluster-wide.
        anchorage_metrics::set_notifications_pending(n.pending + n.delivering);
        anchorage_metrics::set_notifications_dead(n.dead);
    }
    if let Ok(Ok(services)) = tokio::time::timeout(CHECK_TIMEOUT, state.db().services()).await {
        let t = now();
        let mut counts: Vec<(String, i64)> = ["api", "worker", "all"]
            .iter()
            .map(|r| (r.to_string(), 0))
            .collect();
        for s in services.iter().filter(|s| s.is_up(t)) {
            if let Some(c) = counts.iter_mut().find(|(r, _)| *r == s.role) {
                c.1 += 1;
            }
        }
        anchorage_metrics::set_services_up(&counts);
    }
    if let Ok(Ok(status)) = tokio::time::timeout(CHECK_TIMEOUT, state.engine().feed_status()).await
    {
        let t = chrono::Utc::now();
        let ages: Vec<(String, f64)> = status
            .sources
            .iter()
            .filter_map(|s| {
                let last = s.last_sync?;
                let age = (t - last).num_milliseconds().max(0) as f64 / 1000.0;
                Some((s.key.clone(), age))
            })
            .collect();
        anchorage_metrics::set_feed_ages(&ages);
    }
}

/// `GET /metrics`: the process' metrics as OpenMetrics text. 404 when `metrics.enabled` is
/// false; basic auth unless `metrics.auth_disabled`.
pub(crate) async fn metrics(State(state): State<AppState>, request: Request<Body>) -> Response {
    let config = &state.inner.config;
    if !config.metrics_enabled {
        return ApiError::not_found("metrics are disabled (metrics.enabled)").into_response();
    }
    if !config.metrics_auth_disabled {
        let (mut parts, _) = request.into_parts();
        if let Err(e) = Caller::from_request_parts(&mut parts, &state).await {
            return e.into_response();
        }
    }
    refresh_gauges(&state).await;
    let text = anchorage_metrics::encode();
    (
        [(header::CONTENT_TYPE, anchorage_metrics::CONTENT_TYPE)],
        text,
    )
        .into_response()
}
