//! Building a [`Finding`] from merged hits: reported id, aliases, severity (vendor first, then
//! NVD), CVSS data, fix state, feed group and evidence.

use std::collections::BTreeSet;

use anchorage_advisory::{
    AffectedStatus, SeverityKind, SeverityRating, VulnSource, label_severity, rating_severity,
};
use anchorage_model::{CvssData, CvssScores, Evidence, Finding, FixState, MatchedPackage, Package};
use anchorage_types::Severity;

use crate::error::MatchError;
use crate::hit::{Hit, is_cve, reported_id};
use crate::target::{Target, anchore_language};

/// CVSS scores of one rating, Anchore's shape.
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

pub(crate) fn finding(
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
