//! Shared set-up of the engine-service tests (`serve.rs` drives it with the real anchore-cli,
//! `client.rs` with our own client commands): a running `anchorage serve` with the corpus'
//! real OSV/secdb feeds, and an image built from real registry packages pushed to a loopback
//! `docker-registry` with basic auth.

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

/// Password of the server's bootstrap `admin` user.
pub(crate) const ADMIN_PASSWORD: &str = "s3cret-admin";
/// User and password of the loopback registry.
pub(crate) const REGISTRY_USER: &str = "puller";
/// Password of [`REGISTRY_USER`] (must never show in output or logs).
pub(crate) const REGISTRY_PASSWORD: &str = "pull-pass";

/// The custom bundle of the tutorial: one policy that only warns on vulnerabilities.
pub(crate) const WARN_ONLY_BUNDLE: &str = r#"{
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

/// Spawns `anchorage serve` on `port` with its data in `dir/data`, the corpus feeds, two
/// workers, the admin password and `insecure` as its plain-HTTP registries; its log goes to
/// `log`.
pub(crate) fn spawn_serve(
    dir: &Path,
    port: u16,
    database_url: Option<&str>,
    insecure: &str,
    log: &Path,
) -> Child {
    spawn_serve_with(dir, port, database_url, insecure, log, &Options::default())
}

/// What a test changes in [`spawn_serve`]'s defaults.
#[derive(Debug, Clone, Default)]
pub(crate) struct Options {
    /// `ANCHORAGE_FEED_SOURCES` instead of the corpus feeds.
    pub(crate) feeds: Option<String>,
    /// `--config` file.
    pub(crate) config: Option<PathBuf>,
}

/// [`spawn_serve`] with other feeds or a config file.
pub(crate) fn spawn_serve_with(
    dir: &Path,
    port: u16,
    database_url: Option<&str>,
    insecure: &str,
    log: &Path,
    options: &Options,
) -> Child {
    let corpus = corpus_dir();
    let default_feeds = [
        format!("osv:{}", corpus.join("osv/npm").display()),
        format!("osv:{}", corpus.join("osv/PyPI").display()),
        format!("osv:{}", corpus.join("osv/Maven").display()),
        format!(
            "alpine-secdb:{}",
            corpus.join("distro/alpine-secdb-json").display()
        ),
    ]
    .join(",");
    let feeds = options.feeds.clone().unwrap_or(default_feeds);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anchorage"));
    cmd.args([
        "serve",
        "--listen",
        &format!("127.0.0.1:{port}"),
        "--data-dir",
    ])
    .arg(dir.join("data"))
    .args(["--workers", "2"])
    .env("ANCHORAGE_ADMIN_PASSWORD", ADMIN_PASSWORD)
    .env("ANCHORAGE_FEED_SOURCES", feeds)
    .env("ANCHORAGE_INSECURE_REGISTRIES", insecure)
    .env("ANCHORAGE_LOG", "info")
    .env_remove("ANCHORAGE_DATABASE_URL")
    .current_dir(dir)
    .stdout(Stdio::null())
    .stderr(std::fs::File::create(log).unwrap());
    if let Some(url) = database_url {
        cmd.env("ANCHORAGE_DATABASE_URL", url);
    }
    if let Some(config) = &options.config {
        cmd.arg("--config").arg(config);
    }
    cmd.spawn().unwrap()
}

/// A running `anchorage serve`, killed on drop.
pub(crate) struct Server {
    child: Child,
    /// Base URL of the API (`http://127.0.0.1:PORT/v1`).
    pub(crate) url: String,
    log: PathBuf,
    /// The directory holding its data (`data/`) and log.
    pub(crate) dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Starts the server on a free loopback port (SQLite unless `database_url`), with the
    /// corpus feeds, two workers and `insecure` as its plain-HTTP registries; returns once it
    /// accepts connections.
    pub(crate) fn start(database_url: Option<&str>, insecure: &str) -> Server {
        Server::start_in(tempfile::tempdir().unwrap(), database_url, insecure)
    }

    /// [`Server::start`] with its data in `dir` (a restart after [`Server::kill`] finds it).
    pub(crate) fn start_in(
        dir: tempfile::TempDir,
        database_url: Option<&str>,
        insecure: &str,
    ) -> Server {
        Server::start_with(dir, database_url, insecure, &Options::default())
    }

    /// [`Server::start_in`] with other feeds or a config file.
    pub(crate) fn start_with(
        dir: tempfile::TempDir,
        database_url: Option<&str>,
        insecure: &str,
        options: &Options,
    ) -> Server {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = dir.path().join(format!("server-{port}.log"));
        let mut child = spawn_serve_with(dir.path(), port, database_url, insecure, &log, options);
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            let text = || std::fs::read_to_string(&log).unwrap_or_default();
            if let Ok(Some(status)) = child.try_wait() {
                panic!("server exited with {status}:\n{}", text());
            }
            assert!(
                Instant::now() < deadline,
                "server did not start:\n{}",
                text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Server {
            child,
            url: format!("http://127.0.0.1:{port}/v1"),
            log,
            dir,
        }
    }

    /// Kills the process with SIGKILL; returns its directory for [`Server::start_in`].
    pub(crate) fn kill(mut self) -> tempfile::TempDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap())
    }

    /// The server's log so far.
    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The tutorial's image: built from real packages, pushed as `team/app:1.0` to a loopback
/// registry that wants basic auth.
pub(crate) struct PushedApp {
    /// Scratch directory (bundle files may be written here).
    pub(crate) work: tempfile::TempDir,
    /// The registry, stopped on drop.
    registry: Registry,
    /// `127.0.0.1:PORT`.
    pub(crate) host: String,
    /// `127.0.0.1:PORT/team/app:1.0`.
    pub(crate) tag: String,
}

impl PushedApp {
    /// Builds and pushes the image.
    pub(crate) fn push() -> PushedApp {
        let work = tempfile::tempdir().unwrap();
        let registry = Registry::start(Auth::Basic {
            username: REGISTRY_USER.into(),
            password: REGISTRY_PASSWORD.into(),
        })
        .unwrap();
        let layout = build_app_layout(work.path(), "app").unwrap();
        push_oci_layout(&registry, &layout, "app", "team/app", "1.0", Format::Oci).unwrap();
        let host = registry.host();
        let tag = format!("{host}/team/app:1.0");
        PushedApp {
            work,
            registry,
            host,
            tag,
        }
    }

    /// Pushes a variant of the image as `team/app:DEST_TAG`: the same layers, its config
    /// labelled `variant=N`, so a new digest (a tag that moves, or more images to analyse).
    pub(crate) fn push_variant(&self, n: usize, dest_tag: &str) {
        let layout = self.work.path().join("layout");
        let variant = format!("app-v{n}");
        anchorage_testkit::run(
            Command::new("umoci")
                .args(["config", "--image"])
                .arg(format!("{}:app", layout.display()))
                .args(["--tag", &variant, "--config.label", &format!("variant={n}")]),
        )
        .unwrap();
        push_oci_layout(
            &self.registry,
            &layout,
            &variant,
            "team/app",
            dest_tag,
            Format::Oci,
        )
        .unwrap();
    }

    /// Writes a file into the scratch directory; returns its path.
    pub(crate) fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.work.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }
}

/// Whether the tools [`PushedApp::push`] needs (and `extra`) are installed; under `CI` a
/// missing one fails the test.
pub(crate) fn tools_ready(test: &str, extra: &[&str]) -> bool {
    for tool in extra.iter().filter(|t| t.starts_with('/')) {
        if !Path::new(tool).exists() {
            assert!(
                std::env::var("CI").is_err(),
                "{tool} missing (scripts/setup.sh installs it)"
            );
            eprintln!("skipping {test}: {tool} missing (run scripts/setup.sh)");
            return false;
        }
    }
    let mut tools = vec![
        "docker-registry",
        "skopeo",
        "umoci",
        "npm",
        "dpkg-deb",
        "htpasswd",
    ];
    tools.extend(extra.iter().filter(|t| !t.starts_with('/')));
    anchorage_testkit::require_tools(test, &tools)
}
