//! The whole pipeline over real corpus images: the Alpine 3.12.12 archives (skopeo-made
//! oci-archive and docker-archive) and a `dir:` tree of corpus files.

#![allow(clippy::unwrap_used)]

use anchorage_engine::{AnalyzeSettings, Engine, EngineError, EngineOptions};
use anchorage_image::AcquireRequest;
use anchorage_types::ErrorKind;
use anchorage_types::PackageType;

use anchorage_testkit::corpus_dir as corpus;

fn engine(cache: &tempfile::TempDir) -> Engine {
    let mut s = AnalyzeSettings::default();
    s.acquire.cache_dir = cache.path().join("blobs");
    s.acquire.use_docker_config = false;
    Engine::new(EngineOptions {
        analysis: s,
        vulndb_dir: cache.path().join("vulndb"),
        sync: Default::default(),
    })
    .unwrap()
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

#[tokio::test]
async fn analyzes_both_archive_formats_of_alpine_312_alike() {
    let cache = tempfile::tempdir().unwrap();
    let engine = engine(&cache);
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
        let a = engine
            .analyze(&src, &AcquireRequest::default())
            .await
            .unwrap();
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

#[tokio::test]
async fn analyzes_a_dir_source() {
    let cache = tempfile::tempdir().unwrap();
    let src = format!("dir:{}", corpus().join("images/debian-bookworm").display());
    let a = engine(&cache)
        .analyze(&src, &AcquireRequest::default())
        .await
        .unwrap();
    assert_eq!(a.source.scheme, "dir");
    assert_eq!(a.distro.id, "debian");
    let debs = a
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Dpkg)
        .count();
    assert_eq!(debs, 88);
}

#[tokio::test]
async fn a_missing_archive_is_an_error_naming_the_source() {
    let cache = tempfile::tempdir().unwrap();
    let missing = cache.path().join("no-such-image.tar");
    let src = format!("oci-archive:{}", missing.display());
    let err = engine(&cache)
        .analyze(&src, &AcquireRequest::default())
        .await
        .unwrap_err();
    assert!(matches!(err, EngineError::Acquire { .. }), "{err}");
    assert_eq!(err.kind(), ErrorKind::NotFound);
    assert!(err.is_image_error());
    assert!(err.to_string().contains("no-such-image.tar"), "{err}");
    // The message names the step and the source; the cause is in `source()` only, so a
    // printed chain shows it once.
    let cause = std::error::Error::source(&err).unwrap().to_string();
    assert!(!err.to_string().contains(&cause), "{err} repeats {cause}");
}

/// The whole pipeline through one engine: sync the corpus feeds (local sources), analyze the
/// bookworm app image, match, evaluate a bundle, re-match and diff.
#[tokio::test]
async fn one_engine_syncs_analyzes_matches_evaluates_and_rematches() {
    let cache = tempfile::tempdir().unwrap();
    let engine = engine(&cache);
    let c = corpus();
    let sources: Vec<anchorage_vulndb::FeedSource> = [
        format!(
            "debian-tracker:{}",
            c.join("distro/debian-tracker").display()
        ),
        format!("osv:{}", c.join("osv").display()),
        "osv:/nonexistent/feed.zip".to_string(),
    ]
    .iter()
    .map(|s| s.parse().unwrap())
    .collect();
    let synced = engine.sync_feeds(&sources).await;
    assert_eq!(synced.len(), 3);
    assert!(synced[0].1.as_ref().unwrap().record_count > 0);
    assert!(synced[1].1.as_ref().unwrap().record_count > 0);
    let failed = synced[2].1.as_ref().unwrap_err();
    assert_eq!(failed.kind(), ErrorKind::NotFound);
    assert!(!failed.is_image_error());
    let status = engine.feed_status().await.unwrap();
    assert_eq!(status.sources.len(), 3);
    assert!(
        status
            .sources
            .iter()
            .any(|s| s.key.contains("/nonexistent/feed.zip") && s.last_error.is_some())
    );

    let src = format!("dir:{}", c.join("images/debian-bookworm-app").display());
    let analysis = std::sync::Arc::new(
        engine
            .analyze(&src, &AcquireRequest::default())
            .await
            .unwrap(),
    );
    let vulns = engine.vulnerabilities(analysis.clone()).await.unwrap();
    assert_eq!(vulns.sources_synced, 3);
    assert!(
        vulns.report.findings.iter().any(
            |f| f.package.name == "lodash" && f.severity == anchorage_types::Severity::Critical
        ),
        "the app image carries a critical lodash finding"
    );

    let bundle = serde_json_bundle();
    let bundle = std::sync::Arc::new(anchorage_policy::validate(&bundle).unwrap());
    let report = std::sync::Arc::new(vulns.report.clone());
    let eval = engine
        .evaluate(
            bundle,
            anchorage_engine::EvaluateRequest {
                analysis: analysis.clone(),
                report,
                feeds: vulns.feeds.clone(),
                tag: None,
                image_digest: None,
                now: chrono::Utc::now(),
            },
        )
        .await
        .unwrap();
    assert_eq!(eval.final_action, anchorage_policy::Action::Stop);
    assert!(eval.rows.iter().any(|r| r.gate == "vulnerabilities"));

    let (again, diff) = engine
        .rematch(analysis.clone(), vulns.report.findings.clone())
        .await
        .unwrap();
    assert_eq!(again.findings, vulns.report.findings);
    assert!(diff.is_empty(), "same store, same findings");
    let (_, from_nothing) = engine.rematch(analysis, Vec::new()).await.unwrap();
    assert_eq!(from_nothing.added.len(), vulns.report.findings.len());
}

/// A bundle that STOPs on any critical vulnerability.
fn serde_json_bundle() -> serde_json::Value {
    serde_json::json!({
        "id": "vuln-bundle", "name": "vulns", "version": "1_0",
        "policies": [{"id": "p1", "name": "p1", "version": "1_0", "rules": [{
            "id": "r1", "gate": "vulnerabilities", "trigger": "package", "action": "STOP",
            "params": [
                {"name": "package_type", "value": "all"},
                {"name": "severity_comparison", "value": ">="},
                {"name": "severity", "value": "critical"}
            ]
        }]}],
        "whitelists": [],
        "mappings": [{"name": "all", "registry": "*", "repository": "*",
                      "image": {"type": "tag", "value": "*"}, "policy_id": "p1", "whitelist_ids": []}]
    })
}
