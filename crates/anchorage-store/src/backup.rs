//! Backup and restore of a whole deployment: every table of the database (whatever the
//! migrations created, analysis documents included) and the analysis archive's objects, in
//! one portable `tar.zst` file:
//!
//! - `manifest.json` first: format, program version, source backend, the applied migrations
//!   (`schema_version` is the newest), per table its columns and row count, the objects;
//! - `tables/NAME.jsonl`: a JSON list of the column names, then one JSON list per row (values
//!   as in `rows.rs`: integers exact, bytes as `{"b64": ...}`);
//! - `objects/KEY`: each archived image's object, as stored.
//!
//! The dump reads one consistent snapshot (PostgreSQL: a repeatable-read, read-only
//! transaction; SQLite: one read transaction under WAL), so a running server may be backed up.
//! A restore goes into an empty database (or, forced, replaces everything): it rebuilds the
//! backup's schema version, loads the rows in one transaction (tables in foreign-key order;
//! PostgreSQL sequences moved past the restored ids), applies the newer migrations this
//! program has, and writes the objects to the configured archive store. Rows travel across
//! backends (SQLite to PostgreSQL and back). Registry passwords stay sealed: they open only
//! with the source's key (`secret.key` or `ANCHORAGE_SECRET_KEY`), which is not in the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io::{BufRead as _, BufReader, BufWriter, Read as _, Write as _};
use std::path::{Path, PathBuf};

use futures_util::TryStreamExt as _;
use serde::{Deserialize, Serialize};
use serde_json::Value;
// Dynamic SQL here is built only from catalog names (quoted) and `$n` placeholders.
use sqlx::AssertSqlSafe;
use sqlx::Row as _;

use crate::migrate::MIGRATIONS;
use crate::objects::ArchiveStore;
use crate::rows::{self, ColumnInfo};
use crate::{Backend, Database, StoreError, query_err};

const FORMAT: &str = "anchorage-backup/1";
/// Tables that are not data: the migration runner's own (rebuilt by migrating).
const BOOKKEEPING: &str = "anchorage_migrations";
/// The tables whose rows make a deployment: a database with none of them holding a row is
/// empty (rows that migrations seed, such as `schema_info`, do not count).
const DATA_TABLES: &[&str] = &[
    "accounts",
    "users",
    "images",
    "analyses",
    "archived_images",
    "registries",
    "policies",
    "evaluations",
    "events",
];
/// Largest line of a table file (one row) read back.
const MAX_ROW_BYTES: u64 = 1 << 30;

/// One table in a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupTable {
    /// Table name.
    pub name: String,
    /// Column names, in the order of the row lists.
    pub columns: Vec<String>,
    /// Rows.
    pub rows: u64,
}

/// One archive-store object in a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupObject {
    /// Its key in the archive store.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
}

/// The manifest of a backup file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupManifest {
    /// `anchorage-backup/1`.
    pub format: String,
    /// Version of the program that wrote it.
    pub program_version: String,
    /// When, epoch seconds.
    pub created_at: i64,
    /// Source backend (`sqlite` or `postgres`).
    pub backend: String,
    /// Newest applied migration.
    pub schema_version: i64,
    /// Every applied migration.
    pub migrations: Vec<i64>,
    /// Tables.
    pub tables: Vec<BackupTable>,
    /// Archive-store objects.
    pub objects: Vec<BackupObject>,
}

/// What a backup or restore moved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BackupStats {
    /// Tables.
    pub tables: usize,
    /// Rows in all tables.
    pub rows: u64,
    /// Archive objects.
    pub objects: usize,
    /// Bytes of the archive objects.
    pub object_bytes: u64,
    /// Size of the backup file.
    pub file_bytes: u64,
    /// Schema version of the backup.
    pub schema_version: i64,
}

/// How to restore.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Replace the data of a database that is not empty.
    pub force: bool,
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> StoreError {
    let what = what.into();
    move |error| StoreError::Io { what, error }
}

fn corrupt(reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: "backup file".into(),
        reason: reason.into(),
    }
}

fn backend_name(b: Backend) -> &'static str {
    match b {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    }
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// A table name safe as a file name in the archive (a database name is anything).
fn table_file(name: &str) -> String {
    if !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        format!("tables/{name}.jsonl")
    } else {
        format!("tables/x-{}.jsonl", hex::encode(name))
    }
}

/// Writes a backup of `db` (and of the objects of `store` its archived images name) to
/// `output`. Returns what it holds.
pub async fn backup(
    db: &Database,
    store: &ArchiveStore,
    output: &Path,
) -> Result<BackupStats, StoreError> {
    let scratch = tempfile::tempdir().map_err(io("creating a scratch directory"))?;
    let err = || query_err("reading the database for a backup");
    let mut tx = db.pool.begin().await.map_err(err())?;
    if db.backend() == Backend::Postgres {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(&mut *tx)
            .await
            .map_err(err())?;
    }
    let migrations: Vec<i64> =
        sqlx::query("SELECT version FROM anchorage_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await
            .and_then(|rs| rs.iter().map(|r| r.try_get::<i64, _>("version")).collect())
            .map_err(err())?;
    let mut manifest = BackupManifest {
        format: FORMAT.into(),
        program_version: env!("CARGO_PKG_VERSION").into(),
        created_at: now_secs(),
        backend: backend_name(db.backend()).into(),
        schema_version: migrations.last().copied().unwrap_or(0),
        migrations,
        tables: Vec::new(),
        objects: Vec::new(),
    };
    let mut files = Vec::new();
    for table in rows::tables(&mut tx, db.backend()).await? {
        if table == BOOKKEEPING {
            continue;
        }
        let cols = rows::columns(&mut tx, db.backend(), &table).await?;
        let path = scratch.path().join(format!("t{}", files.len()));
        let mut out = BufWriter::new(File::create(&path).map_err(io("writing a table file"))?);
        let names: Vec<String> = cols.iter().map(|c| c.name.clone()).collect();
        serde_json::to_writer(&mut out, &names).map_err(|e| corrupt(e.to_string()))?;
        out.write_all(b"\n").map_err(io("writing a table file"))?;
        let sql = format!(
            "SELECT {} FROM {}",
            rows::select_list(&cols),
            rows::quote(&table)
        );
        let mut stream = sqlx::query(AssertSqlSafe(sql)).fetch(&mut *tx);
        let mut count = 0u64;
        while let Some(row) = stream.try_next().await.map_err(err())? {
            let values = rows::row_values(&row).map_err(err())?;
            serde_json::to_writer(&mut out, &values).map_err(|e| corrupt(e.to_string()))?;
            out.write_all(b"\n").map_err(io("writing a table file"))?;
            count += 1;
        }
        drop(stream);
        out.flush().map_err(io("writing a table file"))?;
        files.push((table_file(&table), path));
        manifest.tables.push(BackupTable {
            name: table,
            columns: names,
            rows: count,
        });
    }
    // The objects the snapshot's archived images name.
    let keys: Vec<String> = if manifest.tables.iter().any(|t| t.name == "archived_images") {
        sqlx::query("SELECT object_key FROM archived_images ORDER BY object_key")
            .fetch_all(&mut *tx)
            .await
            .and_then(|rs| {
                rs.iter()
                    .map(|r| r.try_get::<String, _>("object_key"))
                    .collect()
            })
            .map_err(err())?
    } else {
        Vec::new()
    };
    tx.commit().await.map_err(err())?;
    let mut objects = Vec::new();
    for key in keys {
        match store.get(&key).await? {
            Some(bytes) => {
                let path = scratch.path().join(format!("o{}", objects.len()));
                std::fs::write(&path, &bytes).map_err(io("writing an object file"))?;
                manifest.objects.push(BackupObject {
                    key: key.clone(),
                    size: bytes.len() as u64,
                });
                objects.push((format!("objects/{key}"), path));
            }
            None => tracing::warn!(
                key,
                "an archived image's object is missing; not in the backup"
            ),
        }
    }
    let stats = BackupStats {
        tables: manifest.tables.len(),
        rows: manifest.tables.iter().map(|t| t.rows).sum(),
        objects: manifest.objects.len(),
        object_bytes: manifest.objects.iter().map(|o| o.size).sum(),
        file_bytes: 0,
        schema_version: manifest.schema_version,
    };
    let output = output.to_path_buf();
    let written = tokio::task::spawn_blocking(move || {
        write_archive(&output, &manifest, files.iter().chain(objects.iter()))
    })
    .await
    .map_err(|e| corrupt(format!("writer stopped: {e}")))??;
    drop(scratch);
    Ok(BackupStats {
        file_bytes: written,
        ..stats
    })
}

/// Writes the tar.zst: the manifest, then the files; to a temporary name renamed at the end.
fn write_archive<'a>(
    output: &Path,
    manifest: &BackupManifest,
    files: impl Iterator<Item = &'a (String, PathBuf)>,
) -> Result<u64, StoreError> {
    let partial = output.with_extension("partial");
    let what = format!("writing {}", output.display());
    let file = File::create(&partial).map_err(io(what.clone()))?;
    let encoder =
        zstd::stream::write::Encoder::new(BufWriter::new(file), 3).map_err(io(what.clone()))?;
    let mut tar = tar::Builder::new(encoder);
    let json = serde_json::to_vec_pretty(manifest).map_err(|e| corrupt(e.to_string()))?;
    let mut header = tar::Header::new_gnu();
    header.set_size(json.len() as u64);
    header.set_mode(0o600);
    header.set_mtime(u64::try_from(manifest.created_at).unwrap_or(0));
    header.set_cksum();
    tar.append_data(&mut header, "manifest.json", json.as_slice())
        .map_err(io(what.clone()))?;
    for (name, path) in files {
        let mut f = File::open(path).map_err(io(what.clone()))?;
        let len = f.metadata().map_err(io(what.clone()))?.len();
        let mut header = tar::Header::new_gnu();
        header.set_size(len);
        header.set_mode(0o600);
        header.set_mtime(u64::try_from(manifest.created_at).unwrap_or(0));
        header.set_cksum();
        tar.append_data(&mut header, name, &mut f)
            .map_err(io(what.clone()))?;
    }
    let encoder = tar.into_inner().map_err(io(what.clone()))?;
    let mut inner = encoder.finish().map_err(io(what.clone()))?;
    inner.flush().map_err(io(what.clone()))?;
    let file = inner.into_inner().map_err(|e| StoreError::Io {
        what: what.clone(),
        error: e.into_error(),
    })?;
    file.sync_all().map_err(io(what.clone()))?;
    let len = file.metadata().map_err(io(what.clone()))?.len();
    std::fs::rename(&partial, output).map_err(io(what))?;
    Ok(len)
}

/// A backup file unpacked into a scratch directory.
struct Unpacked {
    manifest: BackupManifest,
    /// Table name -> its file.
    tables: BTreeMap<String, PathBuf>,
    /// Object key -> its file.
    objects: BTreeMap<String, PathBuf>,
    _dir: tempfile::TempDir,
}

/// Unpacks `input` (blocking): only the names the manifest lists, into files named by index.
fn unpack(input: &Path) -> Result<Unpacked, StoreError> {
    let what = format!("reading {}", input.display());
    let dir = tempfile::tempdir().map_err(io("creating a scratch directory"))?;
    let file = File::open(input).map_err(io(what.clone()))?;
    let decoder =
        zstd::stream::read::Decoder::new(BufReader::new(file)).map_err(io(what.clone()))?;
    let mut archive = tar::Archive::new(decoder);
    let mut manifest: Option<BackupManifest> = None;
    let mut table_names: BTreeMap<String, String> = BTreeMap::new();
    let mut object_names: BTreeMap<String, String> = BTreeMap::new();
    let mut tables = BTreeMap::new();
    let mut objects = BTreeMap::new();
    for (n, entry) in archive.entries().map_err(io(what.clone()))?.enumerate() {
        let mut entry = entry.map_err(io(what.clone()))?;
        let name = entry
            .path()
            .map_err(io(what.clone()))?
            .to_string_lossy()
            .to_string();
        if n == 0 {
            if name != "manifest.json" {
                return Err(corrupt("the first entry is not manifest.json"));
            }
            let mut json = Vec::new();
            (&mut entry)
                .take(64 << 20)
                .read_to_end(&mut json)
                .map_err(io(what.clone()))?;
            let m: BackupManifest = serde_json::from_slice(&json)
                .map_err(|e| corrupt(format!("manifest.json: {e}")))?;
            if m.format != FORMAT {
                return Err(corrupt(format!("format {:?} is not {FORMAT}", m.format)));
            }
            for t in &m.tables {
                table_names.insert(table_file(&t.name), t.name.clone());
            }
            for o in &m.objects {
                object_names.insert(format!("objects/{}", o.key), o.key.clone());
            }
            manifest = Some(m);
            continue;
        }
        let target = if let Some(t) = table_names.get(&name) {
            let path = dir.path().join(format!("t{n}"));
            tables.insert(t.clone(), path.clone());
            path
        } else if let Some(k) = object_names.get(&name) {
            let path = dir.path().join(format!("o{n}"));
            objects.insert(k.clone(), path.clone());
            path
        } else {
            return Err(corrupt(format!("unexpected entry {name:?}")));
        };
        let mut out = File::create(&target).map_err(io("unpacking a backup"))?;
        std::io::copy(&mut entry, &mut out).map_err(io(what.clone()))?;
    }
    let manifest = manifest.ok_or_else(|| corrupt("empty file"))?;
    for t in &manifest.tables {
        if !tables.contains_key(&t.name) {
            return Err(corrupt(format!("table {} is missing", t.name)));
        }
    }
    for o in &manifest.objects {
        if !objects.contains_key(&o.key) {
            return Err(corrupt(format!("object {} is missing", o.key)));
        }
    }
    Ok(Unpacked {
        manifest,
        tables,
        objects,
        _dir: dir,
    })
}

/// Reads the manifest of a backup file (checks nothing else).
pub fn read_manifest(input: &Path) -> Result<BackupManifest, StoreError> {
    let what = format!("reading {}", input.display());
    let file = File::open(input).map_err(io(what.clone()))?;
    let decoder =
        zstd::stream::read::Decoder::new(BufReader::new(file)).map_err(io(what.clone()))?;
    let mut archive = tar::Archive::new(decoder);
    let mut entries = archive.entries().map_err(io(what.clone()))?;
    let mut entry = entries
        .next()
        .ok_or_else(|| corrupt("empty file"))?
        .map_err(io(what.clone()))?;
    let mut json = Vec::new();
    (&mut entry)
        .take(64 << 20)
        .read_to_end(&mut json)
        .map_err(io(what))?;
    serde_json::from_slice(&json).map_err(|e| corrupt(format!("manifest.json: {e}")))
}

/// Reads the next line (without its newline) into `line`; `false` at the end. A line longer
/// than [`MAX_ROW_BYTES`] is an error, never an unbounded read.
fn next_line(reader: &mut impl std::io::BufRead, line: &mut String) -> Result<bool, StoreError> {
    line.clear();
    let n = reader
        .take(MAX_ROW_BYTES + 1)
        .read_line(line)
        .map_err(io("reading a table file"))?;
    if n as u64 > MAX_ROW_BYTES {
        return Err(corrupt("a row is too large"));
    }
    if line.ends_with('\n') {
        line.pop();
    }
    Ok(n > 0)
}

/// The deployment tables ([`DATA_TABLES`]) of the target that hold rows.
async fn tables_with_rows(db: &Database) -> Result<Vec<String>, StoreError> {
    let mut conn = db
        .pool
        .acquire()
        .await
        .map_err(query_err("acquiring a connection"))?;
    let mut out = Vec::new();
    for t in rows::tables(&mut conn, db.backend()).await? {
        if !DATA_TABLES.contains(&t.as_str()) {
            continue;
        }
        let sql = format!("SELECT COUNT(*) AS n FROM {}", rows::quote(&t));
        let n: i64 = sqlx::query(AssertSqlSafe(sql))
            .fetch_one(&mut *conn)
            .await
            .and_then(|r| r.try_get("n"))
            .map_err(query_err("counting rows"))?;
        if n > 0 {
            out.push(t);
        }
    }
    Ok(out)
}

/// Drops every table (a forced restore into a database of another schema version).
async fn drop_everything(db: &Database) -> Result<(), StoreError> {
    let err = || query_err("dropping the old tables");
    let mut conn = db.pool.acquire().await.map_err(err())?;
    let tables = rows::tables(&mut conn, db.backend()).await?;
    let refs = rows::references(&mut conn, db.backend(), &tables).await?;
    let mut order = rows::dependency_order(&tables, &refs);
    order.reverse();
    for t in order {
        let sql = match db.backend() {
            Backend::Postgres => format!("DROP TABLE IF EXISTS {} CASCADE", rows::quote(&t)),
            Backend::Sqlite => format!("DROP TABLE IF EXISTS {}", rows::quote(&t)),
        };
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut *conn)
            .await
            .map_err(err())?;
    }
    Ok(())
}

/// Restores a backup written by [`backup`] into `db` and `store`: refuses a database that
/// holds data unless `force`, and a backup of a newer schema than this program knows. Stop
/// the servers on the database first.
pub async fn restore(
    db: &Database,
    store: &ArchiveStore,
    input: &Path,
    options: RestoreOptions,
) -> Result<BackupStats, StoreError> {
    let file_bytes = std::fs::metadata(input)
        .map_err(io(format!("reading {}", input.display())))?
        .len();
    let path = input.to_path_buf();
    let unpacked = tokio::task::spawn_blocking(move || unpack(&path))
        .await
        .map_err(|e| corrupt(format!("reader stopped: {e}")))??;
    let m = &unpacked.manifest;
    let known: BTreeSet<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
    let latest = known.last().copied().unwrap_or(0);
    if let Some(v) = m.migrations.iter().find(|v| !known.contains(v)) {
        return Err(StoreError::NewerSchema {
            version: *v,
            known: latest,
        });
    }
    let busy = tables_with_rows(db).await?;
    if !busy.is_empty() && !options.force {
        return Err(StoreError::NotEmpty {
            tables: busy.join(", "),
        });
    }
    // The target's schema must be the backup's before the rows go in.
    let applied: Vec<i64> = {
        let mut conn = db
            .pool
            .acquire()
            .await
            .map_err(query_err("acquiring a connection"))?;
        let tables = rows::tables(&mut conn, db.backend()).await?;
        if tables.iter().any(|t| t == BOOKKEEPING) {
            sqlx::query("SELECT version FROM anchorage_migrations ORDER BY version")
                .fetch_all(&mut *conn)
                .await
                .and_then(|rs| rs.iter().map(|r| r.try_get::<i64, _>("version")).collect())
                .map_err(query_err("reading anchorage_migrations"))?
        } else {
            Vec::new()
        }
    };
    if applied.iter().any(|v| *v > m.schema_version) {
        // A newer (empty or forced) schema: rebuild it at the backup's version.
        drop_everything(db).await?;
    }
    db.migrate_to(m.schema_version).await?;

    let backend = db.backend();
    let err = || query_err("restoring rows");
    let mut tx = db.pool.begin().await.map_err(err())?;
    let target_tables = rows::tables(&mut tx, backend).await?;
    for t in &m.tables {
        if !target_tables.contains(&t.name) {
            return Err(corrupt(format!(
                "table {} is not in this program's schema version {}",
                t.name, m.schema_version
            )));
        }
    }
    let refs = rows::references(&mut tx, backend, &target_tables).await?;
    let order = rows::dependency_order(&target_tables, &refs);
    for t in order.iter().rev() {
        if t == BOOKKEEPING {
            continue;
        }
        let sql = format!("DELETE FROM {}", rows::quote(t));
        sqlx::query(AssertSqlSafe(sql))
            .execute(&mut *tx)
            .await
            .map_err(err())?;
    }
    let mut restored_rows = 0u64;
    for t in order.iter().filter(|t| *t != BOOKKEEPING) {
        let Some(entry) = m.tables.iter().find(|e| &e.name == t) else {
            continue;
        };
        let Some(path) = unpacked.tables.get(t) else {
            continue;
        };
        let cols = rows::columns(&mut tx, backend, t).await?;
        let mut used: Vec<&ColumnInfo> = Vec::new();
        for name in &entry.columns {
            let c = cols.iter().find(|c| &c.name == name).ok_or_else(|| {
                corrupt(format!(
                    "column {t}.{name} is not in this program's schema version {}",
                    m.schema_version
                ))
            })?;
            used.push(c);
        }
        let sql = rows::insert_sql(t, &used);
        let mut reader = BufReader::new(File::open(path).map_err(io("reading a table file"))?);
        let mut line = String::new();
        if !next_line(&mut reader, &mut line)? {
            return Err(corrupt(format!("table {t}: no header")));
        }
        let names: Vec<String> =
            serde_json::from_str(&line).map_err(|e| corrupt(format!("table {t}: header: {e}")))?;
        if names != entry.columns {
            return Err(corrupt(format!(
                "table {t}: header differs from the manifest"
            )));
        }
        let mut count = 0u64;
        while next_line(&mut reader, &mut line)? {
            let values: Vec<Value> = serde_json::from_str(&line)
                .map_err(|e| corrupt(format!("table {t} row {}: {e}", count + 1)))?;
            if values.len() != used.len() {
                return Err(corrupt(format!(
                    "table {t} row {}: {} values for {} columns",
                    count + 1,
                    values.len(),
                    used.len()
                )));
            }
            let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
            for (c, v) in used.iter().zip(&values) {
                q = rows::bind(q, c, v)
                    .map_err(|e| corrupt(format!("table {t} row {}: {}", count + 1, e.0)))?;
            }
            q.execute(&mut *tx).await.map_err(err())?;
            count += 1;
        }
        if count != entry.rows {
            return Err(corrupt(format!(
                "table {t}: {count} rows, the manifest says {}",
                entry.rows
            )));
        }
        restored_rows += count;
    }
    if backend == Backend::Postgres {
        reset_sequences(&mut tx).await?;
    }
    tx.commit().await.map_err(err())?;
    db.migrate().await?;
    let mut object_bytes = 0u64;
    for (key, path) in &unpacked.objects {
        let bytes = std::fs::read(path).map_err(io("reading an object file"))?;
        object_bytes += bytes.len() as u64;
        store.put(key, bytes).await?;
    }
    tracing::info!(
        tables = m.tables.len(),
        rows = restored_rows,
        objects = unpacked.objects.len(),
        schema = m.schema_version,
        "backup restored"
    );
    Ok(BackupStats {
        tables: m.tables.len(),
        rows: restored_rows,
        objects: unpacked.objects.len(),
        object_bytes,
        file_bytes,
        schema_version: m.schema_version,
    })
}

/// Moves every serial column's sequence past the largest restored id.
async fn reset_sequences(tx: &mut sqlx::AnyConnection) -> Result<(), StoreError> {
    let err = || query_err("resetting sequences");
    let serials = sqlx::query(
        "SELECT CAST(table_name AS TEXT) AS t, CAST(column_name AS TEXT) AS c \
         FROM information_schema.columns WHERE table_schema = current_schema() \
         AND column_default LIKE 'nextval(%'",
    )
    .fetch_all(&mut *tx)
    .await
    .map_err(err())?;
    for r in serials {
        let t: String = r.try_get("t").map_err(err())?;
        let c: String = r.try_get("c").map_err(err())?;
        let sql = format!(
            "SELECT CAST(setval(pg_get_serial_sequence($1, $2), COALESCE(MAX({col}), 1), \
             MAX({col}) IS NOT NULL) AS BIGINT) AS v FROM {table}",
            col = rows::quote(&c),
            table = rows::quote(&t)
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(rows::quote(&t))
            .bind(c.clone())
            .fetch_one(&mut *tx)
            .await
            .map_err(err())?;
    }
    Ok(())
}
