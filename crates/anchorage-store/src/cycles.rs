//! Cluster-wide leases of the scheduled cycles (watchers, feed sync, notifications): a cycle
//! runs in one process at a time, at most once per interval, across every process sharing the
//! database. A process that dies holding a lease loses it when it expires.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Database, StoreError, query_err};

/// The state of one cycle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CycleState {
    /// Cycle name (`image_watcher`, ...).
    pub name: String,
    /// Holder of the lease, if any.
    pub owner: Option<String>,
    /// Lease end, epoch seconds.
    pub lease_until: i64,
    /// Start of the last run.
    pub last_started: i64,
    /// End of the last run.
    pub last_finished: i64,
    /// When a run was last requested out of turn ([`Database::request_cycle`]).
    pub requested_at: i64,
    /// Runs so far.
    pub runs: i64,
    /// Error of the last run, if it failed.
    pub last_error: Option<String>,
}

fn cycle(r: &AnyRow) -> Result<CycleState, sqlx::Error> {
    Ok(CycleState {
        name: r.try_get("name")?,
        owner: r.try_get("owner")?,
        lease_until: r.try_get("lease_until")?,
        last_started: r.try_get("last_started")?,
        last_finished: r.try_get("last_finished")?,
        requested_at: r.try_get("requested_at")?,
        runs: r.try_get("runs")?,
        last_error: r.try_get("last_error")?,
    })
}

impl Database {
    /// Takes the lease of cycle `name` until `lease_until` when the cycle is due (its last
    /// start is `interval` seconds old, or a run was requested since) and no live lease is
    /// held by another owner. True when `owner` now holds it.
    pub async fn take_cycle(
        &self,
        name: &str,
        owner: &str,
        interval: i64,
        now: i64,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        sqlx::query("INSERT INTO cycle_leases (name) VALUES ($1) ON CONFLICT (name) DO NOTHING")
            .bind(name.to_string())
            .execute(&self.pool)
            .await
            .map_err(query_err("creating a cycle lease"))?;
        // One conditional update: the database decides which process wins.
        let done = sqlx::query(
            "UPDATE cycle_leases SET owner = $1, lease_until = $2, last_started = $3, \
             runs = runs + 1 \
             WHERE name = $4 AND (owner IS NULL OR lease_until < $3) \
             AND (last_started + $5 <= $3 OR requested_at >= last_started)",
        )
        .bind(owner.to_string())
        .bind(lease_until)
        .bind(now)
        .bind(name.to_string())
        .bind(interval)
        .execute(&self.pool)
        .await
        .map_err(query_err("taking a cycle lease"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Extends a held lease; false when it was lost.
    pub async fn extend_cycle(
        &self,
        name: &str,
        owner: &str,
        lease_until: i64,
    ) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE cycle_leases SET lease_until = $1 WHERE name = $2 AND owner = $3")
                .bind(lease_until)
                .bind(name.to_string())
                .bind(owner.to_string())
                .execute(&self.pool)
                .await
                .map_err(query_err("extending a cycle lease"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Releases a held lease and records the run's outcome.
    pub async fn finish_cycle(
        &self,
        name: &str,
        owner: &str,
        now: i64,
        error: Option<&str>,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE cycle_leases SET owner = NULL, lease_until = 0, last_finished = $1, \
             last_error = $2 WHERE name = $3 AND owner = $4",
        )
        .bind(now)
        .bind(error.map(str::to_string))
        .bind(name.to_string())
        .bind(owner.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("finishing a cycle"))?;
        Ok(())
    }

    /// Asks for a run of cycle `name` as soon as possible, by whichever process takes it
    /// (after a feed sync, an active-bundle change, a new repository watch).
    pub async fn request_cycle(&self, name: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cycle_leases (name, requested_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET requested_at = $2",
        )
        .bind(name.to_string())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(query_err("requesting a cycle run"))?;
        Ok(())
    }

    /// Records a run of cycle `name` at `now` without running it (postpones its next run by
    /// one interval: `serve --no-initial-sync` for `feed_sync`).
    pub async fn postpone_cycle(&self, name: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO cycle_leases (name, last_started, last_finished) VALUES ($1, $2, $2) \
             ON CONFLICT (name) DO UPDATE SET last_started = $2, last_finished = $2",
        )
        .bind(name.to_string())
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(query_err("postponing a cycle"))?;
        Ok(())
    }

    /// Every cycle's state.
    pub async fn cycles(&self) -> Result<Vec<CycleState>, StoreError> {
        sqlx::query("SELECT * FROM cycle_leases ORDER BY name")
            .fetch_all(&self.pool)
            .await
            .and_then(|rows| rows.iter().map(cycle).collect())
            .map_err(query_err("reading cycles"))
    }
}
