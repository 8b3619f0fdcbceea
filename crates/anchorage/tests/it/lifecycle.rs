//! Data lifecycle end to end: the analysis archive through the real anchore-cli 0.9.3
//! (`analysis-archive images|rules ...`) and our own client, with images built from real
//! registry packages (a tag that moves to a new digest); and `anchorage admin backup|restore`
//! of a whole deployment with analysed images, SQLite -> PostgreSQL -> SQLite, after which
//! `GET images`, the vulnerability reports and the policy results are the same.

#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "tests fail loudly and print their measurements"
)]
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

use crate::engine::{ADMIN_PASSWORD, PushedApp, REGISTRY_PASSWORD, REGISTRY_USER, Server};
use crate::serve::{AnchoreCli as _, CLI, PgDb, envelope, http};

const CLIENT_VARS: &[&str] = &[
    "ANCHORAGE_URL",
    "ANCHORAGE_USER",
    "ANCHORAGE_PASS",
    "ANCHORAGE_ACCOUNT",
    "ANCHORE_CLI_URL",
    "ANCHORE_CLI_USER",
    "ANCHORE_CLI_PASS",
    "ANCHORE_CLI_ACCOUNT",
    "ANCHORE_CLI_JSON",
    "ANCHORAGE_DATABASE_URL",
    "ANCHORAGE_SECRET_KEY",
];

/// Runs `anchorage ARGS` in `cwd` with `env`; returns (exit code, stdout, stderr). No output
/// may show a password.
fn anchorage(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anchorage"));
    cmd.args(args).current_dir(cwd).stdin(Stdio::null());
    for v in CLIENT_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    );
    for secret in [ADMIN_PASSWORD, REGISTRY_PASSWORD] {
        assert!(
            !stdout.contains(secret) && !stderr.contains(secret),
            "anchorage {args:?} printed a password:\n{stdout}{stderr}"
        );
    }
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// Our client as admin against `server`; the command must succeed. Returns stdout.
fn ours(server: &Server, args: &[&str]) -> String {
    let env = [
        ("ANCHORAGE_URL", server.url.as_str()),
        ("ANCHORAGE_USER", "admin"),
        ("ANCHORAGE_PASS", ADMIN_PASSWORD),
    ];
    let (code, out, err) = anchorage(server.dir.path(), &env, args);
    assert_eq!(code, 0, "anchorage {args:?}:\n{out}{err}\n{}", server.log());
    out
}

fn get(server: &Server, path: &str) -> (u16, Value) {
    let (code, body) = http(
        "GET",
        &format!("{}{path}", server.url),
        Some(("admin", ADMIN_PASSWORD)),
        None,
    );
    let v = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (code, v)
}

fn get_ok(server: &Server, path: &str) -> Value {
    let (code, v) = get(server, path);
    assert_eq!(code, 200, "GET {path}: {v}\n{}", server.log());
    v
}

/// Registry credentials, the tag added and analysed; returns its digest.
fn add_and_wait(server: &Server, tag: &str) -> String {
    let out = server.ok(&["image", "add", tag]);
    assert!(out.contains("Image Digest: sha256:"), "{out}");
    let out = server.ok(&["image", "wait", tag, "--timeout", "300", "--interval", "1"]);
    assert!(
        out.contains("Analysis Status: analyzed"),
        "{out}\n{}",
        server.log()
    );
    let v = get_ok(server, &format!("/images?fulltag={tag}"));
    v[0]["imageDigest"].as_str().unwrap().to_string()
}

fn ready(server: &Server, host: &str) {
    server.ok(&["system", "wait", "--timeout", "120", "--interval", "1"]);
    server.ok(&[
        "registry",
        "add",
        host,
        REGISTRY_USER,
        REGISTRY_PASSWORD,
        "--insecure",
    ]);
}

/// Removes the keys that record when a check ran (every check is a new evaluation).
fn without_times(v: &mut Value) {
    match v {
        Value::Object(m) => {
            for k in ["last_evaluation", "created_at", "last_modified", "evalId"] {
                m.remove(k);
            }
            m.values_mut().for_each(without_times);
        }
        Value::Array(a) => a.iter_mut().for_each(without_times),
        _ => {}
    }
}

/// What a user sees of an image: its record, its vulnerabilities, its policy result.
fn image_view(server: &Server, digest: &str, tag: &str) -> (Value, Value, Value) {
    let record = get_ok(server, &format!("/images/{digest}"));
    let vuln = get_ok(server, &format!("/images/{digest}/vuln/all"));
    let mut check = get_ok(
        server,
        &format!("/images/{digest}/check?tag={tag}&detail=true"),
    );
    without_times(&mut check);
    (record, vuln, check)
}

#[test]
fn analysis_archive_with_anchore_cli_and_our_client() {
    if !crate::engine::tools_ready("analysis_archive_with_anchore_cli_and_our_client", &[CLI]) {
        return;
    }
    let app = PushedApp::push();
    let server = Server::start(None, "");
    ready(&server, &app.host);
    let tag = app.tag.clone();
    let first = add_and_wait(&server, &tag);
    let (record, vuln, check) = image_view(&server, &first, &tag);
    assert!(
        vuln["vulnerabilities"]
            .as_array()
            .is_some_and(|v| !v.is_empty()),
        "{vuln}"
    );
    // The tag moves to a new digest: two images carry it.
    app.push_variant(1, "1.0");
    let second = add_and_wait(&server, &tag);
    assert_ne!(first, second);

    // anchore-cli: archive the older digest; it leaves the active images.
    let t = Instant::now();
    let out = server.ok(&["analysis-archive", "images", "add", &first]);
    let archive_secs = t.elapsed().as_secs_f64();
    assert!(out.contains(&first) && out.contains("archived"), "{out}");
    let listed = get_ok(&server, "/images?image_status=all");
    assert!(!listed.to_string().contains(&first), "{listed}");
    let (code, body) = get(&server, &format!("/images/{first}"));
    assert_eq!(code, 404, "{body}");
    assert!(
        envelope(code, &body.to_string()).contains("analysis archive"),
        "{body}"
    );
    let out = server.ok(&["analysis-archive", "images", "list"]);
    assert!(
        out.contains(&first) && out.contains("archived") && out.contains(&tag),
        "{out}"
    );
    let out = server.ok(&["analysis-archive", "images", "get", &first]);
    assert!(
        out.contains(&first) && out.contains("Archive Size Bytes"),
        "{out}"
    );
    let out = server.ok(&["--json", "analysis-archive", "images", "get", &first]);
    let archived: Value = serde_json::from_str(&out).unwrap();
    assert!(
        archived[0]["archive_size_bytes"].as_i64().unwrap() > 1000,
        "{archived}"
    );
    // Archiving it again reports the existing record.
    let out = server.ok(&["analysis-archive", "images", "add", &first]);
    assert!(out.contains("Existing record found"), "{out}");
    let files: Vec<_> = walk(&server.dir.path().join("data/analysis_archive"));
    assert_eq!(files.len(), 1, "{files:?}");

    // Restore (anchore-cli's restore): the same record, vulnerabilities and policy result.
    let t = Instant::now();
    let out = server.ok(&["analysis-archive", "images", "restore", &first]);
    let restore_secs = t.elapsed().as_secs_f64();
    assert!(out.contains(&first), "{out}");
    eprintln!(
        "measured: archive {archive_secs:.2} s ({} bytes in the store), restore {restore_secs:.2} s \
         (anchore-cli round trips included)",
        archived[0]["archive_size_bytes"]
    );
    let (record2, vuln2, check2) = image_view(&server, &first, &tag);
    assert_eq!(record2, record);
    assert_eq!(vuln2, vuln);
    assert_eq!(check2, check);
    assert!(walk(&server.dir.path().join("data/analysis_archive")).is_empty());
    let events = server.ok(&["event", "list"]);
    assert!(
        events.contains("image_archived") && events.contains("restored_from_archive"),
        "{events}"
    );

    // Rules through anchore-cli: keep the newest digest of the tag; applied once (the server's
    // archive_tasks cycle does it on a timer).
    let out = server.ok(&[
        "analysis-archive",
        "rules",
        "add",
        "0",
        "1",
        "archive",
        "--tag-selector",
        "1.*",
        "--repository-selector",
        "team/*",
    ]);
    assert!(out.contains("archive") && out.contains("team/*"), "{out}");
    let rules = get_ok(&server, "/archives/rules");
    let rule_id = rules[0]["rule_id"].as_str().unwrap().to_string();
    let out = server.ok(&["analysis-archive", "rules", "list"]);
    assert!(out.contains(&rule_id), "{out}");
    let out = server.ok(&["analysis-archive", "rules", "get", &rule_id]);
    assert!(out.contains(&rule_id) && out.contains("1.*"), "{out}");
    let data = server.dir.path().join("data");
    let (code, out, err) = anchorage(
        server.dir.path(),
        &[],
        &[
            "admin",
            "apply-archive-rules",
            "--data-dir",
            data.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(&format!("archived admin {first}")),
        "{out}{err}"
    );
    assert!(!out.contains(&second), "{out}");
    let out = server.ok(&["analysis-archive", "images", "list"]);
    assert!(out.contains(&first) && !out.contains(&second), "{out}");
    let summary = get_ok(&server, "/archives");
    assert_eq!(summary["images"]["total_image_count"], 1, "{summary}");
    assert_eq!(summary["rules"]["count"], 1, "{summary}");

    // Our client: the same operations.
    let out = ours(&server, &["analysis-archive", "images", "list"]);
    assert!(out.contains(&first) && out.contains("Archived At"), "{out}");
    let out = ours(
        &server,
        &["analysis-archive", "images", "get", &first, "--json"],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["imageDigest"], first.as_str(), "{v}");
    let out = ours(&server, &["analysis-archive", "images", "restore", &first]);
    assert!(out.contains(&format!("Image Digest: {first}")), "{out}");
    let out = ours(&server, &["analysis-archive", "images", "add", &first]);
    assert!(out.contains("archived"), "{out}");
    let out = ours(&server, &["analysis-archive", "rules", "list", "--json"]);
    assert!(out.contains(&rule_id), "{out}");
    let out = ours(&server, &["analysis-archive", "rules", "get", &rule_id]);
    assert!(
        out.contains("Tag Versions Newer") && out.contains(&rule_id),
        "{out}"
    );
    let out = ours(
        &server,
        &[
            "analysis-archive",
            "rules",
            "add",
            "30",
            "0",
            "delete",
            "--json",
        ],
    );
    let delete_rule: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(delete_rule["transition"], "delete", "{delete_rule}");
    let out = ours(
        &server,
        &[
            "analysis-archive",
            "rules",
            "del",
            delete_rule["rule_id"].as_str().unwrap(),
        ],
    );
    assert!(out.contains("Success"), "{out}");
    // A global rule needs an admin; an unknown rule is a refusal (exit 1).
    let env = [
        ("ANCHORAGE_URL", server.url.as_str()),
        ("ANCHORAGE_USER", "admin"),
        ("ANCHORAGE_PASS", ADMIN_PASSWORD),
    ];
    let (code, out, err) = anchorage(
        server.dir.path(),
        &env,
        &["analysis-archive", "rules", "get", "no-such-rule"],
    );
    assert_eq!(code, 1, "{out}{err}");
    let (code, out, err) = anchorage(
        server.dir.path(),
        &env,
        &["analysis-archive", "images", "add", "not-a-digest"],
    );
    assert_eq!(code, 2, "{out}{err}");

    // anchore-cli deletes the archived analysis and the rule.
    let out = server.ok(&["analysis-archive", "images", "del", &first]);
    assert!(out.contains("Success"), "{out}");
    let out = server.ok(&["analysis-archive", "images", "list"]);
    assert!(!out.contains(&first), "{out}");
    let (code, out) = server.admin(&["analysis-archive", "images", "get", &first]);
    assert_ne!(code, 0, "{out}");
    let out = server.ok(&["analysis-archive", "rules", "del", &rule_id]);
    assert!(out.contains("Success"), "{out}");
    assert!(walk(&server.dir.path().join("data/analysis_archive")).is_empty());
    // The restored-then-deleted digest can be analysed again from the registry.
    assert!(get_ok(&server, "/images").to_string().contains(&second));
    let log = server.log();
    assert!(
        !log.contains(REGISTRY_PASSWORD) && !log.contains("panicked"),
        "{log}"
    );
}

/// Files under `dir`, recursively.
fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Everything compared across a backup and restore: the image list, then per image its
/// vulnerabilities and policy result, and the archive listing.
fn deployment_view(server: &Server, tags: &[(String, String)]) -> Vec<Value> {
    let mut out = vec![get_ok(server, "/images")];
    for (digest, tag) in tags {
        let (record, vuln, check) = image_view(server, digest, tag);
        out.extend([record, vuln, check]);
    }
    out.push(get_ok(server, "/archives/images"));
    out.push(get_ok(server, "/registries"));
    out
}

fn admin_cmd(cwd: &Path, db_url: Option<&str>, args: &[&str]) -> (i32, String) {
    let env: Vec<(&str, &str)> = db_url
        .map(|u| vec![("ANCHORAGE_DATABASE_URL", u)])
        .unwrap_or_default();
    let (code, out, err) = anchorage(cwd, &env, args);
    (code, format!("{out}{err}"))
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

#[test]
fn backup_and_restore_sqlite_to_postgres_to_sqlite() {
    if !crate::engine::tools_ready("backup_and_restore_sqlite_to_postgres_to_sqlite", &[CLI]) {
        return;
    }
    let Some(pg) = PgDb::create_named("_backup") else {
        return;
    };
    let app = PushedApp::push();
    let server = Server::start(None, "");
    ready(&server, &app.host);
    // Four analysed images (the app and three variants; `ANCHORAGE_LIFECYCLE_IMAGES=N` for a
    // measurement with more), one of them archived.
    let count: usize = std::env::var("ANCHORAGE_LIFECYCLE_IMAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(4)
        .max(2);
    let mut images = vec![(add_and_wait(&server, &app.tag), app.tag.clone())];
    for n in 1..count {
        let tag = format!("1.{n}");
        app.push_variant(n, &tag);
        let full = format!("{}/team/app:{tag}", app.host);
        images.push((add_and_wait(&server, &full), full));
    }
    let archived = images.pop().unwrap();
    let out = server.ok(&["analysis-archive", "images", "add", &archived.0]);
    assert!(out.contains("archived"), "{out}");
    let before = deployment_view(&server, &images);
    let src_dir = server.kill();
    let src = src_dir.path().join("data");

    // SQLite -> file.
    let work = tempfile::tempdir().unwrap();
    let file1 = work.path().join("sqlite.tar.zst");
    let t = Instant::now();
    let (code, out) = admin_cmd(
        work.path(),
        None,
        &[
            "admin",
            "backup",
            "--output",
            file1.to_str().unwrap(),
            "--data-dir",
            src.to_str().unwrap(),
        ],
    );
    let backup_secs = t.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("secret.key"), "{out}");
    // Into the source again: refused, it is not empty.
    let (code, out) = admin_cmd(
        work.path(),
        None,
        &[
            "admin",
            "restore",
            "--input",
            file1.to_str().unwrap(),
            "--data-dir",
            src.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 2, "{out}");
    assert!(out.contains("not empty"), "{out}");

    // File -> PostgreSQL, first without the sealing key: restored, with a warning.
    let pg_dir = tempfile::tempdir().unwrap();
    let pg_data = pg_dir.path().join("data");
    let restore_pg = |force: bool| {
        let mut args = vec![
            "admin",
            "restore",
            "--input",
            file1.to_str().unwrap(),
            "--data-dir",
            pg_data.to_str().unwrap(),
        ];
        if force {
            args.push("--force");
        }
        let t = Instant::now();
        let r = admin_cmd(work.path(), Some(&pg.url()), &args);
        (r, t.elapsed().as_secs_f64())
    };
    let ((code, out), _) = restore_pg(false);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("1 registry password(s) do not open"), "{out}");
    std::fs::copy(src.join("secret.key"), pg_data.join("secret.key")).unwrap();
    let ((code, out), restore_pg_secs) = restore_pg(true);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("do not open"), "{out}");
    let pg_server = Server::start_in(pg_dir, Some(&pg.url()), "");
    pg_server.ok(&["system", "wait", "--timeout", "120", "--interval", "1"]);
    let on_pg = deployment_view(&pg_server, &images);
    assert_eq!(on_pg, before, "SQLite -> PostgreSQL changed what users see");
    // The archived image comes back from the restored archive store too.
    let out = pg_server.ok(&["analysis-archive", "images", "restore", &archived.0]);
    assert!(out.contains(&archived.0), "{out}");
    let mut all = images.clone();
    all.push(archived.clone());
    let pg_final = deployment_view(&pg_server, &all);
    assert_eq!(pg_final[0].as_array().map(Vec::len), Some(all.len()));
    let pg_dir = pg_server.kill();

    // PostgreSQL -> file -> a new SQLite deployment.
    let file2 = work.path().join("postgres.tar.zst");
    let t = Instant::now();
    let (code, out) = admin_cmd(
        work.path(),
        Some(&pg.url()),
        &[
            "admin",
            "backup",
            "--output",
            file2.to_str().unwrap(),
            "--data-dir",
            pg_dir.path().join("data").to_str().unwrap(),
        ],
    );
    let backup_pg_secs = t.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{out}");
    let lite_dir = tempfile::tempdir().unwrap();
    let lite = lite_dir.path().join("data");
    std::fs::create_dir_all(&lite).unwrap();
    std::fs::copy(src.join("secret.key"), lite.join("secret.key")).unwrap();
    let t = Instant::now();
    let (code, out) = admin_cmd(
        work.path(),
        None,
        &[
            "admin",
            "restore",
            "--input",
            file2.to_str().unwrap(),
            "--data-dir",
            lite.to_str().unwrap(),
        ],
    );
    let restore_lite_secs = t.elapsed().as_secs_f64();
    assert_eq!(code, 0, "{out}");
    let lite_server = Server::start_in(lite_dir, None, "");
    lite_server.ok(&["system", "wait", "--timeout", "120", "--interval", "1"]);
    let back = deployment_view(&lite_server, &all);
    assert_eq!(
        back, pg_final,
        "PostgreSQL -> SQLite changed what users see"
    );
    eprintln!(
        "measured: {} analysed images (+1 archived); backup SQLite {:.2} s -> {} bytes; \
         restore into PostgreSQL {:.2} s; backup PostgreSQL {:.2} s -> {} bytes; restore into \
         SQLite {:.2} s",
        images.len(),
        backup_secs,
        file_size(&file1),
        restore_pg_secs,
        backup_pg_secs,
        file_size(&file2),
        restore_lite_secs
    );
}
