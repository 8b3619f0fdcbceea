//! Every expected verdict of `corpus/osv/expected/*.tsv` (computed with dpkg and apk
//! themselves) and of `corpus/osv/PyPI-bookworm-app-matches.tsv`: every expected match is
//! found, nothing extra is reported.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use crate::support;

use std::collections::{BTreeMap, BTreeSet};

use anchorage_match::{Coverage, FixState, MatchReport, match_analysis};
use anchorage_vulndb::Store;

/// (record id, source package) pairs the report found, from the evidence of each finding.
fn found_pairs(
    analysis: &anchorage_catalog::Analysis,
    report: &MatchReport,
) -> BTreeSet<(String, String)> {
    let by_id: BTreeMap<&str, &anchorage_catalog::Package> = analysis
        .packages
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let mut out = BTreeSet::new();
    for f in &report.findings {
        let p = by_id[f.package.id.as_str()];
        let source = p.source_name.clone().unwrap_or_else(|| p.name.clone());
        for e in &f.evidence {
            out.insert((e.record_id.clone(), source.clone()));
        }
    }
    out
}

fn check_image(image: &str) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut store: Store = support::corpus_store(dir.path());
    let analysis = support::analysis(image);
    let snap = store.snapshot().unwrap();
    let report = match_analysis(&analysis, &snap).unwrap();
    assert_eq!(report.coverage, Coverage::Complete, "{image}");
    assert!(report.warnings.is_empty(), "{image}: {:?}", report.warnings);
    let found = found_pairs(&analysis, &report);

    let tsv = std::fs::read_to_string(support::corpus().join(format!("osv/expected/{image}.tsv")))
        .unwrap();
    let mut expected_affected = BTreeSet::new();
    let mut rows = 0;
    let mut agree = 0;
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let (id, eco, source, verdict) = (cols[0], cols[1], cols[2], cols[5]);
        // Maven rows name `group:artifact`; the finding's package is the artifact.
        let source = if eco == "Maven" {
            source.rsplit(':').next().unwrap()
        } else {
            source
        };
        let key = (id.to_string(), source.to_string());
        rows += 1;
        let is_found = found.contains(&key);
        match verdict {
            "affected" => {
                assert!(is_found, "{image}: expected {id} on {source} ({})", cols[6]);
                expected_affected.insert(key);
            }
            "not_affected" => assert!(
                !is_found,
                "{image}: {id} on {source} must not match ({})",
                cols[6]
            ),
            other => panic!("unknown verdict {other}"),
        }
        agree += 1;
    }
    // Nothing extra from the distro and Maven feeds (language hits are checked separately).
    for (record, source) in &found {
        let is_language =
            record.starts_with("PYSEC-") || record.starts_with("GHSA-") && source != "log4j-core";
        if !is_language {
            assert!(
                expected_affected.contains(&(record.clone(), source.clone())),
                "{image}: extra match {record} on {source}"
            );
        }
    }
    (agree, rows)
}

#[test]
fn debian_bookworm_expected_verdicts() {
    assert_eq!(check_image("debian-bookworm"), (10, 10));
}

#[test]
fn debian_bullseye_expected_verdicts() {
    assert_eq!(check_image("debian-bullseye"), (11, 11));
}

#[test]
fn debian_trixie_expected_verdicts() {
    assert_eq!(check_image("debian-trixie"), (8, 8));
}

#[test]
fn debian_bookworm_app_expected_verdicts() {
    assert_eq!(check_image("debian-bookworm-app"), (12, 12));
}

#[test]
fn alpine_3_12_expected_verdicts() {
    assert_eq!(check_image("alpine-3.12"), (46, 46));
}

#[test]
fn alpine_3_20_expected_verdicts() {
    assert_eq!(check_image("alpine-3.20"), (119, 119));
}

#[test]
fn pypi_bookworm_app_matches_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store(dir.path());
    let analysis = support::analysis("debian-bookworm-app");
    let snap = store.snapshot().unwrap();
    let report = match_analysis(&analysis, &snap).unwrap();
    let found: BTreeSet<(String, String)> = report
        .findings
        .iter()
        .filter(|f| f.package.package_type == anchorage_types::PackageType::Python)
        .flat_map(|f| {
            f.evidence
                .iter()
                .map(|e| (e.record_id.clone(), f.package.name.to_ascii_lowercase()))
                .collect::<Vec<_>>()
        })
        .collect();
    let tsv = std::fs::read_to_string(support::corpus().join("osv/PyPI-bookworm-app-matches.tsv"))
        .unwrap();
    let mut expected = BTreeSet::new();
    for line in tsv.lines().skip(1) {
        let cols: Vec<&str> = line.split('\t').collect();
        let record = cols[0].trim_end_matches(".yaml").to_string();
        if cols[4] == "1" {
            expected.insert((record, cols[1].to_string()));
        }
    }
    assert_eq!(expected.len(), 16);
    assert_eq!(found, expected);
    // PYSEC-2018-28 (requests, alias CVE-2018-18074) is reported once, under its CVE.
    let requests: Vec<_> = report
        .findings
        .iter()
        .filter(|f| {
            f.package.name == "requests"
                && f.evidence.iter().any(|e| e.record_id == "PYSEC-2018-28")
        })
        .collect();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].evidence.len(), 1);
    assert_eq!(requests[0].vuln, "CVE-2018-18074");
    assert!(requests[0].aliases.contains(&"PYSEC-2018-28".to_string()));
    assert_eq!(requests[0].fix, FixState::Fixed(vec!["2.20.0".into()]));
    assert_eq!(requests[0].feed_group, "osv:PyPI");
}

#[test]
fn npm_records_hit_the_node_app() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store(dir.path());
    let analysis = support::analysis("debian-bookworm-app");
    let snap = store.snapshot().unwrap();
    let report = match_analysis(&analysis, &snap).unwrap();
    let lodash = report
        .findings
        .iter()
        .find(|f| f.package.name == "lodash")
        .expect("lodash 4.17.4 is affected by GHSA-jf85-cpcp-j695");
    assert_eq!(lodash.vuln, "CVE-2019-10744");
    assert_eq!(lodash.feed_group, "github:npm");
    assert_eq!(lodash.severity, anchorage_types::Severity::Critical);
    assert_eq!(
        lodash.vendor_data[0].cvss_v3.as_ref().unwrap().base_score,
        9.1
    );
    assert_eq!(
        lodash.package.path,
        "/opt/app/node/node_modules/lodash/package.json"
    );
    assert!(report.findings.iter().any(|f| f.package.name == "minimist"));
}

#[test]
fn debian_fix_states_and_severity_from_the_tracker() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store_local(dir.path());
    let analysis = support::analysis("debian-bullseye");
    let snap = store.snapshot().unwrap();
    let report = match_analysis(&analysis, &snap).unwrap();
    // CVE-2016-2781: [bullseye] coreutils <ignored>: won't fix, tracker severity low.
    let c = report
        .findings
        .iter()
        .find(|f| f.vuln == "CVE-2016-2781")
        .unwrap();
    assert_eq!(c.fix, FixState::WontFix);
    assert!(c.will_not_fix());
    assert_eq!(c.severity, anchorage_types::Severity::Low);
    assert_eq!(
        (c.feed.as_str(), c.feed_group.as_str()),
        ("vulnerabilities", "debian:11")
    );
    assert_eq!(c.package.path, "pkgdb");
    // CVE-2024-12243 and DLA-4063-1 are one finding on libgnutls30 with both ids.
    let g: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.package.name == "libgnutls30")
        .collect();
    assert_eq!(g.len(), 1, "{g:#?}");
    assert_eq!(g[0].vuln, "CVE-2024-12243");
    assert!(g[0].aliases.contains(&"DLA-4063-1".to_string()));
    assert_eq!(g[0].fix, FixState::Fixed(vec!["3.7.1-5+deb11u7".into()]));
    assert_eq!(g[0].evidence.len(), 2);
    // CVE-2011-3374 apt: unfixed, unimportant -> negligible, won't fix; one finding per binary.
    let apt: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.vuln == "CVE-2011-3374")
        .collect();
    assert_eq!(apt.len(), 2);
    assert!(
        apt.iter()
            .all(|f| f.severity == anchorage_types::Severity::Negligible)
    );
}
