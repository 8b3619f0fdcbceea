//! Nix store paths: every top-level entry of `/nix/store` named `<hash>-<name>-<version>` is
//! an installed derivation output. Nothing is read: the name holds the identity. The version
//! starts at the first `-` followed by a digit (Nix's own `parseDrvName` rule); a trailing
//! output name (`-bin`, `-dev`, `-lib`, ...) is kept apart. Derivations (`.drv`), and store
//! entries without a version (sources, `-env` profiles) are not packages.

use anchorage_image::{EntryKind, FileEntry, ImageFs};
use anchorage_types::PackageType;

use super::{PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::Package;

const STAGE: &str = "nix";
const STORE: &str = "/nix/store/";

/// Output names Nix derivations commonly split into.
const OUTPUTS: &[&str] = &[
    "bin", "dev", "doc", "lib", "man", "info", "out", "static", "debug", "devdoc", "py", "python",
];

/// One store path's identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StorePath {
    pub(crate) hash: String,
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) output: Option<String>,
}

/// True for Nix's base-32 alphabet (no `e`, `o`, `u`, `t`).
fn is_nix_base32(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b.is_ascii_lowercase() && !b"eotu".contains(&b)))
}

/// Parses a store entry's base name.
pub(crate) fn parse_store_name(base: &str) -> Option<StorePath> {
    if base.ends_with(".drv") || base.ends_with(".lock") || base.ends_with(".links") {
        return None;
    }
    let (hash, rest) = base.split_once('-')?;
    if !is_nix_base32(hash) {
        return None;
    }
    let bytes = rest.as_bytes();
    let split = (0..bytes.len().saturating_sub(1))
        .find(|&i| bytes[i] == b'-' && bytes[i + 1].is_ascii_digit())?;
    let name = &rest[..split];
    let mut version = &rest[split + 1..];
    let mut output = None;
    if let Some((v, out)) = version.rsplit_once('-')
        && OUTPUTS.contains(&out)
    {
        version = v;
        output = Some(out.to_string());
    }
    (!name.is_empty() && !version.is_empty()).then(|| StorePath {
        hash: hash.to_string(),
        name: name.to_string(),
        version: version.to_string(),
        output,
    })
}

/// Finds Nix store packages.
pub(crate) struct NixCataloger;

impl Cataloger for NixCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        matches!(
            e.kind,
            EntryKind::Dir | EntryKind::File | EntryKind::Symlink
        ) && e
            .path
            .strip_prefix(STORE)
            .is_some_and(|rest| !rest.is_empty() && !rest.contains('/'))
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        _ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        for entry in files {
            let Some(sp) = entry.path.strip_prefix(STORE).and_then(parse_store_name) else {
                continue;
            };
            let purl = anchorage_types::purl::for_package(
                "nix",
                None,
                &sp.name,
                &sp.version,
                &[
                    ("outputhash", &sp.hash),
                    ("output", sp.output.as_deref().unwrap_or("")),
                ],
            );
            let d = PackageDraft::new(
                PackageType::Nix,
                sp.name,
                sp.version,
                purl,
                location_of(fs, entry),
            );
            out.push(d.build());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_store_names() {
        let p = parse_store_name("0c7c96gikmzv87i7lv3vq5s1cmfjd6zf-python3.11-requests-2.31.0")
            .unwrap();
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("python3.11-requests", "2.31.0")
        );
        let p = parse_store_name("9rbc6gdmbrkpk3vmw0bm4ll8h13x5kba-openssl-3.0.12-bin").unwrap();
        assert_eq!(
            (p.name.as_str(), p.version.as_str(), p.output.as_deref()),
            ("openssl", "3.0.12", Some("bin"))
        );
        let p = parse_store_name("5n0kgg1cl4ma3p0lnyvxbvb9rj5dgj6f-glibc-2.38-27").unwrap();
        assert_eq!((p.name.as_str(), p.version.as_str()), ("glibc", "2.38-27"));
        assert!(parse_store_name("5n0kgg1cl4ma3p0lnyvxbvb9rj5dgj6f-hello-2.12.1.drv").is_none());
        assert!(parse_store_name("5n0kgg1cl4ma3p0lnyvxbvb9rj5dgj6f-source").is_none());
        assert!(parse_store_name("not-a-hash-1.0").is_none());
        assert!(parse_store_name("eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee-x-1.0").is_none());
    }
}
