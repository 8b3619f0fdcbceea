//! The registry client against a misbehaving HTTP server (synthetic inputs): wrong digests,
//! truncated blobs, 5xx and 429 answers, schema 1 manifests, missing platforms.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on bad fixtures"
)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::runtime::{acquire_blocking, list_tags_blocking};
use anchorage_image::{AcquireError, AcquireOptions};
use anchorage_testkit::{FakeResponse, FakeServer, Request};
use sha2::{Digest as _, Sha256};

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn digest(b: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(b)))
}

struct Image {
    manifest: String,
    config: String,
    layer: Vec<u8>,
}

fn synthetic_image() -> Image {
    let layer = b"synthetic layer bytes, not a real tar".to_vec();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["{}"]}}}}"#,
        digest(&layer)
    );
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}]}}"#,
        digest(config.as_bytes()),
        config.len(),
        digest(&layer),
        layer.len()
    );
    Image {
        manifest,
        config,
        layer,
    }
}

/// Serves `img` correctly; `layer` decides what the layer request gets.
fn serve(img: Image, layer: impl Fn(&[u8]) -> FakeResponse + Send + Sync + 'static) -> FakeServer {
    let img = Arc::new(img);
    FakeServer::start(move |req: &Request| {
        if req.path == "/v2/" {
            FakeResponse::new(200, "{}")
        } else if req.path.contains("/manifests/") {
            FakeResponse::new(200, img.manifest.clone()).header("Content-Type", OCI_MANIFEST)
        } else if req.path.ends_with(&digest(img.config.as_bytes())) {
            FakeResponse::new(200, img.config.clone())
        } else if req.path.ends_with(&digest(&img.layer)) {
            layer(&img.layer)
        } else {
            FakeResponse::new(404, r#"{"errors":[{"code":"BLOB_UNKNOWN"}]}"#)
        }
    })
    .unwrap()
}

fn options(cache: &Path, server: &FakeServer) -> AcquireOptions {
    AcquireOptions {
        cache_dir: cache.to_path_buf(),
        insecure_registries: vec![server.host()],
        use_docker_config: false,
        retries: 2,
        retry_base_delay: Duration::from_millis(10),
        retry_max_delay: Duration::from_secs(2),
        ..AcquireOptions::default()
    }
}

fn cached_blobs(cache: &Path) -> usize {
    std::fs::read_dir(cache.join("sha256"))
        .map(|d| d.count())
        .unwrap_or(0)
}

#[test]
fn synthetic_image_from_a_well_behaved_server() {
    let cache = tempfile::tempdir().unwrap();
    let server = serve(synthetic_image(), |l| FakeResponse::new(200, l.to_vec()));
    let img = acquire_blocking(
        &format!("{}/x/y:t", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap();
    assert_eq!(img.layers.len(), 1);
    assert_eq!(
        std::fs::read(&img.layers[0].path).unwrap(),
        synthetic_image().layer
    );
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.iter().any(|p| p == "/v2/x/y/manifests/t"),
        "{paths:?}"
    );
    let manifest_req = server
        .requests()
        .into_iter()
        .find(|r| r.path.contains("/manifests/"))
        .unwrap();
    let accept = manifest_req.header("accept").unwrap();
    for mt in [
        OCI_MANIFEST,
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ] {
        assert!(accept.contains(mt), "{accept}");
    }
    assert!(!accept.contains("distribution.manifest.v1"), "{accept}");
}

#[test]
fn synthetic_wrong_digest_blob_is_rejected_and_deleted() {
    let cache = tempfile::tempdir().unwrap();
    let server = serve(synthetic_image(), |l| {
        let mut bad = l.to_vec();
        bad[0] ^= 0x20;
        FakeResponse::new(200, bad)
    });
    let err = acquire_blocking(
        &format!("{}/x/y:t", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap_err();
    assert!(matches!(err, AcquireError::Blob { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&digest(&synthetic_image().layer)) && msg.contains("blob deleted"),
        "{msg}"
    );
    // only the (good) config blob is cached; no temp file is left
    assert_eq!(cached_blobs(cache.path()), 1);
    assert_eq!(
        std::fs::read_dir(cache.path().join("tmp")).unwrap().count(),
        0
    );
}

#[test]
fn synthetic_truncated_blob_is_retried_then_an_error() {
    let cache = tempfile::tempdir().unwrap();
    let server = serve(synthetic_image(), |l| {
        let mut r = FakeResponse::new(200, l[..l.len() / 2].to_vec());
        r.content_length = Some(l.len());
        r
    });
    let err = acquire_blocking(
        &format!("{}/x/y:t", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&digest(&synthetic_image().layer)), "{msg}");
    let layer_requests = server
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&digest(&synthetic_image().layer)))
        .count();
    assert_eq!(layer_requests, 3, "one try plus two retries");
    assert_eq!(cached_blobs(cache.path()), 1);
    assert_eq!(
        std::fs::read_dir(cache.path().join("tmp")).unwrap().count(),
        0
    );
}

#[test]
fn synthetic_5xx_then_success_is_retried() {
    let cache = tempfile::tempdir().unwrap();
    let failures = Arc::new(AtomicUsize::new(0));
    let f = failures.clone();
    let server = serve(synthetic_image(), move |l| {
        if f.fetch_add(1, Ordering::SeqCst) < 2 {
            FakeResponse::new(503, "busy")
        } else {
            FakeResponse::new(200, l.to_vec())
        }
    });
    let img = acquire_blocking(
        &format!("{}/x/y:t", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap();
    assert_eq!(img.layers.len(), 1);
    assert_eq!(failures.load(Ordering::SeqCst), 3);

    // more failures than retries: a clear error naming the registry
    let cache2 = tempfile::tempdir().unwrap();
    let always = serve(synthetic_image(), |_| FakeResponse::new(500, "down"));
    let err = acquire_blocking(
        &format!("{}/x/y:t", always.host()),
        &options(cache2.path(), &always),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&always.host()) && msg.contains("500"), "{msg}");
}

#[test]
fn synthetic_429_with_retry_after_is_honoured() {
    let cache = tempfile::tempdir().unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let server = serve(synthetic_image(), move |l| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            FakeResponse::new(429, "slow down").header("Retry-After", "1")
        } else {
            FakeResponse::new(200, l.to_vec())
        }
    });
    let start = Instant::now();
    acquire_blocking(
        &format!("{}/x/y:t", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After ignored"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[test]
fn synthetic_schema1_manifest_is_unsupported() {
    let cache = tempfile::tempdir().unwrap();
    let server = FakeServer::start(|req: &Request| {
        if req.path == "/v2/" {
            FakeResponse::new(200, "{}")
        } else {
            FakeResponse::new(
                200,
                r#"{"schemaVersion":1,"name":"x/y","tag":"t","fsLayers":[],"history":[]}"#,
            )
            .header(
                "Content-Type",
                "application/vnd.docker.distribution.manifest.v1+prettyjws",
            )
        }
    })
    .unwrap();
    let err = acquire_blocking(
        &format!("{}/x/y:t", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap_err();
    assert!(
        matches!(err, AcquireError::UnsupportedSchema1 { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("schema 1 is unsupported"), "{err}");
}

#[test]
fn synthetic_index_without_the_platform_lists_the_available_ones() {
    let cache = tempfile::tempdir().unwrap();
    let index = r#"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json","manifests":[
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":10,"platform":{"os":"linux","architecture":"arm","variant":"v7"}},
        {"mediaType":"application/vnd.docker.distribution.manifest.v2+json","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":10,"platform":{"os":"windows","architecture":"amd64"}}]}"#;
    let server = FakeServer::start(move |req: &Request| {
        if req.path == "/v2/" {
            FakeResponse::new(200, "{}")
        } else {
            FakeResponse::new(200, index).header(
                "Content-Type",
                "application/vnd.docker.distribution.manifest.list.v2+json",
            )
        }
    })
    .unwrap();
    let err = acquire_blocking(
        &format!("{}/x/y:t", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        matches!(err, AcquireError::NoMatchingPlatform { .. }),
        "{msg}"
    );
    assert!(
        msg.contains("linux/amd64") && msg.contains("linux/arm/v7, windows/amd64"),
        "{msg}"
    );
}

#[test]
fn synthetic_manifest_not_matching_its_pinned_digest_is_rejected() {
    let cache = tempfile::tempdir().unwrap();
    let server = serve(synthetic_image(), |l| FakeResponse::new(200, l.to_vec()));
    let other = "sha256:3333333333333333333333333333333333333333333333333333333333333333";
    let err = acquire_blocking(
        &format!("{}/x/y@{other}", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap_err();
    assert!(err.to_string().contains(other), "{err}");
}

#[test]
fn synthetic_oversized_blob_is_refused_before_download() {
    let cache = tempfile::tempdir().unwrap();
    let server = serve(synthetic_image(), |l| FakeResponse::new(200, l.to_vec()));
    let mut opts = options(cache.path(), &server);
    opts.max_blob_size = 10;
    let err = acquire_blocking(&format!("{}/x/y:t", server.host()), &opts).unwrap_err();
    assert!(err.to_string().contains("larger than the limit"), "{err}");
}

#[test]
fn synthetic_tag_list_pagination_is_followed() {
    let cache = tempfile::tempdir().unwrap();
    let server = FakeServer::start(|req: &Request| match req.path.as_str() {
        "/v2/" => FakeResponse::new(200, "{}"),
        "/v2/x/y/tags/list" => FakeResponse::new(200, r#"{"name":"x/y","tags":["a","b"]}"#)
            .header("Link", r#"</v2/x/y/tags/list?n=2&last=b>; rel="next""#),
        "/v2/x/y/tags/list?n=2&last=b" => FakeResponse::new(200, r#"{"name":"x/y","tags":["c"]}"#),
        _ => FakeResponse::new(404, "{}"),
    })
    .unwrap();
    let tags = list_tags_blocking(
        &format!("{}/x/y", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap();
    assert_eq!(tags, ["a", "b", "c"]);
    let err = list_tags_blocking("dir:/tmp", &options(cache.path(), &server)).unwrap_err();
    assert!(err.to_string().contains("registry reference"), "{err}");
}

#[test]
fn synthetic_per_repository_basic_challenge_after_an_open_ping() {
    let cache = tempfile::tempdir().unwrap();
    let img = Arc::new(synthetic_image());
    // base64("u:p")
    let server = FakeServer::start(move |req: &Request| {
        if req.path == "/v2/" {
            return FakeResponse::new(200, "{}");
        }
        if req.header("authorization") != Some("Basic dTpw") {
            return FakeResponse::new(401, "{}").header("WWW-Authenticate", r#"Basic realm="r""#);
        }
        if req.path.contains("/manifests/") {
            FakeResponse::new(200, img.manifest.clone()).header("Content-Type", OCI_MANIFEST)
        } else if req.path.ends_with(&digest(img.config.as_bytes())) {
            FakeResponse::new(200, img.config.clone())
        } else {
            FakeResponse::new(200, img.layer.clone())
        }
    })
    .unwrap();
    let mut opts = options(cache.path(), &server);
    let err = acquire_blocking(&format!("{}/x/y:t", server.host()), &opts).unwrap_err();
    assert!(
        err.to_string().contains("no credentials configured"),
        "{err}"
    );
    opts.credentials = vec![anchorage_image::RegistryCredential {
        registry: server.host(),
        username: "u".into(),
        password: secrecy::SecretString::from("p".to_string()),
    }];
    let image = acquire_blocking(&format!("{}/x/y:t", server.host()), &opts).unwrap();
    assert_eq!(image.layers.len(), 1);
}

#[test]
fn synthetic_connection_refused_is_retried_then_reported() {
    let cache = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let host = format!("127.0.0.1:{port}");
    let opts = AcquireOptions {
        cache_dir: cache.path().to_path_buf(),
        use_docker_config: false,
        retries: 2,
        retry_base_delay: Duration::from_millis(50),
        credentials: vec![anchorage_image::RegistryCredential {
            registry: host.clone(),
            username: "u".into(),
            password: secrecy::SecretString::from("hunter2-secret".to_string()),
        }],
        ..AcquireOptions::default()
    };
    assert!(!format!("{opts:?}").contains("hunter2-secret"));
    let start = Instant::now();
    let err = acquire_blocking(&format!("{host}/x/y:t"), &opts).unwrap_err();
    // two backoff sleeps (50 ms, 100 ms) happened before giving up
    assert!(start.elapsed() >= Duration::from_millis(150), "no retries");
    let msg = err.to_string();
    assert!(msg.contains(&host) && msg.contains("https://"), "{msg}");
    assert!(!msg.contains("hunter2-secret"));
}

#[test]
fn synthetic_registry_image_with_a_diff_id_count_mismatch_is_an_error() {
    // Before, the registry source silently skipped every diff_id check of such an image.
    let cache = tempfile::tempdir().unwrap();
    let mut img = synthetic_image();
    img.config =
        r#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#
            .to_string();
    img.manifest = img.manifest.replace(
        &img.manifest[img.manifest.find("sha256:").unwrap()..][..71],
        &digest(img.config.as_bytes()),
    );
    let config_len = img.config.len();
    img.manifest = img.manifest.replacen(
        &format!(
            r#""size":{}"#,
            img.manifest
                .split(r#""size":"#)
                .nth(1)
                .unwrap()
                .split('}')
                .next()
                .unwrap()
        ),
        &format!(r#""size":{config_len}"#),
        1,
    );
    let server = serve(img, |l| FakeResponse::new(200, l.to_vec()));
    let err = acquire_blocking(
        &format!("{}/x/y:t", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("lists 1 layers but the config has 0 diff_ids"),
        "{err}"
    );
    assert_eq!(
        cached_blobs(cache.path()),
        1,
        "only the config was downloaded"
    );
}

#[test]
fn synthetic_oversized_token_response_is_refused() {
    let cache = tempfile::tempdir().unwrap();
    let img = Arc::new(synthetic_image());
    let server = FakeServer::start(move |req: &Request| {
        let host = req.header("host").unwrap_or("").to_string();
        if req.path.starts_with("/token") {
            // 8 MiB of token: before, the whole body was buffered and accepted
            let token = "a".repeat(8 << 20);
            return FakeResponse::new(200, format!(r#"{{"token":"{token}"}}"#));
        }
        if req.header("authorization").is_none() {
            return FakeResponse::new(401, "{}").header(
                "WWW-Authenticate",
                &format!(r#"Bearer realm="http://{host}/token",service="s""#),
            );
        }
        if req.path.contains("/manifests/") {
            FakeResponse::new(200, img.manifest.clone()).header("Content-Type", OCI_MANIFEST)
        } else if req.path.ends_with(&digest(img.config.as_bytes())) {
            FakeResponse::new(200, img.config.clone())
        } else {
            FakeResponse::new(200, img.layer.clone())
        }
    })
    .unwrap();
    let err = acquire_blocking(
        &format!("{}/x/y:t", server.host()),
        &options(cache.path(), &server),
    )
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("larger than the limit of 1048576 bytes"),
        "{err}"
    );
}
