//! Webhook delivery: URL placeholders, basic auth, the HMAC-SHA256 signature header, the
//! retry schedule. The HTTP call is the only I/O here.

use anchorage_settings::{HookSettings, WebhookConfig};
use hmac::{KeyInit as _, Mac as _};
use secrecy::ExposeSecret as _;

/// Header carrying `sha256=<hex HMAC-SHA256 of the body>` when a signing secret is set.
pub const SIGNATURE_HEADER: &str = "X-Anchorage-Signature";
/// Header carrying the stable notification id.
pub const ID_HEADER: &str = "X-Anchorage-Notification-Id";

/// The URL of a hook for one account and notification type (`<userId>`,
/// `<notification_type>` substituted).
pub fn hook_url(hook: &HookSettings, account: &str, kind: &str) -> String {
    hook.url
        .replace("<userId>", account)
        .replace("<notification_type>", kind)
}

/// `sha256=<hex>` of the body under the secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let mut mac = match hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        // HMAC takes keys of any length; this arm is unreachable in practice.
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// When to try again after `attempts` failed attempts: `base * 2^(attempts-1)` seconds, at
/// most 300.
pub fn backoff_seconds(base: u64, attempts: i64) -> i64 {
    let exp = u32::try_from(attempts.clamp(1, 20) - 1).unwrap_or(0);
    let delay = base.max(1).saturating_mul(1u64 << exp).min(300);
    i64::try_from(delay).unwrap_or(300)
}

/// The hooks a notification of `kind` goes to: its own and `general`, when configured.
pub fn hooks_for<'a>(settings: &'a WebhookConfig, kind: &str) -> Vec<(&'a str, &'a HookSettings)> {
    let mut out = Vec::new();
    for name in [kind, "general"] {
        if let Some((n, h)) = settings.hooks.get_key_value(name) {
            out.push((n.as_str(), h));
        }
    }
    out
}

/// Why a delivery attempt failed (the message never holds the hook's password).
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The receiver answered with a non-2xx status.
    #[error("the receiver answered HTTP {0}")]
    Status(u16),
    /// The request failed (connection refused, timeout, TLS).
    #[error("cannot reach the receiver: {0}")]
    Transport(String),
    /// The hook is no longer configured.
    #[error("no webhook {0:?} is configured any more")]
    Unconfigured(String),
}

/// HTTP clients for delivery: one verifying TLS certificates, one not (`ssl_verify: false`).
#[derive(Clone, Debug)]
pub struct Sender {
    verified: reqwest::Client,
    unverified: reqwest::Client,
}

impl Sender {
    /// Builds the clients with the per-request timeout.
    pub fn new(timeout_seconds: u64) -> Result<Self, DeliveryError> {
        let build = |verify: bool| {
            reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(timeout_seconds.max(1)))
                .danger_accept_invalid_certs(!verify)
                .user_agent(concat!("anchorage/", env!("CARGO_PKG_VERSION")))
                .build()
                .map_err(|e| DeliveryError::Transport(e.to_string()))
        };
        Ok(Self {
            verified: build(true)?,
            unverified: build(false)?,
        })
    }

    /// POSTs one body to a hook.
    pub async fn send(
        &self,
        hook: &HookSettings,
        url: &str,
        body: &[u8],
        notification_id: &str,
        signing_secret: Option<&secrecy::SecretString>,
    ) -> Result<(), DeliveryError> {
        let client = if hook.ssl_verify {
            &self.verified
        } else {
            &self.unverified
        };
        let mut req = client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(ID_HEADER, notification_id)
            .body(body.to_vec());
        if let Some(user) = &hook.user {
            req = req.basic_auth(user, hook.password.as_ref().map(|p| p.expose_secret()));
        }
        if let Some(secret) = signing_secret {
            req = req.header(SIGNATURE_HEADER, signature(secret.expose_secret(), body));
        }
        let resp = req.send().await.map_err(|e| {
            // reqwest's message holds the URL, never the credentials; keep its kind.
            let kind = if e.is_timeout() {
                "timed out"
            } else if e.is_connect() {
                "connection failed"
            } else {
                "request failed"
            };
            DeliveryError::Transport(format!("{kind} ({url})"))
        })?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Status(resp.status().as_u16()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_substituted() {
        let h = HookSettings {
            url: "http://h:9090/general/<notification_type>/<userId>".into(),
            user: None,
            password: None,
            ssl_verify: true,
        };
        assert_eq!(
            hook_url(&h, "admin", "tag_update"),
            "http://h:9090/general/tag_update/admin"
        );
    }

    #[test]
    fn signature_matches_rfc4231_case_2() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?".
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        assert_eq!(backoff_seconds(2, 1), 2);
        assert_eq!(backoff_seconds(2, 2), 4);
        assert_eq!(backoff_seconds(2, 5), 32);
        assert_eq!(backoff_seconds(2, 50), 300);
    }
}
