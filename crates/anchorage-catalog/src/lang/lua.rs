//! Lua rocks from `*.rockspec` files (LuaRocks installs one per rock under
//! `lib/luarocks/rocks-<lua version>/<name>/<version>/`). A rockspec is Lua source: it is never
//! run; only the top-level `package = "..."` / `version = "..."` assignments and the
//! `description` table's `license` string field are read.

use anchorage_types::PackageType;

use super::util::purl;
use super::{Found, LangLimits, TextCataloger};

const STAGE: &str = "lua";

/// `*.rockspec` anywhere.
pub(crate) fn wants(path: &str) -> bool {
    path.ends_with(".rockspec")
}

/// The string literal (`"..."`, `'...'` or `[[...]]`) at the start of `s`, unescaped for
/// `\\` and quotes.
fn string_literal(s: &str) -> Option<String> {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix("[[") {
        return rest.find("]]").map(|end| rest[..end].to_string());
    }
    let quote = s.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let mut out = String::new();
    let mut chars = s[1..].chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            c if c == quote => return Some(out),
            c => out.push(c),
        }
    }
    None
}

/// `key = "value"` on `line` (after leading blanks), for the exact `key`.
fn assignment(line: &str, key: &str) -> Option<String> {
    let rest = line.trim_start().strip_prefix(key)?;
    let rest = rest.trim_start().strip_prefix('=')?;
    string_literal(rest)
}

/// Reads name, version and license of a rockspec.
pub(crate) fn parse(_path: &str, input: &str) -> Result<Vec<Found>, String> {
    let (mut name, mut version, mut license) = (None, None, None);
    let mut depth = 0i32; // table nesting: top-level assignments are at depth 0
    let mut in_description = false;
    for raw in input.lines() {
        let line = raw.split("--").next().unwrap_or_default();
        if depth == 0 {
            name = name.or_else(|| assignment(line, "package"));
            version = version.or_else(|| assignment(line, "version"));
            if line.trim_start().starts_with("description") && line.contains('{') {
                in_description = true;
            }
        } else if depth == 1 && in_description {
            license = license.or_else(|| assignment(line, "license"));
        }
        // braces inside strings are rare in rockspecs; good enough to track nesting
        for c in line.chars() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                _ => {}
            }
        }
        if depth <= 0 {
            depth = 0;
            in_description = false;
        }
    }
    let (Some(name), Some(version)) = (name, version) else {
        return Err("no package and version assignments".into());
    };
    let mut f = Found::new(&name, &version, purl("luarocks", None, &name, &version));
    f.licenses = license.into_iter().collect();
    Ok(vec![f])
}

/// The Lua rocks cataloger.
pub(crate) fn cataloger(limits: LangLimits) -> TextCataloger {
    TextCataloger::new(STAGE, PackageType::LuaRocks, limits, wants, parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_literals_and_nesting() {
        let got = parse(
            "/x.rockspec",
            "package = 'luasocket' -- c\nversion = [[3.1.0-1]]\nsource = { license = \"no\" }\n\
             description = {\n  summary = \"s\",\n  nested = { license = 'inner' },\n  license = \"MIT\\\"X\"\n}\n",
        )
        .unwrap();
        assert_eq!(got[0].name, "luasocket");
        assert_eq!(got[0].version, "3.1.0-1");
        assert_eq!(got[0].licenses, ["MIT\"X"]);
        assert!(parse("/y.rockspec", "local x = 1").is_err());
    }
}
