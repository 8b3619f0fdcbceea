//! Best-effort ordering for ecosystems without a known scheme: the string is split into runs
//! of ASCII digits and ASCII letters (everything else separates); numbers compare numerically,
//! letters case-insensitively, a number beats a word, and when one side runs out a following
//! number makes the other side greater while a following word (e.g. `rc1`) makes it smaller.

use std::cmp::Ordering;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Run {
    Num(String),
    Word(String),
}

/// Runs of a generic version.
pub(crate) type GenericVersion = Vec<Run>;

pub(crate) fn parse(input: &str) -> Result<GenericVersion, String> {
    let mut runs = Vec::new();
    let b = input.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        if b[i].is_ascii_digit() {
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            runs.push(Run::Num(
                input[start..i].trim_start_matches('0').to_string(),
            ));
        } else if b[i].is_ascii_alphabetic() {
            while i < b.len() && b[i].is_ascii_alphabetic() {
                i += 1;
            }
            runs.push(Run::Word(input[start..i].to_ascii_lowercase()));
        } else {
            i += 1;
        }
    }
    if runs.is_empty() {
        return Err("no digits or letters".into());
    }
    Ok(runs)
}

pub(crate) fn cmp(a: &GenericVersion, b: &GenericVersion) -> Ordering {
    for (x, y) in a.iter().zip(b) {
        let ord = match (x, y) {
            (Run::Num(p), Run::Num(q)) => p.len().cmp(&q.len()).then_with(|| p.cmp(q)),
            (Run::Num(_), Run::Word(_)) => Ordering::Greater,
            (Run::Word(_), Run::Num(_)) => Ordering::Less,
            (Run::Word(p), Run::Word(q)) => p.cmp(q),
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    let n = a.len().min(b.len());
    match (a.get(n), b.get(n)) {
        (Some(Run::Num(_)), None) | (None, Some(Run::Word(_))) => Ordering::Greater,
        (Some(Run::Word(_)), None) | (None, Some(Run::Num(_))) => Ordering::Less,
        _ => Ordering::Equal,
    }
}
