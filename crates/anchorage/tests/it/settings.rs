//! The config file drives acquisition end to end: `anchorage inspect` pulls from a loopback
//! registry with basic auth using only a config file (credentials, insecure opt-in), and a bad
//! file is an error naming the key and the file without echoing secrets (docker-registry,
//! skopeo, umoci, htpasswd, openssl; with `CI=true` their absence is a failure, locally a skip).
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on bad fixtures"
)]

use std::path::Path;
use std::process::{Command, Output};

use anchorage_testkit::{
    Auth, Format, Registry, build_multiarch_layout, push_oci_layout, require_tools,
};
use serde_json::Value;

const USER: &str = "corpususer";
const PASS: &str = "corpuspass";

/// Runs `anchorage inspect` with no flag or variable that carries registry settings: a private
/// working directory, user config directory and Docker config directory, plus `envs`.
fn inspect(args: &[&str], home: &Path, envs: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_anchorage"));
    cmd.arg("inspect").args(args).current_dir(home);
    for k in [
        "ANCHORAGE_CONFIG",
        "ANCHORAGE_CACHE_DIR",
        "ANCHORAGE_PLATFORM",
        "ANCHORAGE_INSECURE_REGISTRIES",
        "ANCHORAGE_REGISTRY_USERNAME",
        "ANCHORAGE_REGISTRY_PASSWORD",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("XDG_CONFIG_HOME", home.join("xdg-config"))
        .env("DOCKER_CONFIG", home.join("no-docker-config"))
        .env("HOME", home);
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
fn inspect_pulls_with_credentials_and_insecure_opt_in_from_the_config_file_only() {
    if !require_tools(
        "inspect_pulls_with_credentials_and_insecure_opt_in_from_the_config_file_only",
        &["docker-registry", "skopeo", "umoci", "htpasswd", "openssl"],
    ) {
        return;
    }
    let registry = Registry::start(Auth::Basic {
        username: USER.into(),
        password: PASS.into(),
    })
    .unwrap();
    let work = tempfile::tempdir().unwrap();
    let layout = build_multiarch_layout(work.path(), "alpine-multi").unwrap();
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
    let image = format!("{host}/corpus/alpine:multi");
    let home = tempfile::tempdir().unwrap();
    let h = home.path();

    // 1. `--config FILE`: a `[[registries]]` entry with the password in a file next to it, the
    //    insecure opt-in on the entry, platform and cache directory from the file.
    std::fs::write(h.join("registry-password"), format!("{PASS}\n")).unwrap();
    std::fs::write(
        h.join("explicit.toml"),
        format!(
            r#"cache_dir = "cache-a"
platform = "linux/arm64"

[[registries]]
host = "{host}"
username = "{USER}"
password_file = "registry-password"
insecure = true
"#
        ),
    )
    .unwrap();
    let config = h.join("explicit.toml");
    let v = json(&inspect(
        &[&image, "--config", config.to_str().unwrap(), "-o", "json"],
        h,
        &[],
    ));
    assert_eq!(v["platform"], "linux/arm64");
    assert!(v["index_digest"].as_str().unwrap().starts_with("sha256:"));
    // the minirootfs tarball: 87 regular files, 334 symlinks
    assert_eq!(v["counts"]["files"], 87);
    assert_eq!(v["counts"]["symlinks"], 334);
    assert!(
        std::fs::read_dir(h.join("cache-a")).is_ok(),
        "the blob cache is the file's cache_dir, relative to the file"
    );

    // 2. `./anchorage.toml` found in the working directory: top-level `insecure_registries`,
    //    the password from a variable named in the file; the CLI `--platform` wins.
    std::fs::write(
        h.join("anchorage.toml"),
        format!(
            r#"cache_dir = "cache-b"
platform = "linux/arm64"
insecure_registries = ["{host}"]

[[registries]]
host = "{host}"
username = "{USER}"
password_env = "CORPUS_REGISTRY_PASSWORD"
"#
        ),
    )
    .unwrap();
    let v = json(&inspect(
        &[&image, "--platform", "linux/amd64", "-o", "json"],
        h,
        &[("CORPUS_REGISTRY_PASSWORD", PASS)],
    ));
    assert_eq!(v["platform"], "linux/amd64");
    assert_eq!(v["counts"]["files"], 87);

    // 3. the same file with the variable unset: an error naming the key and the file
    let out = inspect(&[&image], h, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("anchorage.toml")
            && err.contains("registries[0].password_env")
            && err.contains("CORPUS_REGISTRY_PASSWORD"),
        "{err}"
    );

    // 4. `$ANCHORAGE_CONFIG` with a wrong password: rejected by the registry, secret not shown
    std::fs::write(
        h.join("wrong.toml"),
        format!(
            "insecure_registries = [\"{host}\"]\n[[registries]]\nhost = \"{host}\"\nusername = \"{USER}\"\npassword = \"wrong-secret-value\"\n"
        ),
    )
    .unwrap();
    let wrong = h.join("wrong.toml");
    let out = inspect(
        &[&image],
        h,
        &[("ANCHORAGE_CONFIG", wrong.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("credentials were rejected") && !err.contains("wrong-secret-value"),
        "{err}"
    );

    // 5. HTTPS is the default: without the insecure opt-in the plain-HTTP registry is not used
    std::fs::write(
        h.join("secure.toml"),
        format!(
            "[[registries]]\nhost = \"{host}\"\nusername = \"{USER}\"\npassword = \"{PASS}\"\n"
        ),
    )
    .unwrap();
    let secure = h.join("secure.toml");
    let out = inspect(&[&image, "--config", secure.to_str().unwrap()], h, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("https://{host}/v2/")), "{err}");
}

#[test]
fn synthetic_unknown_config_key_is_an_error_naming_key_and_file() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    std::fs::write(
        h.join("anchorage.toml"),
        "[[registries]]\nhost = \"r.example\"\nusername = \"u\"\npasword = \"hunter2-in-typo\"\n",
    )
    .unwrap();
    let out = inspect(&["dir:."], h, &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("anchorage.toml")
            && err.contains("line 4")
            && err.contains("unknown field `pasword`"),
        "{err}"
    );
    assert!(!err.contains("hunter2-in-typo"), "{err}");
}

/// CLI > env > project file > user file > defaults, seen through the blob cache directory the
/// binary creates (one corpus archive, no registry needed).
#[test]
fn cache_dir_precedence_cli_over_env_over_project_over_user_file() {
    let archive = anchorage_testkit::corpus_dir().join("images/archives/alpine-3.12.docker.tar");
    let src = format!("docker-archive:{}", archive.display());
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let user_dir = h.join("xdg-config/anchorage");
    std::fs::create_dir_all(&user_dir).unwrap();
    std::fs::write(
        user_dir.join("config.toml"),
        format!("cache_dir = \"{}\"\n", h.join("cache-user").display()),
    )
    .unwrap();
    let project = format!("cache_dir = \"{}\"\n", h.join("cache-project").display());
    let env_dir = h.join("cache-env");
    let env = [("ANCHORAGE_CACHE_DIR", env_dir.to_str().unwrap())];
    let cli_dir = h.join("cache-cli");
    let cli = ["--cache-dir", cli_dir.to_str().unwrap()];

    // (case, project file present, env set, cli set, directory that must be used)
    for (case, with_project, with_env, with_cli, expected) in [
        ("user file only", false, false, false, "cache-user"),
        ("project over user", true, false, false, "cache-project"),
        ("env over files", true, true, false, "cache-env"),
        ("cli over env", true, true, true, "cache-cli"),
    ] {
        if with_project {
            std::fs::write(h.join("anchorage.toml"), &project).unwrap();
        }
        let mut args = vec![src.as_str(), "-o", "json"];
        if with_cli {
            args.extend(cli);
        }
        let out = inspect(&args, h, if with_env { &env } else { &[] });
        let v = json(&out);
        assert_eq!(v["layers"].as_array().unwrap().len(), 1, "{case}");
        for dir in ["cache-user", "cache-project", "cache-env", "cache-cli"] {
            assert_eq!(
                h.join(dir).exists(),
                dir == expected,
                "{case}: {dir} exists?"
            );
        }
        for dir in ["cache-user", "cache-project", "cache-env", "cache-cli"] {
            let _ = std::fs::remove_dir_all(h.join(dir));
        }
    }
}
