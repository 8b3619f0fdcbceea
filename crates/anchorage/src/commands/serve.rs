//! `anchorage serve`: the engine service (Anchore v1 API, analysis workers) in one process on
//! the embedded SQLite store under `--data-dir`, or on PostgreSQL with
//! `ANCHORAGE_DATABASE_URL`; and `anchorage migrate`, which applies the store's migrations.

use std::path::PathBuf;
use std::time::Duration;

use anchorage_api::{ApiConfig, AppState};
use anchorage_engine::AnalyzeSettings;
use anchorage_settings::{ServeFlags, ServiceSettings};
use anchorage_store::{ConnectOptions, Sealer};
use anchorage_vulndb::{DEFAULT_OSV_ECOSYSTEMS, FeedSource, OSV_EXPORTS_BASE};
use anyhow::Context as _;
use secrecy::ExposeSecret as _;

use super::serve_ops;
use crate::ExitStatus;

/// Arguments of `anchorage serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Address to listen on (default `services.apiext` of the config file, else 127.0.0.1:8228).
    #[arg(long, value_name = "ADDR:PORT")]
    listen: Option<std::net::SocketAddr>,
    /// Data directory: SQLite database, blob cache, vulnerability store, key file
    /// (default `$ANCHORAGE_DATA_DIR` or `./anchorage-data`).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Anchore-style YAML config file (`default_admin_password`, `credentials.database`,
    /// `services.apiext`, `services.analyzer`, ...).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Development mode: without a configured admin password, use `foobar`.
    #[arg(long)]
    dev: bool,
    /// Analysis workers in this process (default `services.analyzer.max_threads`, else 2).
    #[arg(long)]
    workers: Option<usize>,
    /// Do not sync the feeds at start-up (the `feed_sync` cycle's next run is one interval
    /// away).
    #[arg(long)]
    no_initial_sync: bool,
    #[command(flatten)]
    ops: OpsArgs,
}

/// Scale-out and operations flags of `anchorage serve`.
#[derive(Debug, clap::Args)]
struct OpsArgs {
    /// What this process runs: `api` (the HTTP API), `worker` (analysis workers; HTTP only
    /// for /health, /ready and /metrics) or `all`. Several api and worker processes share one
    /// PostgreSQL; on SQLite only `all`.
    #[arg(long, value_enum, default_value_t = RoleArg::All)]
    role: RoleArg,
    /// At SIGTERM, seconds running analyses may go on before their jobs are given back to the
    /// queue (default `services.analyzer.shutdown_timeout_seconds`, else 30).
    #[arg(long, value_name = "SECONDS")]
    shutdown_timeout: Option<u64>,
    /// Seconds between heartbeats of this process in the `services` table (default
    /// `services.heartbeat_seconds`, else 5); three missed ones show it as down.
    #[arg(long, value_name = "SECONDS")]
    heartbeat_interval: Option<u64>,
}

/// `--role`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum RoleArg {
    Api,
    Worker,
    All,
}

impl From<RoleArg> for anchorage_settings::Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Api => Self::Api,
            RoleArg::Worker => Self::Worker,
            RoleArg::All => Self::All,
        }
    }
}

/// Arguments of `anchorage migrate`.
#[derive(Debug, clap::Args)]
pub(crate) struct MigrateArgs {
    /// Data directory of the embedded SQLite database.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Anchore-style YAML config file (`credentials.database.db_connect`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

fn service_settings(
    flags: &ServeFlags,
) -> anyhow::Result<(anchorage_settings::Settings, ServiceSettings)> {
    let settings = anchorage_settings::load(None)?;
    let service = ServiceSettings::resolve(flags, &settings, &|k| std::env::var_os(k))?;
    Ok((settings, service))
}

async fn open_db(service: &ServiceSettings) -> anyhow::Result<anchorage_store::Database> {
    std::fs::create_dir_all(&service.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            service.data_dir.display()
        )
    })?;
    let db = anchorage_store::connect(
        &service.database_url,
        &ConnectOptions {
            max_connections: service.db_pool_size,
            acquire_timeout_secs: 30,
        },
    )
    .await?;
    let applied = db.migrate().await?;
    if !applied.is_empty() {
        tracing::info!(?applied, "migrations applied");
    }
    Ok(db)
}

/// The analysis archive's store (`services.catalog.analysis_archive`, default the directory
/// `<data-dir>/analysis_archive`).
pub(crate) fn archive_store(
    service: &ServiceSettings,
) -> anyhow::Result<anchorage_store::ArchiveStore> {
    use anchorage_settings::ArchiveStorage;
    let driver = match &service.analysis_archive {
        ArchiveStorage::LocalFs { dir } => anchorage_store::ArchiveDriver::local(dir.clone()),
        ArchiveStorage::S3 {
            url,
            bucket,
            access_key,
            secret_key,
            region,
        } => anchorage_store::ArchiveDriver::S3 {
            url: url.clone(),
            bucket: bucket.clone(),
            access_key: access_key.clone(),
            secret_key: secret_key.clone(),
            region: region.clone(),
        },
        other => anyhow::bail!("unsupported analysis archive store {other:?}"),
    };
    Ok(anchorage_store::ArchiveStore::open(&driver)?)
}

/// `anchorage migrate`.
pub(crate) async fn migrate(args: MigrateArgs) -> anyhow::Result<ExitStatus> {
    let flags = ServeFlags {
        data_dir: args.data_dir,
        config: args.config,
        dev: true,
        ..ServeFlags::default()
    };
    let (_, service) = service_settings(&flags)?;
    let db = open_db(&service).await?;
    for m in db.applied_migrations().await? {
        println!("{} {} applied {}", m.version, m.description, m.applied_at);
    }
    db.close().await;
    Ok(ExitStatus::Ok)
}

fn feed_sources(list: &[String]) -> anyhow::Result<Vec<FeedSource>> {
    if list.is_empty() {
        return Ok(DEFAULT_OSV_ECOSYSTEMS
            .iter()
            .map(|e| FeedSource::osv_export(OSV_EXPORTS_BASE, e))
            .collect());
    }
    list.iter()
        .map(|s| {
            s.parse::<FeedSource>()
                .with_context(|| format!("feed source {s:?}"))
        })
        .collect()
}

/// `anchorage serve`.
pub(crate) async fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let flags = ServeFlags {
        listen: args.listen,
        data_dir: args.data_dir,
        config: args.config,
        dev: args.dev,
        workers: args.workers,
        role: args.ops.role.into(),
        shutdown_timeout: args.ops.shutdown_timeout,
        heartbeat_interval: args.ops.heartbeat_interval,
    };
    let (settings, service) = service_settings(&flags)?;
    if service.dev_password {
        tracing::warn!(
            "--dev: the admin password is the development default; never expose this server"
        );
    }
    std::fs::create_dir_all(&service.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            service.data_dir.display()
        )
    })?;
    // One process per SQLite data directory: the embedded mode has no cross-process queue.
    // The lock is held (the file kept open) until the process exits.
    let lock_path = service.data_dir.join("serve.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot open {}", lock_path.display()))?;
    let sqlite = service.database_url.expose_secret().starts_with("sqlite:");
    if sqlite && lock.try_lock().is_err() {
        anyhow::bail!(
            "another anchorage serve is using the data directory {} (SQLite is the \
             single-process embedded mode; use PostgreSQL, ANCHORAGE_DATABASE_URL, for several \
             processes)",
            service.data_dir.display()
        );
    }
    let db = open_db(&service).await?;
    if db.backend() == anchorage_store::Backend::Sqlite {
        // One process owns an SQLite data directory: a running job is a leftover of a process
        // that was killed; take it again now rather than after its lease expires.
        let n = db
            .requeue_orphaned_jobs(chrono::Utc::now().timestamp())
            .await?;
        if n > 0 {
            tracing::warn!(
                jobs = n,
                "requeued jobs of a process that stopped mid-analysis"
            );
        }
    }
    let sealer = match &service.secret_key {
        Some(k) => Sealer::from_hex(k).context("ANCHORAGE_SECRET_KEY")?,
        None => Sealer::from_key_file(&service.data_dir.join("secret.key"))?,
    };
    let mut analysis = AnalyzeSettings {
        acquire: settings.acquire_options(&anchorage_settings::AcquireOverrides {
            cache_dir: Some(service.data_dir.join("blobs")),
            insecure_registries: service.insecure_registries.clone(),
            // The server never reads the operator's Docker credentials: accounts bring
            // their own.
            no_docker_config: true,
            ..anchorage_settings::AcquireOverrides::default()
        }),
        ..AnalyzeSettings::default()
    };
    analysis.squash.limits = settings.squash_limits();
    analysis.malware = service.clamav.scan_options();
    if let Some(m) = &analysis.malware {
        tracing::info!(clamd = %m.endpoint, "analyses scan files for malware with clamd");
    }
    let engine = crate::acquire_args::engine_with(
        &settings,
        analysis,
        Some(&service.data_dir.join("vulndb")),
        crate::acquire_args::sync_options(&settings),
    )?;
    let role = service.role;
    let host_id = serve_ops::host_id();
    let base_url = format!("http://{}", service.listen);
    let config = ApiConfig {
        admin_password: service.admin_password.clone(),
        admin_email: service.admin_email.clone(),
        max_request_bytes: service.max_request_bytes,
        insecure_registries: service.insecure_registries.clone(),
        feed_sources: feed_sources(&service.feed_sources)?,
        max_attempts: i64::from(service.max_attempts),
        host_id: host_id.clone(),
        base_url: base_url.clone(),
        role: role.as_str().to_string(),
        metrics_enabled: service.metrics_enabled,
        metrics_auth_disabled: service.metrics_auth_disabled,
    };
    let archive = archive_store(&service)?;
    let watch = anchorage_watch::Watch::new(
        db.clone(),
        engine.clone(),
        sealer.clone(),
        anchorage_watch::WatchOptions {
            host_id: host_id.clone(),
            timers: service.cycle_timers.clone(),
            webhooks: service.webhooks.clone(),
            feed_sources: config.feed_sources.clone(),
            insecure_registries: service.insecure_registries.clone(),
            max_attempts: i64::from(service.max_attempts),
            archive: Some(archive.clone()),
        },
    )
    .context("watch mode")?;
    let state = AppState::new(
        db.clone(),
        engine.clone(),
        sealer.clone(),
        config,
        watch.clone(),
    );
    tracing::info!(store = archive.describe(), "analysis archive");
    state.set_archive_store(archive);
    if role.serves_api() {
        // Several api processes may start at once on one PostgreSQL: a bootstrap that lost
        // the race to create the admin records finds them on the next try.
        let mut tries = 0;
        while let Err(e) = anchorage_api::bootstrap(&state).await {
            tries += 1;
            anyhow::ensure!(tries < 5, "bootstrap: {}", e.message);
            tracing::warn!(error = %e.message, "bootstrap raced another process; retrying");
            tokio::time::sleep(Duration::from_millis(200 * tries)).await;
        }
    }
    anchorage_metrics::set_build_info(env!("CARGO_PKG_VERSION"), role.as_str());
    let heartbeat = Duration::from_secs(service.heartbeat_secs);
    let registration =
        serve_ops::Registration::register(&db, &host_id, role, &base_url, heartbeat).await?;

    let (_stop, stopped) = serve_ops::shutdown_on_signal();
    let worker = anchorage_worker::Worker::new(
        db.clone(),
        engine,
        sealer,
        anchorage_worker::WorkerOptions {
            count: service.workers,
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(service.lease_secs),
            job_timeout: Duration::from_secs(service.job_timeout_secs),
            insecure_registries: service.insecure_registries.clone(),
            host_id,
            shutdown_timeout: Duration::from_secs(service.shutdown_timeout_secs),
        },
    );
    let worker = worker.with_watch(watch.clone());
    let workers = role
        .runs_workers()
        .then(|| tokio::spawn(worker.run(stopped.clone())));
    if args.no_initial_sync {
        db.postpone_cycle("feed_sync", chrono::Utc::now().timestamp())
            .await?;
    } else {
        // This process' own copy of the vulnerability data (`/ready` waits for it); the
        // cluster's `feed_sync` cycle records and re-matches changes.
        let w = watch.clone();
        tokio::spawn(async move {
            if w.sync_local().await {
                tracing::info!("initial feed sync finished");
            }
        });
    }
    // The cycles (watchers, feed sync, notifications), each once cluster-wide whatever the
    // role: a lease in the database picks the process.
    let cycles = tokio::spawn(watch.run(stopped.clone()));
    let listener = tokio::net::TcpListener::bind(service.listen)
        .await
        .with_context(|| format!("cannot listen on {}", service.listen))?;
    let database = if service.database_url.expose_secret().starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let workers_note = if role.runs_workers() {
        format!("{} workers", service.workers)
    } else {
        "no workers".to_string()
    };
    eprintln!(
        "anchorage serve: role {}, listening on http://{}/v1 ({database}, {workers_note}, data \
         in {})",
        role.as_str(),
        service.listen,
        service.data_dir.display()
    );
    // The heartbeat goes on while running analyses drain, until the process is done.
    let (beat_stop, beat_stopped) = tokio::sync::watch::channel(false);
    let beat = async {
        registration.heartbeat(heartbeat, beat_stopped).await;
    };
    let rest = async {
        let served = axum::serve(listener, serve_ops::service(role, state))
            .with_graceful_shutdown(serve_ops::stopped(stopped.clone()))
            .await;
        // The HTTP side has stopped; running analyses finish or are given back within
        // --shutdown-timeout.
        if let Some(workers) = workers {
            let _ = workers.await;
        }
        let _ = cycles.await;
        let _ = beat_stop.send(true);
        served
    };
    let ((), served) = tokio::join!(beat, rest);
    registration.mark_down().await;
    served.context("server")?;
    db.close().await;
    drop(lock);
    Ok(ExitStatus::Ok)
}
