//! Registry credentials (§2.7): passwords sealed at rest, never returned.

use anchorage_store::RegistryRecord;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::images::{Params, json_body};
use crate::state::AppState;
use crate::util::{iso, now, parse_bool};

fn record_json(r: &RegistryRecord) -> Value {
    json!({
        "registry": r.registry,
        "registry_name": r.registry_name,
        "registry_user": r.registry_user,
        "registry_type": r.registry_type,
        "registry_verify": r.registry_verify,
        "userId": r.account,
        "created_at": iso(r.created_at),
        "last_updated": iso(r.last_updated),
    })
}

fn text<'a>(body: &'a Value, key: &str) -> ApiResult<&'a str> {
    body.get(key).and_then(Value::as_str).ok_or_else(|| {
        ApiError::bad_request(format!("{key} is required (a string)")).code("BAD_REQUEST")
    })
}

fn check_registry_name(name: &str) -> ApiResult<()> {
    if name.contains("://") || name.ends_with('/') || name.is_empty() {
        return Err(ApiError::conflict(format!(
            "registry {name:?} must be host[:port] (no URL scheme, no trailing /)"
        )));
    }
    if name.len() > 256 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ApiError::bad_request(format!(
            "registry {name:?} is not a host[:port]"
        )));
    }
    Ok(())
}

async fn save(
    state: &AppState,
    caller: &Caller,
    body: &Value,
    path_name: Option<&str>,
) -> ApiResult<RegistryRecord> {
    let registry = text(body, "registry")?.trim().to_string();
    check_registry_name(&registry)?;
    if let Some(p) = path_name
        && p != registry
    {
        return Err(ApiError::conflict(format!(
            "registry {registry:?} in the body differs from {p:?} in the path"
        )));
    }
    let user = text(body, "registry_user")?.to_string();
    let password = SecretString::from(text(body, "registry_pass")?.to_string());
    let registry_type = body
        .get("registry_type")
        .and_then(Value::as_str)
        .unwrap_or("docker_v2")
        .to_string();
    if !matches!(registry_type.as_str(), "docker_v2" | "awsecr") {
        return Err(ApiError::bad_request(format!(
            "registry_type {registry_type:?} is not docker_v2 or awsecr"
        )));
    }
    if registry_type == "awsecr" {
        return Err(ApiError::bad_request(
            "registry_type awsecr is not supported (ECR tokens are not implemented); use docker_v2 with a token as password",
        ));
    }
    let verify = match body.get("registry_verify") {
        None | Some(Value::Null) => true,
        Some(Value::Bool(b)) => *b,
        Some(_) => return Err(ApiError::bad_request("registry_verify must be a boolean")),
    };
    let t = now();
    let sealed = state
        .inner
        .sealer
        .seal(&password)
        .map_err(|e| ApiError::internal("sealing a registry password", &e))?;
    let existing = state.db().registry(&caller.account, &registry).await?;
    let record = RegistryRecord {
        account: caller.account.clone(),
        registry: registry.clone(),
        registry_name: body
            .get("registry_name")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .unwrap_or(&registry)
            .to_string(),
        registry_user: user,
        sealed_secret: sealed,
        registry_type,
        registry_verify: verify,
        created_at: existing.as_ref().map_or(t, |e| e.created_at),
        last_updated: t,
    };
    state
        .db()
        .put_registry(&record, path_name.is_none())
        .await?;
    Ok(record)
}

/// `POST registries`.
pub(crate) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Params,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let _validate = parse_bool("validate", q.get("validate").map(String::as_str), true)?;
    let body = json_body(&body)?;
    let r = save(&state, &caller, &body, None).await?;
    Ok(Json(json!([record_json(&r)])))
}

/// `PUT registries/{registry}`.
pub(crate) async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    Query(q): Params,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let _validate = parse_bool("validate", q.get("validate").map(String::as_str), true)?;
    let body = json_body(&body)?;
    if state.db().registry(&caller.account, &name).await?.is_none() {
        return Err(ApiError::not_found(format!("registry {name} not found")));
    }
    let r = save(&state, &caller, &body, Some(&name)).await?;
    Ok(Json(json!([record_json(&r)])))
}

/// `GET registries`.
pub(crate) async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    let all = state.db().registries(&caller.account).await?;
    Ok(Json(Value::Array(all.iter().map(record_json).collect())))
}

/// `GET registries/{registry}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let r = state
        .db()
        .registry(&caller.account, &name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("registry {name} not found")))?;
    Ok(Json(json!([record_json(&r)])))
}

/// `DELETE registries/{registry}`.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    if !state.db().delete_registry(&caller.account, &name).await? {
        return Err(ApiError::not_found(format!("registry {name} not found")));
    }
    Ok(Json(json!([])))
}
