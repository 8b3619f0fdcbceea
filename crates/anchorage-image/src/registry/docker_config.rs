//! Credentials from the Docker config file: `auths` entries, the `credsStore` and per-registry
//! `credHelpers` (`docker-credential-<name> get`, server URL on stdin, `{"Username","Secret"}`
//! JSON on stdout), run with a timeout.
//!
//! Hand-written rather than the `docker_credential` crate: that crate runs helpers without a
//! timeout, cannot be pointed at an explicit helper search path (needed to test with real helper
//! programs without mutating the process environment), returns secrets as plain `String`s and
//! copies the helper's stdout into its errors.
//!
//! Identity tokens (`identitytoken` in `auths`, or a helper answering with the `<token>` user
//! name) are OAuth2 refresh tokens to be exchanged at the token endpoint with a
//! `grant_type=refresh_token` POST; that exchange is not implemented, so such entries are
//! skipped with a warning naming the registry (the pull then proceeds without credentials).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use crate::options::RegistryCredential;

/// The largest helper answer read (a user name and a secret; real answers are < 8 KiB).
const MAX_HELPER_OUTPUT: u64 = 1 << 20;
/// User name by which a helper says the secret is an identity token.
const IDENTITY_TOKEN_USER: &str = "<token>";

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<SecretString>,
    #[serde(default)]
    identitytoken: Option<SecretString>,
}

/// What an `auths` entry holds.
enum Stored {
    /// User name and password.
    Basic(String, SecretString),
    /// An identity (refresh) token: unsupported, see the module docs.
    IdentityToken,
}

/// The helper's answer.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperAnswer {
    username: String,
    secret: SecretString,
}

/// Where and how long credential helpers run.
#[derive(Debug, Clone)]
pub(crate) struct HelperLookup {
    /// Search path for `docker-credential-<name>` (`PATH` syntax); `None` = the process `PATH`.
    pub(crate) path: Option<OsString>,
    /// Longest time one helper may take.
    pub(crate) timeout: Duration,
}

/// A parsed Docker config file.
pub(crate) struct DockerConfig {
    path: PathBuf,
    /// By normalized registry host.
    auths: BTreeMap<String, Stored>,
    creds_store: Option<String>,
    /// By normalized registry host.
    cred_helpers: BTreeMap<String, String>,
}

/// Normalizes an `auths` key to a registry host: drops the scheme and path, folds Docker Hub
/// aliases (`https://index.docker.io/v1/`) into `docker.io`.
pub(crate) fn normalize_key(key: &str) -> String {
    let no_scheme = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = no_scheme.split('/').next().unwrap_or(no_scheme);
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => {
            "docker.io".to_string()
        }
        other => other.to_string(),
    }
}

/// The server URL a helper is asked about: Docker Hub under its historical key, others by host.
fn server_url(registry: &str) -> String {
    if registry == "docker.io" {
        "https://index.docker.io/v1/".to_string()
    } else {
        registry.to_string()
    }
}

impl DockerConfig {
    /// Reads a Docker config file. A missing file gives `None`; an unreadable or malformed one
    /// (or an `auths` entry with an undecodable `auth`) gives an error naming the file and the
    /// entry, never its content.
    pub(crate) fn read(path: &Path) -> Result<Option<Self>, String> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("docker config {}: {e}", path.display())),
        };
        let config: ConfigFile = serde_json::from_slice(&bytes).map_err(|e| {
            // serde_json's message names a position and the expected type, not the content.
            format!("docker config {}: not valid JSON ({e})", path.display())
        })?;
        let mut auths = BTreeMap::new();
        for (key, entry) in config.auths {
            if let Some(stored) = stored(&key, entry, path)? {
                auths.insert(normalize_key(&key), stored);
            }
        }
        Ok(Some(Self {
            path: path.to_path_buf(),
            auths,
            creds_store: config.creds_store.filter(|s| !s.is_empty()),
            cred_helpers: config
                .cred_helpers
                .into_iter()
                .filter(|(_, v)| !v.is_empty())
                .map(|(k, v)| (normalize_key(&k), v))
                .collect(),
        }))
    }

    /// The credential for `registry`: its `credHelpers` helper, else the `credsStore`, else its
    /// `auths` entry. Helper failures are logged (never with helper output) and give `None`.
    pub(crate) async fn credential(
        &self,
        registry: &str,
        lookup: &HelperLookup,
    ) -> Option<RegistryCredential> {
        let helper = self
            .cred_helpers
            .get(registry)
            .or(self.creds_store.as_ref());
        if let Some(helper) = helper {
            match run_helper(helper, &server_url(registry), lookup).await {
                Ok(Some(answer)) => return helper_credential(registry, helper, answer),
                Ok(None) => {
                    tracing::debug!(registry, helper, "credential helper has no credentials");
                }
                Err(reason) => tracing::warn!(
                    registry,
                    "docker config {}: credential helper docker-credential-{helper}: {reason}",
                    self.path.display()
                ),
            }
        }
        match self.auths.get(registry)? {
            Stored::Basic(username, password) => Some(RegistryCredential {
                registry: registry.to_string(),
                username: username.clone(),
                password: password.clone(),
            }),
            Stored::IdentityToken => {
                warn_identity_token(registry, &format!("docker config {}", self.path.display()));
                None
            }
        }
    }
}

/// A helper's answer as a credential (`None` for identity tokens and empty secrets).
fn helper_credential(
    registry: &str,
    helper: &str,
    answer: HelperAnswer,
) -> Option<RegistryCredential> {
    if answer.username == IDENTITY_TOKEN_USER {
        warn_identity_token(registry, &format!("credential helper {helper}"));
        return None;
    }
    if answer.secret.expose_secret().is_empty() {
        return None;
    }
    Some(RegistryCredential {
        registry: registry.to_string(),
        username: answer.username,
        password: answer.secret,
    })
}

fn warn_identity_token(registry: &str, from: &str) {
    tracing::warn!(
        registry,
        "{from}: the credential for {registry} is an identity token, which anchorage cannot \
         exchange yet (OAuth2 refresh-token grant); configure a user name and password or token \
         instead"
    );
}

/// Decodes one `auths` entry.
fn stored(key: &str, entry: AuthEntry, path: &Path) -> Result<Option<Stored>, String> {
    if entry
        .identitytoken
        .as_ref()
        .is_some_and(|t| !t.expose_secret().is_empty())
    {
        return Ok(Some(Stored::IdentityToken));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(auth.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok());
        return match decoded.as_deref().and_then(|d| d.split_once(':')) {
            Some((u, p)) => Ok(Some(Stored::Basic(
                u.to_string(),
                SecretString::from(p.to_string()),
            ))),
            None => Err(format!(
                "docker config {}: entry {key:?} has an invalid `auth` value",
                path.display()
            )),
        };
    }
    Ok(match (entry.username, entry.password) {
        (Some(u), Some(p)) => Some(Stored::Basic(u, p)),
        _ => None,
    })
}

/// Finds `docker-credential-<name>` on the lookup path.
fn find_helper(name: &str, lookup: &HelperLookup) -> Result<PathBuf, String> {
    // The name comes from a config file: keep it to one plain file name.
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        || name.starts_with('.')
    {
        return Err(format!("invalid helper name {name:?}"));
    }
    let file = format!("docker-credential-{name}");
    // The search path comes from the settings (the process `PATH`); the library reads no
    // environment.
    let search = lookup.path.clone().unwrap_or_default();
    std::env::split_paths(&search)
        .filter(|dir| !dir.as_os_str().is_empty())
        .map(|dir| dir.join(&file))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("{file} not found on PATH"))
}

/// Runs `docker-credential-<name> get` for `server`. `Ok(None)`: the helper has no credential.
async fn run_helper(
    name: &str,
    server: &str,
    lookup: &HelperLookup,
) -> Result<Option<HelperAnswer>, String> {
    let exe = find_helper(name, lookup)?;
    let work = async {
        let mut child = spawn(&exe).await?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading stdin closes the pipe: its exit status and
            // output decide, not our write.
            match stdin.write_all(server.as_bytes()).await {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(format!("writing to the helper: {e}"));
                }
                _ => {}
            }
        }
        let mut stdout = Vec::new();
        if let Some(out) = child.stdout.take() {
            out.take(MAX_HELPER_OUTPUT + 1)
                .read_to_end(&mut stdout)
                .await
                .map_err(|e| format!("reading the helper's answer: {e}"))?;
        }
        let status = child
            .wait()
            .await
            .map_err(|e| format!("waiting for the helper: {e}"))?;
        Ok::<_, String>((status, stdout))
    };
    let (status, stdout) = tokio::time::timeout(lookup.timeout, work)
        .await
        .map_err(|_| format!("no answer within {:?}", lookup.timeout))??;
    if stdout.len() as u64 > MAX_HELPER_OUTPUT {
        return Err(format!("answer larger than {MAX_HELPER_OUTPUT} bytes"));
    }
    if !status.success() {
        // The protocol's "not found" answer; the output itself is never repeated (it may hold
        // a secret).
        if String::from_utf8_lossy(&stdout).contains("credentials not found") {
            return Ok(None);
        }
        return Err(format!("failed ({status})"));
    }
    let answer: HelperAnswer = serde_json::from_slice(&stdout)
        .map_err(|_| "answer is not the expected {\"Username\",\"Secret\"} JSON".to_string())?;
    Ok(Some(answer))
}

/// Spawns the helper; retries briefly on `ETXTBSY` (a just-written helper may still be open in a
/// concurrently forked child of this process).
async fn spawn(exe: &Path) -> Result<tokio::process::Child, String> {
    let mut attempt = 0;
    loop {
        let result = tokio::process::Command::new(exe)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        match result {
            Ok(child) => return Ok(child),
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy && attempt < 20 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(25)).await;
            }
            Err(e) => return Err(format!("cannot run {}: {e}", exe.display())),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::os::unix::fs::PermissionsExt as _;

    use secrecy::ExposeSecret;

    use super::*;

    fn lookup(dir: &Path, timeout_ms: u64) -> HelperLookup {
        // The helper directory comes first; the system directories give the script `cat` etc.
        let mut path = OsString::from(dir.as_os_str());
        path.push(":/usr/bin:/bin");
        HelperLookup {
            path: Some(path),
            timeout: Duration::from_millis(timeout_ms),
        }
    }

    fn write_helper(dir: &Path, name: &str, script: &str) {
        let p = dir.join(format!("docker-credential-{name}"));
        std::fs::write(&p, script).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn write_config(dir: &Path, json: &str) -> DockerConfig {
        let p = dir.join("config.json");
        std::fs::write(&p, json).unwrap();
        DockerConfig::read(&p).unwrap().unwrap()
    }

    #[tokio::test]
    async fn reads_auth_and_username_password_entries() {
        let dir = tempfile::tempdir().unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("hubuser:hub:pass");
        let config = write_config(
            dir.path(),
            &format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{auth}"}},
                "127.0.0.1:5000":{{"username":"u","password":"p"}},
                "ghcr.io":{{}}}}}}"#
            ),
        );
        let l = lookup(dir.path(), 2000);
        let hub = config.credential("docker.io", &l).await.unwrap();
        assert_eq!(hub.username, "hubuser");
        assert_eq!(hub.password.expose_secret(), "hub:pass");
        assert!(!format!("{hub:?}").contains("hub:pass"));
        let local = config.credential("127.0.0.1:5000", &l).await.unwrap();
        assert_eq!(local.password.expose_secret(), "p");
        assert!(config.credential("ghcr.io", &l).await.is_none());
        assert!(config.credential("quay.io", &l).await.is_none());
        assert!(
            DockerConfig::read(&dir.path().join("missing.json"))
                .unwrap()
                .is_none()
        );
        let p = dir.path().join("bad.json");
        std::fs::write(&p, r#"{"auths":{"x.io":{"auth":"!!"}}}"#).unwrap();
        let err = DockerConfig::read(&p).err().unwrap();
        assert!(err.contains("x.io") && !err.contains("!!"), "{err}");
    }

    #[test]
    fn normalizes_keys() {
        assert_eq!(normalize_key("https://index.docker.io/v1/"), "docker.io");
        assert_eq!(normalize_key("http://localhost:5000"), "localhost:5000");
        assert_eq!(normalize_key("quay.io"), "quay.io");
    }

    /// A real helper program (a shell script) answers per server URL read from stdin; the
    /// per-registry `credHelpers` entry wins over the `credsStore`, which wins over `auths`.
    #[tokio::test]
    async fn runs_cred_helpers_and_creds_store() {
        let dir = tempfile::tempdir().unwrap();
        write_helper(
            dir.path(),
            "corpus",
            "#!/bin/sh\n[ \"$1\" = get ] || exit 3\nserver=$(cat)\ncase \"$server\" in\n\
             reg.example:5000) printf '{\"Username\":\"helperuser\",\"Secret\":\"helper-secret\"}' ;;\n\
             https://index.docker.io/v1/) printf '{\"Username\":\"hub\",\"Secret\":\"hub-secret\"}' ;;\n\
             *) echo 'credentials not found in native keychain'; exit 1 ;;\nesac\n",
        );
        write_helper(
            dir.path(),
            "store",
            "#!/bin/sh\ncat >/dev/null\nprintf '{\"Username\":\"storeuser\",\"Secret\":\"store-secret\"}'\n",
        );
        let config = write_config(
            dir.path(),
            r#"{"auths":{"other.example":{"username":"fileuser","password":"filepass"}},
               "credsStore":"store",
               "credHelpers":{"reg.example:5000":"corpus","https://index.docker.io/v1/":"corpus",
                              "unknown.example":"corpus"}}"#,
        );
        let l = lookup(dir.path(), 5000);
        let c = config.credential("reg.example:5000", &l).await.unwrap();
        assert_eq!(
            (c.username.as_str(), c.password.expose_secret()),
            ("helperuser", "helper-secret")
        );
        assert!(!format!("{c:?}").contains("helper-secret"));
        let hub = config.credential("docker.io", &l).await.unwrap();
        assert_eq!(hub.password.expose_secret(), "hub-secret");
        // no credHelpers entry: the credsStore answers
        let other = config.credential("other.example", &l).await.unwrap();
        assert_eq!(other.username, "storeuser");
        // the helper says "not found": the file has nothing either
        assert!(config.credential("unknown.example", &l).await.is_none());
    }

    #[tokio::test]
    async fn synthetic_hanging_failing_and_missing_helpers_give_no_credential() {
        let dir = tempfile::tempdir().unwrap();
        write_helper(dir.path(), "hang", "#!/bin/sh\nexec sleep 30\n");
        write_helper(
            dir.path(),
            "fail",
            "#!/bin/sh\necho 'leaked-secret-in-output'\nexit 7\n",
        );
        write_helper(
            dir.path(),
            "garbage",
            "#!/bin/sh\ncat >/dev/null\necho 'not json'\n",
        );
        write_helper(
            dir.path(),
            "token",
            "#!/bin/sh\ncat >/dev/null\nprintf '{\"Username\":\"<token>\",\"Secret\":\"refresh\"}'\n",
        );
        let short = lookup(dir.path(), 300);
        let l = lookup(dir.path(), 10_000);
        let started = std::time::Instant::now();
        let err = run_helper("hang", "r.example", &short).await.err().unwrap();
        assert!(err.contains("no answer within"), "{err}");
        assert!(started.elapsed() < Duration::from_secs(5));
        let err = run_helper("fail", "r.example", &l).await.err().unwrap();
        assert!(err.contains("failed") && !err.contains("leaked"), "{err}");
        let err = run_helper("garbage", "r.example", &l).await.err().unwrap();
        assert!(err.contains("not the expected"), "{err}");
        let err = run_helper("absent", "r.example", &l).await.err().unwrap();
        assert!(err.contains("docker-credential-absent not found"), "{err}");
        let err = run_helper("../evil", "r.example", &l).await.err().unwrap();
        assert!(err.contains("invalid helper name"), "{err}");

        // failures fall back to the `auths` entry; identity tokens are skipped
        let config = write_config(
            dir.path(),
            r#"{"auths":{"a.example":{"username":"fileuser","password":"filepass"},
                         "b.example":{"identitytoken":"refresh-token"}},
               "credHelpers":{"a.example":"hang","c.example":"token"}}"#,
        );
        let a = config.credential("a.example", &short).await.unwrap();
        assert_eq!(a.username, "fileuser");
        assert!(config.credential("b.example", &l).await.is_none());
        assert!(config.credential("c.example", &l).await.is_none());
    }
}
