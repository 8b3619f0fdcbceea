//! The data-driven binary classifier engine: rules come from `classifiers.toml` (one table, no
//! code per family); a file is matched by base-name glob and path filters, then streamed once in
//! bounded chunks through the byte regexes of every candidate rule. Pure: reads only the
//! `Read` it is given.

use std::collections::BTreeMap;
use std::io::Read;
use std::sync::{LazyLock, OnceLock};

use globset::{Glob, GlobSet, GlobSetBuilder};
use regex::bytes::{Regex, RegexBuilder};
use serde::Deserialize;

/// The rule table, embedded at build time.
const TABLE: &str = include_str!("classifiers.toml");

/// Bytes read per chunk; hits are looked for in each chunk plus the tail of the previous one.
const CHUNK: usize = 4 * 1024 * 1024;
/// Bytes of the previous chunk kept so that a hit straddling two chunks is still seen.
const OVERLAP: usize = 4096;
/// Longest matched text kept as evidence.
const EVIDENCE_CHARS: usize = 200;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTable {
    classifier: Vec<RawRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    class: String,
    package: String,
    files: Vec<String>,
    #[serde(default)]
    path_includes: Vec<String>,
    #[serde(default)]
    path_excludes: Vec<String>,
    patterns: Vec<String>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    excludes: Vec<String>,
    #[serde(default)]
    name_version: Option<String>,
    #[serde(default)]
    name_version_required: bool,
    purl: String,
    #[serde(default)]
    cpes: Vec<String>,
}

/// One compiled classifier rule.
#[derive(Debug)]
pub(crate) struct Rule {
    /// Evidence name (`python-binary`).
    pub(crate) class: String,
    /// Package name reported.
    pub(crate) package: String,
    path_includes: Vec<String>,
    path_excludes: Vec<String>,
    raw_patterns: Vec<String>,
    raw_requires: Vec<String>,
    raw_excludes: Vec<String>,
    /// The byte regexes, compiled on the rule's first candidate file: most images hold files
    /// for a few families only, and compiling all ~200 patterns up front cost every analysis
    /// about 15 ms. `None` when a pattern does not compile (the table test catches that).
    regexes: OnceLock<Option<Regexes>>,
    name_version: Option<regex::Regex>,
    name_version_required: bool,
    purl: String,
    cpes: Vec<String>,
}

/// The compiled byte regexes of one rule.
#[derive(Debug)]
struct Regexes {
    patterns: Vec<Regex>,
    requires: Vec<Regex>,
    excludes: Vec<Regex>,
}

/// The compiled table: the rules in priority order, and one glob set over every rule's
/// file-name globs (one lookup per file instead of one per rule).
#[derive(Debug)]
pub(crate) struct Table {
    rules: Vec<Rule>,
    names: GlobSet,
    /// Rule index of each glob in `names`.
    owner: Vec<usize>,
}

/// A problem in the rule table (a build-time asset, so this is a bug, reported by a unit test).
#[derive(Debug, thiserror::Error)]
pub(crate) enum TableError {
    /// The TOML does not parse or has unknown fields.
    #[error("classifier table: {0}")]
    Toml(#[from] toml::de::Error),
    /// A glob or regex of a rule does not compile.
    #[error("classifier {class}: {message}")]
    Rule { class: String, message: String },
}

fn byte_regex(class: &str, pattern: &str) -> Result<Regex, TableError> {
    RegexBuilder::new(&format!("(?-u){pattern}"))
        .size_limit(64 * 1024 * 1024)
        .dfa_size_limit(16 * 1024 * 1024)
        .build()
        .map_err(|e| TableError::Rule {
            class: class.to_string(),
            message: format!("pattern {pattern:?}: {e}"),
        })
}

/// Parses a rule table and compiles its globs and file-name patterns (the cheap, per-file
/// part); each rule's content regexes compile on first use ([`Table::check`] compiles them all).
pub(crate) fn compile_table(source: &str) -> Result<Table, TableError> {
    let raw: RawTable = toml::from_str(source)?;
    let mut names = GlobSetBuilder::new();
    let mut owner = Vec::new();
    let mut rules = Vec::with_capacity(raw.classifier.len());
    for (index, r) in raw.classifier.into_iter().enumerate() {
        for g in &r.files {
            names.add(Glob::new(g).map_err(|e| TableError::Rule {
                class: r.class.clone(),
                message: format!("glob {g:?}: {e}"),
            })?);
            owner.push(index);
        }
        if r.patterns.is_empty() {
            return Err(TableError::Rule {
                class: r.class.clone(),
                message: "no patterns".into(),
            });
        }
        let name_version = match &r.name_version {
            Some(p) => Some(regex::Regex::new(p).map_err(|e| TableError::Rule {
                class: r.class.clone(),
                message: format!("name_version {p:?}: {e}"),
            })?),
            None => None,
        };
        rules.push(Rule {
            class: r.class,
            package: r.package,
            path_includes: r.path_includes,
            path_excludes: r.path_excludes,
            raw_patterns: r.patterns,
            raw_requires: r.requires,
            raw_excludes: r.excludes,
            regexes: OnceLock::new(),
            name_version,
            name_version_required: r.name_version_required,
            purl: r.purl,
            cpes: r.cpes,
        });
    }
    let names = names.build().map_err(|e| TableError::Rule {
        class: "(all)".into(),
        message: format!("glob set: {e}"),
    })?;
    Ok(Table {
        rules,
        names,
        owner,
    })
}

impl Table {
    /// Compiles every rule's regexes and checks each pattern has a `version` group.
    #[cfg(test)]
    pub(crate) fn check(&self) -> Result<(), TableError> {
        for r in &self.rules {
            let compiled = r.compile()?;
            for p in &compiled.patterns {
                if !p.capture_names().any(|n| n == Some("version")) {
                    return Err(TableError::Rule {
                        class: r.class.clone(),
                        message: format!("pattern {p} has no `version` group"),
                    });
                }
            }
        }
        Ok(())
    }

    /// Rules whose globs and path filters accept `path`, in table (priority) order.
    fn candidates<'t>(&'t self, path: &str, name: &str) -> Vec<&'t Rule> {
        let mut idx: Vec<usize> = self
            .names
            .matches(name)
            .into_iter()
            .map(|g| self.owner[g])
            .collect();
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter()
            .map(|i| &self.rules[i])
            .filter(|r| r.applies(path, name))
            .collect()
    }
}

/// The embedded rule table, compiled once. The table is a build-time asset checked by a unit
/// test; should it ever fail to compile, no binary is classified (never a panic).
static RULES: LazyLock<Option<Table>> = LazyLock::new(|| compile_table(TABLE).ok());

/// The compiled embedded table.
fn table() -> Option<&'static Table> {
    RULES.as_ref()
}

/// True when some rule could apply to `path` (cheap: globs and path filters only). This is the
/// "which files does the binary cataloger want" predicate.
pub(crate) fn wants(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    table().is_some_and(|t| !t.candidates(path, name).is_empty())
}

impl Rule {
    /// True when this rule's path filters accept the file (its globs already matched).
    fn applies(&self, path: &str, name: &str) -> bool {
        self.path_includes.iter().all(|s| path.contains(s.as_str()))
            && !self.path_excludes.iter().any(|s| path.contains(s.as_str()))
            && (!self.name_version_required
                || self
                    .name_version
                    .as_ref()
                    .is_some_and(|re| re.is_match(name)))
    }

    fn compile(&self) -> Result<Regexes, TableError> {
        let all = |list: &[String]| -> Result<Vec<Regex>, TableError> {
            list.iter().map(|p| byte_regex(&self.class, p)).collect()
        };
        Ok(Regexes {
            patterns: all(&self.raw_patterns)?,
            requires: all(&self.raw_requires)?,
            excludes: all(&self.raw_excludes)?,
        })
    }

    /// The rule's regexes, compiled on first use.
    fn regexes(&self) -> Option<&Regexes> {
        self.regexes.get_or_init(|| self.compile().ok()).as_ref()
    }

    /// The version the base name pins (`python3.11` -> `3.11`), if the rule has one.
    fn pinned(&self, name: &str) -> Option<String> {
        let re = self.name_version.as_ref()?;
        let caps = re.captures(name)?;
        caps.name("version").map(|m| m.as_str().to_string())
    }
}

/// A classifier hit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    /// Evidence name of the rule.
    pub(crate) class: String,
    /// Package name.
    pub(crate) package: String,
    /// Version found.
    pub(crate) version: String,
    /// Matched text (NULs shown as `\x00`), at most 200 characters.
    pub(crate) matched: String,
    /// purl with the version filled in.
    pub(crate) purl: String,
    /// CPEs with the version filled in.
    pub(crate) cpes: Vec<String>,
}

/// Per-candidate scan state.
struct State<'r> {
    rule: &'r Rule,
    re: &'r Regexes,
    pinned: Option<String>,
    requires_met: Vec<bool>,
    excluded: bool,
    hit: Option<(usize, String, BTreeMap<String, String>)>,
}

impl State<'_> {
    fn complete(&self) -> bool {
        !self.excluded && self.hit.is_some() && self.requires_met.iter().all(|m| *m)
    }
}

fn accept(pinned: Option<&str>, version: &str) -> bool {
    match pinned {
        None => true,
        Some(p) => version == p || version.starts_with(&format!("{p}.")),
    }
}

fn scan_chunk(state: &mut State<'_>, buf: &[u8]) {
    for (i, re) in state.re.requires.iter().enumerate() {
        if !state.requires_met[i] && re.is_match(buf) {
            state.requires_met[i] = true;
        }
    }
    if state.re.excludes.iter().any(|re| re.is_match(buf)) {
        state.excluded = true;
    }
    if state.excluded {
        return;
    }
    // a better (earlier in the list) pattern may still hit in a later chunk
    let limit = state.hit.as_ref().map_or(state.re.patterns.len(), |h| h.0);
    for (pi, re) in state.re.patterns.iter().enumerate().take(limit) {
        for caps in re.captures_iter(buf) {
            let Some(v) = caps.name("version") else {
                continue;
            };
            let version = String::from_utf8_lossy(v.as_bytes()).into_owned();
            if !accept(state.pinned.as_deref(), &version) {
                continue;
            }
            let mut groups = BTreeMap::new();
            for name in re.capture_names().flatten() {
                if let Some(m) = caps.name(name) {
                    groups.insert(
                        name.to_string(),
                        String::from_utf8_lossy(m.as_bytes()).into_owned(),
                    );
                }
            }
            let matched = caps.get(0).map_or(String::new(), |m| {
                String::from_utf8_lossy(m.as_bytes())
                    .replace('\0', "\\x00")
                    .chars()
                    .take(EVIDENCE_CHARS)
                    .collect()
            });
            groups.insert("\0matched".into(), matched);
            state.hit = Some((pi, version, groups));
            return;
        }
    }
}

/// CPE 2.3 escaping of a substituted value (the formatted-string binding quotes everything but
/// alphanumerics, `_`, `-` and `.`).
fn cpe_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

fn fill(
    template: &str,
    groups: &BTreeMap<String, String>,
    escape: &dyn Fn(&str) -> String,
) -> String {
    let mut out = template.to_string();
    for (k, v) in groups {
        if k.starts_with('\0') {
            continue;
        }
        out = out.replace(&format!("{{{k}}}"), &escape(v));
    }
    out
}

/// Classifies one file: `path` is its full image path, `reader` its content. Reads at most
/// `max_bytes`. The first candidate rule (table order) with a complete hit wins.
pub(crate) fn classify(
    path: &str,
    mut reader: impl Read,
    max_bytes: u64,
) -> std::io::Result<Option<Hit>> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let Some(table) = table() else {
        return Ok(None);
    };
    let mut states: Vec<State<'_>> = table
        .candidates(path, name)
        .into_iter()
        .filter_map(|r| Some((r, r.regexes()?)))
        .map(|(r, re)| State {
            rule: r,
            re,
            pinned: r.pinned(name),
            requires_met: vec![false; re.requires.len()],
            excluded: false,
            hit: None,
        })
        .collect();
    if states.is_empty() {
        return Ok(None);
    }
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK + OVERLAP);
    let mut total: u64 = 0;
    loop {
        let keep = buf.len().min(OVERLAP);
        let drop = buf.len() - keep;
        buf.drain(..drop);
        let start = buf.len();
        let want = usize::try_from(max_bytes.saturating_sub(total))
            .unwrap_or(usize::MAX)
            .min(CHUNK);
        buf.resize(start + want, 0);
        let mut filled = start;
        while filled < buf.len() {
            let n = reader.read(&mut buf[filled..])?;
            if n == 0 {
                break;
            }
            filled += n;
        }
        buf.truncate(filled);
        let read = (filled - start) as u64;
        total += read;
        for s in &mut states {
            scan_chunk(s, &buf);
        }
        // stop early once the highest-priority candidate still alive is complete with its best
        // pattern (nothing later in the file can change the answer)
        if let Some(first) = states.iter().find(|s| !s.excluded)
            && first.complete()
            && first.re.excludes.is_empty()
            && first.hit.as_ref().is_some_and(|h| h.0 == 0)
        {
            break;
        }
        if read == 0 || total >= max_bytes {
            break;
        }
    }
    let Some(winner) = states.iter().find(|s| s.complete()) else {
        return Ok(None);
    };
    let Some((_, version, groups)) = &winner.hit else {
        return Ok(None);
    };
    let rule = winner.rule;
    let purl = fill(&rule.purl, groups, &|v| {
        anchorage_types::purl::encode_component(v)
    });
    let cpes = rule
        .cpes
        .iter()
        .map(|c| fill(c, groups, &cpe_value))
        .collect();
    Ok(Some(Hit {
        class: rule.class.clone(),
        package: rule.package.clone(),
        version: version.clone(),
        matched: groups.get("\0matched").cloned().unwrap_or_default(),
        purl,
        cpes,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_compiles() {
        let table = compile_table(TABLE).unwrap();
        assert!(table.rules.len() >= 70, "{}", table.rules.len());
        table.check().unwrap();
        assert_eq!(table.rules.len(), super::table().unwrap().rules.len());
    }

    /// A content regex that does not compile is caught by the table check (and such a rule
    /// simply never hits at run time, never a panic).
    #[test]
    fn synthetic_bad_rule_is_reported_by_the_check() {
        let bad = r#"
[[classifier]]
class = "bad"
package = "bad"
files = ["bad"]
patterns = ["(?P<version>[0-9]+"]
purl = "pkg:generic/bad@{version}"
"#;
        let table = compile_table(bad).unwrap();
        assert!(table.check().is_err());
        assert!(table.rules[0].regexes().is_none());
    }

    fn one(path: &str, bytes: &[u8]) -> Option<Hit> {
        classify(path, bytes, u64::MAX).unwrap()
    }

    #[test]
    fn synthetic_match_across_chunk_boundary() {
        let mut data = vec![b'x'; CHUNK - 5];
        data.extend(b"BusyBox v1.36.1 (2023)");
        let hit = one("/bin/busybox", &data).unwrap();
        assert_eq!(hit.version, "1.36.1");
        assert_eq!(hit.purl, "pkg:generic/busybox@1.36.1");
    }

    #[test]
    fn synthetic_openssl_version_forms() {
        for (s, v) in [
            ("\0OpenSSL 1.1.1za  30 May 2024\0", "1.1.1za"),
            ("\0OpenSSL 1.1.1w  11 Sep 2023\0", "1.1.1w"),
            ("\0OpenSSL 3.0.0-alpha17 20 May 2021\0", "3.0.0-alpha17"),
        ] {
            let hit = one("/usr/lib/libcrypto.so.3", s.as_bytes()).unwrap();
            assert_eq!((hit.package.as_str(), hit.version.as_str()), ("openssl", v));
        }
    }

    #[test]
    fn synthetic_aws_lc_is_not_openssl() {
        let s = b"\0OpenSSL 1.1.1 (compatible; AWS-LC 1.69.0)\0";
        let hit = one("/usr/bin/openssl", s).unwrap();
        assert_eq!(
            (hit.package.as_str(), hit.version.as_str()),
            ("aws-lc", "1.69.0")
        );
        assert_eq!(
            hit.cpes,
            vec!["cpe:2.3:a:amazon:aws_libcrypto:1.69.0:*:*:*:*:*:*:*"]
        );
    }

    #[test]
    fn synthetic_postgres_prerelease_forms() {
        for (s, v) in [
            ("\0PostgreSQL 15beta4 on x86_64", "15beta4"),
            ("?PostgreSQL 9.5alpha1 on x86_64", "9.5alpha1"),
            ("\0PostgreSQL 9.6.24 on", "9.6.24"),
        ] {
            let hit = one("/usr/lib/postgresql/bin/postgres", s.as_bytes()).unwrap();
            assert_eq!(hit.version, v);
        }
    }

    #[test]
    fn synthetic_old_node_redis2_openresty() {
        let hit = one("/usr/local/bin/node", b"\0node v0.10.48\0").unwrap();
        assert_eq!(hit.version, "0.10.48");
        let hit = one(
            "/usr/bin/redis-server",
            b"# Server started, Redis version 2.8.23\n",
        )
        .unwrap();
        assert_eq!(hit.version, "2.8.23");
        let hit = one(
            "/usr/local/openresty/nginx/sbin/nginx",
            b"\0nginx version: openresty/1.21.4.1\0",
        )
        .unwrap();
        assert_eq!(
            (hit.package.as_str(), hit.version.as_str()),
            ("nginx", "1.21.4")
        );
    }

    #[test]
    fn synthetic_java_update_cpe() {
        let hit = one(
            "/usr/lib/jvm/jdk8/bin/java",
            b"\0openjdk\0java\x001.8\x001.8.0_352-b08\0",
        )
        .unwrap();
        assert_eq!(hit.version, "1.8.0_352-b08");
        assert_eq!(
            hit.cpes,
            vec!["cpe:2.3:a:oracle:openjdk:1.8.0:update352:*:*:*:*:*:*"]
        );
        let hit = one(
            "/opt/zulu17/bin/java",
            b"\0openjdk\0java\x000.0\x0017.0.10+7-LTS\0",
        )
        .unwrap();
        assert_eq!(
            (hit.package.as_str(), hit.version.as_str()),
            ("zulu", "17.0.10+7-LTS")
        );
        assert_eq!(hit.purl, "pkg:generic/azul/zulu@17.0.10%2B7-LTS");
    }

    #[test]
    fn synthetic_wordpress_core_version_file() {
        let hit = one(
            "/var/www/html/wp-includes/version.php",
            b"<?php\n$wp_version = '6.4.3';\n",
        )
        .unwrap();
        assert_eq!(
            (hit.package.as_str(), hit.version.as_str()),
            ("wordpress", "6.4.3")
        );
        assert!(one("/srv/app/version.php", b"$wp_version = '6.4.3';").is_none());
    }

    #[test]
    fn hostile_scan_is_bounded() {
        let data = vec![b'\0'; 3 * 1024 * 1024];
        let mut d = data.clone();
        d.extend(b"BusyBox v1.36.1 (2023)");
        assert!(
            classify("/bin/busybox", &d[..], 1024 * 1024)
                .unwrap()
                .is_none()
        );
    }
}
