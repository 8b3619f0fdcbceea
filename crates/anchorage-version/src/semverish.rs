//! SemVer-based schemes: plain SemVer 2.0.0 (crates.io), node-semver (npm) and Go modules.
//! Parsing and precedence come from the `semver` crate; the per-ecosystem front ends are here.

use std::cmp::Ordering;

/// Longest string node-semver accepts (`MAX_LENGTH` in node-semver's constants).
const NPM_MAX_LENGTH: usize = 256;
/// node-semver rejects numeric components above `Number.MAX_SAFE_INTEGER`.
const NPM_MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;

pub(crate) type SemverVersion = semver::Version;

/// Strict SemVer 2.0.0, no prefix, no surrounding space.
pub(crate) fn parse_strict(input: &str) -> Result<SemverVersion, String> {
    semver::Version::parse(input).map_err(|e| e.to_string().to_lowercase())
}

/// node-semver `valid()` in strict mode: surrounding whitespace trimmed, optional `v`.
pub(crate) fn parse_npm(input: &str) -> Result<SemverVersion, String> {
    if input.len() > NPM_MAX_LENGTH {
        return Err(format!("longer than {NPM_MAX_LENGTH} characters"));
    }
    let s = input.trim();
    let s = s.strip_prefix('v').unwrap_or(s);
    let v = parse_strict(s)?;
    if v.major > NPM_MAX_SAFE_INTEGER
        || v.minor > NPM_MAX_SAFE_INTEGER
        || v.patch > NPM_MAX_SAFE_INTEGER
    {
        return Err("numeric component above max safe integer".into());
    }
    Ok(v)
}

/// Go module versions: `v` optional (OSV Go records omit it), `vMAJOR` and `vMAJOR.MINOR`
/// shorthands as in `golang.org/x/mod/semver`; `+incompatible` is build metadata.
pub(crate) fn parse_go(input: &str) -> Result<SemverVersion, String> {
    let s = input.strip_prefix('v').unwrap_or(input);
    let is_num = |p: &str| {
        !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) && (p == "0" || !p.starts_with('0'))
    };
    let parts: Vec<&str> = s.split('.').collect();
    if input.starts_with('v') && parts.len() < 3 && parts.iter().all(|p| is_num(p)) {
        let mut full = s.to_string();
        for _ in parts.len()..3 {
            full.push_str(".0");
        }
        return parse_strict(&full);
    }
    parse_strict(s)
}

/// SemVer precedence: build metadata ignored.
pub(crate) fn cmp(a: &SemverVersion, b: &SemverVersion) -> Ordering {
    a.cmp_precedence(b)
}

/// node-semver `compareBuild`: precedence, then build identifiers (no build sorts first).
pub(crate) fn cmp_npm_build(a: &SemverVersion, b: &SemverVersion) -> Ordering {
    match cmp(a, b) {
        Ordering::Equal => {}
        other => return other,
    }
    let ab: Vec<&str> = if a.build.is_empty() {
        Vec::new()
    } else {
        a.build.as_str().split('.').collect()
    };
    let bb: Vec<&str> = if b.build.is_empty() {
        Vec::new()
    } else {
        b.build.as_str().split('.').collect()
    };
    let mut i = 0;
    loop {
        match (ab.get(i), bb.get(i)) {
            (None, None) => return Ordering::Equal,
            (Some(_), None) => return Ordering::Greater,
            (None, Some(_)) => return Ordering::Less,
            (Some(x), Some(y)) if x == y => i += 1,
            // node returns compareIdentifiers' answer here even when it is 0 ("01" vs "1").
            (Some(x), Some(y)) => return compare_identifiers(x, y),
        }
    }
}

/// node-semver `compareIdentifiers`: numeric identifiers compare as numbers and sort first.
fn compare_identifiers(a: &str, b: &str) -> Ordering {
    let num = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    match (num(a), num(b)) {
        (true, true) => {
            let (x, y) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        }
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.cmp(b),
    }
}
