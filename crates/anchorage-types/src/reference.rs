//! Docker image references: the reference grammar, normalization and Anchore's display form.
//!
//! Grammar (from the distribution project's reference grammar):
//!
//! ```text
//! reference       := name [ ":" tag ] [ "@" digest ]
//! name            := [domain "/"] path-component ["/" path-component]*
//! domain          := host [":" port-number]
//! host            := domain-name | "[" ipv6 "]"
//! domain-name     := domain-component ["." domain-component]*
//! domain-component:= /([a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])/
//! path-component  := alpha-numeric [separator alpha-numeric]*
//! alpha-numeric   := /[a-z0-9]+/
//! separator       := /[_.]|__|[-]*/
//! tag             := /[\w][\w.-]{0,127}/
//! ```
//!
//! Normalization: a first component is a registry host only when it contains `.` or `:`, is
//! `localhost`, `localhost.localdomain` or `localbuild`, or has upper-case letters (Docker's
//! rule); otherwise the registry is `docker.io`. `index.docker.io` is folded into `docker.io`.
//! A reference without tag and digest gets the tag `latest`.
//!
//! Two forms are printed:
//! - the display form ([`fmt::Display`]), Anchore's: **no** `library/` insertion, so `alpine`
//!   becomes `docker.io/alpine:latest`;
//! - the registry form ([`ImageReference::registry_repository`]), used on the wire:
//!   `library/` is added for single-component Docker Hub repositories (`library/alpine`).

use crate::ErrorKind;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Digest;

/// The default registry when a reference names none.
pub const DEFAULT_REGISTRY: &str = "docker.io";
/// The default tag when a reference has neither tag nor digest.
pub const DEFAULT_TAG: &str = "latest";
/// Longest accepted repository name (registry excluded), as in Docker's grammar.
const MAX_NAME_LEN: usize = 255;
/// Longest accepted tag.
const MAX_TAG_LEN: usize = 128;

/// Why an image reference was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ReferenceError {
    /// The input was empty.
    #[error("image reference is empty")]
    Empty,
    /// The registry host (or its port) is not valid.
    #[error("image reference {input:?}: invalid registry host {host:?}")]
    InvalidRegistry {
        /// The whole input.
        input: String,
        /// The host part at fault.
        host: String,
    },
    /// A repository path component is not valid.
    #[error(
        "image reference {input:?}: invalid repository path component {component:?} (lower-case letters, digits and single separators . _ __ - only)"
    )]
    InvalidPathComponent {
        /// The whole input.
        input: String,
        /// The component at fault.
        component: String,
    },
    /// The repository name is too long.
    #[error("image reference {input:?}: repository name longer than {MAX_NAME_LEN} characters")]
    NameTooLong {
        /// The whole input.
        input: String,
    },
    /// The tag is not valid.
    #[error(
        "image reference {input:?}: invalid tag {tag:?} (1-128 of [A-Za-z0-9_.-], not starting with . or -)"
    )]
    InvalidTag {
        /// The whole input.
        input: String,
        /// The tag at fault.
        tag: String,
    },
    /// The digest is not valid.
    #[error("image reference {input:?}: invalid digest: {reason}")]
    InvalidDigest {
        /// The whole input.
        input: String,
        /// Why the digest was rejected.
        reason: String,
    },
}

impl ReferenceError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            ReferenceError::NameTooLong { .. } => ErrorKind::LimitExceeded,
            ReferenceError::Empty
            | ReferenceError::InvalidRegistry { .. }
            | ReferenceError::InvalidPathComponent { .. }
            | ReferenceError::InvalidTag { .. }
            | ReferenceError::InvalidDigest { .. } => ErrorKind::InvalidInput,
        }
    }
}

/// A parsed, normalized image reference (`registry/repository[:tag][@digest]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImageReference {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl ImageReference {
    /// Parses and normalizes a reference (`alpine`, `alpine:3.20`, `ghcr.io/o/r@sha256:...`,
    /// `localhost:5000/a/b:t@sha256:...`).
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if input.is_empty() {
            return Err(ReferenceError::Empty);
        }
        let (rest, digest) = match input.split_once('@') {
            Some((rest, d)) => {
                let digest = d
                    .parse::<Digest>()
                    .map_err(|e| ReferenceError::InvalidDigest {
                        input: input.to_string(),
                        reason: e.to_string(),
                    })?;
                (rest, Some(digest))
            }
            None => (input, None),
        };
        // The tag is after the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(i) => {
                let at = last_slash + i;
                (&rest[..at], Some(&rest[at + 1..]))
            }
            None => (rest, None),
        };
        if let Some(tag) = tag
            && !valid_tag(tag)
        {
            return Err(ReferenceError::InvalidTag {
                input: input.to_string(),
                tag: tag.to_string(),
            });
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, remainder)) if looks_like_registry(first) => {
                if !valid_registry(first) {
                    return Err(ReferenceError::InvalidRegistry {
                        input: input.to_string(),
                        host: first.to_string(),
                    });
                }
                let registry = if first == "index.docker.io" {
                    DEFAULT_REGISTRY
                } else {
                    first
                };
                (registry, remainder)
            }
            _ => (DEFAULT_REGISTRY, name),
        };
        if repository.is_empty() {
            return Err(ReferenceError::InvalidPathComponent {
                input: input.to_string(),
                component: String::new(),
            });
        }
        if repository.len() > MAX_NAME_LEN {
            return Err(ReferenceError::NameTooLong {
                input: input.to_string(),
            });
        }
        if let Some(bad) = repository.split('/').find(|c| !valid_path_component(c)) {
            return Err(ReferenceError::InvalidPathComponent {
                input: input.to_string(),
                component: bad.to_string(),
            });
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_TAG.to_string()),
        };
        Ok(Self {
            registry: registry.to_string(),
            repository: repository.to_string(),
            tag,
            digest,
        })
    }

    /// Registry host with optional port, e.g. `docker.io`, `127.0.0.1:5000`.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// Repository as the user wrote it (no `library/` insertion), e.g. `alpine`, `corpus/a`.
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// Repository as a registry expects it: `library/alpine` for single-component Docker Hub
    /// repositories, otherwise unchanged.
    pub fn registry_repository(&self) -> String {
        if self.registry == DEFAULT_REGISTRY && !self.repository.contains('/') {
            format!("library/{}", self.repository)
        } else {
            self.repository.clone()
        }
    }

    /// The tag, if any (`latest` was filled in when neither tag nor digest was given).
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if any.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to ask the registry for: the digest when present (it pins the content), else the tag.
    pub fn manifest_reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => DEFAULT_TAG.to_string(),
        }
    }

    /// Host (and port) to contact: `registry-1.docker.io` for Docker Hub, else the registry.
    pub fn api_host(&self) -> &str {
        if self.registry == DEFAULT_REGISTRY {
            "registry-1.docker.io"
        } else {
            &self.registry
        }
    }

    /// Anchore's `fulltag`: `registry/repository:tag` (tag defaults to `latest`).
    pub fn full_tag(&self) -> String {
        format!(
            "{}/{}:{}",
            self.registry,
            self.repository,
            self.tag.as_deref().unwrap_or(DEFAULT_TAG)
        )
    }

    /// The registry form: like the display form, with `library/` added where the registry needs it.
    pub fn registry_form(&self) -> String {
        format_ref(
            &self.registry,
            &self.registry_repository(),
            self.tag.as_deref(),
            self.digest.as_ref(),
        )
    }

    /// A copy of this reference pinned to `digest` (the tag is kept).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }
}

fn format_ref(registry: &str, repo: &str, tag: Option<&str>, digest: Option<&Digest>) -> String {
    let mut s = format!("{registry}/{repo}");
    if let Some(t) = tag {
        s.push(':');
        s.push_str(t);
    }
    if let Some(d) = digest {
        s.push('@');
        s.push_str(&d.to_string());
    }
    s
}

/// Docker's rule plus Anchore's extra names.
fn looks_like_registry(first: &str) -> bool {
    first.contains('.')
        || first.contains(':')
        || matches!(first, "localhost" | "localhost.localdomain" | "localbuild")
        || first.bytes().any(|b| b.is_ascii_uppercase())
}

fn valid_registry(host_port: &str) -> bool {
    // Bracketed IPv6 literal, optionally with a port.
    if let Some(rest) = host_port.strip_prefix('[') {
        let Some((inner, after)) = rest.split_once(']') else {
            return false;
        };
        let inner_ok = !inner.is_empty()
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.');
        return inner_ok && (after.is_empty() || after.strip_prefix(':').is_some_and(valid_port));
    }
    let (host, port) = match host_port.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (host_port, None),
    };
    if let Some(p) = port
        && !valid_port(p)
    {
        return false;
    }
    !host.is_empty() && host.split('.').all(valid_domain_component)
}

fn valid_port(p: &str) -> bool {
    !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit())
}

fn valid_domain_component(c: &str) -> bool {
    let b = c.as_bytes();
    !b.is_empty()
        && b.iter().all(|x| x.is_ascii_alphanumeric() || *x == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    let alnum = |x: u8| x.is_ascii_lowercase() || x.is_ascii_digit();
    if b.is_empty() || !alnum(b[0]) || !alnum(b[b.len() - 1]) {
        return false;
    }
    // Split into alternating alnum runs and separator runs; each separator run must be one of
    // `.`, `_`, `__` or one-or-more `-`.
    let mut i = 0;
    while i < b.len() {
        if alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    let word = |x: u8| x.is_ascii_alphanumeric() || x == b'_';
    !b.is_empty()
        && b.len() <= MAX_TAG_LEN
        && word(b[0])
        && b.iter().all(|x| word(*x) || *x == b'.' || *x == b'-')
}

impl FromStr for ImageReference {
    type Err = ReferenceError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ImageReference {
    /// Anchore's display form: `docker.io/alpine:latest` (no `library/` insertion).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_ref(
            &self.registry,
            &self.repository,
            self.tag.as_deref(),
            self.digest.as_ref(),
        ))
    }
}

impl Serialize for ImageReference {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ImageReference {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const D: &str = "sha256:d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c";

    fn r(s: &str) -> ImageReference {
        ImageReference::parse(s).unwrap()
    }

    #[test]
    fn docker_hub_defaults_and_library() {
        let a = r("alpine");
        assert_eq!(a.registry(), "docker.io");
        assert_eq!(a.repository(), "alpine");
        assert_eq!(a.registry_repository(), "library/alpine");
        assert_eq!(a.tag(), Some("latest"));
        assert_eq!(a.to_string(), "docker.io/alpine:latest");
        assert_eq!(a.registry_form(), "docker.io/library/alpine:latest");
        assert_eq!(a.api_host(), "registry-1.docker.io");
        assert_eq!(
            r("library/alpine:3.20").to_string(),
            "docker.io/library/alpine:3.20"
        );
        assert_eq!(
            r("index.docker.io/foo/bar").to_string(),
            "docker.io/foo/bar:latest"
        );
        assert_eq!(r("foo/bar").registry_repository(), "foo/bar");
    }

    #[test]
    fn registry_with_port_nested_paths_tag_and_digest() {
        let x = r(&format!("127.0.0.1:5000/corpus/deep/alpine-3.20:v2s2@{D}"));
        assert_eq!(x.registry(), "127.0.0.1:5000");
        assert_eq!(x.repository(), "corpus/deep/alpine-3.20");
        assert_eq!(x.tag(), Some("v2s2"));
        assert_eq!(x.digest().unwrap().to_string(), D);
        assert_eq!(x.manifest_reference(), D);
        assert_eq!(x.full_tag(), "127.0.0.1:5000/corpus/deep/alpine-3.20:v2s2");

        let y = r(&format!("localhost/a@{D}"));
        assert_eq!(y.registry(), "localhost");
        assert_eq!(y.tag(), None);
        assert_eq!(y.to_string(), format!("localhost/a@{D}"));
        assert_eq!(y.full_tag(), "localhost/a:latest");
        assert_eq!(r("localhost:5000/a").registry(), "localhost:5000");
        assert_eq!(r("ghcr.io/o/r:1.0").api_host(), "ghcr.io");
        assert_eq!(r("[::1]:5000/a:b").registry(), "[::1]:5000");
        // a port-like suffix on a path-only name is a tag
        assert_eq!(r("alpine:5000").tag(), Some("5000"));
    }

    #[test]
    fn rejects_invalid_references() {
        for bad in [
            "",
            "Alpine",
            "alpine:",
            "alpine:.bad",
            "a//b",
            "a/",
            "a..b",
            "a__-b",
            "-a",
            "a@sha256:abc",
            "a@md5:00",
            "host:port/a",
            "bad-.host:5000/a",
            "alpine:tag:other",
        ] {
            assert!(ImageReference::parse(bad).is_err(), "{bad:?} accepted");
        }
        let long = "a".repeat(256);
        assert!(matches!(
            ImageReference::parse(&long),
            Err(ReferenceError::NameTooLong { .. })
        ));
        assert!(ImageReference::parse(&format!("a:{}", "t".repeat(129))).is_err());
    }

    #[test]
    fn serde_round_trip() {
        let x = r("quay.io/a/b:c");
        let json = serde_json::to_string(&x).unwrap();
        assert_eq!(json, "\"quay.io/a/b:c\"");
        assert_eq!(serde_json::from_str::<ImageReference>(&json).unwrap(), x);
    }

    fn path_component() -> impl Strategy<Value = String> {
        "[a-z0-9]{1,6}(([._]|__|-{1,2})[a-z0-9]{1,6}){0,2}"
    }

    fn registry() -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            Just(None),
            Just(Some("localhost".to_string())),
            "[a-z][a-z0-9-]{0,6}[a-z0-9]\\.[a-z]{2,4}".prop_map(Some),
            ("[a-z][a-z0-9]{0,6}\\.[a-z]{2,4}", 1u16..65535)
                .prop_map(|(h, p)| Some(format!("{h}:{p}"))),
            (0u8..255, 0u8..255, 1u16..65535)
                .prop_map(|(a, b, p)| Some(format!("10.{a}.{b}.1:{p}"))),
        ]
    }

    proptest! {
        #[test]
        fn prop_valid_references_parse_and_round_trip(
            reg in registry(),
            comps in proptest::collection::vec(path_component(), 1..4),
            tag in proptest::option::of("[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}"),
            digest in proptest::option::of("[0-9a-f]{64}"),
        ) {
            let repo = comps.join("/");
            // without a registry, a first component with a dot would itself be a registry host
            prop_assume!(reg.is_some() || comps.len() == 1 || !comps[0].contains('.'));
            let mut s = match &reg { Some(h) => format!("{h}/{repo}"), None => repo.clone() };
            if let Some(t) = &tag { s.push(':'); s.push_str(t); }
            if let Some(d) = &digest { s.push_str("@sha256:"); s.push_str(d); }
            let parsed = ImageReference::parse(&s).unwrap();
            prop_assert_eq!(parsed.registry(), reg.as_deref().unwrap_or("docker.io"));
            prop_assert_eq!(parsed.repository(), repo.as_str());
            let expected_tag = match (&tag, &digest) {
                (Some(t), _) => Some(t.as_str()),
                (None, Some(_)) => None,
                (None, None) => Some("latest"),
            };
            prop_assert_eq!(parsed.tag(), expected_tag);
            prop_assert_eq!(parsed.digest().map(|d| d.encoded().to_string()), digest.clone());
            // normalization is idempotent and the display form re-parses to the same value
            let shown = parsed.to_string();
            let again = ImageReference::parse(&shown).unwrap();
            prop_assert_eq!(&again, &parsed);
            prop_assert_eq!(again.to_string(), shown);
            // the registry form only differs by `library/` for docker.io one-component names
            let lib = reg.is_none() && comps.len() == 1;
            prop_assert_eq!(parsed.registry_repository().starts_with("library/") && !repo.starts_with("library/"), lib);
        }

        #[test]
        fn prop_arbitrary_input_never_panics(s in "\\PC{0,80}") {
            let _ = ImageReference::parse(&s);
        }

        #[test]
        fn prop_uppercase_repository_is_rejected(c in "[A-Z]{1,5}") {
            let s = format!("docker.io/{c}");
            prop_assert!(ImageReference::parse(&s).is_err());
        }
    }
}
