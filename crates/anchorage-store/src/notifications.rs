//! Webhook deliveries: one row per (notification id, hook). Queued once (the notification id
//! is stable, so queueing the same notification again is a no-op), claimed with a lease by a
//! delivering process (PostgreSQL: `FOR UPDATE SKIP LOCKED`), then `delivered`, or retried at
//! a later time, or `dead` (a dead letter, kept and visible). A process that dies mid-delivery
//! leaves a lease that expires, and the delivery is attempted again: at least once.

// Dynamic SQL here is built only from constant fragments and `$n` placeholders, never
// from input (values are always bound).
use sqlx::AssertSqlSafe;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Backend, Database, StoreError, query_err};

/// Delivery state: waiting for its (next) attempt.
pub const PENDING: &str = "pending";
/// Delivery state: leased by a delivering process.
pub const DELIVERING: &str = "delivering";
/// Delivery state: the receiver answered 2xx.
pub const DELIVERED: &str = "delivered";
/// Delivery state: given up (a dead letter).
pub const DEAD: &str = "dead";

/// A notification to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewNotification {
    /// Stable id (de-duplication key of receivers).
    pub notification_id: String,
    /// Webhook configuration entry it goes to (`general` or the type's own).
    pub hook: String,
    /// Account (`userId`).
    pub account: String,
    /// `tag_update`, `analysis_update`, `vuln_update`, `policy_eval`, `event_log`.
    pub notification_type: String,
    /// Subscription key (tag or repository).
    pub subscription_key: String,
    /// The JSON body delivered.
    pub payload: String,
}

/// A stored delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationRecord {
    /// Row id.
    pub id: i64,
    /// Stable notification id.
    pub notification_id: String,
    /// Webhook configuration entry.
    pub hook: String,
    /// Account.
    pub account: String,
    /// Type.
    pub notification_type: String,
    /// Subscription key.
    pub subscription_key: String,
    /// JSON body.
    pub payload: String,
    /// State ([`PENDING`], [`DELIVERING`], [`DELIVERED`], [`DEAD`]).
    pub state: String,
    /// Attempts so far.
    pub attempts: i64,
    /// Next attempt, epoch seconds.
    pub next_attempt_at: i64,
    /// Error of the last failed attempt.
    pub last_error: Option<String>,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds.
    pub updated_at: i64,
    /// When delivered.
    pub delivered_at: Option<i64>,
}

/// Deliveries by state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotificationCounts {
    /// Waiting.
    pub pending: i64,
    /// Leased.
    pub delivering: i64,
    /// Done.
    pub delivered: i64,
    /// Dead letters.
    pub dead: i64,
}

fn record(r: &AnyRow) -> Result<NotificationRecord, sqlx::Error> {
    Ok(NotificationRecord {
        id: r.try_get("id")?,
        notification_id: r.try_get("notification_id")?,
        hook: r.try_get("hook")?,
        account: r.try_get("account")?,
        notification_type: r.try_get("notification_type")?,
        subscription_key: r.try_get("subscription_key")?,
        payload: r.try_get("payload")?,
        state: r.try_get("state")?,
        attempts: r.try_get("attempts")?,
        next_attempt_at: r.try_get("next_attempt_at")?,
        last_error: r.try_get("last_error")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        delivered_at: r.try_get("delivered_at")?,
    })
}

impl Database {
    /// Queues deliveries; one already queued (same notification id and hook) is left as it
    /// is. Returns how many were new.
    pub async fn queue_notifications(
        &self,
        items: &[NewNotification],
        now: i64,
    ) -> Result<u64, StoreError> {
        let err = || query_err("queueing notifications");
        let mut tx = self.pool.begin().await.map_err(err())?;
        let mut added = 0;
        for n in items {
            let done = sqlx::query(
                "INSERT INTO notifications (notification_id, hook, account, notification_type, \
                 subscription_key, payload, state, attempts, next_attempt_at, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, 'pending', 0, $7, $7, $7) \
                 ON CONFLICT (notification_id, hook) DO NOTHING",
            )
            .bind(n.notification_id.clone())
            .bind(n.hook.clone())
            .bind(n.account.clone())
            .bind(n.notification_type.clone())
            .bind(n.subscription_key.clone())
            .bind(n.payload.clone())
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(err())?;
            added += done.rows_affected();
        }
        tx.commit().await.map_err(err())?;
        Ok(added)
    }

    /// Claims up to `limit` deliveries due now (pending and due, or leased by a process whose
    /// lease expired), leased to `owner` until `lease_until`; counts the attempt.
    pub async fn claim_notifications(
        &self,
        owner: &str,
        now: i64,
        lease_until: i64,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        let lock = match self.backend {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE notifications SET state = 'delivering', attempts = attempts + 1, \
             lease_owner = $1, lease_until = $2, updated_at = $3 WHERE id IN (\
             SELECT id FROM notifications WHERE (state = 'pending' AND next_attempt_at <= $3) \
             OR (state = 'delivering' AND lease_until < $3) ORDER BY id LIMIT $4{lock}) \
             RETURNING *"
        );
        let mut rows = sqlx::query(AssertSqlSafe(sql))
            .bind(owner.to_string())
            .bind(lease_until)
            .bind(now)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .and_then(|rows| rows.iter().map(record).collect::<Result<Vec<_>, _>>())
            .map_err(query_err("claiming notifications"))?;
        rows.sort_by_key(|r| r.id);
        Ok(rows)
    }

    /// Marks a leased delivery done.
    pub async fn notification_delivered(
        &self,
        id: i64,
        owner: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE notifications SET state = 'delivered', lease_owner = NULL, lease_until = NULL, \
             last_error = NULL, delivered_at = $1, updated_at = $1 \
             WHERE id = $2 AND lease_owner = $3 AND state = 'delivering'",
        )
        .bind(now)
        .bind(id)
        .bind(owner.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("recording a delivery"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a failed attempt of a leased delivery: tried again at `next_attempt_at`, or
    /// dead when `dead`.
    pub async fn notification_failed(
        &self,
        id: i64,
        owner: &str,
        error: &str,
        next_attempt_at: i64,
        dead: bool,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE notifications SET state = $1, lease_owner = NULL, lease_until = NULL, \
             last_error = $2, next_attempt_at = $3, updated_at = $4 \
             WHERE id = $5 AND lease_owner = $6 AND state = 'delivering'",
        )
        .bind(if dead { DEAD } else { PENDING })
        .bind(error.to_string())
        .bind(next_attempt_at)
        .bind(now)
        .bind(id)
        .bind(owner.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("recording a failed delivery"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Deliveries of an account (every account when `None`), newest first, optionally of one
    /// state.
    pub async fn notifications(
        &self,
        account: Option<&str>,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<NotificationRecord>, StoreError> {
        sqlx::query(
            "SELECT * FROM notifications WHERE ($1 IS NULL OR account = $1) \
             AND ($2 IS NULL OR state = $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(account.map(str::to_string))
        .bind(state.map(str::to_string))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .and_then(|rows| rows.iter().map(record).collect())
        .map_err(query_err("listing notifications"))
    }

    /// One delivery of an account.
    pub async fn notification(
        &self,
        account: &str,
        id: i64,
    ) -> Result<Option<NotificationRecord>, StoreError> {
        sqlx::query("SELECT * FROM notifications WHERE account = $1 AND id = $2")
            .bind(account.to_string())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(record).transpose())
            .map_err(query_err("reading a notification"))
    }

    /// Puts a dead letter back in the queue (attempt count reset); false when it is not a
    /// dead letter of this account.
    pub async fn retry_notification(
        &self,
        account: &str,
        id: i64,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE notifications SET state = 'pending', attempts = 0, next_attempt_at = $1, \
             created_at = $1, updated_at = $1 WHERE account = $2 AND id = $3 AND state = 'dead'",
        )
        .bind(now)
        .bind(account.to_string())
        .bind(id)
        .execute(&self.pool)
        .await
        .map_err(query_err("retrying a notification"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Deliveries by state.
    pub async fn notification_counts(&self) -> Result<NotificationCounts, StoreError> {
        let rows = sqlx::query("SELECT state, COUNT(*) AS n FROM notifications GROUP BY state")
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("counting notifications"))?;
        let mut c = NotificationCounts::default();
        for r in rows {
            let state: String = r
                .try_get("state")
                .map_err(query_err("counting notifications"))?;
            let n: i64 = r
                .try_get("n")
                .map_err(query_err("counting notifications"))?;
            match state.as_str() {
                PENDING => c.pending = n,
                DELIVERING => c.delivering = n,
                DELIVERED => c.delivered = n,
                DEAD => c.dead = n,
                _ => {}
            }
        }
        Ok(c)
    }
}
