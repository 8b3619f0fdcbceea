//! Homebrew formulae installed in a Cellar (`<prefix>/Cellar/<name>/<version>/`, on Linux
//! usually under `/home/linuxbrew/.linuxbrew`): every installed keg holds the
//! `INSTALL_RECEIPT.json` Homebrew writes when it pours or builds it. Name and version come
//! from the keg's path (the version with Homebrew's `_N` revision), the tap from the receipt.

use anchorage_types::PackageType;
use serde_json::Value;

use super::util::purl;
use super::{Found, LangLimits, TextCataloger};

const STAGE: &str = "homebrew";

/// `(name, version)` of a `.../Cellar/<name>/<version>/INSTALL_RECEIPT.json` path.
fn keg(path: &str) -> Option<(&str, &str)> {
    let mut parts = path.rsplit('/');
    let file = parts.next()?;
    let version = parts.next()?;
    let name = parts.next()?;
    let cellar = parts.next()?;
    (file == "INSTALL_RECEIPT.json"
        && cellar == "Cellar"
        && !name.is_empty()
        && !version.is_empty())
    .then_some((name, version))
}

/// Install receipts of kegs in a Cellar.
pub(crate) fn wants(path: &str) -> bool {
    keg(path).is_some()
}

/// Reads one keg's receipt.
pub(crate) fn parse(path: &str, input: &str) -> Result<Vec<Found>, String> {
    let (name, version) = keg(path).ok_or("not a keg's receipt")?;
    let v: Value = serde_json::from_str(input).map_err(|e| format!("invalid JSON: {e}"))?;
    if !v.is_object() {
        return Err("receipt is not a JSON object".into());
    }
    let tap = v
        .get("source")
        .and_then(|s| s.get("tap"))
        .and_then(Value::as_str)
        .unwrap_or("");
    let p = match tap {
        "" | "homebrew/core" => purl("brew", None, name, version),
        t => anchorage_types::purl::for_package("brew", None, name, version, &[("tap", t)]),
    };
    Ok(vec![Found::new(name, version, p)])
}

/// The Homebrew cataloger.
pub(crate) fn cataloger(limits: LangLimits) -> TextCataloger {
    TextCataloger::new(STAGE, PackageType::Homebrew, limits, wants, parse)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_keg_paths() {
        assert_eq!(
            keg("/home/linuxbrew/.linuxbrew/Cellar/openssl@3/3.2.1_1/INSTALL_RECEIPT.json"),
            Some(("openssl@3", "3.2.1_1"))
        );
        assert_eq!(keg("/x/Cellar/jq/INSTALL_RECEIPT.json"), None);
        assert_eq!(keg("/x/Cellar/jq/1.7/bin/INSTALL_RECEIPT.json"), None);
    }
}
