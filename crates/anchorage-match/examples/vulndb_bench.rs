//! Benchmark of the vulnerability store and matcher (numbers for the closing note).
//!
//! Run: `cargo run --release -p anchorage-match --example vulndb_bench [RECORDS] [PACKAGES]`
//! (defaults 200000 and 10000). The OSV records and the analysis are SYNTHETIC (generated
//! here with realistic shapes: aliases, CVSS v3 vector, ECOSYSTEM ranges, version lists for
//! PyPI); the feed is served as `<base>/<ecosystem>/all.zip`-style zip over a local HTTP server.
//! Measures: ingest rate (records/s), store bytes per 100k records, match time of the analysis
//! against the store (SQL snapshot, and in-memory after loading it), and the cost of syncing
//! the unchanged feed (conditional request count and time). `VULNDB_BENCH_KEEP=FILE` keeps a
//! copy of the store for inspection.

#![allow(clippy::print_stdout, clippy::unwrap_used)]

#[path = "../../anchorage-vulndb/tests/support/mod.rs"]
mod feeds;

use std::io::Write as _;
use std::time::Instant;

use anchorage_catalog::{Analysis, Distro, ImageMetadata, Package, SourceInfo};
use anchorage_match::match_analysis;
use anchorage_types::{Location, PackageType};
use anchorage_vulndb::{FeedSource, Store, SyncOptions};

const ECOS: [&str; 3] = ["Debian:12", "PyPI", "npm"];

fn record(i: usize, names_per_eco: usize) -> (String, Vec<u8>) {
    let eco = ECOS[i % 3];
    let name = format!("pkg{}", (i / 3) % names_per_eco);
    let fixed_minor = i % 17;
    let mut affected = serde_json::json!({
        "package": {"ecosystem": eco, "name": name},
        "ranges": [{"type": "ECOSYSTEM", "events": [
            {"introduced": "0"}, {"fixed": format!("1.{fixed_minor}.0-1")}
        ]}],
    });
    if eco == "PyPI" {
        affected["ranges"][0]["events"][1] =
            serde_json::json!({"fixed": format!("1.{fixed_minor}.0")});
        affected["versions"] = (0..fixed_minor.max(1))
            .flat_map(|m| (0..3).map(move |p| format!("1.{m}.{p}")))
            .collect();
    }
    if eco == "npm" {
        affected["ranges"][0]["events"][1] =
            serde_json::json!({"fixed": format!("1.{fixed_minor}.0")});
    }
    let id = format!("SYN-{i:07}");
    let rec = serde_json::json!({
        "schema_version": "1.6.0",
        "id": id,
        "modified": "2026-11-01T00:00:00Z",
        "published": "2026-10-01T00:00:00Z",
        "aliases": [format!("CVE-2099-{i:07}")],
        "summary": format!("synthetic advisory {i} in {name}"),
        "details": "A synthetic description of about the length real advisories have: an attacker able to send crafted input can cause memory corruption in the parser, leading to denial of service or possibly code execution. Upgrade to the fixed version.",
        "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
        "affected": [affected],
        "references": [
            {"type": "ADVISORY", "url": format!("https://example.invalid/advisories/{id}")},
            {"type": "FIX", "url": format!("https://example.invalid/fix/{i}")}
        ],
        "database_specific": {"severity": "HIGH", "cwe_ids": ["CWE-787"]}
    });
    (format!("{id}.json"), serde_json::to_vec(&rec).unwrap())
}

fn analysis(packages: usize, names_per_eco: usize, percent_known: usize) -> Analysis {
    let mut list = Vec::with_capacity(packages);
    for i in 0..packages {
        let (t, purl_type) = match i % 10 {
            0..=3 => (PackageType::Dpkg, "deb"),
            4..=6 => (PackageType::Python, "pypi"),
            _ => (PackageType::Npm, "npm"),
        };
        // `percent_known` % of the names have records in the feed (about 4 each).
        let name = if (i * 37) % 100 < percent_known {
            format!("pkg{}", (i * 7) % names_per_eco)
        } else {
            format!("other{i}")
        };
        let version = if t == PackageType::Dpkg {
            "1.5.0-1"
        } else {
            "1.5.0"
        };
        list.push(Package {
            id: format!("p{i}"),
            name: name.clone(),
            version: version.into(),
            package_type: t,
            purl: format!("pkg:{purl_type}/{name}@{version}"),
            cpes: Vec::new(),
            licenses: Vec::new(),
            locations: vec![Location::new(format!("/synthetic/{i}"), None)],
            source_name: None,
            source_version: None,
            arch: None,
            owner: None,
            metadata: Default::default(),
        });
    }
    Analysis {
        schema_version: anchorage_catalog::ANALYSIS_SCHEMA_VERSION.into(),
        source: SourceInfo {
            scheme: "dir".into(),
            input: "synthetic".into(),
            reference: None,
            manifest_digest: None,
            config_digest: None,
            index_digest: None,
        },
        image: ImageMetadata::default(),
        distro: Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            ..Distro::default()
        },
        packages: list,
        files: Vec::new(),
        relationships: Vec::new(),
        secrets: Vec::new(),
        content_hits: Vec::new(),
        retrieved_files: Vec::new(),
        warnings: Vec::new(),
        malware: Vec::new(),
        analyzed_at: chrono::Utc::now(),
    }
}

fn dir_size(dir: &std::path::Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        let len = e.metadata().unwrap().len();
        println!(
            "  {}: {:.1} MB",
            e.file_name().to_string_lossy(),
            len as f64 / 1e6
        );
        total += len;
    }
    total
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let packages: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let names_per_eco = (n / 3 / 4).max(1); // about 4 records per package name

    let t = Instant::now();
    let records: Vec<(String, Vec<u8>)> = (0..n).map(|i| record(i, names_per_eco)).collect();
    let raw: usize = records.iter().map(|(_, b)| b.len()).sum();
    let zip = feeds::zip_of(&records);
    drop(records);
    println!(
        "generated {n} synthetic OSV records ({:.1} MB JSON, zip {:.1} MB) in {:.1} s",
        raw as f64 / 1e6,
        zip.len() as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );

    let server = feeds::Server::start();
    server.put("/Synthetic/all.zip", zip);
    let source: FeedSource = format!("osv:{}", server.url("/Synthetic/all.zip"))
        .parse()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();

    let t = Instant::now();
    let report = sync_source(&mut store, &source, &SyncOptions::default()).unwrap();
    let ingest = t.elapsed().as_secs_f64();
    println!(
        "ingest (download + unzip + parse + store, one transaction): {} records in {ingest:.2} s = {:.0} records/s",
        report.record_count,
        report.record_count as f64 / ingest
    );
    drop(store);
    let mut store = Store::open_dir(dir.path()).unwrap();
    // Fold the WAL into the main file before measuring.
    {
        let snap = store.snapshot().unwrap();
        drop(snap);
    }
    drop(store);
    let conn_dir = dir.path();
    let size = dir_size(conn_dir);
    if let Some(keep) = std::env::var_os("VULNDB_BENCH_KEEP") {
        std::fs::copy(conn_dir.join(anchorage_vulndb::STORE_FILE), keep).unwrap();
    }
    println!(
        "store on disk: {:.1} MB total = {:.1} MB per 100k records",
        size as f64 / 1e6,
        size as f64 / 1e6 / (n as f64 / 100_000.0)
    );

    let mut store = Store::open_dir(dir.path()).unwrap();
    let snap = store.snapshot().unwrap();
    let t = Instant::now();
    let mem = snap.to_memory().unwrap();
    println!(
        "load the whole store into memory: {:.2} s",
        t.elapsed().as_secs_f64()
    );
    drop(snap);
    for percent in [10, 50] {
        let a = analysis(packages, names_per_eco, percent);
        for round in 0..3 {
            let snap = store.snapshot().unwrap();
            let t = Instant::now();
            let r = match_analysis(&a, &snap).unwrap();
            println!(
                "match {packages} packages, {percent}% with records (SQL snapshot, round {round}): {:.1} ms, {} findings",
                t.elapsed().as_secs_f64() * 1e3,
                r.findings.len()
            );
        }
        for round in 0..3 {
            let t = Instant::now();
            let r = match_analysis(&a, &mem).unwrap();
            println!(
                "match {packages} packages, {percent}% with records (in-memory, round {round}): {:.1} ms, {} findings",
                t.elapsed().as_secs_f64() * 1e3,
                r.findings.len()
            );
        }
    }

    let before = server.request_count();
    let t = Instant::now();
    let again = sync_source(&mut store, &source, &SyncOptions::default()).unwrap();
    println!(
        "unchanged feed sync: not_modified={}, {} request(s), {:.1} ms",
        again.not_modified,
        server.request_count() - before,
        t.elapsed().as_secs_f64() * 1e3
    );
    std::io::stdout().flush().unwrap();
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
