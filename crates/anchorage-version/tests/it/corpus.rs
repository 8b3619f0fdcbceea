//! Every row of `shared/corpus/versions/*.tsv` (verdicts produced by dpkg, rpm, Python
//! packaging, node semver and apk themselves) must be reproduced.

use std::cmp::Ordering;
use std::path::PathBuf;

use anchorage_version::{Scheme, Version, compare, compare_npm_build};

fn corpus(file: &str) -> String {
    let path = if file.starts_with("maven-") || file.ends_with("-random.tsv") {
        // Produced by the ecosystems' own tools on this machine; see tests/data/PROVENANCE.
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data")).join(file)
    } else {
        anchorage_testkit::corpus_dir().join("versions").join(file)
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Data rows: the header line (if any) starts with "left\t" or "version\t" and is skipped.
fn rows(file: &str) -> Vec<Vec<String>> {
    corpus(file)
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("left\t") && !l.starts_with("version\t"))
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn expected(s: &str) -> Ordering {
    match s {
        "-1" => Ordering::Less,
        "0" => Ordering::Equal,
        "1" => Ordering::Greater,
        other => panic!("bad expected value {other:?}"),
    }
}

fn check_pairs(file: &str, min_rows: usize, cmp: impl Fn(&str, &str) -> Ordering) {
    let rows = rows(file);
    assert!(rows.len() >= min_rows, "{file}: only {} rows", rows.len());
    let failures: Vec<String> = rows
        .iter()
        .filter_map(|r| {
            let (a, b, want) = (&r[0], &r[1], expected(&r[2]));
            let got = cmp(a, b);
            (got != want).then(|| format!("{a} vs {b}: want {want:?} got {got:?}"))
        })
        .collect();
    assert!(
        failures.is_empty(),
        "{file}: {} of {} rows wrong:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
}

fn scheme_pairs(file: &str, scheme: Scheme, min_rows: usize) {
    check_pairs(file, min_rows, |a, b| {
        let got = compare(scheme, a, b).unwrap_or_else(|e| panic!("{file}: {e}"));
        // Both directions must agree (antisymmetry on real data).
        assert_eq!(
            compare(scheme, b, a).ok(),
            Some(got.reverse()),
            "{file}: {a} vs {b} not antisymmetric"
        );
        got
    });
}

fn check_invalid(file: &str, scheme: Scheme, min_rows: usize) {
    let rows = rows(file);
    assert!(rows.len() >= min_rows, "{file}: only {} rows", rows.len());
    for r in rows {
        let err = Version::parse(scheme, &r[0])
            .expect_err(&format!("{file}: {:?} must be rejected ({})", r[0], r[1]));
        assert!(
            err.to_string().contains(scheme.name()),
            "{err} names the scheme"
        );
    }
}

#[test]
fn dpkg_pairs_match_dpkg() {
    scheme_pairs("dpkg.tsv", Scheme::Dpkg, 1900);
}

#[test]
fn dpkg_invalid_rejected_like_dpkg() {
    check_invalid("dpkg-invalid.tsv", Scheme::Dpkg, 8);
}

#[test]
fn rpm_pairs_match_rpm() {
    scheme_pairs("rpm.tsv", Scheme::Rpm, 1283);
}

#[test]
fn rpm_invalid_table_is_empty_and_rpm_accepts_its_strings() {
    // rpm rejected nothing in the pool; the file holds only its header.
    assert!(rows("rpm-invalid.tsv").is_empty());
    for r in rows("rpm.tsv") {
        assert!(Version::parse(Scheme::Rpm, &r[0]).is_ok());
    }
}

#[test]
fn apk_pairs_match_apk_tools() {
    scheme_pairs("apk.tsv", Scheme::Apk, 1605);
}

#[test]
fn apk_invalid_rejected_like_apk_version_c() {
    check_invalid("apk-invalid.tsv", Scheme::Apk, 5);
}

#[test]
fn pep440_pairs_match_packaging() {
    scheme_pairs("pep440.tsv", Scheme::Pep440, 2288);
}

#[test]
fn pep440_invalid_rejected_like_packaging() {
    check_invalid("pep440-invalid.tsv", Scheme::Pep440, 10);
}

#[test]
fn semver_pairs_match_node_semver() {
    scheme_pairs("semver.tsv", Scheme::Npm, 1183);
}

#[test]
fn semver_pairs_without_v_prefix_match_plain_semver_and_go() {
    // The same verdicts hold for crates.io (strict SemVer) and Go, on the rows they accept.
    let mut checked = 0;
    for r in rows("semver.tsv") {
        let (a, b, want) = (&r[0], &r[1], expected(&r[2]));
        if a.starts_with('v') || b.starts_with('v') {
            assert_eq!(compare(Scheme::Go, a, b).ok(), Some(want), "go {a} {b}");
            continue;
        }
        assert_eq!(
            compare(Scheme::Semver, a, b).ok(),
            Some(want),
            "semver {a} {b}"
        );
        assert_eq!(compare(Scheme::Go, a, b).ok(), Some(want), "go {a} {b}");
        checked += 1;
    }
    assert!(checked > 1000);
}

#[test]
fn semver_invalid_rejected_like_node_semver() {
    check_invalid("semver-invalid.tsv", Scheme::Npm, 11);
    for r in rows("semver-invalid.tsv") {
        assert!(Version::parse(Scheme::Semver, &r[0]).is_err(), "{}", r[0]);
    }
}

#[test]
fn semver_compare_build_matches_node_semver() {
    check_pairs("semver-comparebuild.tsv", 30, |a, b| {
        compare_npm_build(a, b).unwrap_or_else(|e| panic!("semver-comparebuild.tsv: {e}"))
    });
}

#[test]
fn maven_pairs_match_maven_comparable_version() {
    scheme_pairs("maven-3.9.16.tsv", Scheme::Maven, 3841);
}

#[test]
fn maven_random_pairs_match_maven_comparable_version() {
    scheme_pairs("maven-3.9.16-random.tsv", Scheme::Maven, 4003);
}

/// Tables with validity columns: left, right, left_valid, right_valid, expected-or-empty.
fn check_random_table(file: &str, scheme: Scheme, min_rows: usize) {
    let rows = rows(file);
    assert!(rows.len() >= min_rows, "{file}: only {} rows", rows.len());
    let mut compared = 0;
    for r in &rows {
        let (a, b) = (&r[0], &r[1]);
        let (pa, pb) = (Version::parse(scheme, a), Version::parse(scheme, b));
        assert_eq!(pa.is_ok(), r[2] == "1", "{file}: validity of {a:?}");
        assert_eq!(pb.is_ok(), r[3] == "1", "{file}: validity of {b:?}");
        if let (Ok(x), Ok(y)) = (pa, pb) {
            assert_eq!(x.cmp(&y), expected(&r[4]), "{file}: {a:?} vs {b:?}");
            compared += 1;
        }
    }
    assert!(
        compared * 4 > rows.len(),
        "{file}: only {compared} comparable rows"
    );
}

#[test]
fn npm_random_strings_match_node_semver() {
    check_random_table("npm-semver-7.8.5-random.tsv", Scheme::Npm, 14000);
}

#[test]
fn pep440_random_strings_match_packaging() {
    check_random_table("pep440-packaging-21.3-random.tsv", Scheme::Pep440, 6000);
}

/// apk-tools 3 differs from apk-tools 2 (which produced `apk.tsv`) only where a dotted number
/// has a leading zero or a digit follows a letter; on every other corpus row it must agree.
#[test]
fn apk3_agrees_with_apk_tools_2_outside_the_changed_rules() {
    let changed = |v: &str| {
        v.as_bytes()
            .windows(3)
            .any(|w| w[0] == b'.' && w[1] == b'0' && w[2].is_ascii_digit())
            || Version::parse(Scheme::Apk3, v).is_err()
    };
    let rows = rows("apk.tsv");
    let mut checked = 0;
    for r in &rows {
        let (a, b, want) = (&r[0], &r[1], expected(&r[2]));
        if changed(a) || changed(b) {
            continue;
        }
        let got = compare(Scheme::Apk3, a, b).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(got, want, "{a} vs {b}");
        checked += 1;
    }
    assert!(
        checked > rows.len() / 2,
        "only {checked} of {} rows compared",
        rows.len()
    );
}
