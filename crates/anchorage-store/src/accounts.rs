//! Accounts and their users (Anchore §2.11). Password hashes are stored as given (the API
//! hashes with argon2); this module never sees a clear-text password.

// Dynamic SQL here is built only from constant fragments and `$n` placeholders, never
// from input (values are always bound).
use sqlx::AssertSqlSafe;
use sqlx::Row as _;
use sqlx::any::AnyRow;

use crate::{Database, StoreError, query_err};

/// An account: the unit of isolation (images, policies, registries, events belong to one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Unique name.
    pub name: String,
    /// Contact address.
    pub email: Option<String>,
    /// `admin`, `user` or `service`.
    pub kind: String,
    /// `enabled`, `disabled` or `deleting`.
    pub state: String,
    /// Creation time, epoch seconds.
    pub created_at: i64,
    /// Last change, epoch seconds.
    pub last_updated: i64,
}

/// A user of an account.
#[derive(Clone, PartialEq, Eq)]
pub struct User {
    /// Unique user name (across accounts, as in Anchore).
    pub username: String,
    /// The account it belongs to.
    pub account: String,
    /// PHC-format password hash.
    pub password_hash: String,
    /// `native`, `internal` or `external`.
    pub kind: String,
    /// Where the user came from (null for native users).
    pub source: Option<String>,
    /// Creation time, epoch seconds.
    pub created_at: i64,
    /// Last change, epoch seconds.
    pub last_updated: i64,
}

impl std::fmt::Debug for User {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("User")
            .field("username", &self.username)
            .field("account", &self.account)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

fn account(r: &AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        name: r.try_get("name")?,
        email: r.try_get("email")?,
        kind: r.try_get("type")?,
        state: r.try_get("state")?,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

fn user(r: &AnyRow) -> Result<User, sqlx::Error> {
    Ok(User {
        username: r.try_get("username")?,
        account: r.try_get("account")?,
        password_hash: r.try_get("password_hash")?,
        kind: r.try_get("type")?,
        source: r.try_get("source")?,
        created_at: r.try_get("created_at")?,
        last_updated: r.try_get("last_updated")?,
    })
}

const ACCOUNT_COLUMNS: &str = "name, email, type, state, created_at, last_updated";
const USER_COLUMNS: &str =
    "username, account, password_hash, type, source, created_at, last_updated";

impl Database {
    /// Creates an account; [`StoreError::Conflict`] when the name is taken.
    pub async fn create_account(&self, a: &Account) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO accounts (name, email, type, state, created_at, last_updated) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (name) DO NOTHING",
        )
        .bind(a.name.clone())
        .bind(a.email.clone())
        .bind(a.kind.clone())
        .bind(a.state.clone())
        .bind(a.created_at)
        .bind(a.last_updated)
        .execute(&self.pool)
        .await
        .map_err(query_err("creating an account"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                what: format!("account {:?}", a.name),
            });
        }
        Ok(())
    }

    /// One account.
    pub async fn account(&self, name: &str) -> Result<Option<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts WHERE name = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(name.to_string())
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(account).transpose())
            .map_err(query_err("reading an account"))
    }

    /// Every account, by name.
    pub async fn accounts(&self) -> Result<Vec<Account>, StoreError> {
        let sql = format!("SELECT {ACCOUNT_COLUMNS} FROM accounts ORDER BY name");
        sqlx::query(AssertSqlSafe(sql))
            .fetch_all(&self.pool)
            .await
            .and_then(|rows| rows.iter().map(account).collect())
            .map_err(query_err("listing accounts"))
    }

    /// Sets an account's state; false when there is no such account.
    pub async fn set_account_state(
        &self,
        name: &str,
        state: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query("UPDATE accounts SET state = $1, last_updated = $2 WHERE name = $3")
            .bind(state.to_string())
            .bind(now)
            .bind(name.to_string())
            .execute(&self.pool)
            .await
            .map_err(query_err("updating an account"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes an account and everything it owns (users, images, tags, policies,
    /// evaluations, registries, events, jobs), in one transaction. Shared analysis documents
    /// stay (other accounts may hold the same digest).
    pub async fn delete_account(&self, name: &str) -> Result<bool, StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(query_err("deleting an account"))?;
        for table in [
            "users",
            "image_tags",
            "images",
            "policies",
            "evaluations",
            "registries",
            "events",
            "jobs",
        ] {
            let sql = format!("DELETE FROM {table} WHERE account = $1");
            sqlx::query(AssertSqlSafe(sql))
                .bind(name.to_string())
                .execute(&mut *tx)
                .await
                .map_err(query_err("deleting an account's records"))?;
        }
        let done = sqlx::query("DELETE FROM accounts WHERE name = $1")
            .bind(name.to_string())
            .execute(&mut *tx)
            .await
            .map_err(query_err("deleting an account"))?;
        tx.commit()
            .await
            .map_err(query_err("deleting an account"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Creates a user; [`StoreError::Conflict`] when the name is taken.
    pub async fn create_user(&self, u: &User) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO users (username, account, password_hash, type, source, created_at, \
             last_updated) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (username) DO NOTHING",
        )
        .bind(u.username.clone())
        .bind(u.account.clone())
        .bind(u.password_hash.clone())
        .bind(u.kind.clone())
        .bind(u.source.clone())
        .bind(u.created_at)
        .bind(u.last_updated)
        .execute(&self.pool)
        .await
        .map_err(query_err("creating a user"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                what: format!("user {:?}", u.username),
            });
        }
        Ok(())
    }

    /// One user by name.
    pub async fn user(&self, username: &str) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        sqlx::query(AssertSqlSafe(sql))
            .bind(username.to_string())
            .fetch_optional(&self.pool)
            .await
            .and_then(|r| r.as_ref().map(user).transpose())
            .map_err(query_err("reading a user"))
    }

    /// The users of an account, by name.
    pub async fn users(&self, account: &str) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE account = $1 ORDER BY username");
        sqlx::query(AssertSqlSafe(sql))
            .bind(account.to_string())
            .fetch_all(&self.pool)
            .await
            .and_then(|rows| rows.iter().map(user).collect())
            .map_err(query_err("listing users"))
    }

    /// Replaces a user's password hash; false when there is no such user in that account.
    pub async fn set_password_hash(
        &self,
        account: &str,
        username: &str,
        hash: &str,
        now: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, last_updated = $2 \
             WHERE username = $3 AND account = $4",
        )
        .bind(hash.to_string())
        .bind(now)
        .bind(username.to_string())
        .bind(account.to_string())
        .execute(&self.pool)
        .await
        .map_err(query_err("setting a password"))?;
        Ok(done.rows_affected() > 0)
    }

    /// Deletes a user of an account; false when there is none.
    pub async fn delete_user(&self, account: &str, username: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM users WHERE username = $1 AND account = $2")
            .bind(username.to_string())
            .bind(account.to_string())
            .execute(&self.pool)
            .await
            .map_err(query_err("deleting a user"))?;
        Ok(done.rows_affected() > 0)
    }
}
