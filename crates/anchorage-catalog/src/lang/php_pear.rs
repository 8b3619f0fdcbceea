//! PEAR and PECL registry entries: `.../php/.registry/*.reg` (PEAR packages) and
//! `.../php/.registry/.channel.*/*.reg` (PECL and other channels), PHP-serialized arrays
//! written by the `pear` / `pecl` installers. Parsed by a bounded reader of PHP's
//! `serialize()` format (hand-written: the format is small, and no maintained crate reads it
//! without pulling in a PHP runtime model); never executed.

use std::collections::BTreeMap;

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;

use super::util::{base_name, is_file, purl, read_entry};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::Package;

const STAGE: &str = "php-pear";

/// The one place that says which files this cataloger wants: a `.reg` file below a
/// `php/.registry` directory (Debian: `/usr/share/php/.registry`, docker-library:
/// `/usr/local/lib/php/.registry`).
pub(crate) fn wants(path: &str) -> bool {
    path.ends_with(".reg") && path.contains("/php/.registry/")
}

/// Deepest array nesting accepted.
const MAX_DEPTH: usize = 32;

/// A PHP serialized value (the subset registry files use).
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum PhpValue {
    /// `N;`
    Null,
    /// `b:0;` / `b:1;`
    Bool(bool),
    /// `i:N;`
    Int(i64),
    /// `d:F;` (kept as written)
    Float(String),
    /// `s:LEN:"...";` (bytes, lossily decoded)
    Str(String),
    /// `a:N:{k v ...}` with string or integer keys (integer keys as decimal strings)
    Array(BTreeMap<String, PhpValue>),
}

/// A malformed serialized value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("malformed PHP serialized data at byte {offset}: {message}")]
pub(crate) struct PhpError {
    offset: usize,
    message: &'static str,
}

struct Reader<'a> {
    b: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn err(&self, message: &'static str) -> PhpError {
        PhpError {
            offset: self.i,
            message,
        }
    }

    fn expect(&mut self, c: u8) -> Result<(), PhpError> {
        if self.b.get(self.i) == Some(&c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err("unexpected byte"))
        }
    }

    fn until(&mut self, end: u8) -> Result<&[u8], PhpError> {
        let start = self.i;
        let rel = self.b[start..]
            .iter()
            .position(|&x| x == end)
            .ok_or_else(|| self.err("unterminated value"))?;
        self.i = start + rel + 1;
        Ok(&self.b[start..start + rel])
    }

    fn number(&mut self, end: u8) -> Result<i64, PhpError> {
        let raw = self.until(end)?;
        std::str::from_utf8(raw)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| self.err("bad number"))
    }

    fn value(&mut self, depth: usize) -> Result<PhpValue, PhpError> {
        if depth > MAX_DEPTH {
            return Err(self.err("nested too deeply"));
        }
        let tag = *self.b.get(self.i).ok_or_else(|| self.err("truncated"))?;
        self.i += 1;
        if tag == b'N' {
            self.expect(b';')?;
            return Ok(PhpValue::Null);
        }
        self.expect(b':')?;
        match tag {
            b'b' => Ok(PhpValue::Bool(self.number(b';')? != 0)),
            b'i' => Ok(PhpValue::Int(self.number(b';')?)),
            b'd' => Ok(PhpValue::Float(
                String::from_utf8_lossy(self.until(b';')?).into_owned(),
            )),
            b's' => {
                let len =
                    usize::try_from(self.number(b':')?).map_err(|_| self.err("bad length"))?;
                self.expect(b'"')?;
                let end = self
                    .i
                    .checked_add(len)
                    .filter(|e| *e <= self.b.len())
                    .ok_or_else(|| self.err("string runs past the end"))?;
                let s = String::from_utf8_lossy(&self.b[self.i..end]).into_owned();
                self.i = end;
                self.expect(b'"')?;
                self.expect(b';')?;
                Ok(PhpValue::Str(s))
            }
            b'a' => {
                let n = usize::try_from(self.number(b':')?).map_err(|_| self.err("bad count"))?;
                // every element takes at least 8 bytes: refuse counts the input cannot hold
                if n > self.b.len() / 8 + 1 {
                    return Err(self.err("array count larger than the input"));
                }
                self.expect(b'{')?;
                let mut map = BTreeMap::new();
                for _ in 0..n {
                    let key = match self.value(depth + 1)? {
                        PhpValue::Str(s) => s,
                        PhpValue::Int(i) => i.to_string(),
                        _ => return Err(self.err("array key is not a string or integer")),
                    };
                    let v = self.value(depth + 1)?;
                    map.insert(key, v);
                }
                self.expect(b'}')?;
                Ok(PhpValue::Array(map))
            }
            _ => Err(self.err("unsupported type")),
        }
    }
}

/// Parses one PHP serialized value.
pub(crate) fn unserialize(bytes: &[u8]) -> Result<PhpValue, PhpError> {
    Reader { b: bytes, i: 0 }.value(0)
}

impl PhpValue {
    fn get(&self, key: &str) -> Option<&PhpValue> {
        match self {
            PhpValue::Array(m) => m.get(key),
            _ => None,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            PhpValue::Str(s) if !s.is_empty() => Some(s),
            _ => None,
        }
    }
}

/// One registry entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PearEntry {
    /// Package name (`Archive_Tar`).
    pub(crate) name: String,
    /// Channel (`pear.php.net`, `pecl.php.net`).
    pub(crate) channel: String,
    /// Release version.
    pub(crate) version: String,
    /// License text, when given.
    pub(crate) license: Option<String>,
}

/// A registry file that is not a package entry.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub(crate) enum PearError {
    /// Not PHP serialized data.
    #[error(transparent)]
    Php(#[from] PhpError),
    /// A required field is missing.
    #[error("registry entry has no {0}")]
    Missing(&'static str),
}

/// Reads a `.reg` file: `name`, `channel`, `version.release`, `license._content`.
pub(crate) fn parse_reg(bytes: &[u8]) -> Result<PearEntry, PearError> {
    let v = unserialize(bytes)?;
    let name = v
        .get("name")
        .and_then(PhpValue::as_str)
        .ok_or(PearError::Missing("name"))?;
    let channel = v
        .get("channel")
        .and_then(PhpValue::as_str)
        .ok_or(PearError::Missing("channel"))?;
    let version = v
        .get("version")
        .and_then(|x| x.get("release"))
        .and_then(PhpValue::as_str)
        .ok_or(PearError::Missing("version"))?;
    let license = v
        .get("license")
        .and_then(|l| l.get("_content").or(Some(l)))
        .and_then(PhpValue::as_str)
        .map(str::to_string);
    Ok(PearEntry {
        name: name.to_string(),
        channel: channel.to_string(),
        version: version.to_string(),
        license,
    })
}

/// The purl of an entry: `pkg:pecl/...` for the PECL channel, else `pkg:pear/CHANNEL/NAME`.
pub(crate) fn pear_purl(e: &PearEntry) -> String {
    let ty = if e.channel.starts_with("pecl.") {
        "pecl"
    } else {
        "pear"
    };
    purl(ty, Some(&e.channel), &e.name, &e.version)
}

/// Finds PEAR / PECL packages from their registry files.
pub(crate) struct PearCataloger {
    limits: LangLimits,
}

impl PearCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

impl Cataloger for PearCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e) && wants(&e.path)
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        for entry in files {
            // hidden files are the installer's own bookkeeping, not packages
            if base_name(&entry.path).starts_with('.') {
                continue;
            }
            let Some(bytes) = read_entry(fs, entry, self.limits.max_manifest_bytes, ctx, STAGE)
            else {
                continue;
            };
            let e = match parse_reg(&bytes) {
                Ok(e) => e,
                Err(err) => {
                    ctx.warn(STAGE, Some(&entry.path), err.to_string());
                    continue;
                }
            };
            let mut d = PackageDraft::new(
                PackageType::PhpPear,
                e.name.clone(),
                e.version.clone(),
                pear_purl(&e),
                location_of(fs, entry),
            );
            d.licenses = e.license.into_iter().collect();
            out.push(d.build());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_serialized_subset() {
        let v =
            unserialize(br#"a:3:{s:4:"name";s:3:"a;b";i:0;b:1;s:1:"x";a:1:{s:1:"y";N;}}"#).unwrap();
        assert_eq!(v.get("name").and_then(PhpValue::as_str), Some("a;b"));
        assert_eq!(v.get("0"), Some(&PhpValue::Bool(true)));
    }

    #[test]
    fn hostile_serialized_inputs_are_errors() {
        for bad in [
            &b"a:99999999:{"[..],
            b"s:10:\"abc\";",
            b"a:1:{a:0:{}s:1:\"x\";}",
            b"",
            b"x:1;",
        ] {
            assert!(unserialize(bad).is_err(), "{bad:?}");
        }
        let deep = "a:1:{i:0;".repeat(100);
        assert!(unserialize(deep.as_bytes()).is_err());
    }
}
