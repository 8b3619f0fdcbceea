//! The cycles: what each watcher does in one run.

use futures_util::StreamExt as _;
use serde_json::{Value, json};

use anchorage_store::{NotificationRecord, REPO_UPDATE, SubscriptionFilter};

use crate::payload::{self, Notification};
use crate::webhook::{self, DeliveryError};
use crate::{Watch, WatchError, now};

/// What one run of a cycle did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CycleReport {
    /// Analysis jobs queued (`analyzer_queue`).
    pub queued: u64,
    /// Images added by a watcher.
    pub images_added: usize,
    /// Subscriptions checked.
    pub checked: usize,
    /// Notifications queued.
    pub notifications: usize,
    /// Deliveries made (`notifications`).
    pub delivered: usize,
    /// Deliveries that failed.
    pub failed: usize,
    /// Re-match outcome (`vulnerability_scan`).
    pub rematch: Option<crate::RematchReport>,
    /// Feed names changed (`feed_sync`).
    pub feed_changes: usize,
    /// Analyses archived or archived analyses deleted (`archive_tasks`).
    pub archived: usize,
}

impl CycleReport {
    /// True when the run did something worth a log line.
    pub fn acted(&self) -> bool {
        self.queued > 0
            || self.images_added > 0
            || self.notifications > 0
            || self.delivered > 0
            || self.failed > 0
            || self.feed_changes > 0
            || self.archived > 0
            || self
                .rematch
                .as_ref()
                .is_some_and(|r| r.matched > 0 || r.indexed > 0)
    }
}

/// The `repo_update` subscription value (§6.1).
fn repo_value(v: Option<&str>) -> (bool, String, Vec<String>) {
    let parsed: Value = v
        .and_then(|t| serde_json::from_str(t).ok())
        .unwrap_or(Value::Null);
    let autosubscribe = parsed["autosubscribe"].as_bool().unwrap_or(false);
    let lookuptag = parsed["lookuptag"].as_str().unwrap_or("latest").to_string();
    let tags = parsed["repotags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    (autosubscribe, lookuptag, tags)
}

/// The `repo_update` value for a repository's known tags.
pub fn repo_value_json(autosubscribe: bool, lookuptag: &str, tags: &[String]) -> String {
    json!({
        "autosubscribe": autosubscribe,
        "lookuptag": lookuptag,
        "tagcount": tags.len(),
        "repotags": tags,
    })
    .to_string()
}

impl Watch {
    /// Runs one cycle now (the scheduler calls this under the cycle's lease; tests call it
    /// directly).
    pub async fn run_cycle(&self, name: &str) -> Result<CycleReport, WatchError> {
        match name {
            "analyzer_queue" => Ok(CycleReport {
                queued: self
                    .inner
                    .db
                    .queue_unqueued_analyses(self.inner.options.max_attempts, now())
                    .await?,
                ..CycleReport::default()
            }),
            "image_watcher" => self.image_watcher().await,
            "repo_watcher" => self.repo_watcher().await,
            "policy_eval" => self.policy_eval_cycle().await,
            "vulnerability_scan" => {
                let indexed = self.backfill_index(500).await?;
                let mut r = self.rematch_pending().await?;
                r.indexed = indexed;
                Ok(CycleReport {
                    notifications: r.vuln_notifications + r.policy_notifications,
                    rematch: Some(r),
                    ..CycleReport::default()
                })
            }
            "notifications" => self.deliver_due().await,
            "feed_sync" => {
                let outcome = self.sync_feeds().await;
                Ok(CycleReport {
                    feed_changes: outcome.map_or(0, |o| o.changed_names),
                    ..CycleReport::default()
                })
            }
            "archive_tasks" => {
                let Some(store) = &self.inner.options.archive else {
                    return Ok(CycleReport::default());
                };
                let run =
                    anchorage_store::apply_archive_rules(&self.inner.db, store, now()).await?;
                Ok(CycleReport {
                    archived: run.archived.len() + run.deleted.len(),
                    failed: run.failed.len(),
                    ..CycleReport::default()
                })
            }
            other => Err(WatchError::Document(format!("unknown cycle {other:?}"))),
        }
    }

    async fn image_watcher(&self) -> Result<CycleReport, WatchError> {
        let db = &self.inner.db;
        let subs = db
            .subscriptions(&SubscriptionFilter {
                subscription_type: Some("tag_update".into()),
                active: Some(true),
                ..SubscriptionFilter::default()
            })
            .await?;
        let mut report = CycleReport::default();
        for s in subs {
            report.checked += 1;
            let access = self.access(&s.account).await?;
            let digest = match self
                .inner
                .engine
                .resolve_digest_with(&s.subscription_key, &access)
                .await
            {
                Ok(d) => d.to_string(),
                Err(e) => {
                    self.event(
                        &s.account,
                        "system.image_analysis.registry_lookup_failed",
                        "error",
                        &format!("cannot look up {}: {e}", s.subscription_key),
                        ("image_tag", &s.subscription_key),
                        &json!({}),
                    )
                    .await;
                    continue;
                }
            };
            let history = db.tag_history(&s.account, &s.subscription_key).await?;
            if history.first() == Some(&digest) {
                continue;
            }
            self.add_found_image(&s.account, &s.subscription_key, &digest)
                .await?;
            report.images_added += 1;
            let n = Notification {
                notification_id: payload::notification_id(
                    &s.account,
                    "tag_update",
                    &s.subscription_key,
                    &format!("{}|{digest}", history.first().map_or("", String::as_str)),
                ),
                account: s.account.clone(),
                email: None,
                notification_type: "tag_update".into(),
                subscription_key: s.subscription_key.clone(),
                fields: payload::tag_update_fields(&history, &digest),
            };
            report.notifications += usize::from(self.notify(&n).await? > 0);
        }
        Ok(report)
    }

    async fn repo_watcher(&self) -> Result<CycleReport, WatchError> {
        let db = &self.inner.db;
        let subs = db
            .subscriptions(&SubscriptionFilter {
                subscription_type: Some(REPO_UPDATE.into()),
                active: Some(true),
                ..SubscriptionFilter::default()
            })
            .await?;
        let mut report = CycleReport::default();
        for s in subs {
            report.checked += 1;
            let access = self.access(&s.account).await?;
            let tags = match self
                .inner
                .engine
                .list_tags_with(&s.subscription_key, &access)
                .await
            {
                Ok(t) => t,
                Err(e) => {
                    self.event(
                        &s.account,
                        "system.repository.list_tags_fail",
                        "error",
                        &format!("cannot list the tags of {}: {e}", s.subscription_key),
                        ("repository", &s.subscription_key),
                        &json!({}),
                    )
                    .await;
                    continue;
                }
            };
            let (autosubscribe, lookuptag, known) = repo_value(s.subscription_value.as_deref());
            let mut seen = known.clone();
            for tag in tags.iter().filter(|t| !known.contains(t)) {
                // Stop early when the watch was turned off meanwhile.
                if !db
                    .subscribed(&s.account, REPO_UPDATE, &s.subscription_key)
                    .await?
                {
                    break;
                }
                let fulltag = format!("{}:{tag}", s.subscription_key);
                let digest = match self
                    .inner
                    .engine
                    .resolve_digest_with(&fulltag, &access)
                    .await
                {
                    Ok(d) => d.to_string(),
                    Err(e) => {
                        self.event(
                            &s.account,
                            "system.image_analysis.registry_lookup_failed",
                            "error",
                            &format!("cannot look up {fulltag}: {e}"),
                            ("image_tag", &fulltag),
                            &json!({}),
                        )
                        .await;
                        continue;
                    }
                };
                self.add_found_image(&s.account, &fulltag, &digest).await?;
                self.subscribe_tag(&s.account, &fulltag, autosubscribe)
                    .await?;
                report.images_added += 1;
                seen.push(tag.clone());
            }
            seen.sort();
            seen.dedup();
            seen.retain(|t| tags.contains(t));
            let value = repo_value_json(autosubscribe, &lookuptag, &seen);
            if s.subscription_value.as_deref() != Some(value.as_str()) {
                db.update_subscription(&s.account, &s.subscription_id, None, Some(&value), now())
                    .await?;
            }
        }
        Ok(report)
    }

    async fn policy_eval_cycle(&self) -> Result<CycleReport, WatchError> {
        let db = &self.inner.db;
        let subs = db
            .subscriptions(&SubscriptionFilter {
                subscription_type: Some("policy_eval".into()),
                active: Some(true),
                ..SubscriptionFilter::default()
            })
            .await?;
        let mut report = CycleReport::default();
        for s in subs {
            report.checked += 1;
            let history = db.tag_history(&s.account, &s.subscription_key).await?;
            let Some(digest) = history.first() else {
                continue;
            };
            match self
                .evaluate_tag(&s.account, &s.subscription_key, digest)
                .await
            {
                Ok(true) => report.notifications += 1,
                Ok(false) => {}
                Err(e) => {
                    tracing::warn!(tag = %s.subscription_key, error = %e, "policy evaluation failed");
                }
            }
        }
        Ok(report)
    }

    /// Delivers every due notification (in rounds of 32, 8 at a time); failures are retried
    /// later with exponential backoff, or become dead letters.
    pub async fn deliver_due(&self) -> Result<CycleReport, WatchError> {
        let owner = format!("{}/notifications", self.inner.options.host_id);
        let mut report = CycleReport::default();
        for _ in 0..100 {
            let t = now();
            // Longer than one attempt (the request timeout); a process that dies leaves it
            // to expire, and the delivery is attempted again.
            let lease = i64::try_from(self.inner.options.webhooks.timeout_seconds)
                .unwrap_or(2)
                .saturating_add(5);
            let batch = self
                .inner
                .db
                .claim_notifications(&owner, t, t + lease, 32)
                .await?;
            if batch.is_empty() {
                break;
            }
            let results: Vec<(NotificationRecord, Result<(), DeliveryError>)> =
                futures_util::stream::iter(batch.into_iter().map(|rec| async {
                    let r = self.deliver(&rec).await;
                    (rec, r)
                }))
                .buffer_unordered(8)
                .collect()
                .await;
            for (rec, r) in results {
                match r {
                    Ok(()) => {
                        report.delivered += 1;
                        self.delivered(&owner, &rec).await?;
                    }
                    Err(e) => {
                        report.failed += 1;
                        self.failed(&owner, &rec, &e).await?;
                    }
                }
            }
        }
        Ok(report)
    }

    async fn deliver(&self, rec: &NotificationRecord) -> Result<(), DeliveryError> {
        let settings = &self.inner.options.webhooks;
        let hook = settings
            .hooks
            .get(&rec.hook)
            .ok_or_else(|| DeliveryError::Unconfigured(rec.hook.clone()))?;
        let url = webhook::hook_url(hook, &rec.account, &rec.notification_type);
        let mut body: Value = serde_json::from_str(&rec.payload).unwrap_or(Value::Null);
        if body.is_object() {
            body["tries"] = json!(now());
            body["last_updated"] = json!(now());
        }
        let bytes = body.to_string();
        self.inner
            .sender
            .send(
                hook,
                &url,
                bytes.as_bytes(),
                &rec.notification_id,
                settings.signing_secret.as_ref(),
            )
            .await
    }

    async fn delivered(&self, owner: &str, rec: &NotificationRecord) -> Result<(), WatchError> {
        if self
            .inner
            .db
            .notification_delivered(rec.id, owner, now())
            .await?
        {
            self.event(
                &rec.account,
                "user.notification.delivered",
                "info",
                &format!(
                    "{} notification {} delivered to webhook {} (attempt {})",
                    rec.notification_type, rec.notification_id, rec.hook, rec.attempts
                ),
                ("notification", &rec.notification_id),
                &json!({"hook": rec.hook, "attempts": rec.attempts}),
            )
            .await;
        }
        Ok(())
    }

    async fn failed(
        &self,
        owner: &str,
        rec: &NotificationRecord,
        e: &DeliveryError,
    ) -> Result<(), WatchError> {
        let settings = &self.inner.options.webhooks;
        let t = now();
        let timeout = i64::try_from(settings.retry_timeout_seconds).unwrap_or(i64::MAX / 2);
        let dead = matches!(e, DeliveryError::Unconfigured(_))
            || rec.attempts >= i64::from(settings.max_attempts)
            || t - rec.created_at >= timeout;
        let next = t + webhook::backoff_seconds(settings.retry_backoff_seconds, rec.attempts);
        let message = e.to_string();
        if !self
            .inner
            .db
            .notification_failed(rec.id, owner, &message, next, dead, t)
            .await?
        {
            return Ok(());
        }
        let (kind, text) = if dead {
            (
                "user.notification.dead_lettered",
                format!(
                    "{} notification {} to webhook {} given up after {} attempt(s): {message}",
                    rec.notification_type, rec.notification_id, rec.hook, rec.attempts
                ),
            )
        } else {
            (
                "user.notification.delivery_failed",
                format!(
                    "{} notification {} to webhook {} failed (attempt {}), retrying in {} s: {message}",
                    rec.notification_type,
                    rec.notification_id,
                    rec.hook,
                    rec.attempts,
                    next - t
                ),
            )
        };
        self.event(
            &rec.account,
            kind,
            "error",
            &text,
            ("notification", &rec.notification_id),
            &json!({"hook": rec.hook, "attempts": rec.attempts, "error": message}),
        )
        .await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_values_round_trip() {
        let v = repo_value_json(true, "latest", &["1".into(), "2".into()]);
        let (a, l, t) = repo_value(Some(&v));
        assert!(a);
        assert_eq!(l, "latest");
        assert_eq!(t, vec!["1".to_string(), "2".to_string()]);
        let (a, l, t) = repo_value(Some("not json"));
        assert!(!a);
        assert_eq!(l, "latest");
        assert!(t.is_empty());
    }
}
