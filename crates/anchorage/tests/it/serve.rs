//! The engine service end to end: `anchorage serve` on SQLite and on the real PostgreSQL of
//! 127.0.0.1:5432, driven by the real `anchore-cli` 0.9.3 (PyPI, installed by setup.sh into
//! /opt/anchorecli-venv), with an image built from real registry packages and served by a
//! loopback `docker-registry` with basic auth, and the corpus' real OSV/secdb feeds.
//!
//! Assertions are on the CLI's printed output and exit codes (anchore-v1.md §2).

#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "tests fail loudly and say why they skip"
)]
use std::process::{Command, Stdio};

use crate::engine::{
    ADMIN_PASSWORD, PushedApp, REGISTRY_PASSWORD, REGISTRY_USER, Server, WARN_ONLY_BUNDLE,
};

const CLI: &str = "/opt/anchorecli-venv/bin/anchore-cli";

/// anchore-cli against a [`Server`].
trait AnchoreCli {
    /// Runs anchore-cli as `user`; returns (exit code, stdout + stderr).
    fn cli(&self, user: &str, pass: &str, args: &[&str]) -> (i32, String);
    /// Runs anchore-cli as admin.
    fn admin(&self, args: &[&str]) -> (i32, String);
    /// Runs an admin command that must succeed; returns its output.
    fn ok(&self, args: &[&str]) -> String;
}

impl AnchoreCli for Server {
    fn cli(&self, user: &str, pass: &str, args: &[&str]) -> (i32, String) {
        let out = Command::new(CLI)
            .args(args)
            .env("ANCHORE_CLI_URL", &self.url)
            .env("ANCHORE_CLI_USER", user)
            .env("ANCHORE_CLI_PASS", pass)
            .env_remove("ANCHORE_CLI_ACCOUNT")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    fn admin(&self, args: &[&str]) -> (i32, String) {
        self.cli("admin", ADMIN_PASSWORD, args)
    }

    fn ok(&self, args: &[&str]) -> String {
        let (code, text) = self.admin(args);
        assert_eq!(
            code,
            0,
            "anchore-cli {args:?} exited {code}:\n{text}\n--- server log ---\n{}",
            self.log()
        );
        text
    }
}

fn tools_ready(test: &str) -> bool {
    crate::engine::tools_ready(test, &[CLI])
}

/// A fresh PostgreSQL database, dropped by the returned guard.
struct PgDb {
    name: String,
}

impl PgDb {
    fn create() -> Option<PgDb> {
        let name = format!("anchorage_it_{}", std::process::id());
        let ok = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {name}; CREATE DATABASE {name}"
            ))
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                std::env::var("CI").is_err(),
                "PostgreSQL on 127.0.0.1:5432 is not reachable"
            );
            eprintln!("skipping the PostgreSQL run: PostgreSQL on 127.0.0.1:5432 is not reachable");
            return None;
        }
        Some(PgDb { name })
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .status();
    }
}

fn tutorial(database_url: Option<&str>) {
    let app = PushedApp::push();
    let (host, tag) = (app.host.clone(), app.tag.clone());
    let server = Server::start(database_url, "");

    // §2.8: status and wait (services up, the `vulnerabilities` feed synced).
    let status = server.ok(&["system", "status"]);
    assert!(status.contains("Engine DB Version"), "{status}");
    assert!(status.contains("policy_engine"), "{status}");
    server.ok(&["system", "wait", "--timeout", "120", "--interval", "1"]);
    let feeds = server.ok(&["system", "feeds", "list"]);
    assert!(feeds.contains("vulnerabilities"), "{feeds}");

    // Without the registry's credentials the add fails clearly.
    let (code, text) = server.admin(&["image", "add", &tag]);
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("cannot fetch image digest"), "{text}");

    // §2.7: the registry (plain HTTP: --insecure), its password never shown.
    let out = server.ok(&[
        "registry",
        "add",
        &host,
        REGISTRY_USER,
        REGISTRY_PASSWORD,
        "--insecure",
    ]);
    assert!(!out.contains(REGISTRY_PASSWORD), "{out}");
    let out = server.ok(&["--json", "registry", "get", &host]);
    assert!(
        out.contains(REGISTRY_USER) && !out.contains(REGISTRY_PASSWORD),
        "{out}"
    );

    // §2.2: add, wait, list, get.
    let out = server.ok(&["image", "add", &tag, "--annotation", "team=payments"]);
    assert!(out.contains("Image Digest: sha256:"), "{out}");
    let out = server.ok(&["image", "wait", &tag, "--timeout", "300", "--interval", "1"]);
    assert!(
        out.contains("Analysis Status: analyzed"),
        "{out}\n{}",
        server.log()
    );
    let out = server.ok(&["image", "list"]);
    assert!(out.contains(&tag) && out.contains("analyzed"), "{out}");
    let out = server.ok(&["image", "get", &tag]);
    assert!(out.contains("Distro: alpine"), "{out}");
    assert!(
        out.contains("team: payments") || out.contains("team"),
        "{out}"
    );
    // Adding again is idempotent: the same digest, still analysed.
    let again = server.ok(&["image", "add", &tag]);
    assert!(again.contains("Analysis Status: analyzed"), "{again}");

    // §3.4: content of each kind.
    let out = server.ok(&["image", "content", &tag]);
    assert!(
        out.contains("os: available") && out.contains("java: available"),
        "{out}"
    );
    let os = server.ok(&["image", "content", &tag, "os"]);
    assert!(os.contains("musl") && os.contains("busybox"), "{os}");
    let files = server.ok(&["image", "content", &tag, "files"]);
    assert!(files.contains("/etc/passwd"), "{files}");
    let python = server.ok(&["image", "content", &tag, "python"]);
    assert!(
        python.contains("urllib3") && python.contains("1.24.1"),
        "{python}"
    );
    let npm = server.ok(&["image", "content", &tag, "npm"]);
    assert!(npm.contains("lodash") && npm.contains("4.17.4"), "{npm}");
    let java = server.ok(&["image", "content", &tag, "java"]);
    assert!(java.contains("commons-io"), "{java}");

    // §3.2: vulnerabilities from the corpus feeds.
    let vulns = server.ok(&["image", "vuln", &tag, "all"]);
    assert!(vulns.contains("CVE-2019-10744"), "{vulns}");
    assert!(vulns.contains("lodash-4.17.4"), "{vulns}");
    let non_os = server.ok(&["image", "vuln", &tag, "non-os"]);
    assert!(non_os.contains("CVE-2019-10744"), "{non_os}");

    // §2.3: the default bundle stops an image with Critical/High findings (exit 1).
    let (code, out) = server.admin(&["evaluate", "check", &tag, "--detail"]);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("Status: fail"), "{out}");
    assert!(out.contains("Final Action: stop"), "{out}");
    assert!(
        out.contains("vulnerabilities") && out.contains("CVE-2019-10744"),
        "{out}"
    );

    // §2.4: a custom bundle, activated, passes the same image (exit 0).
    let bundle = app.write("warn-only.json", WARN_ONLY_BUNDLE);
    let out = server.ok(&["policy", "add", bundle.to_str().unwrap()]);
    assert!(out.contains("warn-only"), "{out}");
    let out = server.ok(&["policy", "activate", "warn-only"]);
    assert!(out.contains("Success"), "{out}");
    let out = server.ok(&["policy", "list"]);
    assert!(out.contains("warn-only") && out.contains("True"), "{out}");
    let (code, out) = server.admin(&["evaluate", "check", &tag]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Status: pass"), "{out}");
    // A malformed bundle is refused with every problem named.
    let bad = app.write("bad.json", r#"{"id": "bad", "version": "1_0", "policies": [{"id": "p", "version": "1_0", "rules": [{"id": "r", "gate": "nosuchgate", "trigger": "x", "action": "STOP", "params": []}]}], "mappings": []}"#);
    let (code, out) = server.admin(&["policy", "add", bad.to_str().unwrap()]);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("GateNotFoundError"), "{out}");

    // §2.11: a second account and user, isolated from the first.
    server.ok(&["account", "add", "team2", "--email", "t2@example.com"]);
    server.ok(&[
        "account",
        "user",
        "add",
        "--account",
        "team2",
        "bob",
        "bob-pass-1",
    ]);
    let (code, out) = server.cli("bob", "bob-pass-1", &["image", "list"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains(&tag), "bob sees admin's image: {out}");
    let (code, out) = server.cli("bob", "bob-pass-1", &["image", "get", &tag]);
    assert_ne!(code, 0, "{out}");
    let (code, out) = server.cli("bob", "wrong-password", &["image", "list"]);
    assert_ne!(code, 0, "{out}");
    let out = server.ok(&["account", "list"]);
    assert!(out.contains("team2") && out.contains("admin"), "{out}");

    // §2.9: events.
    let events = server.ok(&["event", "list"]);
    assert!(events.contains("user.image.analysis.completed"), "{events}");

    // §2.2: delete.
    server.ok(&["image", "del", &tag]);
    let out = server.ok(&["image", "list"]);
    assert!(!out.contains(&tag), "{out}");
    assert!(
        !server.log().contains(REGISTRY_PASSWORD),
        "the registry password was logged"
    );
}

#[test]
fn anchore_cli_tutorial_on_sqlite() {
    if !tools_ready("anchore_cli_tutorial_on_sqlite") {
        return;
    }
    tutorial(None);
}

#[test]
fn anchore_cli_tutorial_on_postgres() {
    if !tools_ready("anchore_cli_tutorial_on_postgres") {
        return;
    }
    let Some(db) = PgDb::create() else { return };
    tutorial(Some(&db.url()));
}

#[test]
fn serve_refuses_to_start_without_an_admin_password() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_anchorage"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env_remove("ANCHORAGE_ADMIN_PASSWORD")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("ANCHORAGE_ADMIN_PASSWORD") && err.contains("--dev"),
        "{err}"
    );
}
