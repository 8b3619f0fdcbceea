//! The local vulnerability store: one SQLite file (`vulndb.sqlite`). Advisories are JSON
//! bodies with indexed columns; a feed sync is one transaction, so readers (WAL mode) keep
//! seeing the previous complete store until the sync commits, and an interrupted sync leaves it
//! untouched.

use std::collections::BTreeSet;
use std::path::Path;

use anchorage_types::FeedGroupStatus;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, Transaction, params};
use sha2::{Digest as _, Sha256};

use crate::error::{VulnDbError, store_err};
use crate::pack::pack;
use crate::snapshot::Snapshot;
use anchorage_advisory::{Advisory, AffectedStatus, NvdEntry, normalize_name};

/// The store file name inside the data directory.
pub const STORE_FILE: &str = "vulndb.sqlite";

const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    etag TEXT,
    last_modified TEXT,
    last_sync TEXT,
    last_attempt TEXT,
    last_error TEXT,
    record_count INTEGER NOT NULL DEFAULT 0,
    malformed_count INTEGER NOT NULL DEFAULT 0,
    partial_count INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS advisories (
    source_id INTEGER NOT NULL,
    id TEXT NOT NULL,
    modified TEXT,
    digest TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    body BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS advisories_key ON advisories (source_id, id);
CREATE TABLE IF NOT EXISTS affected (
    source_id INTEGER NOT NULL,
    advisory_id TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS affected_by_name ON affected (name);
CREATE INDEX IF NOT EXISTS affected_by_advisory ON affected (source_id, advisory_id);
CREATE TABLE IF NOT EXISTS vuln_ids (
    vuln_id TEXT NOT NULL,
    source_id INTEGER NOT NULL,
    advisory_id TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS vuln_ids_by_id ON vuln_ids (vuln_id);
CREATE INDEX IF NOT EXISTS vuln_ids_by_advisory ON vuln_ids (source_id, advisory_id);
CREATE TABLE IF NOT EXISTS groups (
    source_id INTEGER NOT NULL,
    ecosystem TEXT NOT NULL,
    record_count INTEGER NOT NULL,
    PRIMARY KEY (source_id, ecosystem)
);
CREATE TABLE IF NOT EXISTS nvd (
    source_id INTEGER NOT NULL,
    cve TEXT NOT NULL,
    digest TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS nvd_key ON nvd (cve, source_id);
CREATE TABLE IF NOT EXISTS fix_observed (
    advisory_id TEXT NOT NULL,
    ecosystem TEXT NOT NULL,
    name TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    PRIMARY KEY (advisory_id, ecosystem, name)
) WITHOUT ROWID;
"#;

/// Schema version (`PRAGMA user_version`). The store holds only feed data, so a store of
/// another version is emptied and rebuilt by the next sync; `fix_observed` (when a fix was
/// first seen, which no feed can give back) is kept.
const SCHEMA_VERSION: i64 = 4;

pub use anchorage_advisory::SourcedAdvisory;

/// Per-source sync state, as `anchorage feeds status` shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceStatus {
    /// Source key (`osv:https://.../PyPI/all.zip`).
    pub key: String,
    /// Feed kind.
    pub kind: String,
    /// URL or path.
    pub location: String,
    /// Stored records.
    pub record_count: u64,
    /// Malformed records skipped at the last applied sync.
    pub malformed_count: u64,
    /// Records stored at the last applied sync with a version that no ordering could read
    /// (even leniently): matching evaluates them only partially.
    pub partial_count: u64,
    /// Last successful sync (applied or unchanged).
    pub last_sync: Option<DateTime<Utc>>,
    /// Last attempt.
    pub last_attempt: Option<DateTime<Utc>>,
    /// Error of the last attempt, if it failed.
    pub last_error: Option<String>,
    /// Validators kept for conditional requests.
    pub etag: Option<String>,
    /// `Last-Modified` kept for conditional requests.
    pub last_modified: Option<String>,
}

/// Hex SHA-256 of a record body (the change detector alongside `modified`).
pub(crate) fn body_digest(body: &str) -> String {
    hex::encode(Sha256::digest(body.as_bytes()))
}

fn parse_ts(s: Option<String>) -> Option<DateTime<Utc>> {
    s.and_then(|s| {
        DateTime::parse_from_rfc3339(&s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    })
}

/// The SQLite vulnerability store.
#[derive(Debug)]
pub struct Store {
    conn: Connection,
    path: String,
}

impl Store {
    /// Open (creating if needed) the store file at `path`.
    pub fn open(path: &Path) -> Result<Self, VulnDbError> {
        let label = path.display().to_string();
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(|source| VulnDbError::Io {
                feed: "store".into(),
                path: parent.display().to_string(),
                source,
            })?;
        }
        let conn = Connection::open(path).map_err(store_err(&label))?;
        conn.execute_batch(
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000; \
             PRAGMA journal_size_limit=67108864; PRAGMA cache_size=-65536; \
             PRAGMA mmap_size=1073741824;",
        )
        .map_err(store_err(&label))?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(store_err(&label))?;
        if version != SCHEMA_VERSION {
            conn.execute_batch(
                "DROP TABLE IF EXISTS advisories; DROP TABLE IF EXISTS affected; \
                 DROP TABLE IF EXISTS vuln_ids; DROP TABLE IF EXISTS groups; \
                 DROP TABLE IF EXISTS nvd; DROP TABLE IF EXISTS sources;",
            )
            .map_err(store_err(&label))?;
            conn.execute_batch(SCHEMA).map_err(store_err(&label))?;
            conn.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION}"))
                .map_err(store_err(&label))?;
        }
        Ok(Self { conn, path: label })
    }

    /// Open the store in a data directory (`<dir>/vulndb.sqlite`).
    pub fn open_dir(dir: &Path) -> Result<Self, VulnDbError> {
        Self::open(&dir.join(STORE_FILE))
    }

    /// Path of the store file.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// A consistent read snapshot (one read transaction).
    pub fn snapshot(&mut self) -> Result<Snapshot<'_>, VulnDbError> {
        let tx = self.conn.transaction().map_err(store_err(&self.path))?;
        Ok(Snapshot {
            tx,
            path: &self.path,
            has_nvd: std::cell::OnceCell::new(),
            inflate: std::cell::RefCell::new(None),
        })
    }

    /// State of one source.
    pub fn source_status(&self, key: &str) -> Result<Option<SourceStatus>, VulnDbError> {
        Ok(self.sources()?.into_iter().find(|s| s.key == key))
    }

    /// State of every source.
    pub fn sources(&self) -> Result<Vec<SourceStatus>, VulnDbError> {
        let err = store_err(&self.path);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT key, kind, location, record_count, malformed_count, last_sync, \
                 last_attempt, last_error, etag, last_modified, partial_count FROM sources \
                 ORDER BY key",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(SourceStatus {
                    key: r.get(0)?,
                    kind: r.get(1)?,
                    location: r.get(2)?,
                    record_count: r.get::<_, i64>(3)?.max(0) as u64,
                    malformed_count: r.get::<_, i64>(4)?.max(0) as u64,
                    last_sync: parse_ts(r.get(5)?),
                    last_attempt: parse_ts(r.get(6)?),
                    last_error: r.get(7)?,
                    etag: r.get(8)?,
                    last_modified: r.get(9)?,
                    partial_count: r.get::<_, i64>(10)?.max(0) as u64,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    /// Per feed and group: record count, last sync, last error (for `system feeds` and the
    /// `stale_feed_data` gate). Groups are ecosystems (`Debian:12`); NVD sources report the
    /// group `nvd:cves`.
    pub fn group_status(&self) -> Result<Vec<FeedGroupStatus>, VulnDbError> {
        let err = store_err(&self.path);
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.kind, g.ecosystem, SUM(g.record_count), MAX(s.last_sync), \
                 MAX(s.last_error) FROM groups g JOIN sources s ON s.id = g.source_id \
                 GROUP BY s.kind, g.ecosystem ORDER BY s.kind, g.ecosystem",
            )
            .map_err(&err)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(FeedGroupStatus {
                    feed: r.get(0)?,
                    group: r.get(1)?,
                    record_count: r.get::<_, i64>(2)?.max(0) as u64,
                    last_sync: parse_ts(r.get(3)?),
                    last_error: r.get(4)?,
                })
            })
            .map_err(&err)?;
        rows.collect::<Result<Vec<_>, _>>().map_err(err)
    }

    fn ensure_source(&self, key: &str, kind: &str, location: &str) -> Result<i64, VulnDbError> {
        let err = store_err(&self.path);
        self.conn
            .execute(
                "INSERT INTO sources (key, kind, location) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(key) DO NOTHING",
                params![key, kind, location],
            )
            .map_err(&err)?;
        self.conn
            .query_row("SELECT id FROM sources WHERE key = ?1", [key], |r| r.get(0))
            .map_err(err)
    }

    /// Record a failed attempt (the store content is untouched).
    pub fn record_failure(
        &self,
        key: &str,
        kind: &str,
        location: &str,
        error: &str,
    ) -> Result<(), VulnDbError> {
        self.ensure_source(key, kind, location)?;
        self.conn
            .execute(
                "UPDATE sources SET last_attempt = ?2, last_error = ?3 WHERE key = ?1",
                params![key, Utc::now().to_rfc3339(), error],
            )
            .map_err(store_err(&self.path))?;
        Ok(())
    }

    /// Record a successful attempt at `now` that found the feed unchanged (HTTP 304).
    pub fn record_unchanged(
        &self,
        key: &str,
        kind: &str,
        location: &str,
        now: DateTime<Utc>,
    ) -> Result<(), VulnDbError> {
        self.ensure_source(key, kind, location)?;
        let now = now.to_rfc3339();
        self.conn
            .execute(
                "UPDATE sources SET last_attempt = ?2, last_sync = ?2, last_error = NULL \
                 WHERE key = ?1",
                params![key, now],
            )
            .map_err(store_err(&self.path))?;
        Ok(())
    }

    /// Begin applying a full sync of one source; nothing is visible until [`Apply::commit`].
    pub(crate) fn begin_apply(
        &mut self,
        key: &str,
        kind: &str,
        location: &str,
        now: DateTime<Utc>,
    ) -> Result<Apply<'_>, VulnDbError> {
        let source_id = self.ensure_source(key, kind, location)?;
        let err = store_err(&self.path);
        let tx = self.conn.transaction().map_err(&err)?;
        tx.execute_batch(
            "CREATE TEMP TABLE IF NOT EXISTS seen (id TEXT PRIMARY KEY) WITHOUT ROWID; \
             DELETE FROM seen;",
        )
        .map_err(&err)?;
        Ok(Apply {
            tx,
            path: &self.path,
            source_id,
            key: key.to_string(),
            deflate: None,
            now,
            changed: BTreeSet::new(),
        })
    }

    /// When a fix was first seen in any synced feed for (advisory id, ecosystem, package name
    /// as published); `None` when no sync has seen one.
    pub fn fix_observed_at(
        &self,
        advisory_id: &str,
        ecosystem: &str,
        name: &str,
    ) -> Result<Option<DateTime<Utc>>, VulnDbError> {
        crate::fix_observed::query(&self.conn, &self.path, advisory_id, ecosystem, name)
    }
}

/// What applying one record did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Applied {
    Added,
    Updated,
    Unchanged,
    /// The stored record has a newer `modified`; the incoming one was skipped.
    Older,
}

/// An open sync transaction for one source.
pub(crate) struct Apply<'a> {
    tx: Transaction<'a>,
    path: &'a str,
    source_id: i64,
    key: String,
    deflate: Option<zstd::bulk::Compressor<'static>>,
    /// The sync's clock (injected in tests).
    now: DateTime<Utc>,
    /// Normalized package names whose advisories (or scores) this sync changed.
    changed: BTreeSet<String>,
}

impl Apply<'_> {
    fn seen(&self, id: &str) -> Result<bool, VulnDbError> {
        let n = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO seen (id) VALUES (?1)")
            .and_then(|mut s| s.execute([id]))
            .map_err(store_err(self.path))?;
        Ok(n == 0)
    }

    /// Insert or update one advisory (skipped when unchanged or older than the stored one).
    pub(crate) fn advisory(&mut self, adv: &Advisory) -> Result<Applied, VulnDbError> {
        let err = store_err(self.path);
        if self.seen(&adv.id)? {
            // A duplicate id inside one feed: the first one wins.
            return Ok(Applied::Unchanged);
        }
        self.observe_fixes(adv)?;
        let body = serde_json::to_string(adv).map_err(|e| VulnDbError::Document {
            feed: self.key.clone(),
            path: adv.id.clone(),
            message: e.to_string(),
        })?;
        let digest = body_digest(&body);
        let existing: Option<(Option<String>, String)> = self
            .tx
            .prepare_cached(
                "SELECT modified, digest FROM advisories WHERE source_id = ?1 AND id = ?2",
            )
            .and_then(|mut s| {
                s.query_row(params![self.source_id, adv.id], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .optional()
            })
            .map_err(&err)?;
        let modified = adv.modified.map(|m| m.to_rfc3339());
        let outcome = match &existing {
            Some((_, d)) if *d == digest => return Ok(Applied::Unchanged),
            Some((Some(old), _))
                if parse_ts(Some(old.clone())) > adv.modified && adv.modified.is_some() =>
            {
                return Ok(Applied::Older);
            }
            Some(_) => Applied::Updated,
            None => Applied::Added,
        };
        if outcome == Applied::Updated {
            let before = self.names_of(&adv.id)?;
            self.changed.extend(before);
            self.remove_rows(&adv.id)?;
        }
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO advisories (source_id, id, modified, digest, withdrawn, body) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.source_id,
                    adv.id,
                    modified,
                    digest,
                    adv.withdrawn.is_some(),
                    pack(&mut self.deflate, &body)
                ])
            })
            .map_err(&err)?;
        let mut keys: Vec<(String, String)> = adv
            .affected
            .iter()
            .map(|a| (a.ecosystem.clone(), normalize_name(&a.ecosystem, &a.name)))
            .collect();
        keys.sort();
        keys.dedup();
        self.changed.extend(keys.iter().map(|(_, n)| n.clone()));
        {
            let mut stmt = self
                .tx
                .prepare_cached(
                    "INSERT INTO affected (source_id, advisory_id, ecosystem, name) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(&err)?;
            for (eco, name) in &keys {
                stmt.execute(params![self.source_id, adv.id, eco, name])
                    .map_err(&err)?;
            }
            let mut ids = self
                .tx
                .prepare_cached(
                    "INSERT INTO vuln_ids (vuln_id, source_id, advisory_id) VALUES (?1, ?2, ?3)",
                )
                .map_err(&err)?;
            let mut all: Vec<&str> = adv.all_ids().collect();
            all.sort_unstable();
            all.dedup();
            for id in all {
                ids.execute(params![id, self.source_id, adv.id])
                    .map_err(&err)?;
            }
        }
        Ok(outcome)
    }

    /// Records the first time a fix is seen for each (advisory, package): the table is kept
    /// across syncs (and schema rebuilds), so `max_days_since_fix` can be evaluated.
    fn observe_fixes(&self, adv: &Advisory) -> Result<(), VulnDbError> {
        let now = self.now.to_rfc3339();
        let mut stmt = self
            .tx
            .prepare_cached(
                "INSERT OR IGNORE INTO fix_observed (advisory_id, ecosystem, name, first_seen) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .map_err(store_err(self.path))?;
        for a in &adv.affected {
            if a.status == AffectedStatus::Fixed && !a.fixed_versions().is_empty() {
                stmt.execute(params![
                    adv.id,
                    a.ecosystem,
                    normalize_name(&a.ecosystem, &a.name),
                    now
                ])
                .map_err(store_err(self.path))?;
            }
        }
        Ok(())
    }

    /// The package names an advisory of this source is stored under.
    fn names_of(&self, id: &str) -> Result<Vec<String>, VulnDbError> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT DISTINCT name FROM affected WHERE source_id = ?1 AND advisory_id = ?2",
            )
            .map_err(store_err(self.path))?;
        let rows = stmt
            .query_map(params![self.source_id, id], |r| r.get::<_, String>(0))
            .map_err(store_err(self.path))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(store_err(self.path))
    }

    /// The package names of every advisory (any source) that carries this CVE: what a score
    /// change can affect.
    fn names_of_cve(&self, cve: &str) -> Result<Vec<String>, VulnDbError> {
        let mut stmt = self
            .tx
            .prepare_cached(
                "SELECT DISTINCT a.name FROM vuln_ids v JOIN affected a \
                 ON a.source_id = v.source_id AND a.advisory_id = v.advisory_id \
                 WHERE v.vuln_id = ?1",
            )
            .map_err(store_err(self.path))?;
        let rows = stmt
            .query_map(params![cve], |r| r.get::<_, String>(0))
            .map_err(store_err(self.path))?;
        rows.collect::<Result<Vec<_>, _>>()
            .map_err(store_err(self.path))
    }

    fn remove_rows(&self, id: &str) -> Result<(), VulnDbError> {
        let err = store_err(self.path);
        for sql in [
            "DELETE FROM affected WHERE source_id = ?1 AND advisory_id = ?2",
            "DELETE FROM vuln_ids WHERE source_id = ?1 AND advisory_id = ?2",
        ] {
            self.tx
                .prepare_cached(sql)
                .and_then(|mut s| s.execute(params![self.source_id, id]))
                .map_err(&err)?;
        }
        Ok(())
    }

    /// Insert or update NVD scores.
    pub(crate) fn nvd(&mut self, entry: &NvdEntry) -> Result<Applied, VulnDbError> {
        let err = store_err(self.path);
        if self.seen(&entry.id)? {
            return Ok(Applied::Unchanged);
        }
        let body = serde_json::to_string(entry).map_err(|e| VulnDbError::Document {
            feed: self.key.clone(),
            path: entry.id.clone(),
            message: e.to_string(),
        })?;
        let digest = body_digest(&body);
        let existing: Option<String> = self
            .tx
            .prepare_cached("SELECT digest FROM nvd WHERE cve = ?1 AND source_id = ?2")
            .and_then(|mut s| {
                s.query_row(params![entry.id, self.source_id], |r| r.get(0))
                    .optional()
            })
            .map_err(&err)?;
        if existing.as_deref() == Some(digest.as_str()) {
            return Ok(Applied::Unchanged);
        }
        let names = self.names_of_cve(&entry.id)?;
        self.changed.extend(names);
        self.tx
            .prepare_cached(
                "INSERT OR REPLACE INTO nvd (source_id, cve, digest, body) VALUES (?1, ?2, ?3, ?4)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    self.source_id,
                    entry.id,
                    digest,
                    pack(&mut self.deflate, &body)
                ])
            })
            .map_err(&err)?;
        Ok(if existing.is_some() {
            Applied::Updated
        } else {
            Applied::Added
        })
    }

    /// Delete what the feed no longer has, recount groups, store the validators and commit.
    /// Returns (removed, record_count, names whose advisories or scores changed).
    pub(crate) fn commit(
        self,
        etag: Option<&str>,
        last_modified: Option<&str>,
        malformed: u64,
        partial: u64,
    ) -> Result<(u64, u64, BTreeSet<String>), VulnDbError> {
        let err = store_err(self.path);
        let sid = self.source_id;
        let tx = &self.tx;
        let mut changed = self.changed.clone();
        for sql in [
            "SELECT DISTINCT name FROM affected WHERE source_id = ?1 \
             AND advisory_id NOT IN (SELECT id FROM seen)",
            "SELECT DISTINCT a.name FROM nvd n JOIN vuln_ids v ON v.vuln_id = n.cve \
             JOIN affected a ON a.source_id = v.source_id AND a.advisory_id = v.advisory_id \
             WHERE n.source_id = ?1 AND n.cve NOT IN (SELECT id FROM seen)",
        ] {
            let mut stmt = tx.prepare(sql).map_err(&err)?;
            let names = stmt
                .query_map([sid], |r| r.get::<_, String>(0))
                .map_err(&err)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(&err)?;
            changed.extend(names);
        }
        let mut removed = tx
            .execute(
                "DELETE FROM advisories WHERE source_id = ?1 AND id NOT IN (SELECT id FROM seen)",
                [sid],
            )
            .map_err(&err)? as u64;
        for sql in [
            "DELETE FROM affected WHERE source_id = ?1 AND advisory_id NOT IN (SELECT id FROM seen)",
            "DELETE FROM vuln_ids WHERE source_id = ?1 AND advisory_id NOT IN (SELECT id FROM seen)",
        ] {
            tx.execute(sql, [sid]).map_err(&err)?;
        }
        removed += tx
            .execute(
                "DELETE FROM nvd WHERE source_id = ?1 AND cve NOT IN (SELECT id FROM seen)",
                [sid],
            )
            .map_err(&err)? as u64;
        tx.execute("DELETE FROM groups WHERE source_id = ?1", [sid])
            .map_err(&err)?;
        tx.execute(
            "INSERT INTO groups (source_id, ecosystem, record_count) \
             SELECT source_id, ecosystem, COUNT(DISTINCT advisory_id) FROM affected \
             WHERE source_id = ?1 GROUP BY ecosystem",
            [sid],
        )
        .map_err(&err)?;
        tx.execute(
            "INSERT INTO groups (source_id, ecosystem, record_count) \
             SELECT source_id, 'nvd:cves', COUNT(*) FROM nvd WHERE source_id = ?1 \
             GROUP BY source_id",
            [sid],
        )
        .map_err(&err)?;
        let count: i64 = tx
            .query_row(
                "SELECT (SELECT COUNT(*) FROM advisories WHERE source_id = ?1) + \
                 (SELECT COUNT(*) FROM nvd WHERE source_id = ?1)",
                [sid],
                |r| r.get(0),
            )
            .map_err(&err)?;
        let now = self.now.to_rfc3339();
        tx.execute(
            "UPDATE sources SET etag = ?2, last_modified = ?3, last_sync = ?4, last_attempt = ?4, \
             last_error = NULL, record_count = ?5, malformed_count = ?6, partial_count = ?7 \
             WHERE id = ?1",
            params![
                sid,
                etag,
                last_modified,
                now,
                count,
                malformed as i64,
                partial as i64
            ],
        )
        .map_err(&err)?;
        self.tx.commit().map_err(&err)?;
        Ok((removed, count.max(0) as u64, changed))
    }
}
