//! `anchorage system status|wait|feeds list|feeds sync` (anchore-cli's `system` group);
//! `status` shows one line per process of the deployment: role, status, version, last
//! heartbeat and the Anchore service names it stands for.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::Conn;
use super::http::{Api, ClientError, ClientResult, finish, py_bool};
use super::table::{Table, cell, fields, items, print_json};
use crate::ExitStatus;

/// Subcommands of `anchorage system`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Show the engine's services and versions.
    Status(StatusArgs),
    /// Wait until the engine answers, its services are up and its feeds have synced.
    Wait(WaitArgs),
    /// Vulnerability feeds: list or sync.
    #[command(subcommand)]
    Feeds(FeedsCommand),
}

/// Subcommands of `anchorage system feeds`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum FeedsCommand {
    /// List the feeds and their groups: last sync, record count.
    List(StatusArgs),
    /// Sync the feeds now (admin; waits for the sync to finish).
    Sync(SyncArgs),
}

/// Arguments of `system status` and `system feeds list`.
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `system wait`.
#[derive(Debug, clap::Args)]
pub(crate) struct WaitArgs {
    /// Seconds to wait at most (-1: forever).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    timeout: i64,
    /// Seconds between polls.
    #[arg(long, default_value_t = 5)]
    interval: u64,
    /// Comma-separated feeds that must have synced ("" skips the feed check).
    #[arg(long, default_value = "vulnerabilities", value_name = "FEEDS")]
    feedsready: String,
    /// Comma-separated services that must be up.
    #[arg(
        long,
        default_value = "catalog,apiext,policy_engine,simplequeue,analyzer",
        value_name = "SERVICES"
    )]
    servicesready: String,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `system feeds sync`.
#[derive(Debug, clap::Args)]
pub(crate) struct SyncArgs {
    /// Ask the engine to drop the feed data first (Anchore's flag; accepted and passed on).
    #[arg(long)]
    flush: bool,
    #[command(flatten)]
    conn: Conn,
}

impl Command {
    fn conn(&self) -> &Conn {
        match self {
            Command::Status(a) | Command::Feeds(FeedsCommand::List(a)) => &a.conn,
            Command::Wait(a) => &a.conn,
            Command::Feeds(FeedsCommand::Sync(a)) => &a.conn,
        }
    }
}

/// Runs `anchorage system ...`.
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    let api = Api::new(command.conn())?;
    let result = match command {
        Command::Status(_) => status(&api).await,
        Command::Wait(a) => wait(&api, &a).await,
        Command::Feeds(FeedsCommand::List(_)) => feeds_list(&api).await,
        Command::Feeds(FeedsCommand::Sync(a)) => feeds_sync(&api, a.flush).await,
    };
    Ok(finish(&api, result))
}

/// One process of `GET system` (its service names grouped back together).
struct Process {
    host: String,
    role: String,
    up: bool,
    message: String,
    version: String,
    last_heartbeat: String,
    base_url: String,
    services: Vec<String>,
}

/// The processes of a `GET system` answer, in the order they appear.
fn processes(states: &[&Value]) -> Vec<Process> {
    let mut out: Vec<Process> = Vec::new();
    for s in states {
        let host = cell(&s["hostid"]);
        let name = cell(&s["servicename"]);
        if let Some(p) = out.iter_mut().find(|p| p.host == host) {
            p.services.push(name);
            continue;
        }
        let detail = &s["service_detail"]["detail"];
        out.push(Process {
            host,
            role: detail["role"].as_str().unwrap_or("all").to_string(),
            up: s["status"].as_bool() == Some(true),
            message: cell(&s["status_message"]),
            version: cell(&s["service_detail"]["version"]),
            last_heartbeat: detail["last_heartbeat"]
                .as_str()
                .unwrap_or("None")
                .to_string(),
            base_url: cell(&s["base_url"]),
            services: vec![name],
        });
    }
    out
}

/// Seconds from an RFC 3339 time to now, if it parses.
fn ago(time: &str) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(time).ok()?;
    Some(
        (chrono::Utc::now() - t.with_timezone(&chrono::Utc))
            .num_seconds()
            .max(0),
    )
}

async fn status(api: &Api) -> ClientResult<ExitStatus> {
    let doc = api.get(&["system"], &[]).await?;
    if api.json() {
        print_json(&doc);
        return Ok(ExitStatus::Ok);
    }
    let states = items(&doc["service_states"]);
    let mut t = Table::new(&[
        "Host",
        "Role",
        "Status",
        "Version",
        "Last Heartbeat",
        "URL",
        "Services",
    ]);
    for p in processes(&states) {
        let status = if p.up {
            "up".to_string()
        } else {
            format!("down ({})", p.message)
        };
        let beat = match ago(&p.last_heartbeat) {
            Some(s) => format!("{} ({s}s ago)", p.last_heartbeat),
            None => p.last_heartbeat.clone(),
        };
        t.row(vec![
            p.host,
            p.role,
            status,
            p.version,
            beat,
            p.base_url,
            p.services.join(","),
        ]);
    }
    t.print();
    if let Some(api_svc) = states
        .iter()
        .find(|s| s["servicename"] == "apiext" && s["status"].as_bool() == Some(true))
    {
        println!();
        fields(&[
            (
                "Engine DB Version",
                cell(&api_svc["service_detail"]["db_version"]),
            ),
            (
                "Engine Code Version",
                cell(&api_svc["service_detail"]["version"]),
            ),
        ]);
    }
    Ok(ExitStatus::Ok)
}

/// Names in a comma list.
fn names(list: &str) -> Vec<&str> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

/// What is not ready yet, or `None` when everything is.
async fn not_ready(api: &Api, a: &WaitArgs) -> ClientResult<Option<String>> {
    api.get(&[], &[]).await?;
    let doc = api.get(&["system"], &[]).await?;
    let states = items(&doc["service_states"]);
    for name in names(&a.servicesready) {
        let up = states
            .iter()
            .any(|s| s["servicename"] == name && s["service_detail"]["up"].as_bool() == Some(true));
        if !up {
            return Ok(Some(format!("service {name} is not up")));
        }
    }
    let wanted = names(&a.feedsready);
    if wanted.is_empty() {
        return Ok(None);
    }
    let feeds = api.get(&["system", "feeds"], &[]).await?;
    for name in wanted {
        let Some(feed) = items(&feeds).into_iter().find(|f| f["name"] == name) else {
            return Ok(Some(format!("feed {name} is not listed yet")));
        };
        if feed["enabled"].as_bool() != Some(true) {
            return Err(ClientError::msg(format!(
                "Requesting wait for disabled feed ({name})"
            )));
        }
        let groups = items(&feed["groups"]);
        if feed["last_full_sync"].is_null() || groups.iter().any(|g| g["last_sync"].is_null()) {
            return Ok(Some(format!("feed {name} has not synced yet")));
        }
    }
    Ok(None)
}

async fn wait(api: &Api, a: &WaitArgs) -> ClientResult<ExitStatus> {
    let start = Instant::now();
    let timeout = u64::try_from(a.timeout).ok().map(Duration::from_secs);
    loop {
        let reason = match not_ready(api, a).await {
            Ok(None) => {
                if !api.json() {
                    println!("Engine is ready");
                }
                return Ok(ExitStatus::Ok);
            }
            Ok(Some(reason)) => reason,
            // Starting servers refuse connections or answer 5xx for a while.
            Err(ClientError::Transport(m)) => m,
            Err(e @ ClientError::Api { .. }) if e.status().is_some_and(|s| s >= 500) => e.message(),
            Err(e) => return Err(e),
        };
        if timeout.is_some_and(|t| start.elapsed() >= t) {
            return Err(ClientError::msg(format!(
                "timed out after {}s waiting for the engine: {reason}",
                a.timeout
            )));
        }
        eprintln!("Not ready: {reason}; retrying in {} seconds", a.interval);
        tokio::time::sleep(Duration::from_secs(a.interval.max(1))).await;
    }
}

async fn feeds_list(api: &Api) -> ClientResult<ExitStatus> {
    let feeds = api.get(&["system", "feeds"], &[]).await?;
    if api.json() {
        print_json(&feeds);
        return Ok(ExitStatus::Ok);
    }
    let mut t = Table::new(&["Feed", "Group", "LastSync", "RecordCount"]);
    for f in items(&feeds) {
        let enabled = f["enabled"].as_bool() == Some(true);
        let feed = if enabled {
            cell(&f["name"])
        } else {
            format!("{}(disabled)", cell(&f["name"]))
        };
        for g in items(&f["groups"]) {
            let last = match (&g["last_sync"], enabled) {
                (Value::Null, true) => "pending".to_string(),
                (Value::Null, false) => "-".to_string(),
                (v, _) => cell(v),
            };
            t.row(vec![
                feed.clone(),
                cell(&g["name"]),
                last,
                cell(&g["record_count"]),
            ]);
        }
    }
    t.print();
    Ok(ExitStatus::Ok)
}

async fn feeds_sync(api: &Api, flush: bool) -> ClientResult<ExitStatus> {
    let results = api
        .post(&["system", "feeds"], &[("flush", py_bool(flush))], None)
        .await?;
    if api.json() {
        print_json(&results);
        return Ok(ExitStatus::Ok);
    }
    let mut t = Table::new(&[
        "Feed",
        "Group",
        "Status",
        "Records Updated",
        "Sync Duration",
    ]);
    let mut failed = false;
    for f in items(&results) {
        for g in items(&f["groups"]) {
            failed |= g["status"] != "success";
            let secs = g["total_time_seconds"].as_f64().unwrap_or(0.0);
            t.row(vec![
                cell(&f["feed"]),
                cell(&g["group"]),
                cell(&g["status"]),
                cell(&g["updated_record_count"]),
                format!("{secs:.2}s"),
            ]);
        }
    }
    t.print();
    Ok(if failed {
        ExitStatus::Error
    } else {
        ExitStatus::Ok
    })
}
