//! Alpine apk versions.
//!
//! Hand-written (no crate exists) after apk-tools 2.14's `version.c`: a version is a stream of
//! typed tokens `{digit}{.digit}...{letter}{_suffix{#}}...{-r#}`; validation is the same
//! token walk (`apk version -c`). Token values are 64-bit integers; like apk-tools 2.14, a run
//! of 18 or more digits makes the version invalid.

use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Tok {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    RevisionNo,
    End,
}

impl Tok {
    fn rank(self) -> i32 {
        match self {
            Tok::Invalid => -1,
            Tok::DigitOrZero => 0,
            Tok::Digit => 1,
            Tok::Letter => 2,
            Tok::Suffix => 3,
            Tok::SuffixNo => 4,
            Tok::RevisionNo => 5,
            Tok::End => 6,
        }
    }
}

/// apk-tools 2.14 rejects digit runs of 18 or more digits (values are 64-bit).
const MAX_DIGITS: usize = 18;

const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

/// Cursor over a version string, tracking the type of the next token.
struct Lexer<'a> {
    s: &'a [u8],
    pos: usize,
    tok: Tok,
}

impl<'a> Lexer<'a> {
    fn new(s: &'a str) -> Self {
        Lexer {
            s: s.as_bytes(),
            pos: 0,
            tok: Tok::Digit,
        }
    }

    fn rest(&self) -> &'a [u8] {
        &self.s[self.pos.min(self.s.len())..]
    }

    /// Decides the type of the token starting at the cursor, consuming its separator.
    fn advance_type(&mut self) {
        let rest = self.rest();
        let prev = self.tok;
        let mut n = Tok::Invalid;
        match rest.first().copied() {
            None | Some(0) => n = Tok::End,
            Some(c) if matches!(prev, Tok::Digit | Tok::DigitOrZero) && c.is_ascii_lowercase() => {
                n = Tok::Letter
            }
            Some(c) if prev == Tok::Letter && c.is_ascii_digit() => n = Tok::Digit,
            Some(c) if prev == Tok::Suffix && c.is_ascii_digit() => n = Tok::SuffixNo,
            Some(c) => {
                match c {
                    b'.' => n = Tok::DigitOrZero,
                    b'_' => n = Tok::Suffix,
                    b'-' if rest.get(1) == Some(&b'r') => {
                        n = Tok::RevisionNo;
                        self.pos += 1;
                    }
                    _ => {}
                }
                self.pos += 1;
            }
        }
        if n.rank() < prev.rank()
            && !((n == Tok::DigitOrZero && prev == Tok::Digit)
                || (n == Tok::Suffix && prev == Tok::SuffixNo)
                || (n == Tok::Digit && prev == Tok::Letter))
        {
            n = Tok::Invalid;
        }
        self.tok = n;
    }

    /// Reads the value of the current token and moves to the next one.
    fn next_value(&mut self) -> i64 {
        let rest = self.rest();
        if rest.is_empty() {
            self.tok = Tok::End;
            return 0;
        }
        let mut i = 0usize;
        let mut v: i64 = 0;
        let mut forced = None;
        let digits = |i: &mut usize, v: &mut i64| {
            while *i < rest.len() && rest[*i].is_ascii_digit() {
                *v = v
                    .saturating_mul(10)
                    .saturating_add(i64::from(rest[*i] - b'0'));
                *i += 1;
            }
        };
        match self.tok {
            Tok::DigitOrZero if rest[0] == b'0' => {
                // Leading zeros: all but the last are consumed and count negatively; the last
                // zero and what follows are read as a new digit token.
                while i + 1 < rest.len() && rest[i + 1] == b'0' {
                    i += 1;
                }
                v = -(i64::try_from(i).unwrap_or(i64::MAX));
                forced = Some(Tok::Digit);
            }
            Tok::DigitOrZero | Tok::Digit | Tok::SuffixNo | Tok::RevisionNo => {
                digits(&mut i, &mut v);
                if i >= MAX_DIGITS {
                    self.tok = Tok::Invalid;
                    return -1;
                }
            }
            Tok::Letter => {
                v = i64::from(rest[0]);
                i = 1;
            }
            Tok::Suffix => {
                if let Some(k) = PRE_SUFFIXES
                    .iter()
                    .position(|p| rest.starts_with(p.as_bytes()))
                {
                    i = PRE_SUFFIXES[k].len();
                    v = i64::try_from(k).unwrap_or(0) - 4;
                } else if let Some(k) = POST_SUFFIXES
                    .iter()
                    .position(|p| rest.starts_with(p.as_bytes()))
                {
                    i = POST_SUFFIXES[k].len();
                    v = i64::try_from(k).unwrap_or(0);
                } else {
                    self.tok = Tok::Invalid;
                    return -1;
                }
            }
            Tok::Invalid | Tok::End => {
                self.tok = Tok::Invalid;
                return -1;
            }
        }
        self.pos += i;
        if self.rest().is_empty() {
            self.tok = Tok::End;
        } else if let Some(t) = forced {
            self.tok = t;
        } else {
            self.advance_type();
        }
        v
    }
}

/// A validated apk version string.
#[derive(Debug, Clone)]
pub(crate) struct ApkVersion(String);

pub(crate) fn parse(input: &str) -> Result<ApkVersion, String> {
    if input.is_empty() {
        return Err("version string is empty".into());
    }
    let mut lx = Lexer::new(input);
    while lx.tok != Tok::End && lx.tok != Tok::Invalid {
        lx.next_value();
    }
    if lx.tok == Tok::End && !input.as_bytes().contains(&0) {
        Ok(ApkVersion(input.to_string()))
    } else {
        Err(format!("invalid token at byte {}", lx.pos.min(input.len())))
    }
}

pub(crate) fn cmp(a: &ApkVersion, b: &ApkVersion) -> Ordering {
    let (mut la, mut lb) = (Lexer::new(&a.0), Lexer::new(&b.0));
    let (mut av, mut bv) = (0i64, 0i64);
    while la.tok == lb.tok && la.tok != Tok::End && la.tok != Tok::Invalid && av == bv {
        av = la.next_value();
        bv = lb.next_value();
    }
    match av.cmp(&bv) {
        Ordering::Equal => {}
        other => return other,
    }
    if la.tok == lb.tok {
        return Ordering::Equal;
    }
    // Equal so far: the longer version wins unless it continues with a pre-release suffix.
    if la.tok == Tok::Suffix && peek_suffix(&la) < 0 {
        return Ordering::Less;
    }
    if lb.tok == Tok::Suffix && peek_suffix(&lb) < 0 {
        return Ordering::Greater;
    }
    lb.tok.rank().cmp(&la.tok.rank())
}

fn peek_suffix(lx: &Lexer<'_>) -> i64 {
    let mut copy = Lexer {
        s: lx.s,
        pos: lx.pos,
        tok: lx.tok,
    };
    copy.next_value()
}
