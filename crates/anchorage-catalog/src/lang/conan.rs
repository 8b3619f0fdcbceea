//! C/C++ packages from Conan: `conan.lock` (Conan 2's `requires` list, lockfile 0.5, and
//! Conan 1's `graph_lock.nodes`) and the `[requires]` of a `conanfile.txt`. A Conan reference
//! is `name/version[@user/channel][#revision][%timestamp]`; build and Python requirements are
//! development-only.

use anchorage_types::PackageType;
use serde_json::Value;

use super::util::base_name;
use super::{Found, LangLimits, TextCataloger};

const STAGE: &str = "conan";

/// `conan.lock` and `conanfile.txt` anywhere.
pub(crate) fn wants(path: &str) -> bool {
    matches!(base_name(path), "conan.lock" | "conanfile.txt")
}

/// A package from one reference; `None` for version ranges and malformed references.
pub(crate) fn reference(r: &str, dev: bool) -> Option<Found> {
    let r = r.trim();
    let r = r.split(['#', '%']).next()?;
    let (nv, user_channel) = match r.split_once('@') {
        Some((nv, uc)) => (nv, Some(uc)),
        None => (r, None),
    };
    let (name, version) = nv.split_once('/')?;
    let ok = |s: &str| {
        !s.is_empty()
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'))
    };
    if !ok(name) || !ok(version) {
        return None; // `[>=1.0 <2]` ranges and the like
    }
    let (user, channel) = match user_channel.and_then(|uc| uc.split_once('/')) {
        Some((u, c)) if u != "_" => (u, c),
        _ => ("", ""),
    };
    let p = anchorage_types::purl::for_package(
        "conan",
        None,
        name,
        version,
        &[("user", user), ("channel", channel)],
    );
    Some(Found {
        dev,
        ..Found::new(name, version, p)
    })
}

fn parse_lock(input: &str) -> Result<Vec<Found>, String> {
    let v: Value = serde_json::from_str(input).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut out = Vec::new();
    let list = |key: &str| {
        v.get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    };
    for r in list("requires") {
        out.extend(reference(r, false));
    }
    for r in list("build_requires").chain(list("python_requires")) {
        out.extend(reference(r, true));
    }
    // Conan 1: {"graph_lock": {"nodes": {"0": {"ref": ...}, ...}}}; node 0 is the consumer
    if let Some(nodes) = v
        .get("graph_lock")
        .and_then(|g| g.get("nodes"))
        .and_then(Value::as_object)
    {
        for node in nodes.values() {
            if let Some(r) = node.get("ref").and_then(Value::as_str) {
                out.extend(reference(r, false));
            }
        }
    }
    if out.is_empty() && v.get("requires").is_none() && v.get("graph_lock").is_none() {
        return Err("neither requires nor graph_lock".into());
    }
    Ok(out)
}

fn parse_conanfile_txt(input: &str) -> Vec<Found> {
    let mut out = Vec::new();
    let mut section = "";
    for line in input.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(s) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = match s.trim() {
                "requires" => "requires",
                "build_requires" | "tool_requires" | "test_requires" => "build",
                _ => "",
            };
        } else if !line.is_empty() && !section.is_empty() {
            out.extend(reference(line, section == "build"));
        }
    }
    out
}

/// Parses `path` (a `conan.lock` or a `conanfile.txt`).
pub(crate) fn parse(path: &str, input: &str) -> Result<Vec<Found>, String> {
    if base_name(path) == "conan.lock" {
        parse_lock(input)
    } else {
        Ok(parse_conanfile_txt(input))
    }
}

/// The Conan cataloger.
pub(crate) fn cataloger(limits: LangLimits) -> TextCataloger {
    TextCataloger::new(STAGE, PackageType::Conan, limits, wants, parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_references() {
        let f = reference("zlib/1.2.13#abc%1700000000.1", false).unwrap();
        assert_eq!(
            (f.name.as_str(), f.purl.as_str()),
            ("zlib", "pkg:conan/zlib@1.2.13")
        );
        let f = reference("poco/1.12.4@acme/stable#r", false).unwrap();
        assert_eq!(f.purl, "pkg:conan/poco@1.12.4?channel=stable&user=acme");
        assert!(reference("boost/[>=1.80 <2]", false).is_none());
        assert!(reference("nonsense", false).is_none());
    }

    #[test]
    fn synthetic_conan1_graph_lock() {
        let got = parse(
            "/a/conan.lock",
            r#"{"graph_lock": {"nodes": {"0": {"options": ""},
                "1": {"ref": "openssl/1.1.1t#r1", "package_id": "x"}}}, "version": "0.4"}"#,
        )
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].version, "1.1.1t");
    }
}
