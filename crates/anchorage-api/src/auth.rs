//! HTTP basic authentication against argon2 password hashes, and the account a request acts
//! in (its user's, or with `x-anchore-account` the one an admin names).

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use sha2::{Digest as _, Sha256};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// The authenticated caller.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    /// User name.
    pub(crate) username: String,
    /// The user's own account.
    pub(crate) own_account: String,
    /// The account the request acts in.
    pub(crate) account: String,
    /// Whether the user's account is an admin account.
    pub(crate) admin: bool,
}

impl Caller {
    /// Refuses callers that are not admins.
    pub(crate) fn require_admin(&self) -> ApiResult<()> {
        if self.admin {
            Ok(())
        } else {
            Err(ApiError::forbidden("this operation needs an admin account").code("UNAUTHORIZED"))
        }
    }
}

/// Hashes a password with argon2id (PHC string).
pub fn hash_password(password: &SecretString) -> ApiResult<String> {
    let mut salt = [0u8; 16];
    for (i, b) in uuid::Uuid::new_v4().as_bytes().iter().enumerate() {
        salt[i] = *b;
    }
    let salt =
        SaltString::encode_b64(&salt).map_err(|e| ApiError::internal("salting a password", &e))?;
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::internal("hashing a password", &e))
}

fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

fn basic(parts: &Parts) -> Option<(String, String)> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, value) = header.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (user, pass) = text.split_once(':')?;
    Some((user.to_string(), pass.to_string()))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let (username, password) = basic(parts).ok_or_else(ApiError::unauthorized)?;
        let user = state
            .db()
            .user(&username)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        // argon2 costs tens of milliseconds: a verified (user, password, hash) is remembered
        // for the process lifetime as a SHA-256 of the three, so a changed password or hash
        // needs a fresh verification.
        let fingerprint: [u8; 32] = Sha256::new()
            .chain_update(username.as_bytes())
            .chain_update([0])
            .chain_update(password.as_bytes())
            .chain_update([0])
            .chain_update(user.password_hash.as_bytes())
            .finalize()
            .into();
        let known = state
            .inner
            .auth_cache
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&username)
            == Some(&fingerprint);
        if !known {
            let hash = user.password_hash.clone();
            let ok = tokio::task::spawn_blocking(move || verify(&password, &hash))
                .await
                .unwrap_or(false);
            if !ok {
                return Err(ApiError::unauthorized());
            }
            state
                .inner
                .auth_cache
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(username.clone(), fingerprint);
        }
        let account = state
            .db()
            .account(&user.account)
            .await?
            .ok_or_else(ApiError::unauthorized)?;
        if account.state != "enabled" {
            return Err(ApiError::unauthorized());
        }
        let admin = account.kind == "admin";
        let mut acting = account.name.clone();
        if let Some(other) = parts
            .headers
            .get("x-anchore-account")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty() && *v != account.name)
        {
            if !admin {
                return Err(ApiError::forbidden(
                    "x-anchore-account needs an admin account",
                ));
            }
            match state.db().account(other).await? {
                Some(a) if a.state == "enabled" => acting = a.name,
                Some(_) => {
                    return Err(ApiError::forbidden(format!(
                        "account {other} is not enabled"
                    )));
                }
                None => return Err(ApiError::not_found(format!("account {other} not found"))),
            }
        }
        Ok(Caller {
            username,
            own_account: account.name,
            account: acting,
            admin,
        })
    }
}
