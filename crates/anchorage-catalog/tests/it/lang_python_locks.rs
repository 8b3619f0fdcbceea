//! Python lock and manifest files written by the real tools (fixtures/lang/PROVENANCE.md):
//! pip-compile, pipenv, Poetry, PDM and uv locked the same project; every lock must give the
//! same runtime set (`expected-runtime.txt`, `uv export --no-dev`) and, with development
//! dependencies asked for, the full set (`expected-all.txt`, `uv export`).
#![allow(clippy::unwrap_used)]

use crate::lang_support;

use anchorage_catalog::{LangLimits, PackageMetadata};
use anchorage_image::MemFs;
use anchorage_types::PackageType;
use lang_support::{fixture, run_with};

fn expected(name: &str) -> Vec<String> {
    let text = std::fs::read_to_string(fixture(&format!("python-locks/{name}"))).unwrap();
    let mut v: Vec<String> = text.lines().map(str::to_string).collect();
    v.sort();
    v
}

/// pip-compile and pipenv evaluate markers when they lock: `colorama; sys_platform ==
/// "win32"` is left out on Linux (pipenv records it with version `*`), while Poetry, PDM and uv
/// lock for every platform.
fn without_colorama(v: Vec<String>) -> Vec<String> {
    v.into_iter()
        .filter(|p| !p.starts_with("colorama=="))
        .collect()
}

fn pins(image_path: &str, fixture_name: &str, dev: bool) -> Vec<String> {
    let mut fs = MemFs::new();
    fs.add_file(
        image_path,
        std::fs::read(fixture(&format!("python-locks/{fixture_name}"))).unwrap(),
    );
    let limits = LangLimits {
        include_dev_dependencies: dev,
        ..LangLimits::default()
    };
    let (pkgs, ctx) = run_with(&fs, &limits);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut v: Vec<String> = pkgs
        .iter()
        .filter(|p| p.package_type == PackageType::Python)
        .map(|p| {
            assert_eq!(p.locations[0].path, image_path);
            assert_eq!(p.purl, format!("pkg:pypi/{}@{}", p.name, p.version));
            let PackageMetadata::Python(m) = &p.metadata else {
                panic!("{p:?}")
            };
            assert!(m.format.is_some());
            format!("{}=={}", p.name, p.version)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn pip_compile_requirements_with_hashes_and_markers() {
    // pip-compile pins the runtime closure only
    assert_eq!(
        pins("/app/requirements.txt", "requirements.txt", false),
        without_colorama(expected("expected-runtime.txt"))
    );
    // the pip-compile input, stored under a requirements name: only its one exact pin counts
    assert_eq!(
        pins("/app/requirements-base.txt", "requirements.in", false),
        vec!["requests==2.31.0".to_string()]
    );
}

#[test]
fn pipenv_lock_default_and_develop() {
    assert_eq!(
        pins("/app/Pipfile.lock", "Pipfile.lock", false),
        without_colorama(expected("expected-runtime.txt"))
    );
    assert_eq!(
        pins("/app/Pipfile.lock", "Pipfile.lock", true),
        without_colorama(expected("expected-all.txt"))
    );
}

#[test]
fn poetry2_lock_groups() {
    assert_eq!(
        pins("/app/poetry.lock", "poetry.lock", false),
        expected("expected-runtime.txt")
    );
    assert_eq!(
        pins("/app/poetry.lock", "poetry.lock", true),
        expected("expected-all.txt")
    );
}

#[test]
fn pdm_lock_groups() {
    assert_eq!(
        pins("/app/pdm.lock", "pdm.lock", false),
        expected("expected-runtime.txt")
    );
    assert_eq!(
        pins("/app/pdm.lock", "pdm.lock", true),
        expected("expected-all.txt")
    );
}

#[test]
fn uv_lock_project_not_reported_dev_group_excluded() {
    assert_eq!(
        pins("/app/uv.lock", "uv.lock", false),
        expected("expected-runtime.txt")
    );
    assert_eq!(
        pins("/app/uv.lock", "uv.lock", true),
        expected("expected-all.txt")
    );
}
