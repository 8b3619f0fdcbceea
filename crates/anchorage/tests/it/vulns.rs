//! `anchorage feeds`, `scan` and `explain` end to end on corpus images and feeds.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use std::path::Path;
use std::process::{Command, Output};

use anchorage_testkit::corpus_dir as corpus;

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

#[test]
fn explain_names_the_chain_of_dependents() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let src = format!(
        "dir:{}",
        corpus().join("images/debian-bookworm-app").display()
    );
    for (vuln, chain) in [
        // package-lock.json: the project depends on lodash
        (
            "CVE-2019-10744",
            "required by: corpus-node-app 1.0.0 -> lodash 4.17.4",
        ),
        // dpkg status: apt Depends on libapt-pkg6.0
        (
            "CVE-2011-3374",
            "required by: apt 2.6.1 -> libapt-pkg6.0 2.6.1",
        ),
        // the venv: requests' Requires-Dist names certifi
        (
            "CVE-2022-23491",
            "required by: requests 2.19.1 -> certifi 2018.4.16",
        ),
    ] {
        let out = run(&["explain", vuln, &src, "--db-dir", &db]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = stdout(&out);
        assert!(text.contains(chain), "{vuln}: {text}");
    }
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

/// A bundle that STOPs on any finding without a fix (severity low or higher, including
/// findings the vendor will not fix).
fn unfixed_stop_bundle(dir: &Path) -> String {
    let bundle = serde_json::json!({
        "id": "unfixed-bundle", "name": "unfixed", "version": "1_0",
        "policies": [{"id": "p1", "name": "p1", "version": "1_0", "rules": [{
            "id": "r-unfixed", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
            "params": [
                {"name": "package_type", "value": "all"},
                {"name": "severity_comparison", "value": ">="},
                {"name": "severity", "value": "low"},
                {"name": "fix_available", "value": "false"},
                {"name": "vendor_only", "value": "false"}
            ]
        }]}],
        "whitelists": [],
        "mappings": [{"name": "all", "registry": "*", "repository": "*",
                      "image": {"type": "tag", "value": "*"}, "policy_id": "p1", "whitelist_ids": []}]
    });
    let path = dir.join("unfixed-bundle.json");
    std::fs::write(&path, serde_json::to_vec(&bundle).unwrap()).unwrap();
    path.display().to_string()
}

/// Issue 13 item 5: `--only-fixed` filters the printed findings only. Debian bookworm has an
/// unfixed Low finding; the bundle STOPs on it with and without `--only-fixed` (before the
/// fix, `--only-fixed` removed it from the policy input and the verdict became GO).
#[test]
fn only_fixed_never_hides_a_finding_from_the_policy() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let bundle = unfixed_stop_bundle(dir.path());
    let src = format!("dir:{}", corpus().join("images/debian-bookworm").display());
    for only_fixed in [false, true] {
        let mut args = vec![
            "scan", &src, "--db-dir", &db, "--policy", &bundle, "-o", "json",
        ];
        if only_fixed {
            args.push("--only-fixed");
        }
        let out = run(&args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "only_fixed={only_fixed}: {err}");
        assert!(err.contains("final action STOP"), "{err}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let unfixed_printed = v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["fix"]["state"] != "fixed");
        assert_eq!(unfixed_printed, !only_fixed, "{v}");
        assert_eq!(v["policy_evaluation"]["final_action"], "stop");
    }
}

/// Issue 13 item 15: with `--policy`, the json, anchore-json and sarif outputs carry the
/// evaluation (final action, reason, every fired row); the existing members stay.
#[test]
fn machine_outputs_carry_the_policy_verdict() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let bundle = unfixed_stop_bundle(dir.path());
    let src = format!("dir:{}", corpus().join("images/debian-bookworm").display());
    for (format, existing, eval_at) in [
        ("json", "findings", vec![]),
        ("anchore-json", "vulnerabilities", vec![]),
        ("sarif", "runs", vec!["runs", "0", "properties"]),
    ] {
        let out = run(&[
            "scan", &src, "--db-dir", &db, "--policy", &bundle, "-o", format,
        ]);
        assert_eq!(out.status.code(), Some(1), "{format}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v.get(existing).is_some(), "{format} keeps {existing}");
        let mut e = &v;
        for k in &eval_at {
            e = match k.parse::<usize>() {
                Ok(i) => &e[i],
                Err(_) => &e[*k],
            };
        }
        let e = &e["policy_evaluation"];
        assert_eq!(e["final_action"], "stop", "{format}: {v}");
        assert_eq!(e["final_action_reason"], "policy_evaluation", "{format}");
        assert_eq!(e["bundle_id"], "unfixed-bundle", "{format}");
        let rows = e["rows"].as_array().unwrap();
        assert!(!rows.is_empty(), "{format}");
        assert!(
            rows.iter()
                .all(|r| r["gate"] == "vulnerabilities" && r["action"] == "stop"),
            "{format}: {rows:?}"
        );
    }
    // Without --policy, no evaluation member is added.
    let out = run(&["scan", &src, "--db-dir", &db, "-o", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("policy_evaluation").is_none());
}

/// Issue 13 item 15: FIXED-IN shows the nearest fix above the installed version. urllib3 1.23
/// in the bookworm app image is fixed for CVE-2023-43804 in 2.0.6 and 1.26.17 (two release
/// lines); the table showed both, it now shows 1.26.17 (the anchore-json `fix` column keeps
/// Anchore's full list).
#[test]
fn fixed_in_shows_the_nearest_fix_above_the_installed_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let src = format!(
        "dir:{}",
        corpus().join("images/debian-bookworm-app").display()
    );
    let table = stdout(&run(&["scan", &src, "--db-dir", &db]));
    let line = table
        .lines()
        .find(|l| l.starts_with("urllib3 ") && l.contains("CVE-2023-43804"))
        .unwrap_or_else(|| panic!("{table}"));
    let cells: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(cells[..3], ["urllib3", "1.23", "1.26.17"], "{line}");
    let anchore = stdout(&run(&["scan", &src, "--db-dir", &db, "-o", "anchore-json"]));
    assert!(anchore.contains("\"2.0.6,1.26.17\""), "{anchore}");
}

/// Issue 13 item 15: log lines carry no colour codes when stderr is not a terminal.
#[test]
fn logs_have_no_colour_codes_off_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty-db").display().to_string();
    let src = format!("dir:{}", corpus().join("images/debian-bookworm").display());
    let out = run(&["scan", &src, "--db-dir", &empty]);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(err.contains("no vulnerability feeds synced"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

/// Issue 13 item 15: an error prints each cause once (it printed "No such file or directory"
/// three times).
#[test]
fn a_missing_archive_prints_each_cause_once() {
    let out = run(&["sbom", "docker-archive:/nonexistent/missing.tar"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: acquiring docker-archive:/nonexistent/missing.tar: \
         /nonexistent/missing.tar: No such file or directory (os error 2)\n"
    );
}

/// `[scan]` in the config file sets scan defaults; a flag wins.
#[test]
fn scan_section_of_the_config_file_sets_defaults() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let config = dir.path().join("anchorage.toml");
    std::fs::write(
        &config,
        "[scan]\nfail_on = \"unknown\"\noutput = \"json\"\n",
    )
    .unwrap();
    let config = config.display().to_string();
    let src = format!(
        "oci-archive:{}",
        corpus()
            .join("images/archives/alpine-3.12.oci.tar")
            .display()
    );
    let out = run(&["scan", &src, "--db-dir", &db, "--config", &config]);
    assert_eq!(out.status.code(), Some(1), "fail_on from the file");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v.get("findings").is_some(), "output from the file");
    let flags = run(&[
        "scan",
        &src,
        "--db-dir",
        &db,
        "--config",
        &config,
        "--fail-on",
        "critical",
        "-o",
        "table",
    ]);
    assert_eq!(flags.status.code(), Some(0));
    assert!(stdout(&flags).starts_with("NAME"));
}

/// Issue 13 item 4: `--dockerfile` feeds the `dockerfile` gate the actual Dockerfile, and
/// `--content-search` (or the config file's `[scan] content_search`) feeds
/// `files/content_regex_match`; before, both gates were silently fed nothing from the CLI.
#[test]
fn dockerfile_and_content_search_reach_their_gates() {
    let dir = tempfile::tempdir().unwrap();
    let db = synced_db(dir.path());
    let bundle = serde_json::json!({
        "id": "b", "name": "b", "version": "1_0",
        "policies": [{"id": "p1", "name": "p1", "version": "1_0", "rules": [
            {"id": "r-nodf", "gate": "dockerfile", "trigger": "no_dockerfile_provided",
             "action": "WARN", "params": []},
            {"id": "r-user", "gate": "dockerfile", "trigger": "instruction", "action": "STOP",
             "params": [{"name": "instruction", "value": "USER"},
                        {"name": "check", "value": "="}, {"name": "value", "value": "root"},
                        {"name": "actual_dockerfile_only", "value": "true"}]},
            {"id": "r-content", "gate": "files", "trigger": "content_regex_match",
             "action": "WARN", "params": [{"name": "regex_name", "value": "DEBIAN_12"}]}
        ]}],
        "whitelists": [],
        "mappings": [{"name": "all", "registry": "*", "repository": "*",
                      "image": {"type": "tag", "value": "*"}, "policy_id": "p1", "whitelist_ids": []}]
    });
    let bundle_path = dir.path().join("bundle.json");
    std::fs::write(&bundle_path, serde_json::to_vec(&bundle).unwrap()).unwrap();
    let dockerfile = dir.path().join("Dockerfile");
    std::fs::write(
        &dockerfile,
        "FROM debian:bookworm\nUSER root\nCMD [\"bash\"]\n",
    )
    .unwrap();
    let src = format!("dir:{}", corpus().join("images/debian-bookworm").display());
    let triggers = |extra: &[&str]| {
        let mut args = vec![
            "scan",
            &src,
            "--db-dir",
            &db,
            "--policy",
            bundle_path.to_str().unwrap(),
            "-o",
            "json",
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
        let mut t: Vec<String> = v["policy_evaluation"]["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["trigger"].as_str().unwrap().to_string())
            .collect();
        t.sort();
        (out.status.code(), t)
    };
    assert_eq!(
        triggers(&[]),
        (Some(0), vec!["no_dockerfile_provided".to_string()])
    );
    let df = dockerfile.to_str().unwrap();
    assert_eq!(
        triggers(&[
            "--dockerfile",
            df,
            "--content-search",
            r"DEBIAN_12=^12\.\d+"
        ]),
        (
            Some(1),
            vec!["content_regex_match".to_string(), "instruction".to_string()]
        )
    );
    // A rule that cannot compile is refused up front, naming it.
    let out = run(&["scan", &src, "--db-dir", &db, "--content-search", "BAD=("]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid regular expression"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
