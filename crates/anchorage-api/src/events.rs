//! Events (§2.9, §6.4): recorded for every state change and failure, listed with filters and
//! pages, read and deleted per account.

use anchorage_store::{EventFilter, EventRecord};
use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::images::Params;
use crate::state::AppState;
use crate::util::{iso, parse_time};

/// Records an event; a failure to record is logged, never fails the request.
pub(crate) async fn emit(
    state: &AppState,
    account: &str,
    kind: &str,
    level: &str,
    message: &str,
    resource_type: &str,
    resource_id: &str,
) {
    let e = EventRecord::new(
        account,
        kind,
        level,
        message,
        resource_type,
        resource_id,
        "{}",
    );
    if let Err(err) = state.db().add_event(&e).await {
        tracing::warn!(error = %err, kind, "could not record an event");
    }
}

pub(crate) fn event_json(e: &EventRecord, state: &AppState) -> Value {
    let details: Value = serde_json::from_str(&e.details).unwrap_or_else(|_| json!({}));
    json!({
        "generated_uuid": e.id,
        "created_at": iso(e.created_at),
        "event": {
            "type": e.kind,
            "level": e.level.to_ascii_uppercase(),
            "message": e.message,
            "details": details,
            "timestamp": iso(e.created_at),
            "resource": {"user_id": e.account, "type": e.resource_type, "id": e.resource_id},
            "source": {
                "servicename": "catalog",
                "hostid": state.inner.config.host_id,
                "base_url": state.inner.config.base_url,
                "request_id": null,
            },
        },
    })
}

/// `GET events`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let time = |k: &str| q.get(k).map(|v| parse_time(k, v)).transpose();
    let filter = EventFilter {
        since: time("since")?,
        before: time("before")?,
        level: q.get("level").map(|l| l.to_ascii_lowercase()),
        kind: q.get("event_type").cloned(),
        resource_type: q.get("resource_type").cloned(),
        resource_id: q.get("resource_id").cloned(),
    };
    let int = |k: &str, d: i64| -> ApiResult<i64> {
        q.get(k).map_or(Ok(d), |v| {
            v.trim()
                .parse::<i64>()
                .ok()
                .filter(|n| *n >= 1)
                .ok_or_else(|| ApiError::bad_request(format!("{k} must be a positive integer")))
        })
    };
    let page = int("page", 1)?;
    let limit = int("limit", 100)?.min(1000);
    let offset = (page - 1).saturating_mul(limit);
    let mut rows = state
        .db()
        .events(&caller.account, &filter, offset, limit + 1)
        .await?;
    let next_page = rows.len() as i64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(100));
    Ok(Json(json!({
        "results": rows.iter().map(|e| event_json(e, &state)).collect::<Vec<_>>(),
        "next_page": next_page,
        "item_count": rows.len(),
        "page": page,
    })))
}

/// `GET events/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let e = state
        .db()
        .event(&caller.account, &id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("event {id} not found")))?;
    Ok(Json(event_json(&e, &state)))
}

/// `DELETE events/{id}`.
pub(crate) async fn delete_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let ids = state
        .db()
        .delete_events(&caller.account, Some(&id), None, None)
        .await?;
    if ids.is_empty() {
        return Err(ApiError::not_found(format!("event {id} not found")));
    }
    Ok(Json(json!(ids)))
}

/// `DELETE events?since=&before=`.
pub(crate) async fn delete_many(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let time = |k: &str| q.get(k).map(|v| parse_time(k, v)).transpose();
    let ids = state
        .db()
        .delete_events(&caller.account, None, time("since")?, time("before")?)
        .await?;
    Ok(Json(json!(ids)))
}
