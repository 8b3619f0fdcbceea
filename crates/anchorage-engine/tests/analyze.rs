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

/// A bundle that STOPs on `malware/scans` and WARNs on `malware/scan_not_run`.
fn malware_bundle() -> serde_json::Value {
    serde_json::json!({
        "id": "malware", "name": "malware", "version": "1_0",
        "policies": [{"id": "p1", "name": "p1", "version": "1_0", "rules": [
            {"id": "r1", "gate": "malware", "trigger": "scans", "action": "STOP", "params": []},
            {"id": "r2", "gate": "malware", "trigger": "scan_not_run", "action": "WARN",
             "params": []}]}],
        "whitelists": [],
        "mappings": [{"id": "m1", "name": "all", "registry": "*", "repository": "*",
            "image": {"type": "tag", "value": "*"}, "policy_id": "p1", "whitelist_ids": []}],
        "whitelisted_images": [], "blacklisted_images": []
    })
}

async fn evaluate_malware(
    engine: &Engine,
    analysis: std::sync::Arc<anchorage_catalog::Analysis>,
) -> anchorage_policy::Evaluation {
    let bundle = std::sync::Arc::new(anchorage_policy::validate(&malware_bundle()).unwrap());
    let vulns = engine.vulnerabilities(analysis.clone()).await.unwrap();
    engine
        .evaluate(
            bundle,
            anchorage_engine::EvaluateRequest {
                analysis,
                report: std::sync::Arc::new(vulns.report),
                feeds: vulns.feeds,
                tag: None,
                image_digest: None,
                now: chrono::Utc::now(),
            },
        )
        .await
        .unwrap()
}

/// An OCI image of three layers (the Alpine 3.20 minirootfs; the EICAR test file; a copy of
/// the minirootfs tarball given a hash signature: the synthetic payloads) analysed with the
/// malware scan against a clamd started here: findings per path, the file over the size
/// limit reported, and the policy `malware` gate reading them.
#[tokio::test]
async fn synthetic_malware_layers_found_by_clamd_and_fed_to_policy() {
    if !anchorage_testkit::require_clamd(
        "synthetic_malware_layers_found_by_clamd_and_fed_to_policy",
    ) || !anchorage_testkit::require_tools("synthetic_malware_layers", &["umoci"])
    {
        return;
    }
    let work = tempfile::tempdir().unwrap();
    let layout = anchorage_testkit::build_malware_layout(work.path(), "malware").unwrap();
    let clamd_dir = work.path().join("clamd");
    std::fs::create_dir_all(&clamd_dir).unwrap();
    let clamd = anchorage_testkit::ClamdServer::start(
        &clamd_dir,
        &[(
            &anchorage_testkit::alpine_minirootfs(),
            "Anchorage.Test.Payload",
        )],
        25 << 20,
    )
    .unwrap();
    let source = format!("oci-dir:{}:malware", layout.display());

    let cache = tempfile::tempdir().unwrap();
    let mut s = AnalyzeSettings::default();
    s.acquire.cache_dir = cache.path().join("blobs");
    s.acquire.use_docker_config = false;
    let mut m = anchorage_malware::ScanOptions::new(anchorage_malware::ClamdEndpoint::Unix(
        clamd.socket().to_path_buf(),
    ));
    m.max_file_size = 4 << 20;
    s.malware = Some(m);
    let engine = Engine::new(EngineOptions {
        analysis: s,
        vulndb_dir: cache.path().join("vulndb"),
        sync: Default::default(),
    })
    .unwrap();
    let analysis = engine
        .analyze(&source, &AcquireRequest::default())
        .await
        .unwrap();
    assert_eq!(analysis.malware.len(), 1, "{:?}", analysis.warnings);
    let scan = &analysis.malware[0];
    let found: Vec<(&str, &str)> = scan
        .findings
        .iter()
        .map(|f| (f.path.as_str(), f.signature.as_str()))
        .collect();
    assert_eq!(
        found,
        [
            (
                "/opt/app/payload.tar.gz",
                "Anchorage.Test.Payload.UNOFFICIAL"
            ),
            ("/opt/eicar/eicar.com", anchorage_testkit::EICAR_SIGNATURE),
        ]
    );
    let regular = analysis
        .files
        .iter()
        .filter(|f| f.file_type == "file" && f.size > 0 && f.size <= 4 << 20)
        .count() as u64;
    assert_eq!(scan.files_scanned, regular);
    assert_eq!(scan.files_skipped, 1);
    let skipped: Vec<_> = analysis
        .warnings
        .iter()
        .filter(|w| w.stage == "malware")
        .collect();
    assert_eq!(skipped.len(), 1, "{skipped:?}");
    assert_eq!(skipped[0].path.as_deref(), Some("/lib/libcrypto.so.3"));
    // The analysis document carries the scan and reads back.
    let json = serde_json::to_value(&analysis).unwrap();
    assert_eq!(json["malware"][0]["scanner"], "clamav");
    let back: anchorage_catalog::Analysis = serde_json::from_value(json).unwrap();
    assert_eq!(back.malware, analysis.malware);

    let eval = evaluate_malware(&engine, std::sync::Arc::new(analysis)).await;
    assert_eq!(eval.final_action, anchorage_policy::Action::Stop);
    let mut ids: Vec<&str> = eval.rows.iter().map(|r| r.trigger_id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            // <scanner>+<signature>+<md5 hex of the path>
            format!(
                "clamav+Anchorage.Test.EICAR.UNOFFICIAL+{}",
                md5_hex("/opt/eicar/eicar.com")
            ),
            format!(
                "clamav+Anchorage.Test.Payload.UNOFFICIAL+{}",
                md5_hex("/opt/app/payload.tar.gz")
            ),
        ]
    );

    // Scanner configured but gone: no scan recorded, a warning naming the socket, and
    // scan_not_run fires.
    drop(clamd);
    let cache2 = tempfile::tempdir().unwrap();
    let mut s = AnalyzeSettings::default();
    s.acquire.cache_dir = cache2.path().join("blobs");
    s.acquire.use_docker_config = false;
    s.malware = Some(anchorage_malware::ScanOptions::new(
        anchorage_malware::ClamdEndpoint::Unix(clamd_dir.join("clamd.sock")),
    ));
    let engine = Engine::new(EngineOptions {
        analysis: s,
        vulndb_dir: cache2.path().join("vulndb"),
        sync: Default::default(),
    })
    .unwrap();
    let analysis = engine
        .analyze(&source, &AcquireRequest::default())
        .await
        .unwrap();
    assert!(analysis.malware.is_empty());
    assert!(
        analysis.warnings.iter().any(|w| w.stage == "malware"
            && w.message.contains(&format!(
                "cannot connect to clamd at unix:{}",
                clamd_dir.join("clamd.sock").display()
            ))),
        "{:?}",
        analysis.warnings
    );
    let eval = evaluate_malware(&engine, std::sync::Arc::new(analysis)).await;
    assert_eq!(eval.final_action, anchorage_policy::Action::Warn);
    assert_eq!(eval.rows.len(), 1);
    assert_eq!(eval.rows[0].trigger, "scan_not_run");
}

fn md5_hex(s: &str) -> String {
    use md5::Digest as _;
    hex::encode(md5::Md5::digest(s.as_bytes()))
}
