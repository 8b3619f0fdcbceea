//! Secret scanning and content search: named regexes over text files. A hit records path, rule
//! and line numbers, never the matched text. Binary files (a NUL in the first 8 KiB) and files
//! over the size limit are skipped.

use anchorage_image::{EntryKind, ImageFs};
use regex::{Regex, RegexSet};

use crate::cataloger::CatalogContext;
use crate::model::ContentHit;

/// Bytes looked at to tell binary from text.
const BINARY_SNIFF: usize = 8 * 1024;

/// A compiled set of named rules.
#[derive(Debug, Clone)]
pub struct RuleSet {
    names: Vec<String>,
    regexes: Vec<Regex>,
    set: RegexSet,
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
        let set =
            RegexSet::new(regexes.iter().map(Regex::as_str)).unwrap_or_else(|_| RegexSet::empty());
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
        let matched: Vec<usize> = self.set.matches(&text).into_iter().collect();
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
                    lines,
                });
            }
        }
        hits
    }
}

fn is_binary(content: &[u8]) -> bool {
    memchr::memchr(0, &content[..content.len().min(BINARY_SNIFF)]).is_some()
}

/// Runs both rule sets over every regular file within `max_size`; returns (secrets, content).
pub(crate) fn scan_tree(
    fs: &dyn ImageFs,
    secrets: &RuleSet,
    content: &RuleSet,
    max_size: u64,
    ctx: &mut CatalogContext,
) -> (Vec<ContentHit>, Vec<ContentHit>) {
    let mut secret_hits = Vec::new();
    let mut content_hits = Vec::new();
    if secrets.is_empty() && content.is_empty() {
        return (secret_hits, content_hits);
    }
    let paths: Vec<String> = fs
        .entries()
        .filter(|e| e.kind == EntryKind::File && e.size <= max_size && e.size > 0)
        .map(|e| e.path.clone())
        .collect();
    for path in paths {
        let Some(entry) = fs.entry(&path) else {
            continue;
        };
        let mut reader = match fs.open_entry(entry) {
            Ok(r) => r,
            Err(e) => {
                ctx.warn("secrets", Some(&path), format!("cannot read file: {e}"));
                continue;
            }
        };
        let mut buf = Vec::new();
        if let Err(e) = std::io::Read::read_to_end(
            &mut std::io::Read::take(&mut reader, max_size.saturating_add(1)),
            &mut buf,
        ) {
            ctx.warn("secrets", Some(&path), format!("cannot read file: {e}"));
            continue;
        }
        if buf.len() as u64 > max_size {
            continue;
        }
        secret_hits.extend(secrets.scan(&path, &buf));
        content_hits.extend(content.scan(&path, &buf));
    }
    (secret_hits, content_hits)
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
}
