//! Small shared pieces of the API: Anchore's tag normalization (§2.1), booleans written any
//! way (§1.4), ISO-8601 times (§9.5), digests.

use chrono::{DateTime, TimeZone as _, Utc};
use md5::{Digest as _, Md5};

use crate::error::{ApiError, ApiResult};

/// A normalized image tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tag {
    /// Registry host (`docker.io` by default).
    pub(crate) registry: String,
    /// Repository (no `library/` insertion, as in Anchore).
    pub(crate) repo: String,
    /// Tag (`latest` by default).
    pub(crate) tag: String,
}

impl Tag {
    /// `registry/repo:tag`.
    pub(crate) fn full(&self) -> String {
        format!("{}/{}:{}", self.registry, self.repo, self.tag)
    }
}

/// Parses and normalizes a tag the way Anchore does: a first path component is a registry only
/// when it has a `.` or `:` or is `localhost`/`localhost.localdomain`/`localbuild`/`docker.io`;
/// else the registry is `docker.io`; the tag defaults to `latest`.
pub(crate) fn normalize_tag(input: &str) -> ApiResult<Tag> {
    let input = input.trim();
    let bad = |why: &str| ApiError::bad_request(format!("invalid image tag {input:?}: {why}"));
    if input.is_empty() {
        return Err(bad("empty"));
    }
    if input.contains('@') {
        return Err(bad("a digest is not a tag; add images by tag"));
    }
    if input.len() > 512 || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("not a reference"));
    }
    let input = input
        .strip_prefix("dockerhub/")
        .map_or(input.to_string(), |r| format!("docker.io/{r}"));
    let (first, rest) = match input.split_once('/') {
        Some((f, r))
            if f.contains('.')
                || f.contains(':')
                || matches!(
                    f,
                    "localhost" | "localhost.localdomain" | "localbuild" | "docker.io"
                ) =>
        {
            (f.to_string(), r.to_string())
        }
        _ => ("docker.io".to_string(), input.clone()),
    };
    // The tag is after the last ':' of the last path component.
    let (repo, tag) = match rest.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r.to_string(), t.to_string()),
        _ => (rest.clone(), "latest".to_string()),
    };
    let valid_repo = !repo.is_empty()
        && repo.split('/').all(|c| {
            !c.is_empty()
                && c.chars()
                    .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || "._-".contains(ch))
        });
    if !valid_repo {
        return Err(bad(
            "repository must be lower-case letters, digits, '.', '_', '-' and '/'",
        ));
    }
    let valid_tag = !tag.is_empty()
        && tag.len() <= 128
        && tag
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch));
    if !valid_tag {
        return Err(bad("tag must be letters, digits, '.', '_' and '-'"));
    }
    Ok(Tag {
        registry: first,
        repo,
        tag,
    })
}

/// Checks an image digest (`sha256:` and 64 lower-case hex digits).
pub(crate) fn check_digest(digest: &str) -> ApiResult<()> {
    let ok = digest.strip_prefix("sha256:").is_some_and(|h| {
        h.len() == 64
            && h.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    });
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_request(format!(
            "invalid image digest {digest:?}: expected sha256: and 64 lower-case hex digits"
        ))
        .code("BAD_REQUEST"))
    }
}

/// Reads a boolean query parameter written any way (`True`, `false`, `1`, `no`...).
pub(crate) fn parse_bool(name: &str, value: Option<&str>, default: bool) -> ApiResult<bool> {
    match value.map(|v| v.trim().to_ascii_lowercase()) {
        None => Ok(default),
        Some(v) if v.is_empty() => Ok(default),
        Some(v) if matches!(v.as_str(), "true" | "1" | "yes" | "y" | "on") => Ok(true),
        Some(v) if matches!(v.as_str(), "false" | "0" | "no" | "n" | "off") => Ok(false),
        Some(v) => Err(ApiError::bad_request(format!(
            "query parameter {name}: {v:?} is not a boolean (true or false)"
        ))),
    }
}

/// Epoch seconds as ISO-8601 UTC with `Z` (`2021-03-01T12:00:00Z`).
pub(crate) fn iso(epoch: i64) -> String {
    Utc.timestamp_opt(epoch, 0)
        .single()
        .unwrap_or_default()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Parses an ISO-8601 time (with or without zone; no zone means UTC) to epoch seconds.
pub(crate) fn parse_time(name: &str, value: &str) -> ApiResult<i64> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.timestamp());
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S",
    ] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(value, format) {
            return Ok(t.and_utc().timestamp());
        }
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        return Ok(d
            .and_hms_opt(0, 0, 0)
            .map_or(0, |t| t.and_utc().timestamp()));
    }
    Err(ApiError::bad_request(format!(
        "query parameter {name}: {value:?} is not an ISO-8601 time"
    )))
}

/// Now, epoch seconds.
pub(crate) fn now() -> i64 {
    Utc::now().timestamp()
}

/// Lower-case hex MD5 of the text (Anchore's derived ids).
pub(crate) fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_normalize_like_anchore() {
        let t = |s: &str| {
            normalize_tag(s)
                .map(|t| t.full())
                .unwrap_or_else(|e| e.message)
        };
        assert_eq!(t("alpine"), "docker.io/alpine:latest");
        assert_eq!(t("library/alpine:3.12"), "docker.io/library/alpine:3.12");
        assert_eq!(t("127.0.0.1:5000/app:1"), "127.0.0.1:5000/app:1");
        assert_eq!(t("localhost/x/y"), "localhost/x/y:latest");
        assert_eq!(t("quay.io/org/img:v1.2"), "quay.io/org/img:v1.2");
        assert_eq!(t("dockerhub/nginx"), "docker.io/nginx:latest");
        assert!(t("UPPER/case").starts_with("invalid image tag"));
        assert!(t("a@sha256:00").contains("digest is not a tag"));
        assert!(t("").contains("empty"));
    }

    #[test]
    fn booleans_are_read_in_any_case() {
        assert_eq!(parse_bool("x", Some("True"), false).ok(), Some(true));
        assert_eq!(parse_bool("x", Some("FALSE"), true).ok(), Some(false));
        assert_eq!(parse_bool("x", None, true).ok(), Some(true));
        assert!(parse_bool("x", Some("maybe"), true).is_err());
    }

    #[test]
    fn times_round_trip() {
        assert_eq!(iso(1_614_600_000), "2021-03-01T12:00:00Z");
        assert_eq!(
            parse_time("t", "2021-03-01T12:00:00Z").ok(),
            Some(1_614_600_000)
        );
        assert_eq!(
            parse_time("t", "2021-03-01T12:00:00").ok(),
            Some(1_614_600_000)
        );
        assert!(parse_time("t", "yesterday").is_err());
    }
}
