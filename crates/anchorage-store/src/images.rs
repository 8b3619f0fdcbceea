//! Images, their tags and the analysis documents (Anchore §3.1). An image is one manifest
//! digest in one account; its analysis document is stored once per digest, zstd-compressed, and
//! shared by every account that adds the same digest.

use std::collections::HashMap;

// Dynamic SQL here is built only from constant fragments and `$n` placeholders, never
// from input (values are always bound).
use sqlx::AssertSqlSafe;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::jobs::{ANALYZE, ANALYZE_FORCE};
use crate::{Database, StoreError, query_err};

/// One tag an image carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagRecord {
    /// Registry host (`docker.io`, `127.0.0.1:5000`).
    pub registry: String,
    /// Repository (`library/alpine`).
    pub repo: String,
    /// Tag (`latest`).
    pub tag: String,
    /// `registry/repo:tag`.
    pub fulltag: String,
    /// Dockerfile given when this tag was added (base64), if any.
    pub dockerfile: Option<String>,
    /// When the record was made, epoch seconds.
    pub created_at: i64,
    /// Last change, epoch seconds.
    pub last_updated: i64,
    /// When the tag was last seen pointing at this digest, epoch seconds.
    pub tag_detected_at: i64,
}

/// An image of an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRecord {
    /// Owning account.
    pub account: String,
    /// Manifest digest (`sha256:...`).
    pub digest: String,
    /// Manifest-list digest when the tag pointed at a list, else the digest.
    pub parent_digest: String,
    /// Config digest without the algorithm (empty before analysis).
    pub image_id: String,
    /// `active` or `deleting`.
    pub image_status: String,
    /// `not_analyzed`, `analyzing`, `analyzed` or `analysis_failed`.
    pub analysis_status: String,
    /// Why the last analysis failed.
    pub failure_reason: Option<String>,
    /// Annotations (JSON object text).
    pub annotations: String,
    /// What the worker pulls (`registry/repo@sha256:...`).
    pub pull_ref: String,
    /// Dockerfile (base64) for the dockerfile gate.
    pub dockerfile: Option<String>,
    /// Image metadata after analysis (JSON object text: arch, distro, ...).
    pub metadata: String,
    /// Creation time, epoch seconds.
    pub created_at: i64,
    /// Last change, epoch seconds.
    pub last_updated: i64,
    /// When the analysis finished.
    pub analyzed_at: Option<i64>,
    /// Tags, newest first.
    pub tags: Vec<TagRecord>,
}

/// What adding an image asks for.
#[derive(Debug, Clone)]
pub struct AddImage {
    /// Account.
    pub account: String,
    /// Manifest digest.
    pub digest: String,
    /// Manifest-list digest, or the digest.
    pub parent_digest: String,
    /// What the worker pulls.
    pub pull_ref: String,
    /// The tag.
    pub tag: TagRecord,
    /// Dockerfile (base64).
    pub dockerfile: Option<String>,
    /// Annotations to merge (JSON object text).
    pub annotations: Option<String>,
    /// Analyse again even when analysed.
    pub force: bool,
    /// Most attempts of the analysis job.
    pub max_attempts: i64,
    /// Now, epoch seconds.
    pub now: i64,
}

/// What adding did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Added {
    /// The image was new to the account.
    pub created: bool,
    /// An analysis job was queued.
    pub queued: bool,
}

/// A finished analysis to record ([`Database::finish_analysis`]).
#[derive(Debug, Clone, Copy)]
pub struct FinishedAnalysis<'a> {
    /// Account of the image.
    pub account: &'a str,
    /// Manifest digest.
    pub digest: &'a str,
    /// Config digest without the algorithm.
    pub image_id: &'a str,
    /// Image metadata (JSON object text).
    pub metadata: &'a str,
    /// The analysis document (JSON); `None` when the stored one is reused.
    pub document_json: Option<&'a [u8]>,
    /// Replace a stored document of the digest (forced re-analysis).
    pub replace: bool,
    /// Now, epoch seconds.
    pub now: i64,
}

/// Which images to list.
#[derive(Debug, Clone, Default)]
pub struct ImageFilter {
    /// Only images carrying this full tag.
    pub fulltag: Option<String>,
    /// Only this image status (`None`: every status).
    pub image_status: Option<String>,
    /// Only this analysis status.
    pub analysis_status: Option<String>,
    /// Only this image id.
    pub image_id: Option<String>,
}

const IMAGE_COLUMNS: &str = "account, digest, parent_digest, image_id, image_status, \
    analysis_status, failure_reason, annotations, pull_ref, dockerfile, metadata, created_at, \
    last_updated, analyzed_at";

fn image(r: &AnyRow) -> Result<ImageRecord, sqlx::Error> {
    Ok(ImageRecord {
        account: r.try_get("account")?,
        digest: r.try_get("digest")?,
        parent_digest: r.try_get("parent_digest")?,
        image_id: r.try_get("image_id")?,
        image_status: r.try_get("image_status")?,
        analysis_status: r.try_get("analysis_status")?,
        failure_reason: r.try_get("failure_reason")?,
        annotations: r.try_get("annotations")?,
        pull_ref: r.try_get("pull_ref")?,
        dockerfile: r.try_get("dockerfile")?,
        metadata: r.try_get("metadata")?,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
        analyzed_at: r.try_get("analyzed_at")?,
        tags: Vec::new(),
    })
}

fn tag(r: &AnyRow) -> Result<(String, TagRecord), sqlx::Error> {
    Ok((
        r.try_get("digest")?,
        TagRecord {
            registry: r.try_get("registry")?,
            repo: r.try_get("repo")?,
            tag: r.try_get("tag")?,
            fulltag: r.try_get("fulltag")?,
            dockerfile: r.try_get("dockerfile")?,
            created_at: r.try_get("created_at")?,
            last_updated: r.try_get("last_updated")?,
            tag_detected_at: r.try_get("tag_detected_at")?,
        },
    ))
}

/// Merges two JSON object texts (`extra` wins); invalid text counts as empty.
fn merge_annotations(old: &str, extra: &str) -> String {
    let mut base: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(old).unwrap_or_default();
    let add: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(extra).unwrap_or_default();
    base.extend(add);
    serde_json::Value::Object(base).to_string()
}

impl Database {
    /// Adds an image (or a tag to a known image) and queues its analysis when it is new, when
    /// `force` is set or when the last analysis failed; one transaction. Idempotent.
    pub async fn add_image(&self, add: &AddImage) -> Result<Added, StoreError> {
        let err = query_err("adding an image");
        let mut tx = self.pool.begin().await.map_err(err)?;
        let existing = sqlx::query(
            "SELECT analysis_status, annotations FROM images WHERE account = $1 AND digest = $2",
        )
        .bind(add.account.clone())
        .bind(add.digest.clone())
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_err("adding an image"))?;
        let mut added = Added {
            created: false,
            queued: false,
        };
        match existing {
            None => {
                sqlx::query(
                    "INSERT INTO images (account, digest, parent_digest, image_status, \
                     analysis_status, annotations, pull_ref, dockerfile, created_at, last_updated) \
                     VALUES ($1, $2, $3, 'active', 'not_analyzed', $4, $5, $6, $7, $7)",
                )
                .bind(add.account.clone())
                .bind(add.digest.clone())
                .bind(add.parent_digest.clone())
                .bind(merge_annotations(
                    "{}",
                    add.annotations.as_deref().unwrap_or("{}"),
                ))
                .bind(add.pull_ref.clone())
                .bind(add.dockerfile.clone())
                .bind(add.now)
                .execute(&mut *tx)
                .await
                .map_err(query_err("adding an image"))?;
                added.created = true;
                added.queued = true;
            }
            Some(row) => {
                let status: String = row
                    .try_get("analysis_status")
                    .map_err(query_err("adding an image"))?;
                let old: String = row
                    .try_get("annotations")
                    .map_err(query_err("adding an image"))?;
                let again = add.force || status == "analysis_failed";
                let annotations =
                    merge_annotations(&old, add.annotations.as_deref().unwrap_or("{}"));
                let sql = if again {
                    "UPDATE images SET analysis_status = 'not_analyzed', failure_reason = NULL, \
                     image_status = 'active', annotations = $1, pull_ref = $2, \
                     dockerfile = COALESCE($3, dockerfile), last_updated = $4 \
                     WHERE account = $5 AND digest = $6"
                } else {
                    "UPDATE images SET image_status = 'active', annotations = $1, pull_ref = $2, \
                     dockerfile = COALESCE($3, dockerfile), last_updated = $4 \
                     WHERE account = $5 AND digest = $6"
                };
                sqlx::query(sql)
                    .bind(annotations)
                    .bind(add.pull_ref.clone())
                    .bind(add.dockerfile.clone())
                    .bind(add.now)
                    .bind(add.account.clone())
                    .bind(add.digest.clone())
                    .execute(&mut *tx)
                    .await
                    .map_err(query_err("adding an image"))?;
                added.queued = again;
            }
        }
        let t = &add.tag;
        sqlx::query(
            "INSERT INTO image_tags (account, digest, registry, repo, tag, fulltag, dockerfile, \
             created_at, last_updated, tag_detected_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, \
             $8, $8) ON CONFLICT (account, digest, fulltag) DO UPDATE SET last_updated = $8, \
             tag_detected_at = $8, dockerfile = COALESCE($7, image_tags.dockerfile)",
        )
        .bind(add.account.clone())
        .bind(add.digest.clone())
        .bind(t.registry.clone())
        .bind(t.repo.clone())
        .bind(t.tag.clone())
        .bind(t.fulltag.clone())
        .bind(add.dockerfile.clone())
        .bind(add.now)
        .execute(&mut *tx)
        .await
        .map_err(query_err("recording an image tag"))?;
        if added.queued {
            sqlx::query(
                "INSERT INTO jobs (kind, account, subject, state, attempts, max_attempts, \
                 created_at, updated_at) VALUES ($1, $2, $3, 'queued', 0, $4, $5, $5) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(if add.force { ANALYZE_FORCE } else { ANALYZE })
            .bind(add.account.clone())
            .bind(add.digest.clone())
            .bind(add.max_attempts)
            .bind(add.now)
            .execute(&mut *tx)
            .await
            .map_err(query_err("queueing an analysis"))?;
        }
        tx.commit().await.map_err(query_err("adding an image"))?;
        Ok(added)
    }

    /// Images of an account matching `filter`, newest first, with their tags.
    pub async fn images(
        &self,
        account: &str,
        filter: &ImageFilter,
    ) -> Result<Vec<ImageRecord>, StoreError> {
        let mut sql = format!("SELECT {IMAGE_COLUMNS} FROM images WHERE account = $1");
        let mut binds = vec![account.to_string()];
        let mut add = |column: &str, value: &Option<String>| {
            if let Some(v) = value {
                binds.push(v.clone());
                sql.push_str(&format!(" AND {column} = ${}", binds.len()));
            }
        };
        add("image_status", &filter.image_status);
        add("analysis_status", &filter.analysis_status);
        add("image_id", &filter.image_id);
        if let Some(t) = &filter.fulltag {
            binds.push(t.clone());
            sql.push_str(&format!(
                " AND digest IN (SELECT digest FROM image_tags WHERE account = $1 AND fulltag = ${})",
                binds.len()
            ));
        }
        sql.push_str(" ORDER BY created_at DESC, digest");
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for b in binds {
            q = q.bind(b);
        }
        let mut images: Vec<ImageRecord> = q
            .fetch_all(&self.pool)
            .await
            .and_then(|rows| rows.iter().map(image).collect::<Result<_, _>>())
            .map_err(query_err("listing images"))?;
        self.attach_tags(account, &mut images).await?;
        Ok(images)
    }

    /// One image of an account.
    pub async fn image(
        &self,
        account: &str,
        digest: &str,
    ) -> Result<Option<ImageRecord>, StoreError> {
        let sql = format!("SELECT {IMAGE_COLUMNS} FROM images WHERE account = $1 AND digest = $2");
        let found = sqlx::query(AssertSqlSafe(sql))
            .bind(account.to_string())
            .bind(digest.to_string())
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(image).transpose())
            .map_err(query_err("reading an image"))?;
        let Some(found) = found else { return Ok(None) };
        let mut one = vec![found];
        self.attach_tags(account, &mut one).await?;
        Ok(one.pop())
    }

    async fn attach_tags(
        &self,
        account: &str,
        images: &mut [ImageRecord],
    ) -> Result<(), StoreError> {
        if images.is_empty() {
            return Ok(());
        }
        let rows = if images.len() == 1 {
            sqlx::query(
                "SELECT * FROM image_tags WHERE account = $1 AND digest = $2 \
                 ORDER BY tag_detected_at DESC, fulltag",
            )
            .bind(account.to_string())
            .bind(images[0].digest.clone())
            .fetch_all(&self.pool)
            .await
        } else {
            sqlx::query(
                "SELECT * FROM image_tags WHERE account = $1 ORDER BY tag_detected_at DESC, fulltag",
            )
            .bind(account.to_string())
            .fetch_all(&self.pool)
            .await
        }
        .map_err(query_err("reading image tags"))?;
        let mut by_digest: HashMap<String, Vec<TagRecord>> = HashMap::new();
        for r in &rows {
            let (d, t) = tag(r).map_err(query_err("reading image tags"))?;
            by_digest.entry(d).or_default().push(t);
        }
        for i in images {
            i.tags = by_digest.remove(&i.digest).unwrap_or_default();
        }
        Ok(())
    }

    /// Deletes an image of an account (its tags, evaluations and open jobs too). The shared
    /// analysis document is removed when no account holds the digest any more.
    pub async fn delete_image(&self, account: &str, digest: &str) -> Result<bool, StoreError> {
        let err = || query_err("deleting an image");
        let mut tx = self.pool.begin().await.map_err(err())?;
        let done = sqlx::query("DELETE FROM images WHERE account = $1 AND digest = $2")
            .bind(account.to_string())
            .bind(digest.to_string())
            .execute(&mut *tx)
            .await
            .map_err(err())?;
        for sql in [
            "DELETE FROM image_tags WHERE account = $1 AND digest = $2",
            "DELETE FROM evaluations WHERE account = $1 AND digest = $2",
            "DELETE FROM jobs WHERE account = $1 AND subject = $2 AND state = 'queued'",
        ] {
            sqlx::query(sql)
                .bind(account.to_string())
                .bind(digest.to_string())
                .execute(&mut *tx)
                .await
                .map_err(err())?;
        }
        for sql in [
            "DELETE FROM match_index WHERE subject_id IN (SELECT id FROM match_subjects \
             WHERE digest = $1) AND NOT EXISTS (SELECT 1 FROM images WHERE images.digest = $1)",
            "DELETE FROM match_subjects WHERE digest = $1 AND NOT EXISTS \
             (SELECT 1 FROM images WHERE images.digest = $1)",
        ] {
            sqlx::query(sql)
                .bind(digest.to_string())
                .execute(&mut *tx)
                .await
                .map_err(err())?;
        }
        sqlx::query(
            "DELETE FROM analyses WHERE digest = $1 AND NOT EXISTS \
             (SELECT 1 FROM images WHERE images.digest = $1)",
        )
        .bind(digest.to_string())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
        tx.commit().await.map_err(err())?;
        Ok(done.rows_affected() > 0)
    }

    /// Sets the analysis status of an image (`analyzing`, ...), clearing the failure reason.
    pub async fn set_analysis_status(
        &self,
        account: &str,
        digest: &str,
        status: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE images SET analysis_status = $1, failure_reason = NULL, last_updated = $2 \
             WHERE account = $3 AND digest = $4",
        )
        .bind(status.to_string())
        .bind(now)
        .bind(account.to_string())
        .bind(digest.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("setting an analysis status"))?;
        Ok(())
    }

    /// Records a failed analysis with its reason.
    pub async fn set_analysis_failed(
        &self,
        account: &str,
        digest: &str,
        reason: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE images SET analysis_status = 'analysis_failed', failure_reason = $1, \
             last_updated = $2 WHERE account = $3 AND digest = $4",
        )
        .bind(reason.to_string())
        .bind(now)
        .bind(account.to_string())
        .bind(digest.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("recording a failed analysis"))?;
        Ok(())
    }

    /// Stores the analysis document of `digest` (once: a document already stored for the
    /// digest is kept unless `replace`) and marks the account's image analysed, in one
    /// transaction.
    pub async fn finish_analysis(&self, f: &FinishedAnalysis<'_>) -> Result<(), StoreError> {
        let FinishedAnalysis {
            account,
            digest,
            image_id,
            metadata,
            document_json,
            replace,
            now,
        } = *f;
        let err = || query_err("storing an analysis");
        let mut tx = self.pool.begin().await.map_err(err())?;
        if let Some(json) = document_json {
            let packed = zstd::bulk::compress(json, 3).map_err(|e| StoreError::Corrupt {
                what: format!("analysis of {digest}"),
                reason: format!("cannot compress: {e}"),
            })?;
            let sql = if replace {
                "INSERT INTO analyses (digest, image_id, encoding, document, raw_size, created_at) \
                 VALUES ($1, $2, 'zstd+json', $3, $4, $5) ON CONFLICT (digest) DO UPDATE SET \
                 image_id = $2, encoding = 'zstd+json', document = $3, raw_size = $4, created_at = $5"
            } else {
                "INSERT INTO analyses (digest, image_id, encoding, document, raw_size, created_at) \
                 VALUES ($1, $2, 'zstd+json', $3, $4, $5) ON CONFLICT (digest) DO NOTHING"
            };
            sqlx::query(sql)
                .bind(digest.to_string())
                .bind(image_id.to_string())
                .bind(packed)
                .bind(json.len() as i64)
                .bind(now)
                .execute(&mut *tx)
                .await
                .map_err(err())?;
        }
        sqlx::query(
            "UPDATE images SET analysis_status = 'analyzed', failure_reason = NULL, image_id = $1, \
             metadata = $2, analyzed_at = $3, last_updated = $3 WHERE account = $4 AND digest = $5",
        )
        .bind(image_id.to_string())
        .bind(metadata.to_string())
        .bind(now)
        .bind(account.to_string())
        .bind(digest.to_string())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
        tx.commit().await.map_err(err())?;
        Ok(())
    }

    /// Whether an analysis document exists for `digest`, with its image id.
    pub async fn analysis_image_id(&self, digest: &str) -> Result<Option<String>, StoreError> {
        sqlx::query("SELECT image_id FROM analyses WHERE digest = $1")
            .bind(digest.to_string())
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.map(|r| r.try_get("image_id")).transpose())
            .map_err(query_err("reading an analysis"))
    }

    /// The analysis document of `digest` (JSON), decompressed.
    pub async fn analysis_document(&self, digest: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let row =
            sqlx::query("SELECT encoding, document, raw_size FROM analyses WHERE digest = $1")
                .bind(digest.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(query_err("reading an analysis"))?;
        let Some(row) = row else { return Ok(None) };
        let corrupt = |reason: String| StoreError::Corrupt {
            what: format!("analysis of {digest}"),
            reason,
        };
        let encoding: String = row
            .try_get("encoding")
            .map_err(query_err("reading an analysis"))?;
        let packed: Vec<u8> = row
            .try_get("document")
            .map_err(query_err("reading an analysis"))?;
        let raw: i64 = row
            .try_get("raw_size")
            .map_err(query_err("reading an analysis"))?;
        if encoding != "zstd+json" {
            return Err(corrupt(format!("unknown encoding {encoding:?}")));
        }
        let capacity = usize::try_from(raw).map_err(|_| corrupt(format!("size {raw}")))?;
        zstd::bulk::decompress(&packed, capacity)
            .map(Some)
            .map_err(|e| corrupt(format!("cannot decompress: {e}")))
    }

    /// Digests a tag of an account has pointed at, newest detection first.
    pub async fn tag_history(
        &self,
        account: &str,
        fulltag: &str,
    ) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT digest FROM image_tags WHERE account = $1 AND fulltag = $2 \
             ORDER BY tag_detected_at DESC, last_updated DESC",
        )
        .bind(account.to_string())
        .bind(fulltag.to_string())
        .fetch_all(&self.pool)
        .await
        .and_then(|rows| rows.iter().map(|r| r.try_get("digest")).collect())
        .map_err(query_err("reading a tag's history"))
    }

    /// (account, full tag) pairs whose latest image is `digest`.
    pub async fn tags_currently_at(
        &self,
        digest: &str,
    ) -> Result<Vec<(String, String)>, StoreError> {
        let rows = sqlx::query(
            "SELECT t.account, t.fulltag FROM image_tags t WHERE t.digest = $1 AND \
             t.tag_detected_at = (SELECT MAX(u.tag_detected_at) FROM image_tags u \
             WHERE u.account = t.account AND u.fulltag = t.fulltag) ORDER BY t.account, t.fulltag",
        )
        .bind(digest.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("reading an image's tags"))?;
        rows.iter()
            .map(|r| Ok((r.try_get("account")?, r.try_get("fulltag")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(query_err("reading an image's tags"))
    }

    /// Number of stored analysis documents and their compressed and raw bytes.
    pub async fn analysis_totals(&self) -> Result<(i64, i64, i64), StoreError> {
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(LENGTH(document)), 0) AS BIGINT) AS packed, \
             CAST(COALESCE(SUM(raw_size), 0) AS BIGINT) AS raw FROM analyses",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(query_err("counting analyses"))?;
        let get = |k: &str| -> Result<i64, StoreError> {
            r.try_get::<i64, _>(k)
                .map_err(query_err("counting analyses"))
        };
        Ok((get("n")?, get("packed")?, get("raw")?))
    }
}
