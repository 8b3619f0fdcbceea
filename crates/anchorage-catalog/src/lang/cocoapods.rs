//! CocoaPods pods from `Podfile.lock` (`PODS:` entries `Name (version)`, with or without a
//! list of dependencies). Subspecs (`Firebase/Core`) are parts of their pod: each pod is
//! reported once, under its root name.

use anchorage_types::PackageType;
use serde_yaml_ng::Value;

use super::util::{base_name, purl};
use super::{Found, LangLimits, TextCataloger};

const STAGE: &str = "cocoapods";

/// `Podfile.lock` anywhere.
pub(crate) fn wants(path: &str) -> bool {
    base_name(path) == "Podfile.lock"
}

/// `Name (version)` -> (root pod name, version).
fn pod_entry(s: &str) -> Option<(&str, &str)> {
    let (name, rest) = s.trim().split_once(" (")?;
    let version = rest.strip_suffix(')')?.trim();
    let root = name.split('/').next()?.trim();
    (!root.is_empty() && !version.is_empty()).then_some((root, version))
}

/// Parses a `Podfile.lock`.
pub(crate) fn parse(_path: &str, input: &str) -> Result<Vec<Found>, String> {
    let v: Value = serde_yaml_ng::from_str(input).map_err(|e| format!("invalid YAML: {e}"))?;
    let pods = v
        .get("PODS")
        .and_then(Value::as_sequence)
        .ok_or("no PODS list")?;
    let mut out: Vec<Found> = Vec::new();
    for pod in pods {
        let entry = match pod {
            Value::String(s) => Some(s.as_str()),
            Value::Mapping(m) => m.keys().next().and_then(Value::as_str),
            _ => None,
        };
        let Some((name, version)) = entry.and_then(pod_entry) else {
            continue;
        };
        if !out.iter().any(|f| f.name == name && f.version == version) {
            out.push(Found::new(
                name,
                version,
                purl("cocoapods", None, name, version),
            ));
        }
    }
    Ok(out)
}

/// The CocoaPods cataloger.
pub(crate) fn cataloger(limits: LangLimits) -> TextCataloger {
    TextCataloger::new(STAGE, PackageType::Pod, limits, wants, parse)
}
