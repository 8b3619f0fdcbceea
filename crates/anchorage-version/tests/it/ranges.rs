//! OSV range evaluation against real advisories in `shared/corpus/osv`, plus the OSV schema's
//! evaluation rules on small synthetic ranges.

use std::path::{Path, PathBuf};

use anchorage_version::{RangeEvent, Scheme, compare, is_affected};
use serde_json::Value;

fn osv_dir() -> PathBuf {
    anchorage_testkit::corpus_dir().join("osv")
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn load_record(path: &Path) -> Value {
    let text = read(path);
    if path.extension().is_some_and(|e| e == "yaml") {
        serde_yaml_ng::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    } else {
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }
}

fn events(range: &Value) -> Vec<RangeEvent> {
    let mut out = Vec::new();
    for e in range["events"].as_array().expect("events array") {
        let obj = e.as_object().expect("event object");
        for (k, v) in obj {
            let v = v.as_str().expect("event version string").to_string();
            out.push(match k.as_str() {
                "introduced" => RangeEvent::Introduced(v),
                "fixed" => RangeEvent::Fixed(v),
                "last_affected" => RangeEvent::LastAffected(v),
                "limit" => RangeEvent::Limit(v),
                other => panic!("unknown event {other}"),
            });
        }
    }
    out
}

/// ECOSYSTEM/SEMVER ranges of the `affected` entries naming `package` (or all when `None`).
fn ranges(record: &Value, package: Option<&str>) -> Vec<(Scheme, Vec<RangeEvent>)> {
    let norm = |s: &str| s.to_ascii_lowercase().replace(['_', '.'], "-");
    let mut out = Vec::new();
    for a in record["affected"].as_array().into_iter().flatten() {
        let name = a["package"]["name"].as_str().unwrap_or_default();
        if package.is_some_and(|p| norm(p) != norm(name)) {
            continue;
        }
        let scheme = Scheme::for_ecosystem(a["package"]["ecosystem"].as_str().unwrap_or_default());
        for r in a["ranges"].as_array().into_iter().flatten() {
            if matches!(r["type"].as_str(), Some("ECOSYSTEM" | "SEMVER")) {
                out.push((scheme, events(r)));
            }
        }
    }
    out
}

// PyPI-bookworm-app-matches.tsv: verdicts computed with packaging 26.4 (see osv/PROVENANCE).
#[test]
fn pypi_bookworm_app_matches_agree_with_packaging() {
    let table = read(&osv_dir().join("PyPI-bookworm-app-matches.tsv"));
    let mut rows = 0;
    let mut affected = 0;
    for line in table.lines().skip(1).filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let (record, package, installed, want) = (f[0], f[1], f[2], f[4] == "1");
        let rec = load_record(&osv_dir().join("PyPI").join(record));
        let rs = ranges(&rec, Some(package));
        assert!(!rs.is_empty(), "{record}: no range for {package}");
        let got = rs.iter().try_fold(false, |acc, (scheme, ev)| {
            assert_eq!(*scheme, Scheme::Pep440);
            is_affected(*scheme, installed, ev).map(|a| acc || a)
        });
        assert_eq!(got, Ok(want), "{record} {package} {installed}");
        rows += 1;
        affected += usize::from(want);
    }
    assert_eq!((rows, affected), (37, 16));
}

// Every version an OSV PyPI record enumerates in `versions` lies in one of its ranges.
#[test]
fn pypi_listed_versions_fall_in_their_ranges() {
    let mut checked = 0;
    for entry in std::fs::read_dir(osv_dir().join("PyPI")).expect("PyPI dir") {
        let path = entry.expect("dir entry").path();
        let rec = load_record(&path);
        for a in rec["affected"].as_array().into_iter().flatten() {
            let name = a["package"]["name"].as_str().unwrap_or_default();
            let rs = ranges(&rec, Some(name));
            for v in a["versions"].as_array().into_iter().flatten() {
                let v = v.as_str().expect("version string");
                let hit = rs.iter().any(|(s, ev)| is_affected(*s, v, ev) == Ok(true));
                assert!(
                    hit,
                    "{}: listed version {v} of {name} not in any range",
                    path.display()
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 1000, "only {checked} listed versions");
}

// Every event version of every Go, crates.io, npm and Maven record parses under its scheme,
// and each fixed version is itself not affected while the introduced one is.
#[test]
fn osv_event_versions_parse_and_bound_their_ranges() {
    let mut checked = 0;
    for dir in ["Go", "crates", "npm", "Maven", "PyPI"] {
        for entry in std::fs::read_dir(osv_dir().join(dir)).expect("osv dir") {
            let path = entry.expect("dir entry").path();
            if !matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("json" | "yaml")
            ) {
                continue;
            }
            let rec = load_record(&path);
            for (scheme, ev) in ranges(&rec, None) {
                // Single introduced/fixed pairs only: there the bounds are unambiguous.
                let intro: Vec<&str> = ev
                    .iter()
                    .filter_map(|e| match e {
                        RangeEvent::Introduced(v) => Some(v.as_str()),
                        _ => None,
                    })
                    .collect();
                let fixed: Vec<&str> = ev
                    .iter()
                    .filter_map(|e| match e {
                        RangeEvent::Fixed(v) => Some(v.as_str()),
                        _ => None,
                    })
                    .collect();
                for e in &ev {
                    if e.version() != "0" {
                        assert!(
                            compare(scheme, e.version(), e.version()).is_ok(),
                            "{}: {e:?}",
                            path.display()
                        );
                    }
                }
                if let ([i], [f]) = (intro.as_slice(), fixed.as_slice()) {
                    assert_eq!(
                        is_affected(scheme, f, &ev),
                        Ok(false),
                        "{}: fixed {f}",
                        path.display()
                    );
                    if *i != "0" {
                        assert_eq!(
                            is_affected(scheme, i, &ev),
                            Ok(true),
                            "{}: introduced {i}",
                            path.display()
                        );
                    }
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "only {checked} ranges");
}

// osv/expected/*.tsv reasons record comparisons made with the distro tools, e.g.
// "fixed 1.27.2-r4 < installed 1.36.1-r29 (apk version -t: >)".
#[test]
fn distro_expected_reasons_agree_with_dpkg_and_apk_order() {
    let mut checked = 0;
    for entry in std::fs::read_dir(osv_dir().join("expected")).expect("expected dir") {
        let path = entry.expect("dir entry").path();
        for line in read(&path).lines().skip(1) {
            let f: Vec<&str> = line.split('\t').collect();
            let (Some(eco), Some(reason)) = (f.get(1), f.get(6)) else {
                continue;
            };
            let Some(pos) = reason.find("fixed ") else {
                continue;
            };
            let words: Vec<&str> = reason[pos..].split_whitespace().collect();
            if words.len() < 5 || words[3] != "installed" {
                continue;
            }
            let (fixed, op, installed) = (words[1], words[2], words[4]);
            let want = match op {
                "<" => std::cmp::Ordering::Less,
                "=" => std::cmp::Ordering::Equal,
                ">" => std::cmp::Ordering::Greater,
                _ => continue,
            };
            let scheme = Scheme::for_ecosystem(eco);
            assert_eq!(
                compare(scheme, fixed, installed),
                Ok(want),
                "{}: {reason}",
                path.display()
            );
            checked += 1;
        }
    }
    assert!(checked >= 167, "only {checked} comparisons");
}

fn ev(list: &[(&str, &str)]) -> Vec<RangeEvent> {
    list.iter()
        .map(|(k, v)| match *k {
            "i" => RangeEvent::Introduced((*v).into()),
            "f" => RangeEvent::Fixed((*v).into()),
            "l" => RangeEvent::LastAffected((*v).into()),
            _ => RangeEvent::Limit((*v).into()),
        })
        .collect()
}

#[test]
fn synthetic_osv_evaluation_rules() {
    let s = Scheme::Npm;
    let a = |v: &str, e: &[RangeEvent]| is_affected(s, v, e).expect("valid");
    let r = ev(&[("i", "0"), ("f", "1.0.2")]);
    assert!(a("0.0.1", &r) && a("1.0.1", &r) && !a("1.0.2", &r) && !a("2.0.0", &r));
    let r = ev(&[("i", "1.0.0"), ("l", "1.4.0")]);
    assert!(!a("0.9.0", &r) && a("1.0.0", &r) && a("1.4.0", &r) && !a("1.4.1", &r));
    // Two introduced/fixed pairs, given out of order: sorted before evaluation.
    let r = ev(&[
        ("i", "2.0.0"),
        ("f", "2.3.0"),
        ("i", "1.0.0"),
        ("f", "1.5.0"),
    ]);
    assert!(
        a("1.2.0", &r) && !a("1.7.0", &r) && a("2.0.0", &r) && !a("2.3.0", &r) && !a("0.5.0", &r)
    );
    // Introduced only: open-ended.
    assert!(a("99.0.0", &ev(&[("i", "1.0.0")])));
    // A limit caps the range; "*" does not.
    let r = ev(&[("i", "0"), ("lim", "2.0.0")]);
    assert!(a("1.9.9", &r) && !a("2.0.0", &r));
    assert!(a("5.0.0", &ev(&[("i", "0"), ("lim", "*")])));
    // No events: nothing affected.
    assert!(!a("1.0.0", &[]));
    // Pre-releases order before their release.
    assert!(a("1.0.2-rc.1", &ev(&[("i", "0"), ("f", "1.0.2")])));
}

#[test]
fn synthetic_invalid_versions_are_errors_naming_the_string() {
    let r = ev(&[("i", "0"), ("f", "1.0-")]);
    let err = is_affected(Scheme::Dpkg, "1.0-1", &r).expect_err("fixed version invalid for dpkg");
    assert!(err.to_string().contains("\"1.0-\""), "{err}");
    let err = is_affected(Scheme::Dpkg, "a", &ev(&[("i", "0")])).expect_err("installed invalid");
    assert!(err.to_string().contains("\"a\""), "{err}");
}

#[test]
fn range_events_use_osv_json_shape() {
    let json = r#"[{"introduced":"0"},{"fixed":"1.2.3"},{"last_affected":"1.2.2"},{"limit":"*"}]"#;
    let parsed: Vec<RangeEvent> = serde_json::from_str(json).expect("osv events");
    assert_eq!(
        parsed,
        ev(&[("i", "0"), ("f", "1.2.3"), ("l", "1.2.2"), ("lim", "*")])
    );
    assert_eq!(serde_json::to_string(&parsed).expect("serialize"), json);
}

#[test]
fn synthetic_pep440_local_versions_match_ranges_like_pip() {
    let s = Scheme::Pep440;
    let last = [
        RangeEvent::Introduced("0".into()),
        RangeEvent::LastAffected("6.4".into()),
    ];
    // pip: `<=6.4` matches `6.4+cgr.1` (the local segment is ignored).
    assert!(is_affected(s, "6.4+cgr.1", &last).unwrap());
    assert!(!is_affected(s, "6.4.1+cgr.1", &last).unwrap());
    let fixed = [
        RangeEvent::Introduced("6.0".into()),
        RangeEvent::Fixed("6.4".into()),
    ];
    assert!(!is_affected(s, "6.4+cgr.1", &fixed).unwrap());
    assert!(is_affected(s, "6.3+cgr.2", &fixed).unwrap());
    // An event with a local segment compares the full versions.
    let local_fix = [
        RangeEvent::Introduced("0".into()),
        RangeEvent::Fixed("6.4+cgr.2".into()),
    ];
    assert!(is_affected(s, "6.4+cgr.1", &local_fix).unwrap());
    assert!(!is_affected(s, "6.4+cgr.2", &local_fix).unwrap());
}

#[test]
fn synthetic_loose_npm_advisory_versions_are_coerced_not_skipped() {
    // GitHub/OSV npm records sometimes say `introduced: "1.0"`; osv-scanner and node-semver
    // read it as 1.0.0.
    let events = [
        RangeEvent::Introduced("1.0".into()),
        RangeEvent::Fixed("1.4".into()),
    ];
    assert!(is_affected(Scheme::Npm, "1.2.0", &events).unwrap());
    assert!(!is_affected(Scheme::Npm, "1.4.0", &events).unwrap());
    assert!(!is_affected(Scheme::Npm, "0.9.0", &events).unwrap());
    // Still unreadable: an error naming the string.
    let bad = [RangeEvent::Introduced("not-a-version".into())];
    let err = is_affected(Scheme::Npm, "1.2.0", &bad).unwrap_err();
    assert!(err.to_string().contains("not-a-version"), "{err}");
}
