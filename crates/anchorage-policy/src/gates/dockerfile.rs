//! `dockerfile` gate over the actual or guessed Dockerfile.

use anchorage_model::{Dockerfile, DockerfileMode};

use super::{Ctx, Fired};
use crate::bundle::{ValidRule, split_list};
use crate::spec::INSTRUCTIONS;

/// A Dockerfile split into (upper-cased instruction, argument text) lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParsedDockerfile {
    pub(crate) mode: DockerfileMode,
    pub(crate) lines: Vec<(String, String)>,
}

impl ParsedDockerfile {
    /// Parse: continuation lines joined, comments dropped, instruction upper-cased. History
    /// forms (`/bin/sh -c #(nop)  CMD ["sh"]`, `/bin/sh -c apt-get ...`) are normalized to the
    /// instruction they record; any other non-instruction line counts as `RUN`.
    pub(crate) fn parse(d: &Dockerfile) -> Self {
        let mut lines = Vec::new();
        let mut pending = String::new();
        for raw in d.text.lines() {
            let t = raw.trim_end();
            if pending.is_empty() && (t.trim().is_empty() || t.trim_start().starts_with('#')) {
                continue;
            }
            if let Some(head) = t.strip_suffix('\\') {
                pending.push_str(head);
                pending.push(' ');
                continue;
            }
            pending.push_str(t);
            if let Some(line) = split_line(pending.trim()) {
                lines.push(line);
            }
            pending.clear();
        }
        if let Some(line) = split_line(pending.trim()) {
            lines.push(line);
        }
        Self {
            mode: d.mode,
            lines,
        }
    }

    fn with(&self, instruction: &str) -> impl Iterator<Item = &str> {
        self.lines
            .iter()
            .filter(move |(i, _)| i == instruction)
            .map(|(_, a)| a.as_str())
    }
}

fn split_line(line: &str) -> Option<(String, String)> {
    if line.is_empty() {
        return None;
    }
    let (head, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let upper = head.to_ascii_uppercase();
    if INSTRUCTIONS.contains(&upper.as_str()) {
        return Some((upper, rest.trim().to_string()));
    }
    for shell in ["/bin/sh -c ", "|"] {
        if let Some(after) = line.strip_prefix(shell) {
            let after = after.trim();
            if let Some(nop) = after.strip_prefix("#(nop)") {
                return split_line(nop.trim());
            }
            return Some(("RUN".into(), after.to_string()));
        }
    }
    Some(("RUN".into(), line.to_string()))
}

pub(super) fn run(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    if rule.trigger.name == "no_dockerfile_provided" {
        return match ctx.dockerfile.as_ref().map(|d| d.mode) {
            Some(DockerfileMode::Actual) => Vec::new(),
            mode => vec![Fired::new(
                "Image was not analyzed with an actual Dockerfile".into(),
                "image dockerfile",
                match mode {
                    Some(_) => "the Dockerfile was guessed from layer history",
                    None => "no Dockerfile is known for the image",
                },
            )],
        };
    }
    // Nothing else fires when the Dockerfile mode is unknown.
    let Some(df) = ctx.dockerfile.as_ref() else {
        return Vec::new();
    };
    if rule.flag("actual_dockerfile_only", false) && df.mode != DockerfileMode::Actual {
        return Vec::new();
    }
    match rule.trigger.name {
        "instruction" => instruction(rule, df),
        "effective_user" => effective_user(rule, df),
        "exposed_ports" => exposed_ports(rule, df),
        _ => Vec::new(),
    }
}

fn instruction(rule: &ValidRule, df: &ParsedDockerfile) -> Vec<Fired> {
    let instr = rule.param("instruction").unwrap_or_default();
    let check = rule.param("check").unwrap_or_default();
    let value = rule.param("value").unwrap_or_default();
    if check == "not_exists" {
        return if df.with(instr).next().is_none() {
            vec![Fired::new(
                format!(
                    "Dockerfile directive '{instr}' not found, matching condition 'not_exists' check"
                ),
                format!("Dockerfile instruction {instr}"),
                format!("instruction={instr} check=not_exists: no such line"),
            )]
        } else {
            Vec::new()
        };
    }
    let list = split_list(value);
    let re = rule.regex("value");
    df.with(instr)
        .filter(|args| match check {
            "=" => *args == value,
            "!=" => *args != value,
            "exists" => true,
            "like" => re.is_some_and(|r| r.is_match(args)),
            "not_like" => re.is_some_and(|r| !r.is_match(args)),
            "in" => list.iter().any(|v| v == args),
            "not_in" => !list.iter().any(|v| v == args),
            _ => false,
        })
        .map(|args| {
            Fired::new(
                format!("Dockerfile directive '{instr}' check '{check}' matched against '{value}' for line '{args}'"),
                format!("Dockerfile line {instr} {args}"),
                format!("instruction={instr} check={check} value={value}"),
            )
        })
        .collect()
}

fn effective_user(rule: &ValidRule, df: &ParsedDockerfile) -> Vec<Fired> {
    let users = rule.list("users");
    let kind = rule.param("type").unwrap_or("blacklist");
    let user = df
        .with("USER")
        .last()
        .and_then(|a| a.split_whitespace().next())
        .map_or_else(|| "root".to_string(), str::to_string);
    let listed = users.contains(&user);
    let (fire, message) = match kind {
        "whitelist" => (
            !listed,
            format!("User {user} found as effective user, which is not on the allowed list"),
        ),
        _ => (
            listed,
            format!("User {user} found as effective user, which is on the disallowed list"),
        ),
    };
    if !fire {
        return Vec::new();
    }
    vec![Fired::new(
        message,
        format!("effective user {user}"),
        format!("users={} type={kind}", users.join(",")),
    )]
}

/// Port numbers in EXPOSE arguments: `22`, `80/tcp`, `53/udp`, and the history form
/// `map[22/tcp:{}]`.
fn exposed(df: &ParsedDockerfile) -> Vec<u64> {
    let mut ports = Vec::new();
    for args in df.with("EXPOSE") {
        let mut digits = String::new();
        for c in args.chars().chain(std::iter::once(' ')) {
            if c.is_ascii_digit() {
                digits.push(c);
            } else if !digits.is_empty() {
                if let Ok(p) = digits.parse::<u64>()
                    && !ports.contains(&p)
                {
                    ports.push(p);
                }
                digits.clear();
            }
        }
    }
    ports
}

fn exposed_ports(rule: &ValidRule, df: &ParsedDockerfile) -> Vec<Fired> {
    let listed: Vec<u64> = rule
        .list("ports")
        .iter()
        .filter_map(|p| p.parse().ok())
        .collect();
    let kind = rule.param("type").unwrap_or("blacklist");
    let ports = exposed(df);
    let mut out = Vec::new();
    for port in ports {
        let in_list = listed.contains(&port) || listed.contains(&0);
        let message = match kind {
            "whitelist" if !in_list => format!(
                "Dockerfile exposes port ({port}) which is not in policy file ALLOWEDPORTS list"
            ),
            "blacklist" if in_list => {
                format!("Dockerfile exposes port ({port}) which is in policy file DENIEDPORTS list")
            }
            _ => continue,
        };
        out.push(Fired::new(
            message,
            format!("exposed port {port}"),
            format!(
                "ports={} type={kind}",
                rule.param("ports").unwrap_or_default()
            ),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_history_forms_and_continuations() {
        let d = Dockerfile {
            mode: DockerfileMode::Guessed,
            text: "/bin/sh -c #(nop)  EXPOSE map[22/tcp:{}]\n# comment\nRUN apt-get update \\\n  && true\n/bin/sh -c #(nop)  USER app\nhealthcheck CMD true\n".into(),
        };
        let p = ParsedDockerfile::parse(&d);
        assert_eq!(p.lines[0], ("EXPOSE".into(), "map[22/tcp:{}]".into()));
        assert_eq!(p.lines[1].0, "RUN");
        assert!(p.lines[1].1.contains("&& true"));
        assert_eq!(p.lines[2], ("USER".into(), "app".into()));
        assert_eq!(p.lines[3].0, "HEALTHCHECK");
        assert_eq!(exposed(&p), vec![22]);
    }
}
