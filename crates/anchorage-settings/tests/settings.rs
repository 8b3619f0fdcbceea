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

fn load_text_with(text: &str, env: &dyn Fn(&str) -> Option<OsString>) -> Result<Settings, String> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "hook-secret.txt", "file-secret\n");
    let p = write(dir.path(), "anchorage.toml", text);
    load_with(
        &ConfigPaths {
            explicit: Some(p),
            ..ConfigPaths::default()
        },
        env,
    )
    .map_err(|e| e.to_string())
}

#[test]
fn role_sections_are_read_and_validated() {
    let text = r#"
data_dir = "/srv/anchorage"

[scan]
fail_on = "high"
only_fixed = true
output = "sarif"

[server]
listen = "0.0.0.0:8228"
public_url = "https://anchorage.example.com"

[worker]
count = 4
poll_interval_secs = 2

[database]
url = "postgres://anchorage@db.example.com/anchorage"
max_connections = 20

[feeds]
sources = ["osv:https://mirror.example.com/PyPI/all.zip", "alpine-secdb:feeds/alpine"]
sync_interval_secs = 3600

[webhooks]
url = "https://hooks.example.com/anchorage"
secret_env = "HOOK_SECRET"
timeout_secs = 5
"#;
    let env = |k: &str| (k == "HOOK_SECRET").then(|| OsString::from(SECRET));
    let s = load_text_with(text, &env).unwrap();
    assert_eq!(s.scan.fail_on, Some(anchorage_types::Severity::High));
    assert_eq!(s.scan.only_fixed, Some(true));
    assert_eq!(s.scan.output.as_deref(), Some("sarif"));
    assert_eq!(s.server().listen.to_string(), "0.0.0.0:8228");
    assert_eq!(
        s.server().public_url.unwrap().as_str(),
        "https://anchorage.example.com/"
    );
    assert_eq!(s.worker().count, 4);
    assert_eq!(s.worker().poll_interval_secs, 2);
    assert_eq!(s.worker().job_timeout_secs, 3600, "default");
    assert_eq!(
        s.database().url.expose_secret(),
        "postgres://anchorage@db.example.com/anchorage"
    );
    assert_eq!(s.database().max_connections, 20);
    let feeds = s.feeds();
    assert_eq!(feeds.sync_interval_secs, 3600);
    assert_eq!(
        feeds.sources[0],
        "osv:https://mirror.example.com/PyPI/all.zip"
    );
    assert!(
        feeds.sources[1].starts_with("alpine-secdb:/")
            && feeds.sources[1].ends_with("feeds/alpine"),
        "a relative feed path is relative to the file: {}",
        feeds.sources[1]
    );
    let hooks = s.webhooks();
    assert_eq!(hooks.url.unwrap().host_str(), Some("hooks.example.com"));
    assert_eq!(hooks.secret.as_ref().unwrap().expose_secret(), SECRET);
    assert_eq!(hooks.timeout_secs, 5);
    assert!(!format!("{s:?} {:?} {:?}", s.webhooks(), s.database()).contains(SECRET));
    assert!(!format!("{:?}", s.database()).contains("db.example.com"));

    // Defaults without a file: SQLite under the data directory, loopback listener.
    let none = load_files(None, None);
    assert_eq!(none.server().listen.to_string(), "127.0.0.1:8228");
    assert_eq!(none.worker().count, 2);
    assert_eq!(
        none.database().url.expose_secret(),
        "sqlite:anchorage-data/anchorage.sqlite"
    );
    assert_eq!(none.feeds().sync_interval_secs, 21_600);
    assert!(none.webhooks().url.is_none());
    let secret_file =
        load_text_with("[webhooks]\nsecret_file = \"hook-secret.txt\"\n", &no_env).unwrap();
    assert_eq!(
        secret_file.webhooks().secret.unwrap().expose_secret(),
        "file-secret"
    );
}

#[test]
fn environment_wins_over_role_keys() {
    let text = "data_dir = \"/from/file\"\n[database]\nurl = \"sqlite:/from/file.sqlite\"\n[feeds]\nsources = [\"osv:/from/file\"]\n";
    let env = |k: &str| match k {
        "ANCHORAGE_DATABASE_URL" => Some(OsString::from("postgres://postgres@127.0.0.1/x")),
        "ANCHORAGE_FEED_SOURCES" => Some(OsString::from("osv:/a, nvd:/b")),
        "ANCHORAGE_DATA_DIR" => Some(OsString::from("/from/env")),
        "NVD_API_KEY" => Some(OsString::from(SECRET)),
        _ => None,
    };
    let s = load_text_with(text, &env).unwrap();
    assert_eq!(
        s.database().url.expose_secret(),
        "postgres://postgres@127.0.0.1/x"
    );
    assert_eq!(s.feeds().sources, ["osv:/a", "nvd:/b"]);
    assert_eq!(s.data_dir(), PathBuf::from("/from/env"));
    assert_eq!(s.vulndb_dir(None), PathBuf::from("/from/env/vulndb"));
    assert_eq!(
        s.vulndb_dir(Some(Path::new("/flag"))),
        PathBuf::from("/flag")
    );
    assert_eq!(s.env.nvd_api_key.as_ref().unwrap().expose_secret(), SECRET);
    assert!(!format!("{:?}", s.env).contains(SECRET));
    let bad = |k: &str| (k == "ANCHORAGE_DATABASE_URL").then(|| OsString::from("mysql://x"));
    let err = load_text_with("", &bad).unwrap_err();
    assert!(
        err.contains("ANCHORAGE_DATABASE_URL") && err.contains("database.url"),
        "{err}"
    );
}

#[test]
fn synthetic_bad_role_values_name_the_key() {
    for (text, key, says) in [
        (
            "[server]\nlisten = \"localhost\"\n",
            "server.listen",
            "not an address",
        ),
        (
            "[server]\npublic_url = \"ftp://x\"\n",
            "server.public_url",
            "http",
        ),
        ("[worker]\ncount = 0\n", "worker.count", "1..=256"),
        (
            "[scan]\ncontent_search = [\"OK=^a\", \"BAD=(\"]\n",
            "scan.content_search",
            "invalid regular expression",
        ),
        (
            "[database]\nurl = \"mysql://x/y\"\n",
            "database.url",
            "not supported",
        ),
        (
            "[database]\nmax_connections = 0\n",
            "database.max_connections",
            "1..=1000",
        ),
        (
            "[feeds]\nsources = [\"osv:ftp://x/all.zip\"]\n",
            "feeds.sources[0]",
            "http",
        ),
        (
            "[feeds]\nsync_interval_secs = 5\n",
            "feeds.sync_interval_secs",
            "below 60",
        ),
        (
            "[webhooks]\nurl = \"not a url\"\n",
            "webhooks.url",
            "not a URL",
        ),
        (
            "[webhooks]\nsecret = \"a\"\nsecret_env = \"B\"\n",
            "webhooks.secret",
            "only one",
        ),
        (
            "[webhooks]\nsecret_env = \"UNSET_VAR\"\n",
            "webhooks.secret_env",
            "not set",
        ),
        (
            "[scan]\nfail_on = \"severe\"\n",
            "scan.fail_on",
            "not a severity",
        ),
        ("[scan]\noutput = \"xml\"\n", "scan.output", "not an output"),
    ] {
        let err = load_text_with(text, &no_env).unwrap_err();
        assert!(err.contains(key) && err.contains(says), "{text}: {err}");
    }
    // Unknown keys inside a role section are refused like any other, naming key and line.
    let (path, err) = load_error("[server]\nlisten = \"127.0.0.1:1\"\nlisen = \"x\"\n");
    assert!(err.contains("lisen") && err.contains("line 3"), "{err}");
    assert!(err.contains(&path.display().to_string()), "{err}");
    let (_, err) = load_error("[webhooks]\nsecret = \"hunter2-not-shown\"\nsecrt = 1\n");
    assert!(err.contains("secrt") && !err.contains("hunter2"), "{err}");
    let (_, err) = load_error("[storage]\nx = 1\n");
    assert!(err.contains("storage"), "{err}");
}
