//! Docker credential helpers end to end: a real helper program (a shell script on an explicit
//! helper path) supplies the credentials for a loopback registry with basic auth and one with
//! token auth (docker-registry, skopeo, umoci, htpasswd, openssl; with `CI=true` their absence
//! is a failure, locally a skip).
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::ffi::OsString;
use std::os::unix::fs::PermissionsExt as _;
use std::path::Path;
use std::time::Duration;

use crate::runtime::acquire_blocking;
use anchorage_image::{AcquireError, AcquireOptions};
use anchorage_testkit::{Auth, Format, Registry, push_oci_layout, require_tools};

const TOOLS: &[&str] = &["docker-registry", "skopeo", "umoci", "htpasswd", "openssl"];
const USER: &str = "corpususer";
const PASS: &str = "corpuspass";

/// A helper that logs each server URL it is asked about and answers with the corpus user.
fn write_helper(dir: &Path, name: &str) {
    let p = dir.join(format!("docker-credential-{name}"));
    std::fs::write(
        &p,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nserver=$(cat)\n\
             echo \"$server\" >> \"$(dirname \"$0\")/{name}.log\"\n\
             printf '{{\"ServerURL\":\"%s\",\"Username\":\"{USER}\",\"Secret\":\"{PASS}\"}}' \"$server\"\n"
        ),
    )
    .unwrap();
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn options(cache: &Path, host: &str, docker_config: &Path, helpers: &Path) -> AcquireOptions {
    let mut path = OsString::from(helpers.as_os_str());
    path.push(":/usr/bin:/bin");
    AcquireOptions {
        cache_dir: cache.to_path_buf(),
        insecure_registries: vec![host.to_string()],
        use_docker_config: true,
        docker_config_path: Some(docker_config.to_path_buf()),
        credential_helper_path: Some(path),
        credential_helper_timeout: Duration::from_secs(20),
        retry_base_delay: Duration::from_millis(20),
        ..AcquireOptions::default()
    }
}

fn push(reg: &Registry, work: &Path) {
    let layout = anchorage_testkit::build_alpine_layout(work, "alpine", "amd64").unwrap();
    push_oci_layout(
        reg,
        &layout,
        "alpine",
        "corpus/alpine",
        "latest",
        Format::Oci,
    )
    .unwrap();
}

#[test]
fn cred_helpers_entry_supplies_basic_auth_credentials() {
    if !require_tools("cred_helpers_entry_supplies_basic_auth_credentials", TOOLS) {
        return;
    }
    let reg = Registry::start(Auth::Basic {
        username: USER.into(),
        password: PASS.into(),
    })
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    push(&reg, work.path());
    let host = reg.host();
    let dir = tempfile::tempdir().unwrap();
    write_helper(dir.path(), "corpus");
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        format!(r#"{{"auths":{{}},"credHelpers":{{"{host}":"corpus"}}}}"#),
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let opts = options(cache.path(), &host, &config, dir.path());
    let img = acquire_blocking(&format!("{host}/corpus/alpine"), &opts).unwrap();
    assert_eq!(img.layers.len(), 1);
    // asked once, about this registry, although manifest and blobs were all authorized
    let log = std::fs::read_to_string(dir.path().join("corpus.log")).unwrap();
    assert_eq!(log, format!("{host}\n"));

    // an identity token in `auths` is not exchanged (documented limitation): no credential
    std::fs::write(
        &config,
        format!(r#"{{"auths":{{"{host}":{{"identitytoken":"refresh-secret"}}}}}}"#),
    )
    .unwrap();
    let err = acquire_blocking(&format!("{host}/corpus/alpine"), &opts).unwrap_err();
    assert!(matches!(err, AcquireError::Unauthorized { .. }), "{err}");
    let msg = format!("{err} {err:?}");
    assert!(
        msg.contains("no credentials") && !msg.contains("refresh-secret"),
        "{msg}"
    );
}

#[test]
fn creds_store_supplies_credentials_for_the_token_endpoint() {
    if !require_tools(
        "creds_store_supplies_credentials_for_the_token_endpoint",
        TOOLS,
    ) {
        return;
    }
    let reg = Registry::start(Auth::Token {
        credentials: Some((USER.into(), PASS.into())),
    })
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    push(&reg, work.path());
    let host = reg.host();
    let dir = tempfile::tempdir().unwrap();
    write_helper(dir.path(), "store");
    let config = dir.path().join("config.json");
    std::fs::write(&config, r#"{"credsStore":"store"}"#).unwrap();
    let cache = tempfile::tempdir().unwrap();
    let opts = options(cache.path(), &host, &config, dir.path());
    let img = acquire_blocking(&format!("{host}/corpus/alpine"), &opts).unwrap();
    assert_eq!(img.layers.len(), 1);
    let log = std::fs::read_to_string(dir.path().join("store.log")).unwrap();
    assert_eq!(log, format!("{host}\n"));
    let token_requests = reg.token_server().unwrap().requests();
    assert!(
        token_requests.iter().any(|r| r
            .header("authorization")
            .is_some_and(|a| a.starts_with("Basic "))),
        "the token endpoint got the helper's credentials"
    );
}
