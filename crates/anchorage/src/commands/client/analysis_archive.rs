//! `anchorage analysis-archive images list|add|get|del|restore` and `analysis-archive rules
//! list|add|get|del` (anchore-cli's `analysis-archive` group): move analysed images into the
//! engine's analysis archive and back, and the transition rules that do it on a timer.

use serde_json::{Value, json};

use super::Conn;
use super::http::{Api, ClientError, ClientResult, finish, py_bool};
use super::table::{Table, cell, items, print_json};
use crate::ExitStatus;

/// Subcommands of `anchorage analysis-archive`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Archived image analyses.
    #[command(subcommand)]
    Images(ImagesCommand),
    /// Transition rules (archive by age and tag history, delete archived analyses).
    #[command(subcommand)]
    Rules(RulesCommand),
}

/// `analysis-archive images ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ImagesCommand {
    /// List the account's archived image analyses.
    List(ConnOnly),
    /// Move analysed images into the archive (out of the active images).
    Add(AddImages),
    /// Show one archived image analysis.
    Get(DigestArgs),
    /// Delete an archived image analysis for good.
    Del(DelImage),
    /// Bring an archived image back to the active images (no re-analysis).
    Restore(DigestArgs),
}

/// `analysis-archive rules ...`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum RulesCommand {
    /// List the transition rules (the account's and the global ones).
    List(ConnOnly),
    /// Add a transition rule.
    Add(AddRule),
    /// Show one rule.
    Get(RuleArgs),
    /// Delete a rule.
    Del(RuleArgs),
}

/// Connection flags only.
#[derive(Debug, clap::Args)]
pub(crate) struct ConnOnly {
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `images add`.
#[derive(Debug, clap::Args)]
pub(crate) struct AddImages {
    /// Image digests (`sha256:...`).
    #[arg(required = true)]
    digests: Vec<String>,
    #[command(flatten)]
    conn: Conn,
}

/// One digest.
#[derive(Debug, clap::Args)]
pub(crate) struct DigestArgs {
    /// Image digest (`sha256:...`).
    digest: String,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `images del`.
#[derive(Debug, clap::Args)]
pub(crate) struct DelImage {
    /// Image digest (`sha256:...`).
    digest: String,
    /// Accepted as anchore-cli's.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    conn: Conn,
}

/// Arguments of `rules add` (anchore-cli's positional order).
#[derive(Debug, clap::Args)]
pub(crate) struct AddRule {
    /// Select analyses (or archive records, for `delete`) older than this many days.
    days_old: u32,
    /// Keep this many newer digests of each tag (select only older ones).
    tag_versions_newer: u32,
    /// `archive` or `delete`.
    #[arg(value_parser = ["archive", "delete"])]
    transition: String,
    /// Registry pattern (`*` wildcard).
    #[arg(long, default_value = "*")]
    registry_selector: String,
    /// Repository pattern.
    #[arg(long, default_value = "*")]
    repository_selector: String,
    /// Tag pattern.
    #[arg(long, default_value = "*")]
    tag_selector: String,
    /// A global rule, for every account (admin only).
    #[arg(long)]
    is_global: bool,
    /// Global rules only: archive an account's oldest images beyond this many.
    #[arg(long, value_name = "N")]
    max_images_per_account: Option<u32>,
    /// Registry pattern to exclude.
    #[arg(long, default_value = "")]
    registry_exclude: String,
    /// Repository pattern to exclude.
    #[arg(long, default_value = "")]
    repository_exclude: String,
    /// Tag pattern to exclude.
    #[arg(long, default_value = "")]
    tag_exclude: String,
    /// Days the exclusion lasts after analysis (-1: for ever).
    #[arg(long, default_value_t = -1, allow_negative_numbers = true)]
    exclude_expiration_days: i64,
    #[command(flatten)]
    conn: Conn,
}

/// One rule id.
#[derive(Debug, clap::Args)]
pub(crate) struct RuleArgs {
    /// Rule id.
    rule_id: String,
    #[command(flatten)]
    conn: Conn,
}

impl Command {
    fn conn(&self) -> &Conn {
        match self {
            Command::Images(c) => match c {
                ImagesCommand::List(a) => &a.conn,
                ImagesCommand::Add(a) => &a.conn,
                ImagesCommand::Get(a) | ImagesCommand::Restore(a) => &a.conn,
                ImagesCommand::Del(a) => &a.conn,
            },
            Command::Rules(c) => match c {
                RulesCommand::List(a) => &a.conn,
                RulesCommand::Add(a) => &a.conn,
                RulesCommand::Get(a) | RulesCommand::Del(a) => &a.conn,
            },
        }
    }
}

/// Runs `anchorage analysis-archive ...`.
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    let api = Api::new(command.conn())?;
    let result = match command {
        Command::Images(ImagesCommand::List(_)) => list_images(&api).await,
        Command::Images(ImagesCommand::Add(a)) => add_images(&api, &a.digests).await,
        Command::Images(ImagesCommand::Get(a)) => get_image(&api, &a.digest).await,
        Command::Images(ImagesCommand::Del(a)) => del_image(&api, &a).await,
        Command::Images(ImagesCommand::Restore(a)) => restore(&api, &a.digest).await,
        Command::Rules(RulesCommand::List(_)) => list_rules(&api).await,
        Command::Rules(RulesCommand::Add(a)) => add_rule(&api, &a).await,
        Command::Rules(RulesCommand::Get(a)) => get_rule(&api, &a.rule_id).await,
        Command::Rules(RulesCommand::Del(a)) => del_rule(&api, &a.rule_id).await,
    };
    Ok(finish(&api, result))
}

/// anchore-cli's digest check.
fn check_digest(d: &str) -> ClientResult<()> {
    let ok = d.strip_prefix("sha256:").is_some_and(|h| {
        !h.is_empty()
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(ClientError::msg(format!(
            "Invalid image digest {d}. Must conform to regex: ^sha256:[abcdef0-9]+$"
        )))
    }
}

fn print_archived(api: &Api, records: &Value) {
    if api.json() {
        print_json(records);
        return;
    }
    let mut t = Table::new(&[
        "Digest",
        "Tags",
        "Analyzed At",
        "Archived At",
        "Status",
        "Archive Size Bytes",
    ]);
    for r in items(records) {
        let tags: Vec<String> = items(&r["image_detail"])
            .into_iter()
            .map(|d| cell(&d["pullstring"]))
            .collect();
        t.row(vec![
            cell(&r["imageDigest"]),
            tags.join(","),
            cell(&r["analyzed_at"]),
            cell(&r["created_at"]),
            cell(&r["status"]),
            cell(&r["archive_size_bytes"]),
        ]);
    }
    t.sort_by_key(|row| std::cmp::Reverse(row.get(3).cloned().unwrap_or_default()));
    t.print();
}

async fn list_images(api: &Api) -> ClientResult<ExitStatus> {
    let records = api.get(&["archives", "images"], &[]).await?;
    print_archived(api, &records);
    Ok(ExitStatus::Ok)
}

async fn add_images(api: &Api, digests: &[String]) -> ClientResult<ExitStatus> {
    for d in digests {
        check_digest(d)?;
    }
    let body = json!(digests);
    let results = api.post(&["archives", "images"], &[], Some(&body)).await?;
    if api.json() {
        print_json(&results);
    } else {
        let mut t = Table::new(&["Image Digest", "Archive Status", "Details"]);
        for r in items(&results) {
            t.row(vec![
                cell(&r["digest"]),
                cell(&r["status"]),
                cell(&r["detail"]),
            ]);
        }
        t.sort_by_key(|row| row.get(1).cloned().unwrap_or_default());
        t.print();
    }
    // Like anchore-cli, the request succeeded; a digest that could not be archived is a
    // refusal for scripts.
    let failed = items(&results)
        .iter()
        .any(|r| r["status"].as_str() != Some("archived"));
    Ok(if failed {
        ExitStatus::Refused
    } else {
        ExitStatus::Ok
    })
}

async fn get_image(api: &Api, digest: &str) -> ClientResult<ExitStatus> {
    let record = api.get(&["archives", "images", digest], &[]).await?;
    print_archived(api, &record);
    Ok(ExitStatus::Ok)
}

async fn del_image(api: &Api, a: &DelImage) -> ClientResult<ExitStatus> {
    let query: Vec<(&str, String)> = if a.force {
        vec![("force", py_bool(true))]
    } else {
        Vec::new()
    };
    let answer = api
        .delete(&["archives", "images", &a.digest], &query)
        .await?;
    if api.json() {
        print_json(&answer);
    } else {
        println!("Success");
    }
    Ok(ExitStatus::Ok)
}

async fn restore(api: &Api, digest: &str) -> ClientResult<ExitStatus> {
    check_digest(digest)?;
    let body = json!({"source": {"archive": {"digest": digest}}});
    let records = api.post(&["images"], &[], Some(&body)).await?;
    super::image::print_images(api, &records);
    Ok(ExitStatus::Ok)
}

fn print_rules(api: &Api, rules: &Value) {
    if api.json() {
        print_json(rules);
        return;
    }
    let mut t = Table::new(&[
        "Rule Id",
        "Global",
        "Transition",
        "Analysis Age (Days)",
        "Tag Versions Newer",
        "Registry",
        "Repository",
        "Tag",
        "Max Images",
        "Registry Exclude",
        "Repo Exclude",
        "Tag Exclude",
        "Exclude Exp Days",
        "Last Updated",
    ]);
    for r in items(rules) {
        let sel = &r["selector"];
        let ex = &r["exclude"]["selector"];
        t.row(vec![
            cell(&r["rule_id"]),
            cell(&r["system_global"]),
            cell(&r["transition"]),
            cell(&r["analysis_age_days"]),
            cell(&r["tag_versions_newer"]),
            cell(&sel["registry"]),
            cell(&sel["repository"]),
            cell(&sel["tag"]),
            cell(&r["max_images_per_account"]),
            cell(&ex["registry"]),
            cell(&ex["repository"]),
            cell(&ex["tag"]),
            cell(&r["exclude"]["expiration_days"]),
            cell(&r["last_updated"]),
        ]);
    }
    t.sort_by_key(|row| std::cmp::Reverse(row.get(13).cloned().unwrap_or_default()));
    t.print();
}

async fn list_rules(api: &Api) -> ClientResult<ExitStatus> {
    let rules = api.get(&["archives", "rules"], &[]).await?;
    print_rules(api, &rules);
    Ok(ExitStatus::Ok)
}

/// The rule body anchore-cli sends for these arguments.
fn rule_body(a: &AddRule) -> ClientResult<Value> {
    if a.max_images_per_account.is_some() && !a.is_global {
        return Err(ClientError::msg(
            "max_images_per_account can only be specified on a global rule",
        ));
    }
    let mut body = json!({
        "tag_versions_newer": a.tag_versions_newer,
        "analysis_age_days": a.days_old,
        "transition": a.transition,
        "system_global": a.is_global,
    });
    match a.max_images_per_account {
        Some(max) => {
            let default_selector =
                a.registry_selector == "*" && a.repository_selector == "*" && a.tag_selector == "*";
            let default_exclude = a.registry_exclude.is_empty()
                && a.repository_exclude.is_empty()
                && a.tag_exclude.is_empty();
            if !(default_selector && default_exclude) {
                return Err(ClientError::msg(
                    "Selector and exclude cannot be specified along with max_images_per_account",
                ));
            }
            body["max_images_per_account"] = json!(max);
        }
        None => {
            body["selector"] = json!({
                "registry": a.registry_selector,
                "repository": a.repository_selector,
                "tag": a.tag_selector,
            });
            body["exclude"] = json!({
                "expiration_days": a.exclude_expiration_days,
                "selector": {
                    "registry": a.registry_exclude,
                    "repository": a.repository_exclude,
                    "tag": a.tag_exclude,
                },
            });
        }
    }
    Ok(body)
}

async fn add_rule(api: &Api, a: &AddRule) -> ClientResult<ExitStatus> {
    let body = rule_body(a)?;
    let rule = api.post(&["archives", "rules"], &[], Some(&body)).await?;
    print_rules(api, &rule);
    Ok(ExitStatus::Ok)
}

async fn get_rule(api: &Api, rule_id: &str) -> ClientResult<ExitStatus> {
    let rule = api.get(&["archives", "rules", rule_id], &[]).await?;
    print_rules(api, &rule);
    Ok(ExitStatus::Ok)
}

async fn del_rule(api: &Api, rule_id: &str) -> ClientResult<ExitStatus> {
    let answer = api.delete(&["archives", "rules", rule_id], &[]).await?;
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
    use clap::Parser as _;

    #[derive(Debug, clap::Parser)]
    struct T {
        #[command(subcommand)]
        c: Command,
    }

    fn add_rule_of(args: &[&str]) -> AddRule {
        let mut all = vec!["t", "rules", "add"];
        all.extend(args);
        match T::try_parse_from(all).map(|t| t.c) {
            Ok(Command::Rules(RulesCommand::Add(a))) => a,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn rule_bodies_are_anchore_clis() {
        let a = add_rule_of(&["30", "2", "archive", "--tag-selector", "v*"]);
        let b = rule_body(&a).ok();
        assert_eq!(
            b,
            Some(json!({
                "tag_versions_newer": 2, "analysis_age_days": 30, "transition": "archive",
                "system_global": false,
                "selector": {"registry": "*", "repository": "*", "tag": "v*"},
                "exclude": {"expiration_days": -1,
                            "selector": {"registry": "", "repository": "", "tag": ""}},
            }))
        );
        let cap = add_rule_of(&[
            "0",
            "0",
            "archive",
            "--is-global",
            "--max-images-per-account",
            "5",
        ]);
        assert_eq!(
            rule_body(&cap)
                .ok()
                .map(|b| b["max_images_per_account"].clone()),
            Some(json!(5))
        );
        let bad = add_rule_of(&["0", "0", "archive", "--max-images-per-account", "5"]);
        assert!(rule_body(&bad).is_err());
        assert!(check_digest("sha256:abc0").is_ok());
        assert!(check_digest("abc").is_err());
    }
}
