//! Watch-mode settings of the YAML config file: the top-level `cycle_timers` (also read from
//! Anchore's `services.catalog.cycle_timers`) and `webhooks` (Anchore §6.3, plus our
//! `signing_secret`, `max_attempts` and `retry_backoff_seconds`).

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;

/// A watcher cycle: its Anchore name, default interval and allowed range (seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CycleSpec {
    /// Name (`image_watcher`, ...).
    pub name: &'static str,
    /// Default interval.
    pub default: u64,
    /// Smallest interval accepted (low, so tests can run cycles every few seconds).
    pub min: u64,
    /// Largest interval accepted.
    pub max: u64,
}

/// Every cycle, with Anchore's shipped intervals as defaults.
pub const CYCLES: &[CycleSpec] = &[
    CycleSpec {
        name: "analyzer_queue",
        default: 5,
        min: 1,
        max: 7200,
    },
    CycleSpec {
        name: "image_watcher",
        default: 3600,
        min: 1,
        max: 7 * 86400,
    },
    CycleSpec {
        name: "repo_watcher",
        default: 60,
        min: 1,
        max: 7 * 86400,
    },
    CycleSpec {
        name: "policy_eval",
        default: 3600,
        min: 1,
        max: 2 * 86400,
    },
    CycleSpec {
        name: "vulnerability_scan",
        default: 14400,
        min: 1,
        max: 2 * 86400,
    },
    CycleSpec {
        name: "notifications",
        default: 30,
        min: 1,
        max: 2 * 86400,
    },
    CycleSpec {
        name: "feed_sync",
        default: 21600,
        min: 1,
        max: 7 * 86400,
    },
    CycleSpec {
        name: "archive_tasks",
        default: 43200,
        min: 1,
        max: 5 * 86400,
    },
];

/// Intervals of the cycles, seconds, by name (every name of [`CYCLES`] present).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleTimers {
    /// Interval by cycle name.
    pub intervals: BTreeMap<&'static str, u64>,
    /// Base tick of the scheduler (`cycle_timer_seconds`).
    pub tick_seconds: u64,
}

impl Default for CycleTimers {
    fn default() -> Self {
        Self {
            intervals: CYCLES.iter().map(|c| (c.name, c.default)).collect(),
            tick_seconds: 1,
        }
    }
}

impl CycleTimers {
    /// Interval of a cycle (its default when the name is unknown here).
    pub fn interval(&self, name: &str) -> u64 {
        self.intervals.get(name).copied().unwrap_or(3600)
    }

    /// Applies configured values (clamped to each cycle's range); an unknown name is an error.
    pub fn apply(&mut self, values: &BTreeMap<String, u64>) -> Result<(), String> {
        for (name, v) in values {
            let Some(spec) = CYCLES.iter().find(|c| c.name == name) else {
                // Anchore ships timers we have no use for; accept and ignore them.
                if [
                    "service_watcher",
                    "policy_bundle_sync",
                    "image_gc",
                    "account_resource_cleanup",
                    "feed_sync_checker",
                    "grypedb_sync",
                ]
                .contains(&name.as_str())
                {
                    continue;
                }
                return Err(format!(
                    "unknown cycle {name:?}; known: {}",
                    CYCLES.iter().map(|c| c.name).collect::<Vec<_>>().join(", ")
                ));
            };
            self.intervals
                .insert(spec.name, (*v).clamp(spec.min, spec.max));
        }
        Ok(())
    }
}

/// One webhook endpoint (`webhooks.general`, `webhooks.tag_update`, ...).
#[derive(Clone)]
pub struct HookSettings {
    /// URL, with `<userId>` and `<notification_type>` placeholders.
    pub url: String,
    /// Basic-auth user (the hook's own, else the global one).
    pub user: Option<String>,
    /// Basic-auth password.
    pub password: Option<SecretString>,
    /// Verify TLS certificates.
    pub ssl_verify: bool,
}

impl std::fmt::Debug for HookSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookSettings")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("ssl_verify", &self.ssl_verify)
            .finish_non_exhaustive()
    }
}

/// The `webhooks` section.
#[derive(Clone, Debug)]
pub struct WebhookConfig {
    /// Endpoints by hook name (`general`, `tag_update`, `analysis_update`, `vuln_update`,
    /// `policy_eval`, `event_log`).
    pub hooks: BTreeMap<String, HookSettings>,
    /// A notification not delivered this many seconds after it was queued becomes a dead
    /// letter (Anchore's `notification_retry_timeout`; ours persists, so the default is an
    /// hour rather than Anchore's 30 s).
    pub retry_timeout_seconds: u64,
    /// Attempts before a delivery becomes a dead letter.
    pub max_attempts: u32,
    /// First retry delay; doubled after each failure, at most 300 s.
    pub retry_backoff_seconds: u64,
    /// Per-request timeout (Anchore: 2 s).
    pub timeout_seconds: u64,
    /// Secret of the `X-Anchorage-Signature` HMAC-SHA256 header; none: unsigned.
    pub signing_secret: Option<SecretString>,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self {
            hooks: BTreeMap::new(),
            retry_timeout_seconds: 3600,
            max_attempts: 10,
            retry_backoff_seconds: 2,
            timeout_seconds: 2,
            signing_secret: None,
        }
    }
}

/// Hook names the `webhooks` section may hold.
pub const HOOK_NAMES: &[&str] = &[
    "general",
    "tag_update",
    "analysis_update",
    "vuln_update",
    "policy_eval",
    "event_log",
];

#[derive(Deserialize, Default)]
pub(crate) struct RawHook {
    url: Option<String>,
    webhook_user: Option<String>,
    webhook_pass: Option<String>,
    ssl_verify: Option<bool>,
}

#[derive(Deserialize, Default)]
pub(crate) struct RawWebhooks {
    webhook_user: Option<String>,
    webhook_pass: Option<String>,
    ssl_verify: Option<bool>,
    notification_retry_timeout: Option<u64>,
    max_attempts: Option<u32>,
    retry_backoff_seconds: Option<u64>,
    timeout_seconds: Option<u64>,
    signing_secret: Option<String>,
    #[serde(flatten)]
    hooks: BTreeMap<String, serde_yaml_ng::Value>,
}

impl RawWebhooks {
    /// Resolves the section; errors name the key.
    pub(crate) fn resolve(self) -> Result<WebhookConfig, (String, String)> {
        let mut out = WebhookConfig::default();
        let verify = self.ssl_verify.unwrap_or(true);
        for (name, value) in self.hooks {
            if !HOOK_NAMES.contains(&name.as_str()) {
                return Err((
                    format!("webhooks.{name}"),
                    format!("unknown key; hooks are {}", HOOK_NAMES.join(", ")),
                ));
            }
            if value.is_null() {
                continue;
            }
            let raw: RawHook = serde_yaml_ng::from_value(value)
                .map_err(|e| (format!("webhooks.{name}"), e.to_string()))?;
            let Some(url) = raw.url.filter(|u| !u.trim().is_empty()) else {
                continue;
            };
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err((
                    format!("webhooks.{name}.url"),
                    "must start with http:// or https://".into(),
                ));
            }
            out.hooks.insert(
                name,
                HookSettings {
                    url,
                    user: raw.webhook_user.or_else(|| self.webhook_user.clone()),
                    password: raw
                        .webhook_pass
                        .or_else(|| self.webhook_pass.clone())
                        .map(SecretString::from),
                    ssl_verify: raw.ssl_verify.unwrap_or(verify),
                },
            );
        }
        if let Some(t) = self.notification_retry_timeout {
            out.retry_timeout_seconds = t.max(1);
        }
        if let Some(n) = self.max_attempts {
            out.max_attempts = n.clamp(1, 1000);
        }
        if let Some(b) = self.retry_backoff_seconds {
            out.retry_backoff_seconds = b.clamp(1, 300);
        }
        if let Some(t) = self.timeout_seconds {
            out.timeout_seconds = t.clamp(1, 120);
        }
        out.signing_secret = self
            .signing_secret
            .filter(|s| !s.is_empty())
            .map(SecretString::from);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchore_webhooks_section_is_read_with_fallbacks() {
        let yaml = "webhook_user: u\nwebhook_pass: p\nssl_verify: false\n\
                    notification_retry_timeout: 30\n\
                    general: {url: 'http://h:9090/general/<notification_type>/<userId>'}\n\
                    tag_update: {url: 'https://h/t', webhook_user: t, ssl_verify: true}\n\
                    policy_eval: {}\nevent_log: null\n";
        let raw: RawWebhooks = serde_yaml_ng::from_str(yaml).expect("yaml");
        let w = raw.resolve().expect("valid");
        assert_eq!(w.hooks.len(), 2);
        let g = &w.hooks["general"];
        assert_eq!(g.user.as_deref(), Some("u"));
        assert!(!g.ssl_verify);
        let t = &w.hooks["tag_update"];
        assert_eq!(t.user.as_deref(), Some("t"));
        assert!(t.ssl_verify);
        assert_eq!(w.retry_timeout_seconds, 30);
    }

    #[test]
    fn unknown_hook_and_bad_url_are_refused_with_the_key() {
        let raw: RawWebhooks =
            serde_yaml_ng::from_str("tag_updates: {url: 'http://x'}\n").expect("yaml");
        let (key, _) = raw.resolve().expect_err("refused");
        assert_eq!(key, "webhooks.tag_updates");
        let raw: RawWebhooks =
            serde_yaml_ng::from_str("general: {url: 'ftp://x'}\n").expect("yaml");
        let (key, _) = raw.resolve().expect_err("refused");
        assert_eq!(key, "webhooks.general.url");
    }

    #[test]
    fn cycle_timers_are_clamped_and_unknown_names_refused() {
        let mut t = CycleTimers::default();
        assert_eq!(t.interval("image_watcher"), 3600);
        let mut v = BTreeMap::new();
        v.insert("image_watcher".to_string(), 0);
        v.insert("service_watcher".to_string(), 15);
        t.apply(&v).expect("known names");
        assert_eq!(t.interval("image_watcher"), 1);
        v.insert("image_watchr".to_string(), 5);
        assert!(t.apply(&v).is_err());
    }
}
