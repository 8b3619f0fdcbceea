//! The registry client against a real loopback `docker-registry` holding images built from the
//! corpus (Alpine 3.20 minirootfs) in OCI and Docker v2s2 form, plus a multi-platform index.
//! Needs docker-registry, skopeo, umoci, htpasswd and openssl: with `CI=true` their absence
//! fails the tests, locally it skips them with a note.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on bad fixtures"
)]

use std::path::{Path, PathBuf};

use crate::runtime::{acquire_blocking, list_tags_blocking, test_runtime};
use anchorage_image::{
    AcquireError, AcquireOptions, AcquireRequest, AcquiredImage, Acquirer, RegistryCredential,
};
use anchorage_testkit::{
    Auth, Format, Registry, build_multiarch_layout, push_oci_layout, require_tools,
};
use base64::Engine as _;
use secrecy::SecretString;
use sha2::{Digest as _, Sha256};

const TOOLS: &[&str] = &["docker-registry", "skopeo", "umoci", "htpasswd", "openssl"];
const USER: &str = "corpususer";
const PASS: &str = "corpuspass";

fn options(cache: &Path, registry: &Registry) -> AcquireOptions {
    AcquireOptions {
        cache_dir: cache.to_path_buf(),
        insecure_registries: vec![registry.host()],
        use_docker_config: false,
        retry_base_delay: std::time::Duration::from_millis(20),
        ..AcquireOptions::default()
    }
}

fn with_creds(
    mut o: AcquireOptions,
    registry: &Registry,
    user: &str,
    pass: &str,
) -> AcquireOptions {
    o.credentials = vec![RegistryCredential {
        registry: registry.host(),
        username: user.into(),
        password: SecretString::from(pass.to_string()),
    }];
    o
}

fn sha256_file(p: &Path) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(p).unwrap()))
    )
}

/// Every blob is in the cache and hashes to its digest; the manifest digest is its sha256.
fn assert_verified(img: &AcquiredImage) {
    let m = img.manifest_json.as_ref().unwrap();
    assert_eq!(
        img.manifest_digest.as_ref().unwrap().to_string(),
        format!("sha256:{}", hex::encode(Sha256::digest(m.as_bytes())))
    );
    assert_eq!(img.layers.len(), 1);
    for l in &img.layers {
        assert_eq!(sha256_file(&l.path), l.digest.as_ref().unwrap().to_string());
        assert_eq!(std::fs::metadata(&l.path).unwrap().len(), l.size);
        assert!(l.diff_id.is_some());
    }
}

struct Pushed {
    registry: Registry,
    _work: tempfile::TempDir,
}

fn start_and_push(auth: Auth) -> Pushed {
    let registry = Registry::start(auth).unwrap();
    let work = tempfile::tempdir().unwrap();
    let layout: PathBuf = build_multiarch_layout(work.path(), "alpine-multi").unwrap();
    let push = |tag: &str, dest: &str, f: Format| {
        push_oci_layout(&registry, &layout, tag, "corpus/alpine", dest, f)
            .unwrap_or_else(|e| panic!("push {dest}: {e}\n{}", registry.log()));
    };
    push("alpine-amd64", "oci", Format::Oci);
    push("alpine-amd64", "v2s2", Format::V2s2);
    push("alpine-multi", "multi", Format::Oci);
    push("alpine-multi", "multi-v2s2", Format::V2s2);
    Pushed {
        registry,
        _work: work,
    }
}

#[test]
fn basic_auth_registry_serves_oci_v2s2_and_indexes() {
    if !require_tools("basic_auth_registry_serves_oci_v2s2_and_indexes", TOOLS) {
        return;
    }
    let p = start_and_push(Auth::Basic {
        username: USER.into(),
        password: PASS.into(),
    });
    let reg = &p.registry;
    let cache = tempfile::tempdir().unwrap();
    let opts = with_creds(options(cache.path(), reg), reg, USER, PASS);
    let host = reg.host();

    let oci = acquire_blocking(&format!("registry:{host}/corpus/alpine:oci"), &opts).unwrap();
    assert_eq!(oci.scheme, "registry");
    assert_eq!(
        oci.reference.as_deref(),
        Some(format!("{host}/corpus/alpine:oci").as_str())
    );
    assert_verified(&oci);
    assert!(
        !oci.manifest_json
            .as_ref()
            .unwrap()
            .contains("application/vnd.docker")
    );
    assert_eq!(
        oci.layers[0].media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(oci.platform.to_string(), "linux/amd64");
    assert!(oci.index_digest.is_none());

    let v2 = acquire_blocking(&format!("{host}/corpus/alpine:v2s2"), &opts).unwrap();
    assert_verified(&v2);
    assert!(
        v2.manifest_json
            .as_ref()
            .unwrap()
            .contains("application/vnd.docker.distribution.manifest.v2+json")
    );
    assert_eq!(
        v2.layers[0].media_type,
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );
    // same layer content in both formats
    assert_eq!(v2.layers[0].diff_id, oci.layers[0].diff_id);

    // pinned by digest
    let pinned = acquire_blocking(
        &format!(
            "{host}/corpus/alpine@{}",
            oci.manifest_digest.as_ref().unwrap()
        ),
        &opts,
    )
    .unwrap();
    assert_eq!(pinned.config_digest, oci.config_digest);

    for tag in ["multi", "multi-v2s2"] {
        let amd = acquire_blocking(&format!("{host}/corpus/alpine:{tag}"), &opts).unwrap();
        assert_verified(&amd);
        assert!(amd.index_digest.is_some(), "{tag}");
        assert_eq!(amd.platform.to_string(), "linux/amd64");
        let mut arm_opts = opts.clone();
        arm_opts.platform = Some("linux/arm64".parse().unwrap());
        let arm = acquire_blocking(&format!("{host}/corpus/alpine:{tag}"), &arm_opts).unwrap();
        assert_eq!(arm.platform.to_string(), "linux/arm64");
        assert_ne!(arm.manifest_digest, amd.manifest_digest);
        assert_eq!(arm.index_digest, amd.index_digest);
        let mut s390 = opts.clone();
        s390.platform = Some("linux/s390x".parse().unwrap());
        let err = acquire_blocking(&format!("{host}/corpus/alpine:{tag}"), &s390).unwrap_err();
        assert!(
            matches!(err, AcquireError::NoMatchingPlatform { .. }),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("linux/s390x")
                && msg.contains("linux/amd64")
                && msg.contains("linux/arm64"),
            "{msg}"
        );
    }

    let mut tags = list_tags_blocking(&format!("{host}/corpus/alpine"), &opts).unwrap();
    tags.sort();
    assert_eq!(tags, ["multi", "multi-v2s2", "oci", "v2s2"]);

    let err = acquire_blocking(&format!("{host}/corpus/alpine:missing"), &opts).unwrap_err();
    assert!(matches!(err, AcquireError::NotFound { .. }), "{err}");
}

#[test]
fn basic_auth_failures_and_docker_config_credentials() {
    if !require_tools("basic_auth_failures_and_docker_config_credentials", TOOLS) {
        return;
    }
    let reg = Registry::start(Auth::Basic {
        username: USER.into(),
        password: PASS.into(),
    })
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let layout = anchorage_testkit::build_alpine_layout(work.path(), "alpine", "amd64").unwrap();
    push_oci_layout(
        &reg,
        &layout,
        "alpine",
        "corpus/alpine",
        "latest",
        Format::Oci,
    )
    .unwrap();
    let host = reg.host();
    let src = format!("{host}/corpus/alpine");
    let cache = tempfile::tempdir().unwrap();

    let err = acquire_blocking(&src, &options(cache.path(), &reg)).unwrap_err();
    assert!(matches!(err, AcquireError::Unauthorized { .. }), "{err}");
    assert!(err.to_string().contains("no credentials"), "{err}");

    let wrong = with_creds(options(cache.path(), &reg), &reg, USER, "wrong-secret");
    let err = acquire_blocking(&src, &wrong).unwrap_err();
    let msg = format!("{err} {err:?}");
    assert!(msg.contains("rejected") && msg.contains(&host), "{msg}");
    assert!(!msg.contains("wrong-secret"), "secret leaked: {msg}");

    // credentials from a Docker config file
    let docker = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASS}"));
    std::fs::write(
        docker.path().join("config.json"),
        format!(r#"{{"auths":{{"http://{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let mut from_file = options(cache.path(), &reg);
    from_file.use_docker_config = true;
    from_file.docker_config_path = Some(docker.path().join("config.json"));
    let img = acquire_blocking(&src, &from_file).unwrap();
    assert_verified(&img);

    // without the insecure opt-in the client insists on HTTPS, which a plain-HTTP registry
    // cannot speak
    let mut strict = with_creds(options(cache.path(), &reg), &reg, USER, PASS);
    strict.insecure_registries.clear();
    strict.retries = 0;
    let err = acquire_blocking(&src, &strict).unwrap_err();
    assert!(matches!(err, AcquireError::Registry { .. }), "{err}");
    assert!(err.to_string().contains(&host), "{err}");
}

#[test]
fn token_auth_flow_fetches_and_caches_a_scoped_token() {
    if !require_tools("token_auth_flow_fetches_and_caches_a_scoped_token", TOOLS) {
        return;
    }
    let reg = Registry::start(Auth::Token {
        credentials: Some((USER.into(), PASS.into())),
    })
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let layout = anchorage_testkit::build_alpine_layout(work.path(), "alpine", "amd64").unwrap();
    push_oci_layout(
        &reg,
        &layout,
        "alpine",
        "corpus/alpine-token",
        "latest",
        Format::Oci,
    )
    .unwrap_or_else(|e| panic!("{e}\n{}", reg.log()));
    let host = reg.host();
    let cache = tempfile::tempdir().unwrap();
    let tokens = reg.token_server().unwrap();
    let before = tokens.requests().len();

    let opts = with_creds(options(cache.path(), &reg), &reg, USER, PASS);
    let img = acquire_blocking(&format!("{host}/corpus/alpine-token:latest"), &opts)
        .unwrap_or_else(|e| panic!("{e}\n{}", reg.log()));
    assert_verified(&img);
    let reqs = tokens.requests();
    // manifest, config and layer requests shared one cached token
    assert_eq!(reqs.len() - before, 1, "{reqs:?}");
    let last = reqs.last().unwrap();
    assert!(
        last.path
            .contains("scope=repository%3Acorpus%2Falpine-token%3Apull"),
        "{}",
        last.path
    );
    assert!(
        last.path.contains("service=anchorage-test-registry"),
        "{}",
        last.path
    );

    let tags = list_tags_blocking(&format!("{host}/corpus/alpine-token"), &opts).unwrap();
    assert_eq!(tags, ["latest"]);

    // the token endpoint refuses anonymous requests
    let err = acquire_blocking(
        &format!("{host}/corpus/alpine-token:latest"),
        &options(cache.path(), &reg),
    )
    .unwrap_err();
    assert!(matches!(err, AcquireError::Unauthorized { .. }), "{err}");
    assert!(err.to_string().contains("token endpoint"), "{err}");
}

/// One long-lived [`Acquirer`] (as the engine holds) reuses its bearer token across two
/// acquisitions and a tag listing: the token endpoint is asked once. Its registry client also
/// resolves tags to digests with a manifest HEAD and lists tags.
#[test]
fn long_lived_acquirer_reuses_its_token_and_resolves_digests() {
    if !require_tools(
        "long_lived_acquirer_reuses_its_token_and_resolves_digests",
        TOOLS,
    ) {
        return;
    }
    let reg = Registry::start(Auth::Token {
        credentials: Some((USER.into(), PASS.into())),
    })
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let layout = anchorage_testkit::build_alpine_layout(work.path(), "alpine", "amd64").unwrap();
    for tag in ["latest", "second"] {
        push_oci_layout(
            &reg,
            &layout,
            "alpine",
            "corpus/alpine-long",
            tag,
            Format::Oci,
        )
        .unwrap_or_else(|e| panic!("{e}\n{}", reg.log()));
    }
    let host = reg.host();
    let cache = tempfile::tempdir().unwrap();
    let tokens = reg.token_server().unwrap();
    let before = tokens.requests().len();
    let acquirer =
        Acquirer::new(with_creds(options(cache.path(), &reg), &reg, USER, PASS)).unwrap();
    let rt = test_runtime();
    let first = rt
        .block_on(acquirer.acquire(
            &format!("{host}/corpus/alpine-long:latest"),
            &AcquireRequest::default(),
        ))
        .unwrap_or_else(|e| panic!("{e}\n{}", reg.log()));
    let second = rt
        .block_on(acquirer.acquire(
            &format!("{host}/corpus/alpine-long:second"),
            &AcquireRequest::default(),
        ))
        .unwrap();
    assert_verified(&first);
    assert_eq!(first.manifest_digest, second.manifest_digest);
    let mut tags = rt
        .block_on(
            acquirer
                .registry()
                .list_tags(&format!("{host}/corpus/alpine-long")),
        )
        .unwrap();
    tags.sort();
    assert_eq!(tags, ["latest", "second"]);
    let resolved = rt
        .block_on(
            acquirer
                .registry()
                .resolve_digest(&format!("registry:{host}/corpus/alpine-long:second")),
        )
        .unwrap();
    assert_eq!(Some(&resolved), first.manifest_digest.as_ref());
    let reqs = tokens.requests();
    assert_eq!(
        reqs.len() - before,
        1,
        "two acquisitions, a tag listing and a digest resolution share one token: {reqs:?}"
    );

    // A one-off acquisition (a new client) asks for its own token: the cache is per client.
    acquire_blocking(
        &format!("{host}/corpus/alpine-long:latest"),
        &with_creds(options(cache.path(), &reg), &reg, USER, PASS),
    )
    .unwrap();
    assert_eq!(tokens.requests().len() - before, 2);

    let missing = rt
        .block_on(
            acquirer
                .registry()
                .resolve_digest(&format!("{host}/corpus/alpine-long:nope")),
        )
        .unwrap_err();
    assert!(
        matches!(missing, AcquireError::NotFound { .. }),
        "{missing}"
    );
    let not_registry = rt
        .block_on(acquirer.registry().resolve_digest("dir:/tmp"))
        .unwrap_err();
    assert!(
        not_registry
            .to_string()
            .contains("needs a registry reference"),
        "{not_registry}"
    );
}

/// Layer blobs download in parallel, never more than `max_parallel_downloads` at once, and
/// the layers keep the manifest's order. A scripted registry (synthetic blobs) holds each blob
/// response for a while and records how many are in flight.
#[test]
fn synthetic_layer_downloads_are_parallel_and_bounded() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use anchorage_testkit::{FakeResponse, FakeServer, Request};

    let digest = |b: &[u8]| format!("sha256:{}", hex::encode(Sha256::digest(b)));
    let layers: Vec<Vec<u8>> = (0..6)
        .map(|i| format!("synthetic layer {i}").into_bytes())
        .collect();
    let diff_ids: Vec<String> = layers
        .iter()
        .map(|l| format!("\"{}\"", digest(l)))
        .collect();
    let config = format!(
        r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[{}]}}}}"#,
        diff_ids.join(",")
    );
    let descs: Vec<String> = layers
        .iter()
        .map(|l| {
            format!(
                r#"{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"{}","size":{}}}"#,
                digest(l),
                l.len()
            )
        })
        .collect();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"{}","size":{}}},"layers":[{}]}}"#,
        digest(config.as_bytes()),
        config.len(),
        descs.join(",")
    );
    let run = |parallel: usize| {
        let in_flight = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let (f, p) = (in_flight.clone(), peak.clone());
        let (manifest, config, served) = (manifest.clone(), config.clone(), layers.clone());
        let server = FakeServer::start(move |req: &Request| {
            if req.path == "/v2/" {
                return FakeResponse::new(200, "{}");
            }
            if req.path.contains("/manifests/") {
                return FakeResponse::new(200, manifest.clone())
                    .header("Content-Type", "application/vnd.oci.image.manifest.v1+json");
            }
            if req.path.ends_with(&digest(config.as_bytes())) {
                return FakeResponse::new(200, config.clone());
            }
            if let Some(l) = served.iter().find(|l| req.path.ends_with(&digest(l))) {
                let now = f.fetch_add(1, Ordering::SeqCst) + 1;
                p.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(300));
                f.fetch_sub(1, Ordering::SeqCst);
                return FakeResponse::new(200, l.clone());
            }
            FakeResponse::new(404, "{}")
        })
        .unwrap();
        let cache = tempfile::tempdir().unwrap();
        let opts = AcquireOptions {
            cache_dir: cache.path().to_path_buf(),
            insecure_registries: vec![server.host()],
            use_docker_config: false,
            max_parallel_downloads: parallel,
            ..AcquireOptions::default()
        };
        let img = acquire_blocking(&format!("{}/x/y:t", server.host()), &opts).unwrap();
        let got: Vec<Vec<u8>> = img
            .layers
            .iter()
            .map(|l| std::fs::read(&l.path).unwrap())
            .collect();
        assert_eq!(got, layers, "layers keep the manifest order");
        assert!(img.layers.iter().all(|l| l.diff_id.is_some()));
        peak.load(Ordering::SeqCst)
    };
    assert_eq!(run(1), 1, "one download at a time");
    assert_eq!(
        run(3),
        3,
        "at most three at a time, and three do run together"
    );
}
