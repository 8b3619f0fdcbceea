//! Anchore's pattern language (mappings, image lists, whitelist `trigger_id`) and tag parsing.
//!
//! Every pattern is compiled once, at validation, into a `regex::Regex` with explicit size
//! limits: the `regex` crate guarantees linear-time matching, so a hostile bundle cannot make
//! evaluation hang.

use regex::{Regex, RegexBuilder};

/// A compiled `*`-wildcard or `regexp:` pattern. Plain literals (no `*`, no `regexp:`) are
/// compared as strings and compile no regex, so bundles with many exact items stay cheap.
#[derive(Debug, Clone)]
pub(crate) struct Pattern {
    raw: String,
    /// `None` for a plain literal.
    re: Option<Regex>,
}

impl Pattern {
    /// Compile a pattern. `*` matches any substring (including `/` and empty), everything else
    /// is literal and the whole string must match; `regexp:RE` is a raw regex matched at start.
    pub(crate) fn compile(raw: &str, size_limit: usize) -> Result<Self, String> {
        let re = if let Some(re) = raw.strip_prefix("regexp:") {
            Some(build_regex(&format!("^(?:{re})"), size_limit)?)
        } else if raw.contains('*') {
            let parts: Vec<String> = raw.split('*').map(regex::escape).collect();
            Some(build_regex(&format!("^{}$", parts.join(".*")), size_limit)?)
        } else {
            None
        };
        Ok(Self {
            raw: raw.to_string(),
            re,
        })
    }

    /// True when `s` matches.
    pub(crate) fn matches(&self, s: &str) -> bool {
        match &self.re {
            None => self.raw == s,
            Some(re) => re.is_match(s),
        }
    }

    /// True for a plain literal.
    pub(crate) fn is_literal(&self) -> bool {
        self.re.is_none()
    }

    /// The pattern as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.raw
    }
}

/// Build a regex with explicit compiled-size limits.
pub(crate) fn build_regex(source: &str, size_limit: usize) -> Result<Regex, String> {
    RegexBuilder::new(source)
        .size_limit(size_limit)
        .dfa_size_limit(size_limit)
        .nest_limit(64)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(limit) => {
                format!("regular expression exceeds the compiled size limit of {limit} bytes")
            }
            other => format!(
                "invalid regular expression: {}",
                first_line(&other.to_string())
            ),
        })
}

/// A user regex parameter, matched at the start of the subject (Python's `re.match`).
pub(crate) fn param_regex(source: &str, size_limit: usize) -> Result<Regex, String> {
    // Validate the user's text on its own first so errors point at it, not at our wrapper.
    build_regex(source, size_limit)?;
    build_regex(&format!("^(?:{source})"), size_limit)
}

fn first_line(s: &str) -> String {
    s.lines()
        .rfind(|l| !l.trim().is_empty())
        .unwrap_or(s)
        .trim()
        .to_string()
}

/// An evaluation tag split into Anchore's registry / repository / tag parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TagParts {
    pub(crate) registry: String,
    pub(crate) repo: String,
    pub(crate) tag: String,
}

/// Split a normalized full tag (`docker.io/library/alpine:3.20`). A leading `dockerhub/` is
/// rewritten to `docker.io/`; an empty input means Anchore's `*/*:*`.
pub(crate) fn parse_tag(fulltag: &str) -> TagParts {
    let fulltag = fulltag.trim();
    let fulltag = if fulltag.is_empty() { "*/*:*" } else { fulltag };
    let rewritten;
    let fulltag = if let Some(rest) = fulltag.strip_prefix("dockerhub/") {
        rewritten = format!("docker.io/{rest}");
        rewritten.as_str()
    } else {
        fulltag
    };
    // Drop a digest suffix: mappings see the tag part only.
    let fulltag = fulltag.split('@').next().unwrap_or(fulltag);
    // Docker's rule: the first component is a registry when it has a `.` or `:` or is
    // `localhost` (`*` too, for `*/*:*`); otherwise the reference is on Docker Hub.
    let (registry, rest) = match fulltag.split_once('/') {
        Some((r, rest)) if r.contains(['.', ':']) || r == "localhost" || r == "*" => {
            (r.to_string(), rest.to_string())
        }
        _ => ("docker.io".to_string(), fulltag.to_string()),
    };
    let rest = if registry == "docker.io" && !rest.contains('/') {
        format!("library/{rest}")
    } else {
        rest
    };
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (
            rest[..last_slash + i].to_string(),
            rest[last_slash + i + 1..].to_string(),
        ),
        None => (rest.to_string(), "latest".to_string()),
    };
    TagParts {
        registry,
        repo,
        tag,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: usize = 1 << 20;

    #[test]
    fn wildcard_table() {
        let cases = [
            ("*", "", true),
            ("*", "a/b", true),
            ("library/*", "library/alpine", true),
            ("library/*", "other/alpine", false),
            ("a*c", "abbbc", true),
            ("a*c", "abbbcd", false),
            ("a.c", "abc", false),
            ("a.c", "a.c", true),
            ("regexp:^3\\.[0-9]+$", "3.20", true),
            ("regexp:3\\.1", "3.12", true),
            ("regexp:3\\.1", "13.1", false),
            ("docker.io", "docker.io", true),
            ("docker.io", "docker.iox", false),
        ];
        for (pat, s, want) in cases {
            let p = Pattern::compile(pat, LIMIT).unwrap();
            assert_eq!(p.matches(s), want, "{pat:?} vs {s:?}");
        }
    }

    #[test]
    fn parses_tags() {
        let t = parse_tag("docker.io/library/alpine:3.20");
        assert_eq!(
            (t.registry.as_str(), t.repo.as_str(), t.tag.as_str()),
            ("docker.io", "library/alpine", "3.20")
        );
        let t = parse_tag("localhost:5000/app");
        assert_eq!(
            (t.registry.as_str(), t.repo.as_str(), t.tag.as_str()),
            ("localhost:5000", "app", "latest")
        );
        let t = parse_tag("dockerhub/library/debian:12");
        assert_eq!(t.registry, "docker.io");
        let t = parse_tag("alpine:3.20");
        assert_eq!(
            (t.registry.as_str(), t.repo.as_str(), t.tag.as_str()),
            ("docker.io", "library/alpine", "3.20")
        );
        let t = parse_tag("acme/app");
        assert_eq!(
            (t.registry.as_str(), t.repo.as_str(), t.tag.as_str()),
            ("docker.io", "acme/app", "latest")
        );
        let t = parse_tag("quay.io/org/app@sha256:abc");
        assert_eq!(
            (t.registry.as_str(), t.repo.as_str(), t.tag.as_str()),
            ("quay.io", "org/app", "latest")
        );
        let t = parse_tag("");
        assert_eq!(
            (t.registry.as_str(), t.repo.as_str(), t.tag.as_str()),
            ("*", "*", "*")
        );
    }

    #[test]
    fn synthetic_huge_regex_is_rejected_not_compiled() {
        let err = build_regex("(a{1000}){1000}", LIMIT).unwrap_err();
        assert!(err.contains("size limit"), "{err}");
        assert!(param_regex("(unclosed", LIMIT).is_err());
    }
}
