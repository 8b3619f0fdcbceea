//! The whole pipeline over real corpus images: the Alpine 3.12.12 archives (skopeo-made
//! oci-archive and docker-archive) and a `dir:` tree of corpus files.

#![allow(clippy::unwrap_used)]

use std::path::PathBuf;

use anchorage_engine::{AnalyzeSettings, EngineError, analyze};
use anchorage_types::PackageType;

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

fn settings(cache: &tempfile::TempDir) -> AnalyzeSettings {
    let mut s = AnalyzeSettings::default();
    s.acquire.cache_dir = cache.path().to_path_buf();
    s.acquire.use_docker_config = false;
    s
}

/// The 14 packages of Alpine 3.12.12 as its own apk database lists them (name, version).
fn expected_alpine_312() -> Vec<(String, String)> {
    let db =
        std::fs::read_to_string(corpus().join("images/alpine-3.12/lib/apk/db/installed")).unwrap();
    let mut out = Vec::new();
    let mut name = None;
    for line in db.lines() {
        if let Some(n) = line.strip_prefix("P:") {
            name = Some(n.to_string());
        }
        if let Some(v) = line.strip_prefix("V:") {
            out.push((name.take().unwrap(), v.to_string()));
        }
    }
    out.sort();
    out
}

#[test]
fn analyzes_both_archive_formats_of_alpine_312_alike() {
    let cache = tempfile::tempdir().unwrap();
    let archives = corpus().join("images/archives");
    let mut results = Vec::new();
    for scheme in ["oci-archive", "docker-archive"] {
        let ext = if scheme == "oci-archive" {
            "oci"
        } else {
            "docker"
        };
        let src = format!(
            "{scheme}:{}",
            archives.join(format!("alpine-3.12.{ext}.tar")).display()
        );
        let a = analyze(&src, &settings(&cache)).unwrap();
        assert_eq!(a.source.scheme, scheme);
        assert_eq!(a.distro.id, "alpine");
        assert_eq!(a.distro.version_id.as_deref(), Some("3.12.12"));
        let mut pkgs: Vec<(String, String)> = a
            .packages
            .iter()
            .filter(|p| p.package_type == PackageType::Apk)
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        pkgs.sort();
        assert_eq!(pkgs, expected_alpine_312(), "{scheme}");
        assert!(
            a.files
                .iter()
                .any(|f| f.path == "/bin/busybox" && f.sha256.is_some())
        );
        assert!(
            a.packages
                .iter()
                .filter(|p| p.package_type == PackageType::Apk)
                .all(|p| p.purl.starts_with("pkg:apk/alpine/"))
        );
        results.push(a);
    }
    // Same image content, so the same packages and files whatever the archive format.
    assert_eq!(results[0].packages.len(), results[1].packages.len());
    assert_eq!(results[0].files.len(), results[1].files.len());
    assert_eq!(
        results[0].source.config_digest,
        results[1].source.config_digest
    );
}

#[test]
fn analyzes_a_dir_source() {
    let cache = tempfile::tempdir().unwrap();
    let src = format!("dir:{}", corpus().join("images/debian-bookworm").display());
    let a = analyze(&src, &settings(&cache)).unwrap();
    assert_eq!(a.source.scheme, "dir");
    assert_eq!(a.distro.id, "debian");
    let debs = a
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Dpkg)
        .count();
    assert_eq!(debs, 88);
}

#[test]
fn a_missing_archive_is_an_error_naming_the_source() {
    let cache = tempfile::tempdir().unwrap();
    let missing = cache.path().join("no-such-image.tar");
    let src = format!("oci-archive:{}", missing.display());
    let err = analyze(&src, &settings(&cache)).unwrap_err();
    assert!(matches!(err, EngineError::Acquire { .. }), "{err}");
    assert!(err.to_string().contains("no-such-image.tar"), "{err}");
}
