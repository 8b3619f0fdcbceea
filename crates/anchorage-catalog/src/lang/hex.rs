//! Erlang and Elixir packages from Hex: Elixir's `mix.lock` (a map literal, one
//! `"app": {:hex, :name, "version", "hash", ...}` entry per line) and rebar3's `rebar.lock`
//! (`{<<"app">>, {pkg, <<"name">>, <<"version">>}, level}` tuples). Git and path dependencies
//! are not Hex packages. Neither file is evaluated: entries are matched as text.

use std::sync::LazyLock;

use anchorage_types::PackageType;
use regex::Regex;

use super::util::{base_name, purl};
use super::{Found, LangLimits, TextCataloger};

const STAGE: &str = "hex";

/// `mix.lock` and `rebar.lock` anywhere.
pub(crate) fn wants(path: &str) -> bool {
    matches!(base_name(path), "mix.lock" | "rebar.lock")
}

static MIX: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#""[^"]+"\s*:\s*\{\s*:hex\s*,\s*:"?([A-Za-z0-9_\-]+)"?\s*,\s*"([^"]+)""#).ok()
});

static REBAR: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"\{\s*pkg\s*,\s*<<"([^"]+)">>\s*,\s*<<"([^"]+)">>"#).ok());

/// Parses a `mix.lock` or `rebar.lock`.
pub(crate) fn parse(path: &str, input: &str) -> Result<Vec<Found>, String> {
    let re = if base_name(path) == "mix.lock" {
        MIX.as_ref()
    } else {
        REBAR.as_ref()
    }
    .ok_or("internal: pattern did not compile")?;
    let mut out: Vec<Found> = Vec::new();
    for c in re.captures_iter(input) {
        let (name, version) = (&c[1], &c[2]);
        if !out.iter().any(|f| f.name == name && f.version == version) {
            out.push(Found::new(name, version, purl("hex", None, name, version)));
        }
    }
    Ok(out)
}

/// The Hex cataloger.
pub(crate) fn cataloger(limits: LangLimits) -> TextCataloger {
    TextCataloger::new(STAGE, PackageType::Hex, limits, wants, parse)
}
