//! Maven versions: a port of the algorithm of Maven's `ComparableVersion` (maven-artifact 3.9.16),
//! as specified at <https://maven.apache.org/pom.html#version-order-specification>.
//! Hand-written: the only crate (`mvn_version` 0.1) is a one-author 0.1.
//!
//! Checked against 7,841 verdicts of Maven 3.9.16's own `ComparableVersion`
//! (`tests/data/maven-3.9.16*.tsv`). Items nest one list per `-` or digit/letter transition,
//! so nesting depth (and comparison recursion) is bounded by the input length, itself capped
//! by [`crate::MAX_VERSION_LEN`].
//!
//! Every string is a valid Maven version. Deviation: only ASCII digits count as digits (Java's
//! `Character.isDigit` also accepts other Unicode digits).

use std::cmp::Ordering;

/// One parsed item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// A number, decimal digits without leading zeros ("" means 0).
    Int(String),
    /// A qualifier, lower-case, aliases resolved.
    Str(String),
    /// A sub-list started by `-` or a digit/letter transition.
    List(Vec<Item>),
}

/// Qualifier order; "" (release) is index 5.
const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE_INDEX: usize = 5;

fn qualifier_key(q: &str) -> (usize, &str) {
    match QUALIFIERS.iter().position(|x| *x == q) {
        Some(i) => (i, ""),
        None => (QUALIFIERS.len(), q),
    }
}

fn string_item(s: &str, followed_by_digit: bool) -> Item {
    let s = match (followed_by_digit, s) {
        (true, "a") => "alpha",
        (true, "b") => "beta",
        (true, "m") => "milestone",
        (_, "ga" | "final" | "release") => "",
        (_, "cr") => "rc",
        (_, other) => other,
    };
    Item::Str(s.to_string())
}

fn int_item(digits: &str) -> Item {
    Item::Int(digits.trim_start_matches('0').to_string())
}

fn parse_item(is_digit: bool, s: &str) -> Item {
    if is_digit {
        int_item(s)
    } else {
        string_item(s, false)
    }
}

fn is_null(item: &Item) -> bool {
    match item {
        Item::Int(d) => d.is_empty(),
        Item::Str(s) => qualifier_key(s).0 == RELEASE_INDEX,
        Item::List(l) => l.is_empty(),
    }
}

/// Removes trailing null items, stopping at the first non-null non-list item.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if is_null(&list[i]) {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// Builds the item tree. The parser keeps a stack of open lists (innermost last); every new
/// list is appended to its parent when closed, and every list is normalized when closed,
/// innermost first, exactly as `ComparableVersion.parseVersion` does.
pub(crate) fn parse(input: &str) -> Result<Item, String> {
    let v = input.to_lowercase();
    let b = v.as_bytes();
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut start = 0usize;
    let push = |stack: &mut Vec<Vec<Item>>, item: Item| {
        if let Some(top) = stack.last_mut() {
            top.push(item);
        }
    };
    for i in 0..b.len() {
        let c = b[i];
        if c == b'.' || c == b'-' {
            let item = if i == start {
                int_item("0")
            } else {
                parse_item(is_digit, &v[start..i])
            };
            push(&mut stack, item);
            start = i + 1;
            if c == b'-' {
                stack.push(Vec::new());
            }
        } else if c.is_ascii_digit() {
            if !is_digit && i > start {
                // `.X1` is treated as `-X1` (MNG-7644): a qualifier opens a sub-list unless
                // the current list is still empty.
                if stack.last().is_some_and(|l| !l.is_empty()) {
                    stack.push(Vec::new());
                }
                push(&mut stack, string_item(&v[start..i], true));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = true;
        } else {
            if is_digit && i > start {
                push(&mut stack, parse_item(true, &v[start..i]));
                start = i;
                stack.push(Vec::new());
            }
            is_digit = false;
        }
    }
    if v.len() > start {
        // Same rule for a trailing qualifier: `1.0.foo` == `1.0-foo`.
        if !is_digit && stack.last().is_some_and(|l| !l.is_empty()) {
            stack.push(Vec::new());
        }
        push(&mut stack, parse_item(is_digit, &v[start..]));
    }
    // Close lists innermost first; a list is normalized before being added to its parent,
    // which is then normalized in turn (Maven adds it first and normalizes afterwards; the
    // result is the same because normalization of a list only looks at its own items).
    while stack.len() > 1 {
        let mut inner = stack.pop().unwrap_or_default();
        normalize(&mut inner);
        push(&mut stack, Item::List(inner));
    }
    let mut root = stack.pop().unwrap_or_default();
    normalize(&mut root);
    Ok(Item::List(root))
}

fn cmp_int(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// `item.compareTo(other)` where `None` is Java's `null` (padding).
fn cmp_item(a: &Item, b: Option<&Item>) -> Ordering {
    match (a, b) {
        (Item::Int(x), None) => {
            if x.is_empty() {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        (Item::Int(x), Some(Item::Int(y))) => cmp_int(x, y),
        (Item::Int(_), Some(_)) => Ordering::Greater,
        (Item::Str(x), None) => qualifier_key(x).cmp(&(RELEASE_INDEX, "")),
        (Item::Str(_), Some(Item::Int(_))) => Ordering::Less,
        (Item::Str(x), Some(Item::Str(y))) => qualifier_key(x).cmp(&qualifier_key(y)),
        (Item::Str(_), Some(Item::List(_))) => Ordering::Less,
        // The whole list is compared with null, not just its first item (MNG-6964).
        (Item::List(l), None) => l
            .iter()
            .map(|i| cmp_item(i, None))
            .find(|o| *o != Ordering::Equal)
            .unwrap_or(Ordering::Equal),
        (Item::List(_), Some(Item::Int(_))) => Ordering::Less,
        (Item::List(_), Some(Item::Str(_))) => Ordering::Greater,
        (Item::List(l), Some(Item::List(r))) => {
            for i in 0..l.len().max(r.len()) {
                let ord = match (l.get(i), r.get(i)) {
                    (None, None) => Ordering::Equal,
                    (None, Some(ri)) => cmp_item(ri, None).reverse(),
                    (Some(li), ri) => cmp_item(li, ri),
                };
                if ord != Ordering::Equal {
                    return ord;
                }
            }
            Ordering::Equal
        }
    }
}

pub(crate) fn cmp(a: &Item, b: &Item) -> Ordering {
    cmp_item(a, Some(b))
}
