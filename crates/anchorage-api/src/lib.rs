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
mod archives;
mod auth;
mod check;
mod content;
mod error;
mod events;
mod images;
mod ops;
mod policies;
mod query;
mod registries;
mod state;
mod subscriptions;
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
pub use ops::REQUEST_ID;
pub use state::{ApiConfig, AppState};
pub use system::{API_VERSION, openapi_document, sync_feeds};

/// One route: the handler and what the API documents say about it. The router and both API
/// documents (`swagger.json`, `openapi.json`) are built from the same list, [`routes`].
pub struct Route {
    /// HTTP method (upper case).
    pub method: &'static str,
    /// Path relative to `/v1`, with `{name}` parameters.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Query parameters: (name, JSON type, description).
    pub query: &'static [(&'static str, &'static str, &'static str)],
    /// Whether it takes a JSON object body.
    pub body: bool,
    /// Whether its JSON body is a list of strings instead (`POST archives/images`).
    pub list_body: bool,
    /// Whether it needs basic auth.
    pub auth: bool,
    handler: axum::routing::MethodRouter<AppState>,
}

const BOOL: &str = "boolean";
const STR: &str = "string";
const INT: &str = "integer";

/// Query parameters of a policy check.
const CHECK_QUERY: &[(&str, &str, &str)] = &[
    ("tag", STR, "the tag to evaluate (required)"),
    (
        "detail",
        BOOL,
        "include the bundle and the evaluation document",
    ),
    ("history", BOOL, "every stored evaluation"),
    ("policyId", STR, "a bundle other than the active one"),
];
const VULN_QUERY: &[(&str, &str, &str)] = &[(
    "vendor_only",
    BOOL,
    "hide matches the vendor will not fix (default true)",
)];
const FORCE_QUERY: &[(&str, &str, &str)] = &[("force", BOOL, "even while analysing")];
const DETAIL_QUERY: &[(&str, &str, &str)] = &[("detail", BOOL, "include the bundle")];
const VALIDATE_QUERY: &[(&str, &str, &str)] = &[("validate", BOOL, "accepted for anchore-cli")];
const WINDOW_QUERY: &[(&str, &str, &str)] = &[
    ("since", STR, "ISO-8601 time"),
    ("before", STR, "ISO-8601 time"),
];

fn r(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    handler: axum::routing::MethodRouter<AppState>,
) -> Route {
    Route {
        method,
        path,
        summary,
        query: &[],
        body: false,
        list_body: false,
        auth: true,
        handler,
    }
}

impl Route {
    fn query(mut self, q: &'static [(&'static str, &'static str, &'static str)]) -> Self {
        self.query = q;
        self
    }
    fn body(mut self) -> Self {
        self.body = true;
        self
    }
    fn list_body(mut self) -> Self {
        self.list_body = true;
        self
    }
    fn open(mut self) -> Self {
        self.auth = false;
        self
    }
}

/// Every route of the API.
pub fn routes() -> Vec<Route> {
    use axum::routing::{delete, put};
    vec![
        r("GET", "/", "ping", get(system::ping)).open(),
        r("GET", "/health", "liveness", get(system::health)).open(),
        r(
            "GET",
            "/version",
            "service, API and schema versions",
            get(system::version),
        )
        .open(),
        r(
            "GET",
            "/swagger.json",
            "Swagger 2.0 document (anchore-cli reads info.version)",
            get(system::swagger),
        )
        .open(),
        r(
            "GET",
            "/openapi.json",
            "this OpenAPI 3 document",
            get(system::openapi),
        )
        .open(),
        r("GET", "/images", "list images", get(images::list)).query(&[
            ("fulltag", STR, "only the image this tag points at"),
            (
                "history",
                BOOL,
                "with fulltag: every image the tag pointed at",
            ),
            (
                "image_status",
                STR,
                "all, active, inactive or deleting (default active)",
            ),
            (
                "analysis_status",
                STR,
                "not_analyzed, analyzing, analyzed, analysis_failed or all",
            ),
        ]),
        r("POST", "/images", "add an image by tag", post(images::add))
            .query(&[
                ("force", BOOL, "analyse again"),
                ("autosubscribe", BOOL, "subscribe to tag updates"),
            ])
            .body(),
        r("GET", "/images/{digest}", "get an image", get(images::get)),
        r(
            "DELETE",
            "/images/{digest}",
            "delete an image",
            delete(images::delete),
        )
        .query(FORCE_QUERY),
        r(
            "GET",
            "/images/{digest}/content",
            "content types",
            get(images::content_types),
        ),
        r(
            "GET",
            "/images/{digest}/content/{ctype}",
            "content of one type",
            get(images::content),
        ),
        r(
            "GET",
            "/images/{digest}/metadata",
            "metadata types",
            get(images::metadata_types),
        ),
        r(
            "GET",
            "/images/{digest}/metadata/{mtype}",
            "metadata of one type (base64)",
            get(images::metadata),
        ),
        r(
            "GET",
            "/images/{digest}/vuln",
            "vulnerability types",
            get(check::vuln_types),
        ),
        r(
            "GET",
            "/images/{digest}/vuln/{vtype}",
            "vulnerabilities",
            get(check::vuln),
        )
        .query(VULN_QUERY),
        r(
            "GET",
            "/images/{digest}/check",
            "policy check",
            get(check::check),
        )
        .query(CHECK_QUERY),
        r(
            "GET",
            "/images/by_id/{image_id}",
            "get an image by image id",
            get(images::get_by_id),
        ),
        r(
            "DELETE",
            "/images/by_id/{image_id}",
            "delete an image by image id",
            delete(images::delete_by_id),
        )
        .query(FORCE_QUERY),
        r(
            "GET",
            "/images/by_id/{image_id}/content/{ctype}",
            "content by image id",
            get(images::content_by_id),
        ),
        r(
            "GET",
            "/images/by_id/{image_id}/vuln/{vtype}",
            "vulnerabilities by image id",
            get(check::vuln_by_id),
        )
        .query(VULN_QUERY),
        r(
            "GET",
            "/images/by_id/{image_id}/check",
            "policy check by image id",
            get(check::check_by_id),
        )
        .query(CHECK_QUERY),
        r("GET", "/policies", "list bundles", get(policies::list)).query(DETAIL_QUERY),
        r(
            "POST",
            "/policies",
            "add a bundle (validated, inactive)",
            post(policies::add),
        )
        .body(),
        r(
            "GET",
            "/policies/{policy_id}",
            "get a bundle",
            get(policies::get),
        )
        .query(DETAIL_QUERY),
        r(
            "PUT",
            "/policies/{policy_id}",
            "update or activate a bundle",
            put(policies::update),
        )
        .query(&[("active", BOOL, "activate")])
        .body(),
        r(
            "DELETE",
            "/policies/{policy_id}",
            "delete an inactive bundle",
            delete(policies::delete),
        ),
        r(
            "GET",
            "/registries",
            "list registries",
            get(registries::list),
        ),
        r(
            "POST",
            "/registries",
            "add a registry",
            post(registries::add),
        )
        .query(VALIDATE_QUERY)
        .body(),
        r(
            "GET",
            "/registries/{registry}",
            "get a registry",
            get(registries::get),
        ),
        r(
            "PUT",
            "/registries/{registry}",
            "update a registry",
            put(registries::update),
        )
        .query(VALIDATE_QUERY)
        .body(),
        r(
            "DELETE",
            "/registries/{registry}",
            "delete a registry",
            delete(registries::delete),
        ),
        r(
            "GET",
            "/query/images/by_vulnerability",
            "analysed images with a vulnerability",
            get(query::by_vulnerability),
        )
        .query(&[
            ("vulnerability_id", STR, "vulnerability id (required)"),
            ("namespace", STR, "feed group"),
            ("affected_package", STR, "package name"),
            ("severity", STR, "severity"),
            (
                "vendor_only",
                BOOL,
                "hide matches the vendor will not fix (default true)",
            ),
        ]),
        r(
            "GET",
            "/query/images/by_package",
            "analysed images with a package",
            get(query::by_package),
        )
        .query(&[
            ("name", STR, "package name (required)"),
            ("version", STR, "exact version"),
            ("package_type", STR, "package type"),
        ]),
        r(
            "GET",
            "/subscriptions",
            "list subscriptions",
            get(subscriptions::list),
        )
        .query(&[
            ("subscription_type", STR, "only this type"),
            ("subscription_key", STR, "only this key (tag or repository)"),
        ]),
        r(
            "POST",
            "/subscriptions",
            "add a subscription (idempotent: ids are deterministic)",
            post(subscriptions::add),
        )
        .body(),
        r(
            "GET",
            "/subscriptions/types",
            "subscription types",
            get(subscriptions::types),
        ),
        r(
            "GET",
            "/subscriptions/{subscription_id}",
            "get a subscription",
            get(subscriptions::get),
        ),
        r(
            "PUT",
            "/subscriptions/{subscription_id}",
            "activate or deactivate a subscription, set its value",
            put(subscriptions::update),
        )
        .body(),
        r(
            "DELETE",
            "/subscriptions/{subscription_id}",
            "delete a subscription",
            delete(subscriptions::delete),
        ),
        r(
            "POST",
            "/repositories",
            "watch a repository (a repo_update subscription)",
            post(subscriptions::add_repository),
        )
        .query(&[
            ("repository", STR, "registry/repo (required)"),
            (
                "autosubscribe",
                BOOL,
                "subscribe new tags to tag_update (default true)",
            ),
            ("dryrun", BOOL, "list the tags without saving"),
            ("lookuptag", STR, "accepted for anchore-cli"),
        ]),
        r(
            "GET",
            "/notifications",
            "webhook deliveries, newest first (dead letters: state=dead)",
            get(subscriptions::notifications),
        )
        .query(&[
            ("state", STR, "pending, delivering, delivered or dead"),
            ("limit", INT, "rows (default 100, at most 1000)"),
        ]),
        r(
            "POST",
            "/notifications/{notification}/retry",
            "queue a dead letter again",
            post(subscriptions::retry),
        ),
        r(
            "POST",
            "/system/webhooks/{webhook_type}/test",
            "send a test notification to a configured webhook (admin)",
            post(subscriptions::test_webhook),
        )
        .query(&[(
            "notification_type",
            STR,
            "tag_update, analysis_update, vuln_update or policy_eval",
        )]),
        r("GET", "/system", "service status", get(system::status)),
        r(
            "GET",
            "/system/services",
            "every process and its services",
            get(system::services),
        ),
        r(
            "DELETE",
            "/system/services/{servicename}/{host_id}",
            "forget a process that is down (admin)",
            delete(system::delete_service),
        ),
        r(
            "GET",
            "/system/feeds",
            "feeds and groups",
            get(system::feeds),
        ),
        r(
            "POST",
            "/system/feeds",
            "sync feeds now (409 while a sync runs; admin)",
            post(system::sync),
        )
        .query(&[("flush", BOOL, "accepted for anchore-cli")]),
        r(
            "GET",
            "/system/policy_spec",
            "gates, triggers and parameters",
            get(policies::spec),
        ),
        r(
            "GET",
            "/system/error_codes",
            "error codes",
            get(system::error_codes),
        ),
        r("GET", "/status", "queue status", get(system::queue_status)),
        r("GET", "/events", "list events", get(events::list)).query(&[
            ("since", STR, "ISO-8601 time"),
            ("before", STR, "ISO-8601 time"),
            ("level", STR, "info or error"),
            ("event_type", STR, "type, * as wildcard"),
            ("resource_type", STR, "resource type"),
            ("resource_id", STR, "resource id"),
            ("page", INT, "page, from 1"),
            ("limit", INT, "rows per page (default 100)"),
        ]),
        r(
            "DELETE",
            "/events",
            "delete events",
            delete(events::delete_many),
        )
        .query(WINDOW_QUERY),
        r(
            "GET",
            "/events/{event_id}",
            "get an event",
            get(events::get),
        ),
        r(
            "DELETE",
            "/events/{event_id}",
            "delete an event",
            delete(events::delete_one),
        ),
        r(
            "GET",
            "/archives",
            "analysis archive and rule totals",
            get(archives::summary),
        ),
        r(
            "GET",
            "/archives/images",
            "archived image analyses",
            get(archives::list_images),
        ),
        r(
            "POST",
            "/archives/images",
            "archive analysed images (a list of 1-100 digests); restore with POST images, source.archive",
            post(archives::archive),
        )
        .list_body(),
        r(
            "GET",
            "/archives/images/{digest}",
            "an archived image analysis",
            get(archives::get_image),
        ),
        r(
            "DELETE",
            "/archives/images/{digest}",
            "delete an archived image analysis for good",
            delete(archives::delete_image),
        )
        .query(&[("force", BOOL, "accepted for anchore-cli")]),
        r(
            "GET",
            "/archives/rules",
            "archive transition rules",
            get(archives::list_rules),
        )
        .query(&[(
            "system_global",
            BOOL,
            "include the global rules (default true)",
        )]),
        r(
            "POST",
            "/archives/rules",
            "add an archive transition rule (system_global: admin)",
            post(archives::add_rule),
        )
        .body(),
        r(
            "GET",
            "/archives/rules/{rule_id}",
            "an archive transition rule",
            get(archives::get_rule),
        ),
        r(
            "DELETE",
            "/archives/rules/{rule_id}",
            "delete an archive transition rule",
            delete(archives::delete_rule),
        ),
        r(
            "GET",
            "/account",
            "the caller's account",
            get(accounts::whoami_account),
        ),
        r("GET", "/user", "the caller", get(accounts::whoami_user)),
        r(
            "GET",
            "/accounts",
            "list accounts (admin)",
            get(accounts::list),
        ),
        r(
            "POST",
            "/accounts",
            "add an account (admin)",
            post(accounts::add),
        )
        .body(),
        r(
            "GET",
            "/accounts/{account}",
            "get an account",
            get(accounts::get),
        ),
        r(
            "DELETE",
            "/accounts/{account}",
            "delete a disabled account (admin)",
            delete(accounts::delete),
        ),
        r(
            "PUT",
            "/accounts/{account}/state",
            "enable or disable an account (admin)",
            put(accounts::set_state),
        )
        .body(),
        r(
            "GET",
            "/accounts/{account}/users",
            "list users",
            get(accounts::users),
        ),
        r(
            "POST",
            "/accounts/{account}/users",
            "add a user (admin)",
            post(accounts::add_user),
        )
        .body(),
        r(
            "GET",
            "/accounts/{account}/users/{username}",
            "get a user",
            get(accounts::get_user),
        ),
        r(
            "DELETE",
            "/accounts/{account}/users/{username}",
            "delete a user (admin)",
            delete(accounts::delete_user),
        ),
        r(
            "POST",
            "/accounts/{account}/users/{username}/credentials",
            "set a password",
            post(accounts::set_password),
        )
        .body(),
    ]
}

fn api_routes() -> Router<AppState> {
    routes()
        .into_iter()
        .fold(Router::new(), |router, r| router.route(r.path, r.handler))
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

/// The operations endpoints every role serves (not part of the v1 API documents): readiness
/// and Prometheus metrics; `/health` is a v1 route.
fn ops_routes() -> Router<AppState> {
    Router::new()
        .route("/ready", get(ops::ready))
        .route("/metrics", get(ops::metrics))
}

/// The router of every route, ready to serve. Wrap it with [`into_service`] to serve it with
/// path normalization.
pub fn router(state: AppState) -> Router {
    let limit = state.inner.config.max_request_bytes;
    api_routes()
        .merge(ops_routes())
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn(envelope))
        .layer(middleware::from_fn(ops::observe))
        .with_state(state)
}

/// The router of a process without the API (the `worker` role): `/health`, `/ready` and
/// `/metrics` only, so orchestrator probes and scrapes work; everything else is 404.
pub fn probe_router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(system::health))
        .merge(ops_routes())
        .layer(middleware::from_fn(envelope))
        .layer(middleware::from_fn(ops::observe))
        .with_state(state)
}

/// The service to hand to `axum::serve`: path normalization in front of [`router`] (routing
/// happens after the rewrite, which a router layer could not do).
pub fn into_service(
    state: AppState,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
    normalized(router(state))
}

/// [`probe_router`] with path normalization, for `axum::serve`.
pub fn into_probe_service(
    state: AppState,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
    normalized(probe_router(state))
}

fn normalized(
    inner: Router,
) -> axum::extract::connect_info::IntoMakeServiceWithConnectInfo<Router, std::net::SocketAddr> {
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
