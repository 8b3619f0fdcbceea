//! Policy bundles per account (Anchore §2.4, §3.5) and the stored evaluations (§3.6 history).

// Dynamic SQL here is built only from constant fragments and `$n` placeholders, never
// from input (values are always bound).
use sqlx::AssertSqlSafe;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Database, StoreError, query_err};

/// A stored bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyRecord {
    /// Account.
    pub account: String,
    /// Bundle id.
    pub policy_id: String,
    /// Whether it is the account's active bundle.
    pub active: bool,
    /// Bundle name.
    pub name: Option<String>,
    /// Bundle comment.
    pub description: Option<String>,
    /// The bundle JSON.
    pub bundle: String,
    /// Creation time, epoch seconds.
    pub created_at: i64,
    /// Last change, epoch seconds.
    pub last_updated: i64,
}

/// A stored evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationRecord {
    /// Row id.
    pub id: i64,
    /// Account.
    pub account: String,
    /// Image digest.
    pub digest: String,
    /// Full tag evaluated.
    pub tag: String,
    /// Bundle id.
    pub policy_id: String,
    /// `go`, `warn` or `stop`.
    pub final_action: String,
    /// `pass` or `fail`.
    pub status: String,
    /// The evaluation document (JSON).
    pub document: String,
    /// When, epoch seconds.
    pub created_at: i64,
}

const POLICY_COLUMNS: &str =
    "account, policy_id, active, name, description, bundle, created_at, last_updated";

fn policy(r: &AnyRow) -> Result<PolicyRecord, sqlx::Error> {
    Ok(PolicyRecord {
        account: r.try_get("account")?,
        policy_id: r.try_get("policy_id")?,
        active: r.try_get::<i64, _>("active")? != 0,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        bundle: r.try_get("bundle")?,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

fn evaluation(r: &AnyRow) -> Result<EvaluationRecord, sqlx::Error> {
    Ok(EvaluationRecord {
        id: r.try_get("id")?,
        account: r.try_get("account")?,
        digest: r.try_get("digest")?,
        tag: r.try_get("tag")?,
        policy_id: r.try_get("policy_id")?,
        final_action: r.try_get("final_action")?,
        status: r.try_get("status")?,
        document: r.try_get("document")?,
        created_at: r.try_get("created_at")?,
    })
}

impl Database {
    /// Stores a bundle (replacing the content of one with the same id, keeping its active
    /// flag); a new bundle is active only when `active` is set.
    pub async fn put_policy(&self, p: &PolicyRecord) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO policies (account, policy_id, active, name, description, bundle, \
             created_at, last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (account, policy_id) DO UPDATE SET name = $4, description = $5, \
             bundle = $6, last_updated = $8",
        )
        .bind(p.account.clone())
        .bind(p.policy_id.clone())
        .bind(i64::from(p.active))
        .bind(p.name.clone())
        .bind(p.description.clone())
        .bind(p.bundle.clone())
        .bind(p.created_at)
        .bind(p.last_updated)
        .execute(&self.pool)
        .await
        .map_err(query_err("storing a policy bundle"))?;
        Ok(())
    }

    /// Every bundle of an account, oldest first.
    pub async fn policies(&self, account: &str) -> Result<Vec<PolicyRecord>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLUMNS} FROM policies WHERE account = $1 ORDER BY created_at, policy_id"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(account.to_string())
            .fetch_all(&self.pool)
            .await
            .and_then(|rows| rows.iter().map(policy).collect())
            .map_err(query_err("listing policy bundles"))
    }

    /// One bundle.
    pub async fn policy(
        &self,
        account: &str,
        policy_id: &str,
    ) -> Result<Option<PolicyRecord>, StoreError> {
        let sql =
            format!("SELECT {POLICY_COLUMNS} FROM policies WHERE account = $1 AND policy_id = $2");
        sqlx::query(AssertSqlSafe(sql))
            .bind(account.to_string())
            .bind(policy_id.to_string())
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(policy).transpose())
            .map_err(query_err("reading a policy bundle"))
    }

    /// The active bundle of an account.
    pub async fn active_policy(&self, account: &str) -> Result<Option<PolicyRecord>, StoreError> {
        let sql = format!(
            "SELECT {POLICY_COLUMNS} FROM policies WHERE account = $1 AND active = 1 LIMIT 1"
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(account.to_string())
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(policy).transpose())
            .map_err(query_err("reading the active policy bundle"))
    }

    /// Makes one bundle the account's only active one; false when it does not exist.
    pub async fn activate_policy(
        &self,
        account: &str,
        policy_id: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let err = || query_err("activating a policy bundle");
        let mut tx = self.pool.begin().await.map_err(err())?;
        let done = sqlx::query(
            "UPDATE policies SET active = 1, last_updated = $1 WHERE account = $2 AND policy_id = $3",
        )
        .bind(now)
        .bind(account.to_string())
        .bind(policy_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(
            "UPDATE policies SET active = 0, last_updated = $1 \
             WHERE account = $2 AND policy_id <> $3 AND active = 1",
        )
        .bind(now)
        .bind(account.to_string())
        .bind(policy_id.to_string())
        .execute(&mut *tx)
        .await
        .map_err(err())?;
        tx.commit().await.map_err(err())?;
        Ok(true)
    }

    /// Deletes a bundle; false when it does not exist.
    pub async fn delete_policy(&self, account: &str, policy_id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM policies WHERE account = $1 AND policy_id = $2")
            .bind(account.to_string())
            .bind(policy_id.to_string())
            .execute(&self.pool)
            .await
            .map_err(query_err("deleting a policy bundle"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Stores an evaluation; returns its id.
    pub async fn add_evaluation(&self, e: &EvaluationRecord) -> Result<i64, StoreError> {
        let row = sqlx::query(
            "INSERT INTO evaluations (account, digest, tag, policy_id, final_action, status, \
             document, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(e.account.clone())
        .bind(e.digest.clone())
        .bind(e.tag.clone())
        .bind(e.policy_id.clone())
        .bind(e.final_action.clone())
        .bind(e.status.clone())
        .bind(e.document.clone())
        .bind(e.created_at)
        .fetch_one(&self.pool)
        .await
        .map_err(query_err("storing an evaluation"))?;
        row.try_get("id")
            .map_err(query_err("storing an evaluation"))
    }

    /// The newest evaluation of a tag of an account, whatever image it was.
    pub async fn latest_evaluation_for_tag(
        &self,
        account: &str,
        tag: &str,
    ) -> Result<Option<EvaluationRecord>, StoreError> {
        sqlx::query(
            "SELECT * FROM evaluations WHERE account = $1 AND tag = $2 ORDER BY id DESC LIMIT 1",
        )
        .bind(account.to_string())
        .bind(tag.to_string())
        .fetch_optional(&self.pool)
        .await
        .and_then(|r| r.as_ref().map(evaluation).transpose())
        .map_err(query_err("reading evaluations"))
    }

    /// Evaluations of an image for a tag, newest first (`limit` rows at most).
    pub async fn evaluations(
        &self,
        account: &str,
        digest: &str,
        tag: &str,
        limit: i64,
    ) -> Result<Vec<EvaluationRecord>, StoreError> {
        sqlx::query(
            "SELECT * FROM evaluations WHERE account = $1 AND digest = $2 AND tag = $3 \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(account.to_string())
        .bind(digest.to_string())
        .bind(tag.to_string())
        .bind(limit)
        .fetch_all(&self.pool)
        .await
        .and_then(|rows| rows.iter().map(evaluation).collect())
        .map_err(query_err("reading evaluations"))
    }
}
