//! Background work of the engine service: analysis workers that lease jobs from the queue in
//! the database ([`anchorage_store::Database::claim_job`]), analyse the image with the
//! [`Engine`], store the analysis document once per digest and record the outcome.
//!
//! A job's lease is renewed while it runs; a worker that dies leaves a lease that expires, and
//! another worker (or this one after a restart) takes the job again, at most `max_attempts`
//! times in all. Storing the document and marking the image analysed is one transaction, and a
//! document already stored for the digest (by another account, or by an attempt that died
//! after storing) is reused, so a retried job never duplicates records.

use std::sync::Arc;
use std::time::Duration;

use anchorage_engine::{Analysis, Engine, ImageAccess};
use anchorage_image::{AcquireRequest, RegistryCredential};
use anchorage_store::{
    ANALYZE, ANALYZE_FORCE, Database, EventRecord, FinishedAnalysis, Job, Sealer,
};
use anchorage_watch::Watch;
use tokio::sync::watch;
use tracing::Instrument as _;

/// How workers run.
#[derive(Debug, Clone)]
pub struct WorkerOptions {
    /// Workers in this process.
    pub count: usize,
    /// Wait between polls of an empty queue.
    pub poll_interval: Duration,
    /// Lease length; renewed every third of it while the job runs.
    pub lease: Duration,
    /// Longest time of one analysis.
    pub job_timeout: Duration,
    /// Registries every pull may reach over plain HTTP.
    pub insecure_registries: Vec<String>,
    /// Name of this process (lease owner prefix).
    pub host_id: String,
    /// At shutdown, how long running jobs may go on before they are given back to the queue.
    pub shutdown_timeout: Duration,
}

/// What an analysis job needs.
#[derive(Clone)]
pub struct Worker {
    db: Database,
    engine: Engine,
    sealer: Sealer,
    options: Arc<WorkerOptions>,
    watch: Option<Watch>,
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX).max(1)
}

/// Why a job failed.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Store(#[from] anchorage_store::StoreError),
    #[error(transparent)]
    Engine(#[from] anchorage_engine::EngineError),
    #[error("analysis took longer than {0} s (services.analyzer.job_timeout_seconds)")]
    Timeout(u64),
    #[error("cannot encode the analysis: {0}")]
    Encode(String),
    /// The analysis is stored, but its `analysis_update` notification could not be queued.
    #[error("cannot queue the analysis_update notification: {0}")]
    Notify(#[source] anchorage_watch::WatchError),
}

impl JobError {
    /// The failure reason of the metrics: an error kind (`upstream`, `timeout`, ...).
    fn reason(&self) -> &'static str {
        match self {
            JobError::Store(_) => "store",
            JobError::Engine(e) => e.kind().as_str(),
            JobError::Timeout(_) => "timeout",
            JobError::Encode(_) => "internal",
            JobError::Notify(_) => "store",
        }
    }
}

impl Worker {
    /// Builds the workers' shared state.
    pub fn new(db: Database, engine: Engine, sealer: Sealer, options: WorkerOptions) -> Self {
        Self {
            db,
            engine,
            sealer,
            options: Arc::new(options),
            watch: None,
        }
    }

    /// Indexes each new analysis for re-matching and queues `analysis_update` notifications
    /// through watch mode.
    #[must_use]
    pub fn with_watch(mut self, watch: Watch) -> Self {
        self.watch = Some(watch);
        self
    }

    /// Runs `count` workers until `shutdown` turns true. Then no job is claimed any more; a
    /// job running at shutdown may finish within `shutdown_timeout`, else it is given back to
    /// the queue (its attempt not counted) so another process takes it at once.
    pub async fn run(self, shutdown: watch::Receiver<bool>) {
        let mut tasks = tokio::task::JoinSet::new();
        for n in 0..self.options.count.max(1) {
            let w = self.clone();
            let owner = format!("{}/worker-{n}", self.options.host_id);
            tasks.spawn(w.run_one(owner, shutdown.clone()));
        }
        while tasks.join_next().await.is_some() {}
    }

    async fn run_one(self, owner: String, mut shutdown: watch::Receiver<bool>) {
        loop {
            if *shutdown.borrow() {
                return;
            }
            let t = now();
            let claimed = self
                .db
                .claim_job(&owner, t, t + secs(self.options.lease))
                .await;
            match claimed {
                Ok(Some(job)) => {
                    let span = tracing::info_span!(
                        "job",
                        job = job.id,
                        kind = %job.kind,
                        account = %job.account,
                        digest = %job.subject,
                    );
                    let started = std::time::Instant::now();
                    let run = self.run_job(&owner, &job).instrument(span.clone());
                    tokio::pin!(run);
                    tokio::select! {
                        () = &mut run => {}
                        _ = shutdown.changed() => {
                            let deadline = self.options.shutdown_timeout;
                            span.in_scope(|| tracing::info!(
                                deadline_s = deadline.as_secs_f64(),
                                "shutting down: letting the running job finish"
                            ));
                            if tokio::time::timeout(deadline, &mut run).await.is_err() {
                                // Dropping the job's future stops its analysis here.
                                let released = self.db.release_job(job.id, &owner, now()).await;
                                anchorage_metrics::job_released();
                                anchorage_metrics::observe_job(
                                    &job.kind,
                                    "released",
                                    started.elapsed().as_secs_f64(),
                                );
                                span.in_scope(|| match released {
                                    Ok(()) => tracing::warn!(
                                        "shutdown deadline reached: job given back to the queue"
                                    ),
                                    Err(e) => tracing::warn!(
                                        error = %e,
                                        "could not give a job back at shutdown; its lease will expire"
                                    ),
                                });
                            }
                            return;
                        }
                    }
                }
                Ok(None) => {
                    tokio::select! {
                        () = tokio::time::sleep(self.options.poll_interval) => {}
                        _ = shutdown.changed() => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot claim a job; retrying");
                    tokio::time::sleep(self.options.poll_interval).await;
                }
            }
        }
    }

    /// Runs one claimed job, renewing its lease, and records the outcome (and its metrics).
    async fn run_job(&self, owner: &str, job: &Job) {
        tracing::info!(attempt = job.attempts, owner, "job claimed");
        let started = std::time::Instant::now();
        let outcome = self.run_job_inner(owner, job).await;
        anchorage_metrics::observe_job(&job.kind, outcome, started.elapsed().as_secs_f64());
    }

    /// [`Worker::run_job`] without the bookkeeping; returns the outcome (`done`, `failed`,
    /// `retried`, `lost`).
    async fn run_job_inner(&self, owner: &str, job: &Job) -> &'static str {
        if job.kind != ANALYZE && job.kind != ANALYZE_FORCE {
            let _ = self
                .db
                .finish_job(job.id, owner, Some("unknown job kind"), now())
                .await;
            return "failed";
        }
        if job.attempts > job.max_attempts {
            let reason = format!(
                "analysis abandoned after {} attempts (the worker stopped each time)",
                job.max_attempts
            );
            self.fail(owner, job, &reason, "abandoned").await;
            return "failed";
        }
        let renew = renew_lease(
            self.db.clone(),
            job.id,
            owner.to_string(),
            self.options.lease,
        );
        let result = tokio::select! {
            r = self.analyze(job) => r,
            () = renew => {
                tracing::warn!("lost the lease of a job; leaving it");
                return "lost";
            }
        };
        match result {
            Ok(()) => {
                if let Err(e) = self.db.finish_job(job.id, owner, None, now()).await {
                    tracing::warn!(error = %e, "cannot mark a job done");
                }
                "done"
            }
            // The database was unreachable (restarting, a dropped connection): the image is
            // fine, so the job goes back to the queue for another attempt rather than failing
            // the analysis; its last attempt records the error.
            Err(e @ (JobError::Store(_) | JobError::Notify(_)))
                if job.attempts < job.max_attempts =>
            {
                tracing::warn!(
                    error = %error_chain(&e),
                    "database error during the analysis; the job goes back to the queue"
                );
                if let Err(e) = self.db.retry_job(job.id, owner, now()).await {
                    tracing::warn!(error = %e, "cannot requeue the job; its lease will expire");
                }
                "retried"
            }
            // The analysis is stored: the last attempt does not fail the image for want of
            // a notification.
            Err(JobError::Notify(e)) => {
                tracing::warn!(error = %error_chain(&e), "analysis_update not queued; giving up on it");
                if let Err(e) = self.db.finish_job(job.id, owner, None, now()).await {
                    tracing::warn!(error = %e, "cannot mark a job done");
                }
                "done"
            }
            Err(e) => {
                self.fail(owner, job, &error_chain(&e), e.reason()).await;
                "failed"
            }
        }
    }

    /// Records a failed analysis; `kind` is the metrics' failure reason (an error kind).
    async fn fail(&self, owner: &str, job: &Job, reason: &str, kind: &str) {
        anchorage_metrics::analysis_finished(Some(kind));
        tracing::warn!(account = %job.account, digest = %job.subject, reason, "analysis failed");
        let t = now();
        if let Err(e) = self
            .db
            .set_analysis_failed(&job.account, &job.subject, reason, t)
            .await
        {
            tracing::warn!(error = %e, "cannot record a failed analysis");
        }
        let _ = self.db.finish_job(job.id, owner, Some(reason), t).await;
        if let Some(w) = &self.watch {
            w.on_analysis_failed(&job.account, &job.subject).await;
        }
        self.event(
            &job.account,
            "user.image.analysis.failed",
            "error",
            &format!("analysis of {} failed: {reason}", job.subject),
            &job.subject,
        )
        .await;
    }

    async fn event(&self, account: &str, kind: &str, level: &str, message: &str, digest: &str) {
        let e = EventRecord::new(account, kind, level, message, "image_digest", digest, "{}");
        if let Err(err) = self.db.add_event(&e).await {
            tracing::warn!(error = %err, kind, "cannot record an event");
        }
    }

    async fn access(&self, account: &str) -> Result<ImageAccess, JobError> {
        let mut access = ImageAccess {
            insecure_registries: self.options.insecure_registries.clone(),
            ..ImageAccess::default()
        };
        for c in self.db.registry_credentials(account, &self.sealer).await? {
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

    async fn analyze(&self, job: &Job) -> Result<(), JobError> {
        let Some(image) = self.db.image(&job.account, &job.subject).await? else {
            // Deleted meanwhile: nothing to do.
            return Ok(());
        };
        let t = now();
        self.db
            .set_analysis_status(&job.account, &job.subject, "analyzing", t)
            .await?;
        // One document per digest: reuse it when another account (or an earlier attempt)
        // stored it, unless this is a forced re-analysis.
        let force = job.kind == ANALYZE_FORCE;
        if !force && let Some(image_id) = self.db.analysis_image_id(&job.subject).await? {
            let doc = self.db.analysis_document(&job.subject).await?;
            let metadata = match doc.as_deref().map(serde_json::from_slice::<Analysis>) {
                Some(Ok(a)) => metadata_json(&a),
                _ => "{}".to_string(),
            };
            self.db
                .finish_analysis(&FinishedAnalysis {
                    account: &job.account,
                    digest: &job.subject,
                    image_id: &image_id,
                    metadata: &metadata,
                    document_json: None,
                    replace: false,
                    now: now(),
                })
                .await?;
            self.done(job, None).await?;
            return Ok(());
        }
        let mut access = self.access(&job.account).await?;
        access.dockerfile = image.dockerfile.as_deref().and_then(decode_dockerfile);
        let source = format!("registry:{}", image.pull_ref);
        let timeout = self.options.job_timeout;
        let analysis = tokio::time::timeout(
            timeout,
            self.engine
                .analyze_with(&source, &AcquireRequest::default(), access),
        )
        .await
        .map_err(|_| JobError::Timeout(timeout.as_secs()))??;
        let image_id = analysis
            .source
            .config_digest
            .as_ref()
            .map(|d| d.encoded().to_string())
            .unwrap_or_default();
        let metadata = metadata_json(&analysis);
        // Encode the document, then keep the analysis without its file records (what
        // re-matching reads) and free those.
        let (document, analysis) = tokio::task::spawn_blocking(move || {
            let mut analysis = analysis;
            let document = serde_json::to_vec(&analysis);
            analysis.files = Vec::new();
            document.map(|d| (d, analysis))
        })
        .await
        .map_err(|e| JobError::Encode(e.to_string()))?
        .map_err(|e| JobError::Encode(e.to_string()))?;
        self.db
            .finish_analysis(&FinishedAnalysis {
                account: &job.account,
                digest: &job.subject,
                image_id: &image_id,
                metadata: &metadata,
                document_json: Some(&document),
                replace: force,
                now: now(),
            })
            .await?;
        self.done(job, Some(analysis)).await
    }

    /// Reports a stored analysis: metrics, log, `analysis_update` and the event. Fails when
    /// the notification cannot be queued (the job then runs again).
    async fn done(&self, job: &Job, analysis: Option<Analysis>) -> Result<(), JobError> {
        tracing::info!(account = %job.account, digest = %job.subject, "analysis completed");
        if let Some(w) = &self.watch {
            w.on_analyzed(&job.account, &job.subject, analysis)
                .await
                .map_err(JobError::Notify)?;
        }
        anchorage_metrics::analysis_finished(None);
        self.event(
            &job.account,
            "user.image.analysis.completed",
            "info",
            &format!("analysis of {} completed", job.subject),
            &job.subject,
        )
        .await;
        Ok(())
    }
}

/// An error and its causes, each once: `a: b: c`.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text.push_str(": ");
            text.push_str(&next);
        }
        source = s.source();
    }
    text
}

/// Renews a job's lease every third of its length; returns when the lease was lost.
async fn renew_lease(db: Database, id: i64, owner: String, lease: Duration) {
    loop {
        tokio::time::sleep(lease / 3).await;
        match db.extend_lease(id, &owner, now() + secs(lease)).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => tracing::warn!(error = %e, job = id, "cannot renew a lease"),
        }
    }
}

fn decode_dockerfile(b64: &str) -> Option<String> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

/// The image metadata the API shows (`image_content.metadata`, §3.1).
pub fn metadata_json(a: &Analysis) -> String {
    let mode = a
        .image
        .dockerfile
        .as_ref()
        .map(|d| serde_json::to_value(d.mode).unwrap_or_default());
    serde_json::json!({
        "arch": a.image.architecture,
        "distro": a.distro.id,
        "distro_version": a.distro.version_id,
        "dockerfile_mode": mode,
        "image_size": a.image.image_size,
        "layer_count": a.image.layer_count,
    })
    .to_string()
}
