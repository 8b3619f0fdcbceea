//! Property: adding a whitelist item never makes the final action worse (never turns GO into
//! STOP, nor WARN into STOP, nor GO into WARN).

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::{Scenario, bundle_with};

fn rules() -> Value {
    json!([
        {"id": "hi", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
         "params": [{"name": "package_type", "value": "all"}, {"name": "severity_comparison", "value": ">="}, {"name": "severity", "value": "high"}]},
        {"id": "low", "gate": "vulnerabilities", "trigger": "package", "action": "WARN",
         "params": [{"name": "package_type", "value": "all"}, {"name": "severity_comparison", "value": "<"}, {"name": "severity", "value": "high"}]},
        {"id": "hc", "gate": "dockerfile", "trigger": "instruction", "action": "WARN",
         "params": [{"name": "instruction", "value": "HEALTHCHECK"}, {"name": "check", "value": "not_exists"}]},
        {"id": "suid", "gate": "files", "trigger": "suid_or_guid_set", "action": "STOP", "params": []},
        {"id": "go", "gate": "always", "trigger": "always", "action": "GO", "params": []}
    ])
}

fn item_strategy() -> impl Strategy<Value = (String, String, Option<bool>)> {
    let gates = prop::sample::select(vec![
        "vulnerabilities",
        "dockerfile",
        "files",
        "always",
        "packages",
        "VULNERABILITIES",
    ]);
    let ids = prop_oneof![
        Just("*".to_string()),
        Just("always".to_string()),
        Just("CVE-2023-43804+urllib3-1.23".to_string()),
        Just("CVE-*+urllib3*".to_string()),
        Just("regexp:CVE-20(2|1)".to_string()),
        "[A-Za-z0-9*+.-]{0,12}",
    ];
    (gates, ids, prop::option::of(any::<bool>())).prop_map(|(g, i, e)| (g.to_string(), i, e))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn adding_a_whitelist_item_never_worsens_the_verdict(
        existing in prop::collection::vec(item_strategy(), 0..4),
        added in item_strategy(),
    ) {
        let sc = Scenario::bookworm_app();
        let to_json = |items: &[(String, String, Option<bool>)]| -> Value {
            Value::Array(items.iter().enumerate().map(|(n, (g, t, exp))| {
                let mut v = json!({"id": format!("i{n}"), "gate": g, "trigger_id": t});
                if let Some(past) = exp {
                    v["expires_on"] = json!(if *past { "2020-01-01T00:00:00Z" } else { "2099-01-01T00:00:00Z" });
                }
                v
            }).collect())
        };
        let before = sc.eval(&bundle_with(rules(), to_json(&existing)));
        let mut more = existing.clone();
        more.push(added);
        let after = sc.eval(&bundle_with(rules(), to_json(&more)));
        // Action orders Stop < Warn < Go: the verdict may only improve.
        prop_assert!(after.final_action >= before.final_action, "{:?} -> {:?}", before.final_action, after.final_action);
        prop_assert!(after.rows.iter().filter(|r| r.whitelisted.is_some()).count()
            >= before.rows.iter().filter(|r| r.whitelisted.is_some()).count());
        prop_assert_eq!(after.rows.len(), before.rows.len());
    }
}

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        "[a-z_*:.()\\[\\]+?{}0-9 -]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                prop::sample::select(vec![
                    "id",
                    "name",
                    "version",
                    "policies",
                    "rules",
                    "gate",
                    "trigger",
                    "action",
                    "params",
                    "value",
                    "whitelists",
                    "items",
                    "trigger_id",
                    "mappings",
                    "registry",
                    "repository",
                    "image",
                    "type",
                    "policy_id",
                    "policy_ids",
                    "whitelist_ids",
                    "expires_on",
                    "blacklisted_images",
                ])
                .prop_map(str::to_string),
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Replace the value at a pseudo-random path of `v` with `new`.
fn mutate(v: &mut Value, mut choice: usize, new: Value) {
    match v {
        Value::Object(m) if !m.is_empty() && !choice.is_multiple_of(3) => {
            let keys: Vec<String> = m.keys().cloned().collect();
            let k = &keys[choice % keys.len()];
            choice /= keys.len().max(1);
            mutate(m.get_mut(k).unwrap(), choice, new);
        }
        Value::Array(a) if !a.is_empty() && !choice.is_multiple_of(3) => {
            let n = a.len();
            mutate(&mut a[choice % n], choice / n, new);
        }
        other => *other = new,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Hostile input: any JSON validates to Ok or to problems, never a panic; a valid result
    /// evaluates without panicking.
    #[test]
    fn synthetic_random_json_never_panics(v in arb_json()) {
        if let Ok(b) = anchorage_policy::validate(&v) {
            let sc = Scenario::alpine();
            let _ = anchorage_policy::evaluate(&b, &sc.input());
        }
    }

    #[test]
    fn synthetic_mutated_default_bundle_never_panics(choice in any::<usize>(), new in arb_json()) {
        let mut b = anchorage_policy::default_bundle();
        mutate(&mut b, choice, new);
        match anchorage_policy::validate(&b) {
            Ok(valid) => {
                let sc = Scenario::bookworm_app();
                let e = anchorage_policy::evaluate(&valid, &sc.input());
                prop_assert_eq!(e.to_anchore_json()["result"][&e.image_id]["result"]["header"].as_array().map(Vec::len), Some(9));
            }
            Err(problems) => prop_assert!(!problems.is_empty()),
        }
    }
}
