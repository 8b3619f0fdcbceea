//! The engine service's HTTP API: Anchore Engine's v1 API (what `anchore-cli` speaks, see
//! `shared/anchore-v1.md`) over the [`anchorage_engine::Engine`] and the
//! [`anchorage_store::Database`]. Every route is served under `/v1` and un-prefixed, with or
//! without a trailing slash; every error is the Anchore envelope; every request but ping,
//! health, version and the swagger document needs HTTP basic auth.
//!
//! The analysis work itself is done by `anchorage-worker` (the queue is in the database);
//! reads compute vulnerabilities and policy results on demand from the stored analysis and
//! the current vulnerability data.

mod access;
mod accounts;
mod auth;
mod check;
mod content;
mod error;
mod events;
mod images;
mod policies;
mod registries;
mod state;
mod system;
mod util;

use axum::Router;
use axum::body::Body;
use axum::extract::DefaultBodyLimit;
use axum::http::{Request, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use accounts::bootstrap;
pub use auth::hash_password;
pub use error::{ApiError, ApiResult};
pub use state::{ApiConfig, AppState};
pub use system::{API_VERSION, sync_feeds};

/// Every route: method, path (relative to `/v1`), summary. The router and the swagger document
/// are both built from this table's paths.
pub const ROUTES: &[(&str, &str, &str)] = &[
    ("GET", "/", "ping (no auth)"),
    ("GET", "/health", "liveness (no auth)"),
    (
        "GET",
        "/version",
        "service, API and schema versions (no auth)",
    ),
    ("GET", "/swagger.json", "this document (no auth)"),
    (
        "GET",
        "/images",
        "list images (fulltag, history, image_status, analysis_status)",
    ),
    (
        "POST",
        "/images",
        "add an image by tag (force, autosubscribe)",
    ),
    ("GET", "/images/{digest}", "get an image"),
    ("DELETE", "/images/{digest}", "delete an image (force)"),
    ("GET", "/images/{digest}/content", "content types"),
    (
        "GET",
        "/images/{digest}/content/{ctype}",
        "content of one type",
    ),
    ("GET", "/images/{digest}/metadata", "metadata types"),
    (
        "GET",
        "/images/{digest}/metadata/{mtype}",
        "metadata of one type (base64)",
    ),
    ("GET", "/images/{digest}/vuln", "vulnerability types"),
    (
        "GET",
        "/images/{digest}/vuln/{vtype}",
        "vulnerabilities (vendor_only)",
    ),
    (
        "GET",
        "/images/{digest}/check",
        "policy check (tag, detail, history, policyId)",
    ),
    (
        "GET",
        "/images/by_id/{image_id}",
        "get an image by image id",
    ),
    (
        "DELETE",
        "/images/by_id/{image_id}",
        "delete an image by image id",
    ),
    (
        "GET",
        "/images/by_id/{image_id}/content/{ctype}",
        "content by image id",
    ),
    (
        "GET",
        "/images/by_id/{image_id}/vuln/{vtype}",
        "vulnerabilities by image id",
    ),
    (
        "GET",
        "/images/by_id/{image_id}/check",
        "policy check by image id",
    ),
    ("GET", "/policies", "list bundles"),
    ("POST", "/policies", "add a bundle (validated, inactive)"),
    ("GET", "/policies/{policy_id}", "get a bundle"),
    (
        "PUT",
        "/policies/{policy_id}",
        "update or activate a bundle",
    ),
    (
        "DELETE",
        "/policies/{policy_id}",
        "delete an inactive bundle",
    ),
    ("GET", "/registries", "list registries"),
    ("POST", "/registries", "add a registry"),
    ("GET", "/registries/{registry}", "get a registry"),
    ("PUT", "/registries/{registry}", "update a registry"),
    ("DELETE", "/registries/{registry}", "delete a registry"),
    ("GET", "/system", "service status"),
    ("GET", "/system/feeds", "feeds and groups"),
    (
        "POST",
        "/system/feeds",
        "sync feeds now (409 while a sync runs)",
    ),
    (
        "GET",
        "/system/policy_spec",
        "gates, triggers and parameters",
    ),
    ("GET", "/system/error_codes", "error codes"),
    ("GET", "/status", "queue status"),
    ("GET", "/events", "list events"),
    ("DELETE", "/events", "delete events (since, before)"),
    ("GET", "/events/{event_id}", "get an event"),
    ("DELETE", "/events/{event_id}", "delete an event"),
    ("GET", "/account", "the caller's account"),
    ("GET", "/user", "the caller"),
    ("GET", "/accounts", "list accounts (admin)"),
    ("POST", "/accounts", "add an account (admin)"),
    ("GET", "/accounts/{account}", "get an account"),
    (
        "DELETE",
        "/accounts/{account}",
        "delete a disabled account (admin)",
    ),
    (
        "PUT",
        "/accounts/{account}/state",
        "enable or disable an account (admin)",
    ),
    ("GET", "/accounts/{account}/users", "list users"),
    ("POST", "/accounts/{account}/users", "add a user (admin)"),
    ("GET", "/accounts/{account}/users/{username}", "get a user"),
    (
        "DELETE",
        "/accounts/{account}/users/{username}",
        "delete a user (admin)",
    ),
    (
        "POST",
        "/accounts/{account}/users/{username}/credentials",
        "set a password",
    ),
];

fn api_routes() -> Router<AppState> {
    Router::new()
        .route("/", get(system::ping))
        .route("/health", get(system::health))
        .route("/version", get(system::version))
        .route("/swagger.json", get(system::swagger))
        .route("/images", get(images::list).post(images::add))
        .route("/images/{digest}", get(images::get).delete(images::delete))
        .route("/images/{digest}/content", get(images::content_types))
        .route("/images/{digest}/content/{ctype}", get(images::content))
        .route("/images/{digest}/metadata", get(images::metadata_types))
        .route("/images/{digest}/metadata/{mtype}", get(images::metadata))
        .route("/images/{digest}/vuln", get(check::vuln_types))
        .route("/images/{digest}/vuln/{vtype}", get(check::vuln))
        .route("/images/{digest}/check", get(check::check))
        .route(
            "/images/by_id/{image_id}",
            get(images::get_by_id).delete(images::delete_by_id),
        )
        .route(
            "/images/by_id/{image_id}/content/{ctype}",
            get(images::content_by_id),
        )
        .route(
            "/images/by_id/{image_id}/vuln/{vtype}",
            get(check::vuln_by_id),
        )
        .route("/images/by_id/{image_id}/check", get(check::check_by_id))
        .route("/policies", get(policies::list).post(policies::add))
        .route(
            "/policies/{policy_id}",
            get(policies::get)
                .put(policies::update)
                .delete(policies::delete),
        )
        .route("/registries", get(registries::list).post(registries::add))
        .route(
            "/registries/{registry}",
            get(registries::get)
                .put(registries::update)
                .delete(registries::delete),
        )
        .route("/system", get(system::status))
        .route("/system/feeds", get(system::feeds).post(system::sync))
        .route("/system/policy_spec", get(policies::spec))
        .route("/system/error_codes", get(system::error_codes))
        .route("/status", get(system::queue_status))
        .route("/events", get(events::list).delete(events::delete_many))
        .route(
            "/events/{event_id}",
            get(events::get).delete(events::delete_one),
        )
        .route("/account", get(accounts::whoami_account))
        .route("/user", get(accounts::whoami_user))
        .route("/accounts", get(accounts::list).post(accounts::add))
        .route(
            "/accounts/{account}",
            get(accounts::get).delete(accounts::delete),
        )
        .route(
            "/accounts/{account}/state",
            axum::routing::put(accounts::set_state),
        )
        .route(
            "/accounts/{account}/users",
            get(accounts::users).post(accounts::add_user),
        )
        .route(
            "/accounts/{account}/users/{username}",
            get(accounts::get_user).delete(accounts::delete_user),
        )
        .route(
            "/accounts/{account}/users/{username}/credentials",
            post(accounts::set_password),
        )
}

/// Turns every non-JSON error answer (unknown route, wrong method, body too large, ...) into
/// the Anchore envelope.
async fn envelope(request: Request<Body>, next: Next) -> Response {
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let message = match status {
        StatusCode::NOT_FOUND => format!("no such endpoint: {path}"),
        StatusCode::METHOD_NOT_ALLOWED => format!("method not allowed on {path}"),
        StatusCode::PAYLOAD_TOO_LARGE => "request body too large".to_string(),
        s => s.canonical_reason().unwrap_or("request failed").to_string(),
    };
    ApiError::new(status, message).into_response()
}

/// Strips one trailing slash (and a `/v1` prefix) so that `v1/images/`, `images` and
/// `v1/images` reach the same route.
fn normalize_path(uri: &axum::http::Uri) -> Option<axum::http::Uri> {
    let path = uri.path();
    let mut p = path
        .strip_prefix("/v1")
        .filter(|r| r.is_empty() || r.starts_with('/'))
        .unwrap_or(path);
    if p.len() > 1 && p.ends_with('/') {
        p = &p[..p.len() - 1];
    }
    let p = if p.is_empty() { "/" } else { p };
    if p == path {
        return None;
    }
    let text = match uri.query() {
        Some(q) => format!("{p}?{q}"),
        None => p.to_string(),
    };
    text.parse().ok()
}

/// The router of every route, ready to serve. Wrap it with [`into_service`] to serve it with
/// path normalization.
pub fn router(state: AppState) -> Router {
    let limit = state.inner.config.max_request_bytes;
    api_routes()
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(envelope))
        .with_state(state)
}

/// The service to hand to `axum::serve`: path normalization in front of [`router`] (routing
/// happens after the rewrite, which a router layer could not do).
pub fn into_service(
    state: AppState,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
    let inner = router(state);
    Router::new()
        .fallback_service(tower::ServiceExt::<Request<Body>>::map_request(
            inner,
            |mut request: Request<Body>| {
                if let Some(uri) = normalize_path(request.uri()) {
                    *request.uri_mut() = uri;
                }
                request
            },
        ))
        .into_make_service_with_connect_info::<std::net::SocketAddr>()
}
