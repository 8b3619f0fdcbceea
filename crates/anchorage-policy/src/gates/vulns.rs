//! `vulnerabilities` gate.

use anchorage_model::Distro;
use anchorage_model::{Coverage, CvssData, CvssScores, Finding, FixState, distro_target};
use anchorage_types::{PackageType, Severity};
use chrono::{DateTime, Duration, Utc};

use super::{Ctx, Fired};
use crate::bundle::{ValidRule, split_list};
use crate::validate::{parse_float, parse_int};

pub(super) fn run(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    match rule.trigger.name {
        "package" => package(rule, ctx),
        "stale_feed_data" => stale_feed_data(rule, ctx),
        "vulnerability_data_unavailable" => data_unavailable(ctx),
        "blacklist" => blacklist(rule, ctx),
        _ => Vec::new(),
    }
}

/// Compare with one of `=`, `!=`, `<`, `>`, `<=`, `>=`.
pub(crate) fn compare<T: PartialOrd>(op: &str, left: T, right: T) -> bool {
    match op {
        "=" => left == right,
        "!=" => left != right,
        "<" => left < right,
        ">" => left > right,
        "<=" => left <= right,
        ">=" => left >= right,
        _ => false,
    }
}

fn severity_index(s: Severity) -> usize {
    Severity::ALL.iter().position(|x| *x == s).unwrap_or(0)
}

/// `package` component of a `vulnerabilities/package` trigger id (§4.5).
pub(crate) fn trigger_pkg(f: &Finding) -> String {
    let p = &f.package;
    let name_version = format!("{}-{}", p.name, p.version);
    if p.package_type.is_os() {
        return if p.name.is_empty() {
            name_version
        } else {
            p.name.clone()
        };
    }
    // A nested archive is located at `outer.war:WEB-INF/lib/inner.jar`: the inner part names
    // the package's own archive.
    let path = match p.package_type {
        PackageType::Java => p.path.rsplit(':').next().unwrap_or(&p.path),
        _ => &p.path,
    };
    let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let picked = match p.package_type {
        PackageType::Java | PackageType::Gem => parts.last().copied(),
        PackageType::Npm => parts
            .len()
            .checked_sub(2)
            .and_then(|i| parts.get(i).copied()),
        _ => None,
    };
    match picked {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => name_version,
    }
}

fn max_score(data: &[CvssData], pick: fn(&CvssScores) -> f64) -> f64 {
    data.iter()
        .filter_map(|d| d.cvss_v3.as_ref().map(pick))
        .fold(-1.0, f64::max)
}

fn older_than(then: DateTime<Utc>, now: DateTime<Utc>, days: u64) -> bool {
    let days = i64::try_from(days.min(1_000_000)).unwrap_or(1_000_000);
    Duration::try_days(days).is_some_and(|d| now - then > d)
}

/// (param name, label, vendor scores?, which score).
type ScoreParam = (&'static str, &'static str, bool, fn(&CvssScores) -> f64);

const SCORES: [ScoreParam; 6] = [
    ("cvss_v3_base_score", "CVSS v3 base score", false, |s| {
        s.base_score
    }),
    (
        "cvss_v3_exploitability_score",
        "CVSS v3 exploitability score",
        false,
        |s| s.exploitability_score,
    ),
    ("cvss_v3_impact_score", "CVSS v3 impact score", false, |s| {
        s.impact_score
    }),
    (
        "vendor_cvss_v3_base_score",
        "vendor CVSS v3 base score",
        true,
        |s| s.base_score,
    ),
    (
        "vendor_cvss_v3_exploitability_score",
        "vendor CVSS v3 exploitability score",
        true,
        |s| s.exploitability_score,
    ),
    (
        "vendor_cvss_v3_impact_score",
        "vendor CVSS v3 impact score",
        true,
        |s| s.impact_score,
    ),
];

fn package(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    let input = ctx.input;
    let class = rule.param("package_type").unwrap_or("all");
    let sev_op = rule.param("severity_comparison").unwrap_or(">");
    let sev: Severity = rule
        .param("severity")
        .and_then(|s| s.parse().ok())
        .unwrap_or(Severity::Unknown);
    let vendor_only = rule.flag("vendor_only", true);
    let fix_available = rule
        .param("fix_available")
        .map(|_| rule.flag("fix_available", false));
    let max_creation = rule
        .param("max_days_since_creation")
        .and_then(|v| parse_int(v).ok());
    let max_fix = rule
        .param("max_days_since_fix")
        .and_then(|v| parse_int(v).ok());
    let path_exclude = rule.regex("package_path_exclude");
    let mut out = Vec::new();
    let mut unknown_fix_dates: Vec<String> = Vec::new();
    for f in input.findings {
        let is_os = f.package.package_type.is_os();
        let class_ok = match class {
            "os" => is_os,
            "non-os" => !is_os,
            _ => true,
        };
        if !class_ok || !compare(sev_op, severity_index(f.severity), severity_index(sev)) {
            continue;
        }
        if !is_os && path_exclude.is_some_and(|re| re.is_match(&f.package.path)) {
            continue;
        }
        if vendor_only && f.will_not_fix() {
            continue;
        }
        let mut why = vec![format!(
            "severity {} {sev_op} {}",
            f.severity.as_str().to_lowercase(),
            sev.as_str().to_lowercase()
        )];
        if let Some(days) = max_creation {
            let since = f.published.unwrap_or(input.analysis.analyzed_at);
            if !older_than(since, input.now, days) {
                continue;
            }
            why.push(format!(
                "known since {} (more than {days} days)",
                since.format("%Y-%m-%d")
            ));
        }
        let fixed = matches!(&f.fix, FixState::Fixed(v) if !v.is_empty());
        if let (Some(true), Some(days)) = (fix_available, max_fix) {
            match f.fix_observed_at {
                Some(at) if older_than(at, input.now, days) => {
                    why.push(format!(
                        "fix available since {} (more than {days} days)",
                        at.format("%Y-%m-%d")
                    ));
                }
                Some(_) => continue,
                None => {
                    // The age of the fix is unknown (no sync has recorded when it appeared):
                    // the rule cannot tell, so it does not fire, and says so.
                    if fixed {
                        unknown_fix_dates.push(format!("{} ({})", f.vuln, f.package.name));
                    }
                    continue;
                }
            }
        }
        let mut score_text = String::new();
        let mut scores_ok = true;
        for (name, label, vendor, pick) in SCORES {
            let Some(want) = rule.param(name).and_then(|v| parse_float(v).ok()) else {
                continue;
            };
            let op = rule.param(&format!("{name}_comparison")).unwrap_or(">=");
            let have = max_score(if vendor { &f.vendor_data } else { &f.nvd_data }, pick);
            if !compare(op, have, want) {
                scores_ok = false;
                break;
            }
            score_text.push_str(&format!("({label}: {have})"));
            why.push(format!("{label} {have} {op} {want}"));
        }
        if !scores_ok {
            continue;
        }
        if let Some(want) = fix_available {
            if fixed != want {
                continue;
            }
            why.push(format!("fix_available={want}"));
        }
        let subject = if is_os {
            f.package.name.clone()
        } else {
            f.package.path.clone()
        };
        let fix_text = if fixed {
            format!(" (fixed in: {})", f.fix_column())
        } else {
            String::new()
        };
        let message = format!(
            "{} Vulnerability found in {} package type ({}) - {subject}{fix_text}{score_text}({} - {})",
            f.severity.as_str().to_uppercase(),
            if is_os { "os" } else { "non-os" },
            f.package.package_type.as_str(),
            f.vuln,
            f.url
        );
        out.push(
            Fired::new(
                message,
                format!(
                    "package {} {} ({})",
                    f.package.name, f.package.version, f.package.path
                ),
                format!("{}: {}", f.vuln, why.join("; ")),
            )
            .with_id(format!("{}+{}", f.vuln, trigger_pkg(f))),
        );
    }
    if !unknown_fix_dates.is_empty() {
        let n = unknown_fix_dates.len();
        unknown_fix_dates.truncate(5);
        ctx.warn(
            rule,
            format!(
                "max_days_since_fix: the date a fix was first seen is unknown for {n} finding(s) \
                 with a fix (e.g. {}); they were not reported. Sync the feeds regularly so \
                 fix dates are recorded.",
                unknown_fix_dates.join(", ")
            ),
        );
    }
    out
}

/// Feed group names that hold data for a distro, lower-cased: the OSV ecosystems and Anchore
/// group that matching uses for it (`debian:12`, `alpine:v3.20`, `rocky linux:9`), plus the
/// plain `id:version` forms (`alpine:3.20.3`, `alpine:3.20`, `alpine:3`).
pub(crate) fn distro_groups(d: &Distro) -> Vec<String> {
    if d.is_unknown() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if let Some(t) = distro_target(d) {
        out.extend(t.ecosystems.iter().map(|e| e.to_lowercase()));
        out.push(t.anchore_group.to_lowercase());
    }
    let id = d.id.to_lowercase();
    match d.version_id.as_deref().map(str::to_lowercase) {
        None => out.push(id),
        Some(version) => {
            let parts: Vec<&str> = version.split('.').collect();
            out.push(format!("{id}:{version}"));
            out.push(format!("{id}:v{version}"));
            for n in 1..parts.len() {
                let prefix = parts[..n].join(".");
                out.push(format!("{id}:{prefix}"));
                out.push(format!("{id}:v{prefix}"));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

fn namespace(d: &Distro) -> String {
    match &d.version_id {
        Some(v) => format!("{}:{v}", d.id),
        None => d.id.clone(),
    }
}

fn stale_feed_data(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    let input = ctx.input;
    let distro = &input.analysis.distro;
    let Some(days) = rule
        .param("max_days_since_sync")
        .and_then(|v| parse_int(v).ok())
    else {
        return Vec::new();
    };
    if distro.is_unknown() {
        return Vec::new();
    }
    let groups = distro_groups(distro);
    let ns = namespace(distro);
    let latest = input
        .feeds
        .iter()
        .filter(|g| groups.contains(&g.group.to_lowercase()))
        .filter_map(|g| g.last_sync)
        .max();
    let message =
        format!("The vulnerability feed for this image distro is older than MAXAGE ({days}) days");
    match latest {
        Some(at) if !older_than(at, input.now, days) => Vec::new(),
        Some(at) => vec![Fired::new(
            message,
            format!("feed group for {ns}"),
            format!(
                "last synced {} (max_days_since_sync={days})",
                at.to_rfc3339()
            ),
        )],
        None => vec![Fired::new(
            message,
            format!("feed group for {ns}"),
            format!("no synced feed group for {ns} (max_days_since_sync={days})"),
        )],
    }
}

fn data_unavailable(ctx: &Ctx<'_>) -> Vec<Fired> {
    let input = ctx.input;
    let distro = &input.analysis.distro;
    let groups = distro_groups(distro);
    let ns = namespace(distro);
    let message = format!("Feed data unavailable, cannot perform CVE scan for distro: {ns}");
    if let Coverage::Unavailable { groups: missing } = input.coverage
        && let Some(g) = missing.iter().find(|g| groups.contains(&g.to_lowercase()))
    {
        return vec![Fired::new(
            message,
            format!("distro {ns}"),
            format!("matching reported no vulnerability data for group {g}"),
        )];
    }
    if !input.feeds.is_empty()
        && !input
            .feeds
            .iter()
            .any(|g| g.record_count > 0 && groups.contains(&g.group.to_lowercase()))
    {
        return vec![Fired::new(
            message,
            format!("distro {ns}"),
            "no feed group with records exists for the image's distro".to_string(),
        )];
    }
    Vec::new()
}

fn blacklist(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    let ids = rule
        .param("vulnerability_ids")
        .map(split_list)
        .unwrap_or_default();
    let vendor_only = rule.flag("vendor_only", true);
    let mut found: Vec<(String, String)> = Vec::new();
    for id in &ids {
        let hit = ctx.input.findings.iter().find(|f| {
            (!vendor_only || !f.will_not_fix())
                && (f.vuln.eq_ignore_ascii_case(id)
                    || f.aliases.iter().any(|a| a.eq_ignore_ascii_case(id)))
        });
        if let Some(f) = hit {
            found.push((
                id.clone(),
                format!("{} {}", f.package.name, f.package.version),
            ));
        }
    }
    if found.is_empty() {
        return Vec::new();
    }
    let list: Vec<&str> = found.iter().map(|(id, _)| id.as_str()).collect();
    vec![Fired::new(
        format!("Blacklisted vulnerabilities detected: {}", list.join(", ")),
        found
            .iter()
            .map(|(id, p)| format!("{id} in {p}"))
            .collect::<Vec<_>>()
            .join("; "),
        format!("vulnerability_ids lists {}", list.join(", ")),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distro(id: &str, version: &str) -> Distro {
        Distro {
            id: id.into(),
            version_id: Some(version.into()),
            ..Distro::default()
        }
    }

    #[test]
    fn distro_groups_cover_osv_and_anchore_names() {
        let g = distro_groups(&distro("rocky", "9.3"));
        assert!(g.contains(&"rocky linux:9".to_string()), "{g:?}");
        assert!(g.contains(&"rocky:9".to_string()), "{g:?}");
        let g = distro_groups(&distro("alpine", "3.20.3"));
        assert!(g.contains(&"alpine:v3.20".to_string()), "{g:?}");
        assert!(g.contains(&"alpine:3.20".to_string()), "{g:?}");
        assert!(!g.contains(&"alpine:v3.2".to_string()), "{g:?}");
        assert!(distro_groups(&Distro::unknown()).is_empty());
    }
}
