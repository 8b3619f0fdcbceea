//! The matcher: (analysis, vulnerability data) -> findings with evidence. Pure apart from
//! reading the [`VulnSource`] it is given.

use anchorage_types::ErrorKind;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::target::{Target, anchore_language, distro_target, ecosystem_covers, package_target};
use anchorage_advisory::{
    Affected, AffectedStatus, SeverityKind, SeverityRating, SourceError, SourcedAdvisory, Verdict,
    VulnSource, evaluate, label_severity, rating_severity,
};
use anchorage_model::{
    Analysis, Coverage, CvssData, CvssScores, Evidence, Finding, FixState, MatchReport,
    MatchedPackage, Package,
};
use anchorage_types::Severity;
use anchorage_version::Scheme;

/// A matching error: only reading the vulnerability data can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MatchError {
    /// The vulnerability source failed.
    #[error("reading vulnerability data: {0}")]
    Source(#[from] SourceError),
}

impl MatchError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            MatchError::Source(e) => e.kind(),
        }
    }
}

/// One record/affected-entry hit for a package before alias merging.
#[derive(Debug, Clone)]
struct Hit {
    record: Arc<SourcedAdvisory>,
    affected: usize,
    constraint: String,
    fixes: Vec<String>,
    scheme: Scheme,
    /// A record naming several CVEs attached to the finding of one of them: only its own id
    /// is added to the finding's aliases.
    attached: bool,
}

impl Hit {
    fn ids(&self) -> impl Iterator<Item = &str> {
        self.record.advisory.all_ids()
    }
    fn affected(&self) -> &Affected {
        &self.record.advisory.affected[self.affected]
    }
}

/// Candidates for a target, cached by lookup name for the duration of one match.
pub(crate) struct Lookup<'a> {
    source: &'a dyn VulnSource,
    cache: HashMap<String, Vec<Arc<SourcedAdvisory>>>,
}

impl<'a> Lookup<'a> {
    pub(crate) fn new(source: &'a dyn VulnSource) -> Self {
        Self {
            source,
            cache: HashMap::new(),
        }
    }

    /// Fetch the candidates of many (ecosystem, name) targets in one go.
    pub(crate) fn prefetch(&mut self, targets: &[(String, String)]) -> Result<(), SourceError> {
        let mut found = self.source.advisories_for_targets(targets)?;
        for (_, n) in targets {
            if !self.cache.contains_key(n) {
                let v = found.remove(n).unwrap_or_default();
                self.cache.insert(n.clone(), v);
            }
        }
        Ok(())
    }

    pub(crate) fn get(&mut self, name: &str) -> Result<&[Arc<SourcedAdvisory>], SourceError> {
        if !self.cache.contains_key(name) {
            let found = self.source.advisories_for(name)?;
            self.cache.insert(name.to_string(), found);
        }
        Ok(self.cache.get(name).map(Vec::as_slice).unwrap_or(&[]))
    }
}

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

/// Number of distinct CVE ids a hit's record carries (its id and aliases).
fn cve_count(hit: &Hit) -> usize {
    hit.ids()
        .filter(|id| is_cve(id))
        .collect::<BTreeSet<_>>()
        .len()
}

/// Merge hits into findings: hits whose id sets intersect are one vulnerability (one CVE is
/// reported once per package with all its source ids). A record naming several CVEs (a DSA
/// covering five CVEs) does not fuse those CVEs into one finding: it is attached as evidence
/// to each finding of a CVE it names, and stands alone only when none matched.
fn merge(hits: Vec<Hit>) -> Vec<Vec<Hit>> {
    let (multi, single): (Vec<Hit>, Vec<Hit>) = hits.into_iter().partition(|h| cve_count(h) > 1);
    let mut groups: Vec<(BTreeSet<String>, Vec<Hit>)> = Vec::new();
    for hit in single {
        let mut merged_ids: BTreeSet<String> = hit.ids().map(str::to_string).collect();
        let mut merged_hits = vec![hit];
        let mut i = 0;
        while i < groups.len() {
            if !groups[i].0.is_disjoint(&merged_ids) {
                let (g_ids, g_hits) = groups.swap_remove(i);
                merged_ids.extend(g_ids);
                merged_hits.extend(g_hits);
                i = 0;
            } else {
                i += 1;
            }
        }
        groups.push((merged_ids, merged_hits));
    }
    let mut standalone = Vec::new();
    for mut hit in multi {
        let ids: BTreeSet<String> = hit.ids().map(str::to_string).collect();
        hit.attached = true;
        let mut attached = false;
        for (g_ids, g_hits) in &mut groups {
            if !g_ids.is_disjoint(&ids) {
                g_hits.push(hit.clone());
                attached = true;
            }
        }
        if !attached {
            hit.attached = false;
            standalone.push(vec![hit]);
        }
    }
    groups
        .into_iter()
        .map(|(_, h)| h)
        .chain(standalone)
        .collect()
}

fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

/// The id to report for merged hits: a CVE record id, else the one CVE all aliases agree on,
/// else the smallest record id.
fn reported_id(hits: &[Hit]) -> String {
    let own: Vec<&Hit> = hits.iter().filter(|h| !h.attached).collect();
    let hits: Vec<&Hit> = if own.is_empty() {
        hits.iter().collect()
    } else {
        own
    };
    let record_ids: BTreeSet<&str> = hits.iter().map(|h| h.record.advisory.id.as_str()).collect();
    if let Some(cve) = record_ids.iter().find(|id| is_cve(id)) {
        return (*cve).to_string();
    }
    let cves: BTreeSet<&str> = hits
        .iter()
        .flat_map(|h| h.ids())
        .filter(|id| is_cve(id))
        .collect();
    if cves.len() == 1
        && let Some(c) = cves.first()
    {
        return (*c).to_string();
    }
    record_ids
        .first()
        .map(|s| (*s).to_string())
        .unwrap_or_default()
}

fn scores(r: &SeverityRating) -> Option<CvssScores> {
    let base = r.base_score?;
    Some(CvssScores {
        base_score: base,
        exploitability_score: r.exploitability_score.unwrap_or(-1.0),
        impact_score: r.impact_score.unwrap_or(-1.0),
        vector: Some(r.value.clone()),
    })
}

fn cvss_data(id: &str, ratings: &[&SeverityRating]) -> Option<CvssData> {
    let pick = |k: SeverityKind| ratings.iter().find(|r| r.kind == k).and_then(|r| scores(r));
    let data = CvssData {
        id: id.to_string(),
        cvss_v2: pick(SeverityKind::CvssV2),
        cvss_v3: pick(SeverityKind::CvssV3),
        cvss_v4: pick(SeverityKind::CvssV4),
    };
    (data.cvss_v2.is_some() || data.cvss_v3.is_some() || data.cvss_v4.is_some()).then_some(data)
}

fn finding(
    pkg: &Package,
    target: &Target,
    os_group: Option<&str>,
    mut hits: Vec<Hit>,
    source: &dyn VulnSource,
) -> Result<Finding, MatchError> {
    let vuln = reported_id(&hits);
    hits.sort_by(|a, b| {
        (a.record.advisory.id != vuln)
            .cmp(&(b.record.advisory.id != vuln))
            .then_with(|| a.record.advisory.id.cmp(&b.record.advisory.id))
    });
    let all_ids: BTreeSet<String> = hits
        .iter()
        .flat_map(|h| -> Box<dyn Iterator<Item = &str> + '_> {
            if h.attached {
                Box::new(std::iter::once(h.record.advisory.id.as_str()))
            } else {
                Box::new(h.ids())
            }
        })
        .map(str::to_string)
        .collect();
    let aliases: Vec<String> = all_ids.iter().filter(|i| **i != vuln).cloned().collect();

    // Fix state: any fix wins, then won't-fix, then not-fixed.
    let mut fixes: Vec<String> = Vec::new();
    let mut wont = false;
    for h in &hits {
        match h.affected().status {
            AffectedStatus::WontFix => wont = true,
            _ => {
                for f in &h.fixes {
                    if !fixes.contains(f) {
                        fixes.push(f.clone());
                    }
                }
            }
        }
    }
    let fix = if !fixes.is_empty() {
        FixState::Fixed(fixes)
    } else if wont {
        FixState::WontFix
    } else {
        FixState::NotFixed
    };

    // Severity: vendor label first, then the records' CVSS, then NVD.
    let mut severity = None;
    for h in &hits {
        if let Some(s) = h.affected().severity.as_deref().and_then(label_severity) {
            severity = Some(s);
            break;
        }
    }
    if severity.is_none() {
        severity = hits
            .iter()
            .flat_map(|h| h.record.advisory.severities.iter())
            .filter(|r| r.kind == SeverityKind::Vendor)
            .find_map(rating_severity);
    }
    let mut vendor_data = Vec::new();
    for h in &hits {
        let ratings: Vec<&SeverityRating> = h
            .record
            .advisory
            .severities
            .iter()
            .filter(|r| r.kind != SeverityKind::Vendor)
            .collect();
        if let Some(d) = cvss_data(&h.record.advisory.id, &ratings) {
            vendor_data.push(d);
        }
    }
    let mut nvd_data = Vec::new();
    for id in all_ids.iter().filter(|i| is_cve(i)) {
        if let Some(entry) = source.nvd(id)? {
            let ratings: Vec<&SeverityRating> = [&entry.cvss_v2, &entry.cvss_v3, &entry.cvss_v4]
                .into_iter()
                .flatten()
                .collect();
            if let Some(d) = cvss_data(id, &ratings) {
                nvd_data.push(d);
            }
        }
    }
    let best = |data: &[CvssData]| {
        data.iter()
            .filter_map(|d| {
                d.cvss_v3
                    .as_ref()
                    .or(d.cvss_v4.as_ref())
                    .map(|s| Severity::from_cvss_score(s.base_score))
                    .or_else(|| {
                        d.cvss_v2.as_ref().map(|s| {
                            rating_severity(&SeverityRating {
                                kind: SeverityKind::CvssV2,
                                source: String::new(),
                                value: String::new(),
                                base_score: Some(s.base_score),
                                exploitability_score: None,
                                impact_score: None,
                            })
                            .unwrap_or_default()
                        })
                    })
            })
            .max()
    };
    let severity = severity
        .or_else(|| best(&vendor_data))
        .or_else(|| best(&nvd_data))
        .unwrap_or(Severity::Unknown);

    let first = &hits[0];
    let (feed, feed_group) = if target.os {
        (
            "vulnerabilities".to_string(),
            os_group.unwrap_or("unknown").to_string(),
        )
    } else if hits
        .iter()
        .any(|h| h.record.advisory.id.starts_with("GHSA-"))
    {
        (
            "github".to_string(),
            format!("github:{}", anchore_language(pkg.package_type)),
        )
    } else {
        (
            "osv".to_string(),
            format!("osv:{}", first.affected().ecosystem),
        )
    };
    let url = first
        .record
        .advisory
        .primary_url()
        .map(str::to_string)
        .unwrap_or_else(|| format!("https://osv.dev/vulnerability/{}", first.record.advisory.id));
    let published = hits
        .iter()
        .filter_map(|h| h.record.advisory.published)
        .min();
    // When the store first saw a fix for any merged record (`max_days_since_fix`).
    let mut fix_observed_at = None;
    for h in hits.iter().filter(|h| !h.fixes.is_empty()) {
        let aff = h.affected();
        if let Some(at) =
            source.fix_observed_at(&h.record.advisory.id, &aff.ecosystem, &aff.name)?
        {
            fix_observed_at =
                Some(fix_observed_at.map_or(at, |old: chrono::DateTime<chrono::Utc>| old.min(at)));
        }
    }
    let evidence = hits
        .iter()
        .map(|h| Evidence {
            record_id: h.record.advisory.id.clone(),
            source: h.record.feed.clone(),
            matched_on: target.describe(),
            constraint: h.constraint.clone(),
            version_scheme: h.scheme.name().to_string(),
            installed_version: target.version.clone(),
            fix_versions: h.fixes.clone(),
        })
        .collect();
    let path = if target.os {
        "pkgdb".to_string()
    } else {
        pkg.locations
            .first()
            .map(|l| l.path.clone())
            .unwrap_or_else(|| "pkgdb".into())
    };
    Ok(Finding {
        vuln,
        aliases,
        severity,
        package: MatchedPackage {
            id: pkg.id.clone(),
            name: pkg.name.clone(),
            version: pkg.version.clone(),
            package_type: pkg.package_type,
            purl: pkg.purl.clone(),
            path,
            cpe: pkg.cpes.first().cloned(),
        },
        fix,
        feed,
        feed_group,
        url,
        nvd_data,
        vendor_data,
        published,
        fix_observed_at,
        evidence,
    })
}

/// Findings keyed for diffing: (vuln, package name, version, type, path).
pub(crate) type FindingKey = (String, String, String, String, String);

pub(crate) fn finding_key(f: &Finding) -> FindingKey {
    (
        f.vuln.clone(),
        f.package.name.clone(),
        f.package.version.clone(),
        f.package.package_type.as_str().to_string(),
        f.package.path.clone(),
    )
}

/// Index findings by key (used by the diff).
pub(crate) fn index(findings: &[Finding]) -> BTreeMap<FindingKey, &Finding> {
    findings.iter().map(|f| (finding_key(f), f)).collect()
}
