//! Table-driven tests of mapping selection, whitelists and image lists; the default bundle;
//! the §3.6 document; embedded bundle tests.

use anchorage_policy::{
    Action, FinalActionReason, RESULT_HEADER, default_bundle, evaluate, render_table,
    run_bundle_tests,
};
use serde_json::{Value, json};

use crate::support::{Scenario, bundle_with, now, rule, valid};

const DIGEST: &str = "sha256:6a3047751dbaef0fa4d8998c6cfffb1d77f6100e85bebf039997c612940c590f";
const IMAGE_ID: &str = "bddc39aa9ab38accde2a00c52fa2a3856fc65836bca81b15c7d99d2cc784141e";

fn mapping(name: &str, registry: &str, repo: &str, kind: &str, value: &str, policy: &str) -> Value {
    json!({"name": name, "registry": registry, "repository": repo, "image": {"type": kind, "value": value},
           "policy_id": policy, "whitelist_ids": []})
}

/// Bundle with policies `stop` (always STOP) and `warn` (always WARN) and the given mappings.
fn two_policy_bundle(mappings: Vec<Value>) -> Value {
    json!({
        "id": "b", "version": "1_0",
        "policies": [
            {"id": "stop", "version": "1_0", "rules": rule("always", "always", "STOP", &[])},
            {"id": "warn", "version": "1_0", "rules": rule("always", "always", "WARN", &[])}
        ],
        "whitelists": [],
        "mappings": mappings
    })
}

#[test]
fn mapping_selection_table() {
    let sc = Scenario::alpine();
    assert_eq!(
        sc.input().image_digest,
        DIGEST,
        "digest comes from the real image"
    );
    assert_eq!(sc.input().image_id, IMAGE_ID);
    // (mappings, tag, expected final action, expected matched mapping name)
    let cases: Vec<(Vec<Value>, &str, Action, Option<&str>)> = vec![
        (
            vec![mapping("m", "*", "*", "tag", "*", "stop")],
            "docker.io/library/alpine:3.20",
            Action::Stop,
            Some("m"),
        ),
        (
            vec![
                mapping("first", "docker.io", "library/*", "tag", "3.*", "warn"),
                mapping("second", "*", "*", "tag", "*", "stop"),
            ],
            "docker.io/library/alpine:3.20",
            Action::Warn,
            Some("first"),
        ),
        (
            vec![
                mapping("first", "quay.io", "*", "tag", "*", "warn"),
                mapping("second", "*", "*", "tag", "*", "stop"),
            ],
            "docker.io/library/alpine:3.20",
            Action::Stop,
            Some("second"),
        ),
        (
            vec![mapping(
                "re",
                "*",
                "regexp:library/(alpine|debian)$",
                "tag",
                "regexp:3\\.[0-9]+",
                "warn",
            )],
            "docker.io/library/alpine:3.20",
            Action::Warn,
            Some("re"),
        ),
        (
            vec![mapping(
                "re",
                "*",
                "regexp:library/debian$",
                "tag",
                "*",
                "warn",
            )],
            "docker.io/library/alpine:3.20",
            Action::Go,
            None,
        ),
        (
            vec![mapping("dig", "*", "*", "digest", DIGEST, "stop")],
            "docker.io/library/alpine:3.20",
            Action::Stop,
            Some("dig"),
        ),
        (
            vec![mapping(
                "dig",
                "*",
                "*",
                "digest",
                "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                "stop",
            )],
            "docker.io/library/alpine:3.20",
            Action::Go,
            None,
        ),
        (
            vec![mapping("id", "*", "*", "id", IMAGE_ID, "warn")],
            "docker.io/library/alpine:3.20",
            Action::Warn,
            Some("id"),
        ),
        (
            vec![mapping("tag-by-id", "*", "*", "tag", IMAGE_ID, "warn")],
            "docker.io/library/alpine:3.20",
            Action::Warn,
            Some("tag-by-id"),
        ),
        (
            vec![mapping(
                "exact",
                "docker.io",
                "library/alpine",
                "tag",
                "3.19",
                "stop",
            )],
            "docker.io/library/alpine:3.20",
            Action::Go,
            None,
        ),
        (
            vec![mapping(
                "hub",
                "docker.io",
                "library/alpine",
                "tag",
                "3.20",
                "stop",
            )],
            "dockerhub/library/alpine:3.20",
            Action::Stop,
            Some("hub"),
        ),
        // anchore-v1 §2.1: Docker Hub names get no `library/` insertion, so a rule written
        // the Anchore way matches `docker.io/alpine:3.12` and a bare `alpine:3.12`.
        (
            vec![
                mapping("hub-alpine", "docker.io", "alpine", "tag", "*", "stop"),
                mapping("rest", "*", "*", "tag", "*", "warn"),
            ],
            "docker.io/alpine:3.12",
            Action::Stop,
            Some("hub-alpine"),
        ),
        (
            vec![
                mapping("hub-alpine", "docker.io", "alpine", "tag", "3.12", "stop"),
                mapping("rest", "*", "*", "tag", "*", "warn"),
            ],
            "alpine:3.12",
            Action::Stop,
            Some("hub-alpine"),
        ),
        (
            vec![
                mapping("lib", "docker.io", "library/*", "tag", "*", "stop"),
                mapping("rest", "*", "*", "tag", "*", "warn"),
            ],
            "alpine:3.12",
            Action::Warn,
            Some("rest"),
        ),
        (
            vec![
                mapping("local", "localbuild", "app", "tag", "1", "stop"),
                mapping("rest", "*", "*", "tag", "*", "warn"),
            ],
            "localbuild/app:1",
            Action::Stop,
            Some("local"),
        ),
        (
            vec![
                mapping("local", "localhost.localdomain", "app", "tag", "1", "stop"),
                mapping("rest", "*", "*", "tag", "*", "warn"),
            ],
            "localhost.localdomain/app:1",
            Action::Stop,
            Some("local"),
        ),
        (
            vec![
                mapping("local", "localhost", "team/app", "tag", "*", "stop"),
                mapping("rest", "*", "*", "tag", "*", "warn"),
            ],
            "localhost/team/app",
            Action::Stop,
            Some("local"),
        ),
        (
            vec![mapping("notag", "*", "*", "tag", "*", "warn")],
            "",
            Action::Warn,
            Some("notag"),
        ),
    ];
    for (i, (mappings, tag, want, name)) in cases.into_iter().enumerate() {
        let mut sc = Scenario::alpine();
        sc.tag = tag.into();
        let e = sc.eval(&two_policy_bundle(mappings));
        assert_eq!(e.final_action, want, "case {i}");
        assert_eq!(
            e.matched_mapping.as_ref().and_then(|m| m["name"].as_str()),
            name,
            "case {i}"
        );
        assert_eq!(e.final_action_reason, FinalActionReason::PolicyEvaluation);
    }
}

#[test]
fn mapping_with_policy_ids_takes_worst_policy() {
    let mut m = mapping("both", "*", "*", "tag", "*", "warn");
    m.as_object_mut().unwrap().remove("policy_id");
    m["policy_ids"] = json!(["warn", "stop"]);
    let e = Scenario::alpine().eval(&two_policy_bundle(vec![m]));
    assert_eq!(e.final_action, Action::Stop);
    assert_eq!(e.rows.len(), 2);
}

#[test]
fn whitelist_table() {
    let sc = Scenario::bookworm_app();
    let rules = rule(
        "vulnerabilities",
        "package",
        "STOP",
        &[
            ("package_type", "all"),
            ("severity_comparison", ">="),
            ("severity", "high"),
        ],
    );
    let stop_rows = sc.eval(&bundle_with(rules.clone(), json!([]))).rows;
    let ids: Vec<String> = stop_rows.iter().map(|r| r.trigger_id.clone()).collect();
    assert!(ids.len() >= 2);
    let all_wl: Vec<Value> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| json!({"id": format!("i{i}"), "gate": "vulnerabilities", "trigger_id": id}))
        .collect();
    // (items, expected action, expected whitelisted row count, expected stale count)
    let cases: Vec<(Value, Action, usize, usize)> = vec![
        (json!([]), Action::Stop, 0, 0),
        (
            json!([{"id": "x", "gate": "vulnerabilities", "trigger_id": ids[0]}]),
            Action::Stop,
            1,
            0,
        ),
        (Value::Array(all_wl.clone()), Action::Go, ids.len(), 0),
        (
            json!([{"id": "star", "gate": "vulnerabilities", "trigger_id": "*"}]),
            Action::Go,
            ids.len(),
            0,
        ),
        (
            json!([{"id": "star", "gate": "VULNERABILITIES", "trigger_id": "CVE-*+*"}]),
            Action::Go,
            ids.len(),
            0,
        ),
        (
            json!([{"id": "gate", "gate": "packages", "trigger_id": "*"}]),
            Action::Stop,
            0,
            1,
        ),
        (
            json!([{"id": "old", "gate": "vulnerabilities", "trigger_id": "*", "expires_on": "2020-01-01T00:00:00Z"}]),
            Action::Stop,
            0,
            1,
        ),
        (
            json!([{"id": "future", "gate": "vulnerabilities", "trigger_id": "*", "expires_on": "2099-01-01T00:00:00Z"}]),
            Action::Go,
            ids.len(),
            0,
        ),
        (
            json!([{"id": "none", "gate": "vulnerabilities", "trigger_id": "CVE-1999-0001+openssl"}, {"id": "star", "gate": "vulnerabilities", "trigger_id": "*"}]),
            Action::Go,
            ids.len(),
            1,
        ),
    ];
    for (i, (items, want, wl_rows, stale)) in cases.into_iter().enumerate() {
        let e = sc.eval(&bundle_with(rules.clone(), items));
        assert_eq!(e.final_action, want, "case {i}");
        assert_eq!(
            e.rows.iter().filter(|r| r.whitelisted.is_some()).count(),
            wl_rows,
            "case {i}"
        );
        assert_eq!(
            e.stale_whitelist_items.len(),
            stale,
            "case {i}: {:?}",
            e.stale_whitelist_items
        );
        // whitelisted rows keep the rule's action
        assert!(e.rows.iter().all(|r| r.action == Action::Stop));
    }
    let e = sc.eval(&bundle_with(rules, json!([{"id": "old", "gate": "vulnerabilities", "trigger_id": "*", "expires_on": "2020-01-01T00:00:00Z"}])));
    assert!(e.stale_whitelist_items[0].expired);
}

#[test]
fn image_list_precedence_table() {
    let entry = |repo: &str| json!({"name": "e", "registry": "*", "repository": repo, "image": {"type": "tag", "value": "*"}});
    let by_digest = json!({"name": "d", "registry": "*", "repository": "*", "image": {"type": "digest", "value": DIGEST}});
    // (policy action, whitelisted_images, blacklisted_images, final, reason, policy-only action)
    let cases = vec![
        (
            "STOP",
            json!([]),
            json!([]),
            Action::Stop,
            FinalActionReason::PolicyEvaluation,
            Action::Stop,
        ),
        (
            "STOP",
            json!([entry("alpine")]),
            json!([]),
            Action::Go,
            FinalActionReason::Whitelisted,
            Action::Stop,
        ),
        (
            "GO",
            json!([]),
            json!([entry("alp*")]),
            Action::Stop,
            FinalActionReason::Blacklisted,
            Action::Go,
        ),
        (
            "WARN",
            json!([entry("*")]),
            json!([by_digest.clone()]),
            Action::Stop,
            FinalActionReason::Blacklisted,
            Action::Warn,
        ),
        (
            "WARN",
            json!([by_digest]),
            json!([entry("debian")]),
            Action::Go,
            FinalActionReason::Whitelisted,
            Action::Warn,
        ),
        (
            "WARN",
            json!([entry("other/*")]),
            json!([entry("debian")]),
            Action::Warn,
            FinalActionReason::PolicyEvaluation,
            Action::Warn,
        ),
    ];
    for (i, (action, wl, bl, want, reason, policy_only)) in cases.into_iter().enumerate() {
        let mut b = bundle_with(rule("always", "always", action, &[]), json!([]));
        b["whitelisted_images"] = wl;
        b["blacklisted_images"] = bl;
        let e = Scenario::alpine().eval(&b);
        assert_eq!(
            (e.final_action, e.final_action_reason, e.policy_final_action),
            (want, reason, policy_only),
            "case {i}"
        );
        assert_eq!(
            e.status(),
            if want == Action::Stop { "fail" } else { "pass" }
        );
    }
}

#[test]
fn default_bundle_fails_image_with_high_findings() {
    let sc = Scenario::bookworm_app();
    let e = sc.eval(&default_bundle());
    assert_eq!(e.final_action, Action::Stop);
    assert_eq!(e.bundle_id, "2c53a13c-1765-11e8-82ef-23527761d060");
    assert!(
        e.rows
            .iter()
            .any(|r| r.action == Action::Stop && r.check_output.starts_with("HIGH "))
    );
    assert!(e.rows.iter().any(|r| r.trigger == "instruction"));
}

#[test]
fn default_bundle_passes_clean_image() {
    let e = Scenario::alpine().eval(&default_bundle());
    // Only the missing HEALTHCHECK warns; the image passes.
    assert_eq!(e.final_action, Action::Warn, "{:?}", e.rows);
    assert_eq!(e.status(), "pass");
    assert_eq!(e.rows.len(), 1);
}

#[test]
fn anchore_result_document_shape() {
    let sc = Scenario::bookworm_app();
    let e = sc.eval(&default_bundle());
    let doc = e.to_anchore_json();
    assert_eq!(doc["final_action"], "stop");
    assert_eq!(doc["final_action_reason"], "policy_evaluation");
    assert_eq!(doc["status"], "fail");
    assert_eq!(doc["matched_whitelisted_images_rule"], false);
    assert_eq!(doc["matched_mapping_rule"]["name"], "default");
    let image_id = e.image_id.clone();
    let table = &doc["result"][&image_id]["result"];
    assert_eq!(table["header"], json!(RESULT_HEADER));
    assert_eq!(
        table["header"],
        json!([
            "Image_Id",
            "Repo_Tag",
            "Trigger_Id",
            "Gate",
            "Trigger",
            "Check_Output",
            "Gate_Action",
            "Whitelisted",
            "Policy_Id"
        ])
    );
    assert_eq!(table["row_count"], e.rows.len());
    for row in table["rows"].as_array().unwrap() {
        let row = row.as_array().unwrap();
        assert_eq!(row.len(), 9);
        assert_eq!(row[0], image_id.as_str());
        assert_eq!(row[1], sc.tag.as_str());
        assert!(["go", "warn", "stop"].contains(&row[6].as_str().unwrap()));
        assert_eq!(row[7], false);
        assert_eq!(row[8], "48e6f7d6-1765-11e8-b5f9-8b6f228548b6");
    }
    assert_eq!(table["final_action"], "stop");
    let text = render_table(&e);
    assert!(text.contains("Final Action: stop"));
    assert!(text.contains("why: rule vuln-above-medium-stop fired on package"));
}

#[test]
fn md5_trigger_ids_are_stable() {
    let e = Scenario::alpine().fire(
        "dockerfile",
        "instruction",
        &[("instruction", "HEALTHCHECK"), ("check", "not_exists")],
    );
    let msg = "Dockerfile directive 'HEALTHCHECK' not found, matching condition 'not_exists' check";
    assert_eq!(e.rows[0].check_output, msg);
    // Reference value computed independently with Python's hashlib.md5 over
    // "dockerfile" + "instruction" + message.
    assert_eq!(e.rows[0].trigger_id, "41cb7cdf04850e33a11f80c42bf660b3");
}

#[test]
fn bundle_tests_run_with_inline_and_loaded_fixtures() {
    let sc = Scenario::bookworm_app();
    let mut bundle = default_bundle();
    bundle["tests"] = json!([
        {"name": "app fails", "analysis": "app.json", "findings": "findings.json", "feeds": sc.feeds,
         "tag": sc.tag, "now": "2026-11-28T00:00:00Z",
         "expect": {"final_action": "STOP",
                    "fired": [{"gate": "vulnerabilities", "trigger": "package", "trigger_id": "CVE-2023-43804+urllib3-1.23"}],
                    "not_fired": [{"gate": "dockerfile", "trigger": "exposed_ports"}]}},
        {"name": "wrong expectation", "analysis": serde_json::to_value(&sc.analysis).unwrap(), "tag": sc.tag,
         "expect": {"final_action": "go", "fired": [{"gate": "always", "trigger": "always"}]}},
        {"name": "missing fixture", "analysis": "nope.json", "tag": "x", "expect": {"final_action": "go"}},
        {"name": "bad case", "tag": "x"}
    ]);
    let analysis = serde_json::to_value(&sc.analysis).unwrap();
    let findings = serde_json::to_value(&sc.findings).unwrap();
    let load = |p: &str| match p {
        "app.json" => Ok(analysis.clone()),
        "findings.json" => Ok(findings.clone()),
        other => Err(format!("no fixture {other}")),
    };
    let results = run_bundle_tests(&bundle, &load, now()).unwrap();
    assert_eq!(results.len(), 4);
    assert!(results[0].passed, "{:?}", results[0].failures);
    assert!(!results[1].passed);
    assert_eq!(results[1].failures.len(), 2, "{:?}", results[1].failures);
    assert!(results[2].failures[0].contains("no fixture nope.json"));
    assert!(!results[3].passed);
    let bad = json!({"id": "x"});
    assert!(run_bundle_tests(&bad, &load, now()).is_err());
}

#[test]
fn explicit_policy_id_is_reported() {
    let sc = Scenario::alpine();
    let b = valid(&default_bundle());
    let mut input = sc.input();
    input.policy_id = Some("custom-id");
    assert_eq!(evaluate(&b, &input).bundle_id, "custom-id");
}

#[test]
fn invalid_stored_bundle_evaluates_to_stop_with_problems() {
    let sc = Scenario::alpine();
    let mut b = default_bundle();
    b["policies"][0]["rules"][0]["gate"] = json!("nosuchgate");
    let e = anchorage_policy::evaluate_json(&b, &sc.input());
    assert_eq!(e.final_action, Action::Stop);
    assert_eq!(e.status(), "fail");
    assert_eq!(e.evaluation_problems[0].problem_type, "GateNotFoundError");
    assert_eq!(
        e.to_anchore_json()["evaluation_problems"][0]["problem_type"],
        "GateNotFoundError"
    );
    let ok = anchorage_policy::evaluate_json(&default_bundle(), &sc.input());
    assert_eq!(ok.final_action, Action::Warn);
}

#[test]
fn synthetic_large_whitelist_is_indexed() {
    let sc = Scenario::bookworm_app();
    let rules = rule(
        "vulnerabilities",
        "package",
        "STOP",
        &[("package_type", "all")],
    );
    let fired = sc.eval(&bundle_with(rules.clone(), json!([]))).rows;
    assert!(fired.len() > 10, "{}", fired.len());
    // 90 000 exact items that match nothing, then the real ids, then one wildcard.
    let mut items: Vec<Value> = (0..90_000)
        .map(|i| json!({"id": format!("n{i}"), "gate": "vulnerabilities", "trigger_id": format!("CVE-1999-{i:05}+openssl")}))
        .collect();
    items.extend(fired.iter().enumerate().map(|(i, r)| json!({"id": format!("r{i}"), "gate": "vulnerabilities", "trigger_id": r.trigger_id})));
    items.push(json!({"id": "w", "gate": "vulnerabilities", "trigger_id": "CVE-*"}));
    let start = std::time::Instant::now();
    let b = valid(&bundle_with(rules, Value::Array(items)));
    let validated = start.elapsed();
    let e = evaluate(&b, &sc.input());
    let total = start.elapsed();
    eprintln!("90k-item whitelist: validate {validated:?}, validate+evaluate {total:?}");
    assert_eq!(e.final_action, Action::Go);
    // exact items come first in document order, so they win over the trailing wildcard
    assert!(e.rows.iter().all(|r| {
        r.whitelisted
            .as_ref()
            .is_some_and(|w| w.matched_rule_id.starts_with('r'))
    }));
    assert_eq!(e.stale_whitelist_items.len(), 90_001);
    assert!(total < std::time::Duration::from_secs(20), "{total:?}");
}

#[test]
fn synthetic_invalid_evaluation_tag_stops_with_a_problem() {
    let mut sc = Scenario::alpine();
    sc.tag = "Not A Reference!".into();
    let e = sc.eval(&two_policy_bundle(vec![mapping(
        "m", "*", "*", "tag", "*", "warn",
    )]));
    assert_eq!(e.final_action, Action::Stop);
    assert_eq!(
        e.evaluation_problems.len(),
        1,
        "{:?}",
        e.evaluation_problems
    );
    assert_eq!(e.evaluation_problems[0].problem_type, "InvalidTagError");
}
