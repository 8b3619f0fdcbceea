//! Evaluation: (validated bundle, analysis, findings, feed state, tag, now) -> STOP/WARN/GO
//! with the §3.6 result table. Pure; the clock is an input.

use std::collections::{BTreeMap, BTreeSet};

use anchorage_catalog::Analysis;
use anchorage_match::{Coverage, Finding};
use anchorage_types::FeedGroupStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::bundle::{Action, ImageRule, ImageSelector, ValidBundle, ValidationProblem};
use crate::gates::{self, Ctx, md5_trigger_id};
use crate::pattern::{TagParts, parse_tag};

/// One malware scanner's results for an image (Anchore's `malware` content).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalwareScan {
    /// Scanner name, e.g. `clamav`.
    pub scanner: String,
    /// Findings.
    #[serde(default)]
    pub findings: Vec<MalwareFinding>,
}

/// One malware finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MalwareFinding {
    /// Image path.
    pub path: String,
    /// Signature name.
    pub signature: String,
}

/// One package in the `packages` feed (npm / gem metadata).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FeedPackage {
    /// Latest version.
    pub latest: String,
    /// Every published version.
    #[serde(default)]
    pub versions: Vec<String>,
}

/// The optional `packages` feed used by the `npms` and `ruby_gems` feed triggers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PackageFeeds {
    /// npm packages by name.
    #[serde(default)]
    pub npm: BTreeMap<String, FeedPackage>,
    /// Ruby gems by name.
    #[serde(default)]
    pub gem: BTreeMap<String, FeedPackage>,
}

/// Everything one evaluation reads.
#[derive(Debug, Clone)]
pub struct EvaluationInput<'a> {
    /// The stored analysis.
    pub analysis: &'a Analysis,
    /// Findings of the current match.
    pub findings: &'a [Finding],
    /// Vulnerability data coverage of the match.
    pub coverage: &'a Coverage,
    /// Feed group state (for `stale_feed_data`, `vulnerability_data_unavailable`).
    pub feeds: &'a [FeedGroupStatus],
    /// Normalized full tag (`docker.io/library/alpine:3.20`); empty means `*/*:*`.
    pub tag: &'a str,
    /// Image (manifest) digest `sha256:...`; empty when unknown.
    pub image_digest: String,
    /// Image id (config digest hex, `sha256:` prefix optional); empty when unknown.
    pub image_id: String,
    /// Evaluation time.
    pub now: DateTime<Utc>,
    /// Bundle id to report as `policyId` (defaults to the bundle's id).
    pub policy_id: Option<&'a str>,
    /// Malware scan results, if a scanner ran (`malware` gate).
    pub malware: Option<&'a [MalwareScan]>,
    /// The `packages` feed, if synced (`npms`/`ruby_gems` feed triggers).
    pub package_feeds: Option<&'a PackageFeeds>,
}

impl<'a> EvaluationInput<'a> {
    /// An input whose digest and id come from the analysis source, with no malware results
    /// and no packages feed.
    pub fn new(
        analysis: &'a Analysis,
        findings: &'a [Finding],
        coverage: &'a Coverage,
        feeds: &'a [FeedGroupStatus],
        tag: &'a str,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            analysis,
            findings,
            coverage,
            feeds,
            tag,
            image_digest: analysis
                .source
                .manifest_digest
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            image_id: analysis
                .source
                .config_digest
                .as_ref()
                .map(|d| d.encoded().to_string())
                .unwrap_or_default(),
            now,
            policy_id: None,
            malware: None,
            package_feeds: None,
        }
    }
}

/// Why the final action is what it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinalActionReason {
    /// The policies decided.
    PolicyEvaluation,
    /// The image matched `whitelisted_images`.
    Whitelisted,
    /// The image matched `blacklisted_images`.
    Blacklisted,
}

impl FinalActionReason {
    /// Anchore's string.
    pub fn as_str(self) -> &'static str {
        match self {
            FinalActionReason::PolicyEvaluation => "policy_evaluation",
            FinalActionReason::Whitelisted => "whitelisted",
            FinalActionReason::Blacklisted => "blacklisted",
        }
    }
}

/// The whitelist item that suppressed a row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WhitelistMatch {
    /// Whitelist name.
    pub whitelist_name: String,
    /// Whitelist id.
    pub whitelist_id: String,
    /// Item id.
    pub matched_rule_id: String,
    /// The item's `reason`, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Why a row fired: which package/file/field, which parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// Rule id in its policy.
    pub rule_id: String,
    /// The package, file, field or feed group the trigger fired on.
    pub subject: String,
    /// Why, in terms of the parameters.
    pub reason: String,
    /// The rule's parameters.
    pub params: BTreeMap<String, String>,
}

/// One row of the result table (§3.6), plus its explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Row {
    /// Image id.
    pub image_id: String,
    /// Full tag.
    pub tag: String,
    /// Trigger id (§4.5).
    pub trigger_id: String,
    /// Gate name.
    pub gate: String,
    /// Trigger name.
    pub trigger: String,
    /// Message.
    pub check_output: String,
    /// The rule's action (kept even when whitelisted).
    pub action: Action,
    /// The whitelist item that suppressed the row.
    pub whitelisted: Option<WhitelistMatch>,
    /// Policy id.
    pub policy_id: String,
    /// Why it fired.
    pub explanation: Explanation,
}

impl Row {
    /// The row as Anchore's 9-element JSON array.
    pub fn to_anchore_json(&self) -> Value {
        json!([
            self.image_id,
            self.tag,
            self.trigger_id,
            self.gate,
            self.trigger,
            self.check_output,
            self.action.as_str(),
            match &self.whitelisted {
                None => Value::Bool(false),
                Some(w) =>
                    json!({"whitelist_name": w.whitelist_name, "whitelist_id": w.whitelist_id, "matched_rule_id": w.matched_rule_id}),
            },
            self.policy_id,
        ])
    }
}

/// A whitelist item of the matched mapping that suppressed nothing in this evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StaleWhitelistItem {
    /// Whitelist id.
    pub whitelist_id: String,
    /// Item id.
    pub item_id: String,
    /// Gate.
    pub gate: String,
    /// Trigger id pattern.
    pub trigger_id: String,
    /// True when it matched nothing because it has expired.
    pub expired: bool,
}

/// The header of the result table, exactly as Anchore writes it.
pub const RESULT_HEADER: [&str; 9] = [
    "Image_Id",
    "Repo_Tag",
    "Trigger_Id",
    "Gate",
    "Trigger",
    "Check_Output",
    "Gate_Action",
    "Whitelisted",
    "Policy_Id",
];

/// The result of evaluating one (image, tag) against a bundle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Bundle id (`policyId`).
    pub bundle_id: String,
    /// Account, when known (set by the caller; empty in the CLI).
    pub user_id: String,
    /// Image id.
    pub image_id: String,
    /// Image digest.
    pub image_digest: String,
    /// Evaluated tag.
    pub tag: String,
    /// Final action after image lists.
    pub final_action: Action,
    /// Why.
    pub final_action_reason: FinalActionReason,
    /// The policies' decision alone (ignores image white/blacklists).
    pub policy_final_action: Action,
    /// The mapping that selected the policies.
    pub matched_mapping: Option<Value>,
    /// The `whitelisted_images` entry that matched.
    pub matched_whitelisted_image: Option<Value>,
    /// The `blacklisted_images` entry that matched.
    pub matched_blacklisted_image: Option<Value>,
    /// Result rows.
    pub rows: Vec<Row>,
    /// Whitelist items of the matched mapping that suppressed nothing.
    pub stale_whitelist_items: Vec<StaleWhitelistItem>,
    /// Problems met while evaluating.
    pub evaluation_problems: Vec<ValidationProblem>,
    /// Evaluation time.
    pub evaluated_at: DateTime<Utc>,
    /// The bundle JSON used.
    pub bundle: Value,
}

impl Evaluation {
    /// `pass` for GO or WARN, `fail` for STOP.
    pub fn status(&self) -> &'static str {
        if self.final_action == Action::Stop {
            "fail"
        } else {
            "pass"
        }
    }

    /// The §3.6 `detail.result` document.
    pub fn to_anchore_json(&self) -> Value {
        let epoch = self.evaluated_at.timestamp();
        json!({
            "user_id": self.user_id,
            "image_id": self.image_id,
            "tag": self.tag,
            "bundle": self.bundle,
            "matched_mapping_rule": self.matched_mapping.clone().unwrap_or(Value::Bool(false)),
            "matched_whitelisted_images_rule": self.matched_whitelisted_image.clone().unwrap_or(Value::Bool(false)),
            "matched_blacklisted_images_rule": self.matched_blacklisted_image.clone().unwrap_or(Value::Bool(false)),
            "final_action": self.final_action.as_str(),
            "final_action_reason": self.final_action_reason.as_str(),
            "created_at": epoch,
            "last_modified": epoch,
            "evaluation_problems": self.evaluation_problems,
            "image_digest": self.image_digest,
            "status": self.status(),
            "result": {
                self.image_id.clone(): {
                    "result": {
                        "header": RESULT_HEADER,
                        "row_count": self.rows.len(),
                        "rows": self.rows.iter().map(Row::to_anchore_json).collect::<Vec<_>>(),
                        "final_action": self.policy_final_action.as_str(),
                    }
                },
                "policy_data": [],
                "whitelist_data": [],
                "policy_name": "",
                "whitelist_names": [],
            },
        })
    }
}

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
