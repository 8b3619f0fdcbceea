//! `anchorage feeds`, `scan` and `explain` end to end on corpus images and feeds.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anchorage"))
        .args(args)
        .env_remove("ANCHORAGE_DATA_DIR")
        .env_remove("ANCHORAGE_FEED_SOURCES")
        .output()
        .unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn synced_db(dir: &Path) -> String {
    let db = dir.join("db").display().to_string();
    let c = corpus();
    let out = run(&[
        "feeds",
        "sync",
        "--db-dir",
        &db,
        "--source",
        &format!(
            "debian-tracker:{}",
            c.join("distro/debian-tracker").display()
        ),
        "--source",
        &format!(
            "alpine-secdb:{}",
            c.join("distro/alpine-secdb-json").display()
        ),
        "--source",
        &format!("osv:{}", c.join("osv").display()),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

#[test]
fn feeds_sync_and_status() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let status = run(&["feeds", "status", "--db-dir", &db, "--json"]);
    assert!(status.status.success());
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["sources"].as_array().unwrap().len(), 3);
    assert!(
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["group"] == "Alpine:v3.12")
    );

    // A source that cannot be read fails with exit 2 and is recorded; the data stays.
    let bad = run(&[
        "feeds",
        "sync",
        "--db-dir",
        &db,
        "--source",
        "osv:/nonexistent/feed.zip",
    ]);
    assert_eq!(bad.status.code(), Some(2));
    let status = run(&["feeds", "status", "--db-dir", &db]);
    let text = stdout(&status);
    assert!(
        text.contains("/nonexistent/feed.zip") && text.contains("No such file"),
        "{text}"
    );
    assert!(text.contains("Alpine:v3.12\t46"), "{text}");
}

#[test]
fn scan_alpine_archive_outputs_and_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let src = format!(
        "oci-archive:{}",
        corpus()
            .join("images/archives/alpine-3.12.oci.tar")
            .display()
    );
    let out = run(&["scan", &src, "--db-dir", &db]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = stdout(&out);
    assert!(table.starts_with("NAME"), "{table}");
    assert!(
        table.contains("CVE-2022-37434") && table.contains("1.2.12-r2"),
        "{table}"
    );

    let fail = run(&["scan", &src, "--db-dir", &db, "--fail-on", "unknown"]);
    assert_eq!(fail.status.code(), Some(1));
    let pass = run(&["scan", &src, "--db-dir", &db, "--fail-on", "critical"]);
    assert_eq!(pass.status.code(), Some(0));

    for (format, check) in [
        ("json", "findings"),
        ("sarif", "runs"),
        ("cyclonedx-json", "vulnerabilities"),
        ("anchore-json", "vulnerabilities"),
    ] {
        let out = run(&["scan", &src, "--db-dir", &db, "-o", format]);
        assert!(out.status.success(), "{format}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v.get(check).is_some(), "{format}: {v}");
        assert!(stdout(&out).contains("CVE-2022-37434"), "{format}");
    }
    let fixed = run(&["scan", &src, "--db-dir", &db, "--only-fixed"]);
    assert!(stdout(&fixed).contains("CVE-2022-37434"));

    let bad = run(&["scan", "oci-archive:/nonexistent.tar", "--db-dir", &db]);
    assert_eq!(bad.status.code(), Some(2));
}

#[test]
fn scan_of_distro_without_data_is_not_clean() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db").display().to_string();
    let sync = run(&[
        "feeds",
        "sync",
        "--db-dir",
        &db,
        "--source",
        &format!(
            "alpine-secdb:{}",
            corpus().join("distro/alpine-secdb-json").display()
        ),
    ]);
    assert!(sync.status.success());
    let src = format!("dir:{}", corpus().join("images/debian-trixie").display());
    let out = run(&["scan", &src, "--db-dir", &db]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        stdout(&out).contains("vulnerability data unavailable for Debian:13"),
        "{}",
        stdout(&out)
    );
    let gated = run(&[
        "scan",
        &src,
        "--db-dir",
        &db,
        "--fail-on",
        "critical",
        "-o",
        "json",
    ]);
    assert_eq!(gated.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&gated.stdout).unwrap();
    assert_eq!(v["vulnerability_data"]["status"], "unavailable");
}

#[test]
fn explain_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let src = format!("dir:{}", corpus().join("images/debian-bookworm").display());
    let out = run(&["explain", "CVE-2024-12243", &src, "--db-dir", &db]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(
        text.contains("DSA-5867-1") && text.contains("not affected"),
        "{text}"
    );
    assert!(text.contains("result: the image is not affected"), "{text}");
    let out = run(&["explain", "CVE-2016-2781", &src, "--db-dir", &db, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["package"]["name"], "coreutils");
}

/// The expected verdicts again, this time through the real engine (acquire `dir:` + the real
/// catalogers) and the CLI's JSON output.
#[test]
fn scan_json_of_corpus_images_matches_expected_tsv() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    for image in [
        "debian-bookworm",
        "debian-bullseye",
        "debian-trixie",
        "debian-bookworm-app",
        "alpine-3.12",
        "alpine-3.20",
    ] {
        let src = format!("dir:{}", corpus().join("images").join(image).display());
        let out = run(&["scan", &src, "--db-dir", &db, "-o", "json"]);
        assert!(
            out.status.success(),
            "{image}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["vulnerability_data"]["status"], "complete", "{image}");
        let mut found = std::collections::BTreeSet::new();
        for f in v["findings"].as_array().unwrap() {
            for e in f["evidence"].as_array().unwrap() {
                let on = e["matched_on"].as_str().unwrap();
                let source = on
                    .strip_prefix("source package ")
                    .and_then(|r| r.split(' ').next())
                    .unwrap_or_else(|| f["package"]["name"].as_str().unwrap());
                found.insert((
                    e["record_id"].as_str().unwrap().to_string(),
                    source.to_string(),
                ));
            }
        }
        let tsv =
            std::fs::read_to_string(corpus().join(format!("osv/expected/{image}.tsv"))).unwrap();
        let mut affected = std::collections::BTreeSet::new();
        for line in tsv.lines().skip(1) {
            let c: Vec<&str> = line.split('\t').collect();
            if c[1] == "Maven" {
                // The real Java cataloger names the package by artifact id.
                let hit = found.iter().any(|(r, _)| r == c[0]);
                assert_eq!(hit, c[5] == "affected", "{image}: {line}");
                continue;
            }
            let key = (c[0].to_string(), c[2].to_string());
            assert_eq!(found.contains(&key), c[5] == "affected", "{image}: {line}");
            if c[5] == "affected" {
                affected.insert(key);
            }
        }
        for (record, source) in &found {
            let language = record.starts_with("PYSEC-") || record.starts_with("GHSA-");
            assert!(
                language || affected.contains(&(record.clone(), source.clone())),
                "{image}: extra {record} on {source}"
            );
        }
    }
}

#[test]
fn scan_with_policy_bundle_stops_on_a_critical_vulnerability() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let bundle = serde_json::json!({
        "id": "vuln-bundle", "name": "vulns", "version": "1_0",
        "policies": [{"id": "p1", "name": "p1", "version": "1_0", "rules": [{
            "id": "r1", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
            "params": [
                {"name": "package_type", "value": "all"},
                {"name": "severity_comparison", "value": ">="},
                {"name": "severity", "value": "critical"}
            ]
        }]}],
        "whitelists": [],
        "mappings": [{"name": "all", "registry": "*", "repository": "*",
                      "image": {"type": "tag", "value": "*"}, "policy_id": "p1", "whitelist_ids": []}]
    });
    let path = dir.path().join("bundle.json");
    std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let bundle_arg = path.display().to_string();
    // The app image has critical npm findings (lodash, minimist): STOP, exit 1.
    let app = format!(
        "dir:{}",
        corpus().join("images/debian-bookworm-app").display()
    );
    let out = run(&["scan", &app, "--db-dir", &db, "--policy", &bundle_arg]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("final action STOP"), "{err}");
    // Minimal bookworm has nothing critical: GO, exit 0.
    let base = format!("dir:{}", corpus().join("images/debian-bookworm").display());
    let out = run(&["scan", &base, "--db-dir", &db, "--policy", &bundle_arg]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("final action GO"), "{err}");
}

#[test]
fn only_fixed_drops_findings_without_a_fix() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let src = format!("dir:{}", corpus().join("images/debian-bullseye").display());
    let all = stdout(&run(&["scan", &src, "--db-dir", &db, "-o", "anchore-json"]));
    assert!(all.contains("CVE-2016-2781") && all.contains("CVE-2024-12243"));
    let fixed = stdout(&run(&[
        "scan",
        &src,
        "--db-dir",
        &db,
        "-o",
        "anchore-json",
        "--only-fixed",
    ]));
    // coreutils <ignored> has no fix; gnutls28 is fixed in 3.7.1-5+deb11u7 (DLA-4063-1).
    assert!(!fixed.contains("CVE-2016-2781"), "{fixed}");
    assert!(
        fixed.contains("CVE-2024-12243") && fixed.contains("3.7.1-5+deb11u7"),
        "{fixed}"
    );
}

#[test]
fn feeds_sync_reads_sources_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db").display().to_string();
    let sources = format!(
        "osv:{}, alpine-secdb:{}",
        corpus().join("osv/npm").display(),
        corpus().join("distro/alpine-secdb-json").display()
    );
    let out = Command::new(env!("CARGO_BIN_EXE_anchorage"))
        .args(["feeds", "sync", "--db-dir", &db])
        .env("ANCHORAGE_FEED_SOURCES", &sources)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = stdout(&out);
    assert!(text.contains("osv/npm: 2 records"), "{text}");
    assert!(text.contains("alpine-secdb-json: 119 records"), "{text}");
}
