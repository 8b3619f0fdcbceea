//! Small helpers shared by the language catalogers: capped reads, purl and CPE strings, paths.

use anchorage_image::{EntryKind, FileEntry, ImageFs};
use anchorage_types::PackageType;

use crate::cataloger::CatalogContext;

/// Reads the regular file `entry` (hard links through their target) up to `limit` bytes; a
/// failure becomes a warning for `stage` and `None`.
pub(crate) fn read_entry(
    fs: &dyn ImageFs,
    entry: &FileEntry,
    limit: u64,
    ctx: &mut CatalogContext,
    stage: &str,
) -> Option<Vec<u8>> {
    match fs.read_limited(&entry.path, limit) {
        Ok(b) => Some(b),
        Err(e) => {
            ctx.warn(stage, Some(&entry.path), e.to_string());
            None
        }
    }
}

/// Reads `path` if it exists, up to `limit` bytes; missing files are silently `None`, other
/// failures are warnings.
pub(crate) fn read_optional(
    fs: &dyn ImageFs,
    path: &str,
    limit: u64,
    ctx: &mut CatalogContext,
    stage: &str,
) -> Option<Vec<u8>> {
    match fs.read_limited(path, limit) {
        Ok(b) => Some(b),
        Err(anchorage_image::FsError::NotFound(_)) => None,
        Err(e) => {
            ctx.warn(stage, Some(path), e.to_string());
            None
        }
    }
}

/// True for entries whose content can be read (regular files and hard links).
pub(crate) fn is_file(entry: &FileEntry) -> bool {
    matches!(entry.kind, EntryKind::File | EntryKind::Hardlink)
}

/// The last path component.
pub(crate) fn base_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The parent directory (`/` for top-level entries).
pub(crate) fn parent_dir(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Joins an absolute directory and a relative path, normalized (`..` cannot leave the root).
pub(crate) fn join(dir: &str, rel: &str) -> String {
    let joined = if rel.starts_with('/') {
        rel.to_string()
    } else {
        format!("{dir}/{rel}")
    };
    anchorage_image::normalize_path(&joined).unwrap_or(joined)
}

/// A package URL `pkg:TYPE/[NAMESPACE/]NAME@VERSION`, encoded by the workspace's one purl
/// encoder ([`anchorage_types::purl::for_package`], Syft's rules).
pub(crate) fn purl(ty: &str, namespace: Option<&str>, name: &str, version: &str) -> String {
    anchorage_types::purl::for_package(ty, namespace, name, version, &[])
}

/// An npm purl (`pkg:npm/%40scope/name@1.0.0`).
pub(crate) fn npm_purl(name: &str, version: &str) -> String {
    match name.split_once('/') {
        Some((scope, n)) if scope.starts_with('@') => purl("npm", Some(scope), n, version),
        _ => purl("npm", None, name, version),
    }
}

/// Escapes one CPE 2.3 formatted-string component.
fn cpe_part(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        // the formatted-string binding leaves `.`, `-` and `_` unquoted
        if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
            out.push(c.to_ascii_lowercase());
        } else if c.is_whitespace() {
            out.push('_');
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

/// A CPE 2.3 application string for vendor, product and version.
pub(crate) fn cpe(vendor: &str, product: &str, version: &str) -> String {
    format!(
        "cpe:2.3:a:{}:{}:{}:*:*:*:*:*:*:*",
        cpe_part(vendor),
        cpe_part(product),
        cpe_part(version)
    )
}

/// Candidate CPEs when a cataloger gives none: vendor = product = name (and for Python the
/// `python-NAME` vendor Syft also emits).
pub(crate) fn default_cpes(ty: PackageType, name: &str, version: &str) -> Vec<String> {
    if name.is_empty() || version.is_empty() {
        return Vec::new();
    }
    let product = name.rsplit('/').next().unwrap_or(name);
    let mut out = vec![cpe(product, product, version)];
    if ty == PackageType::Python {
        out.push(cpe(&format!("python-{product}"), product, version));
    }
    out
}

/// Plain JSON from JSON with comments and trailing commas (bun's `bun.lock`, `deno.json`):
/// `//` and `/* */` comments outside strings are dropped, and a `,` followed (after
/// whitespace) by `}` or `]` is removed. Strings, escapes included, are copied unchanged.
pub(crate) fn strip_jsonc(input: &str) -> String {
    let b = input.as_bytes();
    let mut out: Vec<u8> = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'"' => {
                let start = i;
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i = (i + 1).min(b.len());
                out.extend_from_slice(&b[start..i]);
            }
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i = (i + 2).min(b.len());
            }
            b',' => {
                let mut j = i + 1;
                while j < b.len() && b[j].is_ascii_whitespace() {
                    j += 1;
                }
                if !matches!(b.get(j), Some(b'}' | b']')) {
                    out.push(b',');
                }
                i += 1;
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lossy UTF-8 text of a byte buffer (BOM stripped).
pub(crate) fn text(bytes: &[u8]) -> String {
    let b = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    String::from_utf8_lossy(b).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purls_are_encoded() {
        assert_eq!(
            npm_purl("@types/node", "1.0.0"),
            "pkg:npm/%40types/node@1.0.0"
        );
        assert_eq!(
            purl("maven", Some("org.apache"), "log4j-core", "2.19.0"),
            "pkg:maven/org.apache/log4j-core@2.19.0"
        );
        assert_eq!(join("/a/b", "../../../../etc/x"), "/etc/x");
    }

    #[test]
    fn synthetic_jsonc_comments_and_trailing_commas() {
        let j = strip_jsonc(
            "{\"a\": [1, 2,], // c\n \"b\": \"x,]//\\\"y\", /* c2 */ \"c\": {\"d\": 1,\n},\n}",
        );
        let v: serde_json::Value = serde_json::from_str(&j).unwrap();
        assert_eq!(v["a"][1], 2);
        assert_eq!(v["b"], "x,]//\"y");
        assert_eq!(v["c"]["d"], 1);
        assert_eq!(strip_jsonc("\"unterminated"), "\"unterminated");
    }
}
