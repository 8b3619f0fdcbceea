//! Anchore policy bundles: raw -> validated -> evaluated. Pure; no I/O.
//!
//! - [`validate`] turns bundle JSON into a [`ValidBundle`], collecting every problem with
//!   Anchore's `problem_type` names (anchore-v1.md §3.5, §4.1);
//! - [`evaluate`] runs a bundle against one (image, tag): mapping selection, every gate and
//!   trigger of §5, whitelists, image lists and the final action (§4.2-4.5), returning an
//!   [`Evaluation`] whose [`Evaluation::to_anchore_json`] is the §3.6 `detail.result` document;
//! - [`default_bundle`] is the §4.6 bundle; [`policy_spec`] the `GET system/policy_spec` data,
//!   generated from the same table that validates;
//! - [`run_bundle_tests`] runs test cases embedded in a bundle (see README.md).

mod bundle;
mod bundle_tests;
mod default_bundle;
mod eval;
mod gates;
mod input;
mod pattern;
mod spec;
mod validate;

pub use bundle::{Action, ValidBundle, ValidationProblem};
pub use bundle_tests::{
    BundleTestCase, BundleTestResult, Expectation, ExpectedTrigger, run_bundle_tests,
};
pub use default_bundle::{DEFAULT_BUNDLE_ID, default_bundle};
pub use eval::{
    Evaluation, EvaluationInput, Explanation, FeedPackage, FinalActionReason, MalwareFinding,
    MalwareScan, PackageFeeds, RESULT_HEADER, Row, StaleWhitelistItem, WhitelistMatch, evaluate,
    evaluate_json, render_table,
};
pub use spec::policy_spec;
pub use validate::{RawBundle, ValidationLimits, validate, validate_with_limits};

/// The `policy_spec` entry of one gate, or `None` when no gate has that name.
pub fn gate_spec(name: &str) -> Option<serde_json::Value> {
    spec::gate(name).map(spec::gate_json)
}
