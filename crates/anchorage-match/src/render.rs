//! Report outputs: table, JSON, SARIF 2.1.0, CycloneDX 1.6 (with `vulnerabilities`) and
//! Anchore's vulnerability rows. Every output states when vulnerability data was unavailable.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::str::FromStr;

use anchorage_types::Severity;
use serde_json::{Value, json};

use anchorage_model::{Coverage, CvssData, CvssScores, Finding, MatchReport};
use anchorage_sbom::cyclonedx as cdx;

/// An output format of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// Human table (like Grype's).
    Table,
    /// Native JSON: findings with evidence, coverage, warnings.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// CycloneDX 1.6 JSON with a `vulnerabilities` section.
    CycloneDxJson,
    /// Anchore's `GET images/{digest}/vuln/all` document.
    AnchoreJson,
}

impl FromStr for OutputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s {
            "table" => OutputFormat::Table,
            "json" => OutputFormat::Json,
            "sarif" => OutputFormat::Sarif,
            "cyclonedx-json" | "cyclonedx" => OutputFormat::CycloneDxJson,
            "anchore-json" => OutputFormat::AnchoreJson,
            other => {
                return Err(format!(
                    "unknown output {other:?} (expected table, json, sarif, cyclonedx-json, anchore-json)"
                ));
            }
        })
    }
}

const UNAVAILABLE: &str = "vulnerability data unavailable";

fn unavailable(report: &MatchReport) -> Option<String> {
    match &report.coverage {
        Coverage::Complete => None,
        Coverage::Unavailable { groups } => {
            Some(format!("{UNAVAILABLE} for {}", groups.join(", ")))
        }
    }
}

/// Render a report. `image` names the scanned source; `digest` is its manifest digest.
pub fn render(
    report: &MatchReport,
    format: OutputFormat,
    image: &str,
    digest: Option<&str>,
) -> Result<String, serde_json::Error> {
    match format {
        OutputFormat::Table => Ok(table(report)),
        OutputFormat::Json => serde_json::to_string_pretty(&native(report, image, digest)),
        OutputFormat::Sarif => serde_json::to_string_pretty(&sarif(report, image)),
        OutputFormat::CycloneDxJson => {
            serde_json::to_string_pretty(&cyclonedx(report, image, digest))
        }
        OutputFormat::AnchoreJson => serde_json::to_string_pretty(&json!({
            "imageDigest": digest.unwrap_or("None"),
            "vulnerability_type": "all",
            "vulnerabilities": anchore_rows(&report.findings),
            "vulnerability_data": coverage_value(report),
        })),
    }
}

fn coverage_value(report: &MatchReport) -> Value {
    let mut v = match &report.coverage {
        Coverage::Complete if !report.partially_evaluated.is_empty() => {
            json!({"status": "partially evaluated"})
        }
        Coverage::Complete => json!({"status": "complete"}),
        Coverage::Unavailable { groups } => json!({
            "status": "unavailable",
            "groups": groups,
            "message": unavailable(report),
        }),
    };
    if !report.partially_evaluated.is_empty() {
        v["partially_evaluated"] = json!(report.partially_evaluated);
    }
    v
}

fn table(report: &MatchReport) -> String {
    let mut out = String::new();
    if let Some(msg) = unavailable(report) {
        let _ = writeln!(out, "WARNING: {msg}: this is NOT a clean result");
    }
    if !report.partially_evaluated.is_empty() {
        let _ = writeln!(
            out,
            "WARNING: partially evaluated: {} advisory record(s) have versions that could not \
             be read (possible false negatives): {}",
            report.partially_evaluated.len(),
            report.partially_evaluated.join("; ")
        );
    }
    if report.findings.is_empty() {
        if report.coverage == Coverage::Complete {
            out.push_str("No vulnerabilities found\n");
        } else {
            out.push_str("No findings from the data that was available\n");
        }
        return out;
    }
    let header = [
        "NAME",
        "INSTALLED",
        "FIXED-IN",
        "TYPE",
        "VULNERABILITY",
        "SEVERITY",
    ];
    let rows: Vec<[String; 6]> = report
        .findings
        .iter()
        .map(|f| {
            let fixed = match &f.fix {
                crate::FixState::Fixed(_) => crate::nearest_fix(f).unwrap_or_default(),
                crate::FixState::WontFix => "(won't fix)".to_string(),
                _ => String::new(),
            };
            [
                f.package.name.clone(),
                f.package.version.clone(),
                fixed,
                f.package.package_type.as_str().to_string(),
                f.vuln.clone(),
                f.severity.as_str().to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for r in &rows {
        for (w, c) in widths.iter_mut().zip(r.iter()) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: &[&str]| {
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                s.push_str(c);
            } else {
                let _ = write!(s, "{c:<width$}  ", width = widths[i]);
            }
        }
        s.push('\n');
        s
    };
    out.push_str(&line(&header));
    for r in &rows {
        let cells: Vec<&str> = r.iter().map(String::as_str).collect();
        out.push_str(&line(&cells));
    }
    out
}

fn native(report: &MatchReport, image: &str, digest: Option<&str>) -> Value {
    json!({
        "source": image,
        "image_digest": digest,
        "vulnerability_data": coverage_value(report),
        "coverage": report.coverage,
        "findings": report.findings,
        "warnings": report.warnings,
    })
}

fn scores_row(s: &Option<CvssScores>) -> Value {
    match s {
        Some(s) => json!({
            "base_score": s.base_score,
            "exploitability_score": s.exploitability_score,
            "impact_score": s.impact_score,
        }),
        None => json!({"base_score": -1.0, "exploitability_score": -1.0, "impact_score": -1.0}),
    }
}

fn cvss_rows(data: &[CvssData]) -> Value {
    Value::Array(
        data.iter()
            .map(|d| {
                json!({
                    "id": d.id,
                    "cvss_v2": scores_row(&d.cvss_v2),
                    "cvss_v3": scores_row(&d.cvss_v3),
                })
            })
            .collect(),
    )
}

/// Anchore's vulnerability rows (§3.2): every key present, `"None"` for missing scalars.
pub fn anchore_rows(findings: &[Finding]) -> Vec<Value> {
    findings
        .iter()
        .map(|f| {
            let cpe = f.package.cpe.clone().unwrap_or_else(|| "None".into());
            json!({
                "vuln": f.vuln,
                "severity": f.severity.as_str(),
                "url": if f.url.is_empty() { "None".to_string() } else { f.url.clone() },
                "fix": f.fix_column(),
                "package": format!("{}-{}", f.package.name, f.package.version),
                "package_name": f.package.name,
                "package_version": f.package.version,
                "package_type": f.package.package_type.as_str(),
                "package_cpe": "None",
                "package_cpe23": cpe,
                "package_path": f.package.path,
                "feed": f.feed,
                "feed_group": f.feed_group,
                "will_not_fix": f.will_not_fix(),
                "nvd_data": cvss_rows(&f.nvd_data),
                "vendor_data": cvss_rows(&f.vendor_data),
            })
        })
        .collect()
}

fn sarif_level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

fn best_score(f: &Finding) -> Option<f64> {
    f.vendor_data
        .iter()
        .chain(f.nvd_data.iter())
        .filter_map(|d| {
            d.cvss_v3
                .as_ref()
                .or(d.cvss_v4.as_ref())
                .or(d.cvss_v2.as_ref())
        })
        .map(|s| s.base_score)
        .reduce(f64::max)
}

fn sarif(report: &MatchReport, image: &str) -> Value {
    let mut rules: BTreeMap<String, Value> = BTreeMap::new();
    let mut results = Vec::new();
    for f in &report.findings {
        let fallback = match f.severity {
            Severity::Critical => 9.5,
            Severity::High => 8.0,
            Severity::Medium => 5.5,
            Severity::Low => 2.0,
            _ => 0.0,
        };
        let score = best_score(f).unwrap_or(fallback);
        rules.entry(f.vuln.clone()).or_insert_with(|| {
            json!({
                "id": f.vuln,
                "name": f.vuln,
                "shortDescription": {"text": format!("{} ({})", f.vuln, f.severity.as_str())},
                "helpUri": f.url,
                "properties": {
                    "security-severity": format!("{score:.1}"),
                    "tags": ["security", "vulnerability"],
                },
            })
        });
        let uri = if f.package.path == "pkgdb" {
            image.to_string()
        } else {
            f.package.path.trim_start_matches('/').to_string()
        };
        let fix = match &f.fix {
            crate::FixState::Fixed(_) => {
                format!("fixed in {}", crate::nearest_fix(f).unwrap_or_default())
            }
            crate::FixState::WontFix => "the vendor will not fix".into(),
            _ => "no fix available".into(),
        };
        results.push(json!({
            "ruleId": f.vuln,
            "level": sarif_level(f.severity),
            "message": {"text": format!(
                "{} {} {} is affected by {} ({}); {fix}",
                f.package.package_type.as_str(), f.package.name, f.package.version, f.vuln, f.severity.as_str()
            )},
            "locations": [{
                "physicalLocation": {"artifactLocation": {"uri": uri}},
                "logicalLocations": [{"name": format!("{}@{}", f.package.name, f.package.version), "kind": "package"}],
            }],
            "partialFingerprints": {"anchorage/v1": format!("{}:{}:{}:{}", f.vuln, f.package.name, f.package.version, f.package.path)},
        }));
    }
    let mut notifications = Vec::new();
    if let Some(msg) = unavailable(report) {
        notifications.push(json!({"level": "error", "message": {"text": msg}}));
    }
    for w in &report.warnings {
        notifications.push(json!({"level": "warning", "message": {"text": w}}));
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "anchorage",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules.into_values().collect::<Vec<_>>(),
            }},
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications,
            }],
            "properties": {"vulnerability_data": coverage_value(report)},
            "results": results,
        }]
    })
}

fn cdx_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Negligible => "info",
        Severity::Unknown => "unknown",
    }
}

fn cdx_source(name: &str) -> cdx::VulnerabilitySource {
    cdx::VulnerabilitySource {
        name: name.to_string(),
        url: None,
    }
}

fn cdx_ratings(source: &str, d: &CvssData) -> Vec<cdx::Rating> {
    let mut out = Vec::new();
    for (s, method) in [
        (&d.cvss_v4, "CVSSv4"),
        (&d.cvss_v3, "CVSSv31"),
        (&d.cvss_v2, "CVSSv2"),
    ] {
        if let Some(s) = s {
            let method = if method == "CVSSv31"
                && s.vector
                    .as_deref()
                    .is_some_and(|v| v.starts_with("CVSS:3.0"))
            {
                "CVSSv3"
            } else {
                method
            };
            out.push(cdx::Rating {
                source: Some(cdx_source(source)),
                score: Some(s.base_score),
                severity: None,
                method,
                vector: s.vector.clone(),
            });
        }
    }
    out
}

/// The CycloneDX 1.6 vulnerability document: anchorage-sbom's CycloneDX model (the same
/// image component and package bom-refs as `anchorage sbom -o cyclonedx-json`), with one
/// component per affected package and the `vulnerabilities` element.
fn cyclonedx<'a>(report: &'a MatchReport, image: &str, digest: Option<&str>) -> cdx::Bom<'a> {
    let mut components: BTreeMap<String, cdx::Component<'a>> = BTreeMap::new();
    let mut vulns = Vec::new();
    for f in &report.findings {
        let p = &f.package;
        // Findings always carry the analysis's package id; the name@version fallback keeps a
        // hand-built finding without one referable.
        let id = if p.id.is_empty() {
            format!("{}@{}", p.name, p.version)
        } else {
            p.id.clone()
        };
        let component = cdx::Component::package(p.package_type, &id, &p.name, &p.version, &p.purl);
        let bom_ref = component.bom_ref.clone();
        components.entry(bom_ref.clone()).or_insert(component);
        let mut ratings = vec![cdx::Rating {
            source: Some(cdx_source(&f.feed_group)),
            score: None,
            severity: Some(cdx_severity(f.severity)),
            method: "other",
            vector: None,
        }];
        for d in &f.vendor_data {
            ratings.extend(cdx_ratings(&f.feed, d));
        }
        for d in &f.nvd_data {
            ratings.extend(cdx_ratings("NVD", d));
        }
        vulns.push(cdx::Vulnerability {
            bom_ref: format!("{}:{}", f.vuln, bom_ref),
            id: f.vuln.clone(),
            source: Some(cdx::VulnerabilitySource {
                name: f.feed.clone(),
                url: Some(f.url.clone()),
            }),
            references: f
                .aliases
                .iter()
                .map(|a| cdx::VulnerabilityReference {
                    id: a.clone(),
                    source: cdx_source(&f.feed),
                })
                .collect(),
            ratings,
            recommendation: match &f.fix {
                crate::FixState::Fixed(versions) => {
                    Some(format!("Upgrade {} to {}", p.name, versions.join(" or ")))
                }
                _ => None,
            },
            published: f.published.map(|p| p.to_rfc3339()),
            affects: vec![cdx::Affects {
                reference: bom_ref,
                versions: vec![cdx::AffectedVersion {
                    version: p.version.clone(),
                    status: "affected",
                }],
            }],
            properties: vec![
                cdx::Property::new("anchorage:feed_group", f.feed_group.clone()),
                cdx::Property::new("anchorage:will_not_fix", f.will_not_fix().to_string()),
            ],
        });
    }
    let mut properties = vec![cdx::Property::new(
        "anchorage:vulnerability_data",
        unavailable(report).unwrap_or_else(|| "complete".into()),
    )];
    if let Some(d) = digest {
        properties.push(cdx::Property::new("anchorage:image_digest", d));
    }
    // `image` is the source string as given (`dir:PATH`, `oci-archive:PATH`, a reference);
    // its scheme decides the image component's type like the SBOM's.
    let scheme = image.split_once(':').map_or("", |(s, _)| s);
    let mut bom = cdx::Bom::new(
        cdx::Metadata::new(
            chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            cdx::Component::image(image.to_string(), scheme, image, digest.map(str::to_string)),
            properties,
        ),
        components.into_values().collect(),
    );
    bom.vulnerabilities = vulns;
    bom
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_partially_evaluated_report_is_not_complete() {
        let report = MatchReport {
            findings: Vec::new(),
            coverage: Coverage::Complete,
            warnings: Vec::new(),
            partially_evaluated: vec!["lodash 4.17.4: record X: bad version".into()],
        };
        assert_eq!(coverage_value(&report)["status"], "partially evaluated");
        assert!(table(&report).starts_with("WARNING: partially evaluated"));
    }
}
