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
    /// Do not sync the feeds at start-up.
    #[arg(long)]
    no_initial_sync: bool,
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

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}

/// `anchorage serve`.
pub(crate) async fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let flags = ServeFlags {
        listen: args.listen,
        data_dir: args.data_dir,
        config: args.config,
        dev: args.dev,
        workers: args.workers,
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
    let engine = crate::acquire_args::engine_with(
        &settings,
        analysis,
        Some(&service.data_dir.join("vulndb")),
        crate::acquire_args::sync_options(&settings),
    )?;
    let host_id = format!(
        "anchorage-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into())
    );
    let config = ApiConfig {
        admin_password: service.admin_password.clone(),
        admin_email: service.admin_email.clone(),
        max_request_bytes: service.max_request_bytes,
        insecure_registries: service.insecure_registries.clone(),
        feed_sources: feed_sources(&service.feed_sources)?,
        max_attempts: i64::from(service.max_attempts),
        host_id: host_id.clone(),
        base_url: format!("http://{}", service.listen),
    };
    let state = AppState::new(db.clone(), engine.clone(), sealer.clone(), config);
    let archive = archive_store(&service)?;
    tracing::info!(store = archive.describe(), "analysis archive");
    state.set_archive_store(archive);
    anchorage_api::bootstrap(&state)
        .await
        .map_err(|e| anyhow::anyhow!("bootstrap: {}", e.message))?;

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let worker = anchorage_worker::Worker::new(
        db.clone(),
        engine,
        sealer,
        anchorage_worker::WorkerOptions {
            count: service.workers,
            poll_interval: Duration::from_millis(500),
            lease: Duration::from_secs(60),
            job_timeout: Duration::from_secs(service.job_timeout_secs),
            insecure_registries: service.insecure_registries.clone(),
            host_id,
        },
    );
    let workers = tokio::spawn(worker.run(stopped));
    if !args.no_initial_sync {
        let s = state.clone();
        tokio::spawn(async move {
            if anchorage_api::sync_feeds(&s).await.is_some() {
                tracing::info!("initial feed sync finished");
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(service.listen)
        .await
        .with_context(|| format!("cannot listen on {}", service.listen))?;
    let database = if service.database_url.expose_secret().starts_with("sqlite:") {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    eprintln!(
        "anchorage serve: listening on http://{}/v1 ({database}, {} workers, data in {})",
        service.listen,
        service.workers,
        service.data_dir.display()
    );
    axum::serve(listener, anchorage_api::into_service(state))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server")?;
    let _ = stop.send(true);
    let _ = workers.await;
    db.close().await;
    drop(lock);
    Ok(ExitStatus::Ok)
}
