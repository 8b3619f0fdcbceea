//! Notification payloads in Anchore's delivered shape (§6.3) and their stable ids. Pure.

use anchorage_model::{Finding, FindingsDiff};
use md5::Digest as _;
use serde_json::{Value, json};

/// A notification to deliver (before it is split per hook).
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// Stable id: the same event always gets the same id, so receivers de-duplicate.
    pub notification_id: String,
    /// Account.
    pub account: String,
    /// Account email (`notification_user_email`).
    pub email: Option<String>,
    /// `tag_update`, `analysis_update`, `vuln_update`, `policy_eval`.
    pub notification_type: String,
    /// Subscription key.
    pub subscription_key: String,
    /// Type-specific fields merged into `notification_payload`.
    pub fields: Value,
}

/// A stable notification id: hex MD5 of the account, type, key and what identifies the
/// change (a digest, a diff, an evaluation).
pub fn notification_id(account: &str, kind: &str, key: &str, discriminator: &str) -> String {
    let mut h = md5::Md5::new();
    for part in [account, kind, key, discriminator] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    hex::encode(h.finalize())
}

impl Notification {
    /// The JSON body delivered for this notification (§6.3), created at `now`, given up at
    /// `deadline` (`max_tries`).
    pub fn body(&self, now: i64, deadline: i64) -> Value {
        let mut payload = json!({
            "userId": self.account,
            "subscription_key": self.subscription_key,
            "subscription_type": self.notification_type,
            "notificationId": self.notification_id,
        });
        if let (Some(p), Some(extra)) = (payload.as_object_mut(), self.fields.as_object()) {
            for (k, v) in extra {
                p.insert(k.clone(), v.clone());
            }
        }
        json!({
            "queueId": self.notification_type,
            "userId": self.account,
            "dataId": self.notification_id,
            "created_at": now,
            "last_updated": now,
            "record_state_key": "active",
            "record_state_val": null,
            "tries": 0,
            "max_tries": deadline,
            "data": {
                "notification_user": self.account,
                "notification_user_email": self.email,
                "notification_type": self.notification_type,
                "notification_payload": payload,
            },
        })
    }
}

/// `tag_update` fields: the digests the tag pointed at before, and the new one.
pub fn tag_update_fields(previous: &[String], current: &str) -> Value {
    json!({"last_eval": previous, "curr_eval": [current], "annotations": {}})
}

/// `analysis_update` fields: previous and new analysis status of an image.
pub fn analysis_update_fields(digest: &str, previous: &str, current: &str) -> Value {
    json!({
        "last_eval": {"imageDigest": digest, "analysis_status": previous, "annotations": {}},
        "curr_eval": {"imageDigest": digest, "analysis_status": current, "annotations": {}},
        "annotations": {},
    })
}

fn vuln_item(f: &Finding) -> Value {
    let row = anchorage_match::anchore_rows(std::slice::from_ref(f))
        .into_iter()
        .next()
        .unwrap_or(Value::Null);
    json!({
        "CVE_ID": f.vuln,
        "Severity": row["severity"],
        "Vulnerable_Package": row["package"],
        "Fix_Available": row["fix"],
        "URL": row["url"],
        "Package_Name": row["package_name"],
        "Package_Version": row["package_version"],
        "Package_Type": row["package_type"],
        "Feed": row["feed"],
        "Feed_Group": row["feed_group"],
    })
}

/// `vuln_update` fields: the added, updated and removed findings of an image.
pub fn vuln_update_fields(digest: &str, diff: &FindingsDiff) -> Value {
    json!({
        "imageDigest": digest,
        "diff_vulnerability_result": {
            "added": diff.added.iter().map(vuln_item).collect::<Vec<_>>(),
            "updated": diff.updated.iter().map(|u| vuln_item(&u.current)).collect::<Vec<_>>(),
            "removed": diff.removed.iter().map(vuln_item).collect::<Vec<_>>(),
        },
        "annotations": {},
    })
}

/// What identifies a findings diff (for its notification id).
pub fn diff_discriminator(digest: &str, diff: &FindingsDiff) -> String {
    let mut parts = vec![digest.to_string()];
    let key = |f: &Finding| format!("{}|{}|{}", f.vuln, f.package.name, f.package.version);
    parts.extend(diff.added.iter().map(|f| format!("+{}", key(f))));
    parts.extend(
        diff.updated
            .iter()
            .map(|u| format!("~{}|{}", key(&u.current), u.changes.join(","))),
    );
    parts.extend(diff.removed.iter().map(|f| format!("-{}", key(f))));
    parts.join("\n")
}

/// `policy_eval` fields: the previous and the new stored evaluation documents.
pub fn policy_eval_fields(previous: &Value, current: &Value) -> Value {
    json!({"last_eval": previous, "curr_eval": current, "annotations": {}})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_and_distinct() {
        let a = notification_id("admin", "tag_update", "r/x:1", "sha256:1");
        assert_eq!(
            a,
            notification_id("admin", "tag_update", "r/x:1", "sha256:1")
        );
        assert_ne!(
            a,
            notification_id("admin", "tag_update", "r/x:1", "sha256:2")
        );
        // The separator keeps ("ab","c") and ("a","bc") apart.
        assert_ne!(
            notification_id("ab", "c", "k", "d"),
            notification_id("a", "bc", "k", "d")
        );
        assert_eq!(a.len(), 32);
    }

    #[test]
    fn body_has_anchores_envelope_and_merged_payload() {
        let n = Notification {
            notification_id: "id1".into(),
            account: "admin".into(),
            email: None,
            notification_type: "tag_update".into(),
            subscription_key: "docker.io/library/x:1".into(),
            fields: tag_update_fields(&["sha256:a".into()], "sha256:b"),
        };
        let b = n.body(100, 200);
        assert_eq!(b["queueId"], "tag_update");
        assert_eq!(b["dataId"], "id1");
        assert_eq!(b["max_tries"], 200);
        let p = &b["data"]["notification_payload"];
        assert_eq!(p["notificationId"], "id1");
        assert_eq!(p["subscription_type"], "tag_update");
        assert_eq!(p["curr_eval"][0], "sha256:b");
        assert_eq!(p["last_eval"][0], "sha256:a");
    }
}
