//! The matcher: (analysis, vulnerability data) -> findings with evidence. Pure apart from
//! reading the [`VulnSource`] it is given.

use std::collections::BTreeSet;
use std::sync::Arc;

use anchorage_advisory::{Verdict, VulnSource, evaluate};
use anchorage_model::{Analysis, Coverage, MatchReport, Package};

use crate::build::finding;
pub use crate::error::MatchError;
use crate::hit::{Hit, merge};
use crate::lookup::Lookup;
use crate::target::{Target, distro_target, ecosystem_covers, package_target};

/// Matching options.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatchOptions {
    /// Also match language packages that an OS package owns (e.g. the dist-info Debian's
    /// python3-yaml installs). Off by default: the OS package is matched against the distro's
    /// data, which is what the distro patches, so the same software is not counted twice.
    pub match_owned_language_packages: bool,
}

/// Match one analysis against vulnerability data with the default [`MatchOptions`].
pub fn match_analysis(
    analysis: &Analysis,
    source: &dyn VulnSource,
) -> Result<MatchReport, MatchError> {
    match_analysis_with(analysis, source, &MatchOptions::default())
}

/// The normalized package names the matcher looks up for an analysis, sorted and unique: a
/// change of vulnerability data that touches none of them cannot change its findings (the
/// re-match index of the engine service is built from this).
pub fn lookup_names(analysis: &Analysis, options: &MatchOptions) -> Vec<String> {
    let distro = distro_target(&analysis.distro);
    let mut names: Vec<String> = analysis
        .packages
        .iter()
        .filter(|p| {
            p.package_type.is_os() || p.owner.is_none() || options.match_owned_language_packages
        })
        .filter_map(|p| package_target(p, distro.as_ref()).map(|t| t.lookup))
        .collect();
    names.sort_unstable();
    names.dedup();
    names
}

/// Match one analysis against vulnerability data.
pub fn match_analysis_with(
    analysis: &Analysis,
    source: &dyn VulnSource,
    options: &MatchOptions,
) -> Result<MatchReport, MatchError> {
    let distro = distro_target(&analysis.distro);
    let ecosystems = source.ecosystems()?;
    let mut lookup = Lookup::new(source);
    let mut findings = Vec::new();
    let mut warnings = Vec::new();
    let mut partially_evaluated = Vec::new();
    let mut missing: BTreeSet<String> = BTreeSet::new();
    let has_data = |ecos: &[String]| {
        ecos.iter()
            .any(|t| ecosystems.iter().any(|e| ecosystem_covers(e, t)))
    };
    let has_os = analysis.packages.iter().any(|p| p.package_type.is_os());
    match &distro {
        Some(d) if !has_data(&d.ecosystems) => {
            missing.insert(d.ecosystems[0].clone());
        }
        None if has_os || !analysis.distro.is_unknown() => {
            missing.insert(
                format!(
                    "distro {} {}",
                    analysis.distro.id,
                    analysis.distro.version_id.as_deref().unwrap_or("")
                )
                .trim()
                .to_string(),
            );
        }
        _ => {}
    }
    let targets: Vec<(&Package, Target)> = analysis
        .packages
        .iter()
        .filter(|p| {
            p.package_type.is_os() || p.owner.is_none() || options.match_owned_language_packages
        })
        .filter_map(|p| package_target(p, distro.as_ref()).map(|t| (p, t)))
        .collect();
    let mut keys: Vec<(String, String)> = targets
        .iter()
        .flat_map(|(_, t)| t.ecosystems.iter().map(|e| (e.clone(), t.lookup.clone())))
        .collect();
    keys.sort_unstable();
    keys.dedup();
    lookup.prefetch(&keys)?;
    for (pkg, target) in &targets {
        let (pkg, target) = (*pkg, target);
        if !target.os && !has_data(&target.ecosystems) {
            missing.insert(target.ecosystems[0].clone());
        }
        let candidates = lookup.get(&target.lookup)?.to_vec();
        let mut hits = Vec::new();
        for record in candidates {
            if record.advisory.withdrawn.is_some() {
                continue;
            }
            for (i, aff) in record.advisory.affected.iter().enumerate() {
                if !target
                    .ecosystems
                    .iter()
                    .any(|t| ecosystem_covers(&aff.ecosystem, t))
                    || anchorage_advisory::normalize_name(&aff.ecosystem, &aff.name)
                        != target.lookup
                {
                    continue;
                }
                match evaluate(aff, &target.version) {
                    Verdict::Affected {
                        constraint,
                        fixes,
                        scheme,
                    } => hits.push(Hit {
                        record: Arc::clone(&record),
                        affected: i,
                        constraint,
                        fixes,
                        scheme,
                        attached: false,
                    }),
                    Verdict::NotAffected(_) => {}
                    Verdict::Invalid(why) => {
                        let line = format!(
                            "{} {}: record {}: {why}",
                            pkg.name, pkg.version, record.advisory.id
                        );
                        partially_evaluated.push(line.clone());
                        warnings.push(line);
                    }
                }
            }
        }
        for group in merge(hits) {
            findings.push(finding(
                pkg,
                target,
                distro.as_ref().map(|d| d.anchore_group.as_str()),
                group,
                source,
            )?);
        }
    }
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.vuln.cmp(&b.vuln))
            .then_with(|| a.package.name.cmp(&b.package.name))
            .then_with(|| a.package.version.cmp(&b.package.version))
            .then_with(|| a.package.path.cmp(&b.package.path))
    });
    let coverage = if missing.is_empty() {
        Coverage::Complete
    } else {
        Coverage::Unavailable {
            groups: missing.into_iter().collect(),
        }
    };
    Ok(MatchReport {
        findings,
        coverage,
        warnings,
        partially_evaluated,
    })
}
