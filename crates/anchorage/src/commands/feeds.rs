//! `anchorage feeds sync|status`: sync vulnerability feeds into the local store, show state.
//!
//! Sources are `[kind:]URL-or-PATH` (kind `osv` by default; `debian-tracker`, `alpine-secdb`,
//! `nvd`). Without `--source`, `$ANCHORAGE_FEED_SOURCES` (comma-separated) is used, else the
//! config file's `[feeds] sources`, else the public OSV exports (`--osv-base` and
//! `--ecosystem`, or `[feeds] osv_base` and `ecosystems`, choose another mirror and set).
//! Exit codes: 0 all sources synced, 2 a source failed (the others are still synced, and the
//! failed one keeps its previous data).

use std::path::PathBuf;

use anchorage_engine::AnalyzeSettings;
use anchorage_settings::Settings;
use anchorage_vulndb::{DEFAULT_OSV_ECOSYSTEMS, FeedSource, OSV_EXPORTS_BASE};

use crate::ExitStatus;

/// Subcommands of `anchorage feeds`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Download/read feed sources and apply them to the store (only changes are applied).
    Sync(SyncArgs),
    /// Show each source and each feed group: records, last sync, last error.
    Status(StatusArgs),
}

/// Arguments of `anchorage feeds sync`.
#[derive(Debug, clap::Args)]
pub(crate) struct SyncArgs {
    /// Feed source `[osv:|debian-tracker:|alpine-secdb:|nvd:]URL-or-PATH`; repeatable.
    #[arg(long = "source", value_name = "URL|PATH")]
    pub(crate) sources: Vec<String>,
    /// Base URL of an OSV exports mirror (`<base>/<ecosystem>/all.zip`).
    #[arg(long = "osv-base", value_name = "URL")]
    pub(crate) osv_base: Option<String>,
    /// OSV ecosystem to sync from the exports; repeatable (default: a standard set).
    #[arg(long = "ecosystem", value_name = "NAME")]
    pub(crate) ecosystems: Vec<String>,
    /// Store directory (default `$ANCHORAGE_DATA_DIR/vulndb` or `./anchorage-data/vulndb`).
    #[arg(long = "db-dir", value_name = "DIR")]
    pub(crate) db_dir: Option<PathBuf>,
    /// Largest single record in bytes; larger records are counted as malformed.
    #[arg(long = "max-record-bytes", value_name = "BYTES")]
    pub(crate) max_record_bytes: Option<u64>,
    /// Largest download or local feed document in bytes.
    #[arg(long = "max-document-bytes", value_name = "BYTES")]
    pub(crate) max_document_bytes: Option<u64>,
    /// HTTP timeout per request in seconds.
    #[arg(long = "http-timeout", value_name = "SECONDS")]
    pub(crate) http_timeout_secs: Option<u64>,
    /// Config file to read instead of `./anchorage.toml` and the user file.
    #[arg(long, value_name = "FILE", env = anchorage_settings::ANCHORAGE_CONFIG)]
    pub(crate) config: Option<PathBuf>,
}

/// Arguments of `anchorage feeds status`.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// Store directory (default `$ANCHORAGE_DATA_DIR/vulndb` or `./anchorage-data/vulndb`).
    #[arg(long = "db-dir", value_name = "DIR")]
    pub(crate) db_dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Config file to read instead of `./anchorage.toml` and the user file.
    #[arg(long, value_name = "FILE", env = anchorage_settings::ANCHORAGE_CONFIG)]
    pub(crate) config: Option<PathBuf>,
}

pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Sync(args) => sync(args).await,
        Command::Status(args) => status(args).await,
    }
}

fn sources(args: &SyncArgs, settings: &Settings) -> anyhow::Result<Vec<FeedSource>> {
    let feeds = settings.feeds();
    let list: Vec<String> = if args.sources.is_empty() {
        feeds.sources.clone()
    } else {
        args.sources.clone()
    };
    if !list.is_empty() {
        return list
            .iter()
            .map(|s| s.parse::<FeedSource>().map_err(anyhow::Error::from))
            .collect();
    }
    let base = args
        .osv_base
        .as_deref()
        .or(feeds.osv_base.as_deref())
        .unwrap_or(OSV_EXPORTS_BASE);
    let ecosystems: Vec<&str> = if !args.ecosystems.is_empty() {
        args.ecosystems.iter().map(String::as_str).collect()
    } else if !feeds.ecosystems.is_empty() {
        feeds.ecosystems.iter().map(String::as_str).collect()
    } else {
        DEFAULT_OSV_ECOSYSTEMS.to_vec()
    };
    Ok(ecosystems
        .into_iter()
        .map(|e| FeedSource::osv_export(base, e))
        .collect())
}

async fn sync(args: SyncArgs) -> anyhow::Result<ExitStatus> {
    let settings = anchorage_settings::load(args.config.as_deref())?;
    let list = sources(&args, &settings)?;
    // Flags win over the `[feeds]` keys.
    let mut sync = crate::acquire_args::sync_options(&settings);
    if let Some(n) = args.max_record_bytes {
        sync.limits.max_record_bytes = n;
    }
    if let Some(n) = args.max_document_bytes {
        sync.limits.max_document_bytes = n;
    }
    if let Some(n) = args.http_timeout_secs {
        sync.limits.http_timeout_secs = n;
    }
    let engine = crate::acquire_args::engine_with(
        &settings,
        AnalyzeSettings::default(),
        args.db_dir.as_deref(),
        sync,
    )?;
    let mut failed = 0;
    for (_, result) in engine.sync_feeds(&list).await {
        match result {
            Ok(r) if r.not_modified => {
                println!("{}: not modified ({} records)", r.source, r.record_count);
            }
            Ok(r) => {
                println!(
                    "{}: {} records (+{} added, {} updated, {} unchanged, {} older skipped, -{} removed), {} malformed, {} partially readable, {} ms",
                    r.source,
                    r.record_count,
                    r.added,
                    r.updated,
                    r.unchanged,
                    r.older,
                    r.removed,
                    r.malformed,
                    r.partial,
                    r.elapsed_ms
                );
                for m in &r.malformed_samples {
                    eprintln!("  malformed: {m}");
                }
                for m in &r.partial_samples {
                    eprintln!("  partially evaluated: {m}");
                }
            }
            Err(e) => {
                failed += 1;
                eprintln!(
                    "error: {}",
                    crate::exit::error_chain(&anyhow::Error::from(e))
                );
            }
        }
    }
    Ok(if failed == 0 {
        ExitStatus::Ok
    } else {
        ExitStatus::Error
    })
}

async fn status(args: StatusArgs) -> anyhow::Result<ExitStatus> {
    let settings = anchorage_settings::load(args.config.as_deref())?;
    let engine = crate::acquire_args::engine(
        &settings,
        AnalyzeSettings::default(),
        args.db_dir.as_deref(),
    )?;
    let status = engine.feed_status().await?;
    let (dir, sources, groups) = (status.dir, status.sources, status.groups);
    if args.json {
        let sources: Vec<serde_json::Value> = sources
            .iter()
            .map(|s| {
                serde_json::json!({
                    "source": s.key,
                    "feed": s.kind,
                    "record_count": s.record_count,
                    "malformed_count": s.malformed_count,
                    "partially_evaluated_count": s.partial_count,
                    "last_sync": s.last_sync,
                    "last_attempt": s.last_attempt,
                    "last_error": s.last_error,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::to_string_pretty(
                &serde_json::json!({"sources": sources, "groups": groups})
            )?
        );
        return Ok(ExitStatus::Ok);
    }
    if sources.is_empty() {
        println!(
            "no feeds synced yet in {} (run `anchorage feeds sync`)",
            dir.display()
        );
        return Ok(ExitStatus::Ok);
    }
    let fmt_time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
            .unwrap_or_else(|| "never".into())
    };
    println!("SOURCE\tRECORDS\tMALFORMED\tPARTIAL\tLAST-SYNC\tLAST-ERROR");
    for s in &sources {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            s.key,
            s.record_count,
            s.malformed_count,
            s.partial_count,
            fmt_time(s.last_sync),
            s.last_error.as_deref().unwrap_or("-")
        );
    }
    println!();
    println!("FEED\tGROUP\tRECORDS\tLAST-SYNC\tLAST-ERROR");
    for g in &groups {
        println!(
            "{}\t{}\t{}\t{}\t{}",
            g.feed,
            g.group,
            g.record_count,
            fmt_time(g.last_sync),
            g.last_error.as_deref().unwrap_or("-")
        );
    }
    Ok(ExitStatus::Ok)
}
