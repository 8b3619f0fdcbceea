//! The TOML file format (unknown keys are errors) and its conversion into one resolved layer.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use anchorage_types::Platform;
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use crate::error::SettingsError;
use crate::malware::{ClamavSettings, RawMalware, validate_malware};
use crate::roles::{
    RawDatabase, RawFeeds, RawRoles, RawScan, RawServer, RawWebhooks, RawWorker, RoleLayer,
    validate_roles,
};
use crate::sections::{LimitSettings, RegistrySettings};

/// One config file as written.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFile {
    cache_dir: Option<PathBuf>,
    data_dir: Option<PathBuf>,
    platform: Option<String>,
    docker_config: Option<bool>,
    #[serde(default)]
    insecure_registries: Vec<String>,
    #[serde(default)]
    registries: Vec<RawRegistry>,
    #[serde(default)]
    limits: LimitSettings,
    #[serde(default)]
    scan: RawScan,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    worker: RawWorker,
    #[serde(default)]
    database: RawDatabase,
    #[serde(default)]
    feeds: RawFeeds,
    #[serde(default)]
    webhooks: RawWebhooks,
    #[serde(default)]
    malware: RawMalware,
}

/// One `[[registries]]` entry as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegistry {
    host: String,
    username: Option<String>,
    password: Option<SecretString>,
    password_env: Option<String>,
    password_file: Option<PathBuf>,
    #[serde(default)]
    insecure: bool,
    tls_verify: Option<bool>,
}

/// The values one file sets, paths made absolute against the file's directory and passwords
/// read from their variables or files.
#[derive(Default)]
pub(crate) struct Layer {
    pub(crate) cache_dir: Option<PathBuf>,
    pub(crate) data_dir: Option<PathBuf>,
    pub(crate) platform: Option<Platform>,
    pub(crate) docker_config: Option<bool>,
    pub(crate) insecure_registries: Vec<String>,
    pub(crate) registries: Vec<RegistrySettings>,
    pub(crate) limits: LimitSettings,
    pub(crate) roles: RoleLayer,
    pub(crate) clamav: ClamavSettings,
}

/// Largest config or password file read.
const MAX_FILE: u64 = 1 << 20;

fn read_small(path: &Path) -> Result<Vec<u8>, std::io::Error> {
    use std::io::Read as _;
    let file = std::fs::File::open(path)?;
    let mut buf = Vec::new();
    file.take(MAX_FILE + 1).read_to_end(&mut buf)?;
    if buf.len() as u64 > MAX_FILE {
        return Err(std::io::Error::other(format!(
            "larger than {MAX_FILE} bytes"
        )));
    }
    Ok(buf)
}

/// serde messages quote the offending value between backticks (`invalid type: string
/// "hunter2"`...); drop it so a mistyped password never reaches an error.
fn elide_values(message: &str) -> String {
    let first = message.lines().next().unwrap_or(message);
    if !(first.starts_with("invalid type") || first.starts_with("invalid value")) {
        return first.to_string();
    }
    match (first.find(['`', '"']), first.find(", expected")) {
        (Some(open), Some(expected)) if open < expected => {
            format!("{}…{}", &first[..open], &first[expected..])
        }
        _ => first.to_string(),
    }
}

/// Reads and resolves one config file. `env` looks up `password_env` variables.
pub(crate) fn read_layer(
    path: &Path,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<Layer, SettingsError> {
    let bytes = read_small(path).map_err(|source| SettingsError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8(bytes).map_err(|_| SettingsError::Parse {
        path: path.to_path_buf(),
        line: 1,
        message: "not UTF-8 text".into(),
    })?;
    let raw: RawFile = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(1, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        SettingsError::Parse {
            path: path.to_path_buf(),
            line,
            // `message()` is the error without the quoted source line (which may hold a
            // password).
            message: elide_values(e.message()),
        }
    })?;
    let base = path.parent().unwrap_or(Path::new("."));
    let invalid = |key: String, reason: String| SettingsError::Invalid {
        path: path.to_path_buf(),
        key,
        reason,
    };
    let roles = validate_roles(
        RawRoles {
            scan: raw.scan,
            server: raw.server,
            worker: raw.worker,
            database: raw.database,
            feeds: raw.feeds,
            webhooks: raw.webhooks,
        },
        base,
        env,
        &read_small,
        &invalid,
    )?;
    let clamav = validate_malware(raw.malware, "malware.clamav", base, &invalid)?;
    let platform = raw
        .platform
        .map(|p| Platform::from_str(&p).map_err(|e| invalid("platform".into(), e.to_string())))
        .transpose()?;
    let mut registries = Vec::new();
    for (i, r) in raw.registries.into_iter().enumerate() {
        let key = |k: &str| format!("registries[{i}].{k}");
        let host = r.host.trim().trim_end_matches('/').to_string();
        if host.is_empty() || host.contains("://") || host.contains('/') {
            return Err(invalid(
                key("host"),
                format!("{host:?} is not a registry HOST[:PORT]"),
            ));
        }
        let sources = [
            r.password.is_some(),
            r.password_env.is_some(),
            r.password_file.is_some(),
        ];
        if sources.iter().filter(|s| **s).count() > 1 {
            return Err(invalid(
                key("password"),
                "set only one of password, password_env and password_file".into(),
            ));
        }
        let password = if let Some(p) = r.password {
            Some(p)
        } else if let Some(var) = &r.password_env {
            let value = env(var).ok_or_else(|| {
                invalid(
                    key("password_env"),
                    format!("environment variable {var} is not set"),
                )
            })?;
            let value = value.into_string().map_err(|_| {
                invalid(
                    key("password_env"),
                    format!("environment variable {var} is not UTF-8"),
                )
            })?;
            Some(SecretString::from(value))
        } else if let Some(file) = &r.password_file {
            let file = base.join(file);
            let bytes = read_small(&file)
                .map_err(|e| invalid(key("password_file"), format!("{}: {e}", file.display())))?;
            let text = String::from_utf8(bytes).map_err(|_| {
                invalid(
                    key("password_file"),
                    format!("{}: not UTF-8", file.display()),
                )
            })?;
            Some(SecretString::from(
                text.trim_end_matches(['\n', '\r']).to_string(),
            ))
        } else {
            None
        };
        if password
            .as_ref()
            .is_some_and(|p| p.expose_secret().is_empty())
        {
            return Err(invalid(key("password"), "is empty".into()));
        }
        match (&r.username, &password) {
            (Some(_), None) => {
                return Err(invalid(
                    key("username"),
                    "needs password, password_env or password_file".into(),
                ));
            }
            (None, Some(_)) => {
                return Err(invalid(key("password"), "needs a username".into()));
            }
            _ => {}
        }
        registries.push(RegistrySettings {
            host,
            username: r.username,
            password,
            insecure: r.insecure || r.tls_verify == Some(false),
        });
    }
    Ok(Layer {
        cache_dir: raw.cache_dir.map(|p| base.join(p)),
        data_dir: raw.data_dir.map(|p| base.join(p)),
        platform,
        docker_config: raw.docker_config,
        insecure_registries: raw
            .insecure_registries
            .into_iter()
            .map(|h| h.trim().trim_end_matches('/').to_string())
            .filter(|h| !h.is_empty())
            .collect(),
        registries,
        limits: raw.limits,
        roles,
        clamav,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elides_quoted_values() {
        assert_eq!(
            elide_values("invalid type: string \"hunter2\", expected a boolean"),
            "invalid type: string …, expected a boolean"
        );
        assert_eq!(
            elide_values("unknown field `pasword`, expected one of `host`"),
            "unknown field `pasword`, expected one of `host`"
        );
    }
}
