//! Subscriptions (Anchore §6.1): per tag `tag_update`, `policy_eval`, `vuln_update`,
//! `analysis_update`; per repository `repo_update`. Ids are deterministic (lower-case hex MD5 of
//! `account+key+type`), so creating one again is idempotent.

use md5::Digest as _;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Database, StoreError, query_err};

/// The tag-level subscription types, in the order Anchore creates them.
pub const TAG_SUBSCRIPTION_TYPES: [&str; 4] = [
    "tag_update",
    "policy_eval",
    "vuln_update",
    "analysis_update",
];
/// The repository-level subscription type.
pub const REPO_UPDATE: &str = "repo_update";
/// Every subscription type.
pub const SUBSCRIPTION_TYPES: [&str; 5] = [
    "tag_update",
    "policy_eval",
    "vuln_update",
    "analysis_update",
    REPO_UPDATE,
];

/// A stored subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// Deterministic id ([`subscription_id`]).
    pub subscription_id: String,
    /// Account (`userId`).
    pub account: String,
    /// Type.
    pub subscription_type: String,
    /// Key: a full tag, or `registry/repo` for `repo_update`.
    pub subscription_key: String,
    /// Value (JSON text for `repo_update`), if any.
    pub subscription_value: Option<String>,
    /// Active.
    pub active: bool,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds.
    pub last_updated: i64,
}

/// Which subscriptions to list.
#[derive(Debug, Clone, Default)]
pub struct SubscriptionFilter {
    /// Only this account (`None`: every account, for the watchers).
    pub account: Option<String>,
    /// Only this type.
    pub subscription_type: Option<String>,
    /// Only this key.
    pub subscription_key: Option<String>,
    /// Only active (`Some(true)`) or inactive ones.
    pub active: Option<bool>,
}

/// Anchore's subscription id: lower-case hex MD5 of `account+key+type`.
pub fn subscription_id(account: &str, key: &str, kind: &str) -> String {
    let mut h = md5::Md5::new();
    h.update(format!("{account}+{key}+{kind}").as_bytes());
    hex::encode(h.finalize())
}

fn subscription(r: &AnyRow) -> Result<Subscription, sqlx::Error> {
    Ok(Subscription {
        subscription_id: r.try_get("subscription_id")?,
        account: r.try_get("account")?,
        subscription_type: r.try_get("subscription_type")?,
        subscription_key: r.try_get("subscription_key")?,
        subscription_value: r.try_get("subscription_value")?,
        active: r.try_get::<i64, _>("active")? != 0,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

impl Database {
    /// Creates a subscription, or, when it exists, activates it if `active` is set (an add
    /// never deactivates) and replaces its value if one is given. Returns the stored record.
    pub async fn ensure_subscription(
        &self,
        account: &str,
        kind: &str,
        key: &str,
        value: Option<&str>,
        active: bool,
        now: i64,
    ) -> Result<Subscription, StoreError> {
        let id = subscription_id(account, key, kind);
        sqlx::query(
            "INSERT INTO subscriptions (subscription_id, account, subscription_type, \
             subscription_key, subscription_value, active, created_at, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (subscription_id) DO UPDATE SET \
             active = CASE WHEN $6 = 1 THEN 1 ELSE subscriptions.active END, \
             subscription_value = COALESCE($5, subscriptions.subscription_value), \
             last_updated = $7",
        )
        .bind(id.clone())
        .bind(account.to_string())
        .bind(kind.to_string())
        .bind(key.to_string())
        .bind(value.map(str::to_string))
        .bind(i64::from(active))
        .bind(now)
        .execute(&self.pool)
        .await
        .map_err(query_err("storing a subscription"))?;
        self.subscription(account, &id)
            .await?
            .ok_or_else(|| StoreError::Corrupt {
                what: "subscription".into(),
                reason: "not found right after it was stored".into(),
            })
    }

    /// One subscription of an account.
    pub async fn subscription(
        &self,
        account: &str,
        id: &str,
    ) -> Result<Option<Subscription>, StoreError> {
        sqlx::query("SELECT * FROM subscriptions WHERE account = $1 AND subscription_id = $2")
            .bind(account.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(subscription).transpose())
            .map_err(query_err("reading a subscription"))
    }

    /// Subscriptions matching a filter, by type then key.
    pub async fn subscriptions(
        &self,
        f: &SubscriptionFilter,
    ) -> Result<Vec<Subscription>, StoreError> {
        sqlx::query(
            "SELECT * FROM subscriptions WHERE ($1 IS NULL OR account = $1) \
             AND ($2 IS NULL OR subscription_type = $2) AND ($3 IS NULL OR subscription_key = $3) \
             AND ($4 IS NULL OR active = $4) \
             ORDER BY account, subscription_type, subscription_key",
        )
        .bind(f.account.clone())
        .bind(f.subscription_type.clone())
        .bind(f.subscription_key.clone())
        .bind(f.active.map(i64::from))
        .fetch_all(&self.pool)
        .await
        .and_then(|rows| rows.iter().map(subscription).collect())
        .map_err(query_err("listing subscriptions"))
    }

    /// Sets a subscription's active flag (and value, when given); `None` when it does not
    /// exist.
    pub async fn update_subscription(
        &self,
        account: &str,
        id: &str,
        active: Option<bool>,
        value: Option<&str>,
        now: i64,
    ) -> Result<Option<Subscription>, StoreError> {
        sqlx::query(
            "UPDATE subscriptions SET active = COALESCE($1, active), \
             subscription_value = COALESCE($2, subscription_value), last_updated = $3 \
             WHERE account = $4 AND subscription_id = $5",
        )
        .bind(active.map(i64::from))
        .bind(value.map(str::to_string))
        .bind(now)
        .bind(account.to_string())
        .bind(id.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("updating a subscription"))?;
        self.subscription(account, id).await
    }

    /// Deletes a subscription; false when it does not exist.
    pub async fn delete_subscription(&self, account: &str, id: &str) -> Result<bool, StoreError> {
        let done =
            sqlx::query("DELETE FROM subscriptions WHERE account = $1 AND subscription_id = $2")
                .bind(account.to_string())
                .bind(id.to_string())
                .execute(&self.pool)
                .await
                .map_err(query_err("deleting a subscription"))?;
        Ok(done.rows_affected() > 0)
    }

    /// True when the account has an active subscription of this type for this key.
    pub async fn subscribed(
        &self,
        account: &str,
        kind: &str,
        key: &str,
    ) -> Result<bool, StoreError> {
        Ok(self
            .subscription(account, &subscription_id(account, key, kind))
            .await?
            .is_some_and(|s| s.active))
    }
}
