//! Anchore's pattern language (mappings, image lists, whitelist `trigger_id`) and tag parsing.
//!
//! Every pattern is compiled once, at validation, into a `regex::Regex` with explicit size
//! limits: the `regex` crate guarantees linear-time matching, so a hostile bundle cannot make
//! evaluation hang.

use anchorage_types::{DEFAULT_TAG, ImageReference, ReferenceError};
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

impl TagParts {
    /// Anchore's `*/*:*`, used when no tag is given.
    fn any() -> Self {
        Self {
            registry: "*".to_string(),
            repo: "*".to_string(),
            tag: "*".to_string(),
        }
    }
}

/// Split an evaluation tag into Anchore's parts with the project's reference parser
/// ([`ImageReference`]): missing registry -> `docker.io`, missing tag -> `latest`, **no**
/// `library/` insertion (anchore-v1 §2.1), `localhost`, `localhost.localdomain` and
/// `localbuild` are registries. A leading `dockerhub/` is rewritten to `docker.io/` (§4.2); an
/// empty input or `*/*:*` means "any". A digest suffix is dropped: mappings see the tag part.
pub(crate) fn parse_tag(fulltag: &str) -> Result<TagParts, ReferenceError> {
    let fulltag = fulltag.trim();
    if fulltag.is_empty() || fulltag == "*/*:*" {
        return Ok(TagParts::any());
    }
    let rewritten;
    let fulltag = if let Some(rest) = fulltag.strip_prefix("dockerhub/") {
        rewritten = format!("docker.io/{rest}");
        rewritten.as_str()
    } else {
        fulltag
    };
    let reference = ImageReference::parse(fulltag)?;
    Ok(TagParts {
        registry: reference.registry().to_string(),
        repo: reference.repository().to_string(),
        tag: reference.tag().unwrap_or(DEFAULT_TAG).to_string(),
    })
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

    fn parts(s: &str) -> (String, String, String) {
        let t = parse_tag(s).unwrap();
        (t.registry, t.repo, t.tag)
    }

    fn p3(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.to_string(), b.to_string(), c.to_string())
    }

    #[test]
    fn parses_tags_like_anchore() {
        assert_eq!(
            parts("docker.io/library/alpine:3.20"),
            p3("docker.io", "library/alpine", "3.20")
        );
        assert_eq!(
            parts("localhost:5000/app"),
            p3("localhost:5000", "app", "latest")
        );
        assert_eq!(
            parse_tag("dockerhub/library/debian:12").unwrap().registry,
            "docker.io"
        );
        // anchore-v1 §2.1: no `library/` insertion for Docker Hub.
        assert_eq!(parts("alpine:3.20"), p3("docker.io", "alpine", "3.20"));
        assert_eq!(
            parts("docker.io/alpine:3.12"),
            p3("docker.io", "alpine", "3.12")
        );
        assert_eq!(parts("acme/app"), p3("docker.io", "acme/app", "latest"));
        assert_eq!(
            parts(&format!("quay.io/org/app@sha256:{}", "a".repeat(64))),
            p3("quay.io", "org/app", "latest")
        );
        assert_eq!(parts(""), p3("*", "*", "*"));
        assert_eq!(parts("*/*:*"), p3("*", "*", "*"));
        // Anchore's extra registry names.
        assert_eq!(parts("localhost/app:1"), p3("localhost", "app", "1"));
        assert_eq!(parts("localbuild/app:1"), p3("localbuild", "app", "1"));
        assert_eq!(
            parts("localhost.localdomain/app:1"),
            p3("localhost.localdomain", "app", "1")
        );
    }

    #[test]
    fn synthetic_invalid_tag_is_an_error() {
        assert!(parse_tag("Not A Tag!").is_err());
        assert!(parse_tag("app:bad tag").is_err());
    }

    #[test]
    fn synthetic_huge_regex_is_rejected_not_compiled() {
        let err = build_regex("(a{1000}){1000}", LIMIT).unwrap_err();
        assert!(err.contains("size limit"), "{err}");
        assert!(param_regex("(unclosed", LIMIT).is_err());
    }
}
