//! `packages`, `licenses`, `npms` and `ruby_gems` gates.

use std::cmp::Ordering;

use anchorage_model::{Package, PackageFile, PackageMetadata};
use anchorage_types::PackageType;
use anchorage_version::Scheme;

use super::{Ctx, Fired};
use crate::bundle::ValidRule;
use crate::input::FeedPackage;

pub(super) fn run(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    match (rule.gate.name, rule.trigger.name) {
        ("packages", "required_package") => required_package(rule, ctx),
        ("packages", "verify") => verify(rule, ctx),
        ("packages", "blacklist") => {
            name_blacklist(rule, ctx, PackageTypeFilter::Os, "Package is blacklisted")
        }
        ("licenses", "blacklist_exact_match") => licenses(rule, ctx, true),
        ("licenses", "blacklist_partial_match") => licenses(rule, ctx, false),
        ("npms", "blacklisted_name_version") => name_blacklist(
            rule,
            ctx,
            PackageTypeFilter::Is(PackageType::Npm),
            "NPM Package is blacklisted",
        ),
        ("ruby_gems", "blacklist") => name_blacklist(
            rule,
            ctx,
            PackageTypeFilter::Is(PackageType::Gem),
            "Gem is blacklisted",
        ),
        ("npms", t) => feed_check(rule, t, ctx, PackageType::Npm),
        ("ruby_gems", t) => feed_check(rule, t, ctx, PackageType::Gem),
        _ => Vec::new(),
    }
}

enum PackageTypeFilter {
    Os,
    Is(PackageType),
}

impl PackageTypeFilter {
    fn accepts(&self, t: PackageType) -> bool {
        match self {
            PackageTypeFilter::Os => t.is_os(),
            PackageTypeFilter::Is(want) => *want == t,
        }
    }
}

fn os_packages<'a>(ctx: &Ctx<'a>) -> impl Iterator<Item = &'a Package> {
    ctx.input
        .analysis
        .packages
        .iter()
        .filter(|p| p.package_type.is_os())
}

fn required_package(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    let name = rule.param("name").unwrap_or_default();
    let version = rule.param("version");
    let minimum = rule.param("version_match_type") == Some("minimum");
    let installed: Vec<&Package> = os_packages(ctx).filter(|p| p.name == name).collect();
    if installed.is_empty() {
        return vec![Fired::new(
            format!("Required package {name} not found"),
            format!("package {name}"),
            format!("name={name}: no OS package with that name is installed"),
        )];
    }
    let Some(want) = version else {
        return Vec::new();
    };
    let versions: Vec<&str> = installed.iter().map(|p| p.version.as_str()).collect();
    let satisfied = installed.iter().any(|p| {
        if minimum {
            // An installed or wanted version the package's own ordering cannot parse cannot be
            // shown to meet the minimum, so the trigger fires.
            compare_versions(p.package_type, &p.version, want).is_some_and(|o| o != Ordering::Less)
        } else {
            p.version == want
        }
    });
    if satisfied {
        return Vec::new();
    }
    let (message, reason) = if minimum {
        (
            format!("Required package {name} version below minimum {want}"),
            if installed
                .iter()
                .all(|p| compare_versions(p.package_type, &p.version, want).is_some())
            {
                format!(
                    "installed {} < version={want} (version_match_type=minimum)",
                    versions.join(", ")
                )
            } else {
                format!(
                    "installed {} cannot be compared with version={want}: not a valid version for the package type (version_match_type=minimum)",
                    versions.join(", ")
                )
            },
        )
    } else {
        (
            format!("Required package {name} version {want} not found"),
            format!(
                "installed {} != version={want} (version_match_type=exact)",
                versions.join(", ")
            ),
        )
    };
    vec![Fired::new(message, format!("package {name}"), reason)]
}

/// Order two versions with the package type's own scheme (`anchorage-version`: dpkg, apk,
/// rpm exactly as their tools do); `None` when either does not parse.
fn compare_versions(t: PackageType, a: &str, b: &str) -> Option<Ordering> {
    let scheme = match t {
        PackageType::Dpkg => Scheme::Dpkg,
        PackageType::Apk => Scheme::Apk,
        PackageType::Rpm => Scheme::Rpm,
        _ => Scheme::Generic,
    };
    anchorage_version::compare(scheme, a, b).ok()
}

fn package_files(p: &Package) -> &[PackageFile] {
    match &p.metadata {
        PackageMetadata::Dpkg(m) => &m.files,
        PackageMetadata::Apk(m) => &m.files,
        PackageMetadata::Rpm(m) => &m.files,
        _ => &[],
    }
}

/// Compares each file recorded in the package databases with the analyzed file tree. A file
/// counts as changed when its recorded digest (sha256 for rpm, sha1 for apk, md5 for dpkg)
/// differs from the analyzed one, and missing when it is a regular file in the database but
/// not in the tree.
fn verify(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    let only_packages = rule.list("only_packages");
    let only_dirs = rule.list("only_directories");
    let check = rule.param("check");
    let mut out = Vec::new();
    for p in os_packages(ctx) {
        if !only_packages.is_empty() && !only_packages.contains(&p.name) {
            continue;
        }
        for pf in package_files(p) {
            // Configuration files (dpkg conffiles, rpm %config) are meant to be edited.
            if pf.config {
                continue;
            }
            if !only_dirs.is_empty()
                && !only_dirs.iter().any(|d| {
                    let d = d.trim_end_matches('/');
                    pf.path == d || pf.path.starts_with(&format!("{d}/"))
                })
            {
                continue;
            }
            match ctx.file(&pf.path) {
                None if check != Some("changed") => {
                    // Directories recorded by the package db carry no digest; only files
                    // with a recorded digest are expected to exist as files.
                    if pf.digest.is_none() {
                        continue;
                    }
                    out.push(Fired::new(
                        format!("Package {} file {} is missing", p.name, pf.path),
                        format!("file {} of package {} {}", pf.path, p.name, p.version),
                        "recorded in the package database but absent from the image (check=missing)",
                    ));
                }
                Some(f) if check != Some("missing") => {
                    let Some(d) = &pf.digest else { continue };
                    // The file-digest pass records sha256, sha1 and md5, so rpm (sha256), apk
                    // (sha1 from `Z:Q1`) and dpkg (md5 from `.md5sums`) records all compare.
                    let (alg, actual) = match d.algorithm.to_ascii_lowercase().as_str() {
                        "sha256" => ("sha256", &f.sha256),
                        "sha1" => ("sha1", &f.sha1),
                        "md5" => ("md5", &f.md5),
                        _ => continue,
                    };
                    if let Some(actual) = actual
                        && !actual.eq_ignore_ascii_case(&d.value)
                    {
                        out.push(Fired::new(
                            format!("Package {} file {} has changed", p.name, pf.path),
                            format!("file {} of package {} {}", pf.path, p.name, p.version),
                            format!("recorded {alg} {} differs from analyzed {alg} {actual} (check=changed)", d.value),
                        ));
                    }
                }
                _ => {}
            }
        }
    }
    out
}

fn name_blacklist(
    rule: &ValidRule,
    ctx: &Ctx<'_>,
    filter: PackageTypeFilter,
    label: &str,
) -> Vec<Fired> {
    let name = rule.param("name").unwrap_or_default();
    let version = rule.param("version");
    ctx.input
        .analysis
        .packages
        .iter()
        .filter(|p| filter.accepts(p.package_type) && p.name == name)
        .filter(|p| version.is_none_or(|v| p.version == v))
        .map(|p| {
            let shown = match version {
                Some(v) => format!("{name}-{v}"),
                None => name.to_string(),
            };
            Fired::new(
                format!("{label}: {shown}"),
                format!("package {} {} ({})", p.name, p.version, first_location(p)),
                match version {
                    Some(v) => format!("name={name} and version={v} match the installed package"),
                    None => format!("name={name} matches an installed package"),
                },
            )
        })
        .collect()
}

fn first_location(p: &Package) -> &str {
    p.locations.first().map_or("", |l| l.path.as_str())
}

fn licenses(rule: &ValidRule, ctx: &Ctx<'_>, exact: bool) -> Vec<Fired> {
    let wanted = rule.list("licenses");
    let mut hits: Vec<String> = Vec::new();
    for p in os_packages(ctx) {
        for lic in p.licenses.iter().flat_map(|l| l.split_whitespace()) {
            let matched = wanted.iter().any(|w| {
                if exact {
                    lic == w
                } else {
                    lic.contains(w.as_str())
                }
            });
            if matched {
                let pair = format!("{}({lic})", p.name);
                if !hits.contains(&pair) {
                    hits.push(pair);
                }
            }
        }
    }
    if hits.is_empty() {
        return Vec::new();
    }
    let kind = if exact { "exact" } else { "partial" };
    vec![Fired::new(
        format!(
            "BLACKLISTEDLICENSE Blacklisted licenses ({kind} match) found in packages: {}",
            hits.join(", ")
        ),
        hits.join(", "),
        format!("licenses={} ({kind} match)", wanted.join(",")),
    )]
}

fn feed_check(rule: &ValidRule, trigger: &str, ctx: &Ctx<'_>, t: PackageType) -> Vec<Fired> {
    let group = if t == PackageType::Npm { "npm" } else { "gem" };
    let label = if t == PackageType::Npm { "NPM" } else { "GEM" };
    let feed = ctx.input.package_feeds.map(|f| {
        if t == PackageType::Npm {
            &f.npm
        } else {
            &f.gem
        }
    });
    if trigger == "feed_data_unavailable" {
        let synced = ctx
            .input
            .feeds
            .iter()
            .any(|g| g.feed == "packages" && g.group == group && g.last_sync.is_some())
            || feed.is_some_and(|f| !f.is_empty());
        return if synced {
            Vec::new()
        } else {
            vec![Fired::new(
                format!("Data for {label} packages is not available in the packages feed"),
                format!("feed packages/{group}"),
                "the packages feed group has never synced",
            )]
        };
    }
    // Feed-based triggers are silent when either side has no data (as upstream), but an absent
    // feed is said out loud: the rule cannot fire without it.
    let Some(feed) = feed.filter(|f| !f.is_empty()) else {
        if ctx
            .input
            .analysis
            .packages
            .iter()
            .any(|p| p.package_type == t)
        {
            ctx.warn(
                rule,
                format!(
                    "the packages feed for {group} is not available, so this trigger cannot \
                     fire; provide package feed data or drop the rule"
                ),
            );
        }
        return Vec::new();
    };
    let mut out = Vec::new();
    for p in ctx
        .input
        .analysis
        .packages
        .iter()
        .filter(|p| p.package_type == t)
    {
        let entry: Option<&FeedPackage> = feed.get(&p.name);
        let subject = format!("package {} {} ({})", p.name, p.version, first_location(p));
        match (trigger, entry) {
            ("unknown_in_feeds" | "not_found_in_feed", None) => out.push(Fired::new(
                format!(
                    "{label} Package ({}) in container but not in {label} feed",
                    p.name
                ),
                subject,
                "name not present in the packages feed",
            )),
            ("newer_version_in_feed" | "newer_version_found_in_feed", Some(e))
                if e.latest != p.version =>
            {
                out.push(Fired::new(
                    format!(
                        "{label} Package ({}) version ({}) installed but is not the latest version ({})",
                        p.name, p.version, e.latest
                    ),
                    subject,
                    format!("feed latest version is {}", e.latest),
                ));
            }
            ("version_not_in_feeds" | "version_not_found_in_feed", Some(e))
                if !e.versions.contains(&p.version) =>
            {
                out.push(Fired::new(
                    format!("{label} Package ({}) version ({}) installed but version is not in the official feed for this package", p.name, p.version),
                    subject,
                    "installed version not listed in the packages feed",
                ));
            }
            _ => {}
        }
    }
    out
}
