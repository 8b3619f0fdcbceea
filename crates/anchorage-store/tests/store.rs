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

#[path = "store/backup.rs"]
mod backup;
#[path = "store/lifecycle.rs"]
mod lifecycle;

/// A migrated SQLite database `NAME.sqlite` in `dir`.
async fn sqlite(dir: &std::path::Path, name: &str) -> Database {
    let url = SecretString::from(format!(
        "sqlite:{}",
        dir.join(format!("{name}.sqlite")).display()
    ));
    let db = connect(&url, &ConnectOptions::default()).await.unwrap();
    db.migrate().await.unwrap();
    db
}

const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

async fn check_migrated(db: &Database) {
    let applied = db.migrate().await.unwrap();
    assert_eq!(
        applied,
        MIGRATIONS.iter().map(|m| m.version).collect::<Vec<_>>()
    );
    assert_eq!(db.missing_migration().await.unwrap(), None);
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

fn add(account: &str, digest: &str, tag: &str, force: bool, now: i64) -> anchorage_store::AddImage {
    anchorage_store::AddImage {
        account: account.into(),
        digest: digest.into(),
        parent_digest: digest.into(),
        pull_ref: format!("r/{tag}@{digest}"),
        tag: anchorage_store::TagRecord {
            registry: "r".into(),
            repo: "repo".into(),
            tag: tag.into(),
            fulltag: format!("r/repo:{tag}"),
            dockerfile: None,
            created_at: now,
            last_updated: now,
            tag_detected_at: now,
        },
        dockerfile: None,
        annotations: None,
        force,
        max_attempts: 2,
        now,
    }
}

async fn account(db: &Database, name: &str) {
    db.create_account(&anchorage_store::Account {
        name: name.into(),
        email: None,
        kind: "user".into(),
        state: "enabled".into(),
        created_at: 1,
        last_updated: 1,
    })
    .await
    .unwrap();
}

/// The queue and image repository on one backend: idempotent adds, one open job per image,
/// leases that expire, documents stored once per digest.
async fn queue_behaviour(db: &Database) {
    account(db, "a").await;
    account(db, "b").await;
    let d1 = format!("sha256:{}", "1".repeat(64));
    let added = db.add_image(&add("a", &d1, "1", false, 100)).await.unwrap();
    assert!(added.created && added.queued);
    // Adding again (another tag) queues nothing more.
    let again = db.add_image(&add("a", &d1, "2", false, 101)).await.unwrap();
    assert!(!again.created && !again.queued);
    let img = db.image("a", &d1).await.unwrap().unwrap();
    assert_eq!(img.tags.len(), 2);
    assert_eq!(img.analysis_status, "not_analyzed");
    // Another account does not see it.
    assert!(db.image("b", &d1).await.unwrap().is_none());
    // One job; a second claim finds nothing until the lease expires.
    let job = db.claim_job("w1", 200, 260).await.unwrap().unwrap();
    assert_eq!((job.subject.as_str(), job.attempts), (d1.as_str(), 1));
    assert!(db.claim_job("w2", 201, 261).await.unwrap().is_none());
    assert!(db.extend_lease(job.id, "w1", 300).await.unwrap());
    assert!(!db.extend_lease(job.id, "w2", 300).await.unwrap());
    // w1 "dies": after the lease, w2 takes the job (attempt 2).
    let retaken = db.claim_job("w2", 301, 360).await.unwrap().unwrap();
    assert_eq!((retaken.id, retaken.attempts), (job.id, 2));
    // w1 cannot finish a job it lost.
    db.finish_job(job.id, "w1", None, 302).await.unwrap();
    assert_eq!(db.queue_depth().await.unwrap().running, 1);
    let doc = br#"{"x": 1}"#;
    let finished = anchorage_store::FinishedAnalysis {
        account: "a",
        digest: &d1,
        image_id: "abc",
        metadata: "{\"arch\": \"amd64\"}",
        document_json: Some(doc),
        replace: false,
        now: 303,
    };
    db.finish_analysis(&finished).await.unwrap();
    // Stored twice (a retried attempt): still one document, unchanged.
    db.finish_analysis(&anchorage_store::FinishedAnalysis {
        document_json: Some(br#"{"x": 2}"#),
        ..finished
    })
    .await
    .unwrap();
    db.finish_job(retaken.id, "w2", None, 304).await.unwrap();
    assert_eq!(
        db.analysis_document(&d1).await.unwrap().as_deref(),
        Some(&doc[..])
    );
    let (n, packed, raw) = db.analysis_totals().await.unwrap();
    assert_eq!((n, raw), (1, doc.len() as i64));
    assert!(packed > 0);
    let img = db.image("a", &d1).await.unwrap().unwrap();
    assert_eq!(
        (img.analysis_status.as_str(), img.image_id.as_str()),
        ("analyzed", "abc")
    );
    // Account b adds the same digest: its own record, sharing the document.
    db.add_image(&add("b", &d1, "1", false, 400)).await.unwrap();
    let job_b = db.claim_job("w1", 401, 460).await.unwrap().unwrap();
    assert_eq!(job_b.account, "b");
    assert_eq!(
        db.analysis_image_id(&d1).await.unwrap().as_deref(),
        Some("abc")
    );
    db.finish_job(job_b.id, "w1", None, 402).await.unwrap();
    // Deleting a's image keeps the document b still uses; deleting b's removes it.
    assert!(db.delete_image("a", &d1).await.unwrap());
    assert!(db.analysis_document(&d1).await.unwrap().is_some());
    assert!(db.delete_image("b", &d1).await.unwrap());
    assert!(db.analysis_document(&d1).await.unwrap().is_none());
    // A job given back at shutdown is ready at once and keeps its attempt count.
    let d2 = format!("sha256:{}", "2".repeat(64));
    db.add_image(&add("a", &d2, "x", false, 500)).await.unwrap();
    let j = db.claim_job("w1", 501, 560).await.unwrap().unwrap();
    db.release_job(j.id, "w1", 502).await.unwrap();
    let j2 = db.claim_job("w2", 503, 560).await.unwrap().unwrap();
    assert_eq!((j2.id, j2.attempts), (j.id, 1));
    // Requeued after a database error: ready at once, the attempt counted; only the lease
    // owner can requeue, and only a running job.
    db.retry_job(j2.id, "w1", 504).await.unwrap();
    assert!(db.claim_job("w3", 505, 560).await.unwrap().is_none());
    db.retry_job(j2.id, "w2", 506).await.unwrap();
    db.retry_job(j2.id, "w2", 507).await.unwrap();
    let j3 = db.claim_job("w3", 508, 560).await.unwrap().unwrap();
    assert_eq!((j3.id, j3.attempts), (j.id, 2));
}

#[tokio::test]
async fn sqlite_queue_and_images_behave() {
    let dir = tempfile::tempdir().unwrap();
    let url = SecretString::from(format!("sqlite:{}", dir.path().join("s.sqlite").display()));
    let db = connect(&url, &ConnectOptions::default()).await.unwrap();
    db.migrate().await.unwrap();
    queue_behaviour(&db).await;
}

#[tokio::test]
async fn postgres_queue_and_images_behave() {
    let Some(fresh) = FreshDb::create().await else {
        return;
    };
    let db = connect(&fresh.url(), &ConnectOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    queue_behaviour(&db).await;
    db.close().await;
    fresh.drop_it().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_concurrent_workers_never_claim_the_same_job() {
    let Some(fresh) = FreshDb::create().await else {
        return;
    };
    let db = connect(
        &fresh.url(),
        &ConnectOptions {
            max_connections: 16,
            acquire_timeout_secs: 30,
        },
    )
    .await
    .unwrap();
    db.migrate().await.unwrap();
    account(&db, "a").await;
    for n in 0..200 {
        let d = format!("sha256:{n:064x}");
        db.add_image(&add("a", &d, &n.to_string(), false, 1))
            .await
            .unwrap();
    }
    // 12 workers claim concurrently until the queue is empty (FOR UPDATE SKIP LOCKED).
    let mut tasks = Vec::new();
    for w in 0..12 {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            let owner = format!("w{w}");
            let mut mine = Vec::new();
            while let Some(job) = db.claim_job(&owner, 10, 1_000).await.unwrap() {
                mine.push(job.id);
                db.finish_job(job.id, &owner, None, 11).await.unwrap();
            }
            mine
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    let total = all.len();
    all.sort_unstable();
    all.dedup();
    assert_eq!((total, all.len()), (200, 200), "a job was claimed twice");
    db.close().await;
    fresh.drop_it().await;
}

/// Subscriptions, cycle leases, the re-match index and webhook deliveries on one backend.
async fn watch_behaviour(db: &Database) {
    // Subscriptions: deterministic ids (Anchore's md5 of account+key+type), idempotent adds
    // that activate but never deactivate.
    let id = anchorage_store::subscription_id("admin", "docker.io/a:1", "tag_update");
    assert_eq!(id.len(), 32);
    let s = db
        .ensure_subscription("admin", "tag_update", "docker.io/a:1", None, false, 1)
        .await
        .unwrap();
    assert_eq!((s.subscription_id.as_str(), s.active), (id.as_str(), false));
    let s = db
        .ensure_subscription("admin", "tag_update", "docker.io/a:1", None, true, 2)
        .await
        .unwrap();
    assert!(s.active);
    let s = db
        .ensure_subscription("admin", "tag_update", "docker.io/a:1", None, false, 3)
        .await
        .unwrap();
    assert!(s.active, "an add never deactivates");
    assert!(
        db.subscribed("admin", "tag_update", "docker.io/a:1")
            .await
            .unwrap()
    );
    assert!(
        !db.subscribed("other", "tag_update", "docker.io/a:1")
            .await
            .unwrap()
    );
    db.update_subscription("admin", &id, Some(false), None, 4)
        .await
        .unwrap();
    assert!(
        !db.subscribed("admin", "tag_update", "docker.io/a:1")
            .await
            .unwrap()
    );

    // Cycle leases: one holder at a time, once per interval, early on request.
    assert!(db.take_cycle("c", "p1", 60, 100, 130).await.unwrap());
    assert!(
        !db.take_cycle("c", "p2", 60, 101, 131).await.unwrap(),
        "lease held"
    );
    db.finish_cycle("c", "p1", 102, None).await.unwrap();
    assert!(
        !db.take_cycle("c", "p2", 60, 103, 133).await.unwrap(),
        "not due"
    );
    db.request_cycle("c", 104).await.unwrap();
    assert!(
        db.take_cycle("c", "p2", 60, 104, 134).await.unwrap(),
        "requested"
    );
    // p2 dies holding the lease: it expires, and p1 takes the cycle when it is due.
    assert!(!db.take_cycle("c", "p1", 60, 120, 150).await.unwrap());
    assert!(db.take_cycle("c", "p1", 60, 170, 200).await.unwrap());

    // The index: names -> subjects.
    let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    db.index_analysis(
        "sha256:a",
        b"{}",
        &names(&["lodash", "zlib"]),
        Some(b"[]"),
        5,
    )
    .await
    .unwrap();
    db.index_analysis("sha256:b", b"{}", &names(&["zlib"]), None, 5)
        .await
        .unwrap();
    let hit = db.subjects_for_names(&names(&["lodash"])).await.unwrap();
    assert_eq!(
        hit.iter().map(|s| s.digest.as_str()).collect::<Vec<_>>(),
        ["sha256:a"]
    );
    assert_eq!(
        db.subjects_for_names(&names(&["zlib", "x"]))
            .await
            .unwrap()
            .len(),
        2
    );
    let (input, findings) = db.match_subject("sha256:b").await.unwrap().unwrap();
    assert_eq!((input.as_slice(), findings), (b"{}".as_slice(), None));
    let change = db
        .add_feed_change(Some(&names(&["zlib"])), 6)
        .await
        .unwrap();
    let pending = db.pending_feed_changes().await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        pending[0].names.as_deref(),
        Some(names(&["zlib"]).as_slice())
    );
    db.finish_feed_changes(&[change], 7).await.unwrap();
    assert!(db.pending_feed_changes().await.unwrap().is_empty());

    // Deliveries: queued once per id and hook, leased, retried, dead.
    let n = anchorage_store::NewNotification {
        notification_id: "n1".into(),
        hook: "general".into(),
        account: "admin".into(),
        notification_type: "tag_update".into(),
        subscription_key: "docker.io/a:1".into(),
        payload: "{}".into(),
    };
    assert_eq!(
        db.queue_notifications(std::slice::from_ref(&n), 10)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        db.queue_notifications(&[n], 11).await.unwrap(),
        0,
        "same id: once"
    );
    let got = db.claim_notifications("p1", 12, 20, 10).await.unwrap();
    assert_eq!(got.len(), 1);
    assert!(
        db.claim_notifications("p2", 13, 21, 10)
            .await
            .unwrap()
            .is_empty()
    );
    // p1 dies; after its lease p2 takes the delivery again (attempt 2).
    let again = db.claim_notifications("p2", 21, 30, 10).await.unwrap();
    assert_eq!(again[0].attempts, 2);
    assert!(
        db.notification_failed(again[0].id, "p2", "HTTP 500", 40, false, 22)
            .await
            .unwrap()
    );
    assert!(
        db.claim_notifications("p2", 30, 35, 10)
            .await
            .unwrap()
            .is_empty(),
        "backoff"
    );
    let third = db.claim_notifications("p2", 40, 45, 10).await.unwrap();
    assert!(
        db.notification_failed(third[0].id, "p2", "HTTP 500", 50, true, 41)
            .await
            .unwrap()
    );
    let counts = db.notification_counts().await.unwrap();
    assert_eq!((counts.dead, counts.pending), (1, 0));
    assert!(
        db.retry_notification("admin", third[0].id, 60)
            .await
            .unwrap()
    );
    let fourth = db.claim_notifications("p3", 60, 70, 10).await.unwrap();
    assert!(
        db.notification_delivered(fourth[0].id, "p3", 61)
            .await
            .unwrap()
    );
    assert_eq!(db.notification_counts().await.unwrap().delivered, 1);
}

#[tokio::test]
async fn sqlite_watch_tables_behave() {
    let dir = tempfile::tempdir().unwrap();
    let url = SecretString::from(format!("sqlite:{}", dir.path().join("w.sqlite").display()));
    let db = connect(&url, &ConnectOptions::default()).await.unwrap();
    db.migrate().await.unwrap();
    watch_behaviour(&db).await;
}

#[tokio::test]
async fn postgres_watch_tables_behave() {
    let Some(fresh) = FreshDb::create().await else {
        return;
    };
    let db = connect(&fresh.url(), &ConnectOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    watch_behaviour(&db).await;
    db.close().await;
    fresh.drop_it().await;
}

/// Process rows: registered up, refreshed by heartbeats, stale after missed heartbeats, marked
/// down at a graceful stop, pruned long after; and the open jobs per kind.
async fn services_behaviour(db: &Database) {
    use anchorage_store::ServiceRecord;
    let row = |host: &str, role: &str, t: i64| ServiceRecord {
        host_id: host.into(),
        role: role.into(),
        version: "0.1.0".into(),
        base_url: "http://127.0.0.1:8228".into(),
        status: "up".into(),
        heartbeat_seconds: 5,
        started_at: t,
        last_heartbeat: t,
    };
    db.register_service(&row("h-api", "api", 1000))
        .await
        .unwrap();
    db.register_service(&row("h-worker", "worker", 1001))
        .await
        .unwrap();
    assert!(db.service_heartbeat("h-api", 1010).await.unwrap());
    assert!(!db.service_heartbeat("h-gone", 1010).await.unwrap());
    let all = db.services().await.unwrap();
    assert_eq!(
        all.iter().map(|s| s.host_id.as_str()).collect::<Vec<_>>(),
        ["h-api", "h-worker"]
    );
    // At 1016 the api beat 6 s ago (up); the worker beat 15 s ago: 3 intervals, the limit.
    assert!(all[0].is_up(1016));
    assert!(all[1].is_up(1016));
    assert!(!all[1].is_up(1018), "stale after three missed heartbeats");
    db.mark_service_down("h-api", 1020).await.unwrap();
    let api = db.services().await.unwrap().remove(0);
    assert_eq!((api.status.as_str(), api.last_heartbeat), ("down", 1020));
    assert!(!api.is_up(1020));
    // Registering the same host id again brings it back up.
    db.register_service(&row("h-api", "api", 1030))
        .await
        .unwrap();
    assert!(db.services().await.unwrap()[1].is_up(1030));
    assert_eq!(db.prune_services(1025).await.unwrap(), 1);
    assert!(db.delete_service("h-api").await.unwrap());
    assert!(db.services().await.unwrap().is_empty());

    account(db, "a").await;
    for (i, force) in [(7, false), (8, false), (9, true)] {
        let d = format!("sha256:{}", i.to_string().repeat(64));
        db.add_image(&add("a", &d, "1", force, 2000)).await.unwrap();
    }
    db.claim_job("w1", 2001, 2060).await.unwrap().unwrap();
    let depth = db.queue_depth_by_kind().await.unwrap();
    let seen: Vec<(&str, i64, i64)> = depth
        .iter()
        .map(|d| (d.kind.as_str(), d.queued, d.running))
        .collect();
    assert_eq!(seen, [("analyze", 1, 1), ("analyze-force", 1, 0)]);
}

#[tokio::test]
async fn sqlite_services_heartbeat_go_stale_and_stop() {
    let dir = tempfile::tempdir().unwrap();
    let url = SecretString::from(format!("sqlite:{}", dir.path().join("s.sqlite").display()));
    let db = connect(&url, &ConnectOptions::default()).await.unwrap();
    db.migrate().await.unwrap();
    services_behaviour(&db).await;
}

#[tokio::test]
async fn postgres_services_heartbeat_go_stale_and_stop() {
    let Some(fresh) = FreshDb::create().await else {
        return;
    };
    let db = connect(&fresh.url(), &ConnectOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    services_behaviour(&db).await;
    db.close().await;
    fresh.drop_it().await;
}
