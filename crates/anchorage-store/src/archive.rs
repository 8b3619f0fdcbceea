//! The analysis archive's records (Anchore §2.12): archived images (moved out of the live
//! tables; their rows and analysis document are in one object of the archive store) and the
//! transition rules (`archive` live images, `delete` archived ones). Moving an image in and
//! out is in `lifecycle.rs`.

use serde::{Deserialize, Serialize};
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Database, StoreError, query_err};

/// One tag an archived image carried.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedTag {
    /// Registry host.
    pub registry: String,
    /// Repository.
    pub repo: String,
    /// Tag.
    pub tag: String,
    /// `registry/repo:tag`.
    pub fulltag: String,
    /// When the tag was last seen on this digest, epoch seconds.
    pub tag_detected_at: i64,
    /// When the tag record was made, epoch seconds.
    pub created_at: i64,
    /// Last change of the tag record, epoch seconds.
    pub last_updated: i64,
}

/// An image in the analysis archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedImage {
    /// Account.
    pub account: String,
    /// Manifest digest.
    pub digest: String,
    /// Manifest-list digest, or the digest.
    pub parent_digest: String,
    /// Config digest without the algorithm.
    pub image_id: String,
    /// `archived` (Anchore also knows `archiving`, `deleting`, `deleted`).
    pub status: String,
    /// Annotations (JSON object text).
    pub annotations: String,
    /// Tags the image carried when archived.
    pub tags: Vec<ArchivedTag>,
    /// Key of the object in the archive store.
    pub object_key: String,
    /// Size of that object.
    pub archive_size_bytes: i64,
    /// When the image was analysed.
    pub analyzed_at: Option<i64>,
    /// When the image was added.
    pub image_created_at: i64,
    /// When it was archived (Anchore's `created_at` of the archive record).
    pub created_at: i64,
    /// Last change.
    pub last_updated: i64,
}

/// What a transition rule does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transition {
    /// Move matching live images into the archive.
    Archive,
    /// Delete matching archived images for good.
    Delete,
}

impl Transition {
    /// `archive` or `delete`.
    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Archive => "archive",
            Transition::Delete => "delete",
        }
    }

    /// Parses `archive` or `delete`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "archive" => Some(Transition::Archive),
            "delete" => Some(Transition::Delete),
            _ => None,
        }
    }
}

/// Registry, repository and tag patterns (`*` any run of characters, `?` one character).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageSelector {
    /// Registry pattern (`docker.io`, `*.example.com`).
    pub registry: String,
    /// Repository pattern (`library/*`).
    pub repository: String,
    /// Tag pattern (`v1.*`).
    pub tag: String,
}

/// An archive transition rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveRule {
    /// Id (32 hex digits).
    pub rule_id: String,
    /// Owning account.
    pub account: String,
    /// What it does.
    pub transition: Transition,
    /// Applies to every account (admin only).
    pub system_global: bool,
    /// Matches analyses (archive) or archive records (delete) strictly older than this many
    /// days; negative: any age.
    pub analysis_age_days: i64,
    /// Matches an image only when at least this many newer digests of the same tag exist
    /// (the newest N are kept); 0 or negative: any.
    pub tag_versions_newer: i64,
    /// Which tags the rule looks at (an empty pattern is `*`).
    pub selector: ImageSelector,
    /// Tags never transitioned while the exclusion lasts (all three patterns must match; an
    /// empty pattern matches only an empty value).
    pub exclude: ImageSelector,
    /// Days after analysis that the exclusion lasts; -1: for ever.
    pub exclude_expiration_days: i64,
    /// Global rules only: archive an account's oldest analysed images beyond this count.
    pub max_images_per_account: Option<i64>,
    /// Creation, epoch seconds.
    pub created_at: i64,
    /// Last change, epoch seconds.
    pub last_updated: i64,
}

/// Totals of an account's archive (`GET archives`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ArchiveSummary {
    /// Archived images.
    pub image_count: i64,
    /// Tags of archived images.
    pub tag_count: i64,
    /// Bytes in the archive store.
    pub total_bytes: i64,
    /// Newest archive change.
    pub last_updated: Option<i64>,
    /// Rules of the account.
    pub rule_count: i64,
    /// Newest rule change.
    pub rules_last_updated: Option<i64>,
}

/// A new archived-image record (written by the lifecycle in the move's transaction).
pub(crate) const INSERT_ARCHIVED: &str = "INSERT INTO archived_images (account, digest, \
    parent_digest, image_id, status, annotations, tags, object_key, archive_size_bytes, \
    analyzed_at, image_created_at, created_at, last_updated) \
    VALUES ($1, $2, $3, $4, 'archived', $5, $6, $7, $8, $9, $10, $11, $11)";

fn archived(r: &AnyRow) -> Result<ArchivedImage, sqlx::Error> {
    let tags: String = r.try_get("tags")?;
    Ok(ArchivedImage {
        account: r.try_get("account")?,
        digest: r.try_get("digest")?,
        parent_digest: r.try_get("parent_digest")?,
        image_id: r.try_get("image_id")?,
        status: r.try_get("status")?,
        annotations: r.try_get("annotations")?,
        tags: serde_json::from_str(&tags).map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
        object_key: r.try_get("object_key")?,
        archive_size_bytes: r.try_get("archive_size_bytes")?,
        analyzed_at: r.try_get("analyzed_at")?,
        image_created_at: r.try_get("image_created_at")?,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

fn rule(r: &AnyRow) -> Result<ArchiveRule, sqlx::Error> {
    let transition: String = r.try_get("transition")?;
    Ok(ArchiveRule {
        rule_id: r.try_get("rule_id")?,
        account: r.try_get("account")?,
        transition: Transition::parse(&transition).ok_or_else(|| {
            sqlx::Error::Decode(format!("unknown transition {transition:?}").into())
        })?,
        system_global: r.try_get::<i64, _>("system_global")? != 0,
        analysis_age_days: r.try_get("analysis_age_days")?,
        tag_versions_newer: r.try_get("tag_versions_newer")?,
        selector: ImageSelector {
            registry: r.try_get("selector_registry")?,
            repository: r.try_get("selector_repository")?,
            tag: r.try_get("selector_tag")?,
        },
        exclude: ImageSelector {
            registry: r.try_get("exclude_registry")?,
            repository: r.try_get("exclude_repository")?,
            tag: r.try_get("exclude_tag")?,
        },
        exclude_expiration_days: r.try_get("exclude_expiration_days")?,
        max_images_per_account: r.try_get("max_images_per_account")?,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

impl Database {
    /// The archived images of an account, newest archive first.
    pub async fn archived_images(&self, account: &str) -> Result<Vec<ArchivedImage>, StoreError> {
        sqlx::query(
            "SELECT * FROM archived_images WHERE account = $1 ORDER BY created_at DESC, digest",
        )
        .bind(account.to_string())
        .fetch_all(&self.pool)
        .await
        .and_then(|rows| rows.iter().map(archived).collect())
        .map_err(query_err("listing archived images"))
    }

    /// One archived image of an account.
    pub async fn archived_image(
        &self,
        account: &str,
        digest: &str,
    ) -> Result<Option<ArchivedImage>, StoreError> {
        sqlx::query("SELECT * FROM archived_images WHERE account = $1 AND digest = $2")
            .bind(account.to_string())
            .bind(digest.to_string())
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(archived).transpose())
            .map_err(query_err("reading an archived image"))
    }

    /// Removes an archived-image record (its object is deleted by the caller).
    pub async fn delete_archived_record(
        &self,
        account: &str,
        digest: &str,
    ) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM archived_images WHERE account = $1 AND digest = $2")
            .bind(account.to_string())
            .bind(digest.to_string())
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected() > 0)
            .map_err(query_err("deleting an archived image"))
    }

    /// Totals of an account's archive and rules.
    pub async fn archive_summary(&self, account: &str) -> Result<ArchiveSummary, StoreError> {
        let err = || query_err("summarizing the archive");
        let images = self.archived_images(account).await?;
        let r = sqlx::query(
            "SELECT COUNT(*) AS n, MAX(last_updated) AS newest FROM archive_rules \
             WHERE account = $1",
        )
        .bind(account.to_string())
        .fetch_one(&self.pool)
        .await
        .map_err(err())?;
        Ok(ArchiveSummary {
            image_count: images.len() as i64,
            tag_count: images.iter().map(|i| i.tags.len() as i64).sum(),
            total_bytes: images.iter().map(|i| i.archive_size_bytes).sum(),
            last_updated: images.iter().map(|i| i.last_updated).max(),
            rule_count: r.try_get("n").map_err(err())?,
            rules_last_updated: r.try_get("newest").map_err(err())?,
        })
    }

    /// Stores a new rule.
    pub async fn add_archive_rule(&self, r: &ArchiveRule) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO archive_rules (rule_id, account, transition, system_global, \
             analysis_age_days, tag_versions_newer, selector_registry, selector_repository, \
             selector_tag, exclude_registry, exclude_repository, exclude_tag, \
             exclude_expiration_days, max_images_per_account, created_at, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(r.rule_id.clone())
        .bind(r.account.clone())
        .bind(r.transition.as_str())
        .bind(i64::from(r.system_global))
        .bind(r.analysis_age_days)
        .bind(r.tag_versions_newer)
        .bind(r.selector.registry.clone())
        .bind(r.selector.repository.clone())
        .bind(r.selector.tag.clone())
        .bind(r.exclude.registry.clone())
        .bind(r.exclude.repository.clone())
        .bind(r.exclude.tag.clone())
        .bind(r.exclude_expiration_days)
        .bind(r.max_images_per_account)
        .bind(r.created_at)
        .bind(r.last_updated)
        .execute(&self.pool)
        .await
        .map_err(query_err("adding an archive rule"))?;
        Ok(())
    }

    /// The rules an account sees: its own, and the global ones when `with_global`.
    pub async fn archive_rules(
        &self,
        account: &str,
        with_global: bool,
    ) -> Result<Vec<ArchiveRule>, StoreError> {
        sqlx::query(
            "SELECT * FROM archive_rules WHERE account = $1 OR ($2 = 1 AND system_global = 1) \
             ORDER BY created_at, rule_id",
        )
        .bind(account.to_string())
        .bind(i64::from(with_global))
        .fetch_all(&self.pool)
        .await
        .and_then(|rows| rows.iter().map(rule).collect())
        .map_err(query_err("listing archive rules"))
    }

    /// Every rule of every account.
    pub async fn all_archive_rules(&self) -> Result<Vec<ArchiveRule>, StoreError> {
        sqlx::query("SELECT * FROM archive_rules ORDER BY created_at, rule_id")
            .fetch_all(&self.pool)
            .await
            .and_then(|rows| rows.iter().map(rule).collect())
            .map_err(query_err("listing archive rules"))
    }

    /// One rule the account sees (its own or a global one).
    pub async fn archive_rule(
        &self,
        account: &str,
        rule_id: &str,
    ) -> Result<Option<ArchiveRule>, StoreError> {
        sqlx::query(
            "SELECT * FROM archive_rules WHERE rule_id = $1 AND (account = $2 OR system_global = 1)",
        )
        .bind(rule_id.to_string())
        .bind(account.to_string())
        .fetch_optional(&self.pool)
        .await
        .and_then(|r| r.as_ref().map(rule).transpose())
        .map_err(query_err("reading an archive rule"))
    }

    /// Deletes a rule of the account.
    pub async fn delete_archive_rule(
        &self,
        account: &str,
        rule_id: &str,
    ) -> Result<bool, StoreError> {
        sqlx::query("DELETE FROM archive_rules WHERE rule_id = $1 AND account = $2")
            .bind(rule_id.to_string())
            .bind(account.to_string())
            .execute(&self.pool)
            .await
            .map(|r| r.rows_affected() > 0)
            .map_err(query_err("deleting an archive rule"))
    }
}
