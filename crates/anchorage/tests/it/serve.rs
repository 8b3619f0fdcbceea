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
use std::process::{Command, Stdio};

use anchorage_testkit::{Auth, Format, Registry, build_app_layout, push_oci_layout};

use crate::engine::{
    ADMIN_PASSWORD, PushedApp, REGISTRY_PASSWORD, REGISTRY_USER, Server, WARN_ONLY_BUNDLE,
};

pub(crate) const CLI: &str = "/opt/anchorecli-venv/bin/anchore-cli";

/// anchore-cli against a [`Server`].
pub(crate) trait AnchoreCli {
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
pub(crate) struct PgDb {
    name: String,
}

impl PgDb {
    pub(crate) fn create() -> Option<PgDb> {
        PgDb::create_named("")
    }

    /// A database whose name ends with `suffix` (tests of one process that run at once).
    pub(crate) fn create_named(suffix: &str) -> Option<PgDb> {
        let name = format!("anchorage_it_{}{suffix}", std::process::id());
        let ok = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-q"])
            .args(["-c", &format!("DROP DATABASE IF EXISTS {name}")])
            .args(["-c", &format!("CREATE DATABASE {name}")])
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

    pub(crate) fn url(&self) -> String {
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

    // §2.10: queries.
    let out = server.ok(&[
        "query",
        "images-by-vulnerability",
        "--vulnerability-id",
        "CVE-2019-10744",
    ]);
    assert!(out.contains("lodash") && out.contains("team/app"), "{out}");
    let out = server.ok(&["query", "images-by-package", "--name", "urllib3"]);
    assert!(out.contains("1.24.1") && out.contains("team/app"), "{out}");
    let (code, out) = server.admin(&["query", "images-by-package", "--name", "no-such-package"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("team/app"), "{out}");

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

/// One HTTP request with curl: (status, body).
pub(crate) fn http(
    method: &str,
    url: &str,
    auth: Option<(&str, &str)>,
    body: Option<&[u8]>,
) -> (u16, String) {
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, url]);
    cmd.args(["-H", "Content-Type: application/json"]);
    if let Some((u, p)) = auth {
        cmd.args(["-u", &format!("{u}:{p}")]);
    }
    if body.is_some() {
        cmd.args(["--data-binary", "@-"]);
    }
    cmd.stdin(Stdio::piped()).stdout(Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().unwrap();
        if let Some(b) = body {
            stdin.write_all(b).unwrap();
        }
    }
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// Checks the Anchore error envelope (§1.3) and returns its message.
pub(crate) fn envelope(status: u16, body: &str) -> String {
    let v: serde_json::Value =
        serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    assert_eq!(v["httpcode"].as_u64(), Some(u64::from(status)), "{body}");
    assert!(v["detail"]["error_codes"].is_array(), "{body}");
    v["message"].as_str().unwrap_or_default().to_string()
}

#[test]
fn synthetic_bad_requests_get_the_error_envelope_never_a_500() {
    let server = Server::start(None, "");
    let admin = Some(("admin", ADMIN_PASSWORD));
    let url = |p: &str| format!("{}{p}", server.url);
    // Unauthenticated ping, health and swagger; everything else needs auth.
    assert_eq!(
        http("GET", &url(""), None, None),
        (200, "\"v1\"".to_string())
    );
    assert_eq!(http("GET", &url("/health"), None, None).0, 200);
    let (code, swagger) = http("GET", &url("/swagger.json"), None, None);
    assert_eq!(code, 200);
    assert!(swagger.contains("\"version\":\"0.1.20\""), "{swagger}");
    let (code, body) = http("GET", &url("/images"), None, None);
    assert_eq!(code, 401);
    envelope(code, &body);
    // Un-prefixed paths and trailing slashes reach the same routes.
    let root = server.url.trim_end_matches("/v1").to_string();
    assert_eq!(http("GET", &format!("{root}/images/"), admin, None).0, 200);
    assert_eq!(
        http("GET", &format!("{root}/swagger.json"), None, None).0,
        200
    );
    // Malformed JSON, wrong types, missing fields.
    for (body, needle) in [
        (&b"{not json"[..], "not valid JSON"),
        (b"[1,2]", "must be a JSON object"),
        (b"{\"tag\": 5}", "tag must be a string"),
        (b"{}", "must name an image tag"),
        (b"{\"tag\": \"UPPER/Case\"}", "invalid image tag"),
        (
            b"{\"tag\": \"x/y\", \"annotations\": [1]}",
            "annotations must be an object",
        ),
        (
            b"{\"tag\": \"x/y\", \"dockerfile\": \"%%%\"}",
            "dockerfile must be base64",
        ),
    ] {
        let (code, text) = http("POST", &url("/images"), admin, Some(body));
        assert_eq!(code, 400, "{text}");
        let msg = envelope(code, &text);
        assert!(msg.contains(needle), "{msg} (wanted {needle})");
    }
    // Oversized body (the limit is 4 MiB by default).
    let big = vec![b' '; 5 << 20];
    let (code, text) = http("POST", &url("/policies"), admin, Some(&big));
    assert_eq!(code, 413, "{text}");
    envelope(code, &text);
    // Unknown and unparsable digests, unknown routes, wrong methods, bad booleans.
    let unknown = format!("/images/sha256:{}", "0".repeat(64));
    let (code, text) = http("GET", &url(&unknown), admin, None);
    assert_eq!(code, 404, "{text}");
    envelope(code, &text);
    let (code, text) = http("GET", &url("/images/sha256:xyz"), admin, None);
    assert_eq!(code, 400, "{text}");
    assert!(envelope(code, &text).contains("invalid image digest"));
    let (code, text) = http("GET", &url("/no/such/route"), admin, None);
    assert_eq!(code, 404, "{text}");
    envelope(code, &text);
    let (code, text) = http("PATCH", &url("/images"), admin, None);
    assert_eq!(code, 405, "{text}");
    envelope(code, &text);
    let (code, text) = http("GET", &url("/images?history=maybe"), admin, None);
    assert_eq!(code, 400, "{text}");
    // A registry that is not there: a clear 400 naming the registry, no record kept.
    let (code, text) = http(
        "POST",
        &url("/images"),
        admin,
        Some(b"{\"tag\": \"127.0.0.1:9/nothing:1\"}"),
    );
    assert_eq!(code, 400, "{text}");
    assert!(envelope(code, &text).contains("127.0.0.1:9"), "{text}");
    let (code, text) = http("GET", &url("/images"), admin, None);
    assert_eq!((code, text.as_str()), (200, "[]"));
    // Booleans in any case (anchore-cli sends True/False).
    assert_eq!(
        http("GET", &url("/policies?detail=True"), admin, None).0,
        200
    );
    assert_eq!(
        http("GET", &url("/policies?detail=FALSE"), admin, None).0,
        200
    );
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

#[test]
fn serve_finishes_an_analysis_after_sigkill_without_duplicates() {
    if !tools_ready("serve_finishes_an_analysis_after_sigkill_without_duplicates") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start(Auth::None).unwrap();
    let layout = build_app_layout(work.path(), "app").unwrap();
    push_oci_layout(&registry, &layout, "app", "kill/app", "1", Format::Oci).unwrap();
    let tag = format!("{}/kill/app:1", registry.host());
    let server = Server::start(None, &registry.host());
    server.ok(&["image", "add", &tag]);
    // SIGKILL right after the add: the job is queued or mid-analysis.
    let dir = server.kill();
    let server = Server::start_in(dir, None, &registry.host());
    let out = server.ok(&["image", "wait", &tag, "--timeout", "300", "--interval", "1"]);
    assert!(out.contains("Analysis Status: analyzed"), "{out}");
    let (_, list) = http(
        "GET",
        &format!("{}/images", server.url),
        Some(("admin", ADMIN_PASSWORD)),
        None,
    );
    let images: serde_json::Value = serde_json::from_str(&list).unwrap();
    assert_eq!(images.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(
        images[0]["image_detail"].as_array().map(Vec::len),
        Some(1),
        "{list}"
    );
    // A second process on the same SQLite data directory is refused.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = work.path().join("second.log");
    let mut second = crate::engine::spawn_serve(server.dir.path(), port, None, "", &log);
    let status = second.wait().unwrap();
    assert_eq!(status.code(), Some(2));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(
        text.contains("another anchorage serve is using the data directory"),
        "{text}"
    );
}

#[test]
fn one_thousand_cross_account_reads_all_404() {
    if !tools_ready("one_thousand_cross_account_reads_all_404") {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start(Auth::None).unwrap();
    let layout = build_app_layout(work.path(), "app").unwrap();
    push_oci_layout(&registry, &layout, "app", "iso/app", "1", Format::Oci).unwrap();
    let tag = format!("{}/iso/app:1", registry.host());
    let server = Server::start(None, &registry.host());
    server.ok(&["image", "add", &tag]);
    server.ok(&["image", "wait", &tag, "--timeout", "300", "--interval", "1"]);
    server.ok(&["account", "add", "other"]);
    server.ok(&[
        "account",
        "user",
        "add",
        "--account",
        "other",
        "eve",
        "eve-pass-1",
    ]);
    let (_, list) = http(
        "GET",
        &format!("{}/images", server.url),
        Some(("admin", ADMIN_PASSWORD)),
        None,
    );
    let images: serde_json::Value = serde_json::from_str(&list).unwrap();
    let digest = images[0]["imageDigest"].as_str().unwrap().to_string();
    let image_id = images[0]["image_detail"][0]["imageId"]
        .as_str()
        .unwrap()
        .to_string();
    // 1,000 reads by another account's user: the real digest and id on every route, then
    // guessed ones; each must be a 404 envelope that names nothing of the other account.
    let script = format!(
        r#"
import json, random, requests, sys
base, digest, image_id = sys.argv[1], sys.argv[2], sys.argv[3]
s = requests.Session(); s.auth = ("eve", "eve-pass-1")
paths = ["/images/{{d}}", "/images/{{d}}/content", "/images/{{d}}/content/os", "/images/{{d}}/vuln/all",
         "/images/{{d}}/check?tag=x/y:z", "/images/{{d}}/metadata/manifest", "/images/by_id/{{i}}",
         "/images/by_id/{{i}}/check?tag=a/b:c", "/images/by_id/{{i}}/vuln/all", "/images/by_id/{{i}}/content/files"]
bad = 0
for n in range(1000):
    real = n < 500
    d = digest if real else "sha256:%064x" % random.getrandbits(256)
    i = image_id if real else "%064x" % random.getrandbits(256)
    p = paths[n % len(paths)].format(d=d, i=i)
    r = s.get(base + p)
    body = r.text
    if r.status_code != 404 or "{leak}" in body or json.loads(body).get("httpcode") != 404:
        bad += 1
        print("LEAK or wrong status", r.status_code, p, body[:200])
print("checked 1000, bad", bad)
sys.exit(1 if bad else 0)
"#,
        leak = "lodash"
    );
    let out = Command::new("/opt/anchorecli-venv/bin/python")
        .args(["-c", &script, &server.url, &digest, &image_id])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("checked 1000, bad 0"), "{text}");
}

const SCHEMATHESIS: &str = "/opt/schemathesis-venv/bin/schemathesis";
const SPEC_VALIDATOR: &str = "/opt/schemathesis-venv/bin/openapi-spec-validator";

/// The generated OpenAPI 3 document passes openapi-spec-validator, and schemathesis' generated
/// requests (every operation but adding images, which reaches out to registries, and setting
/// passwords, which would lock the test out) never get a 5xx and always match the document.
fn openapi_and_schemathesis(database_url: Option<&str>) {
    let server = Server::start(database_url, "");
    let spec = server.dir.path().join("openapi.json");
    let (code, body) = http("GET", &format!("{}/openapi.json", server.url), None, None);
    assert_eq!(code, 200, "{body}");
    std::fs::write(&spec, &body).unwrap();
    let out = Command::new(SPEC_VALIDATOR).arg(&spec).output().unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let out = Command::new(SCHEMATHESIS)
        .arg("run")
        .arg(&spec)
        .args(["--base-url", &server.url])
        .args(["-a", &format!("admin:{ADMIN_PASSWORD}")])
        .args([
            "-c",
            "all",
            "--hypothesis-max-examples",
            "15",
            "--hypothesis-seed",
            "1",
        ])
        .args([
            "--exclude-path-regex",
            "credentials",
            "--exclude-operation-id",
            "post_images",
        ])
        .args(["--request-timeout", "20000", "--no-color"])
        .current_dir(server.dir.path())
        .env("SCHEMATHESIS_TELEMETRY", "false")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).replace('\0', "");
    assert!(
        out.status.success(),
        "{text}{}\n--- server log ---\n{}",
        String::from_utf8_lossy(&out.stderr),
        server.log()
    );
    assert!(text.contains("not_a_server_error"), "{text}");
    assert!(!server.log().contains("panicked"), "{}", server.log());
}

fn schemathesis_ready(test: &str) -> bool {
    crate::engine::tools_ready(test, &[SCHEMATHESIS, SPEC_VALIDATOR])
}

#[test]
fn openapi_document_validates_and_schemathesis_finds_no_5xx_on_sqlite() {
    if !schemathesis_ready("openapi_document_validates_and_schemathesis_finds_no_5xx_on_sqlite") {
        return;
    }
    openapi_and_schemathesis(None);
}

#[test]
fn openapi_document_validates_and_schemathesis_finds_no_5xx_on_postgres() {
    if !schemathesis_ready("openapi_document_validates_and_schemathesis_finds_no_5xx_on_postgres") {
        return;
    }
    let Some(db) = PgDb::create() else { return };
    openapi_and_schemathesis(Some(&db.url()));
}
