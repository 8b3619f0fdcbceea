//! Coverage ("unsupported is not clean"), outputs, re-match diff, explain and NVD enrichment.

#![allow(clippy::unwrap_used)] // helpers outside #[test] fns unwrap too

use crate::support;

use std::path::Path;
use std::time::Instant;

use anchorage_match::{
    Coverage, FixState, MatchOptions, OutputFormat, explain, match_analysis, match_analysis_with,
    rematch, render,
};
use anchorage_types::Severity;
use anchorage_vulndb::{FeedSource, Store, SyncOptions};

fn sync(store: &mut Store, s: &str) {
    let s: FeedSource = s.parse().unwrap();
    sync_source(store, &s, &SyncOptions::default()).unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_dir(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

#[test]
fn distro_without_data_is_reported_unavailable_in_every_output() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    // Only language data: the Debian image's OS packages have no data at all.
    sync(
        &mut store,
        &format!("osv:{}", support::corpus().join("osv/PyPI").display()),
    );
    let analysis = support::analysis("debian-bookworm");
    let snap = store.snapshot().unwrap();
    let report = match_analysis(&analysis, &snap).unwrap();
    assert!(report.findings.is_empty());
    assert_eq!(
        report.coverage,
        Coverage::Unavailable {
            groups: vec!["Debian:12".into()]
        }
    );
    for format in [
        OutputFormat::Table,
        OutputFormat::Json,
        OutputFormat::Sarif,
        OutputFormat::CycloneDxJson,
        OutputFormat::AnchoreJson,
    ] {
        let out = render(&report, format, "dir:debian-bookworm", None).unwrap();
        assert!(
            out.contains("vulnerability data unavailable for Debian:12"),
            "{format:?}: {out}"
        );
        assert!(!out.contains("No vulnerabilities found"), "{format:?}");
    }
}

#[test]
fn unknown_distro_with_os_packages_is_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store_local(dir.path());
    let mut analysis = support::analysis("debian-bookworm");
    analysis.distro = anchorage_catalog::Distro::unknown();
    let snap = store.snapshot().unwrap();
    let report = match_analysis(&analysis, &snap).unwrap();
    assert!(matches!(report.coverage, Coverage::Unavailable { .. }));
    assert!(report.findings.is_empty());
}

#[test]
fn outputs_carry_findings_and_anchore_row_keys() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store_local(dir.path());
    let analysis = support::analysis("alpine-3.12");
    let snap = store.snapshot().unwrap();
    let report = match_analysis(&analysis, &snap).unwrap();
    assert_eq!(report.coverage, Coverage::Complete);
    let zlib = report
        .findings
        .iter()
        .find(|f| f.vuln == "CVE-2022-37434")
        .unwrap();
    assert_eq!(zlib.feed_group, "alpine:3.12");
    assert_eq!(zlib.fix, FixState::Fixed(vec!["1.2.12-r2".into()]));

    let table = render(&report, OutputFormat::Table, "x", None).unwrap();
    assert!(table.starts_with("NAME"));
    assert!(
        table.contains("zlib") && table.contains("1.2.12-r2") && table.contains("CVE-2022-37434")
    );

    let rows: serde_json::Value = serde_json::from_str(
        &render(&report, OutputFormat::AnchoreJson, "x", Some("sha256:ab")).unwrap(),
    )
    .unwrap();
    let row = &rows["vulnerabilities"][0];
    for key in [
        "vuln",
        "severity",
        "url",
        "fix",
        "package",
        "package_name",
        "package_version",
        "package_type",
        "package_cpe",
        "package_cpe23",
        "package_path",
        "feed",
        "feed_group",
        "will_not_fix",
        "nvd_data",
        "vendor_data",
    ] {
        assert!(row.get(key).is_some(), "missing {key}");
    }
    let first = &report.findings[0];
    assert_eq!(
        row["package"],
        format!("{}-{}", first.package.name, first.package.version)
    );
    assert_eq!(row["vuln"], first.vuln.as_str());
    assert_eq!(row["package_type"], "apkg");
    assert!(row["nvd_data"].is_array());

    let sarif: serde_json::Value =
        serde_json::from_str(&render(&report, OutputFormat::Sarif, "x", None).unwrap()).unwrap();
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["results"][0]["ruleId"], "CVE-2022-37434");

    let cdx: serde_json::Value =
        serde_json::from_str(&render(&report, OutputFormat::CycloneDxJson, "x", None).unwrap())
            .unwrap();
    assert_eq!(cdx["specVersion"], "1.6");
    let v = &cdx["vulnerabilities"][0];
    assert_eq!(v["id"], "CVE-2022-37434");
    let r = v["affects"][0]["ref"].as_str().unwrap();
    assert!(
        cdx["components"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["bom-ref"] == r)
    );
}

#[test]
fn nvd_enriches_severity_when_the_vendor_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store_local(dir.path());
    // Synthetic NVD CVE API 2.0 page (real shape; the vector is NVD's published one for
    // CVE-2022-37434).
    // The yearly files are published gzip-compressed.
    let nvd = tempfile::tempdir().unwrap();
    let page = r#"{"vulnerabilities":[{"cve":{"id":"CVE-2022-37434","metrics":{"cvssMetricV31":[
          {"type":"Primary","cvssData":{"vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}}]}}}]}"#;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, page.as_bytes()).unwrap();
    let file = nvd.path().join("nvdcve-2.0-2022.json.gz");
    std::fs::write(&file, gz.finish().unwrap()).unwrap();
    sync(&mut store, &format!("nvd:{}", file.display()));
    let analysis = support::analysis("alpine-3.12");
    let snap = store.snapshot().unwrap();
    let report = match_analysis(&analysis, &snap).unwrap();
    let zlib = report
        .findings
        .iter()
        .find(|f| f.vuln == "CVE-2022-37434")
        .unwrap();
    assert_eq!(zlib.severity, Severity::Critical);
    assert_eq!(zlib.nvd_data[0].cvss_v3.as_ref().unwrap().base_score, 9.8);
    drop(snap);
    assert!(
        store
            .group_status()
            .unwrap()
            .iter()
            .any(|g| g.feed == "nvd" && g.group == "nvd:cves")
    );
}

#[test]
fn rematch_from_a_new_snapshot_reports_the_diff() {
    let feeds = tempfile::tempdir().unwrap();
    let tracker = feeds.path().join("tracker");
    copy_dir(&support::corpus().join("distro/debian-tracker"), &tracker);
    // Old snapshot: without DLA-4063-1, and with CVE-2022-0563 already known.
    let dla = tracker.join("DLA/DLA-4063-1.json");
    let dla_bytes = std::fs::read(&dla).unwrap();
    std::fs::remove_file(&dla).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    let source = format!("debian-tracker:{}", tracker.display());
    sync(&mut store, &source);
    let analysis = support::analysis("debian-bullseye");
    let previous = match_analysis(&analysis, &store.snapshot().unwrap())
        .unwrap()
        .findings;

    // New snapshot: the DLA appears (fix for gnutls28 in bullseye), CVE-2022-0563 is dropped.
    std::fs::write(&dla, dla_bytes).unwrap();
    std::fs::remove_file(tracker.join("CVE/2022/CVE-2022-0563.json")).unwrap();
    sync(&mut store, &source);
    let snap = store.snapshot().unwrap();
    let started = Instant::now();
    let (report, diff) = rematch(&analysis, &snap, &previous).unwrap();
    let took = started.elapsed();
    assert!(took.as_millis() < 1000, "re-match took {took:?}");
    assert!(diff.added.is_empty(), "{:#?}", diff.added);
    assert!(!diff.removed.is_empty());
    assert!(diff.removed.iter().all(|f| f.vuln == "CVE-2022-0563"));
    let upd = diff
        .updated
        .iter()
        .find(|u| u.current.vuln == "CVE-2024-12243")
        .expect("gnutls finding updated");
    assert!(
        upd.changes.contains(&"aliases".to_string()),
        "{:?}",
        upd.changes
    );
    assert!(upd.current.aliases.contains(&"DLA-4063-1".to_string()));
    assert_eq!(
        upd.current.fix,
        FixState::Fixed(vec!["3.7.1-5+deb11u7".into()])
    );
    assert_eq!(report.findings.len(), previous.len() - diff.removed.len());
}

#[test]
fn explain_tells_why_and_why_not() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store_local(dir.path());
    let snap = store.snapshot().unwrap();
    let bookworm = support::analysis("debian-bookworm");

    let e = explain(&bookworm, &snap, "CVE-2016-2781").unwrap();
    assert!(e.matched());
    assert!(
        e.lines
            .iter()
            .any(|l| l.matched && l.reason.contains("coreutils"))
    );

    let e = explain(&bookworm, &snap, "CVE-2024-12243").unwrap();
    assert!(!e.matched());
    let why = e
        .lines
        .iter()
        .find(|l| l.record_id == "CVE-2024-12243")
        .unwrap();
    assert!(
        why.reason.contains("DSA-5867-1") && why.reason.contains("3.7.9-2+deb12u7"),
        "{}",
        why.reason
    );

    // Minimal bookworm has no openssl at all; the app image has it, from bookworm.
    let e = explain(&bookworm, &snap, "DLA-3942-1").unwrap();
    assert!(
        e.lines
            .iter()
            .any(|l| l.reason.contains("no package of the image")),
        "{:#?}",
        e.lines
    );
    let app = support::analysis("debian-bookworm-app");
    let e = explain(&app, &snap, "DLA-3942-1").unwrap();
    assert!(!e.matched());
    assert!(
        e.lines
            .iter()
            .any(|l| l.reason.contains("covers only Debian:11")),
        "{:#?}",
        e.lines
    );

    let e = explain(&app, &snap, "GHSA-vp98-w2p3-mv35").unwrap();
    assert!(!e.matched());
    assert!(
        e.lines.iter().any(|l| l.reason.contains("fixed 2.0.0")),
        "{:#?}",
        e.lines
    );

    let e = explain(&app, &snap, "CVE-2099-0000").unwrap();
    assert!(e.records.is_empty() && e.lines.is_empty());

    // Withdrawn Go records never match and explain says so.
    let withdrawn = std::fs::read_dir(support::corpus().join("osv/Go"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            std::fs::read_to_string(p)
                .unwrap()
                .contains("\"withdrawn\"")
        })
        .unwrap();
    let id = withdrawn
        .file_stem()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let e = explain(&app, &snap, &id).unwrap();
    assert!(
        e.lines.iter().any(|l| l.reason.contains("withdrawn")),
        "{:#?}",
        e.lines
    );
}

fn cdx_schema(name: &str) -> serde_json::Value {
    // The official CycloneDX schemas vendored by anchorage-sbom's tests.
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../anchorage-sbom/tests/schemas")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn cyclonedx_output_validates_against_the_official_1_6_schema() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store_local(dir.path());
    let analysis = support::analysis("debian-bookworm-app");
    let snap = store.snapshot().unwrap();
    let report = match_analysis(&analysis, &snap).unwrap();
    assert!(report.findings.len() > 20);
    let doc: serde_json::Value = serde_json::from_str(
        &render(
            &report,
            OutputFormat::CycloneDxJson,
            "dir:debian-bookworm-app",
            Some("sha256:00"),
        )
        .unwrap(),
    )
    .unwrap();
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
            cdx_schema("spdx.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
            cdx_schema("jsf-0.82.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&cdx_schema("bom-1.6.schema.json"))
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn cyclonedx_vulnerability_document_shares_the_sbom_components() {
    // One CycloneDX model: every affected package appears in the vulnerability document as the
    // very component (bom-ref, type, name, version, purl) the SBOM of the analysis lists.
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store_local(dir.path());
    let analysis = support::analysis("alpine-3.12");
    let snap = store.snapshot().unwrap();
    let report = match_analysis(&analysis, &snap).unwrap();
    let vulns: serde_json::Value = serde_json::from_str(
        &render(
            &report,
            OutputFormat::CycloneDxJson,
            "dir:alpine-3.12",
            None,
        )
        .unwrap(),
    )
    .unwrap();
    let sbom: serde_json::Value = serde_json::from_slice(
        &anchorage_sbom::encode_to_vec(&analysis, anchorage_sbom::SbomFormat::CycloneDxJson)
            .unwrap(),
    )
    .unwrap();
    let key = |c: &serde_json::Value| {
        ["bom-ref", "type", "name", "version", "purl"].map(|k| c[k].as_str().map(str::to_string))
    };
    let sbom_components: Vec<_> = sbom["components"]
        .as_array()
        .unwrap()
        .iter()
        .map(key)
        .collect();
    let components = vulns["components"].as_array().unwrap();
    assert!(!components.is_empty());
    for c in components {
        assert!(sbom_components.contains(&key(c)), "{c}");
    }
    for v in vulns["vulnerabilities"].as_array().unwrap() {
        let r = &v["affects"][0]["ref"];
        assert!(components.iter().any(|c| c["bom-ref"] == *r), "{v}");
    }
    assert_eq!(vulns["metadata"]["component"]["type"], "file");
    assert_eq!(
        vulns["metadata"]["component"]["bom-ref"],
        "anchorage:image:dir:alpine-3.12"
    );
}

#[test]
fn synthetic_multi_cve_advisory_does_not_fuse_its_cves() {
    use anchorage_vulndb::{Advisory, Affected, AffectedStatus, Event, Range, RangeKind};
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store_local(dir.path());
    // Real bullseye database, with openssl rolled back below DLA-3942-1's fix (6 CVEs).
    let mut analysis = support::analysis("debian-bullseye");
    for p in &mut analysis.packages {
        if p.source_name.as_deref() == Some("openssl") {
            p.version = "1.1.1n-0+deb11u5".into();
            p.source_version = None;
        }
    }
    let snap = store.snapshot().unwrap();
    let mut mem = snap.to_memory().unwrap();
    drop(snap);
    let alone = match_analysis(&analysis, &mem).unwrap();
    let dla: Vec<_> = alone
        .findings
        .iter()
        .filter(|f| f.package.name == "libssl1.1")
        .collect();
    assert_eq!(dla.len(), 1);
    assert_eq!(dla[0].vuln, "DLA-3942-1");
    assert_eq!(dla[0].aliases.len(), 6);

    // Add CVE records for two of its CVEs: each is its own finding, the DLA is evidence of both.
    for cve in ["CVE-2024-0727", "CVE-2024-5535"] {
        let mut a = Advisory::new(cve);
        a.affected.push(Affected {
            ecosystem: "Debian:11".into(),
            name: "openssl".into(),
            purl: None,
            ranges: vec![Range {
                kind: RangeKind::Ecosystem,
                repo: None,
                events: vec![
                    Event::Introduced("0".into()),
                    Event::Fixed("1.1.1n-0+deb11u6".into()),
                ],
            }],
            versions: Vec::new(),
            status: AffectedStatus::Fixed,
            severity: None,
            note: None,
        });
        mem.insert("debian-tracker", "synthetic", a);
    }
    let both = match_analysis(&analysis, &mem).unwrap();
    let ssl: Vec<_> = both
        .findings
        .iter()
        .filter(|f| f.package.name == "libssl1.1")
        .collect();
    let vulns: Vec<&str> = ssl.iter().map(|f| f.vuln.as_str()).collect();
    assert_eq!(vulns.len(), 2, "{vulns:?}");
    assert!(vulns.contains(&"CVE-2024-0727") && vulns.contains(&"CVE-2024-5535"));
    for f in ssl {
        assert_eq!(f.aliases, vec!["DLA-3942-1".to_string()]);
        assert_eq!(f.evidence.len(), 2);
    }
}

#[test]
fn synthetic_os_owned_language_package_is_matched_only_when_asked() {
    // The real bookworm-app venv package pyyaml 5.3.1 (hit by PYSEC-2021-142), marked as if a
    // dpkg package owned its files: by default it is left to the OS package's matching.
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store_local(dir.path());
    let mut analysis = support::analysis("debian-bookworm-app");
    let snap = store.snapshot().unwrap();
    let hit = |r: &anchorage_match::MatchReport| {
        r.findings.iter().any(|f| {
            f.package.name.eq_ignore_ascii_case("pyyaml")
                && f.aliases
                    .iter()
                    .chain([&f.vuln])
                    .any(|id| id == "PYSEC-2021-142")
        })
    };
    assert!(hit(&match_analysis(&analysis, &snap).unwrap()));
    let owner = analysis
        .packages
        .iter()
        .find(|p| p.name == "python3-yaml")
        .unwrap()
        .id
        .clone();
    for p in analysis
        .packages
        .iter_mut()
        .filter(|p| p.name.eq_ignore_ascii_case("pyyaml") && p.version == "5.3.1")
    {
        p.owner = Some(owner.clone());
    }
    assert!(!hit(&match_analysis(&analysis, &snap).unwrap()));
    let both = MatchOptions {
        match_owned_language_packages: true,
    };
    assert!(hit(&match_analysis_with(&analysis, &snap, &both).unwrap()));
}

/// [`anchorage_vulndb::sync_source`] on a runtime made for the test (the library creates none).
fn sync_source(
    store: &mut anchorage_vulndb::Store,
    source: &anchorage_vulndb::FeedSource,
    options: &anchorage_vulndb::SyncOptions,
) -> Result<anchorage_vulndb::SyncReport, anchorage_vulndb::VulnDbError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anchorage_vulndb::VulnDbError::BadSource(format!("test runtime: {e}")))?
        .block_on(anchorage_vulndb::sync_source(store, source, options))
}

/// `max_days_since_fix` needs the day a fix was first seen: two syncs of the real PyPI export
/// over HTTP, a day apart (clock injected). Day 1's copy of PYSEC-2018-28 has no fix yet (its
/// `fixed` events removed, as before upstream published one); day 2 serves the real record.
/// A third sync ten days later keeps the day-2 date.
#[test]
fn fix_first_seen_date_survives_syncs_and_reaches_findings() {
    use chrono::{TimeZone, Utc};
    let server = support::feeds::Server::start();
    let real = support::feeds::osv_records("PyPI");
    let without_fix: Vec<(String, Vec<u8>)> = real
        .iter()
        .map(|(name, bytes)| {
            if name != "PYSEC-2018-28.yaml" {
                return (name.clone(), bytes.clone());
            }
            let text = String::from_utf8(bytes.clone()).unwrap();
            let kept: Vec<&str> = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("- fixed:"))
                .collect();
            assert!(kept.len() < text.lines().count());
            (name.clone(), (kept.join("\n") + "\n").into_bytes())
        })
        .collect();
    let path = "/PyPI/all.zip";
    let source: FeedSource = format!("osv:{}", server.url(path)).parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    let day = |d: u32| Utc.with_ymd_and_hms(2026, 3, d, 6, 0, 0).unwrap();
    let at = |d: u32| SyncOptions {
        now: Some(day(d)),
        ..SyncOptions::default()
    };
    let analysis = support::analysis("debian-bookworm-app");
    let requests_finding = |store: &mut Store| {
        match_analysis(&analysis, &store.snapshot().unwrap())
            .unwrap()
            .findings
            .into_iter()
            .find(|f| {
                f.package.name == "requests"
                    && (f.vuln == "PYSEC-2018-28" || f.aliases.iter().any(|a| a == "PYSEC-2018-28"))
            })
            .expect("requests 2.19.1 is affected by PYSEC-2018-28")
    };

    server.put(path, support::feeds::zip_of(&without_fix));
    sync_source(&mut store, &source, &at(1)).unwrap();
    assert_eq!(
        store
            .fix_observed_at("PYSEC-2018-28", "PyPI", "requests")
            .unwrap(),
        None
    );
    assert_eq!(requests_finding(&mut store).fix_observed_at, None);

    server.put(path, support::feeds::zip_of(&real));
    sync_source(&mut store, &source, &at(2)).unwrap();
    server.put(path, support::feeds::zip_of(&real));
    sync_source(&mut store, &source, &at(12)).unwrap();
    assert_eq!(
        store
            .fix_observed_at("PYSEC-2018-28", "PyPI", "requests")
            .unwrap(),
        Some(day(2))
    );
    let f = requests_finding(&mut store);
    assert_eq!(f.fix, FixState::Fixed(vec!["2.20.0".into()]));
    assert_eq!(f.fix_observed_at, Some(day(2)));
    let status = store.source_status(&source.key()).unwrap().unwrap();
    assert_eq!(status.last_sync, Some(day(12)));
}

/// Loose advisory versions (GitHub/OSV npm records sometimes say `introduced: "0.0"`) are
/// read the way osv-scanner / node-semver coerce them, so minimist 0.0.8 is still matched;
/// a record whose version nothing can read is counted at sync (`feeds status`) and shows in
/// the scan's coverage as "partially evaluated" instead of vanishing in a log line.
#[test]
fn loose_npm_advisory_versions_are_coerced_and_unreadable_ones_reported() {
    let server = support::feeds::Server::start();
    let edit = |name: &str, f: &dyn Fn(&mut serde_json::Value)| {
        let bytes = std::fs::read(support::corpus().join("osv/npm").join(name)).unwrap();
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        f(&mut v);
        (name.to_string(), serde_json::to_vec(&v).unwrap())
    };
    let records = vec![
        // minimist: `introduced: "0"` of the 0.x range written loosely as "0.0".
        edit("GHSA-xvch-5gv4-984h.json", &|v| {
            v["affected"][1]["ranges"][0]["events"][0] = serde_json::json!({"introduced": "0.0"});
        }),
        // lodash: a fixed version nothing can read.
        edit("GHSA-jf85-cpcp-j695.json", &|v| {
            v["affected"][0]["ranges"][0]["events"][1] =
                serde_json::json!({"fixed": "4.17.12 (see notes)"});
        }),
    ];
    let path = "/npm/all.zip";
    server.put(path, support::feeds::zip_of(&records));
    let source: FeedSource = format!("osv:{}", server.url(path)).parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open_dir(dir.path()).unwrap();
    let report = sync_source(&mut store, &source, &SyncOptions::default()).unwrap();
    assert_eq!(
        (report.record_count, report.malformed, report.partial),
        (2, 0, 1)
    );
    assert!(report.partial_samples[0].starts_with("GHSA-jf85-cpcp-j695: npm lodash"));
    let status = store.source_status(&source.key()).unwrap().unwrap();
    assert_eq!(status.partial_count, 1);

    let analysis = support::analysis("debian-bookworm-app");
    let m = match_analysis(&analysis, &store.snapshot().unwrap()).unwrap();
    assert!(
        m.findings.iter().any(|f| f.package.name == "minimist"
            && f.aliases
                .iter()
                .chain([&f.vuln])
                .any(|i| i == "GHSA-xvch-5gv4-984h")),
        "{:#?}",
        m.findings
            .iter()
            .map(|f| (&f.vuln, &f.package.name))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        m.partially_evaluated.len(),
        1,
        "{:?}",
        m.partially_evaluated
    );
    assert!(m.partially_evaluated[0].starts_with("lodash 4.17.4: record GHSA-jf85-cpcp-j695"));
    let json: serde_json::Value =
        serde_json::from_str(&render(&m, OutputFormat::Json, "app", None).unwrap()).unwrap();
    // Only the npm feed is synced here, so the status stays "unavailable" (for Debian, PyPI,
    // Maven); the partially evaluated record is listed next to it.
    assert!(
        json["vulnerability_data"]["partially_evaluated"][0]
            .as_str()
            .unwrap()
            .starts_with("lodash 4.17.4: record GHSA-jf85-cpcp-j695"),
        "{}",
        json["vulnerability_data"]
    );
    let table = render(&m, OutputFormat::Table, "app", None).unwrap();
    assert!(
        table.contains("WARNING: partially evaluated: 1 advisory record"),
        "{table}"
    );
}

#[test]
fn synthetic_wolfi_records_apply_to_a_wolfi_image_and_alpine_records_do_not() {
    use anchorage_vulndb::{Advisory, Affected, AffectedStatus, Event, Range, RangeKind};
    let dir = tempfile::tempdir().unwrap();
    let mut store = support::corpus_store_local(dir.path());
    // The real Alpine 3.12 apk database: as Alpine, the corpus' secdb records hit zlib
    // (CVE-2022-37434). Relabelled as a Wolfi image (same apk format; Wolfi's os-release says
    // ID=wolfi with a date as VERSION_ID), no Alpine record may apply.
    let mut analysis = support::analysis("alpine-3.12");
    let snap = store.snapshot().unwrap();
    let as_alpine = match_analysis(&analysis, &snap).unwrap();
    drop(snap);
    assert!(
        as_alpine.findings.iter().any(|f| f.package.name == "zlib"),
        "{:?}",
        as_alpine.findings
    );
    analysis.distro.id = "wolfi".into();
    analysis.distro.version_id = Some("20230201".into());
    let zlib = analysis
        .packages
        .iter()
        .find(|p| p.name == "zlib")
        .map(|p| p.version.clone())
        .unwrap();
    let snap = store.snapshot().unwrap();
    let mut mem = snap.to_memory().unwrap();
    drop(snap);
    let before = match_analysis(&analysis, &mem).unwrap();
    assert!(before.findings.is_empty(), "{:?}", before.findings);

    let mut a = Advisory::new("CGA-synthetic-zlib");
    a.affected.push(Affected {
        ecosystem: "Wolfi".into(),
        name: "zlib".into(),
        purl: None,
        ranges: vec![Range {
            kind: RangeKind::Ecosystem,
            repo: None,
            events: vec![
                Event::Introduced("0".into()),
                Event::Fixed("9.9.9-r0".into()),
            ],
        }],
        versions: Vec::new(),
        status: AffectedStatus::Fixed,
        severity: None,
        note: None,
    });
    mem.insert("osv", "synthetic", a);
    let after = match_analysis(&analysis, &mem).unwrap();
    let hits: Vec<_> = after
        .findings
        .iter()
        .map(|f| {
            (
                f.vuln.as_str(),
                f.package.name.as_str(),
                f.package.version.as_str(),
            )
        })
        .collect();
    assert_eq!(hits, vec![("CGA-synthetic-zlib", "zlib", zlib.as_str())]);
}
