//! Secret scanning and content search: named regexes over text files. A hit records path, rule
//! and line numbers, never the matched text. Binary files (a NUL in the first 8 KiB) and files
//! over the size limit are skipped.

use anchorage_image::{EntryKind, FileEntry};
use regex::{Regex, RegexSet};

use crate::model::ContentHit;

/// Bytes looked at to tell binary from text.
pub(crate) const BINARY_SNIFF: usize = 8 * 1024;

/// Rule sets up to this size are matched one regex at a time: each regex's own prefilter skips
/// text far faster than the combined set's (the five default secret rules over the 38 MB of
/// text files of a Debian image with a Python and Node app: 0.05 s one by one, 0.15 s as a
/// set). Larger sets scan each file once with the [`RegexSet`].
const ONE_BY_ONE_MAX: usize = 8;

/// A compiled set of named rules.
#[derive(Debug, Clone)]
pub struct RuleSet {
    names: Vec<String>,
    regexes: Vec<Regex>,
    /// The combined set, for more than [`ONE_BY_ONE_MAX`] rules.
    set: Option<RegexSet>,
}

impl RuleSet {
    /// Compiles `(name, pattern)` rules. Invalid patterns are left out and reported as
    /// `(name, error)` in the second value.
    pub fn compile(rules: &[(String, String)]) -> (Self, Vec<(String, String)>) {
        let mut names = Vec::new();
        let mut regexes = Vec::new();
        let mut errors = Vec::new();
        for (name, pattern) in rules {
            match Regex::new(pattern) {
                Ok(r) => {
                    names.push(name.clone());
                    regexes.push(r);
                }
                Err(e) => errors.push((name.clone(), e.to_string())),
            }
        }
        let set = (regexes.len() > ONE_BY_ONE_MAX).then(|| {
            RegexSet::new(regexes.iter().map(Regex::as_str)).unwrap_or_else(|_| RegexSet::empty())
        });
        (
            Self {
                names,
                regexes,
                set,
            },
            errors,
        )
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Scans one file's content; returns one hit per matching rule with 1-based line numbers.
    /// Binary content (a NUL byte in the first 8 KiB) yields no hits.
    pub fn scan(&self, path: &str, content: &[u8]) -> Vec<ContentHit> {
        if self.is_empty() || is_binary(content) {
            return Vec::new();
        }
        let text = String::from_utf8_lossy(content);
        let matched: Vec<usize> = match &self.set {
            Some(set) => set.matches(&text).into_iter().collect(),
            None => (0..self.regexes.len())
                .filter(|&i| self.regexes[i].is_match(&text))
                .collect(),
        };
        if matched.is_empty() {
            return Vec::new();
        }
        let newlines: Vec<usize> = memchr::memchr_iter(b'\n', text.as_bytes()).collect();
        let line_of = |offset: usize| newlines.partition_point(|&n| n < offset) as u64 + 1;
        let mut hits = Vec::new();
        for i in matched {
            let mut lines: Vec<u64> = self.regexes[i]
                .find_iter(&text)
                .map(|m| line_of(m.start()))
                .collect();
            lines.dedup();
            if !lines.is_empty() {
                hits.push(ContentHit {
                    path: path.to_string(),
                    rule: self.names[i].clone(),
                    regex: Some(self.regexes[i].as_str().to_string()),
                    lines,
                });
            }
        }
        hits
    }
}

/// Whether `content` is binary (a NUL in its first [`BINARY_SNIFF`] bytes); the scans skip it.
pub(crate) fn is_binary(content: &[u8]) -> bool {
    memchr::memchr(0, &content[..content.len().min(BINARY_SNIFF)]).is_some()
}

/// Whether the secret and content scans read `entry` (regular files of 1..=`max_size` bytes).
pub(crate) fn wants(entry: &FileEntry, max_size: u64) -> bool {
    entry.kind == EntryKind::File && entry.size <= max_size && entry.size > 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::default_secret_rules;

    #[test]
    fn synthetic_aws_key_reports_line_not_text() {
        let (rules, errors) = RuleSet::compile(&default_secret_rules());
        assert!(errors.is_empty(), "{errors:?}");
        let content = b"# config\n[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\n";
        let hits = rules.scan("/root/.aws/credentials", content);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].rule, "AWS_ACCESS_KEY");
        assert_eq!(hits[0].lines, vec![3]);
        assert!(!format!("{hits:?}").contains("AKIA"));
        assert!(
            rules
                .scan("/bin/x", b"\0aws_access_key_id = AKIAIOSFODNN7EXAMPLE")
                .is_empty()
        );
    }

    /// The combined set (more than eight rules) and the rules one by one report the same hits,
    /// rule order included (synthetic rules and content).
    #[test]
    fn synthetic_set_and_one_by_one_matching_agree() {
        let mut rules = default_secret_rules();
        for i in 0..6 {
            rules.push((format!("TOKEN_{i}"), format!(r"tok{i}_[a-z]{{4}}")));
        }
        let content = b"x\n-----BEGIN RSA PRIVATE KEY-----\ntok3_abcd tok5_wxyz\napi_key = 0123456789abcdef0\ntok3_efgh\n";
        let (all, errors) = RuleSet::compile(&rules);
        assert!(errors.is_empty() && all.set.is_some());
        let together = all.scan("/f", content);
        let mut apart = Vec::new();
        for rule in &rules {
            let (one, _) = RuleSet::compile(std::slice::from_ref(rule));
            assert!(one.set.is_none());
            apart.extend(one.scan("/f", content));
        }
        assert_eq!(format!("{together:?}"), format!("{apart:?}"));
        let names: Vec<&str> = together.iter().map(|h| h.rule.as_str()).collect();
        assert_eq!(names, ["PRIV_KEY", "API_KEY", "TOKEN_3", "TOKEN_5"]);
        assert_eq!(together[2].lines, vec![3, 5]);
    }
}
