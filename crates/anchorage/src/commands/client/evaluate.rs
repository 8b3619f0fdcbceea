//! `anchorage evaluate check` (anchore-cli's `evaluate` group): the engine evaluates the
//! account's active bundle (or `--policy`) against an analyzed image for one tag.
//! Exit codes: 0 pass, 1 fail, 2 anything else.

use serde_json::Value;

use super::Conn;
use super::http::{Api, ClientError, ClientResult, finish};
use super::lookup::{self, ImageRef};
use super::table::{Table, cell, fields, items, print_json};
use crate::ExitStatus;

/// Subcommands of `anchorage evaluate`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Evaluate the active policy bundle against an image (exit 0 pass, 1 fail).
    Check(CheckArgs),
}

/// Arguments of `evaluate check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    /// Tag, digest or image ID.
    image: String,
    /// Show the policy rows that fired, the final action and its reason.
    #[arg(long)]
    detail: bool,
    /// Show every stored evaluation, not only the latest.
    #[arg(long)]
    show_history: bool,
    /// The tag to evaluate for (required when the image is given by digest or ID).
    #[arg(long)]
    tag: Option<String>,
    /// Evaluate this bundle instead of the active one.
    #[arg(long = "policy", value_name = "POLICY_ID")]
    policy: Option<String>,
    #[command(flatten)]
    conn: Conn,
}

/// Runs `anchorage evaluate ...`.
pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    let Command::Check(a) = command;
    let api = Api::new(&a.conn)?;
    let result = check(&api, &a).await;
    Ok(finish(&api, result))
}

async fn check(api: &Api, a: &CheckArgs) -> ClientResult<ExitStatus> {
    let tag = match (&a.tag, ImageRef::parse(&a.image)) {
        (Some(t), _) => t.clone(),
        (None, ImageRef::Tag(t)) => t,
        (None, _) => {
            return Err(ClientError::msg(
                "input image name is not a tag, and no --tag is specified",
            ));
        }
    };
    let digest = lookup::digest(api, &a.image).await?;
    let mut query = vec![
        ("history", a.show_history.to_string()),
        ("detail", a.detail.to_string()),
        ("tag", tag),
    ];
    if let Some(p) = &a.policy {
        query.push(("policyId", p.clone()));
    }
    let answer = api.get(&["images", &digest, "check"], &query).await?;
    if api.json() {
        print_json(&answer);
    } else {
        print_check(&answer, a.detail);
    }
    Ok(exit_of(&answer))
}

/// 0 when the first evaluation passed, 1 when it failed, 2 otherwise.
fn exit_of(answer: &Value) -> ExitStatus {
    let first = answer[0]
        .as_object()
        .and_then(|by_digest| by_digest.values().next())
        .and_then(Value::as_object)
        .and_then(|by_tag| by_tag.values().next())
        .map(|evals| &evals[0]["status"]);
    match first.and_then(Value::as_str) {
        Some("pass") => ExitStatus::Ok,
        Some("fail") => ExitStatus::PolicyStop,
        _ => ExitStatus::Error,
    }
}

fn print_check(answer: &Value, detail: bool) {
    let mut first = true;
    for by_digest in items(answer) {
        let Some(by_digest) = by_digest.as_object() else {
            continue;
        };
        for (digest, by_tag) in by_digest {
            let Some(by_tag) = by_tag.as_object() else {
                continue;
            };
            for (tag, evals) in by_tag {
                let evals = items(evals);
                if evals.is_empty() {
                    if !first {
                        println!();
                    }
                    first = false;
                    fields(&[
                        ("Image Digest", digest.clone()),
                        ("Full Tag", tag.clone()),
                        ("Status", "no_eval_available".into()),
                    ]);
                }
                for e in evals {
                    if !first {
                        println!();
                    }
                    first = false;
                    print_eval(digest, tag, e, detail);
                }
            }
        }
    }
}

fn print_eval(digest: &str, tag: &str, e: &Value, detail: bool) {
    let result = &e["detail"]["result"];
    let mut out = vec![
        ("Image Digest", digest.to_string()),
        ("Full Tag", tag.to_string()),
    ];
    if detail {
        out.push(("Image ID", cell(&result["image_id"])));
    }
    out.push(("Status", cell(&e["status"])));
    out.push(("Last Eval", cell(&e["last_evaluation"])));
    out.push(("Policy ID", cell(&e["policyId"])));
    if detail {
        out.push(("Final Action", cell(&result["final_action"])));
        out.push(("Final Action Reason", cell(&result["final_action_reason"])));
    }
    fields(&out);
    if !detail {
        return;
    }
    let image_id = result["image_id"].as_str().unwrap_or_default();
    let rows = &result["result"][image_id]["result"]["rows"];
    let mut t = Table::new(&["Gate", "Trigger", "Detail", "Status"]);
    for row in items(rows) {
        let whitelisted = &row[7];
        let status = if whitelisted.is_object() {
            format!("whitelisted({})", cell(&whitelisted["whitelist_name"]))
        } else {
            cell(&row[6])
        };
        t.row(vec![cell(&row[3]), cell(&row[4]), cell(&row[5]), status]);
    }
    println!();
    t.print();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn exit_code_comes_from_the_first_evaluation() {
        let answer = |status: &str| json!([{"sha256:x": {"reg/app:1": [{"status": status}]}}]);
        assert_eq!(exit_of(&answer("pass")), ExitStatus::Ok);
        assert_eq!(exit_of(&answer("fail")), ExitStatus::PolicyStop);
        assert_eq!(exit_of(&answer("other")), ExitStatus::Error);
        assert_eq!(
            exit_of(&json!([{"sha256:x": {"reg/app:1": []}}])),
            ExitStatus::Error
        );
        assert_eq!(exit_of(&json!([])), ExitStatus::Error);
    }
}
