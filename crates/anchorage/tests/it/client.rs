//! Our own engine client (`anchorage image|evaluate|policy|registry|system|event|account`)
//! end to end against `anchorage serve` on SQLite (serve.rs covers PostgreSQL with the real
//! anchore-cli), with an image built from real registry packages behind a loopback
//! `docker-registry` with basic auth, and the corpus' real OSV/secdb feeds.
//!
//! Assertions are on printed output and exit codes (anchore-cli's: 0 ok, 1 refused or policy
//! fail, 2 on 401/transport errors).

#![allow(clippy::unwrap_used, reason = "tests fail loudly")]
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::engine::{
    ADMIN_PASSWORD, PushedApp, REGISTRY_PASSWORD, REGISTRY_USER, Server, WARN_ONLY_BUNDLE,
};

/// Every variable the client reads, removed so that the developer's environment cannot leak
/// into the test.
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
    "ANCHORAGE_REGISTRY_PASSWORD",
];

/// Passwords no output may show.
const BOB_PASSWORD: &str = "bob-pass-1";

/// One run of the client.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// Runs `anchorage ARGS` with exactly `env` of the client variables set.
fn anchorage(env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anchorage"));
    cmd.args(args).stdin(Stdio::null());
    for v in CLIENT_VARS {
        cmd.env_remove(v);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    for secret in [ADMIN_PASSWORD, REGISTRY_PASSWORD, BOB_PASSWORD] {
        assert!(
            !run.all().contains(secret),
            "anchorage {args:?} printed a password:\n{}",
            run.all()
        );
    }
    run
}

/// The client as admin, configured through `ANCHORAGE_*`.
struct Admin<'a> {
    server: &'a Server,
}

impl Admin<'_> {
    fn run(&self, args: &[&str]) -> Run {
        anchorage(
            &[
                ("ANCHORAGE_URL", &self.server.url),
                ("ANCHORAGE_USER", "admin"),
                ("ANCHORAGE_PASS", ADMIN_PASSWORD),
            ],
            args,
        )
    }

    /// Runs a command that must exit 0; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code,
            0,
            "anchorage {args:?} exited {}:\n{}\n--- server log ---\n{}",
            run.code,
            run.all(),
            self.server.log()
        );
        run.stdout
    }

    /// Runs a command that must exit 0 and print JSON; returns it.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.ok(&all);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}:\n{out}"))
    }
}

#[test]
fn client_drives_the_engine_on_sqlite() {
    if !crate::engine::tools_ready("client_drives_the_engine_on_sqlite", &[]) {
        return;
    }
    let app = PushedApp::push();
    let (host, tag) = (app.host.as_str(), app.tag.as_str());
    let server = Server::start(None, "");
    let admin = Admin { server: &server };

    // Nothing listens: a transport error exits 2 and names the URL.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let dead = format!("http://{}/v1", closed.local_addr().unwrap());
    drop(closed);
    let run = anchorage(
        &[],
        &[
            "image",
            "list",
            "--url",
            &dead,
            "--user",
            "admin",
            "--pass",
            ADMIN_PASSWORD,
        ],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(
        run.stderr.contains("Error: cannot reach the engine"),
        "{}",
        run.stderr
    );

    // Readiness, status and feeds.
    admin.ok(&["system", "wait", "--timeout", "120", "--interval", "1"]);
    let status = admin.ok(&["system", "status"]);
    assert!(status.contains("Engine DB Version"), "{status}");
    assert!(status.contains("policy_engine"), "{status}");
    let feeds = admin.ok(&["system", "feeds", "list"]);
    assert!(
        feeds.contains("vulnerabilities") && feeds.contains("npm"),
        "{feeds}"
    );

    // Wrong credentials: 401, exit 2, the envelope's message.
    let run = anchorage(
        &[
            ("ANCHORAGE_URL", &server.url),
            ("ANCHORAGE_USER", "admin"),
            ("ANCHORAGE_PASS", "wrong-password"),
        ],
        &["image", "list"],
    );
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("Error: Unauthorized"), "{}", run.stderr);

    // Without the registry's credentials the add is refused (400: exit 1).
    let run = admin.run(&["image", "add", tag]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(
        run.stderr.contains("Error: cannot fetch image digest"),
        "{}",
        run.stderr
    );

    // Registry credentials, the password from the environment, never shown.
    let run = anchorage(
        &[
            ("ANCHORAGE_URL", &server.url),
            ("ANCHORAGE_USER", "admin"),
            ("ANCHORAGE_PASS", ADMIN_PASSWORD),
            ("ANCHORAGE_REGISTRY_PASSWORD", REGISTRY_PASSWORD),
        ],
        &["registry", "add", host, REGISTRY_USER, "--insecure"],
    );
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains(&format!("Registry: {host}")),
        "{}",
        run.stdout
    );
    let list = admin.ok(&["registry", "list"]);
    assert!(
        list.contains(host) && list.contains(REGISTRY_USER),
        "{list}"
    );
    let got = admin.json(&["registry", "get", host]);
    assert_eq!(got[0]["registry_user"], REGISTRY_USER, "{got}");
    assert_eq!(got[0]["registry_verify"], false, "{got}");

    // Add, wait, list, get.
    let out = admin.ok(&["image", "add", tag, "--annotation", "team=payments"]);
    assert!(out.contains("Image Digest: sha256:"), "{out}");
    let out = admin.ok(&["image", "wait", tag, "--timeout", "300", "--interval", "1"]);
    assert!(
        out.contains("Analysis Status: analyzed"),
        "{out}\n{}",
        server.log()
    );
    let list = admin.ok(&["image", "list"]);
    let row = list
        .lines()
        .find(|l| l.starts_with(tag))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(
        row.contains("sha256:") && row.ends_with("analyzed"),
        "{list}"
    );
    let out = admin.ok(&["image", "get", tag]);
    assert!(out.contains("Distro: alpine"), "{out}");
    assert!(out.contains("Annotations: team=payments"), "{out}");
    assert!(out.contains(&format!("Full Tag: {tag}")), "{out}");
    let records = admin.json(&["image", "get", tag]);
    let digest = records[0]["imageDigest"].as_str().unwrap().to_string();
    let by_digest = admin.ok(&["image", "get", &digest]);
    assert!(
        by_digest.contains(&format!("Image Digest: {digest}")),
        "{by_digest}"
    );

    // Content.
    let out = admin.ok(&["image", "content", tag]);
    assert!(
        out.contains("os: available") && out.contains("npm: available"),
        "{out}"
    );
    let os = admin.ok(&["image", "content", tag, "os"]);
    assert!(os.starts_with("Package"), "{os}");
    assert!(os.contains("musl") && os.contains("busybox"), "{os}");
    let npm = admin.ok(&["image", "content", &digest, "npm"]);
    let lodash = npm
        .lines()
        .find(|l| l.starts_with("lodash "))
        .unwrap_or_else(|| panic!("{npm}"));
    assert!(lodash.contains("4.17.4"), "{npm}");

    // Vulnerabilities from the corpus feeds.
    let vulns = admin.ok(&["image", "vuln", tag, "all"]);
    let line = vulns
        .lines()
        .find(|l| l.contains("CVE-2019-10744") && l.contains("lodash-4.17.4"))
        .unwrap_or_else(|| panic!("{vulns}"));
    assert!(line.contains("Critical"), "{line}");
    // Worst first: no line after the first High is Critical.
    let severities: Vec<&str> = vulns
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(2))
        .collect();
    let first_high = severities.iter().position(|s| *s == "High");
    if let Some(i) = first_high {
        assert!(!severities[i..].contains(&"Critical"), "{vulns}");
    }
    let doc = admin.json(&["image", "vuln", tag, "non-os"]);
    assert!(
        doc["vulnerabilities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["vuln"] == "CVE-2019-10744" && v["package_type"] == "npm"),
        "{doc}"
    );

    // The default bundle stops the image: exit 1.
    let run = admin.run(&["evaluate", "check", tag, "--detail"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("Status: fail"), "{}", run.stdout);
    assert!(run.stdout.contains("Final Action: stop"), "{}", run.stdout);
    assert!(
        run.stdout.lines().any(|l| l.starts_with("vulnerabilities")
            && l.contains("CVE-2019-10744")
            && l.ends_with("stop")),
        "{}",
        run.stdout
    );
    // A digest needs --tag.
    let run = admin.run(&["evaluate", "check", &digest]);
    assert_eq!(run.code, 2, "{}", run.all());
    assert!(run.stderr.contains("no --tag"), "{}", run.stderr);

    // A warn-only bundle, added and activated, passes the same image: exit 0.
    let bundle = app.write("warn-only.json", WARN_ONLY_BUNDLE);
    let out = admin.ok(&["policy", "add", bundle.to_str().unwrap()]);
    assert!(
        out.contains("Policy ID: warn-only") && out.contains("Active: False"),
        "{out}"
    );
    let out = admin.ok(&["policy", "activate", "warn-only"]);
    assert!(out.contains("Success: warn-only activated"), "{out}");
    let list = admin.ok(&["policy", "list"]);
    let row = list
        .lines()
        .find(|l| l.starts_with("warn-only"))
        .unwrap_or_else(|| panic!("{list}"));
    assert!(row.contains("True"), "{list}");
    let got = admin.ok(&["policy", "get", "warn-only", "--detail"]);
    let got: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(got["id"], "warn-only");
    let run = admin.run(&["evaluate", "check", tag, "--detail"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(run.stdout.contains("Status: pass"), "{}", run.stdout);
    assert!(run.stdout.contains("Final Action: warn"), "{}", run.stdout);
    // The active bundle cannot be deleted (refused: exit 1).
    let run = admin.run(&["policy", "del", "warn-only"]);
    assert_eq!(run.code, 1, "{}", run.all());
    // A malformed bundle is refused with every problem named; the offline validator agrees.
    let bad = app.write(
        "bad.json",
        r#"{"id": "bad", "version": "1_0", "policies": [{"id": "p", "version": "1_0", "rules": [{"id": "r", "gate": "nosuchgate", "trigger": "x", "action": "STOP", "params": []}]}], "mappings": []}"#,
    );
    let run = admin.run(&["policy", "add", bad.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("GateNotFoundError"), "{}", run.stderr);
    let run = anchorage(&[], &["policy", "validate", bad.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stdout.contains("GateNotFoundError"), "{}", run.stdout);

    // A second account and user, isolated from the first; bob uses anchore-cli's variables.
    let out = admin.ok(&["account", "add", "team2", "--email", "t2@example.com"]);
    assert!(
        out.contains("team2") && out.contains("t2@example.com"),
        "{out}"
    );
    admin.ok(&[
        "account",
        "user",
        "add",
        "--account",
        "team2",
        "bob",
        BOB_PASSWORD,
    ]);
    let users = admin.ok(&["account", "user", "list", "--account", "team2"]);
    assert!(users.contains("bob"), "{users}");
    let bob = |args: &[&str]| {
        anchorage(
            &[
                ("ANCHORE_CLI_URL", &server.url),
                ("ANCHORE_CLI_USER", "bob"),
                ("ANCHORE_CLI_PASS", BOB_PASSWORD),
            ],
            args,
        )
    };
    let run = bob(&["account", "whoami"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        run.stdout.contains("Username: bob") && run.stdout.contains("AccountName: team2"),
        "{}",
        run.stdout
    );
    let run = bob(&["image", "list"]);
    assert_eq!(run.code, 0, "{}", run.all());
    assert!(
        !run.stdout.contains(tag),
        "bob sees admin's image: {}",
        run.stdout
    );
    let run = bob(&["image", "get", tag]);
    assert_eq!(run.code, 1, "{}", run.all());
    let run = bob(&["account", "list"]);
    assert_ne!(run.code, 0, "a user lists accounts: {}", run.all());
    // An admin acting in team2 sees team2's (empty) namespace.
    let out = admin.ok(&["image", "list", "--as-account", "team2"]);
    assert!(!out.contains(tag), "{out}");
    let out = admin.ok(&["account", "list"]);
    assert!(out.contains("team2") && out.contains("admin"), "{out}");
    // An enabled account cannot be deleted; disabled, it can.
    let run = admin.run(&["account", "del", "team2"]);
    assert_eq!(run.code, 1, "{}", run.all());
    assert!(run.stderr.contains("disable"), "{}", run.stderr);
    admin.ok(&["account", "disable", "team2"]);
    let run = bob(&["image", "list"]);
    assert_ne!(
        run.code,
        0,
        "a disabled account's user signs in: {}",
        run.all()
    );
    admin.ok(&["account", "del", "team2"]);

    // Events.
    let events = admin.ok(&["event", "list"]);
    assert!(events.contains("user.image.analysis.completed"), "{events}");
    let page = admin.json(&[
        "event",
        "list",
        "--event-type",
        "user.image.analysis.completed",
    ]);
    let id = page["results"][0]["generated_uuid"]
        .as_str()
        .unwrap()
        .to_string();
    let event = admin.ok(&["event", "get", &id]);
    assert!(event.contains("user.image.analysis.completed"), "{event}");
    let out = admin.ok(&["event", "del", &id]);
    assert!(out.contains("Deleted 1 events"), "{out}");
    let run = admin.run(&["event", "get", &id]);
    assert_eq!(run.code, 1, "{}", run.all());

    // Delete; the list no longer shows the image; the registry goes too.
    let out = admin.ok(&["image", "del", tag]);
    assert!(out.contains(&format!("Deleted {tag}")), "{out}");
    let out = admin.ok(&["image", "list"]);
    assert!(!out.contains(tag), "{out}");
    admin.ok(&["registry", "del", host]);
    assert!(
        !server.log().contains(REGISTRY_PASSWORD),
        "the registry password was logged"
    );
}
