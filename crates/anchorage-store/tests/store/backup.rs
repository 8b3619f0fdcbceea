//! Backup and restore of a whole deployment, on each backend and across them: every table's
//! rows (analysis documents and sealed registry passwords included) and the archive's objects
//! come back equal; a database that holds data is refused unless forced; a backup of a newer
//! schema is refused; sequences continue past the restored ids on PostgreSQL.

use std::path::Path;

use anchorage_store::{
    ArchiveDriver, ArchiveRule, ArchiveStore, Database, EventFilter, EventRecord, ImageFilter,
    RegistryRecord, RestoreOptions, StoreErrorKind, Transition, archive_image, backup, connect,
    read_manifest, restore,
};
use secrecy::SecretString;

use super::lifecycle::{analysed, corpus_document, digest, evaluation};
use super::{FreshDb, account};

async fn populate(db: &Database, store: &ArchiveStore) {
    account(db, "a").await;
    account(db, "b").await;
    let (d1, d2, d3) = (digest(21), digest(22), digest(23));
    analysed(
        db,
        "a",
        &d1,
        &[("latest", 100), ("v1", 100)],
        150,
        &corpus_document("alpine-3.20.syft.json"),
    )
    .await;
    analysed(
        db,
        "a",
        &d2,
        &[("latest", 200)],
        250,
        &corpus_document("debian-bookworm.cdx.json"),
    )
    .await;
    analysed(
        db,
        "b",
        &d2,
        &[("other", 210)],
        260,
        &corpus_document("debian-bookworm.cdx.json"),
    )
    .await;
    analysed(
        db,
        "a",
        &d3,
        &[("old", 50)],
        60,
        &corpus_document("alpine-3.20.cdx.json"),
    )
    .await;
    for (i, action) in ["go", "warn", "stop"].iter().enumerate() {
        evaluation(db, "a", &d1, 300 + i as i64, action).await;
    }
    let sealer = anchorage_store::Sealer::from_hex(&SecretString::from("ab".repeat(32))).unwrap();
    db.put_registry(
        &RegistryRecord {
            account: "a".into(),
            registry: "127.0.0.1:5000".into(),
            registry_name: "local".into(),
            registry_user: "puller".into(),
            sealed_secret: sealer
                .seal(&SecretString::from("pull-pass".to_string()))
                .unwrap(),
            registry_type: "docker_v2".into(),
            registry_verify: false,
            created_at: 10,
            last_updated: 10,
        },
        true,
    )
    .await
    .unwrap();
    db.add_event(&EventRecord::new(
        "a",
        "user.image.analysis.completed",
        "info",
        "done",
        "image_digest",
        &d1,
        "{}",
    ))
    .await
    .unwrap();
    db.add_archive_rule(&ArchiveRule {
        rule_id: "r1".into(),
        account: "a".into(),
        transition: Transition::Archive,
        system_global: false,
        analysis_age_days: 30,
        tag_versions_newer: 2,
        selector: anchorage_store::ImageSelector {
            registry: "*".into(),
            repository: "team/*".into(),
            tag: "*".into(),
        },
        exclude: anchorage_store::ImageSelector::default(),
        exclude_expiration_days: -1,
        max_images_per_account: None,
        created_at: 5,
        last_updated: 6,
    })
    .await
    .unwrap();
    assert_eq!(
        archive_image(db, store, "a", &d3, 400).await.status,
        "archived"
    );
}

/// Everything the public API reads, for comparison.
async fn state(db: &Database, store: &ArchiveStore) -> String {
    let mut out = Vec::new();
    for acc in ["a", "b"] {
        out.push(format!("{:?}", db.account(acc).await.unwrap()));
        let images = db.images(acc, &ImageFilter::default()).await.unwrap();
        for i in &images {
            let doc = db.analysis_document(&i.digest).await.unwrap().unwrap();
            out.push(format!("{i:?} doc={}", doc.len()));
            out.push(format!(
                "{:?}",
                db.evaluations(acc, &i.digest, "r/repo:latest", 100)
                    .await
                    .unwrap()
            ));
        }
        out.push(format!("{:?}", db.registries(acc).await.unwrap()));
        out.push(format!(
            "{:?}",
            db.events(acc, &EventFilter::default(), 0, 1000)
                .await
                .unwrap()
        ));
        out.push(format!("{:?}", db.archived_images(acc).await.unwrap()));
        out.push(format!("{:?}", db.archive_rules(acc, true).await.unwrap()));
        out.push(format!("{:?}", db.policies(acc).await.unwrap()));
    }
    out.push(format!("{:?}", db.queue_depth().await.unwrap()));
    out.push(format!("{:?}", db.analysis_totals().await.unwrap()));
    for o in store.list("analysis_archive").await.unwrap() {
        let bytes = store.get(&o.key).await.unwrap().unwrap();
        out.push(format!("{} {}", o.key, hex_sha(&bytes)));
    }
    out.join("\n")
}

fn hex_sha(b: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn local(dir: &Path, name: &str) -> ArchiveStore {
    ArchiveStore::open(&ArchiveDriver::local(dir.join(name))).unwrap()
}

/// Backs `src` up, restores into the empty `dst`, compares, and checks the refusals.
async fn round_trip(src: &Database, dst: &Database, dir: &Path) {
    let src_store = local(dir, "src-archive");
    let dst_store = local(dir, "dst-archive");
    populate(src, &src_store).await;
    let file = dir.join("backup.tar.zst");
    let stats = backup(src, &src_store, &file).await.unwrap();
    assert_eq!(stats.objects, 1);
    assert!(stats.rows > 10, "{stats:?}");
    let manifest = read_manifest(&file).unwrap();
    assert_eq!(
        manifest.schema_version,
        anchorage_store::MIGRATIONS.last().unwrap().version
    );
    assert!(
        manifest
            .tables
            .iter()
            .any(|t| t.name == "analyses" && t.rows == 2)
    );
    assert!(
        !manifest
            .tables
            .iter()
            .any(|t| t.name == "anchorage_migrations")
    );
    // The sealed password is in the file only sealed.
    let raw = zstd::decode_all(std::fs::File::open(&file).unwrap()).unwrap();
    assert!(!raw.windows(9).any(|w| w == b"pull-pass"));

    let restored = restore(dst, &dst_store, &file, RestoreOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (restored.rows, restored.objects),
        (stats.rows, stats.objects)
    );
    assert_eq!(state(dst, &dst_store).await, state(src, &src_store).await);
    // The restored database is at the program's schema and takes new rows (ids continue).
    assert!(dst.migrate().await.unwrap().is_empty());
    let before: Vec<i64> = dst
        .evaluations("a", &digest(21), "r/repo:latest", 100)
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    evaluation(dst, "a", &digest(21), 999, "go").await;
    let after = dst
        .evaluations("a", &digest(21), "r/repo:latest", 1)
        .await
        .unwrap();
    assert!(
        after[0].id > *before.iter().max().unwrap(),
        "{before:?} {after:?}"
    );
    dst.add_image(&super::add("b", &digest(24), "new", false, 1000))
        .await
        .unwrap();

    // Not empty now: refused unless forced; forced, it equals the source again.
    let err = restore(dst, &dst_store, &file, RestoreOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), StoreErrorKind::Conflict);
    assert!(err.to_string().contains("not empty"), "{err}");
    restore(dst, &dst_store, &file, RestoreOptions { force: true })
        .await
        .unwrap();
    assert_eq!(state(dst, &dst_store).await, state(src, &src_store).await);

    // Synthetic edge case: a backup from a newer schema (its manifest names migration 9999).
    let newer = dir.join("newer.tar.zst");
    rewrite_manifest(&file, &newer, |m| {
        m["migrations"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!(9999));
        m["schema_version"] = serde_json::json!(9999);
    });
    let err = restore(dst, &dst_store, &newer, RestoreOptions { force: true })
        .await
        .unwrap_err();
    assert!(err.to_string().contains("newer"), "{err}");
    // Synthetic edge case: a truncated file.
    let cut = dir.join("cut.tar.zst");
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    assert!(
        restore(dst, &dst_store, &cut, RestoreOptions { force: true })
            .await
            .is_err()
    );
}

/// Copies a backup with its manifest changed by `edit`.
fn rewrite_manifest(from: &Path, to: &Path, edit: impl Fn(&mut serde_json::Value)) {
    let raw = zstd::decode_all(std::fs::File::open(from).unwrap()).unwrap();
    let mut archive = tar::Archive::new(raw.as_slice());
    let mut out = tar::Builder::new(Vec::new());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().to_string();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).unwrap();
        if name == "manifest.json" {
            let mut m: serde_json::Value = serde_json::from_slice(&data).unwrap();
            edit(&mut m);
            data = serde_json::to_vec(&m).unwrap();
        }
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_cksum();
        out.append_data(&mut h, name, data.as_slice()).unwrap();
    }
    let tar = out.into_inner().unwrap();
    std::fs::write(to, zstd::encode_all(tar.as_slice(), 3).unwrap()).unwrap();
}

async fn unmigrated_pg(fresh: &FreshDb) -> Database {
    connect(&fresh.url(), &anchorage_store::ConnectOptions::default())
        .await
        .unwrap()
}

#[tokio::test]
async fn sqlite_backup_restores_into_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let src = super::sqlite(dir.path(), "src").await;
    // The target is a brand-new file: restore builds its schema.
    let url = SecretString::from(format!(
        "sqlite:{}",
        dir.path().join("dst.sqlite").display()
    ));
    let dst = connect(&url, &anchorage_store::ConnectOptions::default())
        .await
        .unwrap();
    round_trip(&src, &dst, dir.path()).await;
}

#[tokio::test]
async fn postgres_backup_restores_into_postgres() {
    let (Some(a), Some(b)) = (FreshDb::create().await, FreshDb::create().await) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = unmigrated_pg(&a).await;
    src.migrate().await.unwrap();
    let dst = unmigrated_pg(&b).await;
    // A target migrated already (as `anchorage migrate` leaves it) is empty too.
    dst.migrate().await.unwrap();
    round_trip(&src, &dst, dir.path()).await;
    src.close().await;
    dst.close().await;
    a.drop_it().await;
    b.drop_it().await;
}

#[tokio::test]
async fn sqlite_backup_restores_into_postgres_and_back() {
    let Some(a) = FreshDb::create().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let src = super::sqlite(dir.path(), "src").await;
    let pg = unmigrated_pg(&a).await;
    round_trip(&src, &pg, dir.path()).await;
    // And PostgreSQL's backup into a new SQLite file.
    let back_dir = tempfile::tempdir().unwrap();
    let file = back_dir.path().join("pg.tar.zst");
    let pg_store = local(dir.path(), "dst-archive");
    backup(&pg, &pg_store, &file).await.unwrap();
    let lite = super::sqlite(back_dir.path(), "back").await;
    let lite_store = local(back_dir.path(), "archive");
    restore(&lite, &lite_store, &file, RestoreOptions::default())
        .await
        .unwrap();
    assert_eq!(
        state(&lite, &lite_store).await,
        state(&src, &local(dir.path(), "src-archive")).await
    );
    pg.close().await;
    a.drop_it().await;
}
