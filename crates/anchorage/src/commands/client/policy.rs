//! The engine-side `anchorage policy add|list|get|activate|del` (anchore-cli's `policy`
//! group), beside the offline `validate|test|describe|default`.

use std::path::PathBuf;

use anyhow::Context as _;
use serde_json::{Value, json};

use super::Conn;
use super::http::{Api, ClientError, ClientResult, finish, py_bool};
use super::table::{Table, cell, fields, items, print_json};
use crate::ExitStatus;

/// Largest bundle file sent.
const MAX_BUNDLE_BYTES: u64 = 16 << 20;

/// The engine-side subcommands of `anchorage policy`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Add a bundle to the engine (validated there; inactive until activated).
    Add(AddArgs),
    /// List the account's bundles.
    List(ListArgs),
    /// Show a bundle (with --detail its JSON).
    Get(GetArgs),
    /// Make a bundle the account's active one.
    Activate(IdArgs),
    /// Delete an inactive bundle.
    Del(IdArgs),
}

/// Arguments of `policy add`.
#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    /// Bundle JSON file.
    file: PathBuf,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `policy list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `policy get`.
#[derive(Debug, clap::Args)]
pub(crate) struct GetArgs {
    /// Bundle (policy) ID.
    policy_id: String,
    /// Print the bundle JSON.
    #[arg(long)]
    detail: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `policy activate` and `policy del`.
#[derive(Debug, clap::Args)]
pub(crate) struct IdArgs {
    /// Bundle (policy) ID.
    policy_id: String,
    #[command(flatten)]
    conn: Conn,
}

impl Command {
    fn conn(&self) -> &Conn {
        match self {
            Command::Add(a) => &a.conn,
            Command::List(a) => &a.conn,
            Command::Get(a) => &a.conn,
            Command::Activate(a) | Command::Del(a) => &a.conn,
        }
    }
}

/// Runs an engine-side `anchorage policy ...`.
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    let api = Api::new(command.conn())?;
    let result = match command {
        Command::Add(a) => add(&api, &a).await,
        Command::List(_) => list(&api).await,
        Command::Get(a) => get(&api, &a).await,
        Command::Activate(a) => activate(&api, &a.policy_id).await,
        Command::Del(a) => del(&api, &a.policy_id).await,
    };
    Ok(finish(&api, result))
}

fn print_records(api: &Api, records: &Value) {
    if api.json() {
        print_json(records);
        return;
    }
    for (i, r) in items(records).into_iter().enumerate() {
        if i > 0 {
            println!();
        }
        fields(&[
            ("Policy ID", cell(&r["policyId"])),
            ("Active", cell(&r["active"])),
            ("Source", cell(&r["policy_source"])),
            ("Created", cell(&r["created_at"])),
            ("Updated", cell(&r["last_updated"])),
        ]);
    }
}

async fn add(api: &Api, a: &AddArgs) -> ClientResult<ExitStatus> {
    let path = &a.file;
    let size = std::fs::metadata(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .len();
    if size > MAX_BUNDLE_BYTES {
        return Err(ClientError::msg(format!(
            "{} is {size} bytes; the limit is {MAX_BUNDLE_BYTES}",
            path.display()
        )));
    }
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bundle: Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    let record = api
        .post(&["policies"], &[("detail", py_bool(true))], Some(&bundle))
        .await?;
    print_records(api, &record);
    Ok(ExitStatus::Ok)
}

async fn list(api: &Api) -> ClientResult<ExitStatus> {
    let records = api
        .get(&["policies"], &[("detail", py_bool(false))])
        .await?;
    if api.json() {
        print_json(&records);
        return Ok(ExitStatus::Ok);
    }
    let mut t = Table::new(&["Policy ID", "Active", "Created", "Updated"]);
    for r in items(&records) {
        t.row(vec![
            cell(&r["policyId"]),
            cell(&r["active"]),
            cell(&r["created_at"]),
            cell(&r["last_updated"]),
        ]);
    }
    t.print();
    Ok(ExitStatus::Ok)
}

async fn get(api: &Api, a: &GetArgs) -> ClientResult<ExitStatus> {
    let records = api
        .get(
            &["policies", &a.policy_id],
            &[("detail", py_bool(a.detail))],
        )
        .await?;
    if a.detail && !api.json() {
        print_json(&records[0]["policybundle"]);
    } else {
        print_records(api, &records);
    }
    Ok(ExitStatus::Ok)
}

async fn activate(api: &Api, id: &str) -> ClientResult<ExitStatus> {
    let records = api
        .get(&["policies", id], &[("detail", py_bool(true))])
        .await?;
    let mut record = records
        .get(0)
        .cloned()
        .filter(Value::is_object)
        .ok_or_else(|| ClientError::msg(format!("policy {id} not found")))?;
    record["active"] = json!(true);
    let answer = api.put(&["policies", id], &[], &record).await?;
    if api.json() {
        print_json(&answer);
    } else {
        println!("Success: {id} activated");
    }
    Ok(ExitStatus::Ok)
}

async fn del(api: &Api, id: &str) -> ClientResult<ExitStatus> {
    let answer = api.delete(&["policies", id], &[]).await?;
    if api.json() {
        print_json(&answer);
    } else {
        println!("Success");
    }
    Ok(ExitStatus::Ok)
}
