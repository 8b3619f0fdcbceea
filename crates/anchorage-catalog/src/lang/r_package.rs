//! R packages: the `DESCRIPTION` file (Debian control format) of every installed package
//! (`/usr/lib/R/library/*/`, `/usr/lib/R/site-library/*/`, `/usr/local/lib/R/site-library/*/`,
//! renv libraries, ...).

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;

use super::util::{base_name, is_file, purl, read_entry, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::Package;

const STAGE: &str = "r-package";

/// Largest DESCRIPTION file read (real ones are a few KiB).
const MAX_DESCRIPTION_BYTES: u64 = 256 * 1024;

/// The one place that says which files this cataloger wants: any file named `DESCRIPTION`.
pub(crate) fn wants(path: &str) -> bool {
    base_name(path) == "DESCRIPTION"
}

/// Fields of an R `DESCRIPTION` file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct RDescription {
    /// `Package`.
    pub(crate) name: String,
    /// `Version`.
    pub(crate) version: String,
    /// `License`.
    pub(crate) license: Option<String>,
}

/// Parses a DESCRIPTION file; `None` without `Package` and `Version` (other files share the
/// name). Continuation lines (leading whitespace) extend the previous field.
pub(crate) fn parse_description(input: &str) -> Option<RDescription> {
    let mut d = RDescription::default();
    let mut current: Option<String> = None;
    let mut value = String::new();
    let commit = |key: Option<String>, value: &str, d: &mut RDescription| match key.as_deref() {
        Some("Package") => d.name = value.trim().to_string(),
        Some("Version") => d.version = value.trim().to_string(),
        Some("License") => d.license = Some(value.trim().to_string()),
        _ => {}
    };
    for line in input.lines() {
        if line.starts_with([' ', '\t']) {
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        commit(current.take(), &value, &mut d);
        value.clear();
        if let Some((k, v)) = line.split_once(':') {
            current = Some(k.trim().to_string());
            value.push_str(v.trim());
        }
    }
    commit(current.take(), &value, &mut d);
    let valid_name = !d.name.is_empty()
        && d.name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.');
    (valid_name && !d.version.is_empty()).then_some(d)
}

/// Finds installed R packages.
pub(crate) struct RPackageCataloger {
    _limits: LangLimits,
}

impl RPackageCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { _limits: limits }
    }
}

impl Cataloger for RPackageCataloger {
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
            if entry.size > MAX_DESCRIPTION_BYTES {
                continue;
            }
            let Some(bytes) = read_entry(fs, entry, MAX_DESCRIPTION_BYTES, ctx, STAGE) else {
                continue;
            };
            let Some(desc) = parse_description(&text(&bytes)) else {
                continue;
            };
            let mut d = PackageDraft::new(
                PackageType::RPackage,
                desc.name.clone(),
                desc.version.clone(),
                purl("cran", None, &desc.name, &desc.version),
                location_of(fs, entry),
            );
            d.licenses = desc.license.into_iter().collect();
            out.push(d.build());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_description_fields() {
        let d = parse_description(
            "Package: jsonlite\nVersion: 1.8.4\nTitle: A JSON\n  Parser\nLicense: MIT + file\n    LICENSE\n",
        )
        .unwrap();
        assert_eq!((d.name.as_str(), d.version.as_str()), ("jsonlite", "1.8.4"));
        assert_eq!(d.license.as_deref(), Some("MIT + file LICENSE"));
        assert!(parse_description("Unnamed repository; edit this file").is_none());
    }
}
