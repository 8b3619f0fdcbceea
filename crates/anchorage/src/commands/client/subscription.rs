//! `anchorage subscription list|activate|deactivate` and `anchorage repo
//! add|list|get|watch|unwatch|del` (anchore-cli's `subscription` and `repo` groups, §2.5,
//! §2.6): what the engine watches and notifies about.

use serde_json::{Value, json};

use super::Conn;
use super::http::{Api, ClientError, ClientResult, finish, py_bool};
use super::table::{Table, cell, items, print_json};
use crate::ExitStatus;

/// Subcommands of `anchorage subscription`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// List the account's subscriptions.
    List(ListArgs),
    /// Turn a subscription on (`tag_update`, `policy_eval`, `vuln_update`,
    /// `analysis_update`, `repo_update`).
    Activate(SetArgs),
    /// Turn a subscription off.
    Deactivate(SetArgs),
}

/// Arguments of `subscription list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    /// Also show the subscription ids.
    #[arg(long)]
    full: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `subscription activate|deactivate`.
#[derive(Debug, clap::Args)]
pub(crate) struct SetArgs {
    /// Subscription type.
    subscription_type: String,
    /// Key: a tag (`registry/repo:tag`) or, for `repo_update`, `registry/repo`.
    subscription_key: String,
    #[command(flatten)]
    conn: Conn,
}

/// Subcommands of `anchorage repo`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum RepoCommand {
    /// Watch a repository: the engine adds (and analyses) the image of every tag, and of each
    /// new tag that appears.
    Add(RepoAddArgs),
    /// List watched repositories.
    List(RepoListArgs),
    /// Show one watched repository.
    Get(RepoArgs),
    /// Resume watching a repository.
    Watch(RepoArgs),
    /// Stop watching a repository (its images stay).
    Unwatch(RepoArgs),
    /// Remove a repository from the watch list (its images stay).
    Del(RepoArgs),
}

/// Arguments of `repo add`.
#[derive(Debug, clap::Args)]
pub(crate) struct RepoAddArgs {
    /// `registry/repo`.
    repository: String,
    /// Do not subscribe the new tags to `tag_update`.
    #[arg(long)]
    noautosubscribe: bool,
    /// Tag looked up (accepted for anchore-cli compatibility).
    #[arg(long, value_name = "TAG")]
    lookuptag: Option<String>,
    /// List the tags without adding the watch.
    #[arg(long)]
    dryrun: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `repo list`.
#[derive(Debug, clap::Args)]
pub(crate) struct RepoListArgs {
    #[command(flatten)]
    conn: Conn,
}

/// Arguments naming one repository.
#[derive(Debug, clap::Args)]
pub(crate) struct RepoArgs {
    /// `registry/repo`.
    repository: String,
    #[command(flatten)]
    conn: Conn,
}

/// Runs `anchorage subscription ...`.
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    let conn = match &command {
        Command::List(a) => &a.conn,
        Command::Activate(a) | Command::Deactivate(a) => &a.conn,
    };
    let api = Api::new(conn)?;
    let result = match &command {
        Command::List(a) => list(&api, a.full).await,
        Command::Activate(a) => set(&api, &a.subscription_type, &a.subscription_key, true)
            .await
            .map(|_| ok(&api)),
        Command::Deactivate(a) => set(&api, &a.subscription_type, &a.subscription_key, false)
            .await
            .map(|_| ok(&api)),
    };
    Ok(finish(&api, result))
}

/// Runs `anchorage repo ...`.
pub(crate) async fn run_repo(command: RepoCommand) -> anyhow::Result<ExitStatus> {
    let conn = match &command {
        RepoCommand::Add(a) => &a.conn,
        RepoCommand::List(a) => &a.conn,
        RepoCommand::Get(a)
        | RepoCommand::Watch(a)
        | RepoCommand::Unwatch(a)
        | RepoCommand::Del(a) => &a.conn,
    };
    let api = Api::new(conn)?;
    let result = match &command {
        RepoCommand::Add(a) => repo_add(&api, a).await,
        RepoCommand::List(_) => repo_list(&api, None).await,
        RepoCommand::Get(a) => repo_list(&api, Some(&a.repository)).await,
        RepoCommand::Watch(a) => set(&api, "repo_update", &a.repository, true)
            .await
            .and_then(|r| print_repos(&api, &r, false)),
        RepoCommand::Unwatch(a) => set(&api, "repo_update", &a.repository, false)
            .await
            .and_then(|r| print_repos(&api, &r, false)),
        RepoCommand::Del(a) => repo_del(&api, &a.repository).await,
    };
    Ok(finish(&api, result))
}

fn ok(api: &Api) -> ExitStatus {
    if !api.json() {
        println!("Success");
    }
    ExitStatus::Ok
}

async fn list(api: &Api, full: bool) -> ClientResult<ExitStatus> {
    let records = api.get(&["subscriptions"], &[]).await?;
    if api.json() {
        print_json(&records);
        return Ok(ExitStatus::Ok);
    }
    let mut header = vec!["Tag", "Subscription Type", "Active"];
    if full {
        header.push("Subscription ID");
    }
    let mut t = Table::new(&header);
    for r in items(&records) {
        if r["subscription_type"] == "repo_update" {
            continue;
        }
        let mut row = vec![
            cell(&r["subscription_key"]),
            cell(&r["subscription_type"]),
            cell(&r["active"]),
        ];
        if full {
            row.push(cell(&r["subscription_id"]));
        }
        t.row(row);
    }
    t.print();
    Ok(ExitStatus::Ok)
}

/// Looks the subscription up by type and key, then sets its active flag (as anchore-cli).
async fn set(api: &Api, kind: &str, key: &str, active: bool) -> ClientResult<Value> {
    let found = api
        .get(
            &["subscriptions"],
            &[
                ("subscription_type", kind.to_string()),
                ("subscription_key", key.to_string()),
            ],
        )
        .await?;
    let id = items(&found)
        .into_iter()
        .find_map(|r| r["subscription_id"].as_str().map(str::to_string))
        .ok_or_else(|| {
            ClientError::msg(format!("cannot locate subscription record ({kind} {key})"))
        })?;
    api.put(
        &["subscriptions", &id],
        &[],
        &json!({"active": active, "subscription_type": kind, "subscription_key": key}),
    )
    .await
}

fn tagcount(r: &Value) -> String {
    r["subscription_value"]
        .as_str()
        .and_then(|v| serde_json::from_str::<Value>(v).ok())
        .and_then(|v| v["tagcount"].as_u64())
        .map_or_else(|| "N/A".into(), |n| n.to_string())
}

fn print_repos(api: &Api, records: &Value, dry_run: bool) -> ClientResult<ExitStatus> {
    if api.json() {
        print_json(records);
        return Ok(ExitStatus::Ok);
    }
    if dry_run {
        println!("DRY RUN: Repository not added\n");
    }
    let mut t = Table::new(&["Repository", "Watched", "TagCount"]);
    for r in items(records) {
        t.row(vec![
            cell(&r["subscription_key"]),
            cell(&r["active"]),
            tagcount(r),
        ]);
    }
    t.sort_by_key(|row| row[0].clone());
    t.print();
    Ok(ExitStatus::Ok)
}

async fn repo_add(api: &Api, a: &RepoAddArgs) -> ClientResult<ExitStatus> {
    let mut query = vec![
        ("repository", a.repository.clone()),
        ("autosubscribe", py_bool(!a.noautosubscribe)),
        ("dryrun", py_bool(a.dryrun)),
    ];
    if let Some(t) = &a.lookuptag {
        query.push(("lookuptag", t.clone()));
    }
    let records = api.post(&["repositories"], &query, None).await?;
    print_repos(api, &records, a.dryrun)
}

async fn repo_list(api: &Api, only: Option<&str>) -> ClientResult<ExitStatus> {
    let mut query = vec![("subscription_type", "repo_update".to_string())];
    if let Some(r) = only {
        query.push(("subscription_key", r.to_string()));
    }
    let records = api.get(&["subscriptions"], &query).await?;
    if only.is_some() && items(&records).is_empty() {
        return Err(ClientError::msg(format!(
            "repository {} is not watched",
            only.unwrap_or_default()
        )));
    }
    print_repos(api, &records, false)
}

async fn repo_del(api: &Api, repository: &str) -> ClientResult<ExitStatus> {
    let found = api
        .get(
            &["subscriptions"],
            &[
                ("subscription_type", "repo_update".to_string()),
                ("subscription_key", repository.to_string()),
            ],
        )
        .await?;
    let id = items(&found)
        .into_iter()
        .find_map(|r| r["subscription_id"].as_str().map(str::to_string))
        .ok_or_else(|| ClientError::msg(format!("repository {repository} is not watched")))?;
    api.delete(&["subscriptions", &id], &[]).await?;
    Ok(ok(api))
}
