//! Haskell packages from Hackage: `cabal.project.freeze` (`constraints: any.NAME ==VERSION`)
//! and `stack.yaml.lock` (`packages[].original.hackage: NAME-VERSION[@sha256:...]`).

use anchorage_types::PackageType;
use serde_yaml_ng::Value;

use super::util::{base_name, purl};
use super::{Found, LangLimits, TextCataloger};

const STAGE: &str = "haskell";

/// `cabal.project.freeze` and `stack.yaml.lock` anywhere.
pub(crate) fn wants(path: &str) -> bool {
    matches!(base_name(path), "cabal.project.freeze" | "stack.yaml.lock")
}

fn found(name: &str, version: &str) -> Found {
    Found::new(name, version, purl("hackage", None, name, version))
}

/// `NAME-VERSION` (the version is the last `-` part, digits and dots).
fn split_name_version(s: &str) -> Option<(&str, &str)> {
    let (name, version) = s.rsplit_once('-')?;
    let ok = !name.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version.chars().all(|c| c.is_ascii_digit() || c == '.');
    ok.then_some((name, version))
}

fn parse_freeze(input: &str) -> Vec<Found> {
    // `constraints:` continues over indented lines; each item is `[any.|QUAL.]NAME ==VERSION`
    // or a flag setting (`NAME +flag -flag`), which is not a package.
    let mut out = Vec::new();
    let mut in_constraints = false;
    for line in input.lines() {
        let item = if let Some(rest) = line.strip_prefix("constraints:") {
            in_constraints = true;
            rest
        } else if in_constraints && line.starts_with([' ', '\t']) {
            line
        } else {
            in_constraints = false;
            continue;
        };
        for part in item.split(',') {
            let Some((qualified, version)) = part.split_once("==") else {
                continue;
            };
            // Hackage names have no dots: `any.`, `setup.` ... are qualifiers
            let name = qualified.trim().rsplit('.').next().unwrap_or_default();
            let version = version.trim();
            if !name.is_empty() && !name.contains([' ', ':']) && !version.is_empty() {
                out.push(found(name, version));
            }
        }
    }
    out
}

fn parse_stack_lock(input: &str) -> Result<Vec<Found>, String> {
    let v: Value = serde_yaml_ng::from_str(input).map_err(|e| format!("invalid YAML: {e}"))?;
    let mut out = Vec::new();
    for p in v
        .get("packages")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
    {
        let hackage = p
            .get("original")
            .and_then(|o| o.get("hackage"))
            .or_else(|| p.get("completed").and_then(|c| c.get("hackage")))
            .and_then(Value::as_str);
        let Some(h) = hackage else {
            continue; // git and archive packages
        };
        let nv = h.split('@').next().unwrap_or_default();
        if let Some((name, version)) = split_name_version(nv) {
            out.push(found(name, version));
        }
    }
    Ok(out)
}

/// Parses a `cabal.project.freeze` or a `stack.yaml.lock`.
pub(crate) fn parse(path: &str, input: &str) -> Result<Vec<Found>, String> {
    if base_name(path) == "stack.yaml.lock" {
        parse_stack_lock(input)
    } else {
        Ok(parse_freeze(input))
    }
}

/// The Hackage cataloger.
pub(crate) fn cataloger(limits: LangLimits) -> TextCataloger {
    TextCataloger::new(STAGE, PackageType::Hackage, limits, wants, parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_stack_yaml_lock() {
        // stack's documented lock layout: hackage entries, a git entry, the snapshot
        let got = parse(
            "/p/stack.yaml.lock",
            "packages:\n- completed:\n    hackage: acme-missiles-0.3@sha256:2ba66a092a32593880a87fb00f3213762d7bca65a687d45965778deb8694c5d1,613\n    pantry-tree:\n      sha256: 614bc0cca76937507ea0a5ccc17a504c997ce458d7f2f9e43b15a10c8eaeb033\n      size: 226\n  original:\n    hackage: acme-missiles-0.3\n- completed:\n    name: x\n    commit: abc\n    git: https://example.invalid/x\n  original:\n    git: https://example.invalid/x\n    commit: abc\nsnapshots:\n- completed:\n    sha256: 1\n    size: 2\n    url: u\n  original: lts-21.25\n",
        )
        .unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].purl, "pkg:hackage/acme-missiles@0.3");
        assert_eq!(
            split_name_version("text-short-0.1.5"),
            Some(("text-short", "0.1.5"))
        );
        assert_eq!(split_name_version("no-version"), None);
    }

    #[test]
    fn synthetic_freeze_flags_are_not_packages() {
        let got = parse_freeze(
            "constraints: any.aeson ==2.1.2.1,\n             aeson +cffi -ordered-keymap,\n             setup.Cabal ==3.6.3.0,\nindex-state: hackage.haskell.org 2023-01-01T00:00:00Z\n",
        );
        let names: Vec<_> = got.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["aeson", "Cabal"]);
    }
}
