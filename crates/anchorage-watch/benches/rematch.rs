//! Incremental re-match benchmark (a bench command, not a timed test): N stored analyses
//! (default 10,000) made from the real analyses of the corpus images (`dir:` sources of
//! ../shared/corpus/images), each with a tag whose `vuln_update` subscription is active and a
//! configured webhook; then
//! 1. a feed delta touching 1% of the images: the real lodash advisory (GHSA-jf85-cpcp-j695)
//!    added to the npm feed — only the bookworm-app images (1%) hold lodash — synced,
//!    re-matched and its `vuln_update` notifications queued;
//! 2. a full re-match of every stored image.
//!
//! Nothing is pulled or analysed again in either. Prints the timings.
//!
//! `cargo bench -p anchorage-watch --bench rematch [-- IMAGES]`; the corpus is found from
//! `ANCHORAGE_CORPUS` or `../shared/corpus` above the workspace.

#![allow(
    clippy::unwrap_used,
    clippy::print_stdout,
    clippy::print_stderr,
    reason = "a benchmark program: it fails loudly and prints its results"
)]
use std::path::PathBuf;
use std::time::Instant;

use anchorage_engine::{AnalyzeSettings, Engine, EngineOptions};
use anchorage_settings::{CycleTimers, HookSettings, WebhookConfig};
use anchorage_store::{AddImage, ConnectOptions, Sealer, TagRecord};
use anchorage_watch::{Watch, WatchOptions};
use secrecy::SecretString;

fn corpus() -> PathBuf {
    if let Some(p) = std::env::var_os("ANCHORAGE_CORPUS") {
        return PathBuf::from(p);
    }
    let mut dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    loop {
        let candidate = dir.join("shared/corpus");
        if candidate.is_dir() {
            return candidate;
        }
        if !dir.pop() {
            panic!("corpus not found: set ANCHORAGE_CORPUS");
        }
    }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path, skip: &str) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_name().to_string_lossy() != skip && e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

#[tokio::main]
async fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let corpus = corpus();
    let work = tempfile::tempdir().unwrap();
    let lodash = "GHSA-jf85-cpcp-j695.json";
    let npm = work.path().join("npm");
    copy_dir(&corpus.join("osv/npm"), &npm, lodash);
    let mut feeds = vec![format!("osv:{}", npm.display())];
    for eco in ["PyPI", "Go", "crates", "Maven"] {
        feeds.push(format!("osv:{}", corpus.join("osv").join(eco).display()));
    }
    feeds.push(format!(
        "debian-tracker:{}",
        corpus.join("distro/debian-tracker").display()
    ));
    feeds.push(format!(
        "alpine-secdb:{}",
        corpus.join("distro/alpine-secdb-json").display()
    ));
    let feed_sources = feeds.iter().map(|f| f.parse().unwrap()).collect();

    let engine = Engine::new(EngineOptions {
        analysis: AnalyzeSettings::default(),
        vulndb_dir: work.path().join("vulndb"),
        sync: anchorage_vulndb::SyncOptions::default(),
    })
    .unwrap();
    let url = SecretString::from(format!(
        "sqlite:{}",
        work.path().join("db.sqlite").display()
    ));
    let db = anchorage_store::connect(&url, &ConnectOptions::default())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let t0 = chrono::Utc::now().timestamp();
    db.create_account(&anchorage_store::Account {
        name: "admin".into(),
        email: None,
        kind: "admin".into(),
        state: "enabled".into(),
        created_at: t0,
        last_updated: t0,
    })
    .await
    .unwrap();
    let mut webhooks = WebhookConfig::default();
    webhooks.hooks.insert(
        "general".into(),
        HookSettings {
            url: "http://127.0.0.1:9/<notification_type>".into(),
            user: None,
            password: None,
            ssl_verify: true,
        },
    );
    let sealer = Sealer::from_key_file(&work.path().join("secret.key")).unwrap();
    let watch = Watch::new(
        db.clone(),
        engine.clone(),
        sealer,
        WatchOptions {
            host_id: "bench".into(),
            timers: CycleTimers::default(),
            webhooks,
            feed_sources,
            insecure_registries: Vec::new(),
            max_attempts: 3,
            archive: None,
        },
    )
    .unwrap();
    let t = Instant::now();
    watch.sync_feeds().await.unwrap();
    // The initial load is not a change to re-match.
    let pending: Vec<i64> = db
        .pending_feed_changes()
        .await
        .unwrap()
        .iter()
        .map(|c| c.id)
        .collect();
    db.finish_feed_changes(&pending, 0).await.unwrap();
    println!("initial feed sync: {:.2} s", t.elapsed().as_secs_f64());

    // The real analyses of the corpus images.
    let images = [
        "alpine-3.20",
        "alpine-3.12",
        "debian-bookworm",
        "debian-bullseye",
        "debian-trixie",
    ];
    let mut analyses = Vec::new();
    for name in images.iter().chain(std::iter::once(&"debian-bookworm-app")) {
        let source = format!("dir:{}", corpus.join("images").join(name).display());
        let a = engine.analyze(&source, &Default::default()).await.unwrap();
        println!("{name}: {} packages", a.packages.len());
        analyses.push(a);
    }
    // 1% bookworm-app (the only images with lodash), the rest spread over the others.
    let app_every = 100;
    let t = Instant::now();
    let now = chrono::Utc::now().timestamp();
    for i in 0..n {
        let a = if i % app_every == 0 {
            &analyses[5]
        } else {
            &analyses[i % 5]
        };
        let digest = format!("sha256:{:064x}", i + 1);
        let fulltag = format!("registry.example:5000/bench/img{i}:1");
        db.add_image(&AddImage {
            account: "admin".into(),
            digest: digest.clone(),
            parent_digest: digest.clone(),
            pull_ref: format!("registry.example:5000/bench/img{i}@{digest}"),
            tag: TagRecord {
                registry: "registry.example:5000".into(),
                repo: format!("bench/img{i}"),
                tag: "1".into(),
                fulltag: fulltag.clone(),
                dockerfile: None,
                created_at: now,
                last_updated: now,
                tag_detected_at: now,
            },
            dockerfile: None,
            annotations: None,
            force: false,
            max_attempts: 3,
            now,
        })
        .await
        .unwrap();
        db.ensure_subscription("admin", "vuln_update", &fulltag, None, true, now)
            .await
            .unwrap();
        watch.index_analysis(&digest, a.clone()).await.unwrap();
    }
    println!(
        "stored and indexed {n} analyses (with baseline findings): {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // 1. The 1% delta.
    std::fs::copy(corpus.join("osv/npm").join(lodash), npm.join(lodash)).unwrap();
    let t = Instant::now();
    let sync = watch.sync_feeds().await.unwrap();
    let synced = t.elapsed().as_secs_f64();
    let r = watch.rematch_pending().await.unwrap();
    let total = t.elapsed().as_secs_f64();
    let queued = db.notification_counts().await.unwrap().pending;
    println!(
        "delta (lodash advisory): sync {synced:.2} s ({} names changed), re-match + notifications {:.2} s, total {total:.2} s: {} of {n} images matched, {} changed, {} vuln_update queued ({queued} deliveries pending)",
        sync.changed_names,
        total - synced,
        r.matched,
        r.changed,
        r.vuln_notifications
    );
    // 2. Everything.
    db.add_feed_change(None, chrono::Utc::now().timestamp())
        .await
        .unwrap();
    let t = Instant::now();
    let r = watch.rematch_pending().await.unwrap();
    println!(
        "full re-match: {:.2} s for {} images ({:.2} ms each), {} changed",
        t.elapsed().as_secs_f64(),
        r.matched,
        t.elapsed().as_secs_f64() * 1000.0 / r.matched.max(1) as f64,
        r.changed
    );
    let (count, packed, raw) = db.analysis_totals().await.unwrap();
    let size = std::fs::metadata(work.path().join("db.sqlite"))
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "database: {} MB on disk ({count} analysis documents, {packed}/{raw} bytes)",
        size / 1_000_000
    );
}
