//! Subscriptions and repositories (§2.5, §2.6, §6.1), notification deliveries (ours: the
//! webhook queue and its dead letters) and `system test-webhook` (§2.8).

use anchorage_store::{REPO_UPDATE, SUBSCRIPTION_TYPES, Subscription, SubscriptionFilter};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::images::{Params, json_body};
use crate::state::AppState;
use crate::util::{iso, normalize_tag, now, parse_bool};

/// A subscription as Anchore returns it (epoch integer times, §6.1).
fn record_json(s: &Subscription) -> Value {
    json!({
        "subscription_id": s.subscription_id,
        "userId": s.account,
        "subscription_type": s.subscription_type,
        "subscription_key": s.subscription_key,
        "subscription_value": s.subscription_value,
        "active": s.active,
        "created_at": s.created_at,
        "last_updated": s.last_updated,
    })
}

fn check_type(kind: &str) -> ApiResult<()> {
    if SUBSCRIPTION_TYPES.contains(&kind) {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "subscription_type {kind:?} is not one of {}",
            SUBSCRIPTION_TYPES.join(", ")
        )))
    }
}

/// The key as stored: a normalized full tag for tag types, `registry/repo` for
/// `repo_update`.
fn normalize_key(kind: &str, key: &str) -> ApiResult<String> {
    if kind == REPO_UPDATE {
        let t = normalize_tag(key)?;
        if key
            .trim()
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains(':'))
            && t.tag != "latest"
        {
            return Err(ApiError::bad_request(format!(
                "repository {key:?} must not name a tag"
            )));
        }
        Ok(format!("{}/{}", t.registry, t.repo))
    } else {
        Ok(normalize_tag(key)?.full())
    }
}

/// `GET subscriptions`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let kind = q
        .get("subscription_type")
        .filter(|s| !s.is_empty())
        .cloned();
    if let Some(k) = &kind {
        check_type(k)?;
    }
    // Keys are matched as given and as normalized, so `alpine` finds
    // `docker.io/alpine:latest`.
    let key = match (q.get("subscription_key").filter(|s| !s.is_empty()), &kind) {
        (Some(k), Some(t)) => Some(normalize_key(t, k).unwrap_or_else(|_| k.clone())),
        (Some(k), None) => Some(k.clone()),
        _ => None,
    };
    let subs = state
        .db()
        .subscriptions(&SubscriptionFilter {
            account: Some(caller.account.clone()),
            subscription_type: kind,
            subscription_key: key,
            active: None,
        })
        .await?;
    Ok(Json(Value::Array(subs.iter().map(record_json).collect())))
}

/// `GET subscriptions/types`.
pub(crate) async fn types(_caller: Caller) -> Json<Value> {
    Json(json!(SUBSCRIPTION_TYPES))
}

/// `POST subscriptions`.
pub(crate) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let kind = body
        .get("subscription_type")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("subscription_type is required (a string)"))?;
    check_type(kind)?;
    let key = body
        .get("subscription_key")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("subscription_key is required (a string)"))?;
    let key = normalize_key(kind, key)?;
    let value = match body.get("subscription_value") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let active = match body.get("active") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::bad_request("active must be a boolean")),
    };
    let s = state
        .db()
        .ensure_subscription(&caller.account, kind, &key, value.as_deref(), active, now())
        .await?;
    if s.subscription_type == REPO_UPDATE && s.active {
        state.watch().trigger("repo_watcher").await;
    }
    Ok(Json(json!([record_json(&s)])))
}

async fn owned(state: &AppState, caller: &Caller, id: &str) -> ApiResult<Subscription> {
    state
        .db()
        .subscription(&caller.account, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("subscription {id} not found")))
}

/// `GET subscriptions/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let s = owned(&state, &caller, &id).await?;
    Ok(Json(json!([record_json(&s)])))
}

/// `PUT subscriptions/{id}`: `{active, subscription_value?}` (the CLI also sends the key and
/// type, which must then name this subscription).
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let current = owned(&state, &caller, &id).await?;
    for (field, have) in [
        ("subscription_type", &current.subscription_type),
        ("subscription_key", &current.subscription_key),
    ] {
        if let Some(v) = body.get(field).and_then(Value::as_str)
            && v != have
            && normalize_key(&current.subscription_type, v).ok().as_ref() != Some(have)
        {
            return Err(ApiError::bad_request(format!(
                "{field} {v:?} does not match subscription {id}"
            )));
        }
    }
    let active = match body.get("active") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(ApiError::bad_request("active must be a boolean")),
    };
    let value = match body.get("subscription_value") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => Some(other.to_string()),
    };
    let s = state
        .db()
        .update_subscription(&caller.account, &id, active, value.as_deref(), now())
        .await?
        .ok_or_else(|| ApiError::not_found(format!("subscription {id} not found")))?;
    if s.active && !current.active {
        match s.subscription_type.as_str() {
            REPO_UPDATE => state.watch().trigger("repo_watcher").await,
            "tag_update" => state.watch().trigger("image_watcher").await,
            _ => {}
        }
    }
    Ok(Json(json!([record_json(&s)])))
}

/// `DELETE subscriptions/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    if !state.db().delete_subscription(&caller.account, &id).await? {
        return Err(ApiError::not_found(format!("subscription {id} not found")));
    }
    Ok(Json(json!(null)))
}

/// `POST repositories?repository=&autosubscribe=&dryrun=&lookuptag=`: watch a repository
/// (a `repo_update` subscription); its tags are listed now, and the repository watcher adds
/// their images.
pub(crate) async fn add_repository(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let repository = q
        .get("repository")
        .filter(|r| !r.trim().is_empty())
        .ok_or_else(|| ApiError::bad_request("the repository query parameter is required"))?;
    let key = normalize_key(REPO_UPDATE, repository)?;
    let autosubscribe = parse_bool(
        "autosubscribe",
        q.get("autosubscribe").map(String::as_str),
        true,
    )?;
    let dryrun = parse_bool("dryrun", q.get("dryrun").map(String::as_str), false)?;
    let lookuptag = q
        .get("lookuptag")
        .filter(|t| !t.is_empty())
        .cloned()
        .unwrap_or_else(|| "latest".into());
    let access = crate::access::account_access(&state, &caller.account).await?;
    let tags = state
        .engine()
        .list_tags_with(&key, &access)
        .await
        .map_err(|e| {
            ApiError::bad_request(format!("cannot list the tags of {key}: {e}"))
                .code("REGISTRY_LOOKUP_FAILED")
        })?;
    let t = now();
    let id = anchorage_store::subscription_id(&caller.account, &key, REPO_UPDATE);
    let preview = anchorage_watch::repo_value_json(autosubscribe, &lookuptag, &tags);
    if dryrun {
        return Ok(Json(json!([{
            "subscription_id": id,
            "userId": caller.account,
            "subscription_type": REPO_UPDATE,
            "subscription_key": key,
            "subscription_value": preview,
            "active": false,
            "created_at": t,
            "last_updated": t,
        }])));
    }
    // Stored with no known tags: the watcher adds the image of every tag and records them.
    let stored = anchorage_watch::repo_value_json(autosubscribe, &lookuptag, &[]);
    let s = match state.db().subscription(&caller.account, &id).await? {
        Some(existing) => state
            .db()
            .update_subscription(&caller.account, &id, Some(true), None, t)
            .await?
            .unwrap_or(existing),
        None => {
            state
                .db()
                .ensure_subscription(&caller.account, REPO_UPDATE, &key, Some(&stored), true, t)
                .await?
        }
    };
    state.watch().trigger("repo_watcher").await;
    let mut out = record_json(&s);
    // The response reports the tags found now (§2.6: the CLI prints `tagcount`).
    out["subscription_value"] = json!(preview);
    Ok(Json(json!([out])))
}

/// `POST system/webhooks/{webhook_type}/test?notification_type=T`: sends a synthetic
/// notification to a configured webhook now.
pub(crate) async fn test_webhook(
    State(state): State<AppState>,
    caller: Caller,
    Path(hook): Path<String>,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let kind = q
        .get("notification_type")
        .filter(|t| !t.is_empty())
        .map_or("tag_update", String::as_str);
    if !matches!(
        kind,
        "tag_update" | "analysis_update" | "vuln_update" | "policy_eval"
    ) {
        return Err(ApiError::bad_request(format!(
            "notification_type {kind:?} is not one of tag_update, analysis_update, vuln_update, policy_eval"
        )));
    }
    match state
        .watch()
        .test_webhook(&caller.account, &hook, kind)
        .await
    {
        Ok(v) => Ok(Json(v)),
        Err(anchorage_watch::WatchError::NoWebhook(h)) => Err(ApiError::not_found(format!(
            "no webhook {h:?} is configured (webhooks section of the config file)"
        ))),
        Err(e) => Err(ApiError::new(
            axum::http::StatusCode::BAD_GATEWAY,
            format!("test notification not delivered: {e}"),
        )),
    }
}

fn notification_json(n: &anchorage_store::NotificationRecord) -> Value {
    json!({
        "id": n.id,
        "notification_id": n.notification_id,
        "hook": n.hook,
        "userId": n.account,
        "notification_type": n.notification_type,
        "subscription_key": n.subscription_key,
        "state": n.state,
        "attempts": n.attempts,
        "next_attempt_at": iso(n.next_attempt_at),
        "last_error": n.last_error,
        "created_at": iso(n.created_at),
        "last_updated": iso(n.updated_at),
        "delivered_at": n.delivered_at.map(iso),
        "payload": serde_json::from_str::<Value>(&n.payload).unwrap_or(Value::Null),
    })
}

/// `GET notifications?state=`: the account's webhook deliveries, newest first (ours).
pub(crate) async fn notifications(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let st = q.get("state").filter(|s| !s.is_empty()).map(String::as_str);
    if let Some(s) = st
        && !["pending", "delivering", "delivered", "dead"].contains(&s)
    {
        return Err(ApiError::bad_request(format!(
            "state {s:?} is not one of pending, delivering, delivered, dead"
        )));
    }
    let limit = match q.get("limit") {
        None => 100,
        Some(l) => l
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| ApiError::bad_request("limit must be 1..1000"))?,
    };
    let rows = state
        .db()
        .notifications(Some(&caller.account), st, limit)
        .await?;
    Ok(Json(Value::Array(
        rows.iter().map(notification_json).collect(),
    )))
}

/// `POST notifications/{id}/retry`: puts a dead letter back in the queue (ours).
pub(crate) async fn retry(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::not_found(format!("notification {id} not found")))?;
    if !state
        .db()
        .retry_notification(&caller.account, id, now())
        .await?
    {
        return Err(ApiError::not_found(format!(
            "notification {id} is not a dead letter of this account"
        )));
    }
    state.watch().trigger("notifications").await;
    let n = state
        .db()
        .notification(&caller.account, id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("notification {id} not found")))?;
    Ok(Json(json!([notification_json(&n)])))
}
