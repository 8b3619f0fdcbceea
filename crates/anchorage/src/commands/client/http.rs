//! The HTTP side of the client: one `reqwest` client with basic auth and the account header,
//! JSON in and out, the Anchore error envelope turned into [`ClientError`], and how an error
//! is printed and mapped to an exit status.

use std::time::Duration;

use anchorage_settings::ClientSettings;
use reqwest::{Method, StatusCode};
use secrecy::ExposeSecret as _;
use serde_json::{Value, json};

use super::Conn;
use crate::ExitStatus;

/// Longest wait for a TCP/TLS connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for one answer (a policy check or a feed sync can take minutes).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(900);
/// Largest answer read (an image's file list can be large).
const MAX_RESPONSE_BYTES: usize = 512 << 20;

/// Why a client command failed.
#[derive(Debug)]
pub(crate) enum ClientError {
    /// The server answered with a non-2xx status; `body` is its error envelope.
    Api {
        /// HTTP status.
        status: u16,
        /// `{"message", "httpcode", "detail"}` (built from the status when the body is not JSON).
        body: Value,
    },
    /// The server could not be reached or its answer could not be read.
    Transport(String),
    /// Anything else (a local file, an argument, an unexpected answer).
    Other(anyhow::Error),
}

impl From<anyhow::Error> for ClientError {
    fn from(e: anyhow::Error) -> Self {
        ClientError::Other(e)
    }
}

/// Result of a client command.
pub(crate) type ClientResult<T> = Result<T, ClientError>;

impl ClientError {
    /// A local error with this message.
    pub(crate) fn msg(text: impl Into<String>) -> Self {
        ClientError::Other(anyhow::anyhow!(text.into()))
    }

    /// The envelope's message (or the error's text).
    pub(crate) fn message(&self) -> String {
        match self {
            ClientError::Api { body, .. } => body["message"]
                .as_str()
                .map_or_else(|| body.to_string(), str::to_string),
            ClientError::Transport(m) => m.clone(),
            ClientError::Other(e) => crate::exit::error_chain(e),
        }
    }

    /// The HTTP status of an API error.
    pub(crate) fn status(&self) -> Option<u16> {
        match self {
            ClientError::Api { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// anchore-cli's exit codes: 2 on 401, 500, transport and local errors; 1 on any other
    /// non-2xx answer.
    pub(crate) fn exit_status(&self) -> ExitStatus {
        match self {
            ClientError::Api { status, .. } if *status != 401 && *status != 500 => {
                ExitStatus::Refused
            }
            _ => ExitStatus::Error,
        }
    }
}

/// Prints a failed command's error (`Error: <message>`, `HTTP Code: <code>`, the detail) on
/// stderr, and in JSON mode the envelope on stdout; returns the exit status.
pub(crate) fn report(json_mode: bool, err: &ClientError) -> ExitStatus {
    if let ClientError::Api { status, body } = err {
        if json_mode {
            println!(
                "{}",
                serde_json::to_string_pretty(body).unwrap_or_else(|_| body.to_string())
            );
        }
        eprintln!("Error: {}", err.message());
        eprintln!("HTTP Code: {status}");
        let detail = &body["detail"];
        if let Some(problems) = detail["validation_details"].as_array() {
            eprintln!("Detail:");
            for p in problems {
                eprintln!(
                    "  {}: {}",
                    p["problem_type"].as_str().unwrap_or("problem"),
                    p["details"]
                        .as_str()
                        .map_or_else(|| p.to_string(), str::to_string)
                );
            }
        } else if has_detail(detail) {
            eprintln!("Detail: {detail}");
        }
    } else {
        eprintln!("Error: {}", err.message());
    }
    err.exit_status()
}

/// The exit status of a finished command, printing its error if it failed.
pub(crate) fn finish(api: &Api, result: ClientResult<ExitStatus>) -> ExitStatus {
    match result {
        Ok(status) => status,
        Err(e) => report(api.json(), &e),
    }
}

/// Whether a `detail` object says more than an empty `error_codes` list.
fn has_detail(detail: &Value) -> bool {
    match detail.as_object() {
        Some(map) => map.iter().any(|(k, v)| match v {
            Value::Array(a) => !a.is_empty(),
            Value::Null => false,
            _ => k != "error_codes",
        }),
        None => !detail.is_null(),
    }
}

/// A connection to the engine API.
pub(crate) struct Api {
    http: reqwest::Client,
    settings: ClientSettings,
}

impl Api {
    /// Resolves the connection settings and builds the HTTP client.
    pub(crate) fn new(conn: &Conn) -> anyhow::Result<Api> {
        let settings =
            anchorage_settings::ClientSettings::resolve(&conn.flags(), &|k| std::env::var_os(k))?;
        let http = reqwest::Client::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("anchorage/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Api { http, settings })
    }

    /// Whether raw JSON is printed.
    pub(crate) fn json(&self) -> bool {
        self.settings.json
    }

    /// The base URL (never holds credentials).
    pub(crate) fn base(&self) -> &str {
        self.settings.url.as_str()
    }

    /// `<base>/<segments...>?<query>`, each segment percent-encoded (a registry `host/path`
    /// stays one segment).
    fn url(&self, segments: &[&str], query: &[(&str, String)]) -> url::Url {
        let mut url = self.settings.url.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty();
            path.extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// `GET`.
    pub(crate) async fn get(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> ClientResult<Value> {
        self.send(Method::GET, segments, query, None).await
    }

    /// `POST` with an optional JSON body.
    pub(crate) async fn post(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> ClientResult<Value> {
        self.send(Method::POST, segments, query, body).await
    }

    /// `PUT` with a JSON body.
    pub(crate) async fn put(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
        body: &Value,
    ) -> ClientResult<Value> {
        self.send(Method::PUT, segments, query, Some(body)).await
    }

    /// `DELETE`.
    pub(crate) async fn delete(
        &self,
        segments: &[&str],
        query: &[(&str, String)],
    ) -> ClientResult<Value> {
        self.send(Method::DELETE, segments, query, None).await
    }

    /// Sends one request; a 2xx answer's JSON (`null` when empty), else [`ClientError::Api`].
    async fn send(
        &self,
        method: Method,
        segments: &[&str],
        query: &[(&str, String)],
        body: Option<&Value>,
    ) -> ClientResult<Value> {
        let url = self.url(segments, query);
        let what = format!("{method} {}", url.path());
        let mut request = self
            .http
            .request(method, url)
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(user) = &self.settings.user {
            request = request.basic_auth(
                user,
                self.settings.password.as_ref().map(|p| p.expose_secret()),
            );
        }
        if let Some(account) = &self.settings.account {
            request = request.header("x-anchore-account", account);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        // reqwest errors name the URL; ours never holds credentials, but the message names
        // the base URL anyway.
        let transport = |e: reqwest::Error| {
            ClientError::Transport(format!(
                "cannot reach the engine at {} ({what}): {}",
                self.base(),
                crate::exit::error_chain(&anyhow::Error::new(e.without_url()))
            ))
        };
        let mut response = request.send().await.map_err(transport)?;
        let status = response.status();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport)? {
            if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(ClientError::Transport(format!(
                    "the answer to {what} is over {MAX_RESPONSE_BYTES} bytes"
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        if status.is_success() {
            if bytes.iter().all(u8::is_ascii_whitespace) {
                return Ok(Value::Null);
            }
            return parsed.ok_or_else(|| {
                ClientError::Transport(format!("the answer to {what} is not JSON"))
            });
        }
        Err(ClientError::Api {
            status: status.as_u16(),
            body: envelope(status, parsed, &bytes),
        })
    }
}

/// The error envelope of a failed answer, built from the status when the body is not one.
fn envelope(status: StatusCode, parsed: Option<Value>, bytes: &[u8]) -> Value {
    match parsed {
        Some(v) if v.get("message").is_some_and(Value::is_string) => v,
        _ => {
            let text = String::from_utf8_lossy(bytes).trim().to_string();
            let message = if status == StatusCode::UNAUTHORIZED && text.is_empty() {
                "Unauthorized - please check your username/password".to_string()
            } else if text.is_empty() || text.len() > 500 {
                status
                    .canonical_reason()
                    .unwrap_or("request failed")
                    .to_string()
            } else {
                text
            };
            json!({"message": message, "httpcode": status.as_u16(), "detail": {}})
        }
    }
}

/// `True`/`False`, the spelling anchore-cli sends for boolean query parameters.
pub(crate) fn py_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_anchore_cli() {
        let api = |status| ClientError::Api {
            status,
            body: json!({"message": "m"}),
        };
        assert_eq!(api(401).exit_status().code(), 2);
        assert_eq!(api(500).exit_status().code(), 2);
        assert_eq!(api(404).exit_status().code(), 1);
        assert_eq!(api(409).exit_status().code(), 1);
        assert_eq!(ClientError::Transport("x".into()).exit_status().code(), 2);
        assert_eq!(ClientError::msg("x").exit_status().code(), 2);
    }

    #[test]
    fn synthetic_non_json_errors_get_an_envelope() {
        let e = envelope(StatusCode::UNAUTHORIZED, None, b"");
        assert_eq!(
            e["message"],
            "Unauthorized - please check your username/password"
        );
        let e = envelope(StatusCode::BAD_GATEWAY, None, b"<html>proxy down</html>");
        assert_eq!(e["message"], "<html>proxy down</html>");
        assert_eq!(e["httpcode"], 502);
        let e = envelope(
            StatusCode::NOT_FOUND,
            Some(json!({"message": "image not found", "httpcode": 404})),
            b"",
        );
        assert_eq!(e["message"], "image not found");
        assert!(!has_detail(&json!({"error_codes": []})));
        assert!(has_detail(&json!({"error_codes": ["X"]})));
        assert!(has_detail(
            &json!({"error_codes": [], "raw_exception_message": "boom"})
        ));
    }
}
