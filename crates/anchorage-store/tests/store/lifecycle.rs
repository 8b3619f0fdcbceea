//! The analysis archive on both backends: archiving moves an image's rows and its analysis
//! document into one object of a real directory store and out of the live tables, restoring
//! brings them back byte-identical, and `apply_archive_rules` archives by tag history and
//! deletes archived analyses by age. The analysis documents are real SBOM files of the corpus
//! (the store treats them as opaque bytes).

use anchorage_store::{
    ArchiveDriver, ArchiveRule, ArchiveStore, Database, EvaluationRecord, EventFilter,
    FinishedAnalysis, ImageSelector, Restored, StoreErrorKind, Transition, apply_archive_rules,
    archive_image, delete_archived_image, restore_image,
};

use super::{account, add};

pub(crate) fn corpus_document(name: &str) -> Vec<u8> {
    std::fs::read(anchorage_testkit::corpus_dir().join("syft").join(name)).unwrap()
}

pub(crate) fn digest(n: u32) -> String {
    format!("sha256:{n:064x}")
}

/// Adds `digest` to `account` with `tags` (tag, when) and records its analysis at `at`.
pub(crate) async fn analysed(
    db: &Database,
    account: &str,
    digest: &str,
    tags: &[(&str, i64)],
    at: i64,
    document: &[u8],
) {
    for (tag, when) in tags {
        db.add_image(&add(account, digest, tag, false, *when))
            .await
            .unwrap();
    }
    db.finish_analysis(&FinishedAnalysis {
        account,
        digest,
        image_id: &digest[7..19],
        metadata: r#"{"arch": "amd64", "distro": "alpine", "distro_version": "3.20"}"#,
        document_json: Some(document),
        replace: false,
        now: at,
    })
    .await
    .unwrap();
}

pub(crate) async fn evaluation(db: &Database, account: &str, digest: &str, at: i64, action: &str) {
    db.add_evaluation(&EvaluationRecord {
        id: 0,
        account: account.into(),
        digest: digest.into(),
        tag: "r/repo:latest".into(),
        policy_id: "default".into(),
        final_action: action.into(),
        status: if action == "stop" { "fail" } else { "pass" }.into(),
        document: format!(r#"{{"final_action": "{action}", "at": {at}}}"#),
        created_at: at,
    })
    .await
    .unwrap();
}

async fn kinds(db: &Database, account: &str) -> Vec<(String, String)> {
    db.events(account, &EventFilter::default(), 0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.kind, e.resource_id))
        .collect()
}

fn rule(account: &str, transition: Transition, age: i64, newer: i64, tag: &str) -> ArchiveRule {
    ArchiveRule {
        rule_id: format!("{account}-{}-{age}-{newer}", transition.as_str()),
        account: account.into(),
        transition,
        system_global: false,
        analysis_age_days: age,
        tag_versions_newer: newer,
        selector: ImageSelector {
            registry: "*".into(),
            repository: "*".into(),
            tag: tag.into(),
        },
        exclude: ImageSelector::default(),
        exclude_expiration_days: -1,
        max_images_per_account: None,
        created_at: 1,
        last_updated: 1,
    }
}

async fn lifecycle_behaviour(db: &Database, store: &ArchiveStore) {
    account(db, "a").await;
    account(db, "b").await;
    let (d1, d2, d3, d4) = (digest(1), digest(2), digest(3), digest(4));
    let doc1 = corpus_document("alpine-3.20.syft.json");
    let doc2 = corpus_document("alpine-3.20.cdx.json");
    analysed(
        db,
        "a",
        &d1,
        &[("latest", 1000), ("stable", 1001)],
        1100,
        &doc1,
    )
    .await;
    analysed(db, "a", &d2, &[("latest", 2000)], 2100, &doc2).await;
    analysed(db, "b", &d2, &[("latest", 2000)], 2100, &doc2).await;
    analysed(db, "a", &d3, &[("latest", 3000)], 3100, &doc1).await;
    evaluation(db, "a", &d1, 1200, "go").await;
    evaluation(db, "a", &d1, 1300, "stop").await;
    let before = db.image("a", &d1).await.unwrap().unwrap();
    let evals_before = db.evaluations("a", &d1, "r/repo:latest", 10).await.unwrap();
    assert_eq!(evals_before.len(), 2);

    // Archive: the object is written, the live rows and the unshared document are gone.
    let o = archive_image(db, store, "a", &d1, 5000).await;
    assert_eq!(
        (o.status.as_str(), o.detail.as_str()),
        ("archived", "Completed successfully")
    );
    assert!(db.image("a", &d1).await.unwrap().is_none());
    assert!(db.analysis_document(&d1).await.unwrap().is_none());
    assert!(
        db.evaluations("a", &d1, "r/repo:latest", 10)
            .await
            .unwrap()
            .is_empty()
    );
    let rec = db.archived_image("a", &d1).await.unwrap().unwrap();
    assert_eq!(rec.status, "archived");
    assert_eq!(rec.tags.len(), 2);
    assert_eq!(rec.analyzed_at, Some(1100));
    assert_eq!(rec.created_at, 5000);
    let objects = store.list("analysis_archive").await.unwrap();
    assert_eq!(objects.len(), 1);
    assert_eq!(objects[0].size as i64, rec.archive_size_bytes);
    assert!(kinds(db, "a").await.contains(&(
        "system.analysis_archive.image_archived".to_string(),
        d1.clone()
    )));
    // Again: the existing record answers.
    let again = archive_image(db, store, "a", &d1, 5001).await;
    assert_eq!(
        (again.status.as_str(), again.detail.as_str()),
        ("archived", "Existing record found, archiving aborted")
    );
    // A document another account holds stays.
    assert_eq!(
        archive_image(db, store, "a", &d2, 5002).await.status,
        "archived"
    );
    assert_eq!(
        db.analysis_document(&d2).await.unwrap().as_deref(),
        Some(&doc2[..])
    );
    // Not analysed, or unknown: an error outcome and an event, nothing moved.
    db.add_image(&add("a", &d4, "new", false, 5003))
        .await
        .unwrap();
    let o = archive_image(db, store, "a", &d4, 5004).await;
    assert_eq!(o.status, "error");
    assert!(o.detail.contains("not_analyzed"), "{}", o.detail);
    assert!(db.image("a", &d4).await.unwrap().is_some());
    assert!(kinds(db, "a").await.contains(&(
        "system.analysis_archive.image_archive_failed".to_string(),
        d4.clone()
    )));
    assert_eq!(
        archive_image(db, store, "a", &digest(99), 5005)
            .await
            .status,
        "error"
    );
    assert_eq!(db.archive_summary("a").await.unwrap().image_count, 2);

    // Restore: the same rows and the byte-identical document, the archive entry gone.
    assert_eq!(
        restore_image(db, store, "a", &d1).await.unwrap(),
        Restored::Restored
    );
    assert_eq!(db.image("a", &d1).await.unwrap().unwrap(), before);
    assert_eq!(
        db.analysis_document(&d1).await.unwrap().as_deref(),
        Some(&doc1[..])
    );
    let evals_after = db.evaluations("a", &d1, "r/repo:latest", 10).await.unwrap();
    let strip = |v: &[EvaluationRecord]| {
        v.iter()
            .map(|e| (e.final_action.clone(), e.document.clone(), e.created_at))
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&evals_after), strip(&evals_before));
    assert!(db.archived_image("a", &d1).await.unwrap().is_none());
    assert_eq!(store.list("analysis_archive").await.unwrap().len(), 1);
    assert!(kinds(db, "a").await.contains(&(
        "system.image_analysis.restored_from_archive".to_string(),
        d1.clone()
    )));
    assert_eq!(
        restore_image(db, store, "a", &d1).await.unwrap(),
        Restored::NotArchived
    );
    // A live image of the digest blocks the restore until it is deleted.
    db.add_image(&add("a", &d2, "latest", false, 6000))
        .await
        .unwrap();
    let err = restore_image(db, store, "a", &d2).await.unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);
    assert!(db.delete_image("a", &d2).await.unwrap());
    assert_eq!(
        restore_image(db, store, "a", &d2).await.unwrap(),
        Restored::Restored
    );
    assert_eq!(
        db.image("a", &d2).await.unwrap().unwrap().analysis_status,
        "analyzed"
    );

    // Delete for good.
    assert_eq!(
        archive_image(db, store, "a", &d3, 7000).await.status,
        "archived"
    );
    assert!(delete_archived_image(db, store, "a", &d3).await.unwrap());
    assert!(!delete_archived_image(db, store, "a", &d3).await.unwrap());
    assert!(store.list("analysis_archive").await.unwrap().is_empty());
    assert!(kinds(db, "a").await.contains(&(
        "system.analysis_archive.archived_image_deleted".to_string(),
        d3.clone()
    )));
    // A digest archived and deleted may be analysed again later: the live image is new.
    assert!(db.analysis_document(&d3).await.unwrap().is_none());
}

async fn rules_behaviour(db: &Database, store: &ArchiveStore) {
    account(db, "c").await;
    let doc = corpus_document("alpine-3.20.cdx.json");
    let day = 86_400;
    let (e1, e2, e3) = (digest(11), digest(12), digest(13));
    analysed(db, "c", &e1, &[("latest", day)], day, &doc).await;
    analysed(db, "c", &e2, &[("latest", 2 * day)], 2 * day, &doc).await;
    analysed(
        db,
        "c",
        &e3,
        &[("latest", 3 * day), ("v3", 3 * day)],
        3 * day,
        &doc,
    )
    .await;
    let now = 10 * day;
    // No rules: nothing happens.
    assert_eq!(
        apply_archive_rules(db, store, now).await.unwrap(),
        Default::default()
    );
    // Keep the newest digest of each tag.
    db.add_archive_rule(&rule("c", Transition::Archive, -1, 1, "*"))
        .await
        .unwrap();
    let run = apply_archive_rules(db, store, now).await.unwrap();
    let mut archived: Vec<String> = run.archived.iter().map(|(_, d)| d.clone()).collect();
    archived.sort();
    assert_eq!(archived, vec![e1.clone(), e2.clone()]);
    assert!(run.failed.is_empty(), "{:?}", run.failed);
    assert!(db.image("c", &e3).await.unwrap().is_some());
    // Idempotent.
    assert!(
        apply_archive_rules(db, store, now)
            .await
            .unwrap()
            .archived
            .is_empty()
    );
    // Delete archived analyses older than 1 day: none yet; then both.
    db.add_archive_rule(&rule("c", Transition::Delete, 1, 0, "latest"))
        .await
        .unwrap();
    assert!(
        apply_archive_rules(db, store, now + 3600)
            .await
            .unwrap()
            .deleted
            .is_empty()
    );
    let run = apply_archive_rules(db, store, now + 2 * day).await.unwrap();
    assert_eq!(run.deleted.len(), 2);
    assert!(db.archived_images("c").await.unwrap().is_empty());
    assert!(store.list("analysis_archive").await.unwrap().is_empty());
    // Rules are listed and deleted per account.
    assert_eq!(db.archive_rules("c", true).await.unwrap().len(), 2);
    assert!(db.archive_rules("a", true).await.unwrap().is_empty());
    assert!(db.delete_archive_rule("c", "c-delete-1-0").await.unwrap());
    assert!(!db.delete_archive_rule("a", "c-archive--1-1").await.unwrap());
}

fn local_store(dir: &std::path::Path) -> ArchiveStore {
    ArchiveStore::open(&ArchiveDriver::local(dir.join("archive"))).unwrap()
}

#[tokio::test]
async fn sqlite_archive_restore_and_rules() {
    let dir = tempfile::tempdir().unwrap();
    let db = super::sqlite(dir.path(), "s").await;
    let store = local_store(dir.path());
    lifecycle_behaviour(&db, &store).await;
    rules_behaviour(&db, &store).await;
}

#[tokio::test]
async fn postgres_archive_restore_and_rules() {
    let Some(fresh) = super::FreshDb::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = anchorage_store::connect(&fresh.url(), &anchorage_store::ConnectOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let store = local_store(dir.path());
    lifecycle_behaviour(&db, &store).await;
    rules_behaviour(&db, &store).await;
    db.close().await;
    fresh.drop_it().await;
}

/// PyPI `moto[server]`: a real S3 API (installed by scripts/setup.sh).
const MOTO_SERVER: &str = "/opt/moto-venv/bin/moto_server";

/// A `moto_server` on a free loopback port, killed on drop.
struct Moto {
    child: std::process::Child,
    port: u16,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Moto {
    fn start() -> Option<Moto> {
        if !std::path::Path::new(MOTO_SERVER).exists() {
            assert!(
                std::env::var("CI").is_err(),
                "{MOTO_SERVER} missing (scripts/setup.sh installs it)"
            );
            eprintln!("skipping: {MOTO_SERVER} missing (run scripts/setup.sh)");
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new(MOTO_SERVER)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let moto = Moto { child, port };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "moto_server did not start"
            );
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        Some(moto)
    }

    /// Creates a bucket (moto takes an unsigned `PUT /BUCKET`).
    fn create_bucket(&self, name: &str) {
        use std::io::{Read as _, Write as _};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            s,
            "PUT /{name} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.port
        )
        .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    fn store(&self, bucket: &str, secret: &str) -> ArchiveStore {
        ArchiveStore::open(&ArchiveDriver::S3 {
            url: Some(format!("http://127.0.0.1:{}", self.port)),
            bucket: bucket.into(),
            access_key: Some(secrecy::SecretString::from("testing".to_string())),
            secret_key: Some(secrecy::SecretString::from(secret.to_string())),
            region: Some("us-east-1".into()),
        })
        .unwrap()
    }
}

#[tokio::test]
async fn s3_archive_restore_and_rules_against_moto() {
    let Some(moto) = Moto::start() else { return };
    moto.create_bucket("anchorage-archive");
    let store = moto.store("anchorage-archive", "s3cr3t-key");
    assert!(
        store
            .describe()
            .starts_with("s3:anchorage-archive at http://127.0.0.1:")
    );
    assert!(!format!("{store:?}").contains("s3cr3t-key"));
    let dir = tempfile::tempdir().unwrap();
    let db = super::sqlite(dir.path(), "s").await;
    lifecycle_behaviour(&db, &store).await;
    rules_behaviour(&db, &store).await;
    // A bucket that does not exist: archiving fails with a clear outcome, nothing is moved.
    account(&db, "z").await;
    let d = digest(77);
    analysed(
        &db,
        "z",
        &d,
        &[("latest", 10)],
        20,
        &corpus_document("alpine-3.20.cdx.json"),
    )
    .await;
    let missing = moto.store("no-such-bucket", "s3cr3t-key");
    let o = archive_image(&db, &missing, "z", &d, 30).await;
    assert_eq!(o.status, "error");
    assert!(!o.detail.contains("s3cr3t-key"), "{}", o.detail);
    assert!(db.image("z", &d).await.unwrap().is_some());
}
