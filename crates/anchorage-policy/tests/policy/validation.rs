//! Validation: every problem collected at once with Anchore's problem types; hostile input
//! (malformed JSON, wrong types, huge bundles, pathological regexes) yields problems, never a
//! panic or a hang.

use std::time::{Duration, Instant};

use anchorage_policy::{
    RawBundle, ValidationLimits, default_bundle, policy_spec, validate, validate_with_limits,
};
use serde_json::{Value, json};

use crate::support::{bundle_with, rule};

fn problems(b: &Value) -> Vec<(String, String)> {
    match validate(b) {
        Ok(_) => Vec::new(),
        Err(p) => p
            .into_iter()
            .map(|p| {
                assert_eq!(p.severity, "error");
                (p.problem_type, p.details)
            })
            .collect(),
    }
}

fn has(ps: &[(String, String)], kind: &str, needle: &str) -> bool {
    ps.iter().any(|(k, d)| k == kind && d.contains(needle))
}

#[test]
fn default_bundle_is_valid() {
    assert!(validate(&default_bundle()).is_ok());
}

#[test]
fn synthetic_bundle_with_every_kind_of_problem_reports_all_at_once() {
    let b = json!({
        "id": "b", "version": "2_0",
        "policies": [
            {"id": "p1", "version": "1_0", "rules": [
                {"id": "r1", "gate": "nosuchgate", "trigger": "x", "action": "STOP", "params": []},
                {"id": "r2", "gate": "vulnerabilities", "trigger": "nosuchtrigger", "action": "STOP", "params": []},
                {"id": "r3", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
                 "params": [{"name": "package_type", "value": "all"}, {"name": "bogus", "value": "1"}]},
                {"id": "r4", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
                 "params": [{"name": "package_type", "value": "everything"}]},
                {"id": "r5", "gate": "vulnerabilities", "trigger": "stale_feed_data", "action": "STOP", "params": []},
                {"id": "r6", "gate": "anchoresec", "trigger": "vulnhigh", "action": "STOP", "params": []},
                {"id": "r7", "gate": "always", "trigger": "always", "action": "MAYBE", "params": []},
                {"id": "r8", "gate": "files", "trigger": "name_match", "action": "WARN", "params": [{"name": "regex", "value": "(unclosed"}]},
                {"id": "r9", "gate": "vulnerabilities", "trigger": "package", "action": "WARN",
                 "params": [{"name": "package_type", "value": "os"}, {"name": "cvss_v3_base_score", "value": "high"}]},
                {"id": "r10", "gate": "Always", "trigger": "always", "action": "go"}
            ]},
            {"id": "p1", "version": "1_0", "rules": []},
            {"id": "p2", "version": "0_9", "rules": []}
        ],
        "whitelists": [{"id": "w1", "version": "1_0", "items": [
            {"id": "i1", "gate": "vulnerabilities", "trigger_id": "x", "expires_on": "tomorrow"}
        ]}],
        "mappings": [
            {"name": "m1", "registry": "*", "repository": "*", "image": {"type": "tag", "value": "*"},
             "policy_id": "p1", "whitelist_ids": ["w1", "w9"]},
            {"name": "m2", "registry": "*", "repository": "*", "image": {"type": "label", "value": "*"},
             "policy_id": "p404", "policy_ids": ["p2"]}
        ]
    });
    let ps = problems(&b);
    let expect = [
        ("UnsupportedVersionError", "bundle: version '2_0'"),
        ("UnsupportedVersionError", "policy 'p2': version '0_9'"),
        (
            "GateNotFoundError",
            "rule 'r1': gate 'nosuchgate' not found",
        ),
        (
            "TriggerNotFoundError",
            "rule 'r2': gate 'vulnerabilities' has no trigger 'nosuchtrigger'",
        ),
        (
            "InvalidParameterError",
            "rule 'r3' (vulnerabilities/package): parameter 'bogus' is not valid",
        ),
        (
            "ParameterValueInvalidError",
            "rule 'r4' (vulnerabilities/package): parameter 'package_type' value \"everything\"",
        ),
        (
            "ParameterValueInvalidError",
            "rule 'r5' (vulnerabilities/stale_feed_data): required parameter 'max_days_since_sync' is missing",
        ),
        (
            "EndOfLifedError",
            "rule 'r6': gate 'anchoresec' is end-of-life; use gate 'vulnerabilities' instead",
        ),
        ("InvalidGateAction", "rule 'r7': action 'MAYBE'"),
        (
            "ParameterValueInvalidError",
            "rule 'r8' (files/name_match): parameter 'regex'",
        ),
        (
            "ParameterValueInvalidError",
            "rule 'r9' (vulnerabilities/package): parameter 'cvss_v3_base_score'",
        ),
        ("GateNotFoundError", "rule 'r10': gate 'Always' not found"),
        (
            "DuplicateIdentifierFoundError",
            "policy id 'p1' is used 2 times",
        ),
        ("ValidationError", "item 'i1': expires_on \"tomorrow\""),
        (
            "ReferencedObjectNotFoundError",
            "mapping 'm1': referenced whitelist 'w9'",
        ),
        (
            "ReferencedObjectNotFoundError",
            "mapping 'm1': referenced policy 'p1'",
        ),
        ("ValidationError", "mapping 'm2': image type 'label'"),
        (
            "ValidationError",
            "mapping 'm2': give exactly one of 'policy_id' and 'policy_ids'",
        ),
    ];
    for (kind, needle) in expect {
        assert!(
            has(&ps, kind, needle),
            "missing {kind}: {needle}\n got {ps:#?}"
        );
    }
}

#[test]
fn trigger_and_param_names_are_case_insensitive() {
    let b = bundle_with(
        json!([{"id": "r", "gate": "vulnerabilities", "trigger": "Package", "action": "stop",
                "params": [{"name": "PACKAGE_TYPE", "value": "all"}]}]),
        json!([]),
    );
    assert!(problems(&b).is_empty());
}

#[test]
fn synthetic_malformed_json_and_wrong_types() {
    let limits = ValidationLimits::default();
    let err = RawBundle::parse("{\"id\": \"x\", ", &limits).unwrap_err();
    assert_eq!(err[0].problem_type, "ValidationError");
    assert!(
        err[0].details.contains("not valid JSON"),
        "{}",
        err[0].details
    );
    let deep = "[".repeat(100_000);
    assert!(RawBundle::parse(&deep, &limits).is_err());

    for b in [json!(null), json!([]), json!("bundle"), json!(42)] {
        assert!(
            has(
                &problems(&b),
                "ValidationError",
                "bundle: must be an object"
            ),
            "{b}"
        );
    }
    let ps = problems(&json!({"id": 5, "version": "1_0", "policies": {}, "mappings": "all"}));
    assert!(
        has(
            &ps,
            "ValidationError",
            "field 'id' must be a string, got a number"
        ),
        "{ps:?}"
    );
    assert!(
        has(&ps, "ValidationError", "field 'policies' must be a list"),
        "{ps:?}"
    );
    assert!(
        has(&ps, "ValidationError", "field 'mappings' must be a list"),
        "{ps:?}"
    );
    let ps = problems(&json!({}));
    for f in ["id", "version", "policies", "mappings"] {
        assert!(
            has(
                &ps,
                "ValidationError",
                &format!("required field '{f}' is missing")
            ),
            "{f}: {ps:?}"
        );
    }
    let b = bundle_with(
        json!([{"id": "r", "gate": "always", "trigger": "always", "action": "GO", "params": [{"name": "x", "value": {"a": 1}}, 7]}]),
        json!([]),
    );
    let ps = problems(&b);
    assert!(
        has(
            &ps,
            "ValidationError",
            "field 'value' must be a string, got an object"
        ),
        "{ps:?}"
    );
    assert!(
        has(
            &ps,
            "ValidationError",
            "params[1]: must be an object, got a number"
        ),
        "{ps:?}"
    );
}

#[test]
fn synthetic_huge_bundle_is_refused_quickly() {
    let start = Instant::now();
    let rules: Vec<Value> = (0..150_001)
        .map(|i| json!({"id": format!("r{i}"), "gate": "always", "trigger": "always", "action": "GO"}))
        .collect();
    let ps = problems(&bundle_with(Value::Array(rules), json!([])));
    assert!(
        has(&ps, "ValidationError", "over the limit of 100000"),
        "{ps:?}"
    );
    let limits = ValidationLimits {
        max_bundle_bytes: 100,
        ..ValidationLimits::default()
    };
    let text = serde_json::to_string(&default_bundle()).unwrap();
    assert!(
        RawBundle::parse(&text, &limits).unwrap_err()[0]
            .details
            .contains("over the limit of 100 bytes")
    );
    let long = "a".repeat(70_000);
    let ps = problems(&bundle_with(
        rule("packages", "blacklist", "STOP", &[("name", &long)]),
        json!([]),
    ));
    assert!(
        has(&ps, "ValidationError", "over the limit of 65536 bytes"),
        "{ps:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn synthetic_problem_count_is_capped() {
    let rules: Vec<Value> = (0..3000)
        .map(|i| json!({"id": format!("r{i}"), "gate": "nope", "trigger": "x", "action": "GO"}))
        .collect();
    let limits = ValidationLimits {
        max_problems: 50,
        ..ValidationLimits::default()
    };
    let ps =
        validate_with_limits(&bundle_with(Value::Array(rules), json!([])), &limits).unwrap_err();
    assert_eq!(ps.len(), 51);
    assert_eq!(ps[50].details, "2950 more problems not shown");
}

#[test]
fn synthetic_pathological_regexes_are_rejected_or_linear() {
    let start = Instant::now();
    // Compiles too big: rejected with the rule and parameter named.
    let ps = problems(&bundle_with(
        rule(
            "files",
            "name_match",
            "STOP",
            &[("regex", "(((a{100}){100}){100})")],
        ),
        json!([]),
    ));
    assert!(
        has(
            &ps,
            "ParameterValueInvalidError",
            "rule 'files-name_match' (files/name_match): parameter 'regex'"
        ),
        "{ps:?}"
    );
    assert!(ps[0].1.contains("size limit"), "{ps:?}");
    // Look-around / back-references are not supported by the linear-time engine.
    let ps = problems(&bundle_with(
        rule("files", "name_match", "STOP", &[("regex", r"(a)\1")]),
        json!([]),
    ));
    assert!(
        has(&ps, "ParameterValueInvalidError", "parameter 'regex'"),
        "{ps:?}"
    );
    // Catastrophic-backtracking classics evaluate in linear time.
    let b = bundle_with(
        rule(
            "retrieved_files",
            "content_regex",
            "STOP",
            &[
                ("path", "/etc/passwd"),
                ("regex", "(a+)+$"),
                ("check", "match"),
            ],
        ),
        json!([]),
    );
    let mut sc = crate::support::Scenario::alpine();
    use base64::Engine as _;
    sc.analysis.retrieved_files[0].content_b64 =
        base64::engine::general_purpose::STANDARD.encode(format!("{}!", "a".repeat(200_000)));
    let e = sc.eval(&b);
    assert!(e.rows.is_empty());
    // Mapping patterns too.
    let mut b = bundle_with(json!([]), json!([]));
    b["mappings"][0]["repository"] = json!("regexp:(x{1000}){1000}");
    let ps = problems(&b);
    assert!(
        has(
            &ps,
            "ValidationError",
            "mapping 'all': field 'repository' pattern"
        ),
        "{ps:?}"
    );
    assert!(start.elapsed() < Duration::from_secs(30));
}

#[test]
fn dependent_params_are_checked() {
    let ps = problems(&bundle_with(
        rule(
            "dockerfile",
            "instruction",
            "STOP",
            &[("instruction", "USER"), ("check", "=")],
        ),
        json!([]),
    ));
    assert!(
        has(
            &ps,
            "ParameterValueInvalidError",
            "parameter 'value': required when check is '='"
        ),
        "{ps:?}"
    );
    let ps = problems(&bundle_with(
        rule(
            "metadata",
            "attribute",
            "STOP",
            &[("attribute", "size"), ("check", ">"), ("value", "big")],
        ),
        json!([]),
    ));
    assert!(
        has(&ps, "ParameterValueInvalidError", "parameter 'value'"),
        "{ps:?}"
    );
    let ps = problems(&bundle_with(
        rule(
            "dockerfile",
            "instruction",
            "STOP",
            &[("instruction", "USER"), ("check", "like"), ("value", "[")],
        ),
        json!([]),
    ));
    assert!(
        has(&ps, "ParameterValueInvalidError", "parameter 'value'"),
        "{ps:?}"
    );
    assert!(
        problems(&bundle_with(
            rule(
                "metadata",
                "attribute",
                "STOP",
                &[("attribute", "size"), ("check", ">"), ("value", "10 GB")]
            ),
            json!([])
        ))
        .is_empty()
    );
}

#[test]
fn spec_drives_validation() {
    // Every parameter in the spec is accepted by validation with its example value, and every
    // required one is reported when missing.
    let spec = policy_spec();
    let mut checked = 0;
    for g in spec
        .as_array()
        .unwrap()
        .iter()
        .filter(|g| g["state"] == "active")
    {
        for t in g["triggers"].as_array().unwrap() {
            let params: Vec<(String, String)> = t["parameters"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|p| p["required"] == true)
                .map(|p| {
                    (
                        p["name"].as_str().unwrap().to_string(),
                        p["example"].as_str().unwrap().to_string(),
                    )
                })
                .collect();
            let refs: Vec<(&str, &str)> = params
                .iter()
                .map(|(a, b)| (a.as_str(), b.as_str()))
                .collect();
            let gate = g["name"].as_str().unwrap();
            let trigger = t["name"].as_str().unwrap();
            let ps = problems(&bundle_with(rule(gate, trigger, "WARN", &refs), json!([])));
            let only_value_missing = ps.iter().all(|(k, d)| {
                k == "ParameterValueInvalidError" && d.contains("parameter 'value': required")
            });
            assert!(
                ps.is_empty() || only_value_missing,
                "{gate}/{trigger}: {ps:?}"
            );
            for (name, _) in &params {
                let without: Vec<(&str, &str)> =
                    refs.iter().copied().filter(|(n, _)| n != name).collect();
                let ps = problems(&bundle_with(
                    rule(gate, trigger, "WARN", &without),
                    json!([]),
                ));
                assert!(
                    has(
                        &ps,
                        "ParameterValueInvalidError",
                        &format!("required parameter '{name}' is missing")
                    ),
                    "{gate}/{trigger}"
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 40, "{checked}");
}

#[test]
fn synthetic_unknown_keys_in_rules_params_and_items_are_reported() {
    let b = bundle_with(
        json!([{"id": "r", "gate": "secret_scans", "trigger": "content_regex_checks", "action": "STOP",
                "parms": [{"name": "match_type", "value": "notfound"}], "recommendation": "rotate the key",
                "params": [{"name": "match_type", "value": "found", "vaule": "x"}]}]),
        json!([{"id": "i", "gate": "always", "trigger_id": "always", "expires": "2030-01-01T00:00:00Z"}]),
    );
    let ps = problems(&b);
    assert!(
        has(&ps, "ValidationError", "rule 'r': unknown field 'parms'"),
        "{ps:?}"
    );
    assert!(
        has(&ps, "ValidationError", "params[0]: unknown field 'vaule'"),
        "{ps:?}"
    );
    assert!(
        has(&ps, "ValidationError", "items[0]: unknown field 'expires'"),
        "{ps:?}"
    );
    assert_eq!(ps.len(), 3, "{ps:?}");
}

#[test]
fn synthetic_dependent_params_are_checked_when_the_rule_has_another_problem() {
    // An unknown parameter and a missing `value` for `check: =`: both are reported.
    let ps = problems(&bundle_with(
        rule(
            "dockerfile",
            "instruction",
            "STOP",
            &[("instruction", "USER"), ("check", "="), ("colour", "red")],
        ),
        json!([]),
    ));
    assert!(
        has(&ps, "InvalidParameterError", "parameter 'colour'"),
        "{ps:?}"
    );
    assert!(
        has(
            &ps,
            "ParameterValueInvalidError",
            "parameter 'value': required when check is '='"
        ),
        "{ps:?}"
    );
    // A bad `attribute` value and a bad `like` regex in one rule: both are reported, and the
    // invalid `check` of a third rule yields one problem, not a spurious cross-check.
    let ps = problems(&bundle_with(
        json!([
            {"id": "r1", "gate": "metadata", "trigger": "attribute", "action": "STOP",
             "params": [{"name": "attribute", "value": "colour"}, {"name": "check", "value": "like"},
                        {"name": "value", "value": "("}]},
            {"id": "r2", "gate": "dockerfile", "trigger": "instruction", "action": "STOP",
             "params": [{"name": "instruction", "value": "USER"}, {"name": "check", "value": "bogus"}]}
        ]),
        json!([]),
    ));
    assert!(
        has(&ps, "ParameterValueInvalidError", "parameter 'attribute'"),
        "{ps:?}"
    );
    assert!(
        has(
            &ps,
            "ParameterValueInvalidError",
            "r1' (metadata/attribute): parameter 'value'"
        ),
        "{ps:?}"
    );
    let r2: Vec<_> = ps.iter().filter(|(_, d)| d.contains("'r2'")).collect();
    assert_eq!(r2.len(), 1, "{ps:?}");
}
