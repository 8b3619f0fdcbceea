//! `anchorage registry add|list|get|update|del` (anchore-cli's `registry` group): the
//! credentials the engine uses to pull from a registry. The password is sent, never printed.

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};

use super::http::{Api, ClientResult, finish, py_bool};
use super::table::{Table, cell, fields, items, print_json};
use super::{Conn, secret};
use crate::ExitStatus;

/// Subcommands of `anchorage registry`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Add a registry's credentials (checked against the registry unless --skip-validate).
    Add(SetArgs),
    /// List the account's registries.
    List(ListArgs),
    /// Show one registry.
    Get(NameArgs),
    /// Replace a registry's credentials.
    Update(SetArgs),
    /// Delete a registry's credentials.
    Del(NameArgs),
}

/// Arguments of `registry add` and `registry update`.
#[derive(Debug, clap::Args)]
pub(crate) struct SetArgs {
    /// Registry `HOST[:PORT]` (optionally with a repository path).
    registry: String,
    /// User name.
    registry_user: String,
    /// Password (else `$ANCHORAGE_REGISTRY_PASSWORD`, which keeps it out of process lists).
    #[arg(env = anchorage_settings::ANCHORAGE_REGISTRY_PASSWORD, hide_env_values = true,
          value_parser = secret)]
    registry_pass: SecretString,
    /// Plain HTTP or unverified TLS.
    #[arg(long)]
    insecure: bool,
    /// `docker_v2`, or `awsecr` (chosen automatically for `*.dkr.ecr.*.amazonaws.com`).
    #[arg(long, value_name = "TYPE")]
    registry_type: Option<String>,
    /// Do not check the credentials against the registry.
    #[arg(long)]
    skip_validate: bool,
    /// Display name.
    #[arg(long, value_name = "NAME")]
    registry_name: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `registry list`.
#[derive(Debug, clap::Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `registry get` and `registry del`.
#[derive(Debug, clap::Args)]
pub(crate) struct NameArgs {
    /// Registry `HOST[:PORT]`.
    registry: String,
    #[command(flatten)]
    conn: Conn,
}

impl Command {
    fn conn(&self) -> &Conn {
        match self {
            Command::Add(a) | Command::Update(a) => &a.conn,
            Command::List(a) => &a.conn,
            Command::Get(a) | Command::Del(a) => &a.conn,
        }
    }
}

/// Runs `anchorage registry ...`.
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    let api = Api::new(command.conn())?;
    let result = match command {
        Command::Add(a) => set(&api, &a, false).await,
        Command::Update(a) => set(&api, &a, true).await,
        Command::List(_) => list(&api).await,
        Command::Get(a) => get(&api, &a.registry).await,
        Command::Del(a) => del(&api, &a.registry).await,
    };
    Ok(finish(&api, result))
}

/// Whether a host is an AWS ECR registry (`<account digits>.dkr.ecr.<region>.amazonaws.com`).
fn is_ecr(registry: &str) -> bool {
    let host = registry.split('/').next().unwrap_or_default();
    let mut parts = host.split('.');
    let account = parts.next().unwrap_or_default();
    !account.is_empty()
        && account.bytes().all(|b| b.is_ascii_digit())
        && parts.next() == Some("dkr")
        && parts.next() == Some("ecr")
        && host.ends_with(".amazonaws.com")
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
            ("Registry", cell(&r["registry"])),
            ("Name", cell(&r["registry_name"])),
            ("User", cell(&r["registry_user"])),
            ("Type", cell(&r["registry_type"])),
            ("Verify TLS", cell(&r["registry_verify"])),
            ("Created", cell(&r["created_at"])),
            ("Updated", cell(&r["last_updated"])),
        ]);
    }
}

async fn set(api: &Api, a: &SetArgs, update: bool) -> ClientResult<ExitStatus> {
    let registry_type = a.registry_type.clone().unwrap_or_else(|| {
        if is_ecr(&a.registry) {
            "awsecr".into()
        } else {
            "docker_v2".into()
        }
    });
    let body = json!({
        "registry": a.registry,
        "registry_user": a.registry_user,
        "registry_pass": a.registry_pass.expose_secret(),
        "registry_type": registry_type,
        "registry_verify": !a.insecure,
        "registry_name": a.registry_name.clone().unwrap_or_else(|| a.registry.clone()),
    });
    let query = [("validate", py_bool(!a.skip_validate))];
    let records = if update {
        api.put(&["registries", &a.registry], &query, &body).await?
    } else {
        api.post(&["registries"], &query, Some(&body)).await?
    };
    print_records(api, &records);
    Ok(ExitStatus::Ok)
}

async fn list(api: &Api) -> ClientResult<ExitStatus> {
    let records = api.get(&["registries"], &[]).await?;
    if api.json() {
        print_json(&records);
        return Ok(ExitStatus::Ok);
    }
    let mut t = Table::new(&["Registry", "Name", "Type", "User"]);
    for r in items(&records) {
        t.row(vec![
            cell(&r["registry"]),
            cell(&r["registry_name"]),
            cell(&r["registry_type"]),
            cell(&r["registry_user"]),
        ]);
    }
    t.print();
    Ok(ExitStatus::Ok)
}

async fn get(api: &Api, registry: &str) -> ClientResult<ExitStatus> {
    let records = api.get(&["registries", registry], &[]).await?;
    print_records(api, &records);
    Ok(ExitStatus::Ok)
}

async fn del(api: &Api, registry: &str) -> ClientResult<ExitStatus> {
    let answer = api.delete(&["registries", registry], &[]).await?;
    if api.json() {
        print_json(&answer);
    } else {
        println!("Success");
    }
    Ok(ExitStatus::Ok)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_hosts_are_recognised() {
        assert!(is_ecr("123456789012.dkr.ecr.us-east-1.amazonaws.com"));
        assert!(is_ecr("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team"));
        assert!(!is_ecr("registry.example.com"));
        assert!(!is_ecr("abc.dkr.ecr.us-east-1.amazonaws.com"));
        assert!(!is_ecr("127.0.0.1:5000"));
    }
}
