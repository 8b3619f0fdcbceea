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
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anchorage_testkit::{Auth, Format, Registry, build_app_layout, corpus_dir, push_oci_layout};

const CLI: &str = "/opt/anchorecli-venv/bin/anchore-cli";
const ADMIN_PASSWORD: &str = "s3cret-admin";

/// A running `anchorage serve`, killed on drop.
struct Server {
    child: Child,
    url: String,
    log: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(database_url: Option<&str>, insecure: &str) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let corpus = corpus_dir();
        let feeds = [
            format!("osv:{}", corpus.join("osv/npm").display()),
            format!("osv:{}", corpus.join("osv/PyPI").display()),
            format!("osv:{}", corpus.join("osv/Maven").display()),
            format!(
                "alpine-secdb:{}",
                corpus.join("distro/alpine-secdb-json").display()
            ),
        ]
        .join(",");
        let log = dir.path().join("server.log");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_anchorage"));
        cmd.args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path().join("data"))
        .args(["--workers", "2"])
        .env("ANCHORAGE_ADMIN_PASSWORD", ADMIN_PASSWORD)
        .env("ANCHORAGE_FEED_SOURCES", feeds)
        .env("ANCHORAGE_INSECURE_REGISTRIES", insecure)
        .env("ANCHORAGE_LOG", "info")
        .env_remove("ANCHORAGE_DATABASE_URL")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
        if let Some(url) = database_url {
            cmd.env("ANCHORAGE_DATABASE_URL", url);
        }
        let child = cmd.spawn().unwrap();
        let server = Server {
            child,
            url: format!("http://127.0.0.1:{port}/v1"),
            log,
            _dir: dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "server did not start:\n{}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Runs anchore-cli as `user`; returns (exit code, stdout + stderr).
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

    /// Runs an admin command that must succeed; returns its output.
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
    if !Path::new(CLI).exists() {
        assert!(
            std::env::var("CI").is_err(),
            "{CLI} missing (scripts/setup.sh installs it)"
        );
        eprintln!("skipping {test}: {CLI} missing (run scripts/setup.sh)");
        return false;
    }
    anchorage_testkit::require_tools(
        test,
        &[
            "docker-registry",
            "skopeo",
            "umoci",
            "npm",
            "dpkg-deb",
            "htpasswd",
        ],
    )
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

/// The custom bundle of the tutorial: one policy that only warns on vulnerabilities.
const WARN_ONLY_BUNDLE: &str = r#"{
  "id": "warn-only", "name": "warn only", "version": "1_0", "comment": "tutorial bundle",
  "policies": [{"id": "p1", "name": "warn", "version": "1_0",
    "rules": [{"id": "r1", "gate": "vulnerabilities", "trigger": "package", "action": "WARN",
               "params": [{"name": "package_type", "value": "all"},
                          {"name": "severity_comparison", "value": ">="},
                          {"name": "severity", "value": "low"}]}]}],
  "whitelists": [],
  "mappings": [{"id": "m1", "name": "all", "registry": "*", "repository": "*",
                "image": {"type": "tag", "value": "*"}, "policy_id": "p1", "whitelist_ids": []}],
  "whitelisted_images": [], "blacklisted_images": []
}"#;

fn tutorial(database_url: Option<&str>) {
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start(Auth::Basic {
        username: "puller".into(),
        password: "pull-pass".into(),
    })
    .unwrap();
    let layout = build_app_layout(work.path(), "app").unwrap();
    push_oci_layout(&registry, &layout, "app", "team/app", "1.0", Format::Oci).unwrap();
    let host = registry.host();
    let tag = format!("{host}/team/app:1.0");
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
        "puller",
        "pull-pass",
        "--insecure",
    ]);
    assert!(!out.contains("pull-pass"), "{out}");
    let out = server.ok(&["--json", "registry", "get", &host]);
    assert!(
        out.contains("puller") && !out.contains("pull-pass"),
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
    let bundle = work.path().join("warn-only.json");
    std::fs::write(&bundle, WARN_ONLY_BUNDLE).unwrap();
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
    let bad = work.path().join("bad.json");
    std::fs::write(&bad, r#"{"id": "bad", "version": "1_0", "policies": [{"id": "p", "version": "1_0", "rules": [{"id": "r", "gate": "nosuchgate", "trigger": "x", "action": "STOP", "params": []}]}], "mappings": []}"#).unwrap();
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
        !server.log().contains("pull-pass"),
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
