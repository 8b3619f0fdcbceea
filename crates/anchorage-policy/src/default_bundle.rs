//! The default bundle shipped with the engine (anchore-v1.md §4.6), installed active for
//! accounts that have no bundle.

use serde_json::{Value, json};

/// Id of the default bundle.
pub const DEFAULT_BUNDLE_ID: &str = "2c53a13c-1765-11e8-82ef-23527761d060";

/// The default bundle: STOP on vulnerabilities above medium and on exposed port 22, WARN on
/// medium vulnerabilities, a missing HEALTHCHECK, stale or unavailable vulnerability data.
pub fn default_bundle() -> Value {
    let rule = |id: &str, gate: &str, trigger: &str, action: &str, params: Value| json!({"id": id, "gate": gate, "trigger": trigger, "action": action, "params": params});
    json!({
        "id": DEFAULT_BUNDLE_ID,
        "name": "Default bundle",
        "comment": "Default bundle",
        "version": "1_0",
        "whitelisted_images": [],
        "blacklisted_images": [],
        "mappings": [{
            "id": "c4f9bf74-dc38-4ddf-b5cf-00e9c0074611",
            "name": "default",
            "registry": "*",
            "repository": "*",
            "image": {"type": "tag", "value": "*"},
            "policy_id": "48e6f7d6-1765-11e8-b5f9-8b6f228548b6",
            "whitelist_ids": ["37fd763e-1765-11e8-add4-3b16c029ac5c"],
        }],
        "whitelists": [{
            "id": "37fd763e-1765-11e8-add4-3b16c029ac5c",
            "name": "Global Whitelist",
            "comment": "Whitelist for all images",
            "version": "1_0",
            "items": [],
        }],
        "policies": [{
            "id": "48e6f7d6-1765-11e8-b5f9-8b6f228548b6",
            "name": "DefaultPolicy",
            "comment": "System default policy",
            "version": "1_0",
            "rules": [
                rule("dockerfile-exposed-port-22", "dockerfile", "exposed_ports", "STOP",
                    json!([{"name": "ports", "value": "22"}, {"name": "type", "value": "blacklist"}])),
                rule("dockerfile-no-healthcheck", "dockerfile", "instruction", "WARN",
                    json!([{"name": "instruction", "value": "HEALTHCHECK"}, {"name": "check", "value": "not_exists"}])),
                rule("vuln-stale-feed-data", "vulnerabilities", "stale_feed_data", "WARN",
                    json!([{"name": "max_days_since_sync", "value": "2"}])),
                rule("vuln-data-unavailable", "vulnerabilities", "vulnerability_data_unavailable", "WARN", json!([])),
                rule("vuln-medium-warn", "vulnerabilities", "package", "WARN",
                    json!([{"name": "package_type", "value": "all"}, {"name": "severity_comparison", "value": "="}, {"name": "severity", "value": "medium"}])),
                rule("vuln-above-medium-stop", "vulnerabilities", "package", "STOP",
                    json!([{"name": "package_type", "value": "all"}, {"name": "severity_comparison", "value": ">"}, {"name": "severity", "value": "medium"}])),
            ],
        }],
    })
}
