//! Reader of rpm's SQLite database (`rpmdb.sqlite`, Fedora 33+, RHEL 9): the `Packages` table's
//! `blob` column. SQLite needs a file, so the database (and its WAL, when the image has one) is
//! copied to a private temporary directory and opened there.
//!
//! The database comes from an untrusted image, and SQL in a schema can compute as well as
//! store: a `Packages` view over a recursive CTE never ends, a generated column can ask for a
//! gigabyte per row. So the copy is opened read-only with `trusted_schema` off, triggers and
//! views disabled and defensive mode on; `Packages` must be an ordinary table; values are capped
//! by SQLite's length limit; and rows, bytes and time are bounded (the time by a progress
//! handler that interrupts the statement). Extension loading stays off: SQLite disables
//! `load_extension()` unless enabled through the C API, which rusqlite exposes only with its
//! `load_extension` feature (not enabled here).

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::config::DbConfig;
use rusqlite::limits::Limit;
use rusqlite::{Connection, OpenFlags};

use crate::os::Parsed;

/// Bounds on reading one rpm SQLite database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteLimits {
    /// Most rows read from `Packages` (real databases hold a few thousand).
    pub max_rows: u64,
    /// Most blob bytes read from `Packages` in total; also SQLite's length limit per value.
    pub max_bytes: u64,
    /// Longest time the query may run.
    pub max_time: Duration,
}

impl Default for SqliteLimits {
    fn default() -> Self {
        Self {
            max_rows: 200_000,
            max_bytes: 512 * 1024 * 1024,
            max_time: Duration::from_secs(30),
        }
    }
}

/// Returns every header blob in the `Packages` table. Never panics; problems become warnings.
pub(crate) fn read_blobs(db: &[u8], wal: Option<&[u8]>, limits: &SqliteLimits) -> Parsed<Vec<u8>> {
    let mut out = Parsed::default();
    let dir = match tempfile::tempdir() {
        Ok(d) => d,
        Err(e) => {
            out.warnings
                .push(format!("cannot create a scratch directory: {e}"));
            return out;
        }
    };
    let path = dir.path().join("rpmdb.sqlite");
    if let Err(e) = std::fs::write(&path, db) {
        out.warnings.push(format!("cannot write scratch copy: {e}"));
        return out;
    }
    if let Some(wal) = wal.filter(|w| !w.is_empty())
        && let Err(e) = std::fs::write(dir.path().join("rpmdb.sqlite-wal"), wal)
    {
        out.warnings
            .push(format!("cannot write scratch copy of the WAL: {e}"));
    }
    if let Err(e) = read_into(&path, limits, &mut out) {
        out.warnings.push(format!("sqlite: {e}"));
    }
    out
}

/// Why reading stopped early.
#[derive(Debug, thiserror::Error)]
enum ReadError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("`Packages` is a {0}, not an ordinary table; not read")]
    NotATable(String),
    #[error("no `Packages` table")]
    NoTable,
    #[error("query stopped after the time limit of {0:?}")]
    TimedOut(Duration),
}

fn open(path: &Path, limits: &SqliteLimits) -> Result<Connection, rusqlite::Error> {
    // Read-only: a WAL next to the copy is still applied (SQLite may create the -shm file in
    // our private directory); the image is never touched either way.
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_TRUSTED_SCHEMA, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, false)?;
    conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_VIEW, false)?;
    let length = i32::try_from(limits.max_bytes).unwrap_or(i32::MAX).max(1);
    conn.set_limit(Limit::SQLITE_LIMIT_LENGTH, length)?;
    Ok(conn)
}

fn read_into(
    path: &Path,
    limits: &SqliteLimits,
    out: &mut Parsed<Vec<u8>>,
) -> Result<(), ReadError> {
    let conn = open(path, limits)?;
    let deadline = Instant::now() + limits.max_time;
    // Called every 1000 virtual-machine steps; returning true interrupts the statement.
    conn.progress_handler(1000, Some(move || Instant::now() >= deadline))?;
    let timed_out = |e: rusqlite::Error| {
        if e.sqlite_error_code() == Some(rusqlite::ErrorCode::OperationInterrupted) {
            ReadError::TimedOut(limits.max_time)
        } else {
            ReadError::Sqlite(e)
        }
    };
    let found: Option<(String, String)> = {
        let mut stmt = conn
            .prepare(
                "SELECT type, coalesce(sql, '') FROM sqlite_schema \
                 WHERE name = 'Packages' COLLATE NOCASE",
            )
            .map_err(timed_out)?;
        let mut rows = stmt.query([]).map_err(timed_out)?;
        match rows.next().map_err(timed_out)? {
            Some(row) => Some((row.get(0)?, row.get(1)?)),
            None => None,
        }
    };
    let Some((kind, sql)) = found else {
        return Err(ReadError::NoTable);
    };
    if kind != "table" {
        return Err(ReadError::NotATable(kind));
    }
    let head = sql
        .trim_start()
        .get(..20)
        .unwrap_or("")
        .to_ascii_uppercase();
    if head.starts_with("CREATE VIRTUAL") {
        return Err(ReadError::NotATable("virtual table".into()));
    }
    let mut stmt = conn
        .prepare("SELECT blob FROM Packages")
        .map_err(timed_out)?;
    let mut rows = stmt.query([]).map_err(timed_out)?;
    let mut count = 0u64;
    let mut bytes = 0u64;
    while let Some(row) = rows.next().map_err(timed_out)? {
        count += 1;
        if count > limits.max_rows {
            out.warnings.push(format!(
                "sqlite: more than {} rows in Packages; the rest not read",
                limits.max_rows
            ));
            break;
        }
        // A NULL or non-blob value is skipped like a short record.
        let Ok(blob) = row.get::<_, Vec<u8>>(0) else {
            continue;
        };
        bytes = bytes.saturating_add(blob.len() as u64);
        if bytes > limits.max_bytes {
            out.warnings.push(format!(
                "sqlite: Packages holds more than {} bytes; the rest not read",
                limits.max_bytes
            ));
            break;
        }
        out.packages.push(blob);
    }
    Ok(())
}
