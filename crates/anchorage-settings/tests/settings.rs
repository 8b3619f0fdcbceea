//! Settings: precedence (CLI/env overrides > project file > user file > defaults), unknown keys,
//! secrets kept out of Debug output and errors.
#![allow(clippy::unwrap_used, reason = "tests fail loudly")]

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anchorage_image::{AcquireOptions, Limits, RegistryCredential};
use anchorage_settings::{AcquireOverrides, ConfigPaths, Settings, SettingsError, load, load_with};
use anchorage_types::Platform;
use secrecy::{ExposeSecret as _, SecretString};

const SECRET: &str = "s3cr3t-hunter2-value";

fn no_env(_: &str) -> Option<OsString> {
    None
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn load_files(project: Option<&Path>, user: Option<&Path>) -> Settings {
    load_with(
        &ConfigPaths {
            explicit: None,
            project: project.map(Path::to_path_buf),
            user: user.map(Path::to_path_buf),
        },
        &no_env,
    )
    .unwrap()
}

fn load_error(text: &str) -> (PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let p = write(dir.path(), "anchorage.toml", text);
    let err = load_with(
        &ConfigPaths {
            explicit: Some(p.clone()),
            ..ConfigPaths::default()
        },
        &no_env,
    )
    .unwrap_err();
    (p, err.to_string())
}

/// (case, settings, overrides, expected cache_dir, platform, use_docker_config)
type Row<'a> = (
    &'a str,
    &'a Settings,
    &'a AcquireOverrides,
    PathBuf,
    Option<Platform>,
    bool,
);

/// One row per setting: which layer sets it, and the value that must win.
#[test]
fn precedence_table() {
    let dir = tempfile::tempdir().unwrap();
    let user = write(
        dir.path(),
        "user.toml",
        r#"
cache_dir = "/user/cache"
data_dir = "/user/data"
platform = "linux/arm64"
docker_config = false
insecure_registries = ["user.example:5000"]
[limits]
max_entries = 10
max_file_size = 20
"#,
    );
    let project = write(
        dir.path(),
        "project.toml",
        r#"
cache_dir = "/project/cache"
insecure_registries = ["project.example"]
[limits]
max_entries = 30
"#,
    );
    let both = load_files(Some(&project), Some(&user));
    let only_user = load_files(None, Some(&user));
    let none = load_files(None, None);
    let missing = load_files(
        Some(&dir.path().join("absent.toml")),
        Some(&dir.path().join("absent2.toml")),
    );
    assert_eq!(both.files, vec![project.clone(), user.clone()]);
    assert!(none.files.is_empty() && missing.files.is_empty());

    let cli = AcquireOverrides {
        cache_dir: Some("/cli/cache".into()),
        platform: Some("linux/s390x".parse().unwrap()),
        insecure_registries: vec!["cli.example".into()],
        credentials: Vec::new(),
        no_docker_config: false,
    };
    let plain = AcquireOverrides::default();
    let defaults = AcquireOptions::default();

    let table: [Row<'_>; 5] = [
        (
            "cli wins over both files",
            &both,
            &cli,
            "/cli/cache".into(),
            Some("linux/s390x".parse().unwrap()),
            false,
        ),
        (
            "project wins over user, user fills the rest",
            &both,
            &plain,
            "/project/cache".into(),
            Some("linux/arm64".parse().unwrap()),
            false,
        ),
        (
            "user file alone",
            &only_user,
            &plain,
            "/user/cache".into(),
            Some("linux/arm64".parse().unwrap()),
            false,
        ),
        (
            "no files: defaults",
            &none,
            &plain,
            defaults.cache_dir.clone(),
            None,
            true,
        ),
        (
            "missing files are skipped",
            &missing,
            &cli,
            "/cli/cache".into(),
            Some("linux/s390x".parse().unwrap()),
            true,
        ),
    ];
    for (case, settings, overrides, cache, platform, docker) in table {
        let o = settings.acquire_options(overrides);
        assert_eq!(o.cache_dir, cache, "{case}");
        assert_eq!(o.platform, platform, "{case}");
        assert_eq!(o.use_docker_config, docker, "{case}");
    }
    // lists: union, higher precedence first
    assert_eq!(
        both.acquire_options(&cli).insecure_registries,
        vec!["cli.example", "project.example", "user.example:5000"]
    );
    assert_eq!(both.data_dir, Some(PathBuf::from("/user/data")));
    // limits: per key
    let limits = both.squash_limits();
    assert_eq!((limits.max_entries, limits.max_file_size), (30, 20));
    assert_eq!(
        limits.max_layers,
        Limits::default().max_layers,
        "unset keys keep the default"
    );
    // --no-docker-config wins over a file that enables it
    let enabled = load_files(
        Some(&write(dir.path(), "on.toml", "docker_config = true\n")),
        None,
    );
    assert!(enabled.acquire_options(&plain).use_docker_config);
    let off = AcquireOverrides {
        no_docker_config: true,
        ..AcquireOverrides::default()
    };
    assert!(!enabled.acquire_options(&off).use_docker_config);
}

#[test]
fn explicit_file_is_the_only_one_read_and_must_exist() {
    let dir = tempfile::tempdir().unwrap();
    let explicit = write(dir.path(), "x.toml", "cache_dir = \"cache\"\n");
    let project = write(dir.path(), "p.toml", "platform = \"linux/arm64\"\n");
    let s = load_with(
        &ConfigPaths {
            explicit: Some(explicit.clone()),
            project: Some(project),
            user: None,
        },
        &no_env,
    )
    .unwrap();
    assert_eq!(s.files, vec![explicit]);
    assert_eq!(s.platform, None);
    // relative paths are relative to the file's directory
    assert_eq!(s.cache_dir, Some(dir.path().join("cache")));

    let missing = dir.path().join("missing.toml");
    let err = load(Some(&missing)).unwrap_err();
    assert!(matches!(err, SettingsError::Read { .. }), "{err}");
    assert!(err.to_string().contains("missing.toml"), "{err}");
}

#[test]
fn unknown_keys_are_errors_naming_key_file_and_line() {
    for (text, key, line) in [
        ("cache_dir = \"/c\"\ncache-dir = \"/c\"\n", "cache-dir", 2),
        (
            "[[registries]]\nhost = \"r.example\"\nuser = \"me\"\n",
            "user",
            3,
        ),
        ("[limits]\nmax_entries = 1\nmax_files = 2\n", "max_files", 3),
    ] {
        let (path, err) = load_error(text);
        assert!(err.contains(&format!("unknown field `{key}`")), "{err}");
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains(&format!("line {line}")), "{err}");
    }
    let (_, err) = load_error("platform = \"linux\"\n");
    assert!(err.contains("platform"), "{err}");
    let (_, err) = load_error("cache_dir = [\n");
    assert!(err.contains("line 1"), "{err}");
}

#[test]
fn passwords_never_appear_in_debug_or_errors() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "anchorage.toml",
        &format!(
            "[[registries]]\nhost = \"r.example:5000\"\nusername = \"me\"\npassword = \"{SECRET}\"\n"
        ),
    );
    let s = load(Some(&p)).unwrap();
    assert_eq!(
        s.registries[0].password.as_ref().unwrap().expose_secret(),
        SECRET
    );
    let options = s.acquire_options(&AcquireOverrides::default());
    for shown in [
        format!("{s:?}"),
        format!("{:?}", s.registries),
        format!("{options:?}"),
    ] {
        assert!(!shown.contains(SECRET), "{shown}");
        assert!(shown.contains("r.example:5000"), "{shown}");
    }
    assert_eq!(options.credentials.len(), 1);
    assert_eq!(options.credentials[0].password.expose_secret(), SECRET);

    // a mistyped key, a value of the wrong type and a conflict all name the key, not the secret
    for (text, expect) in [
        (
            format!("[[registries]]\nhost = \"r\"\nusername = \"u\"\npasword = \"{SECRET}\"\n"),
            "pasword",
        ),
        (
            format!("[[registries]]\nhost = \"r\"\ninsecure = \"{SECRET}\"\n"),
            "invalid type",
        ),
        (
            format!("[[registries]]\nhost = \"r\"\nusername = [\"{SECRET}\"]\n"),
            "invalid type",
        ),
        (
            format!(
                "[[registries]]\nhost = \"r\"\nusername = \"u\"\npassword = \"{SECRET}\"\npassword_env = \"X\"\n"
            ),
            "registries[0].password",
        ),
        (
            format!("[[registries]]\nhost = \"r\"\npassword = \"{SECRET}\"\n"),
            "needs a username",
        ),
    ] {
        let (_, err) = load_error(&text);
        assert!(err.contains(expect), "{err}");
        assert!(!err.contains(SECRET), "{err}");
    }
}

#[test]
fn password_env_and_password_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pw.txt", &format!("{SECRET}\n"));
    let p = write(
        dir.path(),
        "anchorage.toml",
        r#"
[[registries]]
host = "env.example"
username = "envuser"
password_env = "MY_REGISTRY_PASSWORD"

[[registries]]
host = "file.example"
username = "fileuser"
password_file = "pw.txt"
"#,
    );
    let paths = ConfigPaths {
        explicit: Some(p),
        ..ConfigPaths::default()
    };
    let env = |k: &str| (k == "MY_REGISTRY_PASSWORD").then(|| OsString::from("from-env"));
    let s = load_with(&paths, &env).unwrap();
    let creds = s.acquire_options(&AcquireOverrides::default()).credentials;
    let find = |host: &str| creds.iter().find(|c| c.registry == host).unwrap();
    assert_eq!(find("env.example").password.expose_secret(), "from-env");
    assert_eq!(find("file.example").password.expose_secret(), SECRET);

    let err = load_with(&paths, &no_env).unwrap_err().to_string();
    assert!(
        err.contains("registries[0].password_env") && err.contains("MY_REGISTRY_PASSWORD"),
        "{err}"
    );

    // explicit credentials (from --username) win over the file's for the same host
    let cli = AcquireOverrides {
        credentials: vec![RegistryCredential {
            registry: "env.example".into(),
            username: "cliuser".into(),
            password: SecretString::from("cli".to_string()),
        }],
        ..AcquireOverrides::default()
    };
    let creds = s.acquire_options(&cli).credentials;
    assert_eq!(creds.len(), 2);
    assert_eq!(creds[0].username, "cliuser");
    assert!(creds.iter().all(|c| c.username != "envuser"));
}

#[test]
fn insecure_registries_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "anchorage.toml",
        r#"
insecure_registries = ["127.0.0.1:5000", "plain.example/"]

[[registries]]
host = "noverify.example:8443"
tls_verify = false

[[registries]]
host = "flagged.example"
insecure = true

[[registries]]
host = "secure.example"
tls_verify = true
"#,
    );
    let s = load(Some(&p)).unwrap();
    let o = s.acquire_options(&AcquireOverrides::default());
    assert_eq!(
        o.insecure_registries,
        vec![
            "127.0.0.1:5000",
            "plain.example",
            "noverify.example:8443",
            "flagged.example"
        ]
    );
    // HTTPS stays the default for everything else
    assert!(!o.insecure_registries.iter().any(|h| h == "secure.example"));
    assert!(
        AcquireOptions::default().insecure_registries.is_empty()
            && load_files(None, None)
                .acquire_options(&AcquireOverrides::default())
                .insecure_registries
                .is_empty()
    );
    let (_, err) = load_error("[[registries]]\nhost = \"https://r.example/v2\"\n");
    assert!(err.contains("registries[0].host"), "{err}");
}

#[test]
fn limits_section_sets_acquire_and_squash_limits() {
    let dir = tempfile::tempdir().unwrap();
    let p = write(
        dir.path(),
        "anchorage.toml",
        "[limits]\nmax_layer_decompressed_bytes = 1000\nmax_blob_size = 2000\nmax_manifest_size = 3000\nmax_layers = 4\n",
    );
    let s = load(Some(&p)).unwrap();
    let o = s.acquire_options(&AcquireOverrides::default());
    assert_eq!((o.max_blob_size, o.max_manifest_size), (2000, 3000));
    let l = s.squash_limits();
    assert_eq!((l.max_layer_decompressed_bytes, l.max_layers), (1000, 4));
    assert_eq!(
        (l.max_compression_ratio, l.compression_ratio_grace_bytes),
        (200, 64 << 20),
        "unset keys keep the defaults"
    );
    let p = write(
        dir.path(),
        "ratio.toml",
        "[limits]\nmax_compression_ratio = 50\ncompression_ratio_grace_bytes = 1048576\n",
    );
    let l = load(Some(&p)).unwrap().squash_limits();
    assert_eq!(
        (l.max_compression_ratio, l.compression_ratio_grace_bytes),
        (50, 1 << 20)
    );
    let (_, err) = load_error("[limits]\nmax_entries = -1\n");
    assert!(
        err.contains("max_entries") || err.contains("line 2"),
        "{err}"
    );
}
