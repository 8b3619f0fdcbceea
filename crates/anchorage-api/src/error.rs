//! The error envelope of every failed request (Anchore §1.3):
//! `{"message", "httpcode", "detail": {"error_codes": [...], ...}}`. Messages name what was wrong
//! in the request; internal failures are logged and answered with a generic message, never
//! with internals.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// A failed request.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// What went wrong, for the user.
    pub message: String,
    /// `detail` object (always has `error_codes`).
    pub detail: Value,
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    /// An error with a status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            detail: json!({"error_codes": []}),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: no such resource (also for another account's resources).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 409: conflicts with the current state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 401 with Anchore's message.
    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "Unauthorized")
    }

    /// 403: authenticated but not allowed.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 500 for an internal failure: the cause is logged, the answer says only what failed.
    pub fn internal(what: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{what}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("internal error while {what}; see the server log"),
        )
    }

    /// 503: a dependency (the database) is unavailable.
    pub fn unavailable(what: &str, cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "{what}");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            format!("service unavailable while {what}; retry later"),
        )
    }

    /// Adds an error code.
    pub fn code(mut self, code: &str) -> Self {
        if let Some(codes) = self.detail["error_codes"].as_array_mut() {
            codes.push(Value::String(code.to_string()));
        }
        self
    }

    /// Adds a detail key.
    pub fn with_detail(mut self, key: &str, value: Value) -> Self {
        self.detail[key] = value;
        self
    }
}

impl From<anchorage_store::StoreError> for ApiError {
    fn from(e: anchorage_store::StoreError) -> Self {
        use anchorage_store::StoreErrorKind as K;
        match e.kind() {
            K::Conflict => ApiError::conflict(e.to_string()),
            K::Unavailable => ApiError::unavailable("reaching the database", &e),
            _ => ApiError::internal("reading stored data", &e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = json!({
            "message": self.message,
            "httpcode": self.status.as_u16(),
            "detail": self.detail,
        });
        (self.status, axum::Json(body)).into_response()
    }
}
