//! Events per account (Anchore §2.9, §6.4).

// Dynamic SQL here is built only from constant fragments and `$n` placeholders, never
// from input (values are always bound).
use sqlx::AssertSqlSafe;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Database, StoreError, query_err};

/// A stored event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// Unique id (`generated_uuid`).
    pub id: String,
    /// Order of creation (epoch microseconds).
    pub seq: i64,
    /// Account it concerns.
    pub account: String,
    /// Fully qualified type (`user.image.analysis.completed`).
    pub kind: String,
    /// `info` or `error`.
    pub level: String,
    /// Message.
    pub message: String,
    /// Details (JSON text).
    pub details: String,
    /// Resource type (`image_digest`, ...).
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// When, epoch seconds.
    pub created_at: i64,
}

/// Which events to list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Created at or after (epoch seconds).
    pub since: Option<i64>,
    /// Created before (epoch seconds).
    pub before: Option<i64>,
    /// Level.
    pub level: Option<String>,
    /// Type, `*` matching anything (`system.*`).
    pub kind: Option<String>,
    /// Resource type.
    pub resource_type: Option<String>,
    /// Resource id.
    pub resource_id: Option<String>,
}

impl EventRecord {
    /// A new event of now, with a fresh id.
    pub fn new(
        account: &str,
        kind: &str,
        level: &str,
        message: &str,
        resource_type: &str,
        resource_id: &str,
        details: &str,
    ) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Self {
            id: uuid::Uuid::new_v4().simple().to_string(),
            seq: i64::try_from(now.as_micros()).unwrap_or(i64::MAX),
            account: account.to_string(),
            kind: kind.to_string(),
            level: level.to_string(),
            message: message.to_string(),
            details: details.to_string(),
            resource_type: resource_type.to_string(),
            resource_id: resource_id.to_string(),
            created_at: i64::try_from(now.as_secs()).unwrap_or(i64::MAX),
        }
    }
}

fn event(r: &AnyRow) -> Result<EventRecord, sqlx::Error> {
    Ok(EventRecord {
        id: r.try_get("id")?,
        seq: r.try_get("seq")?,
        account: r.try_get("account")?,
        kind: r.try_get("type")?,
        level: r.try_get("level")?,
        message: r.try_get("message")?,
        details: r.try_get("details")?,
        resource_type: r.try_get("resource_type")?,
        resource_id: r.try_get("resource_id")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Database {
    /// Stores an event.
    pub async fn add_event(&self, e: &EventRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO events (id, seq, account, type, level, message, details, resource_type, \
             resource_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(e.id.clone())
        .bind(e.seq)
        .bind(e.account.clone())
        .bind(e.kind.clone())
        .bind(e.level.clone())
        .bind(e.message.clone())
        .bind(e.details.clone())
        .bind(e.resource_type.clone())
        .bind(e.resource_id.clone())
        .bind(e.created_at)
        .execute(&self.pool)
        .await
        .map_err(query_err("storing an event"))?;
        Ok(())
    }

    /// Events of an account matching `filter`, newest first: `limit` rows after skipping
    /// `offset`.
    pub async fn events(
        &self,
        account: &str,
        filter: &EventFilter,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<EventRecord>, StoreError> {
        enum Arg {
            Text(String),
            Int(i64),
        }
        let mut sql = String::from("SELECT * FROM events WHERE account = $1");
        let mut args = vec![Arg::Text(account.to_string())];
        let mut push = |clause: &str, arg: Arg| {
            args.push(arg);
            sql.push_str(&format!(" AND {clause} ${}", args.len()));
        };
        if let Some(s) = filter.since {
            push("created_at >=", Arg::Int(s));
        }
        if let Some(b) = filter.before {
            push("created_at <", Arg::Int(b));
        }
        if let Some(v) = &filter.level {
            push("level =", Arg::Text(v.clone()));
        }
        if let Some(v) = &filter.kind {
            push("type LIKE", Arg::Text(v.replace('%', "").replace('*', "%")));
        }
        if let Some(v) = &filter.resource_type {
            push("resource_type =", Arg::Text(v.clone()));
        }
        if let Some(v) = &filter.resource_id {
            push("resource_id =", Arg::Text(v.clone()));
        }
        sql.push_str(&format!(
            " ORDER BY seq DESC LIMIT ${} OFFSET ${}",
            args.len() + 1,
            args.len() + 2
        ));
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for a in args {
            q = match a {
                Arg::Text(t) => q.bind(t),
                Arg::Int(i) => q.bind(i),
            };
        }
        q.bind(limit)
            .bind(offset)
            .fetch_all(&self.pool)
            .await
            .and_then(|rows| rows.iter().map(event).collect())
            .map_err(query_err("listing events"))
    }

    /// One event of an account.
    pub async fn event(&self, account: &str, id: &str) -> Result<Option<EventRecord>, StoreError> {
        sqlx::query("SELECT * FROM events WHERE account = $1 AND id = $2")
            .bind(account.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(event).transpose())
            .map_err(query_err("reading an event"))
    }

    /// Deletes events of an account: one id, or all within a time window; returns the ids.
    pub async fn delete_events(
        &self,
        account: &str,
        id: Option<&str>,
        since: Option<i64>,
        before: Option<i64>,
    ) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM events WHERE account = $1 AND ($2 = '' OR id = $2) \
             AND created_at >= $3 AND created_at < $4",
        )
        .bind(account.to_string())
        .bind(id.unwrap_or_default().to_string())
        .bind(since.unwrap_or(i64::MIN))
        .bind(before.unwrap_or(i64::MAX))
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("deleting events"))?;
        let ids: Vec<String> = rows
            .iter()
            .map(|r| r.try_get("id"))
            .collect::<Result<_, _>>()
            .map_err(query_err("deleting events"))?;
        for i in &ids {
            sqlx::query("DELETE FROM events WHERE account = $1 AND id = $2")
                .bind(account.to_string())
                .bind(i.clone())
                .execute(&self.pool)
                .await
                .map_err(query_err("deleting events"))?;
        }
        Ok(ids)
    }
}
