//! Swift packages from SwiftPM's `Package.resolved`: version 1 (`object.pins[]` with
//! `package`, `repositoryURL`, `state`) and versions 2 and 3 (`pins[]` with `identity`,
//! `location`, `state`). A pin without a version (a branch or a bare revision) is reported
//! at its revision. The purl names the repository: `pkg:swift/github.com/apple/swift-nio@2.40.0`.

use anchorage_types::PackageType;
use serde_json::Value;

use super::util::{base_name, purl};
use super::{Found, LangLimits, TextCataloger};

const STAGE: &str = "swift";

/// `Package.resolved` anywhere (also `.package.resolved`, Xcode's spelling inside workspaces).
pub(crate) fn wants(path: &str) -> bool {
    matches!(base_name(path), "Package.resolved" | ".package.resolved")
}

/// `host/owner...` and the repository name from a git URL (`https://github.com/apple/swift-nio.git`,
/// `git@github.com:apple/swift-nio.git`).
pub(crate) fn repository(url: &str) -> Option<(String, String)> {
    let u = url.trim();
    let u = u.split_once("://").map_or(u, |(_, rest)| rest);
    let u = u.rsplit_once('@').map_or(u, |(_, rest)| rest); // user@host
    let u = u.replacen(':', "/", 1);
    let u = u.trim_end_matches('/');
    let u = u.strip_suffix(".git").unwrap_or(u);
    let (ns, name) = u.rsplit_once('/')?;
    (!ns.is_empty() && !name.is_empty()).then(|| (ns.to_string(), name.to_string()))
}

/// Parses a `Package.resolved`.
pub(crate) fn parse(_path: &str, input: &str) -> Result<Vec<Found>, String> {
    let v: Value = serde_json::from_str(input).map_err(|e| format!("invalid JSON: {e}"))?;
    let pins = v
        .get("pins")
        .or_else(|| v.get("object").and_then(|o| o.get("pins")))
        .and_then(Value::as_array)
        .ok_or("no pins")?;
    let mut out = Vec::new();
    for pin in pins {
        let s = |k: &str| pin.get(k).and_then(Value::as_str).filter(|s| !s.is_empty());
        let Some(url) = s("location").or_else(|| s("repositoryURL")) else {
            continue;
        };
        let state = pin.get("state");
        let st = |k: &str| {
            state
                .and_then(|x| x.get(k))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        let Some(version) = st("version").or_else(|| st("revision")) else {
            continue;
        };
        let Some((namespace, repo)) = repository(url) else {
            continue;
        };
        let name = s("identity").or_else(|| s("package")).unwrap_or(&repo);
        out.push(Found::new(
            name,
            version,
            purl("swift", Some(&namespace), &repo, version),
        ));
    }
    Ok(out)
}

/// The Swift package cataloger.
pub(crate) fn cataloger(limits: LangLimits) -> TextCataloger {
    TextCataloger::new(STAGE, PackageType::Swift, limits, wants, parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_repository_urls() {
        let r = |u: &str| repository(u).unwrap();
        assert_eq!(
            r("https://github.com/apple/swift-nio.git"),
            ("github.com/apple".into(), "swift-nio".into())
        );
        assert_eq!(
            r("git@github.com:apple/swift-log.git"),
            ("github.com/apple".into(), "swift-log".into())
        );
        assert_eq!(
            r("https://gitlab.example.com/group/sub/pkg/"),
            ("gitlab.example.com/group/sub".into(), "pkg".into())
        );
        assert!(repository("noslash").is_none());
    }
}
