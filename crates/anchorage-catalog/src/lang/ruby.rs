//! Ruby gems: installed `specifications/*.gemspec` (parsed as text with patterns, never run)
//! and `Gemfile.lock`.

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use regex::Regex;

use super::util::{base_name, is_file, parent_dir, purl, read_entry, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{GemMetadata, Package, PackageMetadata};

const STAGE: &str = "ruby";

/// Finds Ruby gems.
pub(crate) struct RubyCataloger {
    limits: LangLimits,
    scalar: Regex,
    list: Regex,
    quoted: Regex,
}

impl RubyCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        // Literal patterns: they compile, and every test would show it if one did not.
        let re = |p: &str| Regex::new(p).expect("literal gemspec pattern");
        Self {
            limits,
            scalar: re(r#"(?m)^\s*\w+\.(name|version|homepage)\s*=\s*["']([^"']*)["']"#),
            list: re(
                r#"(?m)^\s*\w+\.(authors|licenses|license)\s*=\s*(\[[^\]]*\]|["'][^"']*["'])"#,
            ),
            quoted: re(r#"["']([^"']*)["']"#),
        }
    }
}

/// Fields of a gemspec.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Gemspec {
    pub(crate) name: String,
    pub(crate) version: String,
    pub(crate) homepage: Option<String>,
    pub(crate) authors: Vec<String>,
    pub(crate) licenses: Vec<String>,
}

impl RubyCataloger {
    /// Extracts name, version, homepage, authors and licenses from gemspec text.
    pub(crate) fn parse_gemspec(&self, input: &str) -> Gemspec {
        let mut g = Gemspec::default();
        for c in self.scalar.captures_iter(input) {
            let v = c[2].to_string();
            match &c[1] {
                "name" if g.name.is_empty() => g.name = v,
                "version" if g.version.is_empty() => g.version = v,
                "homepage" => g.homepage = Some(v),
                _ => {}
            }
        }
        for c in self.list.captures_iter(input) {
            let vals: Vec<String> = self
                .quoted
                .captures_iter(&c[2])
                .map(|q| q[1].to_string())
                .collect();
            match &c[1] {
                "authors" => g.authors = vals,
                _ => g.licenses.extend(vals),
            }
        }
        g
    }
}

/// Gems from the `specs:` sections of a Gemfile.lock (4-space indented `name (version)` lines).
pub(crate) fn parse_gemfile_lock(input: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut in_specs = false;
    for line in input.lines() {
        let line = line.trim_end_matches('\r');
        if !line.starts_with(' ') {
            in_specs = false;
            continue;
        }
        if line.trim() == "specs:" {
            in_specs = true;
            continue;
        }
        if !in_specs || !line.starts_with("    ") || line.starts_with("     ") {
            continue;
        }
        let t = line.trim();
        if let Some((name, rest)) = t.split_once(" (") {
            let version = rest.trim_end_matches(')');
            // platform suffixes (`1.13.0-x86_64-linux`) stay part of the installed version
            out.push((name.to_string(), version.to_string()));
        }
    }
    out
}

/// True for `.../specifications` and for `.../specifications/default`, where every Ruby keeps
/// the gemspecs of its default gems (json, openssl, rexml, webrick, ...).
fn is_specifications_dir(dir: &str) -> bool {
    let name = base_name(dir);
    name == "specifications"
        || (name == "default" && base_name(parent_dir(dir)) == "specifications")
}

fn gem_package(
    name: &str,
    version: &str,
    loc: anchorage_types::Location,
    meta: GemMetadata,
    licenses: Vec<String>,
) -> Package {
    let mut d = PackageDraft::new(
        PackageType::Gem,
        name,
        version,
        purl("gem", None, name, version),
        loc,
    );
    d.licenses = licenses;
    d.metadata = PackageMetadata::Gem(meta);
    d.build()
}

impl Cataloger for RubyCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        let base = base_name(&e.path);
        is_file(e)
            && ((base.ends_with(".gemspec") && is_specifications_dir(parent_dir(&e.path)))
                || base == "Gemfile.lock")
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        let lim = self.limits.max_manifest_bytes;
        for entry in files {
            let base = base_name(&entry.path);
            if base.ends_with(".gemspec") && is_specifications_dir(parent_dir(&entry.path)) {
                let Some(b) = read_entry(fs, entry, lim, ctx, STAGE) else {
                    continue;
                };
                let g = self.parse_gemspec(&text(&b));
                if g.name.is_empty() || g.version.is_empty() {
                    ctx.warn(STAGE, Some(&entry.path), "gemspec has no name or version");
                    continue;
                }
                let meta = GemMetadata {
                    authors: g.authors,
                    homepage: g.homepage,
                };
                out.push(gem_package(
                    &g.name,
                    &g.version,
                    location_of(fs, entry),
                    meta,
                    g.licenses,
                ));
            } else if base == "Gemfile.lock" {
                let Some(b) = read_entry(fs, entry, lim, ctx, STAGE) else {
                    continue;
                };
                for (n, v) in parse_gemfile_lock(&text(&b)) {
                    out.push(gem_package(
                        &n,
                        &v,
                        location_of(fs, entry),
                        GemMetadata::default(),
                        Vec::new(),
                    ));
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gemfile_lock_specs() {
        let l = parse_gemfile_lock(
            "GEM\n  remote: https://rubygems.org/\n  specs:\n    rack (2.2.3)\n    rails (7.0.1)\n      rack (>= 2.2)\n\nPLATFORMS\n  ruby\n",
        );
        assert_eq!(
            l,
            vec![
                ("rack".into(), "2.2.3".into()),
                ("rails".into(), "7.0.1".into())
            ]
        );
    }

    #[test]
    fn gemspec_text() {
        let c = RubyCataloger::new(LangLimits::default());
        let g = c.parse_gemspec("Gem::Specification.new do |s|\n  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n  s.authors = [\"Hiroshi\".freeze, \"Eric\".freeze]\n  s.licenses = [\"MIT\".freeze]\nend\n");
        assert_eq!((g.name.as_str(), g.version.as_str()), ("rake", "13.0.6"));
        assert_eq!(g.authors.len(), 2);
        assert_eq!(g.licenses, vec!["MIT".to_string()]);
    }
}
