//! Feed sync against a local HTTP server serving the corpus in upstream layouts.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

mod support;

use std::time::Instant;

use anchorage_vulndb::{FeedSource, Store, SyncOptions, VulnDbError, VulnSource};
use support::{Server, osv_records, zip_of};

fn src(s: &str) -> FeedSource {
    s.parse().unwrap()
}

#[test]
fn osv_export_unchanged_feed_costs_one_conditional_request() {
    let server = Server::start();
    let sources = support::serve_osv_exports(&server);
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    let pypi = src(&sources[0]);
    let first = sync_source(&mut store, &pypi, &SyncOptions::default()).unwrap();
    assert_eq!(
        (first.added, first.record_count, first.malformed),
        (70, 70, 0)
    );
    let before = server.request_count();
    let started = Instant::now();
    let again = sync_source(&mut store, &pypi, &SyncOptions::default()).unwrap();
    let took = started.elapsed();
    assert!(again.not_modified);
    assert_eq!(again.requests, 1);
    assert_eq!(server.request_count() - before, 1);
    assert_eq!(
        server
            .not_modified
            .load(std::sync::atomic::Ordering::SeqCst),
        1
    );
    assert_eq!(again.record_count, 70);
    assert!(took.as_secs_f64() < 1.0, "unchanged sync took {took:?}");
    let status = store.source_status(&pypi.key()).unwrap().unwrap();
    assert!(status.last_error.is_none() && status.last_sync.is_some());
    let groups = store.group_status().unwrap();
    let g = groups.iter().find(|g| g.group == "PyPI").unwrap();
    assert_eq!((g.feed.as_str(), g.record_count), ("osv", 70));
}

#[test]
fn all_corpus_feeds_sync_over_http() {
    let server = Server::start();
    let mut sources = support::serve_osv_exports(&server);
    sources.extend(support::serve_alpine(&server));
    sources.push(support::serve_debian_entries(&server));
    server.put(
        "/tracker/data/json",
        std::fs::read(
            support::corpus().join(
                "distro/debian-tracker-json/google-osv.dev/debian_security_tracker_mock.json",
            ),
        )
        .unwrap(),
    );
    sources.push(format!(
        "debian-tracker:{}",
        server.url("/tracker/data/json")
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    for s in &sources {
        let r = sync_source(&mut store, &src(s), &SyncOptions::default()).unwrap();
        assert!(r.record_count > 0, "{s}: {r:?}");
        assert_eq!(r.malformed, 0, "{s}: {r:?}");
    }
    let groups = store.group_status().unwrap();
    for want in [
        "PyPI",
        "Go",
        "crates.io",
        "npm",
        "Maven",
        "Alpine:v3.12",
        "Alpine:v3.20",
        "Debian:12",
        "Debian:11",
    ] {
        assert!(
            groups.iter().any(|g| g.group == want && g.record_count > 0),
            "{want}: {groups:?}"
        );
    }
    let snap = store.snapshot().unwrap();
    // Withdrawn Go records are stored (and ignored by matching).
    let zlib = snap.advisories_by_id("CVE-2022-37434").unwrap();
    assert!(zlib.iter().any(|a| a.feed == "alpine-secdb"));
    // The osv.dev tracker fixture: apparmor CVE-2016-1585 open in bookworm.
    let app = snap.advisories_by_id("CVE-2016-1585").unwrap();
    assert_eq!(app.len(), 1);
}

#[test]
fn edited_records_apply_only_changes_and_removals() {
    // Real RustSec records; the second export edits one (newer `modified`), rolls another back to an
    // older `modified`, and drops a third, as an upstream change would.
    let server = Server::start();
    let mut records = osv_records("crates");
    server.put("/crates.io/all.zip", zip_of(&records));
    let source = src(&format!("osv:{}", server.url("/crates.io/all.zip")));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    let first = sync_source(&mut store, &source, &SyncOptions::default()).unwrap();
    assert_eq!(first.added, 52);

    let edit = |bytes: &[u8], modified: &str, summary: &str| {
        let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
        v["modified"] = serde_json::json!(modified);
        v["summary"] = serde_json::json!(summary);
        serde_json::to_vec(&v).unwrap()
    };
    records[0].1 = edit(&records[0].1, "2099-01-01T00:00:00Z", "edited upstream");
    // Roll back one record that has a real date (Go records carry `0001-01-01`).
    let dated = 1 + records
        .iter()
        .skip(1)
        .position(|(_, b)| {
            let v: serde_json::Value = serde_json::from_slice(b).unwrap();
            v["modified"].as_str().is_some_and(|m| m > "2000")
        })
        .unwrap();
    records[dated].1 = edit(
        &records[dated].1,
        "1999-01-01T00:00:00Z",
        "stale mirror copy",
    );
    let drop_at = if dated == 1 { 2 } else { 1 };
    let dropped = records.remove(drop_at).0;
    server.put("/crates.io/all.zip", zip_of(&records));
    let second = sync_source(&mut store, &source, &SyncOptions::default()).unwrap();
    assert!(!second.not_modified);
    assert_eq!(
        (
            second.added,
            second.updated,
            second.older,
            second.removed,
            second.unchanged
        ),
        (0, 1, 1, 1, 49)
    );
    assert_eq!(second.record_count, 51);
    let snap = store.snapshot().unwrap();
    let id = dropped.trim_end_matches(".json");
    assert!(snap.advisories_by_id(id).unwrap().is_empty());
}

fn stored_ids(store: &mut Store) -> Vec<String> {
    let snap = store.snapshot().unwrap();
    let mem = snap.to_memory().unwrap();
    let mut ids: Vec<String> = [
        "requests",
        "urllib3",
        "jinja2",
        "pyyaml",
        "pip",
        "setuptools",
    ]
    .iter()
    .flat_map(|n| mem.advisories_for(n).unwrap())
    .map(|a| a.advisory.id.clone())
    .collect();
    ids.sort();
    ids
}

#[test]
fn sync_aborted_half_way_leaves_previous_store_intact() {
    let server = Server::start();
    let records = osv_records("PyPI");
    server.put("/PyPI/all.zip", zip_of(&records[..35]));
    let source = src(&format!("osv:{}", server.url("/PyPI/all.zip")));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    sync_source(&mut store, &source, &SyncOptions::default()).unwrap();
    let before = stored_ids(&mut store);
    let groups_before = store.group_status().unwrap();

    // The full export is published; the sync dies after applying half of it.
    server.put("/PyPI/all.zip", zip_of(&records));
    let opts = SyncOptions {
        abort_after: Some(35),
        ..SyncOptions::default()
    };
    let err = sync_source(&mut store, &source, &opts).unwrap_err();
    assert!(matches!(err, VulnDbError::Aborted { .. }), "{err}");
    assert_eq!(stored_ids(&mut store), before);
    let status = store.source_status(&source.key()).unwrap().unwrap();
    assert_eq!(status.record_count, 35);
    assert!(status.last_error.as_deref().unwrap().contains("aborted"));
    let groups_after = store.group_status().unwrap();
    assert_eq!(groups_after[0].record_count, groups_before[0].record_count);
    assert!(groups_after[0].last_error.is_some());

    // The next sync (failed attempts do not keep validators) applies everything.
    let ok = sync_source(&mut store, &source, &SyncOptions::default()).unwrap();
    assert_eq!((ok.added, ok.unchanged, ok.record_count), (35, 35, 70));
    assert!(
        store
            .source_status(&source.key())
            .unwrap()
            .unwrap()
            .last_error
            .is_none()
    );
}

#[test]
fn cut_connection_leaves_previous_store_intact() {
    let server = Server::start();
    let records = osv_records("crates");
    server.put("/crates.io/all.zip", zip_of(&records[..10]));
    let source = src(&format!("osv:{}", server.url("/crates.io/all.zip")));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    sync_source(&mut store, &source, &SyncOptions::default()).unwrap();
    server.put_truncated("/crates.io/all.zip", zip_of(&records));
    let err = sync_source(&mut store, &source, &SyncOptions::default()).unwrap_err();
    assert!(
        matches!(err, VulnDbError::Http { .. } | VulnDbError::Archive { .. }),
        "{err}"
    );
    assert_eq!(
        store
            .source_status(&source.key())
            .unwrap()
            .unwrap()
            .record_count,
        10
    );
}

#[test]
fn reader_snapshot_does_not_see_a_sync_in_progress_or_after() {
    let records = osv_records("npm");
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Store::open_dir(dir.path()).unwrap();
    let mut reader = Store::open_dir(dir.path()).unwrap();
    let folder = tempfile::tempdir().unwrap();
    std::fs::write(folder.path().join(&records[0].0), &records[0].1).unwrap();
    let source = src(&format!("osv:{}", folder.path().display()));
    sync_source(&mut writer, &source, &SyncOptions::default()).unwrap();
    let snap = reader.snapshot().unwrap();
    assert_eq!(snap.advisories_for("lodash").unwrap().len(), 1);
    assert_eq!(snap.advisories_for("minimist").unwrap().len(), 0);
    std::fs::write(folder.path().join(&records[1].0), &records[1].1).unwrap();
    sync_source(&mut writer, &source, &SyncOptions::default()).unwrap();
    // The open snapshot still sees the store as it was when it began.
    assert_eq!(snap.advisories_for("minimist").unwrap().len(), 0);
    drop(snap);
    let fresh = reader.snapshot().unwrap();
    assert_eq!(fresh.advisories_for("minimist").unwrap().len(), 1);
}

#[test]
fn synthetic_malformed_records_are_counted_not_fatal() {
    let server = Server::start();
    let mut records = osv_records("npm");
    records.push(("broken.json".into(), b"{\"id\": ".to_vec()));
    records.push(("no-id.json".into(), b"{\"summary\": \"x\"}".to_vec()));
    records.push(("huge.json".into(), vec![b' '; 5 << 20]));
    server.put("/npm/all.zip", zip_of(&records));
    let source = src(&format!("osv:{}", server.url("/npm/all.zip")));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    let r = sync_source(&mut store, &source, &SyncOptions::default()).unwrap();
    assert_eq!((r.added, r.malformed), (2, 3));
    assert_eq!(r.malformed_samples.len(), 3);
    assert!(
        r.malformed_samples
            .iter()
            .any(|m| m.contains("huge.json") && m.contains("limit"))
    );
    assert_eq!(
        store
            .source_status(&source.key())
            .unwrap()
            .unwrap()
            .malformed_count,
        3
    );
}

#[test]
fn synthetic_not_a_zip_is_an_error_that_keeps_the_store() {
    let server = Server::start();
    server.put(
        "/Go/all.zip",
        b"PK\x03\x04 this is not really a zip".to_vec(),
    );
    let source = src(&format!("osv:{}", server.url("/Go/all.zip")));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    assert!(sync_source(&mut store, &source, &SyncOptions::default()).is_err());
    let missing = src(&format!("osv:{}", server.url("/nothing/all.zip")));
    let err = sync_source(&mut store, &missing, &SyncOptions::default()).unwrap_err();
    assert!(err.to_string().contains("404"), "{err}");
}

#[test]
fn source_strings() {
    let s = src("alpine-secdb:https://secdb.alpinelinux.org/v3.20/main.json");
    assert_eq!(s.kind, anchorage_vulndb::FeedKind::AlpineSecdb);
    let o = src("https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip");
    assert_eq!(o.kind, anchorage_vulndb::FeedKind::Osv);
    assert_eq!(
        o.key(),
        "osv:https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
    );
    assert!("".parse::<FeedSource>().is_err());
    assert!("nvd:".parse::<FeedSource>().is_err());
    let d = FeedSource::defaults();
    assert!(
        d.iter()
            .any(|s| s.key().ends_with("/Rocky%20Linux/all.zip"))
    );
}

#[test]
fn synthetic_nvd_api_pages_are_all_fetched() {
    // Two pages in the NVD CVE API 2.0 shape; scores are NVD's published vectors for these CVEs.
    let page = |start: u64, id: &str, vector: &str| {
        serde_json::to_vec(&serde_json::json!({
            "resultsPerPage": 1, "startIndex": start, "totalResults": 2, "format": "NVD_CVE",
            "version": "2.0",
            "vulnerabilities": [{"cve": {"id": id, "metrics": {"cvssMetricV31": [
                {"type": "Primary", "cvssData": {"version": "3.1", "vectorString": vector}}]}}}]
        }))
        .unwrap()
    };
    let server = Server::start();
    server.put(
        "/rest/json/cves/2.0?startIndex=0",
        page(
            0,
            "CVE-2022-37434",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        ),
    );
    server.put(
        "/rest/json/cves/2.0?startIndex=1",
        page(
            1,
            "CVE-2019-10744",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H",
        ),
    );
    let source = src(&format!("nvd:{}", server.url("/rest/json/cves/2.0")));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    let mut opts = SyncOptions::default();
    opts.limits.nvd_page_delay_ms = 0;
    let r = sync_source(&mut store, &source, &opts).unwrap();
    assert_eq!((r.requests, r.added, r.record_count), (2, 2, 2));
    let snap = store.snapshot().unwrap();
    let e = snap.nvd("CVE-2019-10744").unwrap().unwrap();
    assert_eq!(e.cvss_v3.unwrap().base_score, Some(9.1));
}

/// [`anchorage_vulndb::sync_source`] on a runtime made for the test (the library creates none).
fn sync_source(
    store: &mut anchorage_vulndb::Store,
    source: &anchorage_vulndb::FeedSource,
    options: &anchorage_vulndb::SyncOptions,
) -> Result<anchorage_vulndb::SyncReport, anchorage_vulndb::VulnDbError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anchorage_vulndb::VulnDbError::BadSource(format!("test runtime: {e}")))?
        .block_on(anchorage_vulndb::sync_source(store, source, options))
}
