//! Property tests: no input panics, and every scheme is a total preorder (reflexive,
//! antisymmetric, transitive) on generated versions and on the corpus version pools.

use std::cmp::Ordering;

use anchorage_version::{RangeEvent, Scheme, Version, compare, compare_npm_build, is_affected};
use proptest::prelude::*;

/// Generator of plausible (mostly valid) versions for each scheme.
fn grammar(scheme: Scheme) -> &'static str {
    match scheme {
        Scheme::Dpkg => "([0-9]:)?[0-9][0-9a-z.+~]{0,6}(-[0-9a-z.+~]{1,4})?",
        Scheme::Rpm => "([0-9]:)?[0-9a-z.~^_+]{1,8}(-[0-9a-z.~^]{1,4})?",
        Scheme::Apk => {
            "[0-9]{1,2}(\\.[0-9]{1,3}){0,3}[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]{0,2}){0,2}(-r[0-9]{1,2})?"
        }
        Scheme::Apk3 => {
            "[0-9]{1,2}(\\.[0-9]{1,3}){0,3}[a-z]?(_(alpha|beta|pre|rc|cvs|svn|git|hg|p)[0-9]{0,2}){0,2}(~[0-9a-f]{1,4})?(-r[0-9]{1,2})?"
        }
        Scheme::Pep440 => {
            "([0-9]!)?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}((a|b|rc)[0-9]{1,2})?(\\.post[0-9])?(\\.dev[0-9])?(\\+[a-z0-9]{1,3})?"
        }
        Scheme::Semver => {
            "(0|[1-9][0-9]?)\\.(0|[1-9])\\.(0|[1-9])(-(0|[1-9][0-9]?|[a-z-][0-9a-z]{0,2})(\\.(0|[1-9]|[a-z][0-9a-z]?)){0,2})?(\\+[a-z0-9]{1,3})?"
        }
        Scheme::Npm | Scheme::Go => {
            "v?(0|[1-9][0-9]?)\\.(0|[1-9])\\.(0|[1-9])(-(0|[1-9][0-9]?|[a-z-][0-9a-z]{0,2})(\\.(0|[1-9]|[a-z][0-9a-z]?)){0,2})?(\\+[a-z0-9]{1,3})?"
        }
        // Maven's ComparableVersion is not transitive on arbitrary strings (tests/data has
        // "--m0" < "-" < "a" but "--m0" > "a", from Maven itself), so the laws are checked
        // on version-shaped strings.
        Scheme::Maven => {
            "[0-9]{1,2}(\\.[0-9]{1,2}){0,2}([.-]?(alpha|beta|milestone|rc|cr|snapshot|ga|final|sp|a|b|m|foo)[0-9]{0,2}){0,2}(-[0-9]{1,2})?"
        }
        Scheme::RubyGems => "[0-9]{1,2}(\\.[0-9a-z]{1,3}){0,3}(-[0-9a-z]{1,3})?",
        Scheme::NuGet => {
            "[0-9]{1,2}(\\.[0-9]{1,2}){0,3}(-[0-9a-zA-Z]{1,3}(\\.[0-9a-zA-Z]{1,3}){0,2})?(\\+[a-z0-9]{1,3})?"
        }
        Scheme::Composer => {
            "v?[0-9]{1,2}(\\.[0-9]{1,2}){0,3}([-.]?(alpha|beta|RC|a|b|p|pl|patch|stable)[0-9]{0,2})?([-.]dev)?"
        }
        Scheme::Generic => "[0-9a-z._~-]{1,12}",
    }
}

/// `cases` cases, no regression files written into the source tree.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

fn check_laws(scheme: Scheme, a: &Version, b: &Version, c: &Version) -> Result<(), TestCaseError> {
    prop_assert_eq!(a.cmp(a), Ordering::Equal, "{} reflexive {}", scheme, a);
    prop_assert_eq!(
        a.cmp(b),
        b.cmp(a).reverse(),
        "{} antisymmetric {} {}",
        scheme,
        a,
        b
    );
    if a <= b && b <= c {
        prop_assert!(a <= c, "{} transitive {} <= {} <= {}", scheme, a, b, c);
    }
    if a == b && b == c {
        prop_assert!(a == c, "{} equality transitive {} {} {}", scheme, a, b, c);
    }
    Ok(())
}

fn laws_for(scheme: Scheme) -> impl Strategy<Value = (String, String, String)> {
    let g = grammar(scheme);
    (g, g, g)
}

macro_rules! order_law_tests {
    ($($name:ident => $scheme:expr),* $(,)?) => {
        proptest! {
            #![proptest_config(config(2000))]
            $(
                #[test]
                fn $name((a, b, c) in laws_for($scheme)) {
                    let parsed: Vec<Version> = [&a, &b, &c]
                        .iter()
                        .filter_map(|s| Version::parse($scheme, s).ok())
                        .collect();
                    prop_assume!(parsed.len() == 3);
                    check_laws($scheme, &parsed[0], &parsed[1], &parsed[2])?;
                }
            )*
        }
    };
}

order_law_tests! {
    order_laws_dpkg => Scheme::Dpkg,
    order_laws_rpm => Scheme::Rpm,
    order_laws_apk => Scheme::Apk,
    order_laws_apk3 => Scheme::Apk3,
    order_laws_pep440 => Scheme::Pep440,
    order_laws_semver => Scheme::Semver,
    order_laws_npm => Scheme::Npm,
    order_laws_go => Scheme::Go,
    order_laws_maven => Scheme::Maven,
    order_laws_rubygems => Scheme::RubyGems,
    order_laws_nuget => Scheme::NuGet,
    order_laws_composer => Scheme::Composer,
    order_laws_generic => Scheme::Generic,
}

proptest! {
    #![proptest_config(config(3000))]

    #[test]
    fn synthetic_arbitrary_strings_never_panic(a in any::<String>(), b in "[0-9a-zA-Z.~+:_^@ *!-]{0,24}") {
        for scheme in Scheme::ALL {
            let _ = compare(scheme, &a, &b);
            let _ = compare(scheme, &b, &b);
            let _ = compare(scheme, &a, &a);
            let events = [
                RangeEvent::Introduced(b.clone()),
                RangeEvent::Fixed(a.clone()),
                RangeEvent::LastAffected(b.clone()),
                RangeEvent::Limit(b.clone()),
            ];
            let _ = is_affected(scheme, &b, &events);
        }
        let _ = compare_npm_build(&a, &b);
        let _ = compare_npm_build(&b, &b);
        let _ = Scheme::for_ecosystem(&a);
    }

    #[test]
    fn synthetic_parse_errors_name_scheme(s in any::<String>()) {
        for scheme in Scheme::ALL {
            if let Err(e) = Version::parse(scheme, &s) {
                prop_assert!(e.to_string().contains(scheme.name()));
            }
        }
    }
}

/// All distinct version strings of a corpus pair table.
fn pool(file: &str) -> Vec<String> {
    let path = anchorage_testkit::corpus_dir().join("versions").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out: Vec<String> = text
        .lines()
        .skip(1)
        .flat_map(|l| {
            l.split('\t')
                .take(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[test]
fn order_laws_hold_on_every_triple_of_corpus_pools() {
    for (file, scheme) in [
        ("dpkg.tsv", Scheme::Dpkg),
        ("rpm.tsv", Scheme::Rpm),
        ("apk.tsv", Scheme::Apk),
        ("pep440.tsv", Scheme::Pep440),
        ("semver.tsv", Scheme::Npm),
    ] {
        let versions: Vec<Version> = pool(file)
            .iter()
            .map(|s| Version::parse(scheme, s).unwrap_or_else(|e| panic!("{e}")))
            .collect();
        assert!(versions.len() > 40, "{file}");
        // Sorting with a total preorder must put every pair in order.
        let mut sorted = versions.clone();
        sorted.sort();
        for w in sorted.windows(2) {
            assert!(w[0] <= w[1]);
        }
        for a in &versions {
            for b in &versions {
                let ab = a.cmp(b);
                assert_eq!(ab, b.cmp(a).reverse(), "{file}: {a} {b}");
                if ab == Ordering::Greater {
                    continue;
                }
                for c in &versions {
                    if b <= c {
                        assert!(a <= c, "{file}: {a} <= {b} <= {c} but not {a} <= {c}");
                    }
                }
            }
        }
    }
}

#[test]
fn synthetic_adversarial_long_inputs_finish_quickly() {
    let n = anchorage_version::MAX_VERSION_LEN;
    let inputs = [
        "1".repeat(n),
        "1.".repeat(n / 2),
        "-".repeat(n),
        "a1".repeat(n / 2),
        "1a".repeat(n / 2),
        "1-".repeat(n / 2),
        ".a".repeat(n / 2),
        "_p".repeat(n / 2),
        "~".repeat(n),
        "0".repeat(n),
        format!("1.0-{}", "a.".repeat(n / 2 - 3)),
    ];
    let start = std::time::Instant::now();
    for s in &inputs {
        for scheme in Scheme::ALL {
            let _ = compare(scheme, s, s);
            let _ = compare(scheme, s, "1.0");
        }
    }
    // Generous bound for a debug build on a shared machine; typical runs take milliseconds.
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}
