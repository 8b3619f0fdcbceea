//! Policy bundles (§2.4, §3.5): add (validated, stored inactive), list, get, activate through
//! PUT, delete (never the active one), and the policy spec.

use anchorage_store::PolicyRecord;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::images::{Params, json_body};
use crate::state::AppState;
use crate::util::{iso, md5_hex, now, parse_bool};

fn record_json(p: &PolicyRecord, detail: bool) -> Value {
    let bundle: Value = if detail {
        serde_json::from_str(&p.bundle).unwrap_or_else(|_| json!({}))
    } else {
        json!({})
    };
    json!({
        "policyId": p.policy_id,
        "active": p.active,
        "userId": p.account,
        "policy_source": "local",
        "name": p.name,
        "description": p.description,
        "created_at": iso(p.created_at),
        "last_updated": iso(p.last_updated),
        "policybundle": bundle,
        "policybundlemeta": {},
    })
}

/// Validates a bundle: the id it gets, or the 400 listing every problem.
fn validated(account: &str, mut bundle: Value) -> ApiResult<(String, Value)> {
    if !bundle.is_object() {
        return Err(ApiError::bad_request(
            "a policy bundle must be a JSON object",
        ));
    }
    let id = match bundle
        .get("id")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
    {
        Some(id) => id.to_string(),
        None => {
            let name = bundle
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let id = md5_hex(&format!("{account}:{name}"));
            bundle["id"] = json!(id);
            id
        }
    };
    if id.len() > 256 || id.contains('/') {
        return Err(ApiError::bad_request(
            "bundle id must be at most 256 characters and have no '/'",
        ));
    }
    anchorage_policy::validate(&bundle).map_err(|problems| {
        ApiError::bad_request("Bundle failed validation")
            .code("POLICY_BUNDLE_VALIDATION_FAILED")
            .with_detail("validation_details", json!(problems))
    })?;
    Ok((id, bundle))
}

/// Stores a bundle for an account (inactive unless `active`), keeping its creation time.
pub(crate) async fn store_bundle(
    state: &AppState,
    account: &str,
    bundle: Value,
    active: bool,
) -> ApiResult<PolicyRecord> {
    let (id, bundle) = validated(account, bundle)?;
    let t = now();
    let existing = state.db().policy(account, &id).await?;
    let record = PolicyRecord {
        account: account.to_string(),
        policy_id: id.clone(),
        active: existing.as_ref().is_some_and(|p| p.active) || active,
        name: bundle
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string),
        description: bundle
            .get("comment")
            .and_then(Value::as_str)
            .map(str::to_string),
        bundle: bundle.to_string(),
        created_at: existing.as_ref().map_or(t, |p| p.created_at),
        last_updated: t,
    };
    state.db().put_policy(&record).await?;
    if active {
        state.db().activate_policy(account, &id, t).await?;
    }
    if record.active {
        // The active bundle's content changed: re-evaluate subscribed tags soon.
        state.watch().trigger("policy_eval").await;
    }
    Ok(record)
}

/// `POST policies`.
pub(crate) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let bundle = json_body(&body)?;
    let record = store_bundle(&state, &caller.account, bundle, false).await?;
    let record = state
        .db()
        .policy(&caller.account, &record.policy_id)
        .await?
        .unwrap_or(record);
    Ok(Json(record_json(&record, true)))
}

/// `GET policies`.
pub(crate) async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let detail = parse_bool("detail", q.get("detail").map(String::as_str), false)?;
    let all = state.db().policies(&caller.account).await?;
    Ok(Json(Value::Array(
        all.iter().map(|p| record_json(p, detail)).collect(),
    )))
}

async fn owned(state: &AppState, caller: &Caller, id: &str) -> ApiResult<PolicyRecord> {
    state
        .db()
        .policy(&caller.account, id)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("policy bundle {id} not found")).code("RESOURCE_NOT_FOUND")
        })
}

/// `GET policies/{id}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Params,
) -> ApiResult<Json<Value>> {
    let detail = parse_bool("detail", q.get("detail").map(String::as_str), true)?;
    let p = owned(&state, &caller, &id).await?;
    Ok(Json(json!([record_json(&p, detail)])))
}

/// `PUT policies/{id}`: replaces the bundle when the body carries one, activates when
/// `active` is true.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let body = json_body(&body)?;
    let current = owned(&state, &caller, &id).await?;
    let active = match body.get("active") {
        Some(Value::Bool(b)) => *b,
        None | Some(Value::Null) => parse_bool(
            "active",
            q.get("active").map(String::as_str),
            current.active,
        )?,
        Some(_) => return Err(ApiError::bad_request("active must be a boolean")),
    };
    if current.active && !active {
        return Err(ApiError::conflict(
            "cannot deactivate an active policy - can only activate an inactive policy",
        ));
    }
    if let Some(bundle) = body
        .get("policybundle")
        .filter(|b| b.as_object().is_some_and(|o| !o.is_empty()))
    {
        let mut bundle = bundle.clone();
        match bundle.get("id").and_then(Value::as_str) {
            Some(bid) if bid != id => {
                return Err(ApiError::bad_request(format!(
                    "the bundle's id {bid:?} differs from the policy id {id:?} in the path"
                )));
            }
            Some(_) => {}
            None => bundle["id"] = json!(id),
        }
        store_bundle(&state, &caller.account, bundle, false).await?;
    }
    if active && !current.active {
        state
            .db()
            .activate_policy(&caller.account, &id, now())
            .await?;
        crate::events::emit(
            &state,
            &caller.account,
            "user.policy.active.updated",
            "info",
            &format!("active policy bundle is now {id}"),
            "policy_bundle",
            &id,
        )
        .await;
        state.watch().trigger("policy_eval").await;
    }
    let p = owned(&state, &caller, &id).await?;
    Ok(Json(json!([record_json(&p, true)])))
}

/// `DELETE policies/{id}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let p = owned(&state, &caller, &id).await?;
    if p.active {
        return Err(ApiError::conflict(
            "cannot delete an active policy - activate a different policy then delete this one",
        ));
    }
    state.db().delete_policy(&caller.account, &id).await?;
    Ok(Json(json!([])))
}

/// `GET system/policy_spec`.
pub(crate) async fn spec(_caller: Caller) -> ApiResult<Json<Value>> {
    Ok(Json(anchorage_policy::policy_spec()))
}
