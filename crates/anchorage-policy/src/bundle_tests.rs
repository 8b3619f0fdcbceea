//! Test cases embedded in a bundle (an Anchorage extension; Anchore ignores the `tests` key).
//! Schema documented in the crate README.

use anchorage_model::Analysis;
use anchorage_model::{Coverage, Finding, MatchReport};
use anchorage_types::FeedGroupStatus;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bundle::{Action, ValidationProblem};
use crate::eval::{Evaluation, EvaluationInput, MalwareScan, PackageFeeds, evaluate};
use crate::validate::validate;

/// One expected (or forbidden) row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedTrigger {
    /// Gate name.
    pub gate: String,
    /// Trigger name.
    pub trigger: String,
    /// Exact trigger id, when the test cares.
    #[serde(default)]
    pub trigger_id: Option<String>,
    /// Whether the row must be (or must not be) whitelisted, when the test cares.
    #[serde(default)]
    pub whitelisted: Option<bool>,
}

/// What a test case expects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expectation {
    /// Expected final action (`go`, `warn`, `stop`, any case).
    pub final_action: String,
    /// Rows that must be present.
    #[serde(default)]
    pub fired: Vec<ExpectedTrigger>,
    /// Rows that must be absent.
    #[serde(default)]
    pub not_fired: Vec<ExpectedTrigger>,
}

/// One test case: an analysis fixture (a file reference or inline), findings, a tag, and the
/// expected verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BundleTestCase {
    /// Name shown in the report.
    pub name: String,
    /// Native analysis JSON: a path (resolved by the caller's loader) or the document inline.
    pub analysis: Value,
    /// Findings: a path or inline; either a match report `{findings, coverage}` or a list.
    #[serde(default)]
    pub findings: Option<Value>,
    /// Feed group status; empty when absent.
    #[serde(default)]
    pub feeds: Vec<FeedGroupStatus>,
    /// Malware scans, if the case needs them.
    #[serde(default)]
    pub malware: Option<Vec<MalwareScan>>,
    /// The `packages` feed, if the case needs it.
    #[serde(default)]
    pub package_feeds: Option<PackageFeeds>,
    /// Full tag to evaluate for.
    pub tag: String,
    /// Evaluation time (RFC 3339); the runner's `now` when absent.
    #[serde(default)]
    pub now: Option<DateTime<Utc>>,
    /// The expectation.
    pub expect: Expectation,
}

/// The outcome of one test case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BundleTestResult {
    /// Case name (or `tests[i]` when the case could not be read).
    pub name: String,
    /// True when every expectation held.
    pub passed: bool,
    /// What did not hold.
    pub failures: Vec<String>,
    /// The evaluation, when the case could run.
    pub evaluation: Option<Evaluation>,
}

fn resolve(v: &Value, load: &dyn Fn(&str) -> Result<Value, String>) -> Result<Value, String> {
    match v {
        Value::String(path) => load(path),
        other => Ok(other.clone()),
    }
}

fn row_matches(e: &ExpectedTrigger, r: &crate::eval::Row) -> bool {
    r.gate == e.gate
        && r.trigger == e.trigger.to_lowercase()
        && e.trigger_id.as_ref().is_none_or(|id| *id == r.trigger_id)
        && e.whitelisted.is_none_or(|w| w == r.whitelisted.is_some())
}

fn describe(e: &ExpectedTrigger) -> String {
    let mut s = format!("{}/{}", e.gate, e.trigger);
    if let Some(id) = &e.trigger_id {
        s.push_str(&format!(" trigger_id={id}"));
    }
    if let Some(w) = e.whitelisted {
        s.push_str(&format!(" whitelisted={w}"));
    }
    s
}

fn run_case(
    bundle: &crate::ValidBundle,
    case: &BundleTestCase,
    load: &dyn Fn(&str) -> Result<Value, String>,
    now: DateTime<Utc>,
) -> Result<(Evaluation, Vec<String>), String> {
    let analysis: Analysis = serde_json::from_value(resolve(&case.analysis, load)?)
        .map_err(|e| format!("analysis is not a native analysis document: {e}"))?;
    let (findings, coverage): (Vec<Finding>, Coverage) = match &case.findings {
        None => (Vec::new(), Coverage::Complete),
        Some(v) => {
            let v = resolve(v, load)?;
            if v.is_array() {
                let f = serde_json::from_value(v).map_err(|e| format!("findings: {e}"))?;
                (f, Coverage::Complete)
            } else {
                let r: MatchReport =
                    serde_json::from_value(v).map_err(|e| format!("findings match report: {e}"))?;
                (r.findings, r.coverage)
            }
        }
    };
    let want = Action::parse(&case.expect.final_action).ok_or_else(|| {
        format!(
            "expect.final_action {:?} is not go, warn or stop",
            case.expect.final_action
        )
    })?;
    let mut input = EvaluationInput::new(
        &analysis,
        &findings,
        &coverage,
        &case.feeds,
        &case.tag,
        case.now.unwrap_or(now),
    );
    if let Some(m) = case.malware.as_deref() {
        input.malware = Some(m);
    }
    input.package_feeds = case.package_feeds.as_ref();
    let eval = evaluate(bundle, &input);
    let mut failures = Vec::new();
    if eval.final_action != want {
        failures.push(format!(
            "final action is {} ({}), expected {}",
            eval.final_action.as_str(),
            eval.final_action_reason.as_str(),
            want.as_str()
        ));
    }
    for e in &case.expect.fired {
        if !eval.rows.iter().any(|r| row_matches(e, r)) {
            failures.push(format!("expected {} to fire; it did not", describe(e)));
        }
    }
    for e in &case.expect.not_fired {
        if let Some(r) = eval.rows.iter().find(|r| row_matches(e, r)) {
            failures.push(format!(
                "expected {} not to fire; it fired: {}",
                describe(e),
                r.check_output
            ));
        }
    }
    Ok((eval, failures))
}

/// Run the `tests` array of a bundle. `load` resolves file references (the CLI reads them
/// relative to the bundle file); `now` is used by cases without their own `now`. An invalid
/// bundle returns its validation problems.
pub fn run_bundle_tests(
    bundle_json: &Value,
    load: &dyn Fn(&str) -> Result<Value, String>,
    now: DateTime<Utc>,
) -> Result<Vec<BundleTestResult>, Vec<ValidationProblem>> {
    let bundle = validate(bundle_json)?;
    let cases = match bundle_json.get("tests") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(a)) => a,
        Some(_) => {
            return Err(vec![ValidationProblem::error(
                "ValidationError",
                "bundle: field 'tests' must be a list",
            )]);
        }
    };
    Ok(cases
        .iter()
        .enumerate()
        .map(|(i, raw)| {
            let case: BundleTestCase = match serde_json::from_value(raw.clone()) {
                Ok(c) => c,
                Err(e) => {
                    return BundleTestResult {
                        name: raw
                            .get("name")
                            .and_then(Value::as_str)
                            .map_or_else(|| format!("tests[{i}]"), str::to_string),
                        passed: false,
                        failures: vec![format!("tests[{i}] is not a valid test case: {e}")],
                        evaluation: None,
                    };
                }
            };
            match run_case(&bundle, &case, load, now) {
                Ok((eval, failures)) => BundleTestResult {
                    name: case.name,
                    passed: failures.is_empty(),
                    failures,
                    evaluation: Some(eval),
                },
                Err(e) => BundleTestResult {
                    name: case.name,
                    passed: false,
                    failures: vec![e],
                    evaluation: None,
                },
            }
        })
        .collect())
}
