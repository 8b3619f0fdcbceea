//! Accuracy against Syft 1.18.1 on the corpus image debian-bookworm-app: our python, npm and
//! java packages (name, version, type, first location path and its layer) equal Syft's, except
//! for the differences listed with their reason in `fixtures/lang/syft-differences.tsv`.
#![allow(clippy::unwrap_used)]

use crate::lang_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use anchorage_types::PackageType;
use lang_support::{corpus, corpus_app_fs, fixture, run};

type Key = (String, String, String); // type, name, version
type Loc = (String, String); // first location path, layer diff_id

fn syft_packages() -> BTreeMap<Key, Loc> {
    let gz = std::fs::read(corpus().join("syft/debian-bookworm-app.syft.json.gz")).unwrap();
    let mut json = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut json)
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    let mut out = BTreeMap::new();
    for a in doc["artifacts"].as_array().unwrap() {
        let ty = match a["type"].as_str().unwrap() {
            "python" => "python",
            "npm" => "npm",
            "java-archive" => "java",
            _ => continue,
        };
        let loc = &a["locations"][0];
        out.insert(
            (
                ty.to_string(),
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap().to_string(),
            ),
            (
                loc["path"].as_str().unwrap().to_string(),
                loc["layerID"].as_str().unwrap().to_string(),
            ),
        );
    }
    out
}

fn our_packages() -> BTreeMap<Key, Loc> {
    let fs = corpus_app_fs();
    let (pkgs, ctx) = run(&fs);
    assert!(
        ctx.warnings.is_empty(),
        "warnings on the corpus image: {:?}",
        ctx.warnings
    );
    let mut out = BTreeMap::new();
    for p in pkgs {
        let ty = match p.package_type {
            PackageType::Python => "python",
            PackageType::Npm => "npm",
            PackageType::Java => "java",
            other => panic!("unexpected {other} package {} on the corpus image", p.name),
        };
        let loc = &p.locations[0];
        let key = (ty.to_string(), p.name.clone(), p.version.clone());
        let prev = out.insert(
            key.clone(),
            (
                loc.path.clone(),
                loc.layer
                    .as_ref()
                    .map(|d| d.to_string())
                    .unwrap_or_default(),
            ),
        );
        assert!(prev.is_none(), "{key:?} reported twice");
    }
    out
}

#[test]
fn syft_reference_counts_are_as_documented() {
    let syft = syft_packages();
    let count = |t: &str| syft.keys().filter(|k| k.0 == t).count();
    assert_eq!((count("npm"), count("python"), count("java")), (53, 11, 5));
}

#[test]
fn language_packages_equal_syft_except_documented_differences() {
    let syft = syft_packages();
    let ours = our_packages();
    let mut found: BTreeSet<String> = BTreeSet::new();
    for (k, loc) in &syft {
        match ours.get(k) {
            None => {
                found.insert(format!("missing\t{}\t{}\t{}\t{}", k.0, k.1, k.2, loc.0));
            }
            Some(o) if o != loc => {
                found.insert(format!(
                    "location\t{}\t{}\t{}\t{} {}",
                    k.0, k.1, k.2, o.0, o.1
                ));
            }
            Some(_) => {}
        }
    }
    for (k, loc) in &ours {
        if !syft.contains_key(k) {
            found.insert(format!("extra\t{}\t{}\t{}\t{}", k.0, k.1, k.2, loc.0));
        }
    }
    let documented: BTreeSet<String> = std::fs::read_to_string(fixture("syft-differences.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|l| l.rsplit_once('\t').unwrap().0.to_string()) // drop the reason column
        .collect();
    let undocumented: Vec<_> = found.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&found).collect();
    assert!(
        undocumented.is_empty() && stale.is_empty(),
        "undocumented: {undocumented:#?}\nstale: {stale:#?}"
    );
    // What is compared for equality: everything Syft found whose files are in the corpus.
    let equal = syft
        .iter()
        .filter(|(k, l)| ours.get(*k) == Some(*l))
        .count();
    assert_eq!(
        equal,
        4 + 6 + 2,
        "npm 4 (root + 3 installed), python 6, java 2 match exactly"
    );
}
