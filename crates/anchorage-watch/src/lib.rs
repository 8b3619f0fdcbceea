//! Watch mode of the engine service (Anchore §6): subscriptions, the watcher cycles, the
//! incremental re-match after a feed change and webhook notifications.
//!
//! Cycles (`analyzer_queue`, `image_watcher`, `repo_watcher`, `policy_eval`,
//! `vulnerability_scan`, `notifications`, `feed_sync`) run on their `cycle_timers` interval,
//! each once cluster-wide: a process runs a cycle only while it holds the cycle's lease in the
//! database ([`anchorage_store::Database::take_cycle`]). A cycle can also be asked to run at
//! once from any process ([`Watch::trigger`]): after a feed sync, an active-bundle change or
//! a new repository watch.
//!
//! Re-matching never pulls or analyses an image again: each stored analysis is indexed by the
//! package names the matcher looks up ([`anchorage_match::lookup_names`]) with its match
//! input and current findings; a feed sync records the names whose advisories changed, and
//! only the images holding one of them are matched again and diffed.
//!
//! Notifications are queued once per stable id and hook, delivered with retries and
//! exponential backoff that survive restarts (the queue is in the database), and end as
//! delivered or as dead letters; every state change is an event.

mod cycles;
mod index;
pub mod payload;
pub mod webhook;

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anchorage_engine::{Analysis, Engine, EvaluateRequest, ImageAccess};
use anchorage_image::RegistryCredential;
use anchorage_settings::{CycleTimers, WebhookConfig};
use anchorage_store::{
    AddImage, Database, EvaluationRecord, EventRecord, NewNotification, PolicyRecord, Sealer,
    TAG_SUBSCRIPTION_TYPES, TagRecord,
};
use anchorage_vulndb::{FeedSource, SyncReport};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

pub use cycles::{CycleReport, repo_value_json};
pub use index::RematchReport;
pub use payload::Notification;

/// How watch mode runs.
#[derive(Clone)]
pub struct WatchOptions {
    /// This process' name (lease owner prefix).
    pub host_id: String,
    /// Cycle intervals.
    pub timers: CycleTimers,
    /// Webhooks.
    pub webhooks: WebhookConfig,
    /// Feed sources of the `feed_sync` cycle and `POST system/feeds`.
    pub feed_sources: Vec<FeedSource>,
    /// Registries reached over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Attempts of an analysis job (images added by the watchers).
    pub max_attempts: i64,
    /// The analysis archive's store (the `archive_tasks` cycle applies the archive rules);
    /// none: the cycle does nothing.
    pub archive: Option<anchorage_store::ArchiveStore>,
}

impl std::fmt::Debug for WatchOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchOptions")
            .field("host_id", &self.host_id)
            .field("timers", &self.timers)
            .field("webhooks", &self.webhooks)
            .field("archive", &self.archive.is_some())
            .finish_non_exhaustive()
    }
}

/// Why a watch operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WatchError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] anchorage_store::StoreError),
    /// The engine failed (matching, a registry lookup).
    #[error(transparent)]
    Engine(#[from] anchorage_engine::EngineError),
    /// A stored bundle is not valid.
    #[error("stored policy bundle {policy_id} is not valid")]
    Bundle {
        /// Bundle id.
        policy_id: String,
        /// The validation problems.
        problems: Value,
    },
    /// A stored document could not be read or written.
    #[error("{0}")]
    Document(String),
    /// A webhook could not be reached.
    #[error(transparent)]
    Delivery(#[from] webhook::DeliveryError),
    /// No such webhook is configured.
    #[error("no webhook {0:?} is configured (webhooks section of the config file)")]
    NoWebhook(String),
    /// A background task panicked or was cancelled.
    #[error("{0}")]
    Task(String),
}

/// A stored policy evaluation.
#[derive(Debug, Clone)]
pub struct StoredEvaluation {
    /// The record (with its id).
    pub record: EvaluationRecord,
    /// The evaluation document (`detail.result` shape, §3.6).
    pub document: Value,
    /// The bundle evaluated (JSON).
    pub bundle: Value,
}

/// What [`Watch::sync_feeds`] did.
#[derive(Debug)]
pub struct FeedSyncOutcome {
    /// Each source with its report or error.
    pub results: Vec<(FeedSource, Result<SyncReport, String>)>,
    /// Wall time, seconds.
    pub seconds: f64,
    /// Package names whose advisories changed (queued for re-matching).
    pub changed_names: usize,
}

/// Watch mode: cheap to clone.
#[derive(Clone)]
pub struct Watch {
    inner: Arc<Inner>,
}

struct Inner {
    db: Database,
    engine: Engine,
    sealer: Sealer,
    options: WatchOptions,
    sender: webhook::Sender,
    wake: Notify,
    feed_sync: tokio::sync::Mutex<()>,
    /// When this process last finished a sync of its own (epoch seconds).
    own_sync: std::sync::atomic::AtomicI64,
    running: Mutex<HashSet<&'static str>>,
}

pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// `registry/repo:tag` split into its parts.
pub(crate) fn split_fulltag(fulltag: &str) -> Option<(String, String, String)> {
    let (registry, rest) = fulltag.split_once('/')?;
    let (repo, tag) = rest.rsplit_once(':')?;
    if repo.is_empty() || tag.is_empty() || tag.contains('/') {
        return None;
    }
    Some((registry.to_string(), repo.to_string(), tag.to_string()))
}

impl Watch {
    /// Builds watch mode over the store and the engine.
    pub fn new(
        db: Database,
        engine: Engine,
        sealer: Sealer,
        options: WatchOptions,
    ) -> Result<Self, WatchError> {
        let sender = webhook::Sender::new(options.webhooks.timeout_seconds)?;
        Ok(Self {
            inner: Arc::new(Inner {
                db,
                engine,
                sealer,
                options,
                sender,
                wake: Notify::new(),
                feed_sync: tokio::sync::Mutex::new(()),
                own_sync: std::sync::atomic::AtomicI64::new(0),
                running: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// The store.
    pub fn db(&self) -> &Database {
        &self.inner.db
    }

    /// The engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// The options.
    pub fn options(&self) -> &WatchOptions {
        &self.inner.options
    }

    /// Asks for a run of a cycle as soon as possible, in whichever process takes its lease.
    pub async fn trigger(&self, cycle: &str) {
        if let Err(e) = self.inner.db.request_cycle(cycle, now()).await {
            tracing::warn!(cycle, error = %e, "cannot request a cycle run");
        }
        self.inner.wake.notify_one();
    }

    /// Runs the cycles until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        let tick = Duration::from_secs(self.inner.options.timers.tick_seconds.max(1));
        let mut tasks = tokio::task::JoinSet::new();
        let mut followed = now();
        loop {
            if *shutdown.borrow() {
                break;
            }
            for spec in anchorage_settings::CYCLES {
                let name = spec.name;
                {
                    let mut running = self.inner.running.lock().unwrap_or_else(|p| p.into_inner());
                    if running.contains(name) {
                        continue;
                    }
                    running.insert(name);
                }
                let w = self.clone();
                tasks.spawn(async move {
                    w.maybe_run(name).await;
                    w.inner
                        .running
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(name);
                });
            }
            while tasks.try_join_next().is_some() {}
            self.follow_feed_sync(&mut followed).await;
            tokio::select! {
                () = tokio::time::sleep(tick) => {}
                () = self.inner.wake.notified() => {}
                _ = shutdown.changed() => {}
            }
        }
        // Cycles stop with the process; a lease left behind expires.
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }

    /// Every process keeps its own copy of the vulnerability data (a local store it matches
    /// against): when another process finished a `feed_sync` run since this one last looked,
    /// this one syncs its copy from the same sources (re-matching and notifying are the
    /// other process' job, done once).
    async fn follow_feed_sync(&self, followed: &mut i64) {
        let finished = match self.inner.db.cycles().await {
            Ok(c) => c
                .into_iter()
                .find(|c| c.name == "feed_sync")
                .map_or(0, |c| c.last_finished),
            Err(_) => return,
        };
        let own = self
            .inner
            .own_sync
            .load(std::sync::atomic::Ordering::Relaxed);
        if finished <= (*followed).max(own) {
            return;
        }
        *followed = finished;
        let Ok(_guard) = self.inner.feed_sync.try_lock() else {
            // This process is syncing (it may be the one that ran the cycle).
            return;
        };
        let results = self
            .inner
            .engine
            .sync_feeds(&self.inner.options.feed_sources)
            .await;
        let failed = results.iter().filter(|(_, r)| r.is_err()).count();
        tracing::info!(
            sources = results.len(),
            failed,
            "followed another process' feed sync"
        );
    }

    /// Runs cycle `name` when it is due and its lease is free.
    async fn maybe_run(&self, name: &'static str) {
        let interval = i64::try_from(self.inner.options.timers.interval(name)).unwrap_or(i64::MAX);
        let owner = format!("{}/{name}", self.inner.options.host_id);
        let lease = 30;
        let t = now();
        match self
            .inner
            .db
            .take_cycle(name, &owner, interval, t, t + lease)
            .await
        {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!(cycle = name, error = %e, "cannot take a cycle lease");
                return;
            }
        }
        let db = self.inner.db.clone();
        let renew_owner = owner.clone();
        let renew = async move {
            loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                match db.extend_cycle(name, &renew_owner, now() + lease).await {
                    Ok(true) => {}
                    Ok(false) => return,
                    Err(e) => {
                        tracing::warn!(cycle = name, error = %e, "cannot renew a cycle lease")
                    }
                }
            }
        };
        let result = tokio::select! {
            r = self.run_cycle(name) => Some(r),
            () = renew => None,
        };
        let error = match result {
            None => {
                tracing::warn!(cycle = name, "lost a cycle lease; stopping the run");
                return;
            }
            Some(Ok(report)) => {
                if report.acted() {
                    tracing::info!(cycle = name, ?report, "cycle ran");
                } else {
                    tracing::debug!(cycle = name, "cycle ran");
                }
                None
            }
            Some(Err(e)) => {
                tracing::warn!(cycle = name, error = %e, "cycle failed");
                Some(e.to_string())
            }
        };
        if let Err(e) = self
            .inner
            .db
            .finish_cycle(name, &owner, now(), error.as_deref())
            .await
        {
            tracing::warn!(cycle = name, error = %e, "cannot finish a cycle");
        }
    }

    /// An account's registry access (credentials opened, insecure registries).
    pub(crate) async fn access(&self, account: &str) -> Result<ImageAccess, WatchError> {
        let mut access = ImageAccess {
            insecure_registries: self.inner.options.insecure_registries.clone(),
            ..ImageAccess::default()
        };
        for c in self
            .inner
            .db
            .registry_credentials(account, &self.inner.sealer)
            .await?
        {
            if !c.verify {
                access.insecure_registries.push(c.registry.clone());
            }
            access.credentials.push(RegistryCredential {
                registry: c.registry,
                username: c.username,
                password: c.password,
            });
        }
        Ok(access)
    }

    /// Records an event (best effort: a failure is logged).
    pub(crate) async fn event(
        &self,
        account: &str,
        kind: &str,
        level: &str,
        message: &str,
        resource: (&str, &str),
        details: &Value,
    ) {
        let e = EventRecord::new(
            account,
            kind,
            level,
            message,
            resource.0,
            resource.1,
            &details.to_string(),
        );
        if let Err(err) = self.inner.db.add_event(&e).await {
            tracing::warn!(error = %err, kind, "cannot record an event");
        }
    }

    /// Creates the four tag subscriptions of a tag as Anchore does when an image is added:
    /// `analysis_update` active, `tag_update` active when `autosubscribe`, the others
    /// inactive; existing ones are activated if asked, never deactivated.
    pub async fn subscribe_tag(
        &self,
        account: &str,
        fulltag: &str,
        autosubscribe: bool,
    ) -> Result<(), WatchError> {
        let t = now();
        for kind in TAG_SUBSCRIPTION_TYPES {
            let active = kind == "analysis_update" || (kind == "tag_update" && autosubscribe);
            self.inner
                .db
                .ensure_subscription(account, kind, fulltag, None, active, t)
                .await?;
        }
        Ok(())
    }

    /// Adds an image found by a watcher (a tag's new digest) and queues its analysis.
    pub(crate) async fn add_found_image(
        &self,
        account: &str,
        fulltag: &str,
        digest: &str,
    ) -> Result<bool, WatchError> {
        let Some((registry, repo, tag)) = split_fulltag(fulltag) else {
            return Err(WatchError::Document(format!("not a full tag: {fulltag}")));
        };
        let t = now();
        let added = self
            .inner
            .db
            .add_image(&AddImage {
                account: account.to_string(),
                digest: digest.to_string(),
                parent_digest: digest.to_string(),
                pull_ref: format!("{registry}/{repo}@{digest}"),
                tag: TagRecord {
                    registry,
                    repo,
                    tag,
                    fulltag: fulltag.to_string(),
                    dockerfile: None,
                    created_at: t,
                    last_updated: t,
                    tag_detected_at: t,
                },
                dockerfile: None,
                annotations: None,
                force: false,
                max_attempts: self.inner.options.max_attempts,
                now: t,
            })
            .await?;
        Ok(added.queued)
    }

    /// Queues a notification for every configured hook of its type (its own and `general`);
    /// nothing when none is configured. Returns how many deliveries were new.
    pub async fn notify(&self, n: &Notification) -> Result<u64, WatchError> {
        let settings = &self.inner.options.webhooks;
        let hooks = webhook::hooks_for(settings, &n.notification_type);
        if hooks.is_empty() {
            tracing::debug!(kind = %n.notification_type, "no webhook configured; notification not queued");
            return Ok(0);
        }
        let t = now();
        let deadline = t + i64::try_from(settings.retry_timeout_seconds).unwrap_or(i64::MAX / 2);
        let mut n = n.clone();
        if n.email.is_none() {
            n.email = self
                .inner
                .db
                .account(&n.account)
                .await
                .ok()
                .flatten()
                .and_then(|a| a.email);
        }
        let body = n.body(t, deadline).to_string();
        let items: Vec<NewNotification> = hooks
            .iter()
            .map(|(name, _)| NewNotification {
                notification_id: n.notification_id.clone(),
                hook: (*name).to_string(),
                account: n.account.clone(),
                notification_type: n.notification_type.clone(),
                subscription_key: n.subscription_key.clone(),
                payload: body.clone(),
            })
            .collect();
        let added = self.inner.db.queue_notifications(&items, t).await?;
        if added > 0 {
            self.event(
                &n.account,
                "user.notification.queued",
                "info",
                &format!(
                    "{} notification {} queued for {}",
                    n.notification_type, n.notification_id, n.subscription_key
                ),
                ("notification", &n.notification_id),
                &json!({"notification_type": n.notification_type, "subscription_key": n.subscription_key}),
            )
            .await;
            self.trigger("notifications").await;
        }
        Ok(added)
    }

    /// Syncs every feed source now (one sync at a time in this process; `None` when one is
    /// running), records the package names whose advisories changed for the re-match and
    /// asks for a `vulnerability_scan` run.
    pub async fn sync_feeds(&self) -> Option<FeedSyncOutcome> {
        let _guard = self.inner.feed_sync.try_lock().ok()?;
        let started = std::time::Instant::now();
        let results = self
            .inner
            .engine
            .sync_feeds(&self.inner.options.feed_sources)
            .await;
        let mut names = std::collections::BTreeSet::new();
        let mut out = Vec::new();
        let mut ok = true;
        for (source, r) in results {
            anchorage_metrics::feed_synced(r.is_ok());
            match r {
                Ok(report) => {
                    names.extend(report.changed_names.iter().cloned());
                    out.push((source, Ok(report)));
                }
                Err(e) => {
                    ok = false;
                    tracing::warn!(source = %source, error = %e, "feed sync failed");
                    out.push((source, Err(e.to_string())));
                }
            }
        }
        self.inner
            .own_sync
            .store(now() + 1, std::sync::atomic::Ordering::Relaxed);
        let changed = names.len();
        if !names.is_empty() {
            let names: Vec<String> = names.into_iter().collect();
            match self.inner.db.add_feed_change(Some(&names), now()).await {
                Ok(_) => self.trigger("vulnerability_scan").await,
                Err(e) => tracing::warn!(error = %e, "cannot record a feed change"),
            }
        }
        let kind = if ok { "completed" } else { "failed" };
        self.event(
            "admin",
            &format!("system.feeds.sync.{kind}"),
            if ok { "info" } else { "error" },
            &format!(
                "feed sync {kind}: {} source(s), {changed} package name(s) changed",
                out.len()
            ),
            ("feeds", "vulnerabilities"),
            &json!({"changed_names": changed}),
        )
        .await;
        Some(FeedSyncOutcome {
            results: out,
            seconds: started.elapsed().as_secs_f64(),
            changed_names: changed,
        })
    }

    /// Syncs this process' own copy of the vulnerability data without recording the changes
    /// for re-matching (a process starting up; the cluster's `feed_sync` cycle records them).
    /// False when a sync is already running here.
    pub async fn sync_local(&self) -> bool {
        let Ok(_guard) = self.inner.feed_sync.try_lock() else {
            return false;
        };
        let results = self
            .inner
            .engine
            .sync_feeds(&self.inner.options.feed_sources)
            .await;
        for (source, r) in &results {
            anchorage_metrics::feed_synced(r.is_ok());
            if let Err(e) = r {
                tracing::warn!(source = %source, error = %e, "feed sync failed");
            }
        }
        true
    }

    /// Evaluates `policy` for an image's tag, stores the evaluation and returns it.
    pub async fn evaluate(
        &self,
        account: &str,
        digest: &str,
        tag: &str,
        policy: &PolicyRecord,
        analysis: Arc<Analysis>,
    ) -> Result<StoredEvaluation, WatchError> {
        let mut e = self
            .evaluate_unstored(account, digest, tag, policy, analysis)
            .await?;
        e.record.id = self.inner.db.add_evaluation(&e.record).await?;
        Ok(e)
    }

    /// [`Watch::evaluate`] without storing the result (its record id is 0).
    pub(crate) async fn evaluate_unstored(
        &self,
        account: &str,
        digest: &str,
        tag: &str,
        policy: &PolicyRecord,
        analysis: Arc<Analysis>,
    ) -> Result<StoredEvaluation, WatchError> {
        let bundle_json: Value = serde_json::from_str(&policy.bundle).map_err(|e| {
            WatchError::Document(format!("stored bundle {}: {e}", policy.policy_id))
        })?;
        let bundle =
            anchorage_policy::validate(&bundle_json).map_err(|problems| WatchError::Bundle {
                policy_id: policy.policy_id.clone(),
                problems: json!(problems),
            })?;
        let vulns = self.inner.engine.vulnerabilities(analysis.clone()).await?;
        let evaluation = self
            .inner
            .engine
            .evaluate(
                Arc::new(bundle),
                EvaluateRequest {
                    analysis,
                    report: Arc::new(vulns.report),
                    feeds: vulns.feeds,
                    tag: Some(tag.to_string()),
                    image_digest: Some(digest.to_string()),
                    now: chrono::Utc::now(),
                },
            )
            .await?;
        let mut doc = evaluation.to_anchore_json();
        doc["user_id"] = json!(account);
        let final_action = doc["final_action"].as_str().unwrap_or("stop").to_string();
        let status = if final_action == "stop" {
            "fail"
        } else {
            "pass"
        };
        doc["status"] = json!(status);
        let record = EvaluationRecord {
            id: 0,
            account: account.to_string(),
            digest: digest.to_string(),
            tag: tag.to_string(),
            policy_id: policy.policy_id.clone(),
            final_action,
            status: status.to_string(),
            document: doc.to_string(),
            created_at: now(),
        };
        Ok(StoredEvaluation {
            record,
            document: doc,
            bundle: bundle_json,
        })
    }

    /// Sends a synthetic notification of `notification_type` to webhook `hook` now (not
    /// queued): `system test-webhook`.
    pub async fn test_webhook(
        &self,
        account: &str,
        hook: &str,
        notification_type: &str,
    ) -> Result<Value, WatchError> {
        let settings = &self.inner.options.webhooks;
        let h = settings
            .hooks
            .get(hook)
            .ok_or_else(|| WatchError::NoWebhook(hook.to_string()))?;
        let t = now();
        let key = "docker.io/anchorage/test-webhook:latest";
        let digest = "sha256:0000000000000000000000000000000000000000000000000000000000000000";
        let fields = match notification_type {
            "analysis_update" => payload::analysis_update_fields(digest, "analyzing", "analyzed"),
            "vuln_update" => payload::vuln_update_fields(digest, &Default::default()),
            "policy_eval" => payload::policy_eval_fields(
                &json!({"final_action": "go", "status": "pass", "image_digest": digest}),
                &json!({"final_action": "stop", "status": "fail", "image_digest": digest}),
            ),
            _ => payload::tag_update_fields(&[], digest),
        };
        let n = Notification {
            notification_id: payload::notification_id(
                account,
                notification_type,
                key,
                &format!("test-{t}"),
            ),
            account: account.to_string(),
            email: None,
            notification_type: notification_type.to_string(),
            subscription_key: key.to_string(),
            fields,
        };
        let body = n.body(t, t).to_string();
        let url = webhook::hook_url(h, account, notification_type);
        self.inner
            .sender
            .send(
                h,
                &url,
                body.as_bytes(),
                &n.notification_id,
                settings.signing_secret.as_ref(),
            )
            .await?;
        Ok(json!({
            "webhook_type": hook,
            "notification_type": notification_type,
            "notification_id": n.notification_id,
            "status": "delivered",
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_tags_split_with_ports_and_nested_repos() {
        assert_eq!(
            split_fulltag("127.0.0.1:5000/a/b:1.0"),
            Some(("127.0.0.1:5000".into(), "a/b".into(), "1.0".into()))
        );
        assert_eq!(
            split_fulltag("docker.io/library/alpine:latest"),
            Some(("docker.io".into(), "library/alpine".into(), "latest".into()))
        );
        assert_eq!(split_fulltag("docker.io/library/alpine"), None);
    }
}
