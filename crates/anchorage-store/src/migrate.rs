//! Migrations: one SQL script per backend per version, applied in order, once.
//!
//! Hand-written rather than `sqlx::migrate!`: that macro needs sqlx's compile-time macro crate
//! and a migrations folder per backend per pool type, while the `Any` pool serves both backends
//! from one binary; the runner is small (one bookkeeping table, one transaction per
//! migration, a PostgreSQL advisory lock so concurrent processes migrate once).

use sqlx::{Connection as _, Row as _};

use crate::{Backend, Database, StoreError, query_err};

/// One migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version (1, 2, ...; applied in order).
    pub version: i64,
    /// What it does.
    pub description: &'static str,
    /// SQL for SQLite.
    pub sqlite: &'static str,
    /// SQL for PostgreSQL.
    pub postgres: &'static str,
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "schema_info",
        sqlite: include_str!("../migrations/sqlite/0001_schema_info.sql"),
        postgres: include_str!("../migrations/postgres/0001_schema_info.sql"),
    },
    Migration {
        version: 2,
        description: "service",
        sqlite: include_str!("../migrations/sqlite/0002_service.sql"),
        postgres: include_str!("../migrations/postgres/0002_service.sql"),
    },
    Migration {
        version: 3,
        description: "watch",
        sqlite: include_str!("../migrations/sqlite/0003_watch.sql"),
        postgres: include_str!("../migrations/postgres/0003_watch.sql"),
    },
    Migration {
        version: 4,
        description: "services",
        sqlite: include_str!("../migrations/sqlite/0004_services.sql"),
        postgres: include_str!("../migrations/postgres/0004_services.sql"),
    },
    Migration {
        version: 5,
        description: "analysis_archive",
        sqlite: include_str!("../migrations/sqlite/0005_analysis_archive.sql"),
        postgres: include_str!("../migrations/postgres/0005_analysis_archive.sql"),
    },
];

/// A migration recorded as applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    /// Version.
    pub version: i64,
    /// Description.
    pub description: String,
    /// When (UTC, RFC 3339).
    pub applied_at: String,
}

/// Takes the PostgreSQL advisory lock held while migrating (key: "anchor" in ASCII).
const LOCK: &str = "SELECT pg_advisory_lock(107118535618418)";
/// Releases it.
const UNLOCK: &str = "SELECT pg_advisory_unlock(107118535618418)";

const BOOKKEEPING: &str = "CREATE TABLE IF NOT EXISTS anchorage_migrations (\
     version BIGINT PRIMARY KEY NOT NULL, \
     description TEXT NOT NULL, \
     applied_at TEXT NOT NULL)";

impl Database {
    /// Applies every migration not yet applied; returns the versions applied now. Safe to call
    /// from several processes at once (PostgreSQL: advisory lock; SQLite: each migration is one
    /// write transaction and is skipped when already recorded).
    pub async fn migrate(&self) -> Result<Vec<i64>, StoreError> {
        self.migrate_to(i64::MAX).await
    }

    /// [`Database::migrate`] up to and including version `last` only (a restore rebuilds a
    /// backup's schema version before loading its rows, then migrates the rest).
    pub async fn migrate_to(&self, last: i64) -> Result<Vec<i64>, StoreError> {
        let mut conn = self
            .pool
            .acquire()
            .await
            .map_err(query_err("acquiring a connection"))?;
        if self.backend == Backend::Postgres {
            sqlx::query(LOCK)
                .execute(&mut *conn)
                .await
                .map_err(query_err("taking the migration lock"))?;
        }
        let result = self.migrate_on(&mut conn, last).await;
        if self.backend == Backend::Postgres {
            // Released with the session anyway; unlock so the pooled connection is clean.
            let _ = sqlx::query(UNLOCK).execute(&mut *conn).await;
        }
        result
    }

    async fn migrate_on(
        &self,
        conn: &mut sqlx::AnyConnection,
        last: i64,
    ) -> Result<Vec<i64>, StoreError> {
        sqlx::query(BOOKKEEPING)
            .execute(&mut *conn)
            .await
            .map_err(query_err("creating anchorage_migrations"))?;
        let known = MIGRATIONS.last().map_or(0, |m| m.version);
        let newest: Option<i64> = sqlx::query("SELECT MAX(version) AS v FROM anchorage_migrations")
            .fetch_one(&mut *conn)
            .await
            .map_err(query_err("reading anchorage_migrations"))?
            .try_get("v")
            .map_err(query_err("reading anchorage_migrations"))?;
        if let Some(v) = newest
            && v > known
        {
            return Err(StoreError::NewerSchema { version: v, known });
        }
        let record = match self.backend {
            Backend::Sqlite => {
                "INSERT INTO anchorage_migrations (version, description, applied_at) \
                 VALUES ($1, $2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))"
            }
            Backend::Postgres => {
                "INSERT INTO anchorage_migrations (version, description, applied_at) \
                 VALUES ($1, $2, to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))"
            }
        };
        let mut applied = Vec::new();
        for m in MIGRATIONS.iter().filter(|m| m.version <= last) {
            let failed = |error| StoreError::Migration {
                version: m.version,
                description: m.description,
                error,
            };
            let mut tx = conn.begin().await.map_err(failed)?;
            let done: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM anchorage_migrations WHERE version = $1")
                    .bind(m.version)
                    .fetch_one(&mut *tx)
                    .await
                    .and_then(|r| r.try_get("n"))
                    .map_err(failed)?;
            if done > 0 {
                continue;
            }
            let sql = match self.backend {
                Backend::Sqlite => m.sqlite,
                Backend::Postgres => m.postgres,
            };
            sqlx::raw_sql(sql).execute(&mut *tx).await.map_err(failed)?;
            sqlx::query(record)
                .bind(m.version)
                .bind(m.description)
                .execute(&mut *tx)
                .await
                .map_err(failed)?;
            tx.commit().await.map_err(failed)?;
            tracing::info!(
                version = m.version,
                description = m.description,
                "migration applied"
            );
            applied.push(m.version);
        }
        Ok(applied)
    }

    /// The migrations recorded as applied, in order.
    pub async fn applied_migrations(&self) -> Result<Vec<AppliedMigration>, StoreError> {
        let rows = sqlx::query(
            "SELECT version, description, applied_at FROM anchorage_migrations ORDER BY version",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("reading anchorage_migrations"))?;
        rows.iter()
            .map(|r| {
                Ok(AppliedMigration {
                    version: r.try_get("version")?,
                    description: r.try_get("description")?,
                    applied_at: r.try_get("applied_at")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(query_err("reading anchorage_migrations"))
    }

    /// Whether every migration this program knows is applied (readiness): `Ok(None)` when
    /// current, else the first missing version.
    pub async fn missing_migration(&self) -> Result<Option<i64>, StoreError> {
        let applied: std::collections::HashSet<i64> = self
            .applied_migrations()
            .await?
            .into_iter()
            .map(|m| m.version)
            .collect();
        Ok(MIGRATIONS
            .iter()
            .map(|m| m.version)
            .find(|v| !applied.contains(v)))
    }

    /// A value of the `schema_info` table (created by migration 1).
    pub async fn schema_info(&self, key: &str) -> Result<Option<String>, StoreError> {
        let row = sqlx::query("SELECT value FROM schema_info WHERE key = $1")
            .bind(key.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("reading schema_info"))?;
        row.map(|r| r.try_get("value"))
            .transpose()
            .map_err(query_err("reading schema_info"))
    }
}
