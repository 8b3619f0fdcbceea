//! RPM `[epoch:]version[-release]` ordering.
//!
//! Hand-written port of the algorithm of rpm 4.18's `rpmvercmp()` and of how `rpm.ver()`
//! splits an EVR string. We do not use the `rpm-version` crate: it matches rpm on the corpus
//! pairs but splits the release at the *first* `-` and takes any text before `:` as the
//! epoch, where rpm splits at the *last* `-` and only takes a leading run of digits.
//! rpm accepts every string (`rpm-invalid.tsv` is empty); we only reject the empty string.

use std::cmp::Ordering;

/// A split RPM EVR.
#[derive(Debug, Clone)]
pub(crate) struct RpmVersion {
    epoch: String,
    version: String,
    release: Option<String>,
}

pub(crate) fn parse(input: &str) -> Result<RpmVersion, String> {
    if input.is_empty() {
        return Err("version string is empty".into());
    }
    let digits = input.bytes().take_while(u8::is_ascii_digit).count();
    let (epoch, rest) = if input.as_bytes().get(digits) == Some(&b':') {
        let e = &input[..digits];
        (if e.is_empty() { "0" } else { e }, &input[digits + 1..])
    } else {
        ("0", input)
    };
    let (version, release) = match rest.rsplit_once('-') {
        Some((v, r)) => (v, Some(r)),
        None => (rest, None),
    };
    Ok(RpmVersion {
        epoch: epoch.to_string(),
        version: version.to_string(),
        release: release.map(str::to_string),
    })
}

pub(crate) fn cmp(a: &RpmVersion, b: &RpmVersion) -> Ordering {
    vercmp(&a.epoch, &b.epoch)
        .then_with(|| vercmp(&a.version, &b.version))
        // A missing release sorts before any release, as `rpm.ver()` comparison does
        // (see corpus PROVENANCE); rpm's dependency matching treats it as a wildcard instead.
        .then_with(|| {
            vercmp(
                a.release.as_deref().unwrap_or(""),
                b.release.as_deref().unwrap_or(""),
            )
        })
}

/// `rpmvercmp`: segments of digits or letters, `~` sorts before anything, `^` after the end.
pub(crate) fn vercmp(a: &str, b: &str) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let (mut i, mut j) = (0usize, 0usize);
    let special = |c: u8| c.is_ascii_alphanumeric() || c == b'~' || c == b'^';
    while i < a.len() || j < b.len() {
        while i < a.len() && !special(a[i]) {
            i += 1;
        }
        while j < b.len() && !special(b[j]) {
            j += 1;
        }
        let (ca, cb) = (a.get(i).copied(), b.get(j).copied());
        if ca == Some(b'~') || cb == Some(b'~') {
            if ca != Some(b'~') {
                return Ordering::Greater;
            }
            if cb != Some(b'~') {
                return Ordering::Less;
            }
            i += 1;
            j += 1;
            continue;
        }
        if ca == Some(b'^') || cb == Some(b'^') {
            match (ca, cb) {
                (None, _) => return Ordering::Less,
                (_, None) => return Ordering::Greater,
                (Some(x), _) if x != b'^' => return Ordering::Greater,
                (_, Some(y)) if y != b'^' => return Ordering::Less,
                _ => {}
            }
            i += 1;
            j += 1;
            continue;
        }
        let (Some(ca), Some(_)) = (ca, cb) else {
            break;
        };
        let numeric = ca.is_ascii_digit();
        let class = |c: &u8| {
            if numeric {
                c.is_ascii_digit()
            } else {
                c.is_ascii_alphabetic()
            }
        };
        let ea = i + a[i..].iter().take_while(|c| class(c)).count();
        let eb = j + b[j..].iter().take_while(|c| class(c)).count();
        if eb == j {
            // Segment types differ: a number beats a word.
            return if numeric {
                Ordering::Greater
            } else {
                Ordering::Less
            };
        }
        let (mut sa, mut sb) = (&a[i..ea], &b[j..eb]);
        if numeric {
            while sa.first() == Some(&b'0') {
                sa = &sa[1..];
            }
            while sb.first() == Some(&b'0') {
                sb = &sb[1..];
            }
            match sa.len().cmp(&sb.len()) {
                Ordering::Equal => {}
                other => return other,
            }
        }
        match sa.cmp(sb) {
            Ordering::Equal => {}
            other => return other,
        }
        i = ea;
        j = eb;
    }
    match (i >= a.len(), j >= b.len()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        _ => Ordering::Greater,
    }
}
