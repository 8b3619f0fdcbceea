//! The result of evaluating an image against a policy bundle: the final action, Anchore's
//! result rows and their explanations. Produced by `anchorage_policy::evaluate`.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// A rule action. Ordered worst first: `Stop < Warn < Go`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Fail the image.
    Stop,
    /// Pass with a warning.
    Warn,
    /// Pass.
    Go,
}

impl Action {
    /// Lower-case name as in Anchore's JSON (`go`, `warn`, `stop`).
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Stop => "stop",
            Action::Warn => "warn",
            Action::Go => "go",
        }
    }

    /// Parse case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "stop" => Some(Action::Stop),
            "warn" => Some(Action::Warn),
            "go" => Some(Action::Go),
            _ => None,
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().to_ascii_uppercase())
    }
}

/// One problem found in a bundle, shaped as Anchore's `validation_details` element (§3.5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ValidationProblem {
    /// Upstream exception class name, e.g. `TriggerNotFoundError`.
    pub problem_type: String,
    /// Always `error` for validation problems (`warn` for evaluation warnings).
    pub severity: String,
    /// What is wrong, naming the policy, rule, gate, trigger and parameter at fault.
    pub details: String,
}

impl ValidationProblem {
    /// An evaluation warning: the rule ran, but without some of the data it needs.
    pub fn warning(details: String) -> Self {
        Self {
            problem_type: "EvaluationWarning".to_string(),
            severity: "warn".to_string(),
            details,
        }
    }

    /// A problem of severity `error`.
    pub fn error(problem_type: &str, details: impl Into<String>) -> Self {
        Self {
            problem_type: problem_type.to_string(),
            severity: "error".to_string(),
            details: details.into(),
        }
    }
}

impl fmt::Display for ValidationProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.problem_type, self.details)
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
