//! `explain`: why a vulnerability matched a package of an image, or why it did not.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use anchorage_advisory::{Verdict, VulnSource, evaluate, normalize_name};
use anchorage_model::Analysis;

use crate::matcher::{MatchError, match_analysis};
use crate::target::{distro_target, ecosystem_covers, package_target};
use anchorage_model::Finding;

/// One reasoning step: a record's affected entry against a package (or the lack of one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainLine {
    /// Record id.
    pub record_id: String,
    /// Feed kind.
    pub feed: String,
    /// Affected entry ecosystem and name (`Debian:12 gnutls28`), when the line is about one.
    #[serde(default)]
    pub affected: Option<String>,
    /// The image package (`libgnutls30 3.7.9-2+deb12u7`), when the line is about one.
    #[serde(default)]
    pub package: Option<String>,
    /// True when this step matched.
    pub matched: bool,
    /// Why.
    pub reason: String,
}

/// The explanation of one vulnerability id against one analysis.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Explanation {
    /// The id asked about.
    pub vuln_id: String,
    /// Record ids found for it (ids and aliases).
    pub records: Vec<String>,
    /// Reasoning steps.
    pub lines: Vec<ExplainLine>,
    /// The findings the matcher reports for it (after alias merging).
    pub findings: Vec<Finding>,
}

impl Explanation {
    /// True when the image is affected.
    pub fn matched(&self) -> bool {
        !self.findings.is_empty()
    }
}

/// Explain `vuln_id` against `analysis`: every record naming the id, every affected entry,
/// every package of the image with that name, and the verdict with its reason.
pub fn explain(
    analysis: &Analysis,
    source: &dyn VulnSource,
    vuln_id: &str,
) -> Result<Explanation, MatchError> {
    let records = source.advisories_by_id(vuln_id)?;
    let distro = distro_target(&analysis.distro);
    let mut lines = Vec::new();
    let targets: Vec<_> = analysis
        .packages
        .iter()
        .filter_map(|p| package_target(p, distro.as_ref()).map(|t| (p, t)))
        .collect();
    for rec in &records {
        let adv = &rec.advisory;
        if let Some(w) = adv.withdrawn {
            lines.push(ExplainLine {
                record_id: adv.id.clone(),
                feed: rec.feed.clone(),
                affected: None,
                package: None,
                matched: false,
                reason: format!("record withdrawn on {w}; withdrawn records never match"),
            });
            continue;
        }
        let before = lines.len();
        let mut other_releases = BTreeSet::new();
        for aff in &adv.affected {
            for (pkg, target) in &targets {
                if normalize_name(&aff.ecosystem, &aff.name) != target.lookup {
                    continue;
                }
                let label = Some(format!("{} {}", aff.ecosystem, aff.name));
                let package = Some(format!("{} {}", pkg.name, pkg.version));
                if !target
                    .ecosystems
                    .iter()
                    .any(|t| ecosystem_covers(&aff.ecosystem, t))
                {
                    if anchorage_advisory::ecosystem_base(&aff.ecosystem)
                        == anchorage_advisory::ecosystem_base(&target.ecosystems[0])
                    {
                        other_releases.insert(aff.ecosystem.clone());
                    }
                    continue;
                }
                let (matched, reason) = match evaluate(aff, &target.version) {
                    Verdict::Affected { constraint, .. } => (
                        true,
                        format!("matched on {}: {constraint}", target.describe()),
                    ),
                    Verdict::NotAffected(why) => {
                        (false, format!("{}: not affected: {why}", target.describe()))
                    }
                    Verdict::Invalid(why) => {
                        (false, format!("{}: undecidable: {why}", target.describe()))
                    }
                };
                lines.push(ExplainLine {
                    record_id: adv.id.clone(),
                    feed: rec.feed.clone(),
                    affected: label,
                    package,
                    matched,
                    reason,
                });
            }
        }
        let relevant = lines[before..].iter().any(|l| l.affected.is_some());
        if !relevant {
            let names: BTreeSet<String> = adv
                .affected
                .iter()
                .map(|a| format!("{} {}", a.ecosystem, a.name))
                .collect();
            let reason = if !other_releases.is_empty() {
                let image = distro
                    .as_ref()
                    .map(|d| d.ecosystems[0].clone())
                    .unwrap_or_else(|| "an unknown distro".into());
                format!(
                    "the package is installed, but the record covers only {} and the image is {image}",
                    other_releases.into_iter().collect::<Vec<_>>().join(", ")
                )
            } else if names.is_empty() {
                "the record names no affected package".to_string()
            } else {
                format!(
                    "no package of the image matches the record's affected packages ({})",
                    names.into_iter().take(10).collect::<Vec<_>>().join(", ")
                )
            };
            lines.push(ExplainLine {
                record_id: adv.id.clone(),
                feed: rec.feed.clone(),
                affected: None,
                package: None,
                matched: false,
                reason,
            });
        }
    }
    let report = match_analysis(analysis, source)?;
    let findings = report
        .findings
        .into_iter()
        .filter(|f| f.vuln == vuln_id || f.aliases.iter().any(|a| a == vuln_id))
        .collect();
    Ok(Explanation {
        vuln_id: vuln_id.to_string(),
        records: records.iter().map(|r| r.advisory.id.clone()).collect(),
        lines,
        findings,
    })
}
