//! The engine API client: `anchorage image|evaluate|registry|subscription|repo|system|event|
//! account|analysis-archive` and the
//! server-side `policy` subcommands talk to a running `anchorage serve` (or Anchore Engine)
//! over its v1 REST API, mirroring anchore-cli's verbs, output and exit codes.
//!
//! Connection: `--url/--user/--pass/--as-account`, else `ANCHORAGE_URL`/`_USER`/`_PASS`/
//! `_ACCOUNT`, else anchore-cli's `ANCHORE_CLI_*` (see `anchorage_settings::ClientSettings`).
//! Exit codes (anchore-cli's): 0 success; 1 any other non-2xx answer; 2 on 401, 500,
//! transport and local errors; `evaluate check`: 0 pass, 1 fail, 2 anything else.

pub(crate) mod account;
pub(crate) mod analysis_archive;
pub(crate) mod evaluate;
pub(crate) mod event;
mod http;
pub(crate) mod image;
mod lookup;
pub(crate) mod policy;
pub(crate) mod registry;
pub(crate) mod subscription;
pub(crate) mod system;
mod table;

use secrecy::SecretString;

/// Parses a secret flag value.
fn secret(text: &str) -> Result<SecretString, std::convert::Infallible> {
    Ok(SecretString::from(text.to_string()))
}

/// Connection flags of every client command.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct Conn {
    /// Engine API base URL (else `$ANCHORAGE_URL`, `$ANCHORE_CLI_URL`, http://localhost:8228/v1).
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// API user (else `$ANCHORAGE_USER`, `$ANCHORE_CLI_USER`).
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// API password (else `$ANCHORAGE_PASS`, `$ANCHORE_CLI_PASS`; the environment keeps it out
    /// of process lists).
    #[arg(long, value_name = "PASSWORD", value_parser = secret)]
    pass: Option<SecretString>,
    /// Act in this account (admins; sent as `x-anchore-account`; else `$ANCHORAGE_ACCOUNT`,
    /// `$ANCHORE_CLI_ACCOUNT`).
    #[arg(long, value_name = "ACCOUNT")]
    as_account: Option<String>,
    /// Print the server's raw JSON instead of tables (also `ANCHORE_CLI_JSON=y`).
    #[arg(long)]
    json: bool,
}

impl Conn {
    fn flags(&self) -> anchorage_settings::ClientFlags {
        anchorage_settings::ClientFlags {
            url: self.url.clone(),
            user: self.user.clone(),
            pass: self.pass.clone(),
            as_account: self.as_account.clone(),
            json: self.json,
        }
    }
}
