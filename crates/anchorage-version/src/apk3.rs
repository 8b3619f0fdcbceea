//! Alpine apk versions as apk-tools 3 orders them (Alpine 3.23 and later).
//!
//! Hand-written (no crate exists) after the grammar apk-tools 3 documents:
//! `digit{.digit}...{letter}{_suffix{#}}...{~hash}{-r#}`. Differences from apk-tools 2
//! ([`crate::apk`]):
//! - a dot-separated number with a leading zero on either side (`1.05` vs `1.4`) compares as
//!   a string (Gentoo's rule), not numerically with the zeros counting negatively;
//! - a `~hexdigits` commit-hash token is accepted after the suffixes and compares as a string;
//! - a digit directly after a letter (`1.2a3`) is invalid;
//! - number runs are unsigned 64-bit (longer runs saturate instead of being rejected).

use std::cmp::Ordering;

/// Token kinds in the order the grammar allows them (the order is also the tie-break: at the
/// first differing kind, the version with the *smaller* kind is the greater one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialDigit,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    CommitHash,
    RevisionNo,
    End,
    Invalid,
}

/// Suffix ranks: pre-release suffixes below `NONE`, post-release ones above.
const SUFFIX_NONE: u8 = 4;

fn suffix_rank(s: &str) -> Option<u8> {
    Some(match s {
        "alpha" => 0,
        "beta" => 1,
        "pre" => 2,
        "rc" => 3,
        "cvs" => 5,
        "svn" => 6,
        "git" => 7,
        "hg" => 8,
        "p" => 9,
        _ => return None,
    })
}

/// One token: its kind, numeric value (numbers and suffix ranks) and raw text.
#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    number: u64,
    text: &'a str,
}

/// Walks the tokens of a version string.
struct Tokens<'a> {
    rest: &'a str,
    current: Token<'a>,
}

impl<'a> Tokens<'a> {
    fn new(s: &'a str) -> Self {
        let mut t = Tokens {
            rest: s,
            current: Token {
                kind: Kind::InitialDigit,
                number: 0,
                text: "",
            },
        };
        t.digits(Kind::InitialDigit);
        t
    }

    fn digits(&mut self, kind: Kind) {
        let end = self
            .rest
            .bytes()
            .position(|b| !b.is_ascii_digit())
            .unwrap_or(self.rest.len());
        let (text, rest) = self.rest.split_at(end);
        self.rest = rest;
        let number = text.bytes().fold(0u64, |acc, b| {
            acc.saturating_mul(10).saturating_add(u64::from(b - b'0'))
        });
        self.current = Token {
            kind: if text.is_empty() { Kind::Invalid } else { kind },
            number,
            text,
        };
    }

    fn take_while(&mut self, f: impl Fn(u8) -> bool) -> &'a str {
        let end = self
            .rest
            .bytes()
            .position(|b| !f(b))
            .unwrap_or(self.rest.len());
        let (text, rest) = self.rest.split_at(end);
        self.rest = rest;
        text
    }

    fn invalid(&mut self) {
        self.current.kind = Kind::Invalid;
    }

    /// Moves to the next token, checking that the grammar allows it after the current one.
    fn advance(&mut self) {
        let prev = self.current.kind;
        let Some(&first) = self.rest.as_bytes().first() else {
            self.current.kind = Kind::End;
            return;
        };
        match first {
            b'a'..=b'z' => {
                if prev > Kind::Digit {
                    return self.invalid();
                }
                let (text, rest) = self.rest.split_at(1);
                self.rest = rest;
                self.current = Token {
                    kind: Kind::Letter,
                    number: 0,
                    text,
                };
            }
            b'.' | b'0'..=b'9' => {
                if first == b'.' {
                    if prev > Kind::Digit {
                        return self.invalid();
                    }
                    self.rest = &self.rest[1..];
                }
                let kind = match prev {
                    Kind::InitialDigit | Kind::Digit => Kind::Digit,
                    Kind::Suffix => Kind::SuffixNo,
                    _ => return self.invalid(),
                };
                self.digits(kind);
            }
            b'_' => {
                if prev > Kind::SuffixNo {
                    return self.invalid();
                }
                self.rest = &self.rest[1..];
                let text = self.take_while(|b| b.is_ascii_lowercase());
                match suffix_rank(text) {
                    Some(rank) => {
                        self.current = Token {
                            kind: Kind::Suffix,
                            number: u64::from(rank),
                            text,
                        }
                    }
                    None => self.invalid(),
                }
            }
            b'~' => {
                if prev >= Kind::CommitHash {
                    return self.invalid();
                }
                self.rest = &self.rest[1..];
                let text = self.take_while(|b| b.is_ascii_hexdigit());
                if text.is_empty() {
                    return self.invalid();
                }
                self.current = Token {
                    kind: Kind::CommitHash,
                    number: 0,
                    text,
                };
            }
            b'-' => {
                if prev >= Kind::RevisionNo {
                    return self.invalid();
                }
                let Some(rest) = self.rest.strip_prefix("-r") else {
                    return self.invalid();
                };
                self.rest = rest;
                self.digits(Kind::RevisionNo);
            }
            _ => self.invalid(),
        }
    }
}

/// Byte-wise string order, shorter first on a common prefix.
fn string_order(a: &str, b: &str) -> Ordering {
    a.as_bytes().cmp(b.as_bytes())
}

fn token_order(a: &Token<'_>, b: &Token<'_>) -> Ordering {
    match a.kind {
        Kind::Digit if a.text.starts_with('0') || b.text.starts_with('0') => {
            string_order(a.text, b.text)
        }
        Kind::InitialDigit | Kind::Digit | Kind::SuffixNo | Kind::RevisionNo | Kind::Suffix => {
            a.number.cmp(&b.number)
        }
        _ => string_order(a.text, b.text),
    }
}

/// A validated apk-tools 3 version string.
#[derive(Debug, Clone)]
pub(crate) struct Apk3Version(String);

pub(crate) fn parse(input: &str) -> Result<Apk3Version, String> {
    if input.is_empty() {
        return Err("version string is empty".into());
    }
    let mut t = Tokens::new(input);
    while t.current.kind < Kind::End {
        t.advance();
    }
    if t.current.kind == Kind::End {
        Ok(Apk3Version(input.to_string()))
    } else {
        let at = input.len() - t.rest.len();
        Err(format!("invalid token at byte {at}"))
    }
}

pub(crate) fn cmp(a: &Apk3Version, b: &Apk3Version) -> Ordering {
    let (mut ta, mut tb) = (Tokens::new(&a.0), Tokens::new(&b.0));
    while ta.current.kind == tb.current.kind && ta.current.kind < Kind::End {
        let o = token_order(&ta.current, &tb.current);
        if o != Ordering::Equal {
            return o;
        }
        ta.advance();
        tb.advance();
    }
    let (ka, kb) = (ta.current.kind, tb.current.kind);
    if ka == kb {
        return Ordering::Equal;
    }
    // Equal so far: the longer version is greater unless it continues with a pre-release
    // suffix; otherwise the one whose next token kind comes earlier is greater.
    if ka == Kind::Suffix && ta.current.number < u64::from(SUFFIX_NONE) {
        return Ordering::Less;
    }
    if kb == Kind::Suffix && tb.current.number < u64::from(SUFFIX_NONE) {
        return Ordering::Greater;
    }
    kb.cmp(&ka)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(a: &str, b: &str) -> Ordering {
        cmp(&parse(a).unwrap(), &parse(b).unwrap())
    }

    #[test]
    fn synthetic_apk3_table() {
        use Ordering::*;
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0.1", Less),
            ("1.0_alpha", "1.0", Less),
            ("1.0_p1", "1.0", Greater),
            ("1.0-r1", "1.0", Greater),
            ("1.0_rc1", "1.0_rc2", Less),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0b", Less),
            // Leading zeros: string order (apk-tools 2 would say 1.05 > 1.4 is false: 05 is
            // read as -1 then 5).
            ("1.05", "1.4", Less),
            ("1.05", "1.050", Less),
            ("1.010", "1.09", Less),
            // Initial digits stay numeric.
            ("010", "9", Greater),
            // Commit hashes: string order, after suffixes, before the revision.
            ("1.0~abc", "1.0~abd", Less),
            ("1.0~abc", "1.0", Greater),
            ("1.0~abc-r1", "1.0~abc-r0", Greater),
            ("1.0_git20250101~0abc", "1.0_git20250101", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(c(a, b), want, "{a} vs {b}");
            assert_eq!(c(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn synthetic_apk3_invalid() {
        for s in [
            "",
            "a",
            "1..2",
            "1.2a3",
            "1.0~",
            "1.0~xyz",
            "1.0-r1~ab",
            "1.0_foo",
            "1.0-1",
        ] {
            assert!(parse(s).is_err(), "{s:?} should be invalid");
        }
        for s in ["1.0~deadbeef", "1.0_p1~ab-r2", "99999999999999999999"] {
            assert!(parse(s).is_ok(), "{s:?} should be valid");
        }
    }
}
