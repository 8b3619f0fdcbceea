//! Scale-out and operations (issue 12) on real processes: `anchorage serve --role api|worker`
//! sharing the real PostgreSQL of 127.0.0.1:5432, their `services` rows and heartbeats as
//! `GET system`, `anchorage system status` and the real anchore-cli show them, graceful
//! shutdown (finish within the deadline, or give the job back for another worker at once),
//! `/health`, `/ready`, a real Prometheus scrape parsed by the Prometheus project's own
//! OpenMetrics parser (PyPI prometheus-client), JSON logs with request ids and digests, and the
//! deployment files checked by real validators (docker-compose, kubernetes-validate,
//! dockerfile-parse).

#![allow(
    clippy::unwrap_used,
    clippy::print_stderr,
    reason = "tests fail loudly and say why they skip"
)]
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anchorage_testkit::{Auth, Format, Registry, build_app_layout, corpus_dir, push_oci_layout};
use serde_json::Value;

use crate::engine::ADMIN_PASSWORD;

const ANCHORE_CLI: &str = "/opt/anchorecli-venv/bin/anchore-cli";
const OPS_PYTHON: &str = "/opt/ops-venv/bin/python";
const KUBERNETES_VALIDATE: &str = "/opt/ops-venv/bin/kubernetes-validate";
const DOCKER_COMPOSE: &str = "/opt/compose-venv/bin/docker-compose";

/// Whether `tools` (absolute paths) and the image-building tools are there; under `CI` a
/// missing one fails the test.
fn ready(test: &str, tools: &[&str]) -> bool {
    crate::engine::tools_ready(test, tools)
}

/// Whether the validators (absolute paths) are installed; under `CI` a missing one fails.
fn validators_ready(test: &str, tools: &[&str]) -> bool {
    for tool in tools {
        if !Path::new(tool).exists() {
            assert!(
                std::env::var("CI").is_err(),
                "{tool} missing (scripts/setup.sh installs it)"
            );
            eprintln!("skipping {test}: {tool} missing (run scripts/setup.sh)");
            return false;
        }
    }
    true
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap()
}

/// A fresh PostgreSQL database of its own (named after this test and process), dropped at
/// the end.
pub(crate) struct Pg {
    name: String,
}

impl Pg {
    pub(crate) fn create(test: &str) -> Option<Pg> {
        let name = format!("anchorage_ops_{test}_{}", std::process::id());
        let ok = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-q"])
            .args([
                "-c",
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            ])
            .args(["-c", &format!("CREATE DATABASE {name}")])
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            assert!(
                std::env::var("CI").is_err(),
                "PostgreSQL on 127.0.0.1:5432 is not reachable"
            );
            eprintln!("skipping: PostgreSQL on 127.0.0.1:5432 is not reachable");
            return None;
        }
        Some(Pg { name })
    }

    pub(crate) fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:5432/{}", self.name)
    }

    /// Runs one query; returns its rows, `|`-separated.
    pub(crate) fn query(&self, sql: &str) -> String {
        let out = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &self.name])
            .args(["-qAtc", sql])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn drop_now(&self) {
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qc"])
            .arg(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            ))
            .stderr(Stdio::null())
            .status();
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        self.drop_now();
    }
}

/// One `anchorage serve` process of some role, with its own data directory; killed on drop.
pub(crate) struct Proc {
    pub(crate) child: Child,
    pub(crate) port: u16,
    log: PathBuf,
    dir: tempfile::TempDir,
}

impl Proc {
    /// Starts `anchorage serve --role ROLE` (the corpus' npm and Alpine feeds) and waits until
    /// it accepts connections.
    pub(crate) fn start(
        role: &str,
        database_url: Option<&str>,
        insecure: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Proc {
        let mut p = Proc::spawn(role, database_url, insecure, args, env);
        p.wait_listening(role);
        p
    }

    /// [`Proc::start`] without waiting.
    pub(crate) fn spawn(
        role: &str,
        database_url: Option<&str>,
        insecure: &str,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Proc {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("serve.log");
        let corpus = corpus_dir();
        let feeds = [
            format!("osv:{}", corpus.join("osv/npm").display()),
            format!(
                "alpine-secdb:{}",
                corpus.join("distro/alpine-secdb-json").display()
            ),
        ]
        .join(",");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_anchorage"));
        cmd.args(["serve", "--role", role, "--listen"])
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(dir.path().join("data"))
            .args(args)
            .env("ANCHORAGE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("ANCHORAGE_FEED_SOURCES", feeds)
            .env("ANCHORAGE_INSECURE_REGISTRIES", insecure)
            .env("ANCHORAGE_LOG", "info")
            // One key for every process: registry passwords sealed by one are opened by all.
            .env("ANCHORAGE_SECRET_KEY", "1f".repeat(32))
            .env_remove("ANCHORAGE_DATABASE_URL")
            .env_remove("ANCHORAGE_LOG_FORMAT")
            .current_dir(dir.path())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        if let Some(url) = database_url {
            cmd.env("ANCHORAGE_DATABASE_URL", url);
        }
        Proc {
            child: cmd.spawn().unwrap(),
            port,
            log,
            dir,
        }
    }

    /// Waits until the process accepts connections.
    pub(crate) fn wait_listening(&mut self, role: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("{role} exited with {status}:\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "{role} did not start:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Sends SIGTERM; returns the exit status and how long the process took to exit.
    fn terminate(&mut self) -> (ExitStatus, Duration) {
        let started = Instant::now();
        self.send_term();
        self.wait_exit(started)
    }

    /// Sends SIGTERM.
    fn send_term(&self) {
        let ok = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    /// Waits for the exit; returns the status and the time since `started`.
    fn wait_exit(&mut self, started: Instant) -> (ExitStatus, Duration) {
        let deadline = started + Duration::from_secs(120);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, started.elapsed());
            }
            assert!(Instant::now() < deadline, "no exit:\n{}", self.log());
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `GET /ready` answers 200; returns how long that took.
    pub(crate) fn wait_ready(&self) -> Duration {
        let started = Instant::now();
        loop {
            let r = http("GET", &self.url("/ready"), None, None, &[]);
            if r.status == 200 {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < Duration::from_secs(90),
                "never ready: {} {}\n{}",
                r.status,
                r.body,
                self.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An HTTP answer.
pub(crate) struct Resp {
    pub(crate) status: u16,
    headers: String,
    pub(crate) body: String,
}

impl Resp {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_string())
        })
    }
}

/// One request with curl.
pub(crate) fn http(
    method: &str,
    url: &str,
    auth: Option<(&str, &str)>,
    body: Option<&str>,
    headers: &[&str],
) -> Resp {
    let dir = tempfile::tempdir().unwrap();
    let head = dir.path().join("headers");
    let mut cmd = Command::new("curl");
    cmd.args(["-s", "-o", "-", "-w", "\n%{http_code}", "-X", method, url])
        .arg("-D")
        .arg(&head)
        .args(["-H", "Content-Type: application/json"]);
    for h in headers {
        cmd.args(["-H", h]);
    }
    if let Some((u, p)) = auth {
        cmd.args(["-u", &format!("{u}:{p}")]);
    }
    if let Some(b) = body {
        cmd.args(["--data-binary", b]);
    }
    let out = cmd.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    Resp {
        status: code.trim().parse().unwrap_or(0),
        headers: std::fs::read_to_string(&head).unwrap_or_default(),
        body: body.to_string(),
    }
}

pub(crate) const ADMIN: Option<(&str, &str)> = Some(("admin", ADMIN_PASSWORD));

/// Adds an image by tag through the API; returns its digest.
fn add_image(api: &Proc, tag: &str, headers: &[&str]) -> String {
    let r = http(
        "POST",
        &api.url("/v1/images"),
        ADMIN,
        Some(&format!("{{\"tag\": \"{tag}\"}}")),
        headers,
    );
    assert_eq!(r.status, 200, "{}\n{}", r.body, api.log());
    r.json()[0]["imageDigest"].as_str().unwrap().to_string()
}

/// The image's analysis status.
fn analysis_status(api: &Proc, digest: &str) -> String {
    let r = http(
        "GET",
        &api.url(&format!("/v1/images/{digest}")),
        ADMIN,
        None,
        &[],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()[0]["analysis_status"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// Waits until `cond` holds (polling every 50 ms, at most `limit`); returns the time taken.
fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) -> Duration {
    let started = Instant::now();
    while !cond() {
        assert!(started.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
    started.elapsed()
}

/// A TCP proxy in front of the registry that slows what the registry sends to
/// `bytes_per_second` per connection (0: full speed), so an analysis is still pulling layers
/// when a test stops its worker. Test harness only: the bytes pass unchanged.
struct SlowProxy {
    port: u16,
    rate: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl SlowProxy {
    fn start(upstream: String, bytes_per_second: u64) -> SlowProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let rate = Arc::new(AtomicU64::new(bytes_per_second));
        let stop = Arc::new(AtomicBool::new(false));
        let (r, s) = (rate.clone(), stop.clone());
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || pipe(c2, s2, None));
                let r = r.clone();
                std::thread::spawn(move || pipe(server, client, Some(r)));
            }
        });
        SlowProxy { port, rate, stop }
    }

    fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn full_speed(&self) {
        self.rate.store(0, Ordering::SeqCst);
    }
}

impl Drop for SlowProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Copies `from` to `to` in 8 KiB chunks, pausing after each to keep to `rate`.
fn pipe(mut from: TcpStream, mut to: TcpStream, rate: Option<Arc<AtomicU64>>) {
    let mut buf = [0u8; 8192];
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        if to.write_all(&buf[..n]).is_err() {
            break;
        }
        let bps = rate.as_ref().map_or(0, |r| r.load(Ordering::SeqCst));
        if bps > 0 {
            std::thread::sleep(Duration::from_secs_f64(n as f64 / bps as f64));
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Both);
    let _ = from.shutdown(std::net::Shutdown::Both);
}

/// Builds the app image (real packages) and pushes it as `ops/app:1`, and a copy differing only
/// in a config label as `ops/app:2` (same layers, another digest).
fn push_two_images(work: &Path, registry: &Registry) {
    let layout = build_app_layout(work, "app").unwrap();
    push_oci_layout(registry, &layout, "app", "ops/app", "1", Format::Oci).unwrap();
    let image = format!("{}:app", layout.display());
    let out = Command::new("umoci")
        .args(["config", "--image", &image, "--tag", "app2"])
        .args(["--config.label", "anchorage.test=second"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    push_oci_layout(registry, &layout, "app2", "ops/app", "2", Format::Oci).unwrap();
}

/// The `services` row of a process (by its port): (host id, status).
pub(crate) fn service_row(pg: &Pg, p: &Proc) -> (String, String) {
    let row = pg.query(&format!(
        "SELECT host_id, status FROM services WHERE base_url = 'http://127.0.0.1:{}'",
        p.port
    ));
    let (host, status) = row.split_once('|').unwrap_or(("", ""));
    (host.to_string(), status.to_string())
}

/// Who holds the lease of the image's open job (`HOST/worker-N`), if anyone.
fn lease_owner(pg: &Pg, digest: &str) -> String {
    pg.query(&format!(
        "SELECT lease_owner FROM jobs WHERE subject = '{digest}' AND state = 'running'"
    ))
}

/// `GET system`'s entries of one host: (service names, up).
fn system_entries(api: &Proc, host: &str) -> (Vec<String>, bool) {
    let r = http("GET", &api.url("/v1/system"), ADMIN, None, &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    let doc = r.json();
    let mine: Vec<&Value> = doc["service_states"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["hostid"] == host)
        .collect();
    let names = mine
        .iter()
        .map(|s| s["servicename"].as_str().unwrap().to_string())
        .collect();
    let up = mine.iter().all(|s| s["service_detail"]["up"] == true);
    (names, !mine.is_empty() && up)
}

#[test]
fn api_and_workers_share_postgres_report_heartbeats_and_stop_gracefully() {
    if !ready(
        "api_and_workers_share_postgres_report_heartbeats_and_stop_gracefully",
        &[ANCHORE_CLI],
    ) {
        return;
    }
    let Some(pg) = Pg::create("roles") else {
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start(Auth::None).unwrap();
    push_two_images(work.path(), &registry);
    // 400 KB/s per connection: the ~4 MB of layers take seconds to pull.
    let proxy = SlowProxy::start(registry.host(), 400_000);
    let insecure = proxy.host();
    let db = pg.url();
    let quick = ["--heartbeat-interval", "1", "--workers", "1"];

    // Two api processes start at once on the empty database: both migrate (one applies, under
    // the advisory lock) and bootstrap the admin records (the loser of the race retries).
    let mut api = Proc::spawn("api", Some(&db), &insecure, &quick, &[]);
    let mut api2 = Proc::spawn("api", Some(&db), &insecure, &quick, &[]);
    api.wait_listening("api");
    api2.wait_listening("api 2");
    let mut a = Proc::start(
        "worker",
        Some(&db),
        &insecure,
        &[&quick[..], &["--shutdown-timeout", "60"]].concat(),
        &[],
    );
    let api_ready = api.wait_ready();
    let worker_ready = a.wait_ready();
    eprintln!("ready after: api {api_ready:?}, worker {worker_ready:?}");
    // The worker serves probes and metrics only.
    assert_eq!(http("GET", &a.url("/health"), None, None, &[]).status, 200);
    assert_eq!(
        http("GET", &a.url("/v1/images"), ADMIN, None, &[]).status,
        404
    );
    assert_eq!(
        http("GET", &api.url("/v1/images"), ADMIN, None, &[]).status,
        200
    );
    assert_eq!(
        http("GET", &api2.url("/v1/images"), ADMIN, None, &[]).status,
        200
    );
    assert_eq!(
        pg.query("SELECT COUNT(*) FROM users WHERE username = 'admin'"),
        "1"
    );

    // Both processes are listed: the api as Anchore's four API services, the worker as the
    // analyzer; anchore-cli's `system wait` sees all five names up across the two.
    let (api_host, api_status) = service_row(&pg, &api);
    let (api2_host, _) = service_row(&pg, &api2);
    assert!(system_entries(&api, &api2_host).1);
    let (a_host, _) = service_row(&pg, &a);
    assert_eq!(api_status, "up");
    let (names, up) = system_entries(&api, &api_host);
    assert_eq!(names, ["apiext", "catalog", "policy_engine", "simplequeue"]);
    assert!(up);
    let (names, up) = system_entries(&api, &a_host);
    assert_eq!((names, up), (vec!["analyzer".to_string()], true));
    let cli = |args: &[&str]| {
        let out = Command::new(ANCHORE_CLI)
            .args(args)
            .env("ANCHORE_CLI_URL", api.url("/v1"))
            .env("ANCHORE_CLI_USER", "admin")
            .env("ANCHORE_CLI_PASS", ADMIN_PASSWORD)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    };
    let (code, text) = cli(&["system", "wait", "--timeout", "60", "--interval", "1"]);
    assert_eq!(code, 0, "{text}");
    let (code, text) = cli(&["system", "status"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Engine DB Version"), "{text}");
    assert!(
        text.contains(&a_host) && text.contains("analyzer"),
        "{text}"
    );
    // Our client: one line per process with its role, status, version and last heartbeat.
    let ours = Command::new(env!("CARGO_BIN_EXE_anchorage"))
        .args([
            "system",
            "status",
            "--url",
            &api.url("/v1"),
            "--user",
            "admin",
        ])
        .args(["--pass", ADMIN_PASSWORD])
        .output()
        .unwrap();
    let ours = String::from_utf8_lossy(&ours.stdout).to_string();
    let line = |host: &str| {
        ours.lines()
            .find(|l| l.starts_with(host))
            .unwrap_or_else(|| panic!("{host} missing:\n{ours}"))
            .to_string()
    };
    let worker_line = line(&a_host);
    assert!(
        worker_line.contains(" worker ")
            && worker_line.contains(" up ")
            && worker_line.contains("s ago"),
        "{ours}"
    );
    assert!(line(&api_host).contains(" api "), "{ours}");

    // 1. SIGTERM while analysing, deadline 60 s: the analysis finishes, then exit 0.
    let d1 = add_image(&api, &format!("{insecure}/ops/app:1"), &[]);
    wait_for("worker A to claim image 1", Duration::from_secs(30), || {
        lease_owner(&pg, &d1).starts_with(&a_host)
    });
    let sent = Instant::now();
    a.send_term();
    // Draining, the worker still beats (shown up) and the API process list says so.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(analysis_status(&api, &d1), "analyzing", "{}", a.log());
    assert!(system_entries(&api, &a_host).1, "{}", a.log());
    let (status, took) = a.wait_exit(sent);
    assert_eq!(status.code(), Some(0), "{}", a.log());
    assert_eq!(analysis_status(&api, &d1), "analyzed", "{}", a.log());
    assert!(!a.log().contains("given back"), "{}", a.log());
    eprintln!("worker A finished its analysis and exited 0 in {took:?} after SIGTERM");
    assert_eq!(service_row(&pg, &a).1, "down");

    // 2. SIGTERM with a 1 s deadline: the job goes back to the queue, the process exits 0, and
    // a second worker takes the job at once (the lease would hold it for 60 s).
    let no_metrics = work.path().join("no-metrics.yaml");
    std::fs::write(&no_metrics, "metrics:\n  enabled: false\n").unwrap();
    let open_metrics = work.path().join("open-metrics.yaml");
    std::fs::write(&open_metrics, "metrics:\n  auth_disabled: true\n").unwrap();
    let mut b = Proc::start(
        "worker",
        Some(&db),
        &insecure,
        &[
            &quick[..],
            &[
                "--shutdown-timeout",
                "1",
                "--config",
                no_metrics.to_str().unwrap(),
            ],
        ]
        .concat(),
        &[],
    );
    // metrics.enabled: false.
    assert_eq!(
        http("GET", &b.url("/metrics"), ADMIN, None, &[]).status,
        404
    );
    let (b_host, _) = service_row(&pg, &b);
    let d2 = add_image(&api, &format!("{insecure}/ops/app:2"), &[]);
    assert_ne!(d1, d2);
    wait_for("worker B to claim image 2", Duration::from_secs(30), || {
        lease_owner(&pg, &d2).starts_with(&b_host)
    });
    // Let B pull for a moment, so the deadline cuts a running analysis.
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(analysis_status(&api, &d2), "analyzing");
    let c = Proc::start(
        "worker",
        Some(&db),
        &insecure,
        &[&quick[..], &["--config", open_metrics.to_str().unwrap()]].concat(),
        &[],
    );
    let (c_host, _) = service_row(&pg, &c);
    let (status, took) = b.terminate();
    assert_eq!(status.code(), Some(0), "{}", b.log());
    assert!(took < Duration::from_secs(6), "{took:?}\n{}", b.log());
    assert!(b.log().contains("given back to the queue"), "{}", b.log());
    proxy.full_speed();
    let pickup = wait_for(
        "worker C to take the released job",
        Duration::from_secs(30),
        || {
            lease_owner(&pg, &d2).starts_with(&c_host)
                || pg.query(&format!("SELECT state FROM jobs WHERE subject = '{d2}'")) == "done"
        },
    );
    eprintln!("worker B exited 0 {took:?} after SIGTERM; worker C took the job {pickup:?} later");
    assert!(pickup < Duration::from_secs(10), "{pickup:?}");
    wait_for("image 2 analysed", Duration::from_secs(60), || {
        analysis_status(&api, &d2) == "analyzed"
    });
    // The released attempt was not counted; one analysis document per digest.
    assert_eq!(
        pg.query(&format!(
            "SELECT state, attempts, lease_owner IS NULL FROM jobs WHERE subject = '{d2}'"
        )),
        "done|1|t"
    );
    assert_eq!(pg.query("SELECT COUNT(*) FROM analyses"), "2");

    // 3. Metrics of the worker that did the work (metrics.auth_disabled: no credentials).
    let started = Instant::now();
    let scrape = http("GET", &c.url("/metrics"), None, None, &[]);
    eprintln!(
        "/metrics scrape of a worker on PostgreSQL (curl): {:?}",
        started.elapsed()
    );
    assert_eq!(scrape.status, 200, "{}", scrape.body);
    let samples = parse_openmetrics(&scrape.body);
    assert_eq!(
        value(
            &samples,
            "anchorage_analyses_total",
            &[("outcome", "analyzed")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(&samples, "anchorage_services_up", &[("role", "worker")]),
        Some(1.0),
        "B stopped, A stopped, C up"
    );
    assert_eq!(
        value(
            &samples,
            "anchorage_job_duration_seconds_count",
            &[("kind", "analyze"), ("outcome", "done")]
        ),
        Some(1.0)
    );

    // 4. A SIGKILLed process keeps an `up` row whose heartbeat goes stale: shown down after
    // three missed heartbeats (1 s each here).
    let mut c = c;
    let _ = c.child.kill();
    let _ = c.child.wait();
    let stale = wait_for("worker C shown down", Duration::from_secs(15), || {
        !system_entries(&api, &c_host).1
    });
    eprintln!("a killed worker was shown down {stale:?} after SIGKILL (heartbeat 1 s)");
    let r = http("GET", &api.url("/v1/system"), ADMIN, None, &[]);
    assert!(r.body.contains("no heartbeat for"), "{}", r.body);
    assert!(r.body.contains("stopped"), "{}", r.body);
    let (names, up) = system_entries(&api, &b_host);
    assert_eq!((names.len(), up), (1, false));
    // anchore-cli `system del` forgets a process that is down, and refuses a live one.
    let (code, text) = cli(&["system", "del", &c_host, "analyzer"]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("Success"), "{text}");
    assert!(system_entries(&api, &c_host).0.is_empty());
    let (code, text) = cli(&["system", "del", &api_host, "apiext"]);
    assert_ne!(code, 0, "{text}");
    assert!(text.contains("is up"), "{text}");

    // 5. Readiness follows the database: dropped (connections terminated), the api answers
    // /ready 503 with the reason, /health 200.
    pg.drop_now();
    let r = http("GET", &api.url("/ready"), None, None, &[]);
    assert_eq!(r.status, 503, "{}", r.body);
    let v = r.json();
    assert_eq!(v["status"], "not_ready");
    assert!(
        v["reason"].as_str().unwrap().starts_with("database"),
        "{}",
        r.body
    );
    assert_eq!(v["checks"]["database"]["ok"], false);
    assert_eq!(
        http("GET", &api.url("/health"), None, None, &[]).status,
        200
    );
    let (status, _) = api.terminate();
    assert_eq!(api2.terminate().0.code(), Some(0), "{}", api2.log());
    let raced = [&api, &api2]
        .iter()
        .any(|p| p.log().contains("bootstrap raced another process"));
    eprintln!("the two api processes raced at bootstrap: {raced}");
    assert_eq!(status.code(), Some(0), "{}", api.log());
    assert!(!api.log().contains("panicked"), "{}", api.log());
}

/// Samples of an OpenMetrics text parsed by prometheus-client's parser (it raises on any
/// format error): `[{name, labels, value}]`.
fn parse_openmetrics(text: &str) -> Vec<Value> {
    const SCRIPT: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
out = []
for fam in text_string_to_metric_families(sys.stdin.read()):
    for s in fam.samples:
        out.append({"family": fam.name, "type": fam.type, "name": s.name,
                    "labels": s.labels, "value": s.value})
print(json.dumps(out))
"#;
    let mut child = Command::new(OPS_PYTHON)
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the OpenMetrics parser refused the scrape: {}\n{text}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// The value of the sample `name` whose labels include `labels`.
fn value(samples: &[Value], name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples
        .iter()
        .find(|s| s["name"] == name && labels.iter().all(|(k, v)| s["labels"][*k] == *v))
        .and_then(|s| s["value"].as_f64())
}

/// A JSON log file's lines (other lines, such as the start banner, skipped).
fn json_lines(log: &str) -> Vec<Value> {
    log.lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .collect()
}

/// The span named `name` of a JSON log line, if the line is inside one.
fn span<'a>(line: &'a Value, name: &str) -> Option<&'a Value> {
    line["spans"].as_array()?.iter().find(|s| s["name"] == name)
}

#[test]
fn metrics_scrape_parses_and_moves_after_an_analysis_with_json_logs() {
    if !ready(
        "metrics_scrape_parses_and_moves_after_an_analysis_with_json_logs",
        &[OPS_PYTHON],
    ) {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let registry = Registry::start(Auth::None).unwrap();
    let layout = build_app_layout(work.path(), "app").unwrap();
    push_oci_layout(&registry, &layout, "app", "metrics/app", "1", Format::Oci).unwrap();
    let tag = format!("{}/metrics/app:1", registry.host());
    // JSON logs through the environment variable.
    let mut server = Proc::start(
        "all",
        None,
        &registry.host(),
        &[],
        &[("ANCHORAGE_LOG_FORMAT", "json")],
    );
    let took = server.wait_ready();
    eprintln!("/ready answered 200 {took:?} after the port opened");

    // The embedded SQLite mode is one process: roles are refused, and so is a second process
    // on the same data directory.
    let data = server.dir.path().join("data");
    for (args, needle) in [
        (vec!["--role", "worker"], "role worker needs PostgreSQL"),
        (
            vec!["--role", "all"],
            "another anchorage serve is using the data directory",
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_anchorage"))
            .arg("serve")
            .args(&args)
            .args([
                "--listen",
                &format!("127.0.0.1:{}", free_port()),
                "--data-dir",
            ])
            .arg(&data)
            .env("ANCHORAGE_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env_remove("ANCHORAGE_DATABASE_URL")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(needle), "{err}");
    }

    // Metrics need basic auth by default.
    assert_eq!(
        http("GET", &server.url("/metrics"), None, None, &[]).status,
        401
    );
    let before = http("GET", &server.url("/metrics"), ADMIN, None, &[]);
    assert_eq!(before.status, 200);
    assert!(
        before
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/openmetrics-text")),
        "{}",
        before.headers
    );
    let before = parse_openmetrics(&before.body);
    assert_eq!(
        value(
            &before,
            "anchorage_analyses_total",
            &[("outcome", "analyzed")]
        ),
        Some(0.0)
    );
    assert_eq!(
        value(&before, "anchorage_build_info", &[("role", "all")]),
        Some(1.0)
    );
    assert_eq!(
        value(
            &before,
            "anchorage_queue_depth",
            &[("kind", "analyze"), ("state", "queued")]
        ),
        Some(0.0)
    );
    let ages: Vec<f64> = before
        .iter()
        .filter(|s| s["name"] == "anchorage_feed_age_seconds")
        .map(|s| s["value"].as_f64().unwrap())
        .collect();
    assert_eq!(ages.len(), 2, "one age per feed source");
    assert!(ages.iter().all(|a| *a >= 0.0 && *a < 600.0), "{ages:?}");

    // An analysis, added with a request id of ours.
    let r = http(
        "POST",
        &server.url("/v1/images"),
        ADMIN,
        Some(&format!("{{\"tag\": \"{tag}\"}}")),
        &["x-request-id: ops-test-req-1"],
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("x-request-id").as_deref(), Some("ops-test-req-1"));
    let digest = r.json()[0]["imageDigest"].as_str().unwrap().to_string();
    wait_for("the analysis", Duration::from_secs(120), || {
        analysis_status(&server, &digest) == "analyzed"
    });
    // A request id that could forge log lines is replaced by a generated one.
    let r = http(
        "GET",
        &server.url("/health"),
        None,
        None,
        &["x-request-id: two words"],
    );
    let id = r.header("x-request-id").unwrap();
    assert!(
        id.len() == 32 && id.chars().all(|c| c.is_ascii_hexdigit()),
        "{id}"
    );

    // The scrape after: the counters and histograms moved; routes are templates.
    let mut times = Vec::new();
    let mut text = String::new();
    for _ in 0..20 {
        let started = Instant::now();
        let r = http("GET", &server.url("/metrics"), ADMIN, None, &[]);
        times.push(started.elapsed());
        assert_eq!(r.status, 200);
        text = r.body;
    }
    times.sort();
    eprintln!(
        "/metrics scrape (curl, SQLite, {} bytes): median {:?}, max {:?}",
        text.len(),
        times[times.len() / 2],
        times[times.len() - 1]
    );
    let after = parse_openmetrics(&text);
    let served = |k: &str| {
        value(
            &after,
            k,
            &[("method", "GET"), ("route", "/metrics"), ("status", "200")],
        )
        .unwrap_or(0.0)
    };
    eprintln!(
        "/metrics server-side: {:.2} ms on average over {} scrapes",
        1000.0 * served("anchorage_http_request_duration_seconds_sum")
            / served("anchorage_http_request_duration_seconds_count"),
        served("anchorage_http_request_duration_seconds_count")
    );
    assert_eq!(
        value(
            &after,
            "anchorage_analyses_total",
            &[("outcome", "analyzed")]
        ),
        Some(1.0)
    );
    assert_eq!(
        value(
            &after,
            "anchorage_job_duration_seconds_count",
            &[("kind", "analyze"), ("outcome", "done")]
        ),
        Some(1.0)
    );
    assert!(
        value(
            &after,
            "anchorage_http_request_duration_seconds_count",
            &[
                ("method", "GET"),
                ("route", "/images/{digest}"),
                ("status", "200")
            ]
        )
        .is_some_and(|n| n >= 1.0),
        "{text}"
    );
    assert_eq!(
        value(
            &after,
            "anchorage_http_request_duration_seconds_count",
            &[("method", "POST"), ("route", "/images"), ("status", "200")]
        ),
        Some(1.0)
    );
    assert!(
        !text.contains("sha256:"),
        "raw paths leaked into labels:\n{text}"
    );
    assert_eq!(
        value(
            &after,
            "anchorage_queue_depth",
            &[("kind", "analyze"), ("state", "running")]
        ),
        Some(0.0)
    );
    let later: Vec<f64> = after
        .iter()
        .filter(|s| s["name"] == "anchorage_feed_age_seconds")
        .map(|s| s["value"].as_f64().unwrap())
        .collect();
    assert!(
        later.iter().sum::<f64>() > ages.iter().sum::<f64>(),
        "{later:?}"
    );

    // Graceful stop; then the JSON log: every line of a request carries its id, every line
    // of the analysis job carries the digest.
    let (status, _) = server.terminate();
    assert_eq!(status.code(), Some(0), "{}", server.log());
    let lines = json_lines(&server.log());
    assert!(lines.len() > 10, "{}", server.log());
    let add = lines
        .iter()
        .find(|l| {
            span(l, "request").is_some_and(|s| s["request_id"] == "ops-test-req-1")
                && l["fields"]["message"] == "request"
        })
        .unwrap_or_else(|| panic!("no access line for our request:\n{}", server.log()));
    assert_eq!(span(add, "request").unwrap()["route"], "/images");
    assert_eq!(add["fields"]["status"], 200);
    let added = lines
        .iter()
        .find(|l| l["fields"]["message"] == "image added")
        .unwrap_or_else(|| panic!("no 'image added' line:\n{}", server.log()));
    assert_eq!(added["fields"]["digest"], digest.as_str());
    assert_eq!(
        span(added, "request").unwrap()["request_id"],
        "ops-test-req-1"
    );
    for l in &lines {
        if let Some(s) = span(l, "request") {
            assert!(
                s["request_id"].as_str().is_some_and(|id| !id.is_empty()),
                "{l}"
            );
        }
    }
    let job_lines: Vec<&Value> = lines.iter().filter(|l| span(l, "job").is_some()).collect();
    for l in &job_lines {
        assert_eq!(span(l, "job").unwrap()["digest"], digest.as_str(), "{l}");
    }
    for message in ["job claimed", "analysis completed"] {
        assert!(
            job_lines.iter().any(|l| l["fields"]["message"] == message),
            "no {message:?} line in the job span:\n{}",
            server.log()
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l["fields"]["message"] == "shutdown requested"),
        "{}",
        server.log()
    );
}

#[test]
fn deployment_files_pass_real_validators() {
    if !validators_ready(
        "deployment_files_pass_real_validators",
        &[DOCKER_COMPOSE, KUBERNETES_VALIDATE, OPS_PYTHON],
    ) {
        return;
    }
    let root = repo_root();
    let deploy = root.join("deploy");
    let work = tempfile::tempdir().unwrap();
    let run = |cmd: &mut Command| {
        let out = cmd.output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };

    // Compose: a real implementation resolves the file with the example environment; without
    // the secrets it refuses, naming the missing variable.
    let compose = deploy.join("compose.yaml");
    let (ok, text) = run(Command::new(DOCKER_COMPOSE)
        .arg("-f")
        .arg(&compose)
        .arg("--env-file")
        .arg(deploy.join("env.example"))
        .args(["config", "-q"]));
    assert!(ok, "{text}");
    let (ok, text) = run(Command::new(DOCKER_COMPOSE)
        .arg("-f")
        .arg(&compose)
        .arg("--env-file")
        .arg(deploy.join("env.example"))
        .args(["config", "--services"]));
    assert!(ok, "{text}");
    let mut services: Vec<&str> = text.lines().collect();
    services.sort_unstable();
    assert_eq!(services, ["api", "db", "worker-1", "worker-2"]);
    let empty = work.path().join("empty.env");
    std::fs::write(&empty, "# no secrets\n").unwrap();
    let (ok, text) = run(Command::new(DOCKER_COMPOSE)
        .arg("-f")
        .arg(&compose)
        .arg("--env-file")
        .arg(&empty)
        .args(["config", "-q"]));
    assert!(!ok && text.contains("ANCHORAGE_"), "{text}");
    let resolved = run(Command::new(DOCKER_COMPOSE)
        .arg("-f")
        .arg(&compose)
        .arg("--env-file")
        .arg(deploy.join("env.example"))
        .arg("config"))
    .1;
    for needle in [
        "--role",
        "worker",
        "/health",
        "/ready",
        "service_healthy",
        "db-data",
    ] {
        assert!(resolved.contains(needle), "{needle} missing:\n{resolved}");
    }

    // Kubernetes: every manifest against the schemas of Kubernetes 1.37, strictly (unknown
    // fields refused).
    let manifests: Vec<PathBuf> = std::fs::read_dir(deploy.join("kubernetes"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    assert!(manifests.len() >= 5, "{manifests:?}");
    let (ok, text) = run(Command::new(KUBERNETES_VALIDATE)
        .arg("--strict")
        .args(&manifests));
    assert!(ok, "{text}");
    let all = manifests
        .iter()
        .map(|p| std::fs::read_to_string(p).unwrap())
        .collect::<Vec<_>>()
        .join("\n---\n");
    for needle in [
        "kind: Secret",
        "kind: ConfigMap",
        "kind: Service",
        "name: anchorage-api",
        "name: anchorage-worker",
        "path: /health",
        "path: /ready",
        "runAsNonRoot: true",
        "replicas:",
        "resources:",
    ] {
        assert!(all.contains(needle), "{needle} missing");
    }
    // Synthetic: a misspelt field must be refused (the validator is not a rubber stamp).
    let broken = work.path().join("broken.yaml");
    let api = std::fs::read_to_string(deploy.join("kubernetes/api-deployment.yaml")).unwrap();
    std::fs::write(&broken, api.replace("readinessProbe:", "readynessProbe:")).unwrap();
    let (ok, text) = run(Command::new(KUBERNETES_VALIDATE)
        .arg("--strict")
        .arg(&broken));
    assert!(!ok, "{text}");

    // Dockerfile: parsed by dockerfile-parse; a Rust builder stage, a Debian slim runtime, a
    // non-root user, port 8228 and a health check.
    const CHECK: &str = "import json, sys\n\
from dockerfile_parse import DockerfileParser\n\
p = DockerfileParser(path=sys.argv[1])\n\
print(json.dumps({'structure': [{'instruction': i['instruction'], 'value': i['value']} for i in p.structure], 'baseimage': p.baseimage, 'parent_images': p.parent_images}))\n";
    let (ok, text) = run(Command::new(OPS_PYTHON)
        .args(["-c", CHECK])
        .arg(root.join("Dockerfile")));
    assert!(ok, "{text}");
    let doc: Value = serde_json::from_str(&text).unwrap();
    let parents: Vec<&str> = doc["parent_images"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(parents.len(), 2, "{parents:?}");
    assert!(parents[0].starts_with("rust:"), "{parents:?}");
    assert!(
        parents[1].starts_with("debian:") && parents[1].contains("slim"),
        "{parents:?}"
    );
    let steps: Vec<(String, String)> = doc["structure"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["instruction"].as_str().unwrap().to_string(),
                i["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let last_stage = steps.iter().rposition(|(i, _)| i == "FROM").unwrap();
    let runtime = &steps[last_stage..];
    let find = |name: &str| {
        runtime
            .iter()
            .filter(|(i, _)| i == name)
            .map(|(_, v)| v.clone())
            .collect::<Vec<_>>()
    };
    let user = find("USER");
    assert!(
        user.last()
            .is_some_and(|u| !u.starts_with("root") && !u.starts_with('0')),
        "{user:?}"
    );
    assert_eq!(find("EXPOSE"), ["8228"]);
    assert!(
        find("HEALTHCHECK").iter().any(|h| h.contains("/health")),
        "{runtime:?}"
    );
    assert!(
        find("COPY").iter().any(|c| c.starts_with("--from=builder")),
        "{runtime:?}"
    );
    // The README names the three ways to run.
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    for needle in ["deploy/compose.yaml", "deploy/kubernetes", "--role"] {
        assert!(readme.contains(needle), "README misses {needle}");
    }
}
