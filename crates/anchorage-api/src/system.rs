//! Ping, health, version, the swagger document, system status and feeds (§1.1, §2.8).

use std::time::Instant;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::images::Params;
use crate::state::AppState;
use crate::util::{iso, now, parse_bool};

/// The API version anchore-cli reads from `swagger.json` (§1.4).
pub const API_VERSION: &str = "0.1.20";
/// Version of this program.
pub(crate) const SERVICE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// The service names `system wait` waits for (§9.10): this one process is all of them.
const SERVICES: &[&str] = &[
    "apiext",
    "catalog",
    "policy_engine",
    "simplequeue",
    "analyzer",
];
/// The one feed the vulnerability data is reported as.
const FEED: &str = "vulnerabilities";

/// `GET v1`: unauthenticated ping.
pub(crate) async fn ping() -> Json<Value> {
    Json(json!("v1"))
}

/// `GET health`.
pub(crate) async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

async fn schema_version(state: &AppState) -> String {
    state
        .db()
        .applied_migrations()
        .await
        .ok()
        .and_then(|m| m.last().map(|m| m.version.to_string()))
        .unwrap_or_else(|| "unknown".into())
}

/// `GET version`.
pub(crate) async fn version(State(state): State<AppState>) -> Json<Value> {
    Json(json!({
        "service": {"version": SERVICE_VERSION},
        "api": {"version": API_VERSION},
        "db": {"schema_version": schema_version(&state).await},
    }))
}

/// `GET swagger.json`: a Swagger 2.0 document of the routes (built from [`crate::routes`]),
/// with `info.version` as anchore-cli expects.
pub(crate) async fn swagger() -> Json<Value> {
    let mut paths = serde_json::Map::new();
    for r in crate::routes() {
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method.to_ascii_lowercase()] = json!({
            "summary": r.summary,
            "responses": {"200": {"description": "success"}, "default": {"description": "error envelope"}},
        });
    }
    Json(json!({
        "swagger": "2.0",
        "info": {"title": "Anchorage: Anchore Engine v1 API", "version": API_VERSION},
        "basePath": "/v1",
        "schemes": ["http", "https"],
        "securityDefinitions": {"basicAuth": {"type": "basic"}},
        "security": [{"basicAuth": []}],
        "paths": paths,
    }))
}

/// The OpenAPI 3.0 document, generated from the route table that builds the router
/// ([`crate::routes`]): every path, method, path and query parameter, body and auth
/// requirement; errors are the Anchore envelope.
pub fn openapi_document() -> Value {
    let mut paths = serde_json::Map::new();
    for r in crate::routes() {
        let mut parameters: Vec<Value> = r
            .path
            .split('/')
            .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| {
                json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}})
            })
            .collect();
        parameters.extend(r.query.iter().map(|(name, kind, description)| {
            json!({
                "name": name,
                "in": "query",
                "required": false,
                "description": description,
                "schema": {"type": kind},
            })
        }));
        let no_content = r.method == "DELETE" && r.path.starts_with("/accounts/");
        let success = if no_content {
            json!({"204": {"description": "done"}})
        } else {
            json!({"200": {"description": "success", "content": {"application/json": {"schema": {}}}}})
        };
        let mut responses = success;
        responses["default"] = json!({
            "description": "error (the Anchore envelope)",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        });
        let mut op = json!({
            "operationId": format!(
                "{}{}",
                r.method.to_ascii_lowercase(),
                r.path.replace(['{', '}'], "").replace('/', "_")
            ),
            "summary": r.summary,
            "parameters": parameters,
            "responses": responses,
        });
        if r.list_body {
            op["requestBody"] = json!({
                "required": true,
                "content": {"application/json": {"schema": {"type": "array", "items": {"type": "string"}}}},
            });
        } else if r.body {
            op["requestBody"] = json!({
                "required": false,
                "content": {"application/json": {"schema": {"type": "object"}}},
            });
        }
        if !r.auth {
            op["security"] = json!([]);
        }
        let entry = paths.entry(r.path.to_string()).or_insert_with(|| json!({}));
        entry[r.method.to_ascii_lowercase()] = op;
    }
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "Anchorage: Anchore Engine v1 API",
            "version": SERVICE_VERSION,
            "description": format!("Anchore Engine API {API_VERSION}, as anchore-cli 0.9.3 speaks it"),
        },
        "servers": [{"url": "/v1"}],
        "security": [{"basicAuth": []}],
        "components": {
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic"}},
            "schemas": {"Error": {
                "type": "object",
                "required": ["message", "httpcode", "detail"],
                "properties": {
                    "message": {"type": "string"},
                    "httpcode": {"type": "integer"},
                    "detail": {
                        "type": "object",
                        "required": ["error_codes"],
                        "properties": {"error_codes": {"type": "array", "items": {"type": "string"}}},
                    },
                },
            }},
        },
        "paths": paths,
    })
}

/// `GET openapi.json`.
pub(crate) async fn openapi() -> Json<Value> {
    Json(openapi_document())
}

/// `GET system`.
pub(crate) async fn status(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Value>> {
    let db_up = state.db().queue_depth().await.is_ok();
    let db_version = schema_version(&state).await;
    let config = &state.inner.config;
    let states: Vec<Value> = SERVICES
        .iter()
        .map(|name| {
            json!({
                "servicename": name,
                "hostid": config.host_id,
                "base_url": config.base_url,
                "status": db_up,
                "status_message": if db_up { "available" } else { "database unavailable" },
                "version": SERVICE_VERSION,
                "short_description": "",
                "service_detail": {
                    "up": db_up,
                    "available": db_up,
                    "busy": false,
                    "message": "",
                    "version": SERVICE_VERSION,
                    "db_version": db_version,
                    "detail": {"started_at": iso(state.inner.started_at)},
                },
            })
        })
        .collect();
    Ok(Json(json!({"service_states": states})))
}

/// `GET system/feeds`.
pub(crate) async fn feeds(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Value>> {
    let status = state
        .engine()
        .feed_status()
        .await
        .map_err(|e| ApiError::internal("reading feed state", &e))?;
    let groups: Vec<Value> = status
        .groups
        .iter()
        .map(|g| {
            let last = g.last_sync.map(|t| iso(t.timestamp()));
            json!({
                "name": format!("{}:{}", g.feed, g.group),
                "enabled": true,
                "created_at": last,
                "updated_at": last,
                "last_sync": last,
                "record_count": g.record_count,
            })
        })
        .collect();
    let synced: Vec<i64> = status
        .groups
        .iter()
        .filter_map(|g| g.last_sync.map(|t| t.timestamp()))
        .collect();
    let full = (!status.groups.is_empty() && synced.len() == status.groups.len())
        .then(|| synced.iter().min().copied().map(iso))
        .flatten();
    let updated = synced.iter().max().copied().map(iso);
    Ok(Json(json!([{
        "name": FEED,
        "enabled": true,
        "created_at": full,
        "updated_at": updated,
        "last_full_sync": full,
        "groups": groups,
    }])))
}

/// Syncs every configured source; `None` when a sync is already running.
pub async fn sync_feeds(state: &AppState) -> Option<Value> {
    let _guard = state.inner.feed_sync.try_lock().ok()?;
    let started = Instant::now();
    let results = state
        .engine()
        .sync_feeds(&state.inner.config.feed_sources)
        .await;
    let mut groups = Vec::new();
    let mut ok = true;
    for (source, result) in results {
        match result {
            Ok(r) => groups.push(json!({
                "group": source.to_string(),
                "status": "success",
                "updated_image_count": 0,
                "updated_record_count": r.added + r.updated + r.removed,
                "total_time_seconds": r.elapsed_ms as f64 / 1000.0,
            })),
            Err(e) => {
                ok = false;
                tracing::warn!(source = %source, error = %e, "feed sync failed");
                groups.push(json!({
                    "group": source.to_string(),
                    "status": "failure",
                    "updated_image_count": 0,
                    "updated_record_count": 0,
                    "total_time_seconds": 0.0,
                    "error": e.to_string(),
                }));
            }
        }
    }
    let kind = if ok { "completed" } else { "failed" };
    crate::events::emit(
        state,
        "admin",
        &format!("system.feeds.sync.{kind}"),
        if ok { "info" } else { "error" },
        &format!("feed sync {kind}: {} source(s)", groups.len()),
        "feeds",
        FEED,
    )
    .await;
    Some(json!([{
        "feed": FEED,
        "status": if ok { "success" } else { "failure" },
        "total_time_seconds": started.elapsed().as_secs_f64(),
        "groups": groups,
    }]))
}

/// `POST system/feeds`: syncs now; 409 while another sync runs.
pub(crate) async fn sync(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let _flush = parse_bool("flush", q.get("flush").map(String::as_str), false)?;
    match sync_feeds(&state).await {
        Some(v) => Ok(Json(v)),
        None => Err(ApiError::conflict("a feed sync is already in progress")
            .code("FEED_SYNC_ALREADY_IN_PROGRESS")),
    }
}

/// `GET system/error_codes`.
pub(crate) async fn error_codes(_caller: Caller) -> Json<Value> {
    Json(json!([
        {"name": "BAD_REQUEST", "description": "the request is malformed"},
        {"name": "RESOURCE_NOT_FOUND", "description": "no such resource in this account"},
        {"name": "REGISTRY_LOOKUP_FAILED", "description": "the registry did not give the image's digest"},
        {"name": "POLICY_BUNDLE_VALIDATION_FAILED", "description": "the bundle has errors (see validation_details)"},
        {"name": "FEED_SYNC_ALREADY_IN_PROGRESS", "description": "a feed sync is running"},
        {"name": "UNAUTHORIZED", "description": "the caller may not do this"},
    ]))
}

/// `GET status`: the API's own view of the queue.
pub(crate) async fn queue_status(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Value>> {
    let d = state.db().queue_depth().await?;
    Ok(Json(json!({
        "busy": d.running > 0,
        "up": true,
        "message": "",
        "detail": {"queued": d.queued, "running": d.running, "failed": d.failed, "time": iso(now())},
        "version": SERVICE_VERSION,
    })))
}
