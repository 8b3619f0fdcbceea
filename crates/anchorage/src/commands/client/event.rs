//! `anchorage event list|get|del` (anchore-cli's `event` group).

use serde_json::Value;

use super::Conn;
use super::http::{Api, ClientError, ClientResult, finish};
use super::table::{Table, cell, items, print_json};
use crate::ExitStatus;

/// Most pages `event list --all` reads (100 events each).
const MAX_PAGES: u64 = 1000;

/// Subcommands of `anchorage event`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List events, newest first (one page of 100 unless --all).
    List(ListArgs),
    /// Show one event.
    Get(IdArgs),
    /// Delete one event, or the events in a time range (--since/--before), or all (--all).
    Del(DelArgs),
}

/// Arguments of `event list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Only events about this resource (an image digest, a tag, ...).
    resource: Option<String>,
    /// Only events at or after this ISO-8601 time.
    #[arg(long, value_name = "TIME")]
    since: Option<String>,
    /// Only events before this ISO-8601 time.
    #[arg(long, value_name = "TIME")]
    before: Option<String>,
    /// Only `info` or `error` events.
    #[arg(long, value_name = "LEVEL")]
    level: Option<String>,
    /// Only events from this service.
    #[arg(long, value_name = "NAME")]
    service: Option<String>,
    /// Only events from this host ID.
    #[arg(long, value_name = "HOST_ID")]
    host: Option<String>,
    /// Only this event type (wildcards like `user.image.*`).
    #[arg(long = "event-type", alias = "event_type", value_name = "TYPE")]
    event_type: Option<String>,
    /// Only this resource type.
    #[arg(long = "resource-type", alias = "resource_type", value_name = "TYPE")]
    resource_type: Option<String>,
    /// Read every page.
    #[arg(long)]
    all: bool,
    /// Also show resource types, messages and the source.
    #[arg(long)]
    full: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `event get`.
#[derive(Debug, clap::Args)]
pub(crate) struct IdArgs {
    /// Event ID (`generated_uuid`).
    event_id: String,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `event del`.
#[derive(Debug, clap::Args)]
pub(crate) struct DelArgs {
    /// Event ID; omit with --since/--before/--all.
    event_id: Option<String>,
    /// Delete events at or after this ISO-8601 time.
    #[arg(long, value_name = "TIME", conflicts_with = "event_id")]
    since: Option<String>,
    /// Delete events before this ISO-8601 time.
    #[arg(long, value_name = "TIME", conflicts_with = "event_id")]
    before: Option<String>,
    /// Delete every event of the account.
    #[arg(long, conflicts_with_all = ["event_id", "since", "before"])]
    all: bool,
    #[command(flatten)]
    conn: Conn,
}

impl Command {
    fn conn(&self) -> &Conn {
        match self {
            Command::List(a) => &a.conn,
            Command::Get(a) => &a.conn,
            Command::Del(a) => &a.conn,
        }
    }
}

/// Runs `anchorage event ...`.
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    let api = Api::new(command.conn())?;
    let result = match command {
        Command::List(a) => list(&api, &a).await,
        Command::Get(a) => get(&api, &a.event_id).await,
        Command::Del(a) => del(&api, &a).await,
    };
    Ok(finish(&api, result))
}

async fn list(api: &Api, a: &ListArgs) -> ClientResult<ExitStatus> {
    let mut query: Vec<(&str, String)> = Vec::new();
    let mut add = |k: &'static str, v: &Option<String>| {
        if let Some(v) = v {
            query.push((k, v.clone()));
        }
    };
    add("resource_id", &a.resource);
    add("since", &a.since);
    add("before", &a.before);
    add("level", &a.level);
    add("source_servicename", &a.service);
    add("source_hostid", &a.host);
    add("event_type", &a.event_type);
    add("resource_type", &a.resource_type);
    let mut results: Vec<Value> = Vec::new();
    let mut pages = Vec::new();
    let mut page = 1u64;
    loop {
        let mut q = query.clone();
        q.push(("page", page.to_string()));
        let doc = api.get(&["events"], &q).await?;
        results.extend(items(&doc["results"]).into_iter().cloned());
        let more = doc["next_page"].as_bool() == Some(true);
        pages.push(doc);
        if !(a.all && more) || page >= MAX_PAGES {
            break;
        }
        page += 1;
    }
    if api.json() {
        if pages.len() == 1 {
            print_json(&pages[0]);
        } else {
            print_json(&Value::Array(results));
        }
        return Ok(ExitStatus::Ok);
    }
    let header: &[&str] = if a.full {
        &[
            "Timestamp",
            "Level",
            "Event",
            "ResourceType",
            "Resource",
            "Service",
            "Host",
            "Message",
            "ID",
        ]
    } else {
        &["Timestamp", "Level", "Event", "Resource", "ID"]
    };
    let mut t = Table::new(header);
    for r in &results {
        let e = &r["event"];
        let row = if a.full {
            vec![
                cell(&e["timestamp"]),
                cell(&e["level"]),
                cell(&e["type"]),
                cell(&e["resource"]["type"]),
                cell(&e["resource"]["id"]),
                cell(&e["source"]["servicename"]),
                cell(&e["source"]["hostid"]),
                cell(&e["message"]),
                cell(&r["generated_uuid"]),
            ]
        } else {
            vec![
                cell(&e["timestamp"]),
                cell(&e["level"]),
                cell(&e["type"]),
                cell(&e["resource"]["id"]),
                cell(&r["generated_uuid"]),
            ]
        };
        t.row(row);
    }
    t.print();
    Ok(ExitStatus::Ok)
}

async fn get(api: &Api, id: &str) -> ClientResult<ExitStatus> {
    let doc = api.get(&["events", id], &[]).await?;
    if api.json() {
        print_json(&doc);
    } else {
        print_json(&doc["event"]);
    }
    Ok(ExitStatus::Ok)
}

async fn del(api: &Api, a: &DelArgs) -> ClientResult<ExitStatus> {
    let answer = if let Some(id) = &a.event_id {
        api.delete(&["events", id], &[]).await?
    } else {
        if !a.all && a.since.is_none() && a.before.is_none() {
            return Err(ClientError::msg(
                "name an event ID, or a range with --since/--before, or --all",
            ));
        }
        let mut q: Vec<(&str, String)> = Vec::new();
        if let Some(s) = &a.since {
            q.push(("since", s.clone()));
        }
        if let Some(b) = &a.before {
            q.push(("before", b.clone()));
        }
        api.delete(&["events"], &q).await?
    };
    if api.json() {
        print_json(&answer);
    } else {
        println!("Deleted {} events", items(&answer).len());
    }
    Ok(ExitStatus::Ok)
}
