//! C/C++ ports installed by vcpkg: the status database `<installed>/vcpkg/status` (manifest
//! mode's `vcpkg_installed/`, classic mode's `installed/`), in dpkg's control-file format with
//! one paragraph per port and per installed feature, and the exact `overrides` of a
//! `vcpkg.json` manifest (its other dependencies carry at most a minimum version, not what is
//! installed, and are not reported).

use anchorage_types::PackageType;
use serde_json::Value;

use super::util::{base_name, parent_dir};
use super::{Found, LangLimits, TextCataloger};
use crate::os::dpkg::parse_status_paragraphs;

const STAGE: &str = "vcpkg";

/// `.../installed/vcpkg/status`, `.../vcpkg_installed/vcpkg/status`, and `vcpkg.json`.
pub(crate) fn wants(path: &str) -> bool {
    match base_name(path) {
        "vcpkg.json" => true,
        "status" => {
            let dir = parent_dir(path);
            base_name(dir) == "vcpkg"
                && matches!(base_name(parent_dir(dir)), "installed" | "vcpkg_installed")
        }
        _ => false,
    }
}

fn found(name: &str, version: &str, triplet: &str) -> Found {
    let p = anchorage_types::purl::for_package("vcpkg", None, name, version, &[("arch", triplet)]);
    Found::new(name, version, p)
}

fn parse_status(input: &str) -> Result<Vec<Found>, String> {
    let mut out = Vec::new();
    for fields in parse_status_paragraphs(input) {
        let get = |k: &str| {
            fields
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.as_str())
        };
        // feature paragraphs (`Feature: ...`) describe a port already listed
        if get("Feature").is_some() {
            continue;
        }
        let installed = get("Status").is_some_and(|s| s.ends_with(" installed"));
        let (Some(name), Some(version)) = (get("Package"), get("Version")) else {
            continue;
        };
        if !installed || name.is_empty() || version.is_empty() {
            continue;
        }
        let version = match get("Port-Version").filter(|v| *v != "0") {
            Some(pv) => format!("{version}#{pv}"),
            None => version.to_string(),
        };
        out.push(found(name, &version, get("Architecture").unwrap_or("")));
    }
    Ok(out)
}

fn parse_manifest(input: &str) -> Result<Vec<Found>, String> {
    let v: Value = serde_json::from_str(input).map_err(|e| format!("invalid JSON: {e}"))?;
    if !v.is_object() {
        return Err("manifest is not a JSON object".into());
    }
    let mut out = Vec::new();
    for o in v
        .get("overrides")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let name = o.get("name").and_then(Value::as_str);
        let version = [
            "version",
            "version-semver",
            "version-date",
            "version-string",
        ]
        .iter()
        .find_map(|k| o.get(*k).and_then(Value::as_str));
        if let (Some(name), Some(version)) = (name, version) {
            let version = match o.get("port-version").and_then(Value::as_u64) {
                Some(pv) if pv > 0 => format!("{version}#{pv}"),
                _ => version.to_string(),
            };
            out.push(found(name, &version, ""));
        }
    }
    Ok(out)
}

/// Parses a vcpkg status database or a `vcpkg.json`.
pub(crate) fn parse(path: &str, input: &str) -> Result<Vec<Found>, String> {
    if base_name(path) == "vcpkg.json" {
        parse_manifest(input)
    } else {
        parse_status(input)
    }
}

/// The vcpkg cataloger.
pub(crate) fn cataloger(limits: LangLimits) -> TextCataloger {
    TextCataloger::new(STAGE, PackageType::Vcpkg, limits, wants, parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_paths() {
        assert!(wants("/src/app/vcpkg_installed/vcpkg/status"));
        assert!(wants("/opt/vcpkg/installed/vcpkg/status"));
        assert!(wants("/src/app/vcpkg.json"));
        assert!(!wants("/var/lib/dpkg/status"));
        assert!(!wants("/x/vcpkg/status"));
    }
}
