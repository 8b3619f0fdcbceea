//! Watch mode end to end with real processes: `anchorage serve` (SQLite) with a config file
//! whose `cycle_timers` run every second or two and whose `webhooks` point at a receiver
//! process (tests/it/data/webhook_receiver.py), a loopback `docker-registry` with basic auth
//! holding images built from real packages, a feed directory of real OSV records, and the
//! real anchore-cli for `subscription`, `repo` and `system test-webhook`.

#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "tests fail loudly and say why they skip"
)]
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use anchorage_testkit::{
    Auth, Format, Registry, build_alpine_layout, build_app_layout, corpus_dir, push_oci_layout,
};
use serde_json::Value;

use crate::engine::{ADMIN_PASSWORD, Options, REGISTRY_PASSWORD, REGISTRY_USER, Server};
use crate::serve::{AnchoreCli as _, CLI, http};

const SECRET: &str = "hook-signing-secret";

/// The bundle of the test: STOP on any vulnerability of severity high or worse.
const STOP_ON_HIGH: &str = r#"{
  "id": "stop-high", "name": "stop on high", "version": "1_0", "comment": "watch test",
  "policies": [{"id": "p1", "name": "stop", "version": "1_0",
    "rules": [{"id": "r1", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
               "params": [{"name": "package_type", "value": "all"},
                          {"name": "severity_comparison", "value": ">="},
                          {"name": "severity", "value": "high"}]}]}],
  "whitelists": [],
  "mappings": [{"id": "m1", "name": "all", "registry": "*", "repository": "*",
                "image": {"type": "tag", "value": "*"}, "policy_id": "p1", "whitelist_ids": []}],
  "whitelisted_images": [], "blacklisted_images": []
}"#;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The receiver process, killed on drop.
struct Receiver {
    child: Child,
    out: PathBuf,
}

impl Receiver {
    fn start(port: u16, out: &Path, delay: f64) -> Receiver {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/data/webhook_receiver.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(out)
            .arg(SECRET)
            .arg(delay.to_string())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "receiver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Receiver {
            child,
            out: out.to_path_buf(),
        }
    }

    fn stop(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    fn records(&self) -> Vec<Value> {
        records(&self.out)
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn records(out: &Path) -> Vec<Value> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Waits until `f` gives `Some`, at most `secs` seconds.
fn wait_for<T>(what: &str, secs: u64, server: &Server, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}\n--- server log ---\n{}",
            server.log()
        );
        std::thread::sleep(Duration::from_millis(250));
    }
}

/// The notification payloads of one type for one key that the receiver got.
fn got(out: &Path, kind: &str, key: &str) -> Vec<Value> {
    records(out)
        .into_iter()
        .filter(|r| {
            let p = &r["body"]["data"]["notification_payload"];
            r["body"]["data"]["notification_type"] == kind && p["subscription_key"] == key
        })
        .collect()
}

fn config(dir: &Path, receiver_port: u16) -> PathBuf {
    let path = dir.join("anchorage.yaml");
    let yaml = format!(
        "cycle_timers:\n  analyzer_queue: 1\n  image_watcher: 2\n  repo_watcher: 2\n  policy_eval: 3600\n  vulnerability_scan: 2\n  notifications: 1\n  feed_sync: 3600\n\
         webhooks:\n  signing_secret: {SECRET}\n  retry_backoff_seconds: 1\n  notification_retry_timeout: 600\n  max_attempts: 50\n  timeout_seconds: 10\n  \
         general:\n    url: http://127.0.0.1:{receiver_port}/general/<notification_type>/<userId>\n"
    );
    std::fs::write(&path, yaml).unwrap();
    path
}

fn api(server: &Server, method: &str, path: &str, body: Option<&str>) -> Value {
    let (code, text) = http(
        method,
        &format!("{}/{path}", server.url),
        Some(("admin", ADMIN_PASSWORD)),
        body.map(str::as_bytes),
    );
    assert!(
        (200..300).contains(&code),
        "{method} {path}: {code} {text}\n--- server log ---\n{}",
        server.log()
    );
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Our own client (`anchorage subscription|repo ...`) as admin; must exit 0.
fn ours(server: &Server, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_anchorage"))
        .args(args)
        .env("ANCHORAGE_URL", &server.url)
        .env("ANCHORAGE_USER", "admin")
        .env("ANCHORAGE_PASS", ADMIN_PASSWORD)
        .env_remove("ANCHORAGE_ACCOUNT")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "anchorage {args:?}: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    text
}

fn digest_of(server: &Server, tag: &str) -> Option<String> {
    let v = api(server, "GET", &format!("images?fulltag={tag}"), None);
    v.as_array()?
        .iter()
        .find(|i| i["analysis_status"] == "analyzed")
        .and_then(|i| i["imageDigest"].as_str().map(str::to_string))
}

#[test]
fn watch_mode_notifies_tag_analysis_vuln_and_policy_changes_through_real_processes() {
    if !crate::engine::tools_ready("watch_mode", &[CLI, "python3"]) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start(Auth::Basic {
        username: REGISTRY_USER.into(),
        password: REGISTRY_PASSWORD.into(),
    })
    .unwrap();
    let host = registry.host();
    let app = build_app_layout(work.path(), "app").unwrap();
    push_oci_layout(&registry, &app, "app", "team/app", "1.0", Format::Oci).unwrap();
    let tag = format!("{host}/team/app:1.0");

    // Feeds: a directory of real OSV npm records, without the lodash advisory at first.
    let feed = work.path().join("feed");
    std::fs::create_dir_all(&feed).unwrap();
    let npm = corpus_dir().join("osv/npm");
    std::fs::copy(
        npm.join("GHSA-xvch-5gv4-984h.json"),
        feed.join("GHSA-xvch-5gv4-984h.json"),
    )
    .unwrap();

    let out = work.path().join("received.jsonl");
    let rport = free_port();
    let receiver = Receiver::start(rport, &out, 0.0);
    let dir = tempfile::tempdir().unwrap();
    let options = Options {
        feeds: Some(format!("osv:{}", feed.display())),
        config: Some(config(work.path(), rport)),
    };
    let server = Server::start_with(dir, None, &host, &options);
    server.ok(&[
        "system",
        "wait",
        "--feedsready",
        "vulnerabilities",
        "--timeout",
        "120",
    ]);
    server.ok(&[
        "registry",
        "add",
        &host,
        REGISTRY_USER,
        REGISTRY_PASSWORD,
        "--insecure",
    ]);

    // `system webhook test` (the test-webhook endpoint): delivered now, signed.
    let text = server.ok(&["system", "webhook", "test"]);
    assert!(text.contains("Success"), "{text}");
    let test = wait_for("the test notification", 10, &server, || {
        got(
            &out,
            "tag_update",
            "docker.io/anchorage/test-webhook:latest",
        )
        .into_iter()
        .next()
    });
    assert!(receiver.records().iter().all(|r| r["signature_ok"] == true));
    assert_eq!(test["path"], "/general/tag_update/admin");

    // Adding the image subscribes its tag (§6.1): analysis_update and tag_update active.
    server.ok(&["image", "add", &tag]);
    server.ok(&["image", "wait", &tag, "--timeout", "300"]);
    let first = digest_of(&server, &tag).unwrap();
    let list = server.ok(&["subscription", "list"]);
    for kind in [
        "tag_update",
        "analysis_update",
        "policy_eval",
        "vuln_update",
    ] {
        assert!(list.contains(kind), "{list}");
    }
    let analysed = wait_for("analysis_update", 30, &server, || {
        got(&out, "analysis_update", &tag).into_iter().next()
    });
    let p = &analysed["body"]["data"]["notification_payload"];
    assert_eq!(p["curr_eval"]["analysis_status"], "analyzed");
    assert_eq!(p["curr_eval"]["imageDigest"], first.as_str());

    // Policy: STOP on high; the tag's verdict is GO with the feeds as they are.
    let bundle = work.path().join("bundle.json");
    std::fs::write(&bundle, STOP_ON_HIGH).unwrap();
    server.ok(&["policy", "add", bundle.to_str().unwrap()]);
    server.ok(&["policy", "activate", "stop-high"]);
    server.ok(&["subscription", "activate", "policy_eval", &tag]);
    // Our client: vuln_update on, analysis_update off and on again.
    assert!(ours(&server, &["subscription", "activate", "vuln_update", &tag]).contains("Success"));
    ours(
        &server,
        &["subscription", "deactivate", "analysis_update", &tag],
    );
    let mine = ours(&server, &["subscription", "list", "--full"]);
    let row = |kind: &str| {
        mine.lines()
            .find(|l| l.contains(tag.as_str()) && l.contains(kind))
            .unwrap_or_default()
            .to_string()
    };
    assert!(row("vuln_update").contains("True"), "{mine}");
    assert!(row("analysis_update").contains("False"), "{mine}");
    ours(
        &server,
        &["subscription", "activate", "analysis_update", &tag],
    );
    let (code, text) = server.admin(&["evaluate", "check", &tag]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("pass"), "{text}");

    // A new real advisory (lodash < 4.17.12, CRITICAL) in the served feed, then a sync:
    // re-matched without re-analysis -> vuln_update with the finding, policy_eval GO -> STOP.
    std::fs::copy(
        npm.join("GHSA-jf85-cpcp-j695.json"),
        feed.join("GHSA-jf85-cpcp-j695.json"),
    )
    .unwrap();
    api(&server, "POST", "system/feeds", None);
    let vuln = wait_for("vuln_update", 60, &server, || {
        got(&out, "vuln_update", &tag).into_iter().next()
    });
    let added = &vuln["body"]["data"]["notification_payload"]["diff_vulnerability_result"]["added"];
    assert!(
        added
            .as_array()
            .unwrap()
            .iter()
            .any(|v| v["Package_Name"] == "lodash" && v["Severity"] == "Critical"),
        "{vuln}"
    );
    let policy = wait_for("policy_eval", 60, &server, || {
        got(&out, "policy_eval", &tag).into_iter().next()
    });
    let p = &policy["body"]["data"]["notification_payload"];
    assert_eq!(p["last_eval"]["final_action"], "go", "{policy}");
    assert_eq!(p["curr_eval"]["final_action"], "stop", "{policy}");
    // Nothing was analysed again.
    let events = api(
        &server,
        "GET",
        "events?event_type=user.image.analysis.completed",
        None,
    );
    assert_eq!(events["results"].as_array().unwrap().len(), 1, "{events}");

    // Repositories through anchore-cli: add (tag count), list, unwatch, watch, del.
    let repo = format!("{host}/team/app");
    let text = server.ok(&["repo", "add", &repo]);
    assert!(text.contains(&repo) && text.contains('1'), "{text}");
    let text = server.ok(&["repo", "list"]);
    assert!(text.contains(&repo) && text.contains("True"), "{text}");
    server.ok(&["repo", "unwatch", &repo]);
    let text = server.ok(&["repo", "list"]);
    assert!(text.contains("False"), "{text}");
    server.ok(&["repo", "watch", &repo]);
    let mine = ours(&server, &["repo", "list"]);
    assert!(mine.contains(&repo) && mine.contains("True"), "{mine}");
    let dry = ours(&server, &["repo", "add", "--dryrun", &repo]);
    assert!(dry.contains("DRY RUN"), "{dry}");

    // The receiver goes down; a new tag in the watched repository is added by the repo
    // watcher and analysed; its analysis_update is retried until the receiver returns.
    receiver.stop();
    push_oci_layout(&registry, &app, "app", "team/app", "2.0", Format::V2s2).unwrap();
    let tag2 = format!("{host}/team/app:2.0");
    wait_for("the failed deliveries", 120, &server, || {
        let e = api(
            &server,
            "GET",
            "events?event_type=user.notification.delivery_failed",
            None,
        );
        (!e["results"].as_array().unwrap().is_empty()).then_some(())
    });
    let receiver = Receiver::start(rport, &out, 0.0);
    let retried = wait_for(
        "analysis_update after the receiver returned",
        60,
        &server,
        || got(&out, "analysis_update", &tag2).into_iter().next(),
    );
    assert_eq!(
        retried["body"]["data"]["notification_payload"]["curr_eval"]["analysis_status"],
        "analyzed"
    );
    let text = server.ok(&["repo", "list"]);
    assert!(text.contains(&repo), "{text}");
    ours(&server, &["repo", "unwatch", &repo]);
    ours(&server, &["repo", "watch", &repo]);
    server.ok(&["repo", "del", &repo]);
    let text = server.ok(&["repo", "list"]);
    assert!(!text.contains(&repo), "{text}");
    let mine = ours(&server, &["repo", "list"]);
    assert!(!mine.contains(&repo), "{mine}");
    receiver.stop();

    // A new image behind the watched tag 1.0: the tag watcher adds and analyses it ->
    // tag_update and analysis_update. The receiver answers slowly, and the engine is killed
    // while a delivery is in flight: after the restart it is delivered again with the same
    // notification id (at least once; exactly once after de-duplication).
    let receiver = Receiver::start(rport, &out, 4.0);
    let alpine = build_alpine_layout(work.path(), "alpine", "amd64").unwrap();
    push_oci_layout(&registry, &alpine, "alpine", "team/app", "1.0", Format::Oci).unwrap();
    let update = wait_for("tag_update", 60, &server, || {
        got(&out, "tag_update", &tag).into_iter().next()
    });
    let p = &update["body"]["data"]["notification_payload"];
    assert_eq!(p["last_eval"][0], first.as_str(), "{update}");
    let second = p["curr_eval"][0].as_str().unwrap().to_string();
    assert_ne!(second, first);
    let id = update["notification_id"].as_str().unwrap().to_string();
    // The tag_update delivery is in flight (the receiver sleeps before answering): kill.
    let dir = server.kill();
    let server = Server::start_with(dir, None, &host, &options);
    wait_for("the tag_update delivered again", 60, &server, || {
        let n = got(&out, "tag_update", &tag)
            .into_iter()
            .filter(|r| r["notification_id"] == id.as_str())
            .count();
        (n >= 2).then_some(())
    });
    wait_for("the tag_update recorded as delivered", 60, &server, || {
        let delivered = api(
            &server,
            "GET",
            "notifications?state=delivered&limit=1000",
            None,
        );
        delivered
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["notification_id"] == id.as_str())
            .then_some(())
    });
    let analysed2 = wait_for("analysis_update of the new image", 120, &server, || {
        got(&out, "analysis_update", &tag).into_iter().find(|r| {
            r["body"]["data"]["notification_payload"]["curr_eval"]["imageDigest"] == second.as_str()
        })
    });
    drop(analysed2);
    // De-duplicated by notification id, every notification arrived exactly once.
    let mut ids: Vec<String> = receiver
        .records()
        .iter()
        .filter_map(|r| r["notification_id"].as_str().map(str::to_string))
        .collect();
    ids.sort();
    let total = ids.len();
    ids.dedup();
    assert!(total > ids.len(), "the killed delivery was repeated");
    assert!(receiver.records().iter().all(|r| r["signature_ok"] == true));

    // subscription deactivate through anchore-cli.
    server.ok(&["subscription", "deactivate", "tag_update", &tag]);
    let list = api(
        &server,
        "GET",
        "subscriptions?subscription_type=tag_update",
        None,
    );
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|s| s["subscription_key"] == tag.as_str() && s["active"] == false),
        "{list}"
    );
}
