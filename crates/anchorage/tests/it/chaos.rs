//! Chaos test of scale-out (issue 12, item 2): 2 api + 3 worker processes of `anchorage serve`
//! on one database of the real PostgreSQL (127.0.0.1:5432), short job leases, watch mode with a
//! webhook receiver process (tests/it/data/webhook_receiver.py). Distinct images built from the
//! app layout (real packages) are pushed to a loopback registry with basic auth and added by
//! concurrent clients through both APIs, while a random worker is SIGKILLed every ~2 s and
//! replaced, and PostgreSQL itself is restarted once mid-run. At the end: every image analysed,
//! one analysis per digest, no job lost, every `analysis_update` notification delivered and
//! received (duplicates only as repeated deliveries of the same id).
//!
//! `ANCHORAGE_CHAOS_IMAGES` (default 50) and `ANCHORAGE_CHAOS_KILLS` (default 30) size a run.

#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "tests fail loudly and say why they skip"
)]
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::engine::{PushedApp, REGISTRY_PASSWORD, REGISTRY_USER};
use crate::ops::{ADMIN, Pg, Proc, free_port, http, service_row};

const SECRET: &str = "chaos-signing-secret";

/// A count from the environment, or `default`.
fn env_count(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// The webhook receiver process, killed on drop.
struct Receiver(Child);

impl Receiver {
    fn start(port: u16, out: &Path) -> Receiver {
        let script =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/data/webhook_receiver.py");
        let child = Command::new("python3")
            .arg(script)
            .arg(port.to_string())
            .arg(out)
            .arg(SECRET)
            .spawn()
            .unwrap();
        let receiver = Receiver(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "receiver did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        receiver
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// xorshift64: which worker dies next (no need for a random crate).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        usize::try_from(self.0 % n as u64).unwrap()
    }
}

/// Sets its flag when dropped (also while unwinding).
struct StopOnDrop<'a>(&'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Adds an image by tag; retries while the API cannot answer (PostgreSQL restarting).
fn add_image_retrying(api: &Proc, tag: &str) -> String {
    let started = Instant::now();
    loop {
        let r = http(
            "POST",
            &api.url("/v1/images"),
            ADMIN,
            Some(&format!("{{\"tag\": \"{tag}\"}}")),
            &[],
        );
        if r.status == 200 {
            return r.json()[0]["imageDigest"].as_str().unwrap().to_string();
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "adding {tag}: {} {}\n{}",
            r.status,
            r.body,
            api.log()
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A count from one SQL query, `None` while the database does not answer.
fn count(pg: &Pg, sql: &str) -> Option<usize> {
    pg.query(sql).parse().ok()
}

/// Restarts the PostgreSQL cluster (we need root or the cluster owner; `sudo -n` else);
/// returns whether it was restarted.
fn restart_postgres() -> bool {
    let Some(version) = std::fs::read_dir("/etc/postgresql").ok().and_then(|d| {
        d.filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .min()
    }) else {
        return false;
    };
    let args = [
        "--skip-systemctl-redirect",
        version.as_str(),
        "main",
        "restart",
    ];
    let direct = Command::new("pg_ctlcluster").args(args).output();
    if direct.as_ref().is_ok_and(|o| o.status.success()) {
        return true;
    }
    let sudo = Command::new("sudo")
        .arg("-n")
        .arg("pg_ctlcluster")
        .args(args)
        .output();
    if sudo.as_ref().is_ok_and(|o| o.status.success()) {
        return true;
    }
    eprintln!("pg_ctlcluster restart failed: {direct:?} / sudo: {sudo:?}");
    false
}

#[test]
#[expect(
    clippy::too_many_lines,
    reason = "one scenario, told in order: set-up, chaos, checks"
)]
fn chaos_two_api_three_workers_on_postgres_survive_worker_kills_and_a_postgres_restart() {
    let test =
        "chaos_two_api_three_workers_on_postgres_survive_worker_kills_and_a_postgres_restart";
    if !crate::engine::tools_ready(test, &["python3", "psql"]) {
        return;
    }
    let Some(pg) = Pg::create("chaos") else {
        return;
    };
    let images = env_count("ANCHORAGE_CHAOS_IMAGES", 50).max(1);
    let kills_wanted = env_count("ANCHORAGE_CHAOS_KILLS", 30);
    let app = PushedApp::push();
    let work = tempfile::tempdir().unwrap();
    let hook_port = free_port();
    let hooks = work.path().join("hooks.jsonl");
    let _receiver = Receiver::start(hook_port, &hooks);
    let config = work.path().join("anchorage.yaml");
    std::fs::write(
        &config,
        format!(
            "services:\n  analyzer:\n    lease_seconds: 3\n    max_attempts: 100\n\
             cycle_timers:\n  notifications: 1\n  analyzer_queue: 1\n\
             webhooks:\n  signing_secret: {SECRET}\n  retry_backoff_seconds: 1\n  max_attempts: 100\n  timeout_seconds: 5\n  \
             general:\n    url: http://127.0.0.1:{hook_port}/general/<notification_type>/<userId>\n"
        ),
    )
    .unwrap();
    let db = pg.url();
    let args = [
        "--heartbeat-interval",
        "1",
        "--workers",
        "2",
        "--config",
        config.to_str().unwrap(),
    ];
    let start = |role: &str| Proc::start(role, Some(&db), &app.host, &args, &[]);

    let mut apis = [
        Proc::spawn("api", Some(&db), &app.host, &args, &[]),
        Proc::spawn("api", Some(&db), &app.host, &args, &[]),
    ];
    for api in &mut apis {
        api.wait_listening("api");
    }
    for api in &apis {
        api.wait_ready();
    }
    let mut workers: Vec<Proc> = (0..3).map(|_| start("worker")).collect();
    let mut killed: Vec<Proc> = Vec::new();

    // The registry's credentials, once, through one API (sealed with the shared key).
    let body = serde_json::json!({
        "registry": app.host,
        "registry_user": REGISTRY_USER,
        "registry_pass": REGISTRY_PASSWORD,
        "registry_verify": false,
    })
    .to_string();
    let r = http(
        "POST",
        &apis[0].url("/v1/registries"),
        ADMIN,
        Some(&body),
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);

    let pushed = AtomicUsize::new(0);
    let added = AtomicUsize::new(0);
    let analyzed = AtomicUsize::new(0);
    let enough = AtomicBool::new(false);
    let pusher_done = AtomicBool::new(false);
    // Set when the main thread leaves the chaos loop, also by a panic: the helpers stop.
    let abort = AtomicBool::new(false);
    let digests: Mutex<Vec<String>> = Mutex::new(Vec::new());
    let (tx, rx) = mpsc::channel::<String>();
    let rx = Mutex::new(rx);
    let mut rng = Rng(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1);
    let started = Instant::now();
    let mut kills = 0usize;
    let mut hits = 0usize;
    let mut restart: Option<(Duration, usize)> = None;
    let mut restart_skipped = false;

    std::thread::scope(|s| {
        // The pusher: N distinct images, then more while kills are still due and the queue
        // runs dry (so the kills keep hitting running jobs).
        let (app, pushed, added, analyzed, enough, pusher_done, abort) = (
            &app,
            &pushed,
            &added,
            &analyzed,
            &enough,
            &pusher_done,
            &abort,
        );
        let _stop_helpers = StopOnDrop(abort);
        s.spawn(move || {
            for i in 0.. {
                if abort.load(Ordering::SeqCst) {
                    break;
                }
                if i >= images {
                    loop {
                        if enough.load(Ordering::SeqCst) || abort.load(Ordering::SeqCst) {
                            break;
                        }
                        if added.load(Ordering::SeqCst) < analyzed.load(Ordering::SeqCst) + 4
                            && pushed.load(Ordering::SeqCst) == added.load(Ordering::SeqCst)
                        {
                            break;
                        }
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    if enough.load(Ordering::SeqCst) || abort.load(Ordering::SeqCst) {
                        break;
                    }
                }
                let tag = format!("c{i}");
                app.push_variant(i, &tag);
                pushed.fetch_add(1, Ordering::SeqCst);
                tx.send(format!("{}/team/app:{tag}", app.host)).unwrap();
            }
            drop(tx);
            pusher_done.store(true, Ordering::SeqCst);
        });
        // Four clients, alternating between the two APIs.
        for k in 0..4 {
            let (apis, rx, digests) = (&apis, &rx, &digests);
            s.spawn(move || {
                let mut n = k;
                loop {
                    let next = rx.lock().unwrap().recv();
                    let Ok(tag) = next else { return };
                    let digest = add_image_retrying(&apis[n % 2], &tag);
                    n += 1;
                    digests.lock().unwrap().push(digest);
                    added.fetch_add(1, Ordering::SeqCst);
                }
            });
        }

        // The chaos: a random worker SIGKILLed every ~2 s and replaced by a fresh process;
        // PostgreSQL restarted once, halfway through the kills.
        loop {
            let tick = Instant::now();
            if let Some(n) = count(
                &pg,
                "SELECT COUNT(*) FROM images WHERE analysis_status = 'analyzed'",
            ) {
                analyzed.store(n, Ordering::SeqCst);
            }
            if let Some(failed) = count(
                &pg,
                "SELECT COUNT(*) FROM images WHERE analysis_status = 'analysis_failed'",
            ) {
                assert_eq!(
                    failed,
                    0,
                    "failed analyses: {}",
                    pg.query("SELECT digest, failure_reason FROM images WHERE analysis_status = 'analysis_failed'"),
                );
            }
            for p in &mut workers {
                if let Ok(Some(status)) = p.child.try_wait() {
                    panic!("a worker exited by itself ({status}):\n{}", p.log());
                }
            }
            for p in &apis {
                let r = http("GET", &p.url("/health"), None, None, &[]);
                assert_eq!(r.status, 200, "an api process is gone:\n{}", p.log());
            }
            if kills >= kills_wanted {
                enough.store(true, Ordering::SeqCst);
            }
            let all_added = pusher_done.load(Ordering::SeqCst)
                && added.load(Ordering::SeqCst) == pushed.load(Ordering::SeqCst);
            if enough.load(Ordering::SeqCst)
                && all_added
                && analyzed.load(Ordering::SeqCst) >= added.load(Ordering::SeqCst)
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(900),
                "chaos run did not finish: {kills} kills, {}/{} analysed\n{}",
                analyzed.load(Ordering::SeqCst),
                added.load(Ordering::SeqCst),
                pg.query("SELECT state, attempts, lease_owner, last_error FROM jobs WHERE state <> 'done'")
            );
            if kills < kills_wanted {
                let i = rng.below(workers.len());
                let (host, _) = service_row(&pg, &workers[i]);
                let busy = !host.is_empty()
                    && count(
                        &pg,
                        &format!(
                            "SELECT COUNT(*) FROM jobs WHERE state = 'running' AND lease_owner LIKE '{host}/%'"
                        ),
                    )
                    .is_some_and(|n| n > 0);
                let mut victim = std::mem::replace(&mut workers[i], start("worker"));
                victim.child.kill().unwrap();
                victim.child.wait().unwrap();
                killed.push(victim);
                kills += 1;
                hits += usize::from(busy);
            }
            if restart.is_none() && !restart_skipped && kills >= kills_wanted / 2 {
                let before = analyzed.load(Ordering::SeqCst);
                let t = Instant::now();
                if restart_postgres() {
                    // The processes reconnect: every one answers /ready again.
                    for p in apis.iter().chain(workers.iter()) {
                        p.wait_ready();
                    }
                    restart = Some((t.elapsed(), before));
                    eprintln!(
                        "PostgreSQL restarted after {kills} kills ({before} analysed); all processes ready again {:?} later",
                        t.elapsed()
                    );
                } else {
                    restart_skipped = true;
                    eprintln!(
                        "SKIPPING the PostgreSQL restart part: pg_ctlcluster works neither as this user nor with sudo -n"
                    );
                }
            }
            if let Some(rest) = Duration::from_secs(2).checked_sub(tick.elapsed()) {
                std::thread::sleep(rest);
            }
        }
    });
    let wall = started.elapsed();
    let digests = digests.into_inner().unwrap();
    let n = digests.len();
    let distinct: BTreeSet<&String> = digests.iter().collect();
    assert_eq!(distinct.len(), n, "every pushed image has its own digest");
    assert!(n >= images, "{n} < {images}");
    let in_list = digests
        .iter()
        .map(|d| format!("'{d}'"))
        .collect::<Vec<_>>()
        .join(",");

    // Every image analysed, none failed.
    assert_eq!(
        pg.query("SELECT analysis_status, COUNT(*) FROM images GROUP BY 1"),
        format!("analyzed|{n}")
    );
    assert_eq!(
        count(
            &pg,
            &format!(
                "SELECT COUNT(*) FROM images WHERE analysis_status = 'analyzed' AND digest IN ({in_list})"
            )
        ),
        Some(n)
    );
    // Exactly one analysis per digest.
    assert_eq!(
        pg.query(&format!(
            "SELECT COUNT(*), COUNT(DISTINCT digest) FROM analyses WHERE digest IN ({in_list})"
        )),
        format!("{n}|{n}")
    );
    assert_eq!(count(&pg, "SELECT COUNT(*) FROM analyses"), Some(n));
    // No job lost: each image's job done, nothing queued or running, nothing failed.
    assert_eq!(
        pg.query("SELECT state, COUNT(*) FROM jobs GROUP BY 1"),
        format!("done|{n}"),
        "{}",
        pg.query("SELECT subject, state, attempts, last_error FROM jobs WHERE state <> 'done'")
    );
    assert_eq!(
        count(
            &pg,
            &format!(
                "SELECT COUNT(DISTINCT subject) FROM jobs WHERE state = 'done' AND last_error IS NULL AND subject IN ({in_list})"
            )
        ),
        Some(n)
    );
    let attempts = count(&pg, "SELECT SUM(attempts) FROM jobs").unwrap();

    // No notification lost: one analysis_update per image, each delivered and received.
    let drain = Instant::now();
    let undelivered = "SELECT COUNT(*) FROM notifications WHERE notification_type = 'analysis_update' AND state <> 'delivered'";
    while count(&pg, undelivered) != Some(0) {
        assert!(
            drain.elapsed() < Duration::from_secs(120),
            "notifications not delivered:\n{}",
            pg.query("SELECT notification_id, state, attempts, last_error FROM notifications WHERE state <> 'delivered'")
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    let drain = drain.elapsed();
    let queued: BTreeSet<String> = pg
        .query(
            "SELECT notification_id FROM notifications WHERE notification_type = 'analysis_update'",
        )
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(queued.len(), n, "one analysis_update per image");
    assert_eq!(
        count(
            &pg,
            "SELECT COUNT(DISTINCT subscription_key) FROM notifications WHERE notification_type = 'analysis_update'"
        ),
        Some(n)
    );
    let records: Vec<Value> = std::fs::read_to_string(&hooks)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|r: &Value| r["body"]["data"]["notification_type"] == "analysis_update")
        .collect();
    let mut received: BTreeMap<String, usize> = BTreeMap::new();
    for r in &records {
        assert_eq!(r["signature_ok"], true, "{r}");
        let id = r["notification_id"].as_str().unwrap().to_string();
        assert!(queued.contains(&id), "received an id never queued: {r}");
        *received.entry(id).or_default() += 1;
    }
    let missing: Vec<&String> = queued
        .iter()
        .filter(|id| !received.contains_key(*id))
        .collect();
    assert!(
        missing.is_empty(),
        "delivered but never received: {missing:?}"
    );
    let duplicates = records.len() - received.len();

    let mut requeued = 0;
    for p in apis.iter().chain(workers.iter()).chain(killed.iter()) {
        let log = p.log();
        assert!(!log.contains("panicked"), "{log}");
        requeued += log.matches("the job goes back to the queue").count();
    }
    if restart.is_none() {
        eprintln!("NOTE: PostgreSQL was not restarted in this run (see above)");
    }
    eprintln!(
        "chaos: {n} images through 2 api + 3 workers (2 threads each), {kills} worker SIGKILLs \
         ({hits} while the victim held a running job), PostgreSQL restart: {restart:?}; \
         wall {wall:.1?}, {:.1} analyses/min, {} job attempts for {n} jobs ({} re-runs), \
         notifications drained {drain:.1?} after the last analysis, {} webhook deliveries \
         for {} ids ({duplicates} duplicate deliveries); {requeued} jobs requeued after a database \
         error",
        n as f64 * 60.0 / wall.as_secs_f64(),
        attempts,
        attempts - n,
        records.len(),
        received.len(),
    );
}
