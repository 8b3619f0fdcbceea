//! NuGet versions (`NuGetVersion` + `VersionComparer.Default`), hand-written after
//! <https://learn.microsoft.com/en-us/nuget/concepts/package-versioning>: one to four numeric
//! parts (missing parts are 0, leading zeros allowed, each fits an `i32`), an optional
//! dot-separated release label after the first `-`, optional `+metadata` which is ignored.
//! Labels compare numerically when both are numbers, numbers before words, words
//! case-insensitively; a version without release label sorts after any with one.

use std::cmp::Ordering;

/// Parsed NuGet version (metadata dropped).
#[derive(Debug, Clone)]
pub(crate) struct NuGetVersion {
    parts: [u32; 4],
    release: Vec<String>,
}

fn ident_ok(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

pub(crate) fn parse(input: &str) -> Result<NuGetVersion, String> {
    let s = input.trim();
    let (rest, meta) = match s.split_once('+') {
        Some((r, m)) => (r, Some(m)),
        None => (s, None),
    };
    if let Some(m) = meta
        && !m.split('.').all(ident_ok)
    {
        return Err("invalid build metadata".into());
    }
    let (core, release) = match rest.split_once('-') {
        Some((c, r)) => (c, Some(r)),
        None => (rest, None),
    };
    let nums: Vec<&str> = core.split('.').collect();
    if nums.is_empty() || nums.len() > 4 {
        return Err("expected one to four numeric parts".into());
    }
    let mut parts = [0u32; 4];
    for (slot, n) in parts.iter_mut().zip(&nums) {
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("numeric part {n:?} is not a number"));
        }
        *slot = n
            .parse::<u32>()
            .ok()
            .filter(|v| i32::try_from(*v).is_ok())
            .ok_or_else(|| format!("numeric part {n:?} is too large"))?;
    }
    let release = match release {
        None => Vec::new(),
        Some(r) => {
            let labels: Vec<String> = r.split('.').map(str::to_string).collect();
            if !labels.iter().all(|l| ident_ok(l)) {
                return Err("invalid release label".into());
            }
            labels
        }
    };
    Ok(NuGetVersion { parts, release })
}

fn cmp_label(a: &str, b: &str) -> Ordering {
    let num = |s: &str| s.bytes().all(|c| c.is_ascii_digit());
    match (num(a), num(b)) {
        (true, true) => {
            let (x, y) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a
            .bytes()
            .map(|c| c.to_ascii_uppercase())
            .cmp(b.bytes().map(|c| c.to_ascii_uppercase())),
    }
}

pub(crate) fn cmp(a: &NuGetVersion, b: &NuGetVersion) -> Ordering {
    a.parts
        .cmp(&b.parts)
        .then_with(|| match (a.release.is_empty(), b.release.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (x, y) in a.release.iter().zip(&b.release) {
                    match cmp_label(x, y) {
                        Ordering::Equal => {}
                        other => return other,
                    }
                }
                a.release.len().cmp(&b.release.len())
            }
        })
}
