//! Ping, health, version, the swagger document, system status and feeds (§1.1, §2.8).

use anchorage_store::ServiceRecord;
use axum::Json;
use axum::extract::{Path, Query, State};
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
/// The Anchore service names an `api` process stands for.
const API_SERVICES: &[&str] = &["apiext", "catalog", "policy_engine", "simplequeue"];
/// The service names `system wait` waits for (§9.10): an `all` process is every one.
const ALL_SERVICES: &[&str] = &[
    "apiext",
    "catalog",
    "policy_engine",
    "simplequeue",
    "analyzer",
];

/// The Anchore service names a process of `role` (`api`, `worker`, `all`) stands for.
pub(crate) fn service_names(role: &str) -> &'static [&'static str] {
    match role {
        "api" => API_SERVICES,
        "worker" => &["analyzer"],
        _ => ALL_SERVICES,
    }
}
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

/// The `service_states` entries of every process (the `services` table), each process as the
/// Anchore service names of its role, up while its heartbeat is fresh.
fn service_states(services: &[ServiceRecord], db_version: &str) -> Vec<Value> {
    let t = now();
    let mut states = Vec::new();
    for s in services {
        let up = s.is_up(t);
        let message = if up {
            "available".to_string()
        } else if s.status == "down" {
            "stopped".to_string()
        } else {
            format!("no heartbeat for {} s", t - s.last_heartbeat)
        };
        for name in service_names(&s.role) {
            states.push(json!({
                "servicename": name,
                "hostid": s.host_id,
                "base_url": s.base_url,
                "status": up,
                "status_message": message,
                "version": s.version,
                "short_description": "",
                "service_detail": {
                    "up": up,
                    "available": up,
                    "busy": false,
                    "message": message,
                    "version": s.version,
                    "db_version": db_version,
                    "detail": {
                        "role": s.role,
                        "started_at": iso(s.started_at),
                        "last_heartbeat": iso(s.last_heartbeat),
                        "heartbeat_seconds": s.heartbeat_seconds,
                    },
                },
            }));
        }
    }
    states
}

/// `GET system`: every process of the deployment.
pub(crate) async fn status(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Value>> {
    let services = match state.db().services().await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the process list");
            return unavailable_states(&state, "database unavailable");
        }
    };
    let db_version = schema_version(&state).await;
    Ok(Json(
        json!({"service_states": service_states(&services, &db_version)}),
    ))
}

/// `GET system/services`: the same entries as `GET system`, as a list.
pub(crate) async fn services(
    State(state): State<AppState>,
    _caller: Caller,
) -> ApiResult<Json<Value>> {
    let services = state.db().services().await?;
    let db_version = schema_version(&state).await;
    Ok(Json(Value::Array(service_states(&services, &db_version))))
}

/// `DELETE system/services/{servicename}/{host_id}` (anchore-cli `system del`): forgets a
/// process that is down (stopped, or silent for three heartbeats); a live one is refused (it
/// would register again at its next heartbeat). Admin only.
pub(crate) async fn delete_service(
    State(state): State<AppState>,
    caller: Caller,
    Path((servicename, host_id)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let found =
        state.db().services().await?.into_iter().find(|s| {
            s.host_id == host_id && service_names(&s.role).contains(&servicename.as_str())
        });
    let Some(service) = found else {
        return Err(ApiError::not_found(format!(
            "no service {servicename} on host {host_id}"
        )));
    };
    if service.is_up(now()) {
        return Err(ApiError::conflict(format!(
            "service {servicename} on host {host_id} is up; stop the process first"
        )));
    }
    state.db().delete_service(&host_id).await?;
    Ok(Json(
        json!({"hostid": host_id, "servicename": servicename, "deleted": true}),
    ))
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
    let outcome = state.watch().sync_feeds().await?;
    let mut ok = true;
    let groups: Vec<Value> = outcome
        .results
        .iter()
        .map(|(source, result)| match result {
            Ok(r) => json!({
                "group": source.to_string(),
                "status": "success",
                "updated_image_count": 0,
                "updated_record_count": r.added + r.updated + r.removed,
                "total_time_seconds": r.elapsed_ms as f64 / 1000.0,
            }),
            Err(e) => {
                ok = false;
                json!({
                    "group": source.to_string(),
                    "status": "failure",
                    "updated_image_count": 0,
                    "updated_record_count": 0,
                    "total_time_seconds": 0.0,
                    "error": e,
                })
            }
        })
        .collect();
    Some(json!([{
        "feed": FEED,
        "status": if ok { "success" } else { "failure" },
        "total_time_seconds": outcome.seconds,
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

/// `GET /system` when the process list cannot be read: this process alone, down.
fn unavailable_states(state: &AppState, why: &str) -> ApiResult<Json<Value>> {
    let config = &state.inner.config;
    let states: Vec<Value> = service_names(&config.role)
        .iter()
        .map(|name| {
            json!({
                "servicename": name,
                "hostid": config.host_id,
                "base_url": config.base_url,
                "status": false,
                "status_message": why,
                "version": SERVICE_VERSION,
                "short_description": "",
                "service_detail": {
                    "up": false, "available": false, "busy": false, "message": why,
                    "version": SERVICE_VERSION, "db_version": "unknown",
                    "detail": {"role": config.role},
                },
            })
        })
        .collect();
    Ok(Json(json!({"service_states": states})))
}
