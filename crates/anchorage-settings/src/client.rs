//! The API client's connection settings (`anchorage image|policy|registry|... --url --user
//! --pass`): flags, then `ANCHORAGE_*`, then anchore-cli's `ANCHORE_CLI_*` variables, then the
//! default URL. anchore-cli users keep their environment unchanged.

use std::ffi::OsString;

use secrecy::SecretString;
use url::Url;

use crate::SettingsError;

/// Base URL of the engine API (`--url`), e.g. `http://localhost:8228/v1`.
pub const ANCHORAGE_URL: &str = "ANCHORAGE_URL";
/// User name for the engine API (`--user`).
pub const ANCHORAGE_USER: &str = "ANCHORAGE_USER";
/// Password for the engine API (`--pass`).
pub const ANCHORAGE_PASS: &str = "ANCHORAGE_PASS";
/// Account to act in, sent as `x-anchore-account` (`--as-account`).
pub const ANCHORAGE_ACCOUNT: &str = "ANCHORAGE_ACCOUNT";
/// anchore-cli's base URL variable (used when `ANCHORAGE_URL` is unset).
pub const ANCHORE_CLI_URL: &str = "ANCHORE_CLI_URL";
/// anchore-cli's user variable (used when `ANCHORAGE_USER` is unset).
pub const ANCHORE_CLI_USER: &str = "ANCHORE_CLI_USER";
/// anchore-cli's password variable (used when `ANCHORAGE_PASS` is unset).
pub const ANCHORE_CLI_PASS: &str = "ANCHORE_CLI_PASS";
/// anchore-cli's account variable (used when `ANCHORAGE_ACCOUNT` is unset).
pub const ANCHORE_CLI_ACCOUNT: &str = "ANCHORE_CLI_ACCOUNT";
/// anchore-cli's JSON switch: `y` prints raw JSON, as `--json`.
pub const ANCHORE_CLI_JSON: &str = "ANCHORE_CLI_JSON";
/// The engine API's default base URL (anchore-cli's default).
pub const DEFAULT_CLIENT_URL: &str = "http://localhost:8228/v1";

/// What a client command was given on its command line.
#[derive(Clone, Default)]
pub struct ClientFlags {
    /// `--url`.
    pub url: Option<String>,
    /// `--user`.
    pub user: Option<String>,
    /// `--pass`.
    pub pass: Option<SecretString>,
    /// `--as-account`.
    pub as_account: Option<String>,
    /// `--json`.
    pub json: bool,
}

impl std::fmt::Debug for ClientFlags {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientFlags")
            .field("url", &self.url)
            .field("user", &self.user)
            .field("pass", &self.pass.as_ref().map(|_| "[redacted]"))
            .field("as_account", &self.as_account)
            .field("json", &self.json)
            .finish()
    }
}

/// Resolved connection settings of the API client.
#[derive(Clone)]
pub struct ClientSettings {
    /// Base URL of the API; always ends with `/` so relative paths join below it.
    pub url: Url,
    /// User name for HTTP basic auth (none: requests go unauthenticated).
    pub user: Option<String>,
    /// Password for HTTP basic auth.
    pub password: Option<SecretString>,
    /// Account to act in (`x-anchore-account`), for admins.
    pub account: Option<String>,
    /// Print raw JSON instead of tables.
    pub json: bool,
}

impl std::fmt::Debug for ClientSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSettings")
            .field("url", &self.url.as_str())
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("account", &self.account)
            .field("json", &self.json)
            .finish()
    }
}

impl ClientSettings {
    /// Resolves each value from its flag, else `ANCHORAGE_*`, else `ANCHORE_CLI_*` (empty
    /// values count as unset); the URL defaults to [`DEFAULT_CLIENT_URL`]. The URL must be
    /// http(s) and must not carry credentials (they belong in `--user`/`--pass`).
    pub fn resolve(
        flags: &ClientFlags,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Self, SettingsError> {
        let text = |k: &str| {
            env(k)
                .and_then(|v| v.into_string().ok())
                .filter(|v| !v.is_empty())
        };
        let pick = |flag: &Option<String>, ours: &str, theirs: &str| {
            flag.clone()
                .filter(|v| !v.is_empty())
                .or_else(|| text(ours))
                .or_else(|| text(theirs))
        };
        let (url_text, url_name) = match (&flags.url, text(ANCHORAGE_URL), text(ANCHORE_CLI_URL)) {
            (Some(u), _, _) if !u.is_empty() => (u.clone(), "--url"),
            (_, Some(u), _) => (u, ANCHORAGE_URL),
            (_, None, Some(u)) => (u, ANCHORE_CLI_URL),
            _ => (DEFAULT_CLIENT_URL.to_string(), "--url"),
        };
        let url = parse_base_url(&url_text).map_err(|reason| SettingsError::Value {
            name: url_name.to_string(),
            reason,
        })?;
        let password = flags
            .pass
            .clone()
            .filter(|p| !secrecy::ExposeSecret::expose_secret(p).is_empty())
            .or_else(|| text(ANCHORAGE_PASS).map(SecretString::from))
            .or_else(|| text(ANCHORE_CLI_PASS).map(SecretString::from));
        let json =
            flags.json || text(ANCHORE_CLI_JSON).is_some_and(|v| v.eq_ignore_ascii_case("y"));
        Ok(Self {
            url,
            user: pick(&flags.user, ANCHORAGE_USER, ANCHORE_CLI_USER),
            password,
            account: pick(&flags.as_account, ANCHORAGE_ACCOUNT, ANCHORE_CLI_ACCOUNT),
            json,
        })
    }
}

/// Parses a base URL; the reason never quotes the text (it might hold a password).
fn parse_base_url(text: &str) -> Result<Url, String> {
    let mut url = Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("scheme {:?} is not http or https", url.scheme()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("credentials do not belong in the URL: use --user and --pass".into());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the base URL must not have a query or fragment".into());
    }
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret as _;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<OsString> + use<> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).map(OsString::from)
    }

    #[test]
    fn defaults_to_anchore_cli_url_without_credentials() {
        let s = ClientSettings::resolve(&ClientFlags::default(), &env(&[])).unwrap();
        assert_eq!(s.url.as_str(), "http://localhost:8228/v1/");
        assert!(s.user.is_none() && s.password.is_none() && s.account.is_none());
        assert!(!s.json);
    }

    #[test]
    fn flags_over_anchorage_env_over_anchore_cli_env() {
        let e = env(&[
            (ANCHORAGE_URL, "http://ours:1/v1"),
            (ANCHORE_CLI_URL, "http://theirs:2/v1"),
            (ANCHORE_CLI_USER, "cli-user"),
            (ANCHORAGE_PASS, "ours-pass"),
            (ANCHORE_CLI_PASS, "theirs-pass"),
            (ANCHORE_CLI_ACCOUNT, "team2"),
            (ANCHORE_CLI_JSON, "Y"),
        ]);
        let s = ClientSettings::resolve(&ClientFlags::default(), &e).unwrap();
        assert_eq!(s.url.as_str(), "http://ours:1/v1/");
        assert_eq!(s.user.as_deref(), Some("cli-user"));
        assert_eq!(
            s.password.as_ref().map(|p| p.expose_secret().to_string()),
            Some("ours-pass".to_string())
        );
        assert_eq!(s.account.as_deref(), Some("team2"));
        assert!(s.json);
        let flags = ClientFlags {
            url: Some("https://flag:3/v1/".into()),
            user: Some("flag-user".into()),
            pass: Some(SecretString::from("flag-pass".to_string())),
            as_account: Some("acct".into()),
            json: false,
        };
        let s = ClientSettings::resolve(&flags, &e).unwrap();
        assert_eq!(s.url.as_str(), "https://flag:3/v1/");
        assert_eq!(s.user.as_deref(), Some("flag-user"));
        assert_eq!(
            s.password.as_ref().map(|p| p.expose_secret().to_string()),
            Some("flag-pass".to_string())
        );
        assert_eq!(s.account.as_deref(), Some("acct"));
        let s = ClientSettings::resolve(
            &ClientFlags::default(),
            &env(&[(ANCHORE_CLI_URL, "http://theirs:2/v1"), (ANCHORAGE_URL, "")]),
        )
        .unwrap();
        assert_eq!(s.url.as_str(), "http://theirs:2/v1/");
    }

    #[test]
    fn synthetic_bad_urls_are_refused_without_echoing_secrets() {
        for (url, want) in [
            ("ftp://host/v1", "scheme"),
            ("not a url", "not a URL"),
            ("http://admin:hunter2@host/v1", "credentials"),
            ("http://host/v1?x=1", "query"),
        ] {
            let e = env(&[(ANCHORE_CLI_URL, url)]);
            let err = ClientSettings::resolve(&ClientFlags::default(), &e)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{url}: {err}");
            assert!(err.contains(ANCHORE_CLI_URL), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
        let debug = format!(
            "{:?}",
            ClientSettings::resolve(
                &ClientFlags::default(),
                &env(&[(ANCHORAGE_PASS, "hunter2")])
            )
            .unwrap()
        );
        assert!(!debug.contains("hunter2"), "{debug}");
    }
}
