//! `connect` and migrations against a temporary SQLite file and the real PostgreSQL on
//! 127.0.0.1:5432 (trust auth, user `postgres`; a fresh database per test, dropped at the end).
//! With `CI=true` an unreachable PostgreSQL fails the test; locally it is skipped with a note.
#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "tests fail loudly"
)]

use anchorage_store::{Backend, ConnectOptions, Database, MIGRATIONS, StoreErrorKind, connect};
use secrecy::SecretString;

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

async fn check_migrated(db: &Database) {
    let latest = MIGRATIONS.last().unwrap().version;
    let applied = db.migrate().await.unwrap();
    assert_eq!(applied, (1..=latest).collect::<Vec<_>>());
    // Applying again does nothing.
    assert!(db.migrate().await.unwrap().is_empty());
    let recorded = db.applied_migrations().await.unwrap();
    assert_eq!(recorded.len(), MIGRATIONS.len());
    assert_eq!(recorded[0].version, 1);
    assert_eq!(recorded[0].description, "schema_info");
    assert!(
        recorded[0].applied_at.ends_with('Z') && recorded[0].applied_at.len() == 20,
        "{}",
        recorded[0].applied_at
    );
    assert_eq!(
        db.schema_info("format").await.unwrap().as_deref(),
        Some("anchorage-store/1")
    );
    assert_eq!(db.schema_info("absent").await.unwrap(), None);
}

#[tokio::test]
async fn sqlite_file_is_created_and_migrated_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("state").join("anchorage.sqlite");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let url = SecretString::from(format!("sqlite:{}", path.display()));
    let db = connect(&url, &ConnectOptions::default()).await.unwrap();
    assert_eq!(db.backend(), Backend::Sqlite);
    check_migrated(&db).await;
    db.close().await;
    assert!(path.is_file());
    // Reopened, the file remembers what was applied.
    let again = connect(&url, &ConnectOptions::default()).await.unwrap();
    assert!(again.migrate().await.unwrap().is_empty());
    assert_eq!(
        again.applied_migrations().await.unwrap().len(),
        MIGRATIONS.len()
    );
}

#[tokio::test]
async fn synthetic_bad_urls_are_clear_errors_without_the_password() {
    let err = connect(
        &SecretString::from("mysql://root:hunter2@localhost/x".to_string()),
        &ConnectOptions::default(),
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Config);
    assert!(err.to_string().contains("\"mysql\""), "{err}");
    assert!(!err.to_string().contains("hunter2"), "{err}");
    // Nothing listens on port 1: a connect error that does not repeat the password.
    let err = connect(
        &SecretString::from("postgres://postgres:hunter2@127.0.0.1:1/x".to_string()),
        &ConnectOptions {
            acquire_timeout_secs: 5,
            ..ConnectOptions::default()
        },
    )
    .await
    .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Unavailable);
    assert!(!err.to_string().contains("hunter2"), "{err}");
}

/// A fresh PostgreSQL database for one test, dropped on `drop_it`.
struct FreshDb {
    admin: Database,
    name: String,
}

impl FreshDb {
    async fn create() -> Option<Self> {
        let admin = match connect(
            &SecretString::from(ADMIN_URL.to_string()),
            &ConnectOptions::default(),
        )
        .await
        {
            Ok(db) => db,
            Err(e) => {
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "PostgreSQL on 127.0.0.1:5432 is required under CI: {e}"
                );
                eprintln!("skipping: PostgreSQL on 127.0.0.1:5432 is not reachable: {e}");
                return None;
            }
        };
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("anchorage_store_test_{}_{nanos}", std::process::id());
        // The name is made of digits and letters above: safe to splice.
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(admin.pool())
            .await
            .unwrap();
        Some(Self { admin, name })
    }

    fn url(&self) -> SecretString {
        SecretString::from(format!("postgres://postgres@127.0.0.1:5432/{}", self.name))
    }

    async fn drop_it(self) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(self.admin.pool())
        .await
        .unwrap();
        self.admin.close().await;
    }
}

#[tokio::test]
async fn postgres_database_is_migrated_once_even_by_concurrent_processes() {
    let Some(fresh) = FreshDb::create().await else {
        return;
    };
    let a = connect(&fresh.url(), &ConnectOptions::default())
        .await
        .unwrap();
    let b = connect(&fresh.url(), &ConnectOptions::default())
        .await
        .unwrap();
    assert_eq!(a.backend(), Backend::Postgres);
    // Two "processes" migrate at once: the advisory lock lets one apply, the other sees it.
    let (ra, rb) = tokio::join!(a.migrate(), b.migrate());
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert_eq!(ra.len() + rb.len(), MIGRATIONS.len(), "{ra:?} {rb:?}");
    assert!(a.migrate().await.unwrap().is_empty());
    assert_eq!(
        a.applied_migrations().await.unwrap().len(),
        MIGRATIONS.len()
    );
    assert_eq!(
        b.schema_info("format").await.unwrap().as_deref(),
        Some("anchorage-store/1")
    );
    a.close().await;
    b.close().await;

    // A fresh database migrated by one process, checked in full.
    fresh.drop_it().await;
    let Some(fresh) = FreshDb::create().await else {
        return;
    };
    let db = connect(&fresh.url(), &ConnectOptions::default())
        .await
        .unwrap();
    check_migrated(&db).await;
    db.close().await;
    fresh.drop_it().await;
}
