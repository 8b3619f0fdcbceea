//! Composer (Packagist) versions: hand-written port of the behaviour of Composer's
//! `VersionParser::normalize()` followed by PHP's `version_compare()`, which is how Composer
//! orders versions. No Rust crate implements either.
//!
//! Deviations: date-style versions (`20240101`, `2024-01-01`) accept any run of digits and
//! `.`/`:`/`-` after four leading digits (Composer's regex limits group counts); numbers
//! compare exactly where PHP's `strtol` would saturate. `dev-` branches have no order and are
//! rejected.

use std::cmp::Ordering;

/// A normalized Composer version such as `1.2.0.0-beta1`.
#[derive(Debug, Clone)]
pub(crate) struct ComposerVersion(String);

const STABILITIES: [&str; 9] = [
    "stable", "beta", "b", "rc", "alpha", "a", "patch", "pl", "p",
];

fn expand_stability(s: &str) -> &'static str {
    match s {
        "a" | "alpha" => "alpha",
        "b" | "beta" => "beta",
        "p" | "pl" | "patch" => "patch",
        "rc" => "RC",
        "stable" => "stable",
        _ => "dev",
    }
}

/// Matches `[._-]?(?:(stability)((?:[.-]?\d+)*+)?)?([.-]?dev)?$` (case-insensitive) against
/// `m`; returns (stability as written, its numbers, dev flag).
fn modifier(m: &str) -> Option<(Option<String>, String, bool)> {
    let lower = m.to_ascii_lowercase();
    let mut starts = vec![0usize];
    if lower.starts_with(['.', '_', '-']) {
        starts.insert(0, 1);
    }
    for start in starts {
        let rest = &lower[start..];
        let mut options: Vec<(Option<&str>, &str)> = STABILITIES
            .iter()
            .filter_map(|s| {
                rest.strip_prefix(s)
                    .map(|r| (Some(&m[start..start + s.len()]), r))
            })
            .collect();
        options.push((None, rest));
        for (stab, mut r) in options {
            let mut nums = String::new();
            if stab.is_some() {
                // (?:[.-]?\d+)*+ : possessive, take as many as possible.
                loop {
                    let skip = usize::from(r.starts_with(['.', '-']));
                    let digits = r[skip..].bytes().take_while(u8::is_ascii_digit).count();
                    if digits == 0 {
                        break;
                    }
                    nums.push_str(&r[..skip + digits]);
                    r = &r[skip + digits..];
                }
            }
            let dev = match r {
                "" => Some(false),
                "dev" | ".dev" | "-dev" => Some(true),
                _ => None,
            };
            if let Some(dev) = dev {
                return Some((stab.map(str::to_string), nums, dev));
            }
        }
    }
    None
}

fn with_modifier(mut version: String, m: &str) -> Option<String> {
    let (stab, nums, dev) = modifier(m)?;
    if let Some(stab) = stab {
        if stab == "stable" {
            return Some(version);
        }
        version.push('-');
        version.push_str(expand_stability(&stab.to_ascii_lowercase()));
        version.push_str(nums.trim_start_matches(['.', '-']));
    }
    if dev {
        version.push_str("-dev");
    }
    Some(version)
}

fn classical(s: &str) -> Option<String> {
    let first = s.bytes().take_while(u8::is_ascii_digit).count();
    if first == 0 || first > 5 || s[first..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let mut version = s[..first].to_string();
    let mut rest = &s[first..];
    let mut parts = 1;
    while parts < 4 && rest.starts_with('.') {
        let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            break;
        }
        version.push_str(&rest[..=digits]);
        rest = &rest[1 + digits..];
        parts += 1;
    }
    for _ in parts..4 {
        version.push_str(".0");
    }
    with_modifier(version, rest)
}

fn date(s: &str) -> Option<String> {
    if s.bytes().take_while(u8::is_ascii_digit).count() < 4 {
        return None;
    }
    let b = s.as_bytes();
    let mut end = 0;
    while end < b.len() {
        let separator_before_digit =
            matches!(b[end], b'.' | b':' | b'-') && b.get(end + 1).is_some_and(u8::is_ascii_digit);
        if !b[end].is_ascii_digit() && !separator_before_digit {
            break;
        }
        end += 1;
    }
    let version: String = s[..end]
        .chars()
        .map(|c| if c.is_ascii_digit() { c } else { '.' })
        .collect();
    with_modifier(version, &s[end..])
}

/// `normalizeBranch` for `1.x-dev`-style names: wildcards become 9999999.
fn branch(name: &str) -> Option<String> {
    let name = name.strip_prefix(['v', 'V']).unwrap_or(name);
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > 4 || parts[0].is_empty() || !parts[0].bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = parts[0].to_string();
    for p in &parts[1..] {
        if matches!(*p, "x" | "X" | "*") {
            out.push_str(".9999999");
        } else if !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) {
            out.push('.');
            out.push_str(p);
        } else {
            return None;
        }
    }
    for _ in parts.len()..4 {
        out.push_str(".9999999");
    }
    out.push_str("-dev");
    Some(out)
}

pub(crate) fn parse(input: &str) -> Result<ComposerVersion, String> {
    let mut s = input.trim();
    if let Some((v, alias)) = s.split_once(" as ")
        && !v.trim().contains([',', ' '])
        && !alias.trim().contains([',', ' '])
    {
        s = v.trim();
    }
    if let Some((v, flag)) = s.rsplit_once('@')
        && ["stable", "rc", "beta", "alpha", "dev"].contains(&flag.to_ascii_lowercase().as_str())
    {
        s = v;
    }
    if matches!(s, "master" | "trunk" | "default")
        || s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("dev-"))
    {
        return Err("dev branches have no version order".into());
    }
    if let Some((v, build)) = s.split_once('+')
        && !v.is_empty()
        && !v.contains([',', ' '])
        && !build.is_empty()
        && !build.contains(char::is_whitespace)
    {
        s = v;
    }
    let body = s.strip_prefix(['v', 'V']).unwrap_or(s);
    if let Some(v) = classical(body).or_else(|| date(body)) {
        return Ok(ComposerVersion(v));
    }
    let lower = s.to_ascii_lowercase();
    if let Some(stem) = lower.strip_suffix("dev") {
        let stem = stem.strip_suffix(['.', '-']).unwrap_or(stem);
        if let Some(v) = branch(&s[..stem.len()]) {
            return Ok(ComposerVersion(v));
        }
    }
    Err("invalid version string".into())
}

/// PHP `version_compare` canonical form: `.` between digit/non-digit transitions, `-_+` and
/// other non-alphanumerics become `.`; split on `.`.
fn php_segments(v: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev: Option<char> = None;
    for c in v.chars() {
        let sep = !c.is_ascii_alphanumeric();
        let transition = prev
            .is_some_and(|p| p.is_ascii_alphanumeric() && p.is_ascii_digit() != c.is_ascii_digit());
        if sep || transition {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            if sep {
                prev = Some(c);
                continue;
            }
        }
        cur.push(c);
        prev = Some(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// PHP's special version forms, matched by prefix; anything else sorts lowest.
fn special_rank(s: &str) -> i32 {
    const FORMS: [(&str, i32); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(name, _)| s.starts_with(name))
        .map_or(-6, |(_, r)| *r)
}

fn is_num(s: &str) -> bool {
    s.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

fn cmp_segment(a: &str, b: &str) -> Ordering {
    match (is_num(a), is_num(b)) {
        (true, true) => {
            let (x, y) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        }
        (false, false) => special_rank(a).cmp(&special_rank(b)),
        (true, false) => special_rank("#").cmp(&special_rank(b)),
        (false, true) => special_rank(a).cmp(&special_rank("#")),
    }
}

pub(crate) fn cmp(a: &ComposerVersion, b: &ComposerVersion) -> Ordering {
    let (sa, sb) = (php_segments(&a.0), php_segments(&b.0));
    for (x, y) in sa.iter().zip(&sb) {
        match cmp_segment(x, y) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    // One side ran out: a following number makes the longer one greater, a word is compared
    // against "#" (so "1.0-beta" < "1.0" < "1.0-patch").
    let n = sa.len().min(sb.len());
    match (sa.get(n), sb.get(n)) {
        (Some(x), None) => {
            if is_num(x) {
                Ordering::Greater
            } else {
                cmp_segment(x, "#")
            }
        }
        (None, Some(y)) => {
            if is_num(y) {
                Ordering::Less
            } else {
                cmp_segment("#", y)
            }
        }
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    // Source: composer/semver tests/VersionParserTest.php, successfulNormalizedVersions().
    #[test]
    fn normalizes_like_composer_version_parser() {
        for (input, want) in [
            ("1.0.0", "1.0.0.0"),
            ("1.2.3.4", "1.2.3.4"),
            ("1.0.0RC1dev", "1.0.0.0-RC1-dev"),
            ("1.0.0-rC15-dev", "1.0.0.0-RC15-dev"),
            ("1.0.0.RC.15-dev", "1.0.0.0-RC15-dev"),
            ("1.0-dev", "1.0.0.0-dev"),
            ("0", "0.0.0.0"),
            ("10.4.13-beta", "10.4.13.0-beta"),
            ("10.4.13beta2", "10.4.13.0-beta2"),
            ("10.4.13beta.2", "10.4.13.0-beta2"),
            ("v1.13.11-beta.0", "1.13.11.0-beta0"),
            ("1.13.11.0-beta0", "1.13.11.0-beta0"),
            ("10.4.13-b", "10.4.13.0-beta"),
            ("10.4.13-b5", "10.4.13.0-beta5"),
            ("v1.0.0", "1.0.0.0"),
            ("2010.01", "2010.01.0.0"),
            ("2010.01.02", "2010.01.02.0"),
            ("2010.1.555", "2010.1.555.0"),
            ("v20100102", "20100102"),
            ("2010-01-02", "2010.01.02"),
            ("2010-01-02.5", "2010.01.02.5"),
            ("20100102-203040", "20100102.203040"),
            ("20100102203040-10", "20100102203040.10"),
            ("20100102-203040-p1", "20100102.203040-patch1"),
            ("201903.0", "201903.0"),
            ("201903.0-p2", "201903.0-patch2"),
            ("1.0.0+foo", "1.0.0.0"),
            ("1.0.0-beta.5+foo", "1.0.0.0-beta5"),
            ("1.0.0+foo as 2.0", "1.0.0.0"),
            ("1.0.0@dev", "1.0.0.0"),
            ("1.x-dev", "1.9999999.9999999.9999999-dev"),
            ("2.1.*-dev", "2.1.9999999.9999999-dev"),
        ] {
            let got = parse(input).map(|v| v.0);
            assert_eq!(got.as_deref(), Ok(want), "{input}");
        }
    }

    // Source: same file, failingNormalizedVersions().
    #[test]
    fn rejects_what_composer_rejects() {
        for input in [
            "",
            "a",
            "1.0.0-meh",
            "1.0.0.0.0",
            "feature-foo",
            "1.0 .2",
            "dev-master",
        ] {
            assert!(parse(input).is_err(), "{input:?}");
        }
    }
}
