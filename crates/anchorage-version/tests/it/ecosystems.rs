//! Orderings of the schemes without a tool-produced corpus (Maven, RubyGems, NuGet, Composer,
//! Go, generic), checked against the examples their own documentation and test suites give.

use std::cmp::Ordering::{self, Equal, Greater, Less};

use anchorage_version::{Scheme, Version, compare};

fn cmp(scheme: Scheme, a: &str, b: &str) -> Ordering {
    compare(scheme, a, b).unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts that `list` is strictly increasing under `scheme`, pairwise (so transitively too).
fn assert_increasing(scheme: Scheme, list: &[&str]) {
    for (i, a) in list.iter().enumerate() {
        for b in &list[i + 1..] {
            assert_eq!(cmp(scheme, a, b), Less, "{scheme}: {a} < {b}");
            assert_eq!(cmp(scheme, b, a), Greater, "{scheme}: {b} > {a}");
        }
    }
}

fn assert_all_equal(scheme: Scheme, list: &[&str]) {
    for a in list {
        for b in list {
            assert_eq!(cmp(scheme, a, b), Equal, "{scheme}: {a} == {b}");
        }
    }
}

// Source: https://maven.apache.org/pom.html#version-order-specification (examples list).
#[test]
fn maven_pom_reference_examples() {
    let m = Scheme::Maven;
    assert_increasing(m, &["1", "1.1"]);
    assert_increasing(m, &["1-snapshot", "1", "1-sp"]);
    assert_increasing(m, &["1-foo2", "1-foo10"]);
    assert_eq!(cmp(m, "1.foo", "1-foo"), Equal);
    assert_increasing(m, &["1-foo", "1-1", "1.1"]);
    assert_all_equal(
        m,
        &[
            "1.ga",
            "1-ga",
            "1-0",
            "1.0",
            "1",
            "1.final",
            "1.release",
            "1.0.0",
        ],
    );
    assert_eq!(cmp(m, "1-sp", "1-ga"), Greater);
    assert_eq!(cmp(m, "1-sp.1", "1-ga.1"), Greater);
    assert_eq!(cmp(m, "1-sp-1", "1-ga-1"), Less);
    // The page also lists "1-ga-1" = "1-1", but ComparableVersion 3.9.16 itself answers
    // "1-ga-1" < "1-1" (see tests/data/maven-3.9.16.tsv); we follow the implementation.
    assert_eq!(cmp(m, "1-ga-1", "1-1"), Less);
    assert_eq!(cmp(m, "1-a1", "1-alpha-1"), Equal);
    assert_eq!(cmp(m, "1-cr1", "1-rc1"), Equal);
    assert_eq!(cmp(m, "1.0-RC1", "1.0-rc1"), Equal, "case-insensitive");
}

// Source: apache/maven tag maven-3.9.16, ComparableVersionTest.java: VERSIONS_QUALIFIER.
#[test]
fn maven_comparable_version_test_qualifiers() {
    assert_increasing(
        Scheme::Maven,
        &[
            "1-alpha2snapshot",
            "1-alpha2",
            "1-alpha-123",
            "1-beta-2",
            "1-beta123",
            "1-m2",
            "1-m11",
            "1-rc",
            "1-cr2",
            "1-rc123",
            "1-SNAPSHOT",
            "1",
            "1-sp",
            "1-sp2",
            "1-sp123",
            "1-abc",
            "1-def",
            "1-pom-1",
            "1-1-snapshot",
            "1-1",
            "1-2",
            "1-123",
        ],
    );
}

// Source: apache/maven tag maven-3.9.16, ComparableVersionTest.java: VERSIONS_NUMBER.
#[test]
fn maven_comparable_version_test_numbers() {
    assert_increasing(
        Scheme::Maven,
        &[
            "2.0", "2.0.a", "2-1", "2.0.2", "2.0.123", "2.1.0", "2.1-a", "2.1b", "2.1-c", "2.1-1",
            "2.1.0.1", "2.2", "2.123", "11.a2", "11.a11", "11.b2", "11.b11", "11.m2", "11.m11",
            "11", "11.a", "11b", "11c", "11m",
        ],
    );
}

// Source: apache/maven tag maven-3.9.16, ComparableVersionTest.java: testVersionsEqual,
// testVersionComparing, testMng5568, testMng6572, testMng6964, testMng7644.
#[test]
fn maven_comparable_version_test_cases() {
    let m = Scheme::Maven;
    for (a, b) in [
        ("1", "1.0.0"),
        ("1", "1-0"),
        ("1", "1.0-0"),
        ("1a", "1-a"),
        ("1a", "1.0.0-a"),
        ("1.0.0x", "1-x"),
        ("1ga", "1"),
        ("1release", "1"),
        ("1final", "1"),
        ("1cr", "1rc"),
        ("1a1", "1-alpha-1"),
        ("1b2", "1-beta-2"),
        ("1m3", "1-milestone-3"),
        ("1X", "1x"),
        ("1RELeaSE", "1"),
        ("1m3", "1MILESTONE3"),
        ("0000000000000000001", "1"),
        ("0000000000000000000", "0"),
        (
            "1-abcdefghijklmnopqrstuvwxyz",
            "1-ABCDEFGHIJKLMNOPQRSTUVWXYZ",
        ),
    ] {
        assert_eq!(cmp(m, a, b), Equal, "{a} == {b}");
    }
    for (a, b) in [
        ("1.5", "2"),
        ("1.0.1", "1.1"),
        ("1.0-alpha-1", "1.0"),
        ("1.0-beta-1", "1.0-SNAPSHOT"),
        ("1.0-alpha-1-SNAPSHOT", "1.0-alpha-1"),
        ("1.0.0", "1.0-1"),
        ("2.0-1", "2.0.1"),
        ("2.0.1-klm", "2.0.1-lmn"),
        ("2.0.1", "2.0.1-xyz"),
        ("2.0.1-xyz", "2.0.1-123"),
        ("6.1.0rc3", "6.1.0"),
        ("6.1.0rc3", "6.1H.5-beta"),
        ("6.1.0", "6.1H.5-beta"),
        ("20190126.230843", "1234567890.12345"),
        (
            "123456789012345.1H.5-beta",
            "12345678901234567890.1H.5-beta",
        ),
        ("1-0.alpha", "1"),
        ("1-0.beta", "1"),
        ("1-0.alpha", "1-0.beta"),
    ] {
        assert_eq!(cmp(m, a, b), Less, "{a} < {b}");
        assert_eq!(cmp(m, b, a), Greater, "{b} > {a}");
    }
    for x in [
        "abc",
        "alpha",
        "a",
        "beta",
        "b",
        "def",
        "milestone",
        "m",
        "RC",
    ] {
        assert_eq!(
            cmp(m, &format!("1.0.0.{x}1"), &format!("1.0.0-{x}2")),
            Less,
            "{x}"
        );
        assert_eq!(cmp(m, &format!("2-{x}"), &format!("2.0.{x}")), Equal, "{x}");
        assert_eq!(
            cmp(m, &format!("2.0.{x}"), &format!("2.0.0.{x}")),
            Equal,
            "{x}"
        );
    }
}

// Source: rubygems lib/rubygems/version.rb class docs ("1.0 > 1.0.b1 > 1.0.a.2 > 0.9") and
// test/rubygems/test_gem_version.rb.
#[test]
fn rubygems_documented_examples() {
    let g = Scheme::RubyGems;
    assert_increasing(g, &["0.9", "1.0.a.2", "1.0.b1", "1.0"]);
    assert_increasing(g, &["1.0.a9", "1.0.a10"]);
    assert_all_equal(g, &["1.0", "1", "1.0.0", " 1.0 "]);
    assert_all_equal(g, &["1.2.b1", "1.2.b.1"]);
    assert_all_equal(g, &["1.0.a", "1.0.a.0"]);
    assert_eq!(cmp(g, "1.0.0-1", "1.0.0"), Less, "'-' means prerelease");
    assert_eq!(cmp(g, "5.2.4", "5.2.4.rc1"), Greater);
    assert_eq!(cmp(g, "1.8.2", "1.8.2.a"), Greater);
    assert_eq!(cmp(g, "0.0.beta", "0.0.beta.1"), Less);
    assert_eq!(cmp(g, "", "0"), Equal, "empty is version 0");
    for bad in [
        "junk",
        "1.0\n2.0",
        "1..2",
        "1.2\\ 3.4",
        "2.3422222.222.222222222.22222.ads0as.dasd0.ddd2222.2.qd3e.",
    ] {
        assert!(Version::parse(g, bad).is_err(), "{bad:?} is malformed");
    }
}

// Source: https://learn.microsoft.com/en-us/nuget/concepts/package-versioning
// ("Pre-release versions" ordering, "Normalized version numbers").
#[test]
fn nuget_documented_examples() {
    let n = Scheme::NuGet;
    assert_increasing(
        n,
        &[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1",
            "1.0.1",
            "1.1",
        ],
    );
    assert_all_equal(n, &["1.0.0-Alpha", "1.0.0-alpha", "1.0.0-ALPHA+build.5"]);
    assert_all_equal(n, &["1.00", "1.0", "1.0.0", "1.0.0.0", "1", "1.0.0+meta"]);
    assert_all_equal(n, &["1.01.1", "1.1.1"]);
    for bad in [
        "1.0.0.0.0",
        "a.b",
        "1.0-",
        "1.0-beta..1",
        "1.0+",
        "-1.0",
        "99999999999.0",
    ] {
        assert!(Version::parse(n, bad).is_err(), "{bad:?} is invalid");
    }
}

// Source: composer/semver VersionParserTest::normalize data (normalized forms) and
// Composer docs "Stabilities" (dev < alpha < beta < RC < stable; patch after stable).
#[test]
fn composer_documented_examples() {
    let c = Scheme::Composer;
    assert_increasing(
        c,
        &[
            "1.0.0-dev",
            "1.0.0-alpha1",
            "1.0.0-beta1",
            "1.0.0-b2",
            "1.0.0-RC1",
            "1.0.0",
            "1.0.0-patch1",
            "1.0.1",
        ],
    );
    assert_all_equal(
        c,
        &[
            "1.0.0",
            "v1.0.0",
            "1.0",
            "1",
            "1.0.0.0",
            "1.0.0-stable",
            "1.0.0+build",
        ],
    );
    assert_all_equal(c, &["1.0.0RC1dev", "1.0.0-rC1-dev"]);
    assert_all_equal(c, &["10.4.13-b5", "10.4.13-beta5"]);
    assert_all_equal(c, &["20100102-203040", "20100102.203040"]);
    assert_all_equal(c, &["2.0.0-p1", "2.0.0-pl1", "2.0.0-patch1"]);
    assert_increasing(c, &["1.x-dev", "2.0.0"]);
    assert_eq!(cmp(c, "1.9.9", "1.x-dev"), Less);
    for bad in ["dev-master", "master", "foo", "1.0.0-feature", "a.b.c"] {
        assert!(Version::parse(c, bad).is_err(), "{bad:?} is not orderable");
    }
}

// Source: https://go.dev/ref/mod#pseudo-versions and golang.org/x/mod/semver docs.
#[test]
fn go_pseudo_versions_and_incompatible() {
    let g = Scheme::Go;
    assert_increasing(
        g,
        &[
            "v0.0.0-20191109021931-daa7c04131f5",
            "v0.0.1",
            "v1.2.3",
            "v1.2.4-0.20191109021931-daa7c04131f5",
            "v1.2.4-pre",
            "v1.2.4",
            "v2.0.0+incompatible",
        ],
    );
    assert_all_equal(g, &["v2.0.0+incompatible", "v2.0.0", "2.0.0"]);
    assert_all_equal(g, &["v1.2", "v1.2.0"]);
    assert_all_equal(g, &["v1", "v1.0.0"]);
    for bad in ["v1.2.3.4", "1.2", "v01.2.3", "v1.2-pre", "latest", ""] {
        assert!(Version::parse(g, bad).is_err(), "{bad:?} is invalid");
    }
}

#[test]
fn plain_semver_rejects_prefixes_npm_accepts_v_and_space() {
    assert!(Version::parse(Scheme::Semver, "v1.0.0").is_err());
    assert_eq!(cmp(Scheme::Npm, " v1.0.0 ", "1.0.0"), Equal);
    assert!(
        Version::parse(Scheme::Npm, "9007199254740992.0.0").is_err(),
        "above MAX_SAFE_INTEGER"
    );
    assert!(Version::parse(Scheme::Npm, "9007199254740991.0.0").is_ok());
}

#[test]
fn generic_natural_order() {
    let g = Scheme::Generic;
    assert_increasing(g, &["1.0rc1", "1.0", "1.0.1", "1.2", "1.10", "2"]);
    assert_all_equal(g, &["1.0", "1-0", "1_0", "v1.0"[1..].as_ref()]);
    assert!(Version::parse(g, "...").is_err());
}

#[test]
fn scheme_for_osv_ecosystems() {
    let cases = [
        ("Debian:12", Scheme::Dpkg),
        ("Ubuntu:22.04:LTS", Scheme::Dpkg),
        ("Alpine:v3.20", Scheme::Apk),
        ("Alpine:v3.22", Scheme::Apk),
        ("Alpine:v3.23", Scheme::Apk3),
        ("Alpine:v4.0", Scheme::Apk3),
        ("Alpine", Scheme::Apk),
        ("Wolfi", Scheme::Apk),
        ("Rocky Linux:9", Scheme::Rpm),
        ("Rocky:9", Scheme::Rpm),
        ("AlmaLinux:8", Scheme::Rpm),
        ("Red Hat", Scheme::Rpm),
        ("PyPI", Scheme::Pep440),
        ("npm", Scheme::Npm),
        ("Go", Scheme::Go),
        ("crates.io", Scheme::Semver),
        ("Maven", Scheme::Maven),
        ("RubyGems", Scheme::RubyGems),
        ("NuGet", Scheme::NuGet),
        ("Packagist", Scheme::Composer),
        ("Hackage", Scheme::Generic),
        ("", Scheme::Generic),
    ];
    for (eco, want) in cases {
        assert_eq!(Scheme::for_ecosystem(eco), want, "{eco}");
    }
}

#[test]
fn error_names_scheme_and_string() {
    let err = Version::parse(Scheme::Dpkg, "1.0-").expect_err("dpkg rejects an empty revision");
    let msg = err.to_string();
    assert!(
        msg.contains("dpkg")
            && msg.contains("\"1.0-\"")
            && msg.contains("revision number is empty"),
        "{msg}"
    );
}

#[test]
fn synthetic_overlong_input_is_rejected_for_every_scheme() {
    let long = "1".repeat(anchorage_version::MAX_VERSION_LEN + 1);
    for s in Scheme::ALL {
        assert!(Version::parse(s, &long).is_err(), "{s}");
    }
}

#[test]
fn versions_of_different_schemes_order_by_scheme() {
    let a = Version::parse(Scheme::Dpkg, "2.0").expect("valid");
    let b = Version::parse(Scheme::Rpm, "1.0").expect("valid");
    assert_eq!(a.cmp(&b), Less);
    assert_ne!(a, b);
    let c = Version::parse(Scheme::Npm, "1.0.0").expect("valid");
    let d = Version::parse(Scheme::Go, "v1.0.0").expect("valid");
    assert_ne!(c, d);
}
