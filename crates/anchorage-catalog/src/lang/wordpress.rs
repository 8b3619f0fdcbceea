//! WordPress plugins: the header block of a plugin's main file
//! (`wp-content/plugins/<slug>/<file>.php`, `Plugin Name:` and `Version:`). Like WordPress's own
//! `get_file_data()`, only the first 8 KiB of each file are read. The WordPress core version is
//! a binary-classifier rule (`wp-includes/version.php`, see `classifiers.toml`).

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;

use super::util::{base_name, cpe, is_file, parent_dir, purl, read_entry, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::Package;

const STAGE: &str = "wordpress";

/// Bytes of a plugin file read for its header (WordPress reads 8 KiB).
const HEADER_BYTES: u64 = 8 * 1024;

/// The one place that says which files this cataloger wants: a `.php` file directly inside a
/// plugin directory (`.../wp-content/plugins/<slug>/<file>.php`).
pub(crate) fn wants(path: &str) -> bool {
    path.ends_with(".php") && base_name(parent_dir(parent_dir(path))) == "plugins" && {
        let plugins = parent_dir(parent_dir(path));
        base_name(parent_dir(plugins)) == "wp-content"
    }
}

/// Header fields of a plugin file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct PluginHeader {
    /// `Plugin Name:`.
    pub(crate) name: String,
    /// `Version:`.
    pub(crate) version: String,
    /// `License:`.
    pub(crate) license: Option<String>,
    /// `Author:`.
    pub(crate) author: Option<String>,
}

/// The value of a `Key: value` header line (any case, inside a comment block: leading `*`, `#`,
/// `//` and spaces are ignored; a trailing `*/` is cut).
fn header_value(line: &str, key: &str) -> Option<String> {
    let t = line.trim_start_matches(|c: char| c.is_whitespace() || matches!(c, '*' | '#' | '/'));
    let (k, v) = t.split_once(':')?;
    if !k.trim().eq_ignore_ascii_case(key) {
        return None;
    }
    let v = v.split("*/").next().unwrap_or(v).trim();
    (!v.is_empty()).then(|| v.to_string())
}

/// Reads a plugin header; `None` when the file has no `Plugin Name` and `Version`.
pub(crate) fn parse_plugin_header(input: &str) -> Option<PluginHeader> {
    let mut h = PluginHeader::default();
    for line in input.lines() {
        if h.name.is_empty()
            && let Some(v) = header_value(line, "Plugin Name")
        {
            h.name = v;
        } else if h.version.is_empty()
            && let Some(v) = header_value(line, "Version")
        {
            h.version = v;
        } else if h.license.is_none()
            && let Some(v) = header_value(line, "License")
        {
            h.license = Some(v);
        } else if h.author.is_none()
            && let Some(v) = header_value(line, "Author")
        {
            h.author = Some(v);
        }
    }
    (!h.name.is_empty() && !h.version.is_empty()).then_some(h)
}

/// Finds WordPress plugins.
pub(crate) struct WordpressPluginCataloger {
    _limits: LangLimits,
}

impl WordpressPluginCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { _limits: limits }
    }
}

impl Cataloger for WordpressPluginCataloger {
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
            let Some(bytes) = read_entry(fs, entry, HEADER_BYTES, ctx, STAGE) else {
                continue;
            };
            let Some(h) = parse_plugin_header(&text(&bytes)) else {
                continue;
            };
            let slug = base_name(parent_dir(&entry.path)).to_string();
            let mut d = PackageDraft::new(
                PackageType::WordpressPlugin,
                h.name.clone(),
                h.version.clone(),
                purl("generic", Some("wordpress-plugin"), &slug, &h.version),
                location_of(fs, entry),
            );
            // NVD names plugins by slug with target software `wordpress`
            d.cpes = vec![cpe(&slug, &slug, &h.version).replacen(
                ":*:*:*:*:*:*:*",
                ":*:*:*:*:wordpress:*:*",
                1,
            )];
            d.licenses = h.license.into_iter().collect();
            out.push(d.build());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_header_forms() {
        let h = parse_plugin_header(
            "<?php\n/**\n * Plugin Name: Akismet Anti-spam\n * Version: 5.0.2\n * License: GPLv2 or later\n */\n",
        )
        .unwrap();
        assert_eq!(
            (h.name.as_str(), h.version.as_str()),
            ("Akismet Anti-spam", "5.0.2")
        );
        assert!(parse_plugin_header("<?php\n// no header\n").is_none());
        assert!(wants(
            "/var/www/html/wp-content/plugins/akismet/akismet.php"
        ));
        assert!(!wants(
            "/var/www/html/wp-content/plugins/akismet/views/x.php"
        ));
        assert!(!wants("/srv/plugins/akismet/akismet.php"));
    }
}
