//! RubyGems `Gem::Version` (rubygems/version.rb): hand-written port of its documented
//! behaviour, there is no Rust crate for it.
//!
//! Valid: `\A\s*([0-9]+(\.[0-9a-zA-Z]+)*(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?)?\s*\z`; an empty
//! string is "0". `-` means `.pre.`. Segments are runs of digits (numbers) or letters
//! (strings); a string segment makes the version a prerelease and sorts before any number.
//! Trailing zeros of the numeric part and of the string part are dropped before comparing.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    /// Digits without leading zeros ("" is 0).
    Num(String),
    /// Letters, case preserved.
    Str(String),
}

/// Canonical segments of a valid gem version.
pub(crate) type GemVersion = Vec<Seg>;

fn valid(s: &str) -> bool {
    if s.is_empty() {
        return true;
    }
    let (release, pre) = match s.split_once('-') {
        Some((r, p)) => (r, Some(p)),
        None => (s, None),
    };
    let mut parts = release.split('.');
    let first_ok = parts
        .next()
        .is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    let rest_ok = parts.all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_alphanumeric()));
    let pre_ok = pre.is_none_or(|p| {
        p.split('.')
            .all(|q| !q.is_empty() && q.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
    });
    first_ok && rest_ok && pre_ok
}

pub(crate) fn parse(input: &str) -> Result<GemVersion, String> {
    let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
    if !valid(s) {
        return Err("malformed version number string".into());
    }
    let s = if s.is_empty() { "0" } else { s };
    let mut segs = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            segs.push(Seg::Num(s[start..i].trim_start_matches('0').to_string()));
        } else if b[i].is_ascii_alphabetic() {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            segs.push(Seg::Str(s[start..i].to_string()));
        } else {
            // `.` and `-` (which Ruby turns into ".pre.") only separate segments.
            if b[i] == b'-' {
                segs.push(Seg::Str("pre".to_string()));
            }
            i += 1;
        }
    }
    // canonical_segments: split at the first string segment, drop trailing zeros of each part.
    let split = segs
        .iter()
        .position(|x| matches!(x, Seg::Str(_)))
        .unwrap_or(segs.len());
    let mut string_part = segs.split_off(split);
    let is_zero = |x: &Seg| matches!(x, Seg::Num(d) if d.is_empty());
    while segs.last().is_some_and(is_zero) {
        segs.pop();
    }
    while string_part.last().is_some_and(is_zero) {
        string_part.pop();
    }
    segs.extend(string_part);
    Ok(segs)
}

pub(crate) fn cmp(a: &GemVersion, b: &GemVersion) -> Ordering {
    let zero = Seg::Num(String::new());
    for i in 0..a.len().max(b.len()) {
        let l = a.get(i).unwrap_or(&zero);
        let r = b.get(i).unwrap_or(&zero);
        let ord = match (l, r) {
            (Seg::Num(x), Seg::Num(y)) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
            (Seg::Str(_), Seg::Num(_)) => Ordering::Less,
            (Seg::Num(_), Seg::Str(_)) => Ordering::Greater,
            (Seg::Str(x), Seg::Str(y)) => x.cmp(y),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    Ordering::Equal
}
