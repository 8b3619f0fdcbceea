//! `files`, `passwd_file`, `secret_scans`, `malware`, `retrieved_files` and `metadata` gates.

use base64::Engine as _;

use super::{Ctx, Fired, md5_hex};
use crate::bundle::{ValidRule, split_list};
use crate::validate::{parse_int, parse_size};

pub(super) fn run(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    match (rule.gate.name, rule.trigger.name) {
        ("files", "content_regex_match") => content_regex_match(rule, ctx),
        ("files", "name_match") => name_match(rule, ctx),
        ("files", "attribute_match") => attribute_match(rule, ctx),
        ("files", "suid_or_guid_set") => suid(ctx),
        ("passwd_file", t) => passwd(rule, t, ctx),
        ("secret_scans", "content_regex_checks") => secrets(rule, ctx),
        ("malware", t) => malware(t, ctx),
        ("retrieved_files", t) => retrieved(rule, t, ctx),
        ("metadata", "attribute") => metadata(rule, ctx),
        _ => Vec::new(),
    }
}

fn content_regex_match(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    let name = rule.param("regex_name");
    ctx.input
        .analysis
        .content_hits
        .iter()
        // Anchore: the hit's configured regex name or its regex text equals `regex_name`.
        .filter(|h| name.is_none_or(|n| h.rule == n || h.regex.as_deref() == Some(n)))
        .map(|h| {
            Fired::new(
                format!(
                    "File content analyzer found regexp match in container: file={} regexp={}",
                    h.path, h.rule
                ),
                format!("file {} lines {:?}", h.path, h.lines),
                match name {
                    Some(n) => format!("content search rule {} matched (regex_name={n})", h.rule),
                    None => format!("content search rule {} matched", h.rule),
                },
            )
        })
        .collect()
}

fn name_match(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    let Some(re) = rule.regex("regex") else {
        return Vec::new();
    };
    let regex = rule.param("regex").unwrap_or_default();
    ctx.input
        .analysis
        .files
        .iter()
        .filter(|f| re.is_match(&f.path))
        .map(|f| {
            Fired::new(
                format!(
                    "Application of regex matched file found in container: file={} regexp={regex}",
                    f.path
                ),
                format!("file {}", f.path),
                format!("path matches regex={regex}"),
            )
        })
        .collect()
}

fn attribute_match(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    let filename = rule.param("filename").unwrap_or_default();
    let Some(file) = ctx.file(filename) else {
        return if rule.flag("skip_missing", true) {
            Vec::new()
        } else {
            vec![Fired::new(
                format!("Specified filename {filename} not found in image"),
                format!("file {filename}"),
                "file is absent and skip_missing=false",
            )]
        };
    };
    let mut checks = Vec::new();
    if let Some(checksum) = rule.param("checksum") {
        let op = rule.param("checksum_match").unwrap_or("equals");
        let equal = file
            .sha256
            .as_deref()
            .is_some_and(|s| s.eq_ignore_ascii_case(checksum.trim()));
        if equal != (op == "equals") {
            return Vec::new();
        }
        checks.push(format!("checksum(sha256) {op} {checksum}"));
    }
    if let Some(mode) = rule.param("mode") {
        let op = rule.param("mode_op").unwrap_or("equals");
        let Ok(want) = u32::from_str_radix(mode.trim(), 8) else {
            return Vec::new();
        };
        let equal = file.mode & 0o7777 == want;
        if equal != (op == "equals") {
            return Vec::new();
        }
        checks.push(format!("mode {op} {mode}"));
    }
    let detail = if checks.is_empty() {
        "present".to_string()
    } else {
        checks.join("; ")
    };
    vec![Fired::new(
        format!("File attributes found for {}: {detail}", file.path),
        format!(
            "file {} (sha256 {}, mode {:05o})",
            file.path,
            file.sha256.as_deref().unwrap_or("unknown"),
            file.mode & 0o7777
        ),
        format!("filename={filename}: {detail}"),
    )]
}

fn suid(ctx: &Ctx<'_>) -> Vec<Fired> {
    ctx.input
        .analysis
        .files
        .iter()
        .filter(|f| f.mode & 0o6000 != 0)
        .map(|f| {
            let mode = format!("{:05o}", f.mode & 0o7777);
            Fired::new(
                format!("SUID or SGID found set on file {}. Mode: {mode}", f.path),
                format!("file {}", f.path),
                format!(
                    "mode {mode} has the {} bit set",
                    if f.mode & 0o4000 != 0 {
                        "setuid"
                    } else {
                        "setgid"
                    }
                ),
            )
        })
        .collect()
}

/// Decoded content of a retrieved file, matched with or without the leading `/`.
fn retrieved_content(ctx: &Ctx<'_>, path: &str) -> Option<String> {
    let want = path.trim_start_matches('/');
    let file = ctx
        .input
        .analysis
        .retrieved_files
        .iter()
        .find(|f| f.path.trim_start_matches('/') == want)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(file.content_b64.trim())
        .ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

fn passwd(rule: &ValidRule, trigger: &str, ctx: &Ctx<'_>) -> Vec<Fired> {
    let Some(content) = retrieved_content(ctx, "/etc/passwd") else {
        return if trigger == "content_not_available" {
            vec![Fired::new(
                "Cannot locate /etc/passwd content from analysis".into(),
                "file /etc/passwd",
                "the file was not retrieved at analysis time",
            )]
        } else {
            Vec::new()
        };
    };
    let entries: Vec<(&str, Vec<&str>)> = content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| (l, l.split(':').collect::<Vec<_>>()))
        .filter(|(_, f)| f.len() >= 7)
        .collect();
    let (field, label, param) = match trigger {
        "blacklist_usernames" => (0, "user", "user_names"),
        "blacklist_userids" => (2, "uid", "user_ids"),
        "blacklist_groupids" => (3, "gid", "group_ids"),
        "blacklist_shells" => (6, "shell", "shells"),
        "blacklist_full_entry" => {
            let want = rule.param("entry").unwrap_or_default().trim();
            return entries
                .iter()
                .filter(|(line, _)| *line == want)
                .map(|(line, _)| {
                    Fired::new(
                        format!("Blacklisted entry '{line}' found in image's /etc/passwd"),
                        format!("/etc/passwd entry {line}"),
                        "entry equals the blacklisted entry",
                    )
                })
                .collect();
        }
        _ => return Vec::new(),
    };
    let listed = rule.list(param);
    entries
        .iter()
        .filter(|(_, f)| {
            let v = f[field].trim();
            if field == 2 || field == 3 {
                let v = parse_int(v).ok();
                listed.iter().any(|l| parse_int(l).ok() == v && v.is_some())
            } else {
                listed.iter().any(|l| l == v)
            }
        })
        .map(|(line, f)| {
            Fired::new(
                format!(
                    "Blacklisted {label} '{}' found in image's /etc/passwd: entry={line}",
                    f[field]
                ),
                format!("/etc/passwd entry {line}"),
                format!("{label} {} is listed in {param}", f[field]),
            )
        })
        .collect()
}

fn secrets(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    let name = rule.param("content_regex_name");
    let file_re = rule.regex("filename_regex");
    let notfound = rule.param("match_type") == Some("notfound");
    let hits: Vec<_> = ctx
        .input
        .analysis
        .secrets
        .iter()
        .filter(|h| name.is_none_or(|n| h.rule == n))
        .filter(|h| file_re.is_none_or(|r| r.is_match(&h.path)))
        .collect();
    let filters = format!(
        "content_regex_name={} filename_regex={}",
        name.unwrap_or("*"),
        rule.param("filename_regex").unwrap_or("*")
    );
    if notfound {
        return if hits.is_empty() {
            vec![Fired::new(
                format!("Secret search analyzer did not find regexp match in container: {filters}"),
                "image files",
                format!("no secret hit passed {filters} (match_type=notfound)"),
            )]
        } else {
            Vec::new()
        };
    }
    hits.iter()
        .map(|h| {
            Fired::new(
                format!(
                    "Secret search analyzer found regexp match in container: file={} regexp={}",
                    h.path, h.rule
                ),
                format!("file {} lines {:?}", h.path, h.lines),
                format!("secret rule {} matched ({filters})", h.rule),
            )
        })
        .collect()
}

fn malware(trigger: &str, ctx: &Ctx<'_>) -> Vec<Fired> {
    let scans = ctx.input.malware.unwrap_or_default();
    match trigger {
        "scan_not_run" if scans.is_empty() => vec![Fired::new(
            "No malware scan results found for the image".into(),
            "image malware scans",
            "no malware scanner results were supplied with the analysis",
        )],
        "scans" => scans
            .iter()
            .flat_map(|s| s.findings.iter().map(move |f| (s, f)))
            .map(|(s, f)| {
                Fired::new(
                    format!(
                        "Malware scan finding: scanner={} file={} signature={}",
                        s.scanner, f.path, f.signature
                    ),
                    format!("file {}", f.path),
                    format!("{} reported signature {}", s.scanner, f.signature),
                )
                .with_id(format!(
                    "{}+{}+{}",
                    s.scanner,
                    f.signature,
                    md5_hex(&f.path)
                ))
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn retrieved(rule: &ValidRule, trigger: &str, ctx: &Ctx<'_>) -> Vec<Fired> {
    let path = rule.param("path").unwrap_or_default();
    let content = retrieved_content(ctx, path);
    match (trigger, content) {
        ("content_not_available", None) => vec![Fired::new(
            format!("Cannot locate {path} content from analysis"),
            format!("file {path}"),
            format!("path={path} was not retrieved at analysis time"),
        )],
        ("content_regex", Some(text)) => {
            let Some(re) = rule.regex("regex") else {
                return Vec::new();
            };
            let regex = rule.param("regex").unwrap_or_default();
            let want_match = rule.param("check") == Some("match");
            let token = text.split_whitespace().find(|t| re.is_match(t));
            if token.is_some() != want_match {
                return Vec::new();
            }
            let (message, reason) = match token {
                Some(tok) => (
                    format!(
                        "Content regex '{regex}' check 'match' found in retrieved file '{path}'"
                    ),
                    format!("token {tok:?} matches regex (check=match)"),
                ),
                None => (
                    format!(
                        "Content regex '{regex}' check 'no_match' found in retrieved file '{path}'"
                    ),
                    "no whitespace-separated token matches regex (check=no_match)".to_string(),
                ),
            };
            vec![
                Fired::new(message, format!("file {path}"), reason)
                    .with_id(format!("{}+file://{path}", rule.id)),
            ]
        }
        _ => Vec::new(),
    }
}

fn metadata(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    let a = ctx.input.analysis;
    let attr = rule.param("attribute").unwrap_or_default();
    let check = rule.param("check").unwrap_or_default();
    let value = rule.param("value").unwrap_or_default();
    let actual: String = match attr {
        "size" => a.image.image_size.to_string(),
        "architecture" => a.image.architecture.clone(),
        "os_type" => a.image.os.clone(),
        "distro" => {
            if a.distro.is_unknown() {
                String::new()
            } else {
                a.distro.id.clone()
            }
        }
        "distro_version" => a.distro.version_id.clone().unwrap_or_default(),
        "like_distro" => a.distro.id_like.join(","),
        "layer_count" => a.image.layer_count.to_string(),
        _ => return Vec::new(),
    };
    let numeric = match attr {
        "size" => Some((a.image.image_size, parse_size(value).ok())),
        "layer_count" => Some((
            u64::try_from(a.image.layer_count).unwrap_or(u64::MAX),
            parse_int(value).ok(),
        )),
        _ => None,
    };
    let holds = match check {
        "exists" => !actual.is_empty(),
        "not_exists" => actual.is_empty(),
        "like" => rule.regex("value").is_some_and(|r| r.is_match(&actual)),
        "not_like" => rule.regex("value").is_some_and(|r| !r.is_match(&actual)),
        "in" => split_list(value).contains(&actual),
        "not_in" => !split_list(value).contains(&actual),
        op => match numeric {
            Some((have, Some(want))) => super::vulns::compare(op, have, want),
            Some((_, None)) => false,
            None => match (actual.parse::<f64>(), value.trim().parse::<f64>()) {
                (Ok(x), Ok(y)) => super::vulns::compare(op, x, y),
                _ => super::vulns::compare(op, actual.as_str(), value),
            },
        },
    };
    if !holds {
        return Vec::new();
    }
    vec![Fired::new(
        format!(
            "Attribute check for attribute: '{attr}' check: '{check}' check_value: '{value}' matched image value: '{actual}'"
        ),
        format!("image {attr} = {actual:?}"),
        format!("attribute={attr} check={check} value={value}"),
    )]
}
