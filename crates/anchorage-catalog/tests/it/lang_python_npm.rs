//! Python and JavaScript catalogers on the corpus image and on real lockfiles.
#![allow(clippy::unwrap_used)]

use crate::lang_support;

use anchorage_catalog::{Package, PackageMetadata};
use anchorage_image::MemFs;
use anchorage_types::PackageType;
use lang_support::{corpus_app_fs, fixture, run, run_with};

fn of_type(pkgs: &[Package], t: PackageType) -> Vec<&Package> {
    pkgs.iter().filter(|p| p.package_type == t).collect()
}

#[test]
fn python_same_project_installed_twice_is_reported_at_each_location() {
    let (pkgs, _) = run(&corpus_app_fs());
    let mut yaml: Vec<_> = of_type(&pkgs, PackageType::Python)
        .into_iter()
        .filter(|p| p.name == "pyyaml")
        .map(|p| {
            (
                p.version.as_str(),
                p.locations[0].path.as_str(),
                p.purl.as_str(),
            )
        })
        .collect();
    yaml.sort();
    assert_eq!(
        yaml,
        vec![
            (
                "5.3.1",
                "/opt/app/venv/lib/python3.11/site-packages/PyYAML-5.3.1.egg-info/PKG-INFO",
                "pkg:pypi/pyyaml@5.3.1"
            ),
            (
                "6.0",
                "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
                "pkg:pypi/pyyaml@6.0"
            ),
        ]
    );
}

#[test]
fn python_record_files_are_absolute_with_hex_digests() {
    let (pkgs, _) = run(&corpus_app_fs());
    let req = pkgs.iter().find(|p| p.name == "requests").unwrap();
    let PackageMetadata::Python(m) = &req.metadata else {
        panic!("python metadata")
    };
    assert_eq!(m.format.as_deref(), Some("dist-info"));
    assert_eq!(
        m.site_packages_root.as_deref(),
        Some("/opt/app/venv/lib/python3.11/site-packages")
    );
    let init = m
        .files
        .iter()
        .find(|f| f.path == "/opt/app/venv/lib/python3.11/site-packages/requests/__init__.py")
        .expect("RECORD lists requests/__init__.py");
    let d = init.digest.as_ref().unwrap();
    assert_eq!(d.algorithm, "sha256");
    assert_eq!(d.value.len(), 64);
    assert!(m.files.iter().all(|f| f.path.starts_with('/')));
    assert!(
        req.locations
            .iter()
            .any(|l| l.path.ends_with("requests-2.19.1.dist-info/RECORD"))
    );
    assert_eq!(req.licenses, vec!["Apache 2.0".to_string()]);
    assert!(m.requires_dist.iter().any(|r| r.starts_with("urllib3")));
}

#[test]
fn python_names_are_pep503_normalized_and_licenses_read() {
    let (pkgs, _) = run(&corpus_app_fs());
    let j = pkgs.iter().find(|p| p.name == "jinja2").unwrap();
    assert_eq!(j.purl, "pkg:pypi/jinja2@2.10");
    let y = pkgs
        .iter()
        .find(|p| p.name == "pyyaml" && p.version == "5.3.1")
        .unwrap();
    assert_eq!(y.licenses, vec!["MIT".to_string()]);
    let PackageMetadata::Python(m) = &y.metadata else {
        panic!()
    };
    assert_eq!(m.format.as_deref(), Some("egg-info"));
    assert_eq!(m.author.as_deref(), Some("Kirill Simonov"));
}

#[test]
fn npm_installed_manifests_and_lockfile_do_not_double_count() {
    let (pkgs, _) = run(&corpus_app_fs());
    let npm = of_type(&pkgs, PackageType::Npm);
    assert_eq!(npm.len(), 53);
    let express = npm.iter().find(|p| p.name == "express").unwrap();
    assert_eq!(
        express.locations[0].path,
        "/opt/app/node/node_modules/express/package.json"
    );
    assert_eq!(express.purl, "pkg:npm/express@4.17.1");
    assert_eq!(express.licenses, vec!["MIT".to_string()]);
    let ms: Vec<_> = npm
        .iter()
        .filter(|p| p.name == "ms")
        .map(|p| p.version.as_str())
        .collect();
    assert_eq!(
        ms.len(),
        2,
        "ms 2.0.0 and the nested send/node_modules/ms 2.1.1"
    );
    let accepts = npm.iter().find(|p| p.name == "accepts").unwrap();
    let PackageMetadata::Npm(m) = &accepts.metadata else {
        panic!()
    };
    assert!(m.integrity.as_deref().unwrap().starts_with("sha512-"));
}

fn lock_fs(path: &str, fixture_name: &str) -> MemFs {
    let mut fs = MemFs::new();
    fs.add_file(path, std::fs::read(fixture(fixture_name)).unwrap());
    fs
}

#[test]
fn yarn_v1_lock_real_file() {
    let (pkgs, ctx) = run(&lock_fs("/app/yarn.lock", "yarn-v1.lock"));
    assert!(ctx.warnings.is_empty());
    let mut got: Vec<_> = pkgs
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "@actions/core@1.11.1",
            "@actions/exec@1.1.1",
            "@actions/http-client@2.2.3",
            "@actions/io@1.1.3",
            "@fastify/busboy@2.1.1",
            "abbrev@1.1.1",
            "isexe@2.0.0",
            "ms@2.1.3",
            "tunnel@0.0.6",
            "undici@5.29.0",
        ]
    );
    let abbrev = pkgs.iter().find(|p| p.name == "abbrev").unwrap();
    let PackageMetadata::Npm(m) = &abbrev.metadata else {
        panic!()
    };
    assert!(m.resolved.as_deref().unwrap().contains("abbrev-1.1.1.tgz"));
}

#[test]
fn yarn_berry_lock_real_file() {
    let (pkgs, ctx) = run(&lock_fs("/app/yarn.lock", "yarn-berry.lock"));
    assert!(ctx.warnings.is_empty());
    let mut got: Vec<_> = pkgs
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "@actions/core@1.11.1",
            "@actions/exec@1.1.1",
            "@actions/http-client@2.2.3",
            "@actions/io@1.1.3",
            "@fastify/busboy@2.1.1",
            "abbrev@1.1.1",
            "isexe@2.0.0",
            "ms@2.1.3",
            "tunnel@0.0.6",
            "undici@5.29.0",
        ],
        "the workspace root entry is not a package"
    );
    let core = pkgs.iter().find(|p| p.name == "@actions/core").unwrap();
    assert_eq!(core.purl, "pkg:npm/%40actions/core@1.11.1");
}

#[test]
fn pnpm_v6_lock_real_file() {
    // dev dependencies only when asked for
    let (pkgs, _) = run(&lock_fs("/app/pnpm-lock.yaml", "pnpm-lock-v6.yaml"));
    assert!(!pkgs.iter().any(|p| p.name == "isexe"), "{pkgs:?}");
    let limits = anchorage_catalog::LangLimits {
        include_dev_dependencies: true,
        ..anchorage_catalog::LangLimits::default()
    };
    let (pkgs, ctx) = run_with(
        &lock_fs("/app/pnpm-lock.yaml", "pnpm-lock-v6.yaml"),
        &limits,
    );
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut got: Vec<_> = pkgs
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "@actions/core@1.11.1",
            "@actions/exec@1.1.1",
            "@actions/http-client@2.2.3",
            "@actions/io@1.1.3",
            "@fastify/busboy@2.1.1",
            "abbrev@1.1.1",
            "isexe@2.0.0",
            "ms@2.1.3",
            "tunnel@0.0.6",
            "undici@5.29.0",
        ]
    );
    let dev: Vec<_> = pkgs
        .iter()
        .filter(|p| matches!(&p.metadata, PackageMetadata::Npm(m) if m.dev))
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(dev, ["isexe"]);
}

#[test]
fn package_lock_v1_nested_dependencies() {
    // Synthetic: lockfileVersion 1 files are no longer produced by current npm.
    let lock = br#"{"name":"x","version":"1.0.0","lockfileVersion":1,"dependencies":{
        "a":{"version":"1.0.0","integrity":"sha1-x","dependencies":{"b":{"version":"2.0.0","dev":true}}},
        "c":{"version":"file:../c"}}}"#;
    let mut fs = MemFs::new();
    fs.add_file("/srv/npm-shrinkwrap.json", lock.to_vec());
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty());
    let names = |pkgs: &[anchorage_catalog::Package]| {
        let mut got: Vec<_> = pkgs
            .iter()
            .map(|p| format!("{}@{}", p.name, p.version))
            .collect();
        got.sort();
        got
    };
    // b is a dev dependency: left out unless asked for
    assert_eq!(names(&pkgs), ["a@1.0.0"]);
    let limits = anchorage_catalog::LangLimits {
        include_dev_dependencies: true,
        ..anchorage_catalog::LangLimits::default()
    };
    let (pkgs, _) = run_with(&fs, &limits);
    assert_eq!(names(&pkgs), ["a@1.0.0", "b@2.0.0"]);
}

#[test]
fn synthetic_malformed_lockfiles_become_warnings() {
    let mut fs = MemFs::new();
    fs.add_file("/a/package-lock.json", b"{\"packages\": {".to_vec());
    fs.add_file("/b/pnpm-lock.yaml", b"packages:\n  - [unclosed".to_vec());
    fs.add_file("/c/package.json", b"\xff\xfe not json".to_vec());
    fs.add_file("/d/yarn.lock", b"\"@@@\":\n  version\n\n:::\n".to_vec());
    fs.add_file(
        "/e/site-packages/x-1.dist-info/METADATA",
        b"Summary: no name\n".to_vec(),
    );
    let (pkgs, ctx) = run(&fs);
    assert!(pkgs.is_empty(), "{pkgs:?}");
    let paths: Vec<_> = ctx
        .warnings
        .iter()
        .filter_map(|w| w.path.as_deref())
        .collect();
    for p in [
        "/a/package-lock.json",
        "/b/pnpm-lock.yaml",
        "/c/package.json",
        "/e/site-packages/x-1.dist-info/METADATA",
    ] {
        assert!(paths.contains(&p), "no warning for {p}: {:?}", ctx.warnings);
    }
}

#[test]
fn synthetic_huge_manifest_is_refused_with_a_warning() {
    let mut fs = MemFs::new();
    let mut big = b"{\"name\":\"big\",\"version\":\"1.0.0\",\"x\":\"".to_vec();
    big.resize(3 * 1024 * 1024, b'a');
    big.extend(b"\"}");
    fs.add_file("/big/package.json", big);
    let limits = anchorage_catalog::LangLimits {
        max_manifest_bytes: 1024 * 1024,
        ..Default::default()
    };
    let (pkgs, ctx) = lang_support::run_with(&fs, &limits);
    assert!(pkgs.is_empty());
    assert!(
        ctx.warnings
            .iter()
            .any(|w| w.message.contains("exceeds the read limit")),
        "{:?}",
        ctx.warnings
    );
}
