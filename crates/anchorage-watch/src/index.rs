//! Indexing stored analyses for re-matching, and the incremental re-match after feed changes.

use std::collections::BTreeSet;
use std::sync::Arc;

use anchorage_engine::{Analysis, RematchItem};
use anchorage_model::Finding;
use serde_json::json;

use crate::payload::{self, Notification};
use crate::{Watch, WatchError, now};

/// What a re-match did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RematchReport {
    /// Feed changes processed.
    pub changes: usize,
    /// Images matched again.
    pub matched: usize,
    /// Images whose findings changed.
    pub changed: usize,
    /// `vuln_update` notifications queued.
    pub vuln_notifications: usize,
    /// `policy_eval` notifications queued.
    pub policy_notifications: usize,
    /// Stored analyses indexed for the first time.
    pub indexed: usize,
}

/// Images matched per engine call.
const BATCH: usize = 128;

fn encode<T: serde::Serialize>(what: &str, v: &T) -> Result<Vec<u8>, WatchError> {
    serde_json::to_vec(v).map_err(|e| WatchError::Document(format!("cannot encode {what}: {e}")))
}

impl Watch {
    /// Indexes a freshly stored analysis (file records may be left out: they are not read):
    /// the names the matcher looks up, the match input and the first findings (the baseline of
    /// later `vuln_update` diffs).
    pub async fn index_analysis(&self, digest: &str, analysis: Analysis) -> Result<(), WatchError> {
        let mut analysis = analysis;
        analysis.files = Vec::new();
        let names =
            anchorage_match::lookup_names(&analysis, &anchorage_match::MatchOptions::default());
        let analysis = Arc::new(analysis);
        let vulns = self.inner.engine.vulnerabilities(analysis.clone()).await?;
        let input = encode("a match input", &*analysis)?;
        let findings = encode("findings", &vulns.report.findings)?;
        self.inner
            .db
            .index_analysis(digest, &input, &names, Some(&findings), now())
            .await?;
        Ok(())
    }

    /// After an analysis job: index the analysis (when it was produced now) and queue
    /// `analysis_update` for the image's tags with an active subscription. An indexing
    /// failure is logged (the `vulnerability_scan` cycle indexes later); a queueing failure
    /// (the database unreachable) is returned, so the job runs again and the notification,
    /// whose id is deterministic, is queued then, once.
    ///
    /// # Errors
    /// The store could not be read or written while queueing the notifications.
    pub async fn on_analyzed(
        &self,
        account: &str,
        digest: &str,
        analysis: Option<Analysis>,
    ) -> Result<(), WatchError> {
        if let Some(a) = analysis
            && let Err(e) = self.index_analysis(digest, a).await
        {
            tracing::warn!(%digest, error = %e, "cannot index an analysis for re-matching; the vulnerability_scan cycle will");
        }
        self.analysis_update(account, digest, "analyzing", "analyzed")
            .await
    }

    /// After a failed analysis job: `analysis_update` with `analysis_failed` (a failure to
    /// queue it is logged).
    pub async fn on_analysis_failed(&self, account: &str, digest: &str) {
        if let Err(e) = self
            .analysis_update(account, digest, "analyzing", "analysis_failed")
            .await
        {
            tracing::warn!(%digest, error = %e, "cannot queue analysis_update");
        }
    }

    async fn analysis_update(
        &self,
        account: &str,
        digest: &str,
        previous: &str,
        current: &str,
    ) -> Result<(), WatchError> {
        let Some(image) = self.inner.db.image(account, digest).await? else {
            return Ok(());
        };
        for t in image.tags {
            if !self
                .inner
                .db
                .subscribed(account, "analysis_update", &t.fulltag)
                .await?
            {
                continue;
            }
            let n = Notification {
                notification_id: payload::notification_id(
                    account,
                    "analysis_update",
                    &t.fulltag,
                    &format!("{digest}|{current}|{}", t.last_updated),
                ),
                account: account.to_string(),
                email: None,
                notification_type: "analysis_update".into(),
                subscription_key: t.fulltag.clone(),
                fields: payload::analysis_update_fields(digest, previous, current),
            };
            self.notify(&n).await?;
        }
        Ok(())
    }

    /// Indexes up to `limit` stored analyses that are not in the index yet (stored before it
    /// existed, or by a process that stopped first). Returns how many.
    pub async fn backfill_index(&self, limit: i64) -> Result<usize, WatchError> {
        let digests = self.inner.db.unindexed_analyses(limit).await?;
        let mut n = 0;
        for digest in digests {
            let Some(doc) = self.inner.db.analysis_document(&digest).await? else {
                continue;
            };
            let analysis =
                tokio::task::spawn_blocking(move || serde_json::from_slice::<Analysis>(&doc))
                    .await
                    .map_err(|e| WatchError::Task(e.to_string()))?
                    .map_err(|e| WatchError::Document(format!("analysis of {digest}: {e}")))?;
            self.index_analysis(&digest, analysis).await?;
            n += 1;
        }
        Ok(n)
    }

    /// Re-matches the stored images that the pending feed changes can affect (every image
    /// when a change's names are unknown), stores their new findings, queues `vuln_update`
    /// for tags whose latest image changed and `policy_eval` when a tag's final action
    /// changed. Nothing is pulled or analysed again.
    pub async fn rematch_pending(&self) -> Result<RematchReport, WatchError> {
        let db = &self.inner.db;
        let changes = db.pending_feed_changes().await?;
        let mut report = RematchReport::default();
        if changes.is_empty() {
            return Ok(report);
        }
        report.changes = changes.len();
        let mut names: Option<BTreeSet<String>> = Some(BTreeSet::new());
        for c in &changes {
            match (&mut names, &c.names) {
                (Some(all), Some(n)) => all.extend(n.iter().cloned()),
                _ => names = None,
            }
        }
        let subjects = match names {
            Some(n) => {
                let n: Vec<String> = n.into_iter().collect();
                db.subjects_for_names(&n).await?
            }
            None => db.all_subjects().await?,
        };
        let mut changed_digests = Vec::new();
        for chunk in subjects.chunks(BATCH) {
            let mut items = Vec::with_capacity(chunk.len());
            for s in chunk {
                let Some((input, findings)) = db.match_subject(&s.digest).await? else {
                    continue;
                };
                let key = s.digest.clone();
                let item =
                    tokio::task::spawn_blocking(move || -> Result<RematchItem, WatchError> {
                        let analysis: Analysis = serde_json::from_slice(&input).map_err(|e| {
                            WatchError::Document(format!("match input of {key}: {e}"))
                        })?;
                        let previous = findings
                            .map(|f| serde_json::from_slice::<Vec<Finding>>(&f))
                            .transpose()
                            .map_err(|e| WatchError::Document(format!("findings of {key}: {e}")))?;
                        Ok(RematchItem {
                            key,
                            analysis,
                            previous,
                        })
                    })
                    .await
                    .map_err(|e| WatchError::Task(e.to_string()))??;
                items.push(item);
            }
            let (_, outcomes) = self.inner.engine.rematch_batch(items).await?;
            report.matched += outcomes.len();
            for o in outcomes {
                let changed = o.diff.as_ref().is_none_or(|d| !d.is_empty());
                if !changed {
                    continue;
                }
                // Notify before storing the new findings: a process that stops in between
                // computes the same diff again, and the notification id is the same.
                if let Some(diff) = &o.diff {
                    report.changed += 1;
                    report.vuln_notifications += self.vuln_update(&o.key, diff).await?;
                }
                let findings = encode("findings", &o.report.findings)?;
                db.set_findings(&o.key, &findings, now()).await?;
                if o.diff.is_some() {
                    changed_digests.push(o.key);
                }
            }
        }
        let ids: Vec<i64> = changes.iter().map(|c| c.id).collect();
        db.finish_feed_changes(&ids, now()).await?;
        for digest in &changed_digests {
            report.policy_notifications += self.reevaluate_digest(digest).await?;
        }
        Ok(report)
    }

    async fn vuln_update(
        &self,
        digest: &str,
        diff: &anchorage_model::FindingsDiff,
    ) -> Result<usize, WatchError> {
        let mut n = 0;
        for (account, tag) in self.inner.db.tags_currently_at(digest).await? {
            if !self
                .inner
                .db
                .subscribed(&account, "vuln_update", &tag)
                .await?
            {
                continue;
            }
            let notification = Notification {
                notification_id: payload::notification_id(
                    &account,
                    "vuln_update",
                    &tag,
                    &payload::diff_discriminator(digest, diff),
                ),
                account: account.clone(),
                email: None,
                notification_type: "vuln_update".into(),
                subscription_key: tag.clone(),
                fields: payload::vuln_update_fields(digest, diff),
            };
            self.notify(&notification).await?;
            self.event(
                &account,
                "user.checks.tag.vulnerabilities.update",
                "info",
                &format!(
                    "vulnerabilities of {tag} changed: {} added, {} updated, {} removed",
                    diff.added.len(),
                    diff.updated.len(),
                    diff.removed.len()
                ),
                ("image_tag", &tag),
                &json!({"imageDigest": digest}),
            )
            .await;
            n += 1;
        }
        Ok(n)
    }

    /// Re-evaluates the tags currently at `digest` that have an active `policy_eval`
    /// subscription; queues a notification for each whose final action changed.
    pub(crate) async fn reevaluate_digest(&self, digest: &str) -> Result<usize, WatchError> {
        let mut n = 0;
        for (account, tag) in self.inner.db.tags_currently_at(digest).await? {
            if !self
                .inner
                .db
                .subscribed(&account, "policy_eval", &tag)
                .await?
            {
                continue;
            }
            if self.evaluate_tag(&account, &tag, digest).await? {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Evaluates the active bundle for a tag's image; true when a `policy_eval` notification
    /// was queued (the final action differs from the tag's previous evaluation).
    pub(crate) async fn evaluate_tag(
        &self,
        account: &str,
        tag: &str,
        digest: &str,
    ) -> Result<bool, WatchError> {
        let db = &self.inner.db;
        let Some(image) = db.image(account, digest).await? else {
            return Ok(false);
        };
        if image.analysis_status != "analyzed" {
            return Ok(false);
        }
        let Some(policy) = db.active_policy(account).await? else {
            return Ok(false);
        };
        let Some(doc) = db.analysis_document(digest).await? else {
            return Ok(false);
        };
        let key = digest.to_string();
        let analysis =
            tokio::task::spawn_blocking(move || serde_json::from_slice::<Analysis>(&doc))
                .await
                .map_err(|e| WatchError::Task(e.to_string()))?
                .map_err(|e| WatchError::Document(format!("analysis of {key}: {e}")))?;
        let previous = db.latest_evaluation_for_tag(account, tag).await?;
        let mut current = self
            .evaluate_unstored(account, digest, tag, &policy, Arc::new(analysis))
            .await?;
        let changed = previous
            .as_ref()
            .is_some_and(|p| p.final_action != current.record.final_action);
        let Some(previous) = previous.filter(|_| changed) else {
            current.record.id = db.add_evaluation(&current.record).await?;
            return Ok(false);
        };
        let last: serde_json::Value =
            serde_json::from_str(&previous.document).unwrap_or(serde_json::Value::Null);
        let notification = Notification {
            notification_id: payload::notification_id(
                account,
                "policy_eval",
                tag,
                &format!("{}|{}|{}", previous.id, digest, current.record.final_action),
            ),
            account: account.to_string(),
            email: None,
            notification_type: "policy_eval".into(),
            subscription_key: tag.to_string(),
            fields: payload::policy_eval_fields(&last, &current.document),
        };
        // Queued before the evaluation is stored: a process that stops in between evaluates
        // again against the same previous evaluation, with the same notification id.
        self.notify(&notification).await?;
        current.record.id = db.add_evaluation(&current.record).await?;
        self.event(
            account,
            "user.checks.tag.policy_evaluation.update",
            "info",
            &format!(
                "policy evaluation of {tag} changed: {} -> {}",
                previous.final_action, current.record.final_action
            ),
            ("image_tag", tag),
            &json!({"imageDigest": digest, "policyId": policy.policy_id}),
        )
        .await;
        Ok(true)
    }
}
