//! Accounts and users (§2.11). Account management needs an admin; `GET account` and
//! `GET user` describe the caller. Every new account gets the default bundle, active.

use anchorage_store::{Account, User};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use secrecy::SecretString;
use serde_json::{Value, json};

use crate::auth::{Caller, hash_password};
use crate::error::{ApiError, ApiResult};
use crate::images::json_body;
use crate::state::AppState;
use crate::util::{iso, now};

pub(crate) fn account_json(a: &Account) -> Value {
    json!({
        "name": a.name,
        "email": a.email,
        "type": a.kind,
        "state": a.state,
        "created_at": iso(a.created_at),
        "last_updated": iso(a.last_updated),
    })
}

fn user_json(u: &User) -> Value {
    json!({
        "username": u.username,
        "type": u.kind,
        "source": u.source,
        "created_at": iso(u.created_at),
        "last_updated": iso(u.last_updated),
    })
}

fn check_name(kind: &str, name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-@".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "{kind} name {name:?} must be 1-128 letters, digits, '.', '_', '-' or '@'"
        )))
    }
}

/// Creates an account with the default bundle installed active.
pub(crate) async fn create_account(
    state: &AppState,
    name: &str,
    email: Option<String>,
    kind: &str,
) -> ApiResult<Account> {
    check_name("account", name)?;
    let t = now();
    let a = Account {
        name: name.to_string(),
        email,
        kind: kind.to_string(),
        state: "enabled".to_string(),
        created_at: t,
        last_updated: t,
    };
    state.db().create_account(&a).await?;
    crate::policies::store_bundle(state, name, anchorage_policy::default_bundle(), true).await?;
    Ok(a)
}

/// `GET account`.
pub(crate) async fn whoami_account(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let a = state
        .db()
        .account(&caller.own_account)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(account_json(&a)))
}

/// `GET user`.
pub(crate) async fn whoami_user(
    State(state): State<AppState>,
    caller: Caller,
) -> ApiResult<Json<Value>> {
    let u = state
        .db()
        .user(&caller.username)
        .await?
        .ok_or_else(ApiError::unauthorized)?;
    Ok(Json(user_json(&u)))
}

/// `GET accounts`.
pub(crate) async fn list(State(state): State<AppState>, caller: Caller) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let all = state.db().accounts().await?;
    Ok(Json(Value::Array(all.iter().map(account_json).collect())))
}

/// `POST accounts`.
pub(crate) async fn add(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let body = json_body(&body)?;
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("name is required (a string)"))?;
    let email = body
        .get("email")
        .and_then(Value::as_str)
        .map(str::to_string);
    let a = create_account(&state, name, email, "user").await?;
    Ok(Json(account_json(&a)))
}

async fn visible_account(state: &AppState, caller: &Caller, name: &str) -> ApiResult<Account> {
    if !caller.admin && caller.own_account != name {
        return Err(ApiError::not_found(format!("account {name} not found")));
    }
    state
        .db()
        .account(name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("account {name} not found")))
}

/// `GET accounts/{name}`.
pub(crate) async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    let a = visible_account(&state, &caller, &name).await?;
    Ok(Json(account_json(&a)))
}

/// `DELETE accounts/{name}`: only a disabled account, never the caller's own.
pub(crate) async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    let a = visible_account(&state, &caller, &name).await?;
    if a.name == caller.own_account || a.kind == "admin" {
        return Err(ApiError::bad_request(
            "Invalid account state change requested: an admin account cannot be deleted",
        ));
    }
    if a.state != "disabled" {
        return Err(ApiError::bad_request(
            "Invalid account state change requested: disable the account before deleting it",
        ));
    }
    state.db().delete_account(&name).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT accounts/{name}/state`.
pub(crate) async fn set_state(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    let body = json_body(&body)?;
    let new = body
        .get("state")
        .and_then(Value::as_str)
        .filter(|s| matches!(*s, "enabled" | "disabled"))
        .ok_or_else(|| ApiError::bad_request("state must be \"enabled\" or \"disabled\""))?;
    let a = visible_account(&state, &caller, &name).await?;
    if a.kind == "admin" && new == "disabled" {
        return Err(ApiError::bad_request(
            "Invalid account state change requested: an admin account cannot be disabled",
        ));
    }
    state.db().set_account_state(&name, new, now()).await?;
    Ok(Json(json!({"state": new})))
}

/// `GET accounts/{name}/users`.
pub(crate) async fn users(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Json<Value>> {
    visible_account(&state, &caller, &name).await?;
    let all = state.db().users(&name).await?;
    Ok(Json(Value::Array(all.iter().map(user_json).collect())))
}

fn password_of(value: Option<&Value>) -> ApiResult<SecretString> {
    let p = value
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("password is required (a string)"))?;
    if p.len() < 6 || p.len() > 1024 {
        return Err(ApiError::bad_request(
            "password must be 6 to 1024 characters",
        ));
    }
    Ok(SecretString::from(p.to_string()))
}

/// `POST accounts/{name}/users`.
pub(crate) async fn add_user(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    caller.require_admin()?;
    visible_account(&state, &caller, &name).await?;
    let body = json_body(&body)?;
    let username = body
        .get("username")
        .and_then(Value::as_str)
        .ok_or_else(|| ApiError::bad_request("username is required (a string)"))?;
    check_name("user", username)?;
    let hash = hash_password(&password_of(body.get("password"))?)?;
    let t = now();
    let u = User {
        username: username.to_string(),
        account: name,
        password_hash: hash,
        kind: "native".into(),
        source: None,
        created_at: t,
        last_updated: t,
    };
    state.db().create_user(&u).await?;
    Ok(Json(user_json(&u)))
}

async fn visible_user(
    state: &AppState,
    caller: &Caller,
    account: &str,
    username: &str,
) -> ApiResult<User> {
    visible_account(state, caller, account).await?;
    state
        .db()
        .user(username)
        .await?
        .filter(|u| u.account == account)
        .ok_or_else(|| ApiError::not_found(format!("user {username} not found")))
}

/// `GET accounts/{name}/users/{user}`.
pub(crate) async fn get_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, username)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    let u = visible_user(&state, &caller, &name, &username).await?;
    Ok(Json(user_json(&u)))
}

/// `DELETE accounts/{name}/users/{user}`.
pub(crate) async fn delete_user(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, username)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    caller.require_admin()?;
    visible_user(&state, &caller, &name, &username).await?;
    if username == caller.username {
        return Err(ApiError::bad_request("a user cannot delete itself"));
    }
    state.db().delete_user(&name, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST accounts/{name}/users/{user}/credentials`.
pub(crate) async fn set_password(
    State(state): State<AppState>,
    caller: Caller,
    Path((name, username)): Path<(String, String)>,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    if !(caller.admin || caller.username == username) {
        return Err(ApiError::not_found(format!("user {username} not found")));
    }
    visible_user(&state, &caller, &name, &username).await?;
    let body = json_body(&body)?;
    if body
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("password")
        != "password"
    {
        return Err(ApiError::bad_request(
            "only credentials of type password are supported",
        ));
    }
    let hash = hash_password(&password_of(body.get("value"))?)?;
    let t = now();
    state
        .db()
        .set_password_hash(&name, &username, &hash, t)
        .await?;
    Ok(Json(
        json!({"type": "password", "value": "********", "created_at": iso(t)}),
    ))
}

/// Creates the admin account and user at first start, and installs the default bundle in any
/// account that has none.
pub async fn bootstrap(state: &AppState) -> ApiResult<()> {
    let config = &state.inner.config;
    if state.db().account("admin").await?.is_none() {
        create_account(state, "admin", config.admin_email.clone(), "admin").await?;
        tracing::info!("created the admin account");
    }
    if state.db().user("admin").await?.is_none() {
        let t = now();
        state
            .db()
            .create_user(&User {
                username: "admin".into(),
                account: "admin".into(),
                password_hash: hash_password(&config.admin_password)?,
                kind: "native".into(),
                source: None,
                created_at: t,
                last_updated: t,
            })
            .await?;
        tracing::info!("created the admin user");
    }
    for a in state.db().accounts().await? {
        if state.db().policies(&a.name).await?.is_empty() {
            crate::policies::store_bundle(state, &a.name, anchorage_policy::default_bundle(), true)
                .await?;
        }
    }
    Ok(())
}
