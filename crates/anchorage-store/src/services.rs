//! The processes of a deployment (Anchore's `services` table): each `anchorage serve` process
//! registers one row under its own host id, refreshes `last_heartbeat` every few seconds and
//! marks the row down when it stops gracefully. A process that died keeps an `up` row whose
//! heartbeat goes stale; readers judge freshness with [`ServiceRecord::is_up`].

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Database, StoreError, query_err};

/// A process row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    /// Unique per process (host name, pid and a random suffix).
    pub host_id: String,
    /// `api`, `worker` or `all`.
    pub role: String,
    /// Program version.
    pub version: String,
    /// Where the process listens (`http://ADDR:PORT`).
    pub base_url: String,
    /// `up` while running, `down` after a graceful stop.
    pub status: String,
    /// The process' heartbeat interval, seconds.
    pub heartbeat_seconds: i64,
    /// Start time, epoch seconds.
    pub started_at: i64,
    /// Last heartbeat, epoch seconds.
    pub last_heartbeat: i64,
}

/// Heartbeats a process may miss before it is shown as down.
pub const MISSED_HEARTBEATS: i64 = 3;

impl ServiceRecord {
    /// Whether the process is up at `now`: its row says `up` and its last heartbeat is no
    /// older than [`MISSED_HEARTBEATS`] intervals (plus one second of clock rounding).
    pub fn is_up(&self, now: i64) -> bool {
        self.status == "up"
            && now - self.last_heartbeat <= MISSED_HEARTBEATS * self.heartbeat_seconds.max(1) + 1
    }
}

const COLUMNS: &str =
    "host_id, role, version, base_url, status, heartbeat_seconds, started_at, last_heartbeat";

fn record(r: &AnyRow) -> Result<ServiceRecord, sqlx::Error> {
    Ok(ServiceRecord {
        host_id: r.try_get("host_id")?,
        role: r.try_get("role")?,
        version: r.try_get("version")?,
        base_url: r.try_get("base_url")?,
        status: r.try_get("status")?,
        heartbeat_seconds: r.try_get("heartbeat_seconds")?,
        started_at: r.try_get("started_at")?,
        last_heartbeat: r.try_get("last_heartbeat")?,
    })
}

impl Database {
    /// Registers (or re-registers) a process as up.
    pub async fn register_service(&self, s: &ServiceRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO services (host_id, role, version, base_url, status, heartbeat_seconds, \
             started_at, last_heartbeat) VALUES ($1, $2, $3, $4, 'up', $5, $6, $7) \
             ON CONFLICT (host_id) DO UPDATE SET role = $2, version = $3, base_url = $4, \
             status = 'up', heartbeat_seconds = $5, started_at = $6, last_heartbeat = $7",
        )
        .bind(s.host_id.clone())
        .bind(s.role.clone())
        .bind(s.version.clone())
        .bind(s.base_url.clone())
        .bind(s.heartbeat_seconds)
        .bind(s.started_at)
        .bind(s.last_heartbeat)
        .execute(&self.pool)
        .await
        .map_err(query_err("registering a service"))?;
        Ok(())
    }

    /// Records a heartbeat of a process; false when its row is gone (deleted by an operator
    /// or pruned), so the caller can register again.
    pub async fn service_heartbeat(&self, host_id: &str, now: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE services SET last_heartbeat = $1, status = 'up' WHERE host_id = $2",
        )
        .bind(now)
        .bind(host_id.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("recording a heartbeat"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Marks a process down (graceful stop).
    pub async fn mark_service_down(&self, host_id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE services SET status = 'down', last_heartbeat = $1 WHERE host_id = $2")
            .bind(now)
            .bind(host_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(query_err("marking a service down"))?;
        Ok(())
    }

    /// Every process row, oldest start first.
    pub async fn services(&self) -> Result<Vec<ServiceRecord>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM services ORDER BY started_at, host_id");
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .and_then(|rows| rows.iter().map(record).collect())
            .map_err(query_err("listing services"))
    }

    /// Deletes one process row; false when there was none.
    pub async fn delete_service(&self, host_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM services WHERE host_id = $1")
            .bind(host_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(query_err("deleting a service"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes the rows of processes whose last heartbeat is older than `before` (epoch
    /// seconds): processes gone long ago, gracefully or not. Returns how many.
    pub async fn prune_services(&self, before: i64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM services WHERE last_heartbeat < $1")
            .bind(before)
            .execute(&self.pool)
            .await
            .map_err(query_err("pruning services"))?;
        Ok(done.rows_affected())
    }
}
