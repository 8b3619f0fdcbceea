//! Lockfile and manifest fidelity on files written by the real tools (fixtures/lang/PROVENANCE.md): pnpm 7's
//! v5.4 keys with peer suffixes, npm 6's lockfileVersion 1 aliases, yarn 1 aliases, and
//! development dependencies left out unless asked for.
#![allow(clippy::unwrap_used)]

use crate::lang_support;

use anchorage_catalog::{LangLimits, Package};
use anchorage_image::MemFs;
use lang_support::{fixture, run, run_with};

fn fs_of(path: &str, bytes: Vec<u8>) -> MemFs {
    let mut fs = MemFs::new();
    fs.add_file(path, bytes);
    fs
}

fn names(pkgs: &[Package]) -> Vec<String> {
    let mut v: Vec<String> = pkgs
        .iter()
        .map(|p| format!("{} {}", p.name, p.purl))
        .collect();
    v.sort();
    v
}

fn with_dev() -> LangLimits {
    LangLimits {
        include_dev_dependencies: true,
        ..LangLimits::default()
    }
}

#[test]
fn pnpm_v5_peer_suffixed_keys() {
    let fs = fs_of(
        "/app/pnpm-lock.yaml",
        std::fs::read(fixture("pnpm-lock-v5.yaml")).unwrap(),
    );
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    // `/acorn-jsx/5.3.2_acorn@8.8.0` is acorn-jsx 5.3.2; ms is a dev dependency
    assert_eq!(
        names(&pkgs),
        [
            "acorn pkg:npm/acorn@8.8.0",
            "acorn-jsx pkg:npm/acorn-jsx@5.3.2",
        ]
    );
    let (pkgs, _) = run_with(&fs, &with_dev());
    assert_eq!(pkgs.len(), 3);
}

#[test]
fn synthetic_pnpm_lock_with_two_yaml_documents() {
    // pnpm 9+ can put an environment lockfile document before the project's; the project
    // document here is the real pnpm 7 file
    let mut bytes = b"---\nlockfileVersion: '9.0'\nimporters:\n  .:\n    configDependencies: {}\npackages:\n  pnpm@9.15.0:\n    resolution: {integrity: sha512-x}\n---\n".to_vec();
    bytes.extend(std::fs::read(fixture("pnpm-lock-v5.yaml")).unwrap());
    let (pkgs, ctx) = run(&fs_of("/app/pnpm-lock.yaml", bytes));
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    assert_eq!(
        names(&pkgs),
        [
            "acorn pkg:npm/acorn@8.8.0",
            "acorn-jsx pkg:npm/acorn-jsx@5.3.2",
            "pnpm pkg:npm/pnpm@9.15.0",
        ]
    );
}

#[test]
fn npm_v1_alias_is_the_real_package() {
    let fs = fs_of(
        "/app/package-lock.json",
        std::fs::read(fixture("package-lock-v1-alias.json")).unwrap(),
    );
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    assert_eq!(
        names(&pkgs),
        ["case pkg:npm/case@1.6.3", "ms pkg:npm/ms@2.1.3"]
    );
    let (pkgs, _) = run_with(&fs, &with_dev());
    assert!(pkgs.iter().any(|p| p.name == "isexe"));
}

#[test]
fn yarn_v1_alias_named_from_resolved_tarball() {
    let fs = fs_of(
        "/app/yarn.lock",
        std::fs::read(fixture("yarn-v1-alias.lock")).unwrap(),
    );
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    // yarn.lock does not mark dev dependencies, so isexe stays
    assert_eq!(
        names(&pkgs),
        [
            "case pkg:npm/case@1.6.3",
            "isexe pkg:npm/isexe@2.0.0",
            "ms pkg:npm/ms@2.1.3"
        ]
    );
}

#[test]
fn dist_info_directory_in_any_case() {
    let meta = lang_support::corpus().join(
        "images/debian-bookworm-app/opt/app/venv/lib/python3.11/site-packages/requests-2.19.1.dist-info/METADATA",
    );
    let fs = fs_of(
        "/opt/venv/lib/python3.11/site-packages/requests-2.19.1.DIST-INFO/METADATA",
        std::fs::read(meta).unwrap(),
    );
    let (pkgs, _) = run(&fs);
    assert_eq!(names(&pkgs), ["requests pkg:pypi/requests@2.19.1"]);
}

#[test]
fn go_mod_local_replace_has_no_version() {
    // the go.mod the go-modules-replace.elf fixture was built from (go 1.19.8 accepted it)
    let fs = fs_of(
        "/src/app/go.mod",
        std::fs::read(fixture("inputs/go-fixture/app/go.mod")).unwrap(),
    );
    let (pkgs, _) = run(&fs);
    let greet = pkgs.iter().find(|p| p.name == "example.org/greet").unwrap();
    assert_eq!(greet.version, "", "{greet:?}");
}

#[test]
fn github_actions_from_attrs_sdist_workflows() {
    // the four workflows shipped in PyPI's attrs 23.2.0 sdist
    let dir = fixture("gha-attrs-23.2.0");
    let mut fs = MemFs::new();
    let mut want = std::collections::BTreeSet::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        let body = std::fs::read_to_string(&p).unwrap();
        // independent expectation: every `uses: X@Y` line of the file
        for line in body.lines() {
            if let Some((_, u)) = line.split_once("uses: ") {
                want.insert(format!("{name} {}", u.trim()));
            }
        }
        fs.add_file(&format!("/src/attrs/.github/workflows/{name}"), body);
    }
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let got: std::collections::BTreeSet<String> = pkgs
        .iter()
        .filter(|p| p.package_type == anchorage_types::PackageType::GithubAction)
        .map(|p| {
            let file = p.locations[0].path.rsplit('/').next().unwrap();
            format!("{file} {}@{}", p.name, p.version)
        })
        .collect();
    assert_eq!(got, want);
    let checkout = pkgs.iter().find(|p| p.name == "actions/checkout").unwrap();
    assert_eq!(checkout.purl, "pkg:github/actions/checkout@v4");
}
