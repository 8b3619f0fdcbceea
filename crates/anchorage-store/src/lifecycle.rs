//! Data lifecycle: moving an image's analysis into the analysis archive and back, deleting
//! archived analyses, and [`apply_archive_rules`], which the watcher cycle `archive_tasks`
//! calls on a timer.
//!
//! Archiving an image writes one object to the [`ArchiveStore`] (a tar holding
//! `archive_manifest.json.zst`, the image's rows of `images`, `image_tags` and `evaluations`
//! plus the `analyses` row without its document, and `analysis_document`, the stored
//! document bytes as they were), then, in one transaction, records the archived image and
//! deletes the live rows (the shared analysis document only when no other account holds the
//! digest). Restoring reverses it in one transaction, so the image comes back with the same
//! rows and the byte-identical document, without re-analysis. Each step records an event
//! (`system.analysis_archive.*`, `system.image_analysis.restored_from_archive|...`).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read as _;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest as _, Sha256};
// Dynamic SQL here is built only from catalog names (quoted) and `$n` placeholders.
use sqlx::AssertSqlSafe;
use sqlx::Row as _;

use crate::archive::{ArchiveRule, ArchivedImage, ArchivedTag, INSERT_ARCHIVED, Transition};
use crate::objects::{ArchiveStore, archive_key};
use crate::rows::{self, ColumnInfo};
use crate::{Database, EventRecord, ImageFilter, ImageRecord, StoreError, query_err};

/// Tables that hold an image's own rows (columns `account` and `digest`): moved into the
/// archive with the image and back on restore. A migration that adds such a table adds it here.
pub const IMAGE_TABLES: &[&str] = &["images", "image_tags", "evaluations"];

/// Columns given fresh values on restore instead of the archived ones (row ids).
const FRESH_COLUMNS: &[(&str, &str)] = &[("evaluations", "id")];

const MANIFEST: &str = "archive_manifest.json.zst";
const DOCUMENT: &str = "analysis_document";
const FORMAT: &str = "anchorage-analysis-archive/1";

/// Largest archive object read back (a hostile or damaged object fails cleanly).
const MAX_OBJECT_BYTES: u64 = 4 << 30;

/// What archiving one image did (one row of `POST archives/images`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveOutcome {
    /// The image digest.
    pub digest: String,
    /// `archived` or `error` (or the status of an archive record that already existed).
    pub status: String,
    /// Why, for the user.
    pub detail: String,
}

/// What restoring did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Restored {
    /// The image is live again.
    Restored,
    /// The account has no archived image with this digest.
    NotArchived,
}

/// What one run of [`apply_archive_rules`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RulesRun {
    /// Images archived: (account, digest).
    pub archived: Vec<(String, String)>,
    /// Archived images deleted: (account, digest).
    pub deleted: Vec<(String, String)>,
    /// Transitions that failed: (account, digest, why).
    pub failed: Vec<(String, String, String)>,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    account: String,
    digest: String,
    archived_at: i64,
    /// Rows by table, each a column -> value object.
    rows: BTreeMap<String, Vec<Map<String, Value>>>,
    /// The `analyses` row without its document.
    analysis: Map<String, Value>,
    document_sha256: String,
    document_bytes: u64,
}

fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

async fn event(
    db: &Database,
    account: &str,
    kind: &str,
    level: &str,
    message: &str,
    digest: &str,
    details: Value,
) {
    let e = EventRecord::new(
        account,
        kind,
        level,
        message,
        "image_digest",
        digest,
        &details.to_string(),
    );
    if let Err(err) = db.add_event(&e).await {
        tracing::warn!(error = %err, kind, "cannot record an event");
    }
}

fn corrupt(what: &str, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: what.to_string(),
        reason: reason.into(),
    }
}

fn io(what: &str) -> impl FnOnce(std::io::Error) -> StoreError {
    let what = what.to_string();
    move |error| StoreError::Io { what, error }
}

/// The rows of `table` with `account` and `digest`, as JSON objects.
async fn image_rows(
    conn: &mut sqlx::AnyConnection,
    db: &Database,
    table: &str,
    account: &str,
    digest: &str,
) -> Result<Vec<Map<String, Value>>, StoreError> {
    let cols = rows::columns(conn, db.backend(), table).await?;
    let order = if cols.iter().any(|c| c.name == "id") {
        " ORDER BY \"id\""
    } else {
        ""
    };
    let sql = format!(
        "SELECT {} FROM {} WHERE \"account\" = $1 AND \"digest\" = $2{order}",
        rows::select_list(&cols),
        rows::quote(table)
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(account.to_string())
        .bind(digest.to_string())
        .fetch_all(&mut *conn)
        .await
        .and_then(|rs| rs.iter().map(rows::row_object).collect())
        .map_err(query_err("reading an image's rows"))
}

/// Inserts `row` into `table`: the columns the table has (less `skip`); `suffix` ends the SQL.
async fn insert_row(
    tx: &mut sqlx::AnyConnection,
    cols: &[ColumnInfo],
    table: &str,
    row: &Map<String, Value>,
    skip: &[&str],
    suffix: &str,
) -> Result<(), StoreError> {
    let used: Vec<&ColumnInfo> = cols
        .iter()
        .filter(|c| row.contains_key(&c.name) && !skip.contains(&c.name.as_str()))
        .collect();
    let sql = format!("{}{suffix}", rows::insert_sql(table, &used));
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for c in &used {
        let v = row.get(&c.name).unwrap_or(&Value::Null);
        q = rows::bind(q, c, v).map_err(|e| corrupt(&format!("archived {table} row"), e.0))?;
    }
    q.execute(&mut *tx)
        .await
        .map_err(query_err("restoring an archived row"))?;
    Ok(())
}

fn tar_entry(
    b: &mut tar::Builder<Vec<u8>>,
    name: &str,
    data: &[u8],
    mtime: i64,
) -> Result<(), StoreError> {
    let mut h = tar::Header::new_gnu();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_mtime(u64::try_from(mtime).unwrap_or(0));
    h.set_cksum();
    b.append_data(&mut h, name, data)
        .map_err(io("writing an archive object"))
}

/// Archives one analysed, active image of `account`: see the module text. Never fails as a
/// whole: the outcome says `archived` or `error` with the reason (and an event records it).
pub async fn archive_image(
    db: &Database,
    store: &ArchiveStore,
    account: &str,
    digest: &str,
    now: i64,
) -> ArchiveOutcome {
    match archive_inner(db, store, account, digest, now).await {
        Ok(outcome) => outcome,
        Err(e) => {
            tracing::warn!(account, digest, error = %e, "archiving an image failed");
            event(
                db,
                account,
                "system.analysis_archive.image_archive_failed",
                "error",
                "Analyzed image migration to archive failed",
                digest,
                json!({"error": e.to_string()}),
            )
            .await;
            ArchiveOutcome {
                digest: digest.to_string(),
                status: "error".into(),
                detail: e.to_string(),
            }
        }
    }
}

async fn archive_inner(
    db: &Database,
    store: &ArchiveStore,
    account: &str,
    digest: &str,
    now: i64,
) -> Result<ArchiveOutcome, StoreError> {
    if let Some(found) = db.archived_image(account, digest).await? {
        return Ok(ArchiveOutcome {
            digest: digest.to_string(),
            status: found.status,
            detail: "Existing record found, archiving aborted".into(),
        });
    }
    let Some(image) = db.image(account, digest).await? else {
        return Err(StoreError::State {
            reason: format!("could not locate an image with digest {digest} in account {account}"),
        });
    };
    if image.image_status != "active" || image.analysis_status != "analyzed" {
        return Err(StoreError::State {
            reason: format!(
                "an image must have analysis_status analyzed and image_status active to be \
                 archived; found {} and {}",
                image.analysis_status, image.image_status
            ),
        });
    }
    // Read the rows and the document.
    let mut conn = db
        .pool
        .acquire()
        .await
        .map_err(query_err("acquiring a connection"))?;
    let mut tables = BTreeMap::new();
    for t in IMAGE_TABLES {
        tables.insert(
            (*t).to_string(),
            image_rows(&mut conn, db, t, account, digest).await?,
        );
    }
    let cols = rows::columns(&mut conn, db.backend(), "analyses").await?;
    let sql = format!(
        "SELECT {} FROM analyses WHERE digest = $1",
        rows::select_list(&cols)
    );
    let analysis_row = sqlx::query(AssertSqlSafe(sql))
        .bind(digest.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(query_err("reading an analysis"))?;
    drop(conn);
    let Some(analysis_row) = analysis_row else {
        return Err(corrupt(
            "analysis",
            format!("no analysis document stored for {digest}"),
        ));
    };
    let document: Vec<u8> = analysis_row
        .try_get("document")
        .map_err(query_err("reading an analysis"))?;
    let mut analysis = rows::row_object(&analysis_row).map_err(query_err("reading an analysis"))?;
    analysis.remove("document");
    let manifest = Manifest {
        format: FORMAT.into(),
        account: account.to_string(),
        digest: digest.to_string(),
        archived_at: now,
        rows: tables,
        analysis,
        document_sha256: hex::encode(Sha256::digest(&document)),
        document_bytes: document.len() as u64,
    };
    let manifest_json =
        serde_json::to_vec(&manifest).map_err(|e| corrupt("archive manifest", e.to_string()))?;
    let packed = zstd::bulk::compress(&manifest_json, 3)
        .map_err(|e| corrupt("archive manifest", format!("cannot compress: {e}")))?;
    let mut b = tar::Builder::new(Vec::new());
    tar_entry(&mut b, MANIFEST, &packed, now)?;
    tar_entry(&mut b, DOCUMENT, &document, now)?;
    let object = b.into_inner().map_err(io("writing an archive object"))?;
    let size = object.len() as i64;
    let key = archive_key(account, digest);
    store.put(&key, object).await?;

    // Move: record the archive, drop the live rows, in one transaction that first checks the
    // image did not change since it was read.
    let moved = move_out(db, &image, &key, size, now).await;
    if let Err(e) = moved {
        if let Err(cleanup) = store.delete(&key).await {
            tracing::warn!(key, error = %cleanup, "cannot remove the object of a failed archive");
        }
        return Err(e);
    }
    tracing::info!(
        account,
        digest,
        bytes = size,
        store = store.describe(),
        "image archived"
    );
    event(
        db,
        account,
        "system.analysis_archive.image_archived",
        "info",
        "Analyzed image added to archive",
        digest,
        json!({"archive_size_bytes": size, "object": key}),
    )
    .await;
    Ok(ArchiveOutcome {
        digest: digest.to_string(),
        status: "archived".into(),
        detail: "Completed successfully".into(),
    })
}

async fn move_out(
    db: &Database,
    image: &ImageRecord,
    key: &str,
    size: i64,
    now: i64,
) -> Result<(), StoreError> {
    let err = || query_err("moving an image into the archive");
    let mut tx = db.pool.begin().await.map_err(err())?;
    let unchanged = sqlx::query(
        "SELECT COUNT(*) AS n FROM images WHERE account = $1 AND digest = $2 \
         AND last_updated = $3 AND analysis_status = 'analyzed' AND image_status = 'active'",
    )
    .bind(image.account.clone())
    .bind(image.digest.clone())
    .bind(image.last_updated)
    .fetch_one(&mut *tx)
    .await
    .and_then(|r| r.try_get::<i64, _>("n"))
    .map_err(err())?;
    if unchanged != 1 {
        return Err(StoreError::State {
            reason: format!(
                "image {} changed while it was being archived; try again",
                image.digest
            ),
        });
    }
    let tags: Vec<ArchivedTag> = image
        .tags
        .iter()
        .map(|t| ArchivedTag {
            registry: t.registry.clone(),
            repo: t.repo.clone(),
            tag: t.tag.clone(),
            fulltag: t.fulltag.clone(),
            tag_detected_at: t.tag_detected_at,
            created_at: t.created_at,
            last_updated: t.last_updated,
        })
        .collect();
    let tags = serde_json::to_string(&tags).map_err(|e| corrupt("tags", e.to_string()))?;
    sqlx::query(INSERT_ARCHIVED)
        .bind(image.account.clone())
        .bind(image.digest.clone())
        .bind(image.parent_digest.clone())
        .bind(image.image_id.clone())
        .bind(image.annotations.clone())
        .bind(tags)
        .bind(key.to_string())
        .bind(size)
        .bind(image.analyzed_at)
        .bind(image.created_at)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    for t in IMAGE_TABLES {
        let sql = format!(
            "DELETE FROM {} WHERE \"account\" = $1 AND \"digest\" = $2",
            rows::quote(t)
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(image.account.clone())
            .bind(image.digest.clone())
            .execute(&mut *tx)
            .await
            .map_err(err())?;
    }
    sqlx::query("DELETE FROM jobs WHERE account = $1 AND subject = $2 AND state = 'queued'")
        .bind(image.account.clone())
        .bind(image.digest.clone())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    sqlx::query(
        "DELETE FROM analyses WHERE digest = $1 AND NOT EXISTS \
         (SELECT 1 FROM images WHERE images.digest = $1)",
    )
    .bind(image.digest.clone())
    .execute(&mut *tx)
    .await
    .map_err(err())?;
    tx.commit().await.map_err(err())?;
    Ok(())
}

/// Reads an archive object: the manifest and the document bytes (checked against the
/// manifest's digest).
fn read_object(object: &[u8]) -> Result<(Manifest, Vec<u8>), StoreError> {
    let what = "archive object";
    let mut manifest = None;
    let mut document = None;
    let mut archive = tar::Archive::new(object);
    for entry in archive.entries().map_err(io("reading an archive object"))? {
        let entry = entry.map_err(io("reading an archive object"))?;
        let name = entry
            .path()
            .map_err(io("reading an archive object"))?
            .to_string_lossy()
            .to_string();
        let mut data = Vec::new();
        entry
            .take(MAX_OBJECT_BYTES)
            .read_to_end(&mut data)
            .map_err(io("reading an archive object"))?;
        match name.as_str() {
            MANIFEST => manifest = Some(data),
            DOCUMENT => document = Some(data),
            _ => {}
        }
    }
    let manifest = manifest.ok_or_else(|| corrupt(what, format!("no {MANIFEST}")))?;
    let document = document.ok_or_else(|| corrupt(what, format!("no {DOCUMENT}")))?;
    let mut json = Vec::new();
    zstd::stream::read::Decoder::new(manifest.as_slice())
        .and_then(|d| d.take(MAX_OBJECT_BYTES).read_to_end(&mut json))
        .map_err(|e| corrupt(what, format!("manifest: {e}")))?;
    let manifest: Manifest =
        serde_json::from_slice(&json).map_err(|e| corrupt(what, format!("manifest: {e}")))?;
    if manifest.format != FORMAT {
        return Err(corrupt(
            what,
            format!("format {:?} is not {FORMAT}", manifest.format),
        ));
    }
    if hex::encode(Sha256::digest(&document)) != manifest.document_sha256 {
        return Err(corrupt(
            what,
            "the analysis document does not match its digest",
        ));
    }
    Ok((manifest, document))
}

/// Brings an archived image of `account` back into the live tables (rows and the
/// byte-identical analysis document, no re-analysis) and removes it from the archive. A
/// live image with the digest is a conflict.
pub async fn restore_image(
    db: &Database,
    store: &ArchiveStore,
    account: &str,
    digest: &str,
) -> Result<Restored, StoreError> {
    let result = restore_inner(db, store, account, digest).await;
    match &result {
        Ok(Restored::Restored) => {
            event(
                db,
                account,
                "system.image_analysis.restored_from_archive",
                "info",
                "Archived image restored to active images",
                digest,
                json!({}),
            )
            .await;
        }
        Ok(_) => {}
        Err(e) => {
            event(
                db,
                account,
                "system.image_analysis.restore_from_archive_failed",
                "error",
                "Archived image restore to active images failed",
                digest,
                json!({"error": e.to_string()}),
            )
            .await;
        }
    }
    result
}

async fn restore_inner(
    db: &Database,
    store: &ArchiveStore,
    account: &str,
    digest: &str,
) -> Result<Restored, StoreError> {
    let Some(record) = db.archived_image(account, digest).await? else {
        return Ok(Restored::NotArchived);
    };
    if db.image(account, digest).await?.is_some() {
        return Err(StoreError::Conflict {
            what: format!("an active image {digest} (delete it to restore the archived one)"),
        });
    }
    let object = store.get(&record.object_key).await?.ok_or_else(|| {
        corrupt(
            "archive",
            format!("the object {} is missing from the store", record.object_key),
        )
    })?;
    let (manifest, document) = read_object(&object)?;
    if manifest.account != account || manifest.digest != digest {
        return Err(corrupt(
            "archive object",
            format!(
                "it holds {}/{}, not {account}/{digest}",
                manifest.account, manifest.digest
            ),
        ));
    }
    let err = || query_err("restoring an archived image");
    let mut tx = db.pool.begin().await.map_err(err())?;
    let backend = db.backend();
    let mut analysis = manifest.analysis.clone();
    analysis.insert(
        "document".into(),
        json!({"b64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &document)}),
    );
    let cols = rows::columns(&mut tx, backend, "analyses").await?;
    insert_row(
        &mut tx,
        &cols,
        "analyses",
        &analysis,
        &[],
        " ON CONFLICT DO NOTHING",
    )
    .await?;
    for t in IMAGE_TABLES {
        let Some(list) = manifest.rows.get(*t) else {
            continue;
        };
        let cols = rows::columns(&mut tx, backend, t).await?;
        let skip: Vec<&str> = FRESH_COLUMNS
            .iter()
            .filter(|(table, _)| table == t)
            .map(|(_, c)| *c)
            .collect();
        for row in list {
            insert_row(&mut tx, &cols, t, row, &skip, "").await?;
        }
    }
    sqlx::query("DELETE FROM archived_images WHERE account = $1 AND digest = $2")
        .bind(account.to_string())
        .bind(digest.to_string())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
    tx.commit().await.map_err(err())?;
    if let Err(e) = store.delete(&record.object_key).await {
        tracing::warn!(key = record.object_key, error = %e, "cannot remove a restored archive object");
    }
    tracing::info!(account, digest, "image restored from the archive");
    Ok(Restored::Restored)
}

/// Deletes an archived image for good (its object, then its record). `false` when the
/// account has no such archived image.
pub async fn delete_archived_image(
    db: &Database,
    store: &ArchiveStore,
    account: &str,
    digest: &str,
) -> Result<bool, StoreError> {
    let Some(record) = db.archived_image(account, digest).await? else {
        return Ok(false);
    };
    let result = async {
        store.delete(&record.object_key).await?;
        db.delete_archived_record(account, digest).await
    }
    .await;
    match &result {
        Ok(_) => {
            event(
                db,
                account,
                "system.analysis_archive.archived_image_deleted",
                "info",
                "Archived image analysis deleted",
                digest,
                json!({}),
            )
            .await;
        }
        Err(e) => {
            event(
                db,
                account,
                "system.analysis_archive.archived_image_delete_failed",
                "error",
                "Archived image analysis deletion failed",
                digest,
                json!({"error": e.to_string()}),
            )
            .await;
        }
    }
    result.map(|_| true)
}

/// Glob match: `*` any run of characters, `?` one character; an empty pattern is `*` when
/// `empty_matches_all`, else it matches only an empty value.
pub(crate) fn glob(pattern: &str, value: &str, empty_matches_all: bool) -> bool {
    if pattern.is_empty() {
        return empty_matches_all || value.is_empty();
    }
    let p: Vec<char> = pattern.chars().collect();
    let v: Vec<char> = value.chars().collect();
    let (mut pi, mut vi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while vi < v.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == v[vi]) {
            pi += 1;
            vi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, vi));
            pi += 1;
        } else if let Some((sp, sv)) = star {
            pi = sp + 1;
            vi = sv + 1;
            star = Some((sp, sv + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// One (tag, image) pair a rule looks at.
struct TagUse<'a> {
    registry: &'a str,
    repo: &'a str,
    tag: &'a str,
    detected_at: i64,
    digest: &'a str,
    /// Analysis time (live images) or archive time (archived ones).
    age_from: Option<i64>,
    /// Analysis time, for the exclusion's expiry.
    analyzed_at: Option<i64>,
}

/// The digests whose every tag some rule of `rules` matches (Anchore's merge of rule
/// results): `uses` are all (tag, image) pairs of the account's candidate set.
fn matched_digests(rules: &[&ArchiveRule], uses: &[TagUse<'_>], now: i64) -> BTreeSet<String> {
    // Tag history: for each tag, the digests newest first.
    let mut by_tag: BTreeMap<(&str, &str, &str), Vec<&TagUse<'_>>> = BTreeMap::new();
    for u in uses {
        by_tag
            .entry((u.registry, u.repo, u.tag))
            .or_default()
            .push(u);
    }
    for list in by_tag.values_mut() {
        list.sort_by(|a, b| {
            b.detected_at
                .cmp(&a.detected_at)
                .then_with(|| a.digest.cmp(b.digest))
        });
    }
    let mut matched: HashMap<&str, BTreeSet<(&str, &str, &str)>> = HashMap::new();
    for rule in rules {
        for (key, list) in &by_tag {
            let (registry, repo, tag) = *key;
            let s = &rule.selector;
            if !(glob(&s.registry, registry, true)
                && glob(&s.repository, repo, true)
                && glob(&s.tag, tag, true))
            {
                continue;
            }
            for (depth, u) in list.iter().enumerate() {
                let excluded = {
                    let x = &rule.exclude;
                    let lasts = rule.exclude_expiration_days < 0
                        || u.analyzed_at
                            .is_some_and(|a| (now - a) / 86_400 < rule.exclude_expiration_days);
                    lasts
                        && !(x.registry.is_empty() && x.repository.is_empty() && x.tag.is_empty())
                        && glob(&x.registry, registry, false)
                        && glob(&x.repository, repo, false)
                        && glob(&x.tag, tag, false)
                };
                if excluded {
                    continue;
                }
                let old_enough = rule.analysis_age_days < 0
                    || u.age_from
                        .is_some_and(|t| t < now - rule.analysis_age_days * 86_400);
                let deep_enough =
                    rule.tag_versions_newer <= 0 || depth as i64 >= rule.tag_versions_newer;
                if old_enough && deep_enough {
                    matched.entry(u.digest).or_default().insert(*key);
                }
            }
        }
    }
    // An image goes only when all its tags matched.
    let mut all_tags: HashMap<&str, BTreeSet<(&str, &str, &str)>> = HashMap::new();
    for u in uses {
        all_tags
            .entry(u.digest)
            .or_default()
            .insert((u.registry, u.repo, u.tag));
    }
    matched
        .into_iter()
        .filter(|(d, tags)| all_tags.get(d).is_some_and(|all| all == tags))
        .map(|(d, _)| d.to_string())
        .collect()
}

/// The live images of an account that `rules` (archive transitions) select.
fn archive_candidates(
    rules: &[&ArchiveRule],
    images: &[ImageRecord],
    now: i64,
) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let archivable =
        |i: &ImageRecord| i.analysis_status == "analyzed" && i.image_status == "active";
    // Global rules may cap the number of analysed images per account: the oldest go.
    for r in rules.iter().filter(|r| r.system_global) {
        if let Some(max) = r.max_images_per_account.filter(|m| *m >= 0) {
            let mut analysed: Vec<&ImageRecord> = images.iter().filter(|i| archivable(i)).collect();
            let excess = analysed
                .len()
                .saturating_sub(usize::try_from(max).unwrap_or(0));
            analysed.sort_by_key(|i| (i.analyzed_at.unwrap_or(0), i.created_at));
            out.extend(analysed.iter().take(excess).map(|i| i.digest.clone()));
        }
    }
    let uses: Vec<TagUse<'_>> = images
        .iter()
        .flat_map(|i| {
            i.tags.iter().map(move |t| TagUse {
                registry: &t.registry,
                repo: &t.repo,
                tag: &t.tag,
                detected_at: t.tag_detected_at,
                digest: &i.digest,
                age_from: i.analyzed_at,
                analyzed_at: i.analyzed_at,
            })
        })
        .collect();
    let selecting: Vec<&ArchiveRule> = rules
        .iter()
        .copied()
        .filter(|r| r.max_images_per_account.is_none())
        .collect();
    let matched = matched_digests(&selecting, &uses, now);
    out.extend(matched);
    out.retain(|d| images.iter().any(|i| &i.digest == d && archivable(i)));
    out
}

/// The archived images of an account that `rules` (delete transitions) select.
fn delete_candidates(
    rules: &[&ArchiveRule],
    archived: &[ArchivedImage],
    now: i64,
) -> BTreeSet<String> {
    let uses: Vec<TagUse<'_>> = archived
        .iter()
        .flat_map(|i| {
            i.tags.iter().map(move |t| TagUse {
                registry: &t.registry,
                repo: &t.repo,
                tag: &t.tag,
                detected_at: t.tag_detected_at,
                digest: &i.digest,
                age_from: Some(i.created_at),
                analyzed_at: i.analyzed_at,
            })
        })
        .collect();
    matched_digests(rules, &uses, now)
}

/// Applies every account's archive rules once: global then account `archive` rules move the
/// images they select into the archive (an image only when each of its tags is selected by
/// some rule, and only analysed, active images), then global and account `delete` rules delete
/// the archived images they select. Failures of single images are recorded (events, and
/// [`RulesRun::failed`]) and do not stop the run. `now` is epoch seconds. Call it from one
/// process at a time (the `archive_tasks` cycle under its lease); a second caller only finds
/// less to do.
pub async fn apply_archive_rules(
    db: &Database,
    store: &ArchiveStore,
    now: i64,
) -> Result<RulesRun, StoreError> {
    let rules = db.all_archive_rules().await?;
    let mut run = RulesRun::default();
    if rules.is_empty() {
        return Ok(run);
    }
    for account in db.accounts().await? {
        let account = account.name;
        let global_archive: Vec<&ArchiveRule> = rules
            .iter()
            .filter(|r| r.system_global && r.transition == Transition::Archive)
            .collect();
        let own_archive: Vec<&ArchiveRule> = rules
            .iter()
            .filter(|r| {
                !r.system_global && r.account == account && r.transition == Transition::Archive
            })
            .collect();
        for set in [global_archive, own_archive] {
            if set.is_empty() {
                continue;
            }
            let images = db
                .images(
                    &account,
                    &ImageFilter {
                        image_status: None,
                        ..ImageFilter::default()
                    },
                )
                .await?;
            for digest in archive_candidates(&set, &images, now) {
                let o = archive_image(db, store, &account, &digest, now).await;
                if o.status == "archived" {
                    run.archived.push((account.clone(), digest));
                } else {
                    run.failed.push((account.clone(), digest, o.detail));
                }
            }
        }
        let deleting: Vec<&ArchiveRule> = rules
            .iter()
            .filter(|r| {
                r.transition == Transition::Delete && (r.system_global || r.account == account)
            })
            .collect();
        if deleting.is_empty() {
            continue;
        }
        let archived = db.archived_images(&account).await?;
        for digest in delete_candidates(&deleting, &archived, now) {
            match delete_archived_image(db, store, &account, &digest).await {
                Ok(true) => run.deleted.push((account.clone(), digest)),
                Ok(false) => {}
                Err(e) => run.failed.push((account.clone(), digest, e.to_string())),
            }
        }
    }
    if !(run.archived.is_empty() && run.deleted.is_empty() && run.failed.is_empty()) {
        tracing::info!(
            archived = run.archived.len(),
            deleted = run.deleted.len(),
            failed = run.failed.len(),
            "archive rules applied"
        );
    }
    Ok(run)
}

/// [`apply_archive_rules`] at the current time.
pub async fn apply_archive_rules_now(
    db: &Database,
    store: &ArchiveStore,
) -> Result<RulesRun, StoreError> {
    apply_archive_rules(db, store, now_secs()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_like_fnmatch() {
        assert!(glob("*", "docker.io", true));
        assert!(glob("", "docker.io", true));
        assert!(!glob("", "docker.io", false));
        assert!(glob("", "", false));
        assert!(glob("docker.*", "docker.io", true));
        assert!(glob("*.example.com", "r.example.com", true));
        assert!(!glob("*.example.com", "example.com", true));
        assert!(glob("v1.?", "v1.2", true));
        assert!(!glob("v1.?", "v1.22", true));
        assert!(glob("team/*/app", "team/x/y/app", true));
        assert!(glob("a*b*c", "aXbYbZc", true));
        assert!(!glob("a*b*c", "aXbYbZ", true));
    }

    fn rule(age: i64, newer: i64, tag: &str) -> ArchiveRule {
        ArchiveRule {
            rule_id: "r".into(),
            account: "a".into(),
            transition: Transition::Archive,
            system_global: false,
            analysis_age_days: age,
            tag_versions_newer: newer,
            selector: crate::ImageSelector {
                registry: "*".into(),
                repository: "*".into(),
                tag: tag.into(),
            },
            exclude: crate::ImageSelector::default(),
            exclude_expiration_days: -1,
            max_images_per_account: None,
            created_at: 0,
            last_updated: 0,
        }
    }

    fn image(digest: &str, analyzed_at: i64, tags: &[(&str, i64)]) -> ImageRecord {
        ImageRecord {
            account: "a".into(),
            digest: digest.into(),
            parent_digest: digest.into(),
            image_id: String::new(),
            image_status: "active".into(),
            analysis_status: "analyzed".into(),
            failure_reason: None,
            annotations: "{}".into(),
            pull_ref: String::new(),
            dockerfile: None,
            metadata: "{}".into(),
            created_at: analyzed_at,
            last_updated: analyzed_at,
            analyzed_at: Some(analyzed_at),
            tags: tags
                .iter()
                .map(|(t, at)| crate::TagRecord {
                    registry: "r.io".into(),
                    repo: "team/app".into(),
                    tag: (*t).into(),
                    fulltag: format!("r.io/team/app:{t}"),
                    dockerfile: None,
                    created_at: *at,
                    last_updated: *at,
                    tag_detected_at: *at,
                })
                .collect(),
        }
    }

    const DAY: i64 = 86_400;

    #[test]
    fn newest_digests_of_a_tag_are_kept_and_shared_tags_protect_an_image() {
        // Synthetic tag history (edge cases of the rule merge): three digests of `latest`,
        // the oldest also tagged `stable`.
        let now = 100 * DAY;
        let images = vec![
            image(
                "d1",
                10 * DAY,
                &[("latest", 10 * DAY), ("stable", 10 * DAY)],
            ),
            image("d2", 20 * DAY, &[("latest", 20 * DAY)]),
            image("d3", 30 * DAY, &[("latest", 30 * DAY)]),
        ];
        let keep_one = rule(-1, 1, "latest");
        let got = archive_candidates(&[&keep_one], &images, now);
        // d1 also carries `stable`, which no rule selects.
        assert_eq!(got, BTreeSet::from(["d2".to_string()]));
        let all_tags = rule(-1, 1, "*");
        let got = archive_candidates(&[&all_tags], &images, now);
        // `stable` has only d1 (depth 0): kept.
        assert_eq!(got, BTreeSet::from(["d2".to_string()]));
        let two_rules = [&keep_one, &rule(-1, 0, "stable")];
        let got = archive_candidates(&two_rules, &images, now);
        assert_eq!(got, BTreeSet::from(["d1".to_string(), "d2".to_string()]));
        // Age: only analyses strictly older than 75 days (d1 at day 10, d2 at 20).
        let old = rule(75, 0, "latest");
        let got = archive_candidates(&[&old], &images, now);
        assert_eq!(got, BTreeSet::from(["d2".to_string()]));
        let none = rule(95, 0, "*");
        assert!(archive_candidates(&[&none], &images, now).is_empty());
    }

    #[test]
    fn exclusions_and_caps() {
        let now = 100 * DAY;
        let images = vec![
            image("d1", 10 * DAY, &[("v1", 10 * DAY)]),
            image("d2", 20 * DAY, &[("v2", 20 * DAY)]),
            image("d3", 99 * DAY, &[("v3", 99 * DAY)]),
        ];
        let mut r = rule(0, 0, "*");
        r.exclude = crate::ImageSelector {
            registry: "*".into(),
            repository: "*".into(),
            tag: "v1".into(),
        };
        assert_eq!(
            archive_candidates(&[&r], &images, now),
            BTreeSet::from(["d2".to_string(), "d3".to_string()])
        );
        // The exclusion lasts 30 days after analysis: d1 (90 days old) is no longer excluded.
        r.exclude_expiration_days = 30;
        assert_eq!(archive_candidates(&[&r], &images, now).len(), 3);
        let mut cap = rule(-1, 0, "");
        cap.system_global = true;
        cap.max_images_per_account = Some(1);
        assert_eq!(
            archive_candidates(&[&cap], &images, now),
            BTreeSet::from(["d1".to_string(), "d2".to_string()])
        );
    }
}
