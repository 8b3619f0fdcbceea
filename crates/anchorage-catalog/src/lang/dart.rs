//! Dart packages from `pubspec.lock` (`packages.NAME.{version, source, dependency,
//! description}`). SDK packages (`source: sdk`, the Flutter SDK's own) and path packages are
//! not from a registry and are left out; `direct dev` dependencies are development-only.

use anchorage_types::PackageType;
use serde_yaml_ng::Value;

use super::util::base_name;
use super::{Found, LangLimits, TextCataloger};

const STAGE: &str = "dart";

/// `pubspec.lock` anywhere.
pub(crate) fn wants(path: &str) -> bool {
    base_name(path) == "pubspec.lock"
}

/// Parses a `pubspec.lock`.
pub(crate) fn parse(_path: &str, input: &str) -> Result<Vec<Found>, String> {
    let v: Value = serde_yaml_ng::from_str(input).map_err(|e| format!("invalid YAML: {e}"))?;
    let Some(packages) = v.get("packages").and_then(Value::as_mapping) else {
        return Err("no packages mapping".into());
    };
    let mut out = Vec::new();
    for (name, p) in packages {
        let (Some(name), Some(version)) = (name.as_str(), p.get("version").and_then(Value::as_str))
        else {
            continue;
        };
        let source = p.get("source").and_then(Value::as_str).unwrap_or("hosted");
        if matches!(source, "sdk" | "path") {
            continue;
        }
        let desc = p.get("description");
        let field = |k: &str| desc.and_then(|d| d.get(k)).and_then(Value::as_str);
        let hosted_url = match (source, field("url")) {
            ("hosted", Some(u))
                if u.trim_end_matches('/') != "https://pub.dev"
                    && u.trim_end_matches('/') != "https://pub.dartlang.org" =>
            {
                u
            }
            _ => "",
        };
        let vcs_url = match (source, field("url"), field("resolved-ref")) {
            ("git", Some(u), Some(r)) => format!("{u}@{r}"),
            _ => String::new(),
        };
        let purl = anchorage_types::purl::for_package(
            "pub",
            None,
            name,
            version,
            &[("hosted_url", hosted_url), ("vcs_url", &vcs_url)],
        );
        let dev = p.get("dependency").and_then(Value::as_str) == Some("direct dev");
        out.push(Found {
            dev,
            ..Found::new(name, version, purl)
        });
    }
    Ok(out)
}

/// The Dart pub cataloger.
pub(crate) fn cataloger(limits: LangLimits) -> TextCataloger {
    TextCataloger::new(STAGE, PackageType::DartPub, limits, wants, parse)
}
