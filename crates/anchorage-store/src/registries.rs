//! Registry credentials per account (Anchore §2.7). The secret is stored as the caller
//! encrypted it (the API seals it with the configured key); this module never sees it in clear.

use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Database, StoreError, query_err};

/// A registry of an account.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryRecord {
    /// Account.
    pub account: String,
    /// `host[:port]`.
    pub registry: String,
    /// Display name.
    pub registry_name: String,
    /// User name.
    pub registry_user: String,
    /// The encrypted password.
    pub sealed_secret: Vec<u8>,
    /// `docker_v2` or `awsecr`.
    pub registry_type: String,
    /// Verify TLS (false: `--insecure`, plain HTTP allowed).
    pub registry_verify: bool,
    /// Creation time, epoch seconds.
    pub created_at: i64,
    /// Last change, epoch seconds.
    pub last_updated: i64,
}

impl std::fmt::Debug for RegistryRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryRecord")
            .field("account", &self.account)
            .field("registry", &self.registry)
            .field("registry_user", &self.registry_user)
            .field("registry_verify", &self.registry_verify)
            .finish_non_exhaustive()
    }
}

fn registry(r: &AnyRow) -> Result<RegistryRecord, sqlx::Error> {
    Ok(RegistryRecord {
        account: r.try_get("account")?,
        registry: r.try_get("registry")?,
        registry_name: r.try_get("registry_name")?,
        registry_user: r.try_get("registry_user")?,
        sealed_secret: r.try_get("registry_secret")?,
        registry_type: r.try_get("registry_type")?,
        registry_verify: r.try_get::<i64, _>("registry_verify")? != 0,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

/// A registry credential of an account, its password opened.
#[derive(Clone)]
pub struct OpenedCredential {
    /// `host[:port]`.
    pub registry: String,
    /// User name.
    pub username: String,
    /// The password.
    pub password: secrecy::SecretString,
    /// Verify TLS (false: plain HTTP allowed).
    pub verify: bool,
}

impl Database {
    /// The registries of an account with their passwords opened by `sealer` (for pulls).
    pub async fn registry_credentials(
        &self,
        account: &str,
        sealer: &crate::Sealer,
    ) -> Result<Vec<OpenedCredential>, StoreError> {
        self.registries(account)
            .await?
            .into_iter()
            .map(|r| {
                Ok(OpenedCredential {
                    password: sealer.open(&r.sealed_secret)?,
                    registry: r.registry,
                    username: r.registry_user,
                    verify: r.registry_verify,
                })
            })
            .collect()
    }

    /// Adds or replaces a registry (`create_only`: [`StoreError::Conflict`] when it exists).
    pub async fn put_registry(
        &self,
        r: &RegistryRecord,
        create_only: bool,
    ) -> Result<(), StoreError> {
        let sql = if create_only {
            "INSERT INTO registries (account, registry, registry_name, registry_user, \
             registry_secret, registry_type, registry_verify, created_at, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (account, registry) DO NOTHING"
        } else {
            "INSERT INTO registries (account, registry, registry_name, registry_user, \
             registry_secret, registry_type, registry_verify, created_at, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (account, registry) DO UPDATE \
             SET registry_name = $3, registry_user = $4, registry_secret = $5, registry_type = $6, \
             registry_verify = $7, last_updated = $9"
        };
        let done = sqlx::query(sql)
            .bind(r.account.clone())
            .bind(r.registry.clone())
            .bind(r.registry_name.clone())
            .bind(r.registry_user.clone())
            .bind(r.sealed_secret.clone())
            .bind(r.registry_type.clone())
            .bind(i64::from(r.registry_verify))
            .bind(r.created_at)
            .bind(r.last_updated)
            .execute(&self.pool)
            .await
            .map_err(query_err("storing a registry"))?;
        if create_only && done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                what: format!("registry {:?}", r.registry),
            });
        }
        Ok(())
    }

    /// The registries of an account.
    pub async fn registries(&self, account: &str) -> Result<Vec<RegistryRecord>, StoreError> {
        sqlx::query("SELECT * FROM registries WHERE account = $1 ORDER BY registry")
            .bind(account.to_string())
            .fetch_all(&self.pool)
            .await
            .and_then(|rows| rows.iter().map(registry).collect())
            .map_err(query_err("listing registries"))
    }

    /// One registry of an account.
    pub async fn registry(
        &self,
        account: &str,
        name: &str,
    ) -> Result<Option<RegistryRecord>, StoreError> {
        sqlx::query("SELECT * FROM registries WHERE account = $1 AND registry = $2")
            .bind(account.to_string())
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(registry).transpose())
            .map_err(query_err("reading a registry"))
    }

    /// Deletes a registry; false when it does not exist.
    pub async fn delete_registry(&self, account: &str, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM registries WHERE account = $1 AND registry = $2")
            .bind(account.to_string())
            .bind(name.to_string())
            .execute(&self.pool)
            .await
            .map_err(query_err("deleting a registry"))?;
        Ok(done.rows_affected() > 0)
    }
}
