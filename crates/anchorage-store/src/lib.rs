//! Server persistence behind one interface: [`connect`] opens SQLite (`sqlite:PATH`, the
//! embedded default) or PostgreSQL (`postgres://...`) through sqlx's `Any` driver, and
//! [`Database::migrate`] applies this crate's migrations for that backend, each once, in order,
//! inside a transaction, recorded in `anchorage_migrations`. The repositories of the engine
//! service are methods of [`Database`], one module per area: accounts and users, images with
//! their tags and (compressed, per-digest) analysis documents, the leased job queue, policy
//! bundles and evaluations, registries, events, the analysis archive's records. The data
//! lifecycle is in [`lifecycle`] (archive, restore, [`apply_archive_rules`]) and the backup of
//! a whole deployment in [`backup`] / [`restore`].
//! Watch mode: subscriptions, cycle leases, the re-match index and feed changes, webhook
//! deliveries.

mod accounts;
mod archive;
mod backup;
mod cycles;
mod error;
mod events;
mod images;
mod jobs;
pub mod lifecycle;
mod matchindex;
mod migrate;
mod notifications;
mod objects;
mod policies;
mod registries;
mod rows;
mod seal;
mod services;
mod subscriptions;

use std::str::FromStr as _;

use secrecy::{ExposeSecret as _, SecretString};
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};

pub use accounts::{Account, User};
pub use archive::{
    ArchiveRule, ArchiveSummary, ArchivedImage, ArchivedTag, ImageSelector, Transition,
};
pub use backup::{
    BackupManifest, BackupObject, BackupStats, BackupTable, RestoreOptions, backup, read_manifest,
    restore,
};
pub use cycles::CycleState;
pub use error::{StoreError, StoreErrorKind};
pub use events::{EventFilter, EventRecord};
pub use images::{AddImage, Added, FinishedAnalysis, ImageFilter, ImageRecord, TagRecord};
pub use jobs::{ANALYZE, ANALYZE_FORCE, Job, KindDepth, QueueDepth};
pub use lifecycle::{
    ArchiveOutcome, Restored, RulesRun, apply_archive_rules, apply_archive_rules_now,
    archive_image, delete_archived_image, restore_image,
};
pub use matchindex::{FeedChange, MatchSubject};
pub use migrate::{AppliedMigration, MIGRATIONS, Migration};
pub use notifications::{
    DEAD, DELIVERED, DELIVERING, NewNotification, NotificationCounts, NotificationRecord, PENDING,
};
pub use objects::{ArchiveDriver, ArchiveObject, ArchiveStore, archive_key};
pub use policies::{EvaluationRecord, PolicyRecord};
pub use registries::{OpenedCredential, RegistryRecord};
pub use seal::Sealer;
pub use services::{MISSED_HEARTBEATS, ServiceRecord};
pub use subscriptions::{
    REPO_UPDATE, SUBSCRIPTION_TYPES, Subscription, SubscriptionFilter, TAG_SUBSCRIPTION_TYPES,
    subscription_id,
};

/// Wraps a driver error with the step that failed.
pub(crate) fn query_err(what: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |error| StoreError::Query { what, error }
}

/// The database behind a URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Backend {
    /// SQLite file (embedded, one machine).
    Sqlite,
    /// PostgreSQL server (several API and worker processes).
    Postgres,
}

impl Backend {
    /// The backend named by a URL's scheme.
    pub fn of_url(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl {
                scheme: url.split(':').next().unwrap_or_default().to_string(),
            })
        }
    }
}

/// How to connect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectOptions {
    /// Pool size.
    pub max_connections: u32,
    /// Longest wait for a pooled connection, seconds.
    pub acquire_timeout_secs: u64,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            acquire_timeout_secs: 30,
        }
    }
}

/// An open database (a connection pool) and its backend.
#[derive(Debug, Clone)]
pub struct Database {
    pool: sqlx::AnyPool,
    backend: Backend,
}

/// Opens the database at `url` (`sqlite:PATH`, created when missing, or `postgres://...`).
/// The URL may hold a password: it is never part of an error or a log line.
pub async fn connect(url: &SecretString, options: &ConnectOptions) -> Result<Database, StoreError> {
    sqlx::any::install_default_drivers();
    let raw = url.expose_secret();
    let backend = Backend::of_url(raw)?;
    let mut text = raw.to_string();
    if backend == Backend::Sqlite && !text.contains("mode=") {
        // Create the file on first use (sqlx opens read-write without creating by default).
        text.push(if text.contains('?') { '&' } else { '?' });
        text.push_str("mode=rwc");
    }
    let connect = AnyConnectOptions::from_str(&text).map_err(|e| StoreError::Connect {
        backend,
        reason: redact(&e.to_string(), raw),
    })?;
    // SQLite serialises writers: one connection keeps every transaction from meeting a
    // locked database (the server's statements are short; analyses run outside the database).
    let max = match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => options.max_connections.max(1),
    };
    let pool = AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(std::time::Duration::from_secs(options.acquire_timeout_secs))
        .connect_with(connect)
        .await
        .map_err(|e| StoreError::Connect {
            backend,
            reason: redact(&e.to_string(), raw),
        })?;
    if backend == Backend::Sqlite {
        // Readers of other processes (backups, `anchorage migrate`) do not block the server.
        sqlx::query("PRAGMA journal_mode = WAL")
            .execute(&pool)
            .await
            .map_err(query_err("enabling the write-ahead log"))?;
    }
    Ok(Database { pool, backend })
}

/// Removes the URL (which may hold a password) from a driver message.
fn redact(message: &str, url: &str) -> String {
    message.replace(url, "[database url]")
}

impl Database {
    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The connection pool (for the repositories built on this crate).
    pub fn pool(&self) -> &sqlx::AnyPool {
        &self.pool
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}
