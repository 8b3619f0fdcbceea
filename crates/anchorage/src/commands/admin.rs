//! `anchorage admin backup|restore|apply-archive-rules`. Backup and restore: a whole deployment (every table of the service database,
//! analysis documents included, and the analysis archive's objects) to and from one portable
//! `tar.zst` file. The database is named as `anchorage migrate` names it
//! (`ANCHORAGE_DATABASE_URL`, `--config` `credentials.database.db_connect`, else the SQLite
//! file under `--data-dir`), the archive store by `services.catalog.analysis_archive`.
//!
//! Registry passwords travel sealed: they open only with the source's key, so carry
//! `<data-dir>/secret.key` (or `ANCHORAGE_SECRET_KEY`) to the restored deployment yourself; the
//! backup never holds it. Restore checks whether the passwords open with the target's key and
//! says how many do not (never what they are).

use std::path::PathBuf;
use std::time::Instant;

use anchorage_settings::{ServeFlags, ServiceSettings};
use anchorage_store::{ConnectOptions, RestoreOptions, Sealer};
use anyhow::Context as _;

use crate::ExitStatus;

/// Subcommands of `anchorage admin`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Write a backup of the whole deployment to one file (the server may keep running).
    Backup(BackupArgs),
    /// Restore a backup into an empty database (stop the servers first).
    Restore(RestoreArgs),
    /// Apply the analysis archive's transition rules once, now (the server's `archive_tasks`
    /// cycle does this on a timer).
    ApplyArchiveRules(Place),
}

/// Where the deployment is (as `anchorage migrate`).
#[derive(Debug, clap::Args)]
pub(crate) struct Place {
    /// Data directory of the embedded SQLite database (and the default archive directory and
    /// key file).
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// Anchore-style YAML config file (`credentials.database.db_connect`,
    /// `services.catalog.analysis_archive`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

/// Arguments of `admin backup`.
#[derive(Debug, clap::Args)]
pub(crate) struct BackupArgs {
    /// The backup file to write (`.tar.zst`).
    #[arg(long, short, value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    place: Place,
}

/// Arguments of `admin restore`.
#[derive(Debug, clap::Args)]
pub(crate) struct RestoreArgs {
    /// The backup file to read.
    #[arg(long, short, value_name = "FILE")]
    input: PathBuf,
    /// Replace the data of a database that is not empty.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    place: Place,
}

fn settings(place: &Place) -> anyhow::Result<ServiceSettings> {
    let flags = ServeFlags {
        data_dir: place.data_dir.clone(),
        config: place.config.clone(),
        dev: true,
        ..ServeFlags::default()
    };
    let settings = anchorage_settings::load(None)?;
    Ok(ServiceSettings::resolve(&flags, &settings, &|k| {
        std::env::var_os(k)
    })?)
}

async fn open(service: &ServiceSettings) -> anyhow::Result<anchorage_store::Database> {
    std::fs::create_dir_all(&service.data_dir).with_context(|| {
        format!(
            "cannot create the data directory {}",
            service.data_dir.display()
        )
    })?;
    Ok(anchorage_store::connect(
        &service.database_url,
        &ConnectOptions {
            max_connections: 4,
            acquire_timeout_secs: 30,
        },
    )
    .await?)
}

/// Runs `anchorage admin ...`.
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Backup(a) => backup(a).await,
        Command::Restore(a) => restore(a).await,
        Command::ApplyArchiveRules(p) => apply_rules(p).await,
    }
}

async fn apply_rules(place: Place) -> anyhow::Result<ExitStatus> {
    let service = settings(&place)?;
    let db = open(&service).await?;
    db.migrate().await?;
    let store = super::serve::archive_store(&service)?;
    let run = anchorage_store::apply_archive_rules_now(&db, &store).await?;
    db.close().await;
    for (account, digest) in &run.archived {
        println!("archived {account} {digest}");
    }
    for (account, digest) in &run.deleted {
        println!("deleted {account} {digest}");
    }
    for (account, digest, why) in &run.failed {
        eprintln!("failed {account} {digest}: {why}");
    }
    eprintln!(
        "archive rules applied: {} archived, {} deleted, {} failed",
        run.archived.len(),
        run.deleted.len(),
        run.failed.len()
    );
    Ok(if run.failed.is_empty() {
        ExitStatus::Ok
    } else {
        ExitStatus::Error
    })
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

async fn backup(a: BackupArgs) -> anyhow::Result<ExitStatus> {
    let service = settings(&a.place)?;
    let db = open(&service).await?;
    let store = super::serve::archive_store(&service)?;
    let started = Instant::now();
    let stats = anchorage_store::backup(&db, &store, &a.output)
        .await
        .with_context(|| format!("backing up to {}", a.output.display()))?;
    db.close().await;
    eprintln!(
        "backup written to {}: schema {}, {} tables, {} rows, {} archived objects ({:.1} MiB); \
         file {:.1} MiB in {:.1} s. Carry the key that seals registry passwords \
         ({}/secret.key or ANCHORAGE_SECRET_KEY) separately: it is not in the file.",
        a.output.display(),
        stats.schema_version,
        stats.tables,
        stats.rows,
        stats.objects,
        mib(stats.object_bytes),
        mib(stats.file_bytes),
        started.elapsed().as_secs_f64(),
        service.data_dir.display(),
    );
    Ok(ExitStatus::Ok)
}

async fn restore(a: RestoreArgs) -> anyhow::Result<ExitStatus> {
    let service = settings(&a.place)?;
    let db = open(&service).await?;
    let store = super::serve::archive_store(&service)?;
    let started = Instant::now();
    let stats = anchorage_store::restore(&db, &store, &a.input, RestoreOptions { force: a.force })
        .await
        .with_context(|| format!("restoring {}", a.input.display()))?;
    let unopened = sealed_passwords_check(&db, &service).await?;
    db.close().await;
    eprintln!(
        "restored {}: schema {}, {} tables, {} rows, {} archived objects in {:.1} s",
        a.input.display(),
        stats.schema_version,
        stats.tables,
        stats.rows,
        stats.objects,
        started.elapsed().as_secs_f64(),
    );
    if let Some(n) = unopened {
        eprintln!(
            "warning: {n} registry password(s) do not open with this deployment's key: put the \
             source's secret.key in {} or set ANCHORAGE_SECRET_KEY to the source's key",
            service.data_dir.display()
        );
    }
    Ok(ExitStatus::Ok)
}

/// How many restored registry passwords do not open with the target's key (`None`: all do).
/// A missing key file is not created here.
async fn sealed_passwords_check(
    db: &anchorage_store::Database,
    service: &ServiceSettings,
) -> anyhow::Result<Option<usize>> {
    let mut sealed = Vec::new();
    for account in db.accounts().await? {
        for r in db.registries(&account.name).await? {
            sealed.push(r.sealed_secret);
        }
    }
    if sealed.is_empty() {
        return Ok(None);
    }
    let key_file = service.data_dir.join("secret.key");
    let sealer = match &service.secret_key {
        Some(k) => Some(Sealer::from_hex(k).context("ANCHORAGE_SECRET_KEY")?),
        None if key_file.exists() => Some(Sealer::from_key_file(&key_file)?),
        None => None,
    };
    let failing = match sealer {
        Some(s) => sealed.iter().filter(|x| s.open(x).is_err()).count(),
        None => sealed.len(),
    };
    Ok((failing > 0).then_some(failing))
}
