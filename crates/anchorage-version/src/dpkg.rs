//! Debian package versions.
//!
//! Parsing and validation follow dpkg's `parseversion()` (dpkg 1.21): every string dpkg
//! reports an error *or a warning* for is rejected here, which is what
//! `../shared/corpus/versions/dpkg-invalid.tsv` expects. The ordering itself is the
//! `debversion` crate's, which agrees with `dpkg --compare-versions` on every corpus row; we
//! do not use its `FromStr` because it accepts strings dpkg rejects (`1.0-`, `a`, `1:`, `:1.0`).

use std::cmp::Ordering;

/// A validated Debian version.
#[derive(Debug, Clone)]
pub(crate) struct DpkgVersion(debversion::Version);

pub(crate) fn parse(input: &str) -> Result<DpkgVersion, String> {
    if input.is_empty() {
        return Err("version string is empty".into());
    }
    let s = input.trim_matches(|c: char| c == ' ' || c == '\t' || c == '\n' || c == '\r');
    if s.chars().any(|c| c.is_ascii_whitespace()) {
        return Err("version string has embedded spaces".into());
    }
    let (epoch, rest) = match s.split_once(':') {
        Some((e, rest)) => {
            let (negative, digits) = match e.as_bytes().first() {
                Some(b'+') => (false, &e[1..]),
                Some(b'-') => (true, &e[1..]),
                _ => (false, e),
            };
            if digits.is_empty() {
                return Err("epoch in version is empty".into());
            }
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err("epoch in version is not number".into());
            }
            let value: u64 = match digits.trim_start_matches('0') {
                "" => 0,
                d if d.len() > 10 => return Err("epoch in version is too big".into()),
                d => d.parse().map_err(|_| "epoch in version is not number")?,
            };
            if negative && value > 0 {
                return Err("epoch in version is negative".into());
            }
            let value = u32::try_from(value)
                .ok()
                .filter(|v| i32::try_from(*v).is_ok())
                .ok_or("epoch in version is too big")?;
            if rest.is_empty() {
                return Err("nothing after colon in version number".into());
            }
            (Some(value), rest)
        }
        None => (None, s),
    };
    let (upstream, revision) = match rest.rsplit_once('-') {
        Some((_, "")) => return Err("revision number is empty".into()),
        Some((u, r)) => (u, Some(r)),
        None => (rest, None),
    };
    if upstream.is_empty() {
        return Err("version number is empty".into());
    }
    if !upstream.as_bytes()[0].is_ascii_digit() {
        return Err("version number does not start with digit".into());
    }
    if !upstream
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b".-+~:".contains(&b))
    {
        return Err("invalid character in version number".into());
    }
    if let Some(r) = revision
        && !r
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+~".contains(&b))
    {
        return Err("invalid character in revision number".into());
    }
    Ok(DpkgVersion(debversion::Version {
        epoch,
        upstream_version: upstream.to_string(),
        debian_revision: revision.map(str::to_string),
    }))
}

pub(crate) fn cmp(a: &DpkgVersion, b: &DpkgVersion) -> Ordering {
    a.0.cmp(&b.0)
}
