//! The re-match index: for each stored analysis, its match input (the analysis without file
//! records, compressed), the package names the matcher looks up, and its current findings.
//! A feed change names the packages it touched; [`Database::subjects_for_names`] answers which
//! stored images hold one of them, so only those are matched again. Also the queue of feed
//! changes waiting to be re-matched.

// Dynamic SQL here is built only from constant fragments and `$n` placeholders, never
// from input (values are always bound).
use sqlx::AssertSqlSafe;
use sqlx::Row as _;

use crate::{Database, StoreError, query_err};

/// An indexed analysis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchSubject {
    /// Row id.
    pub id: i64,
    /// Image digest.
    pub digest: String,
}

/// A feed change waiting to be re-matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedChange {
    /// Row id.
    pub id: i64,
    /// Package names whose advisories changed; `None`: unknown, re-match everything.
    pub names: Option<Vec<String>>,
    /// Epoch seconds.
    pub created_at: i64,
}

fn pack(what: &str, bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    zstd::stream::encode_all(bytes, 3).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        reason: format!("cannot compress: {e}"),
    })
}

fn unpack(what: &str, bytes: &[u8]) -> Result<Vec<u8>, StoreError> {
    zstd::stream::decode_all(bytes).map_err(|e| StoreError::Corrupt {
        what: what.to_string(),
        reason: format!("cannot decompress: {e}"),
    })
}

/// Rows per multi-row statement (well under both backends' parameter limits).
const CHUNK: usize = 400;

impl Database {
    /// Stores (or replaces) the match input of `digest` (JSON), the names the matcher looks
    /// up for it and, when known, its findings (JSON), in one transaction.
    pub async fn index_analysis(
        &self,
        digest: &str,
        input_json: &[u8],
        names: &[String],
        findings_json: Option<&[u8]>,
        now: i64,
    ) -> Result<i64, StoreError> {
        let err = || query_err("indexing an analysis");
        let input = pack(&format!("match input of {digest}"), input_json)?;
        let findings = findings_json
            .map(|f| pack(&format!("findings of {digest}"), f))
            .transpose()?;
        let mut tx = self.pool.begin().await.map_err(err())?;
        let row = sqlx::query(
            "INSERT INTO match_subjects (digest, input, findings, matched_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (digest) DO UPDATE SET input = $2, findings = $3, matched_at = $4 \
             RETURNING id",
        )
        .bind(digest.to_string())
        .bind(input)
        .bind(findings)
        .bind(findings_json.map(|_| now))
        .fetch_one(&mut *tx)
        .await
        .map_err(err())?;
        let id: i64 = row.try_get("id").map_err(err())?;
        sqlx::query("DELETE FROM match_index WHERE subject_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(err())?;
        let mut names: Vec<&String> = names.iter().collect();
        names.sort_unstable();
        names.dedup();
        for chunk in names.chunks(CHUNK) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, $1)", i + 2))
                .collect();
            let sql = format!(
                "INSERT INTO match_index (name, subject_id) VALUES {}",
                values.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(id);
            for n in chunk {
                q = q.bind((*n).clone());
            }
            q.execute(&mut *tx).await.map_err(err())?;
        }
        tx.commit().await.map_err(err())?;
        Ok(id)
    }

    /// The indexed analyses holding at least one of `names`.
    pub async fn subjects_for_names(
        &self,
        names: &[String],
    ) -> Result<Vec<MatchSubject>, StoreError> {
        let mut out: Vec<MatchSubject> = Vec::new();
        for chunk in names.chunks(CHUNK) {
            let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT DISTINCT s.id, s.digest FROM match_index i \
                 JOIN match_subjects s ON s.id = i.subject_id WHERE i.name IN ({})",
                params.join(", ")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for n in chunk {
                q = q.bind(n.clone());
            }
            let rows = q
                .fetch_all(&self.pool)
                .await
                .map_err(query_err("looking up the re-match index"))?;
            for r in rows {
                out.push(MatchSubject {
                    id: r.try_get("id").map_err(query_err("reading the index"))?,
                    digest: r
                        .try_get("digest")
                        .map_err(query_err("reading the index"))?,
                });
            }
        }
        out.sort_by_key(|s| s.id);
        out.dedup_by_key(|s| s.id);
        Ok(out)
    }

    /// Every indexed analysis.
    pub async fn all_subjects(&self) -> Result<Vec<MatchSubject>, StoreError> {
        let rows = sqlx::query("SELECT id, digest FROM match_subjects ORDER BY id")
            .fetch_all(&self.pool)
            .await
            .map_err(query_err("listing indexed analyses"))?;
        rows.iter()
            .map(|r| {
                Ok(MatchSubject {
                    id: r.try_get("id")?,
                    digest: r.try_get("digest")?,
                })
            })
            .collect::<Result<_, sqlx::Error>>()
            .map_err(query_err("listing indexed analyses"))
    }

    /// The match input (JSON) and current findings (JSON, when matched) of an indexed
    /// analysis.
    pub async fn match_subject(
        &self,
        digest: &str,
    ) -> Result<Option<(Vec<u8>, Option<Vec<u8>>)>, StoreError> {
        let row = sqlx::query("SELECT input, findings FROM match_subjects WHERE digest = $1")
            .bind(digest.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(query_err("reading a match input"))?;
        let Some(row) = row else { return Ok(None) };
        let input: Vec<u8> = row
            .try_get("input")
            .map_err(query_err("reading a match input"))?;
        let findings: Option<Vec<u8>> = row
            .try_get("findings")
            .map_err(query_err("reading a match input"))?;
        Ok(Some((
            unpack(&format!("match input of {digest}"), &input)?,
            findings
                .map(|f| unpack(&format!("findings of {digest}"), &f))
                .transpose()?,
        )))
    }

    /// Replaces the findings (JSON) of an indexed analysis.
    pub async fn set_findings(
        &self,
        digest: &str,
        findings_json: &[u8],
        now: i64,
    ) -> Result<(), StoreError> {
        let packed = pack(&format!("findings of {digest}"), findings_json)?;
        sqlx::query("UPDATE match_subjects SET findings = $1, matched_at = $2 WHERE digest = $3")
            .bind(packed)
            .bind(now)
            .bind(digest.to_string())
            .execute(&self.pool)
            .await
            .map_err(query_err("storing findings"))?;
        Ok(())
    }

    /// Digests of stored analyses not yet in the index (stored before it existed, or by a
    /// process that died before indexing), at most `limit`.
    pub async fn unindexed_analyses(&self, limit: i64) -> Result<Vec<String>, StoreError> {
        sqlx::query(
            "SELECT a.digest FROM analyses a WHERE NOT EXISTS \
             (SELECT 1 FROM match_subjects s WHERE s.digest = a.digest) ORDER BY a.digest LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .and_then(|rows| rows.iter().map(|r| r.try_get("digest")).collect())
        .map_err(query_err("listing unindexed analyses"))
    }

    /// Records a feed change to re-match (`None`: everything).
    pub async fn add_feed_change(
        &self,
        names: Option<&[String]>,
        now: i64,
    ) -> Result<i64, StoreError> {
        let text = names.map(|n| serde_json::Value::from(n.to_vec()).to_string());
        let row = sqlx::query(
            "INSERT INTO feed_changes (names, created_at) VALUES ($1, $2) RETURNING id",
        )
        .bind(text)
        .bind(now)
        .fetch_one(&self.pool)
        .await
        .map_err(query_err("recording a feed change"))?;
        row.try_get("id")
            .map_err(query_err("recording a feed change"))
    }

    /// Feed changes not yet re-matched, oldest first.
    pub async fn pending_feed_changes(&self) -> Result<Vec<FeedChange>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, names, created_at FROM feed_changes WHERE done_at IS NULL ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(query_err("reading feed changes"))?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let id: i64 = r.try_get("id").map_err(query_err("reading feed changes"))?;
            let names: Option<String> = r
                .try_get("names")
                .map_err(query_err("reading feed changes"))?;
            let names = match names {
                None => None,
                Some(t) => Some(serde_json::from_str::<Vec<String>>(&t).map_err(|e| {
                    StoreError::Corrupt {
                        what: format!("feed change {id}"),
                        reason: e.to_string(),
                    }
                })?),
            };
            out.push(FeedChange {
                id,
                names,
                created_at: r
                    .try_get("created_at")
                    .map_err(query_err("reading feed changes"))?,
            });
        }
        Ok(out)
    }

    /// Marks feed changes re-matched.
    pub async fn finish_feed_changes(&self, ids: &[i64], now: i64) -> Result<(), StoreError> {
        for id in ids {
            sqlx::query("UPDATE feed_changes SET done_at = $1 WHERE id = $2")
                .bind(now)
                .bind(*id)
                .execute(&self.pool)
                .await
                .map_err(query_err("finishing feed changes"))?;
        }
        Ok(())
    }
}
