//! `anchorage sbom` end to end on real corpus images: the Alpine 3.12.12 oci-archive and
//! docker-archive made by skopeo, and a `dir:` tree of the debian-bookworm-app corpus files.
//! Every CycloneDX and SPDX document is validated against the official JSON schemas.

#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use anchorage_testkit::corpus_dir as corpus;

fn run(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anchorage"))
        .arg("sbom")
        .args(args)
        .arg("--cache-dir")
        .arg(cache)
        .env("ANCHORAGE_LOG", "error")
        .output()
        .unwrap()
}

fn schema(name: &str) -> Value {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../anchorage-sbom/tests/schemas")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

fn assert_valid(format: &str, doc: &Value) {
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
            schema("spdx.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
            schema("jsf-0.82.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let root = match format {
        "cyclonedx-json" => schema("bom-1.6.schema.json"),
        _ => schema("spdx-2.3.schema.json"),
    };
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&root)
        .unwrap();
    let errors: Vec<String> = validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(20)
        .collect();
    assert!(errors.is_empty(), "{format}: {errors:#?}");
}

fn sources() -> Vec<String> {
    let a = corpus().join("images/archives");
    vec![
        format!("oci-archive:{}", a.join("alpine-3.12.oci.tar").display()),
        format!(
            "docker-archive:{}",
            a.join("alpine-3.12.docker.tar").display()
        ),
    ]
}

#[test]
fn every_format_of_both_alpine_archives() {
    let cache = tempfile::tempdir().unwrap();
    for src in sources() {
        for format in ["json", "cyclonedx-json", "spdx-json", "table"] {
            let out = run(&[&src, "-o", format], cache.path());
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{src} {format}: {stderr}");
            match format {
                "table" => {
                    let text = String::from_utf8(out.stdout).unwrap();
                    // The 14 apk packages (binary-classifier rows may come on top).
                    let apk = text.lines().skip(1).filter(|r| r.ends_with(" apk")).count();
                    assert_eq!(apk, 14, "{text}");
                    assert!(text.lines().next().unwrap().starts_with("NAME"));
                }
                "json" => {
                    let a = anchorage_sbom::decode_native(&mut out.stdout.as_slice()).unwrap();
                    let apk = a
                        .packages
                        .iter()
                        .filter(|p| p.package_type.as_str() == "apkg");
                    assert_eq!(apk.count(), 14);
                    assert_eq!(a.distro.version_id.as_deref(), Some("3.12.12"));
                }
                _ => {
                    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
                    assert_valid(format, &doc);
                    let text = String::from_utf8(out.stdout).unwrap();
                    assert!(text.contains(
                        "pkg:apk/alpine/busybox@1.31.1-r22?arch=x86_64&distro=alpine-3.12.12"
                    ));
                }
            }
        }
    }
}

#[test]
fn dir_source_of_the_app_image_files_validates_in_both_standards() {
    let cache = tempfile::tempdir().unwrap();
    let src = format!(
        "dir:{}",
        corpus().join("images/debian-bookworm-app").display()
    );
    for format in ["cyclonedx-json", "spdx-json"] {
        let out = run(&[&src, "-o", format], cache.path());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_valid(format, &doc);
        let text = doc.to_string();
        assert!(
            text.contains("pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12"),
            "{format}"
        );
        assert!(text.contains("pkg:pypi/requests@2.19.1"), "{format}");
        assert!(text.contains("pkg:npm/lodash@4.17.4"), "{format}");
    }
    let out = run(&[&src, "-o", "table"], cache.path());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().filter(|l| l.ends_with(" deb")).count(), 123);
}

#[test]
fn file_option_writes_the_document() {
    let cache = tempfile::tempdir().unwrap();
    let target = cache.path().join("sbom.cdx.json");
    let src = &sources()[0];
    let out = run(
        &[
            src,
            "-o",
            "cyclonedx-json",
            "--file",
            target.to_str().unwrap(),
        ],
        cache.path(),
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty());
    let doc: Value = serde_json::from_slice(&std::fs::read(&target).unwrap()).unwrap();
    assert_eq!(doc["bomFormat"], "CycloneDX");
    assert_eq!(doc["metadata"]["component"]["type"], "container");
}

#[test]
fn unknown_format_and_missing_source_fail_with_exit_code_2() {
    let cache = tempfile::tempdir().unwrap();
    let out = run(&[&sources()[0], "-o", "xml"], cache.path());
    assert_eq!(out.status.code(), Some(2));
    let missing = cache.path().join("absent.tar");
    let out = run(
        &[&format!("oci-archive:{}", missing.display())],
        cache.path(),
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("absent.tar"));
}

#[test]
fn development_dependencies_only_when_asked_for() {
    // The real composer.lock written by Debian's composer 2.5.5 (catalog fixtures, see their
    // PROVENANCE.md): psr/log is under `packages-dev`.
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../anchorage-catalog/tests/fixtures/lang/composer.lock"),
        dir.path().join("composer.lock"),
    )
    .unwrap();
    let src = format!("dir:{}", dir.path().display());
    let purls = |extra: &[&str]| {
        let mut args = vec![src.as_str(), "-o", "cyclonedx-json"];
        args.extend_from_slice(extra);
        let out = run(&args, cache.path());
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut v: Vec<String> = doc["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["purl"].as_str().map(str::to_string))
            .collect();
        v.sort();
        v
    };
    let default = purls(&[]);
    assert_eq!(default.len(), 3, "{default:?}");
    assert!(!default.iter().any(|p| p.contains("psr/log")));
    let all = purls(&["--include-dev-dependencies"]);
    assert_eq!(all.len(), 4, "{all:?}");
    assert!(all.contains(&"pkg:composer/psr/log@1.1.4".to_string()));
}
