//! The persistent job queue. A worker claims the oldest ready job with a lease (PostgreSQL:
//! `FOR UPDATE SKIP LOCKED`, so concurrent workers never claim the same row; SQLite: writers are
//! serialised by the database). A job whose lease expired (its worker died) is ready again;
//! the worker that claims it sees the attempt count and gives up after `max_attempts`.

// Dynamic SQL here is built only from constant fragments and `$n` placeholders, never
// from input (values are always bound).
use sqlx::AssertSqlSafe;
use sqlx::Row as _;

use crate::{Backend, Database, StoreError, query_err};

/// Job kind: analyse the image `subject` (a digest) of `account`.
pub const ANALYZE: &str = "analyze";
/// Job kind: analyse again even when a document is stored for the digest (`force`).
pub const ANALYZE_FORCE: &str = "analyze-force";

/// A claimed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Row id.
    pub id: i64,
    /// Kind ([`ANALYZE`], ...).
    pub kind: String,
    /// Account.
    pub account: String,
    /// What the job is about (an image digest for [`ANALYZE`]).
    pub subject: String,
    /// Attempts so far, this one included.
    pub attempts: i64,
    /// Most attempts allowed.
    pub max_attempts: i64,
}

/// Queue counts by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueueDepth {
    /// Waiting jobs.
    pub queued: i64,
    /// Leased jobs.
    pub running: i64,
    /// Jobs that failed for good.
    pub failed: i64,
}

/// Open jobs of one kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KindDepth {
    /// Job kind ([`ANALYZE`], ...).
    pub kind: String,
    /// Waiting jobs.
    pub queued: i64,
    /// Leased jobs.
    pub running: i64,
}

impl Database {
    /// Claims the oldest ready job: queued, or running with an expired lease. The lease lasts
    /// until `lease_until` (epoch seconds) unless extended.
    pub async fn claim_job(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
    ) -> Result<Option<Job>, StoreError> {
        let pick = match self.backend {
            Backend::Postgres => {
                "SELECT id FROM jobs WHERE state = 'queued' \
                 OR (state = 'running' AND lease_until < $3) \
                 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED"
            }
            Backend::Sqlite => {
                "SELECT id FROM jobs WHERE state = 'queued' \
                 OR (state = 'running' AND lease_until < $3) ORDER BY id LIMIT 1"
            }
        };
        let sql = format!(
            "UPDATE jobs SET state = 'running', attempts = attempts + 1, lease_owner = $1, \
             lease_until = $2, updated_at = $3 WHERE id = ({pick}) \
             RETURNING id, kind, account, subject, attempts, max_attempts"
        );
        let row = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.to_string())
            .bind(lease_until)
            .bind(now)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("claiming a job"))?;
        row.map(|r| {
            Ok(Job {
                id: r.try_get("id")?,
                kind: r.try_get("kind")?,
                account: r.try_get("account")?,
                subject: r.try_get("subject")?,
                attempts: r.try_get("attempts")?,
                max_attempts: r.try_get("max_attempts")?,
            })
        })
        .transpose()
        .map_err(query_err("claiming a job"))
    }

    /// Extends the lease of a job this owner holds; false when it lost the lease.
    pub async fn extend_lease(
        &self,
        id: i64,
        owner: &str,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET lease_until = $1 WHERE id = $2 AND lease_owner = $3 \
             AND state = 'running'",
        )
        .bind(lease_until)
        .bind(id)
        .bind(owner.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("extending a job lease"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Ends a job this owner holds: `done`, or `failed` with the reason.
    pub async fn finish_job(
        &self,
        id: i64,
        owner: &str,
        error: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        let state = if error.is_some() { "failed" } else { "done" };
        sqlx::query(
            "UPDATE jobs SET state = $1, last_error = $2, lease_owner = NULL, lease_until = NULL, \
             updated_at = $3 WHERE id = $4 AND lease_owner = $5",
        )
        .bind(state)
        .bind(error.map(str::to_string))
        .bind(now)
        .bind(id)
        .bind(owner.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("finishing a job"))?;
        Ok(())
    }

    /// Gives a job back to the queue at once (shutdown), without counting the attempt.
    pub async fn release_job(&self, id: i64, owner: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, \
             lease_until = NULL, updated_at = $1 WHERE id = $2 AND lease_owner = $3",
        )
        .bind(now)
        .bind(id)
        .bind(owner.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("releasing a job"))?;
        Ok(())
    }

    /// Gives a job back to the queue at once after a transient failure (the database was
    /// unreachable for a moment), counting the attempt: `max_attempts` still bounds it.
    pub async fn retry_job(&self, id: i64, owner: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, \
             updated_at = $1 WHERE id = $2 AND lease_owner = $3 AND state = 'running'",
        )
        .bind(now)
        .bind(id)
        .bind(owner.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("requeueing a job"))?;
        Ok(())
    }

    /// Returns every running job to the queue without counting the attempt: for the embedded
    /// SQLite mode at start-up, where only this process uses the database, so a running job
    /// can only be left over from a process that died. Returns how many.
    pub async fn requeue_orphaned_jobs(&self, now: i64) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = NULL, \
             updated_at = $1 WHERE state = 'running'",
        )
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(query_err("requeueing orphaned jobs"))?;
        Ok(done.rows_affected())
    }

    /// Queues an analysis job for every active image waiting for analysis that has no open
    /// job (a job lost before it was queued, or given up on by a stopped process): the
    /// `analyzer_queue` cycle. Returns how many.
    pub async fn queue_unqueued_analyses(
        &self,
        max_attempts: i64,
        now: i64,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "INSERT INTO jobs (kind, account, subject, state, attempts, max_attempts, created_at, \
             updated_at) SELECT $1, i.account, i.digest, 'queued', 0, $2, $3, $3 FROM images i \
             WHERE i.analysis_status = 'not_analyzed' AND i.image_status = 'active' \
             AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.account = i.account \
             AND j.subject = i.digest AND j.state IN ('queued', 'running')) \
             ON CONFLICT DO NOTHING",
        )
        .bind(ANALYZE)
        .bind(max_attempts)
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(query_err("queueing waiting analyses"))?;
        Ok(done.rows_affected())
    }

    /// Jobs by state.
    pub async fn queue_depth(&self) -> Result<QueueDepth, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM jobs GROUP BY state")
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("counting jobs"))?;
        let mut d = QueueDepth::default();
        for r in rows {
            let state: String = r.try_get("state").map_err(query_err("counting jobs"))?;
            let n: i64 = r.try_get("n").map_err(query_err("counting jobs"))?;
            match state.as_str() {
                "queued" => d.queued = n,
                "running" => d.running = n,
                "failed" => d.failed = n,
                _ => {}
            }
        }
        Ok(d)
    }

    /// Open (queued and running) jobs per kind, by kind name.
    pub async fn queue_depth_by_kind(&self) -> Result<Vec<KindDepth>, StoreError> {
        let err = query_err("counting jobs by kind");
        let rows = sqlx::query(
            "SELECT kind, state, COUNT(*) AS n FROM jobs WHERE state IN ('queued', 'running') \
             GROUP BY kind, state ORDER BY kind",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(err)?;
        let mut out: Vec<KindDepth> = Vec::new();
        for r in rows {
            let kind: String = r
                .try_get("kind")
                .map_err(query_err("counting jobs by kind"))?;
            let state: String = r
                .try_get("state")
                .map_err(query_err("counting jobs by kind"))?;
            let n: i64 = r.try_get("n").map_err(query_err("counting jobs by kind"))?;
            if out.last().is_none_or(|d| d.kind != kind) {
                out.push(KindDepth {
                    kind,
                    ..KindDepth::default()
                });
            }
            if let Some(d) = out.last_mut() {
                match state.as_str() {
                    "queued" => d.queued = n,
                    _ => d.running = n,
                }
            }
        }
        Ok(out)
    }
}
