//! The identity of a finding across matches (what the diff compares).

use std::collections::BTreeMap;

use anchorage_model::Finding;

/// Findings keyed for diffing: (vuln, package name, version, type, path).
pub(crate) type FindingKey = (String, String, String, String, String);

pub(crate) fn finding_key(f: &Finding) -> FindingKey {
    (
        f.vuln.clone(),
        f.package.name.clone(),
        f.package.version.clone(),
        f.package.package_type.as_str().to_string(),
        f.package.path.clone(),
    )
}

/// Index findings by key (used by the diff).
pub(crate) fn index(findings: &[Finding]) -> BTreeMap<FindingKey, &Finding> {
    findings.iter().map(|f| (finding_key(f), f)).collect()
}
