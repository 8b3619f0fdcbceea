//! `anchorage account add|list|get|del|enable|disable|whoami` and
//! `anchorage account user add|list|get|del|setpassword` (anchore-cli's `account` group).
//! Passwords are sent, never printed.

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use super::http::{Api, ClientError, ClientResult, finish};
use super::table::{Table, cell, fields, items, print_json};
use super::{Conn, secret};
use crate::ExitStatus;

/// Subcommands of `anchorage account`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Show the caller's user and account.
    Whoami(ConnArgs),
    /// Add an account (admin).
    Add(AddArgs),
    /// List accounts (admin).
    List(ConnArgs),
    /// Show an account.
    Get(NameArgs),
    /// Delete a disabled account (admin).
    Del(NameArgs),
    /// Enable an account (admin).
    Enable(NameArgs),
    /// Disable an account (admin): its users can no longer sign in.
    Disable(NameArgs),
    /// Users of an account.
    #[command(subcommand)]
    User(UserCommand),
}

/// Subcommands of `anchorage account user`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum UserCommand {
    /// Add a user to an account (admin).
    Add(UserAddArgs),
    /// List an account's users.
    List(UserAccountArgs),
    /// Show a user.
    Get(UserArgs),
    /// Delete a user (admin).
    Del(UserArgs),
    /// Set a user's password (the caller's unless --username).
    Setpassword(SetPasswordArgs),
}

/// Arguments with only the connection flags.
#[derive(Debug, clap::Args)]
pub(crate) struct ConnArgs {
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `account add`.
#[derive(Debug, clap::Args)]
pub(crate) struct AddArgs {
    /// Account name.
    name: String,
    /// Contact email.
    #[arg(long)]
    email: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments naming an account.
#[derive(Debug, clap::Args)]
pub(crate) struct NameArgs {
    /// Account name.
    name: String,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `account user add`.
#[derive(Debug, clap::Args)]
pub(crate) struct UserAddArgs {
    /// User name.
    username: String,
    /// Password (at least 6 characters).
    #[arg(value_parser = secret)]
    password: SecretString,
    /// Account (default: the caller's).
    #[arg(long)]
    account: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `account user list`.
#[derive(Debug, clap::Args)]
pub(crate) struct UserAccountArgs {
    /// Account (default: the caller's).
    #[arg(long)]
    account: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments naming a user.
#[derive(Debug, clap::Args)]
pub(crate) struct UserArgs {
    /// User name.
    username: String,
    /// Account (default: the caller's).
    #[arg(long)]
    account: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `account user setpassword`.
#[derive(Debug, clap::Args)]
pub(crate) struct SetPasswordArgs {
    /// The new password (at least 6 characters).
    #[arg(value_parser = secret)]
    password: SecretString,
    /// User (default: the caller).
    #[arg(long)]
    username: Option<String>,
    /// Account (default: the caller's).
    #[arg(long)]
    account: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

impl Command {
    fn conn(&self) -> &Conn {
        match self {
            Command::Whoami(a) | Command::List(a) => &a.conn,
            Command::Add(a) => &a.conn,
            Command::Get(a) | Command::Del(a) | Command::Enable(a) | Command::Disable(a) => &a.conn,
            Command::User(UserCommand::Add(a)) => &a.conn,
            Command::User(UserCommand::List(a)) => &a.conn,
            Command::User(UserCommand::Get(a) | UserCommand::Del(a)) => &a.conn,
            Command::User(UserCommand::Setpassword(a)) => &a.conn,
        }
    }
}

/// Runs `anchorage account ...`.
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    let api = Api::new(command.conn())?;
    let result = match command {
        Command::Whoami(_) => whoami(&api).await,
        Command::Add(a) => add(&api, &a).await,
        Command::List(_) => list(&api).await,
        Command::Get(a) => get(&api, &a.name).await,
        Command::Del(a) => del(&api, &a.name).await,
        Command::Enable(a) => set_state(&api, &a.name, "enabled").await,
        Command::Disable(a) => set_state(&api, &a.name, "disabled").await,
        Command::User(u) => user(&api, u).await,
    };
    Ok(finish(&api, result))
}

fn print_accounts(api: &Api, records: &Value) {
    if api.json() {
        print_json(records);
        return;
    }
    let mut t = Table::new(&["Name", "Email", "Type", "State", "Created"]);
    for a in items(records) {
        t.row(vec![
            cell(&a["name"]),
            cell(&a["email"]),
            cell(&a["type"]),
            cell(&a["state"]),
            cell(&a["created_at"]),
        ]);
    }
    t.print();
}

fn print_users(api: &Api, records: &Value) {
    if api.json() {
        print_json(records);
        return;
    }
    let mut t = Table::new(&["Name", "Type", "Source", "Created"]);
    for u in items(records) {
        t.row(vec![
            cell(&u["username"]),
            cell(&u["type"]),
            cell(&u["source"]),
            cell(&u["created_at"]),
        ]);
    }
    t.print();
}

async fn whoami(api: &Api) -> ClientResult<ExitStatus> {
    let account = api.get(&["account"], &[]).await?;
    let user = api.get(&["user"], &[]).await?;
    if api.json() {
        print_json(&json!({"user": user, "account": account}));
        return Ok(ExitStatus::Ok);
    }
    fields(&[
        ("Username", cell(&user["username"])),
        ("AccountName", cell(&account["name"])),
        ("AccountEmail", cell(&account["email"])),
        ("AccountType", cell(&account["type"])),
    ]);
    Ok(ExitStatus::Ok)
}

async fn add(api: &Api, a: &AddArgs) -> ClientResult<ExitStatus> {
    let mut body = json!({"name": a.name});
    if let Some(email) = &a.email {
        body["email"] = json!(email);
    }
    let record = api.post(&["accounts"], &[], Some(&body)).await?;
    print_accounts(api, &record);
    Ok(ExitStatus::Ok)
}

async fn list(api: &Api) -> ClientResult<ExitStatus> {
    let records = api.get(&["accounts"], &[]).await?;
    print_accounts(api, &records);
    Ok(ExitStatus::Ok)
}

async fn get(api: &Api, name: &str) -> ClientResult<ExitStatus> {
    let record = api.get(&["accounts", name], &[]).await?;
    print_accounts(api, &record);
    Ok(ExitStatus::Ok)
}

async fn del(api: &Api, name: &str) -> ClientResult<ExitStatus> {
    match api.delete(&["accounts", name], &[]).await {
        Ok(_) => {
            if !api.json() {
                println!("Success");
            }
            Ok(ExitStatus::Ok)
        }
        // anchore-cli's hint, when the engine's message does not already say it.
        Err(ClientError::Api { status, mut body }) => {
            let message = body["message"].as_str().unwrap_or_default().to_string();
            if message.contains("Invalid account state change requested")
                && !message.contains("disable")
            {
                body["message"] = json!(format!(
                    "{message} (an account must be disabled before it is deleted: \
                     anchorage account disable {name})"
                ));
            }
            Err(ClientError::Api { status, body })
        }
        Err(e) => Err(e),
    }
}

async fn set_state(api: &Api, name: &str, state: &str) -> ClientResult<ExitStatus> {
    let answer = api
        .put(&["accounts", name, "state"], &[], &json!({"state": state}))
        .await?;
    if api.json() {
        print_json(&answer);
    } else {
        println!("Success");
    }
    Ok(ExitStatus::Ok)
}

/// The named account, else the caller's.
async fn account_or_own(api: &Api, account: Option<&String>) -> ClientResult<String> {
    if let Some(a) = account {
        return Ok(a.clone());
    }
    let own = api.get(&["account"], &[]).await?;
    own["name"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| ClientError::msg("the engine did not name the caller's account"))
}

fn check_password(p: &SecretString) -> ClientResult<()> {
    if p.expose_secret().chars().count() < 6 {
        return Err(ClientError::msg(
            "the password must be at least 6 characters",
        ));
    }
    Ok(())
}

async fn user(api: &Api, command: UserCommand) -> ClientResult<ExitStatus> {
    match command {
        UserCommand::Add(a) => {
            check_password(&a.password)?;
            let account = account_or_own(api, a.account.as_ref()).await?;
            let body = json!({"username": a.username, "password": a.password.expose_secret()});
            let record = api
                .post(&["accounts", &account, "users"], &[], Some(&body))
                .await?;
            print_users(api, &record);
        }
        UserCommand::List(a) => {
            let account = account_or_own(api, a.account.as_ref()).await?;
            let records = api.get(&["accounts", &account, "users"], &[]).await?;
            print_users(api, &records);
        }
        UserCommand::Get(a) => {
            let account = account_or_own(api, a.account.as_ref()).await?;
            let record = api
                .get(&["accounts", &account, "users", &a.username], &[])
                .await?;
            print_users(api, &record);
        }
        UserCommand::Del(a) => {
            let account = account_or_own(api, a.account.as_ref()).await?;
            api.delete(&["accounts", &account, "users", &a.username], &[])
                .await?;
            if !api.json() {
                println!("Success");
            }
        }
        UserCommand::Setpassword(a) => {
            check_password(&a.password)?;
            let account = account_or_own(api, a.account.as_ref()).await?;
            let username = match a.username {
                Some(u) => u,
                None => {
                    let me = api.get(&["user"], &[]).await?;
                    me["username"]
                        .as_str()
                        .map(str::to_string)
                        .ok_or_else(|| ClientError::msg("the engine did not name the caller"))?
                }
            };
            let body = json!({"type": "password", "value": a.password.expose_secret()});
            api.post(
                &["accounts", &account, "users", &username, "credentials"],
                &[],
                Some(&body),
            )
            .await?;
            if !api.json() {
                println!("Password (re)set success");
            }
        }
    }
    Ok(ExitStatus::Ok)
}
