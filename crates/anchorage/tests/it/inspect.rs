//! `anchorage inspect` end to end: the built binary against the corpus archives and a loopback
//! registry (docker-registry, skopeo, umoci, htpasswd, openssl; with `CI=true` their absence is
//! a failure, locally a skip).
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on bad fixtures"
)]

use std::path::Path;
use std::process::{Command, Output};

use anchorage_testkit::{
    Auth, Format, Registry, build_multiarch_layout, push_oci_layout, require_tools,
};
use base64::Engine as _;
use serde_json::Value;

use anchorage_testkit::corpus_dir as corpus;

fn inspect(args: &[&str], cache: &Path, envs: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anchorage"));
    cmd.arg("inspect").args(args).arg("--cache-dir").arg(cache);
    cmd.env_remove("ANCHORAGE_REGISTRY_USERNAME");
    cmd.env("DOCKER_CONFIG", cache.join("no-docker-config"));
    for (k, v) in envs {
        cmd.env(k, v);
    }
    cmd.output().unwrap()
}

fn json(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn inspect_corpus_archives_as_json() {
    let cache = tempfile::tempdir().unwrap();
    let archives = corpus().join("images/archives");
    for (scheme, file, layer_media) in [
        (
            "docker-archive",
            "alpine-3.12.docker.tar",
            "application/vnd.docker.image.rootfs.diff.tar",
        ),
        (
            "oci-archive",
            "alpine-3.12.oci.tar",
            "application/vnd.oci.image.layer.v1.tar+gzip",
        ),
    ] {
        let src = format!("{scheme}:{}", archives.join(file).display());
        let v = json(&inspect(&[&src, "-o", "json"], cache.path(), &[]));
        assert_eq!(
            v["config_digest"],
            "sha256:b8a92f8794f8c714411fd7899e34bb75ed34e5e67019a7dffcc4ca26fc7310d6"
        );
        assert_eq!(v["platform"], "linux/amd64");
        assert!(
            v["manifest_digest"]
                .as_str()
                .unwrap()
                .starts_with("sha256:")
        );
        assert_eq!(v["layers"].as_array().unwrap().len(), 1);
        assert_eq!(v["layers"][0]["media_type"], layer_media);
        assert!(v["layers"][0]["size"].as_u64().unwrap() > 2_000_000);
        // `tar -tvf` of the layer: 84 regular files, 97 directories, 338 symlinks
        assert_eq!(v["counts"]["files"], 84, "{scheme}");
        assert_eq!(v["counts"]["dirs"], 97, "{scheme}");
        assert_eq!(v["counts"]["symlinks"], 338, "{scheme}");
        assert_eq!(v["counts"]["hardlinks"], 0, "{scheme}");
    }
    let table = inspect(
        &[&format!(
            "docker-archive:{}",
            archives.join("alpine-3.12.docker.tar").display()
        )],
        cache.path(),
        &[],
    );
    assert!(table.status.success());
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("Config digest") && text.contains("84 files"),
        "{text}"
    );

    let missing = inspect(&["oci-archive:/nonexistent/a.tar"], cache.path(), &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/nonexistent/a.tar"));
}

#[test]
fn inspect_loopback_registry_with_docker_config_credentials() {
    if !require_tools(
        "inspect_loopback_registry_with_docker_config_credentials",
        &["docker-registry", "skopeo", "umoci", "htpasswd", "openssl"],
    ) {
        return;
    }
    let registry = Registry::start(Auth::Basic {
        username: "corpususer".into(),
        password: "corpuspass".into(),
    })
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let layout = build_multiarch_layout(work.path(), "alpine-multi").unwrap();
    push_oci_layout(
        &registry,
        &layout,
        "alpine-amd64",
        "corpus/alpine",
        "3.20",
        Format::V2s2,
    )
    .unwrap();
    push_oci_layout(
        &registry,
        &layout,
        "alpine-multi",
        "corpus/alpine",
        "multi",
        Format::Oci,
    )
    .unwrap();
    let host = registry.host();
    let cache = tempfile::tempdir().unwrap();
    let docker = tempfile::tempdir().unwrap();
    let auth = base64::engine::general_purpose::STANDARD.encode("corpususer:corpuspass");
    std::fs::write(
        docker.path().join("config.json"),
        format!(r#"{{"auths":{{"{host}":{{"auth":"{auth}"}}}}}}"#),
    )
    .unwrap();
    let env = [("DOCKER_CONFIG", docker.path())];

    let v = json(&inspect(
        &[
            &format!("registry:{host}/corpus/alpine:3.20"),
            "--insecure-registry",
            &host,
            "-o",
            "json",
        ],
        cache.path(),
        &env,
    ));
    assert_eq!(v["platform"], "linux/amd64");
    assert_eq!(
        v["layers"][0]["media_type"],
        "application/vnd.docker.image.rootfs.diff.tar.gzip"
    );
    // the minirootfs tarball: 87 regular files, 334 symlinks, no hard links
    assert_eq!(v["counts"]["files"], 87);
    assert_eq!(v["counts"]["symlinks"], 334);
    assert_eq!(v["counts"]["hardlinks"], 0);
    assert!(v["counts"]["dirs"].as_u64().unwrap() >= 96);

    let arm = json(&inspect(
        &[
            &format!("{host}/corpus/alpine:multi"),
            "--insecure-registry",
            &host,
            "--platform",
            "linux/arm64",
            "-o",
            "json",
        ],
        cache.path(),
        &env,
    ));
    assert_eq!(arm["platform"], "linux/arm64");
    assert!(arm["index_digest"].as_str().unwrap().starts_with("sha256:"));
    assert_eq!(arm["counts"], v["counts"]);

    let none = inspect(
        &[
            &format!("{host}/corpus/alpine:multi"),
            "--insecure-registry",
            &host,
            "--platform",
            "linux/ppc64le",
        ],
        cache.path(),
        &env,
    );
    assert_eq!(none.status.code(), Some(2));
    let err = String::from_utf8_lossy(&none.stderr);
    assert!(
        err.contains("linux/ppc64le") && err.contains("linux/amd64, linux/arm64/v8"),
        "{err}"
    );

    // without credentials the registry refuses, and the error says where
    let denied = inspect(
        &[
            &format!("{host}/corpus/alpine:3.20"),
            "--insecure-registry",
            &host,
        ],
        cache.path(),
        &[],
    );
    assert_eq!(denied.status.code(), Some(2));
    let err = String::from_utf8_lossy(&denied.stderr);
    assert!(
        err.contains(&host) && err.contains("corpus/alpine"),
        "{err}"
    );
}
