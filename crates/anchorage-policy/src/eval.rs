//! Evaluation: (validated bundle, analysis, findings, feed state, tag, now) -> STOP/WARN/GO
//! with the §3.6 result table. Pure; the clock is an input.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::bundle::{Action, ImageRule, ImageSelector, ValidBundle, ValidationProblem};
use crate::gates::{self, Ctx, md5_trigger_id};
use crate::pattern::{TagParts, parse_tag};

pub use crate::input::{EvaluationInput, FeedPackage, MalwareFinding, MalwareScan, PackageFeeds};

pub use anchorage_model::{
    Evaluation, Explanation, FinalActionReason, RESULT_HEADER, Row, StaleWhitelistItem,
    WhitelistMatch,
};

fn strip_sha(s: &str) -> &str {
    s.strip_prefix("sha256:").unwrap_or(s)
}

fn rule_matches(rule: &ImageRule, tag: &TagParts, digest: &str, id: &str) -> bool {
    if !rule.registry.matches(&tag.registry) || !rule.repository.matches(&tag.repo) {
        return false;
    }
    let id = strip_sha(id);
    match &rule.image {
        ImageSelector::Tag(p) => {
            p.matches(&tag.tag)
                || (!id.is_empty() && strip_sha(p.as_str()) == id)
                || (!digest.is_empty() && p.as_str() == digest)
        }
        ImageSelector::Digest(d) => !digest.is_empty() && d == digest,
        ImageSelector::Id(i) => !id.is_empty() && strip_sha(i) == id,
    }
}

/// Evaluate an image against a validated bundle.
pub fn evaluate(bundle: &ValidBundle, input: &EvaluationInput<'_>) -> Evaluation {
    let tag_parts = match parse_tag(input.tag) {
        Ok(parts) => parts,
        Err(e) => {
            // A tag that is not an image reference cannot select a mapping: STOP with the
            // reason, as upstream does when an evaluation cannot run.
            return failed_evaluation(
                bundle.id.clone(),
                &bundle.raw,
                input,
                vec![ValidationProblem::error(
                    "InvalidTagError",
                    format!("evaluation tag {:?}: {e}", input.tag),
                )],
            );
        }
    };
    let ctx = Ctx::new(input);
    let image_id = strip_sha(&input.image_id).to_string();
    let tag = input.tag.to_string();
    let mapping = bundle
        .mappings
        .iter()
        .find(|m| rule_matches(&m.rule, &tag_parts, &input.image_digest, &input.image_id));
    let mut rows = Vec::new();
    let mut policy_final = Action::Go;
    let mut stale = Vec::new();
    if let Some(m) = mapping {
        let whitelists: Vec<_> = m
            .whitelist_ids
            .iter()
            .filter_map(|id| bundle.whitelist(id))
            .collect();
        let mut used: BTreeSet<(String, String)> = BTreeSet::new();
        for pid in &m.policy_ids {
            let Some(policy) = bundle.policy(pid) else {
                continue;
            };
            for rule in &policy.rules {
                for fired in gates::run(rule, &ctx) {
                    let trigger_id = fired.trigger_id.unwrap_or_else(|| {
                        md5_trigger_id(rule.gate.name, rule.trigger.name, &fired.message)
                    });
                    let whitelisted = whitelists.iter().find_map(|wl| {
                        wl.first_match(rule.gate.name, &trigger_id, input.now)
                            .map(|item| {
                                used.insert((wl.id.clone(), item.id.clone()));
                                WhitelistMatch {
                                    whitelist_name: wl.name.clone(),
                                    whitelist_id: wl.id.clone(),
                                    matched_rule_id: item.id.clone(),
                                    reason: item.reason.clone(),
                                }
                            })
                    });
                    if whitelisted.is_none() {
                        policy_final = policy_final.min(rule.action);
                    }
                    rows.push(Row {
                        image_id: image_id.clone(),
                        tag: tag.clone(),
                        trigger_id,
                        gate: rule.gate.name.to_string(),
                        trigger: rule.trigger.name.to_string(),
                        check_output: fired.message,
                        action: rule.action,
                        whitelisted,
                        policy_id: policy.id.clone(),
                        explanation: Explanation {
                            rule_id: rule.id.clone(),
                            subject: fired.subject,
                            reason: fired.reason,
                            params: rule
                                .params
                                .iter()
                                .map(|(k, v)| ((*k).to_string(), v.clone()))
                                .collect(),
                        },
                    });
                }
            }
        }
        for wl in &whitelists {
            for item in &wl.items {
                if !used.contains(&(wl.id.clone(), item.id.clone())) {
                    stale.push(StaleWhitelistItem {
                        whitelist_id: wl.id.clone(),
                        item_id: item.id.clone(),
                        gate: item.gate.clone(),
                        trigger_id: item.trigger_id.as_str().to_string(),
                        expired: item.expires_on.is_some_and(|e| e <= input.now),
                    });
                }
            }
        }
    }
    let blacklisted = bundle
        .blacklisted_images
        .iter()
        .find(|r| rule_matches(r, &tag_parts, &input.image_digest, &input.image_id));
    let whitelisted = bundle
        .whitelisted_images
        .iter()
        .find(|r| rule_matches(r, &tag_parts, &input.image_digest, &input.image_id));
    let (final_action, reason) = if blacklisted.is_some() {
        (Action::Stop, FinalActionReason::Blacklisted)
    } else if whitelisted.is_some() {
        (Action::Go, FinalActionReason::Whitelisted)
    } else {
        (policy_final, FinalActionReason::PolicyEvaluation)
    };
    Evaluation {
        bundle_id: input.policy_id.unwrap_or(&bundle.id).to_string(),
        user_id: String::new(),
        image_id,
        image_digest: input.image_digest.clone(),
        tag,
        final_action,
        final_action_reason: reason,
        policy_final_action: policy_final,
        matched_mapping: mapping.map(|m| m.rule.raw.clone()),
        matched_whitelisted_image: whitelisted.map(|r| r.raw.clone()),
        matched_blacklisted_image: blacklisted.map(|r| r.raw.clone()),
        rows,
        stale_whitelist_items: stale,
        evaluation_problems: ctx
            .take_warnings()
            .into_iter()
            .map(ValidationProblem::warning)
            .collect(),
        evaluated_at: input.now,
        bundle: bundle.raw.clone(),
    }
}

/// Validate and evaluate in one step. A bundle that does not validate (for example one stored
/// by an older version) yields STOP with its problems in `evaluation_problems`, as upstream
/// does when a bundle cannot be built.
pub fn evaluate_json(bundle_json: &Value, input: &EvaluationInput<'_>) -> Evaluation {
    match crate::validate::validate(bundle_json) {
        Ok(bundle) => evaluate(&bundle, input),
        Err(problems) => failed_evaluation(
            bundle_json
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_default(),
            bundle_json,
            input,
            problems,
        ),
    }
}

/// A STOP evaluation that could not run, with its problems.
fn failed_evaluation(
    bundle_id: String,
    bundle_json: &Value,
    input: &EvaluationInput<'_>,
    problems: Vec<ValidationProblem>,
) -> Evaluation {
    Evaluation {
        bundle_id: input.policy_id.map(str::to_string).unwrap_or(bundle_id),
        user_id: String::new(),
        image_id: strip_sha(&input.image_id).to_string(),
        image_digest: input.image_digest.clone(),
        tag: input.tag.to_string(),
        final_action: Action::Stop,
        final_action_reason: FinalActionReason::PolicyEvaluation,
        policy_final_action: Action::Stop,
        matched_mapping: None,
        matched_whitelisted_image: None,
        matched_blacklisted_image: None,
        rows: Vec::new(),
        stale_whitelist_items: Vec::new(),
        evaluation_problems: problems,
        evaluated_at: input.now,
        bundle: bundle_json.clone(),
    }
}

/// A plain-text rendering: a summary, then one line per row with its explanation.
pub fn render_table(e: &Evaluation) -> String {
    let mut out = String::new();
    out.push_str(&format!("Image Digest: {}\n", e.image_digest));
    out.push_str(&format!("Full Tag: {}\n", e.tag));
    out.push_str(&format!("Status: {}\n", e.status()));
    out.push_str(&format!("Policy ID: {}\n", e.bundle_id));
    out.push_str(&format!("Final Action: {}\n", e.final_action.as_str()));
    out.push_str(&format!(
        "Final Action Reason: {}\n",
        e.final_action_reason.as_str()
    ));
    if e.matched_mapping.is_none() {
        out.push_str("Matched Mapping: none (no policy applies; result is go)\n");
    }
    if e.rows.is_empty() {
        return out;
    }
    let header = [
        "Gate",
        "Trigger",
        "Trigger_Id",
        "Check_Output",
        "Gate_Action",
        "Whitelisted",
    ];
    let cells: Vec<[String; 6]> = e
        .rows
        .iter()
        .map(|r| {
            [
                r.gate.clone(),
                r.trigger.clone(),
                r.trigger_id.clone(),
                r.check_output.clone(),
                r.action.as_str().to_string(),
                r.whitelisted.as_ref().map_or_else(
                    || "false".to_string(),
                    |w| format!("{}:{}", w.whitelist_id, w.matched_rule_id),
                ),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for c in &cells {
        for (i, v) in c.iter().enumerate() {
            widths[i] = widths[i]
                .max(v.chars().count())
                .min(if i == 3 { 120 } else { 70 });
        }
    }
    out.push('\n');
    let line = |vals: &[String]| {
        let mut s = String::new();
        for (i, v) in vals.iter().enumerate() {
            if i + 1 == vals.len() {
                s.push_str(v);
            } else {
                s.push_str(&format!("{v:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    out.push_str(&line(&header.map(str::to_string)));
    for (c, r) in cells.iter().zip(&e.rows) {
        out.push_str(&line(c));
        out.push_str(&format!(
            "    why: rule {} fired on {}: {}\n",
            r.explanation.rule_id, r.explanation.subject, r.explanation.reason
        ));
    }
    if !e.stale_whitelist_items.is_empty() {
        out.push_str("\nStale whitelist items (matched nothing):\n");
        for s in &e.stale_whitelist_items {
            out.push_str(&format!(
                "  {}:{} gate={} trigger_id={}{}\n",
                s.whitelist_id,
                s.item_id,
                s.gate,
                s.trigger_id,
                if s.expired { " (expired)" } else { "" }
            ));
        }
    }
    out
}
