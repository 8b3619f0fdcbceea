//! dpkg: `var/lib/dpkg/status`, distroless `status.d/*`, file lists and md5sums from
//! `var/lib/dpkg/info/`, licenses from `usr/share/doc/*/copyright`.

use std::collections::{BTreeSet, HashMap, HashSet};

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;

use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{DpkgMetadata, FileDigest, Package, PackageFile, PackageMetadata};
use crate::os::{Parsed, distro_qualifier, location_for, lossy_text, package_id, read_db};
use crate::relationships::DependencyDecl;
use crate::{cpe, purl};

/// One paragraph of a dpkg status file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DpkgEntry {
    /// `Package`.
    pub package: String,
    /// `Version`.
    pub version: String,
    /// Source name from `Source`, when present.
    pub source: Option<String>,
    /// Source version from `Source: name (version)`, when present.
    pub source_version: Option<String>,
    /// `Architecture`.
    pub architecture: Option<String>,
    /// `Installed-Size` (KiB).
    pub installed_size: Option<u64>,
    /// `Maintainer`.
    pub maintainer: Option<String>,
    /// `Depends`.
    pub depends: Option<String>,
    /// `Pre-Depends`.
    pub pre_depends: Option<String>,
    /// `Provides`.
    pub provides: Option<String>,
    /// `Status`.
    pub status: Option<String>,
    /// `Conffiles` entries (path, md5).
    pub conffiles: Vec<(String, String)>,
}

/// Largest number of paragraphs read from one file.
const MAX_PARAGRAPHS: usize = 1_000_000;

/// Parses a dpkg status file (or one `status.d/` file). Never panics.
pub fn parse_status(bytes: &[u8]) -> Parsed<DpkgEntry> {
    let mut out = Parsed::default();
    let text = lossy_text(bytes, "dpkg status", &mut out.warnings);
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut line_no = 0usize;
    let mut start_line = 1usize;
    let flush = |fields: &mut Vec<(String, String)>, out: &mut Parsed<DpkgEntry>, at: usize| {
        if fields.is_empty() {
            return;
        }
        if out.packages.len() >= MAX_PARAGRAPHS {
            out.warnings
                .push("dpkg status: too many paragraphs, rest ignored".into());
            fields.clear();
            return;
        }
        match entry_from_fields(fields) {
            Ok(e) => out.packages.push(e),
            Err(msg) => out.warnings.push(format!("paragraph at line {at}: {msg}")),
        }
        fields.clear();
    };
    for line in text.lines() {
        line_no += 1;
        if line.trim().is_empty() {
            flush(&mut fields, &mut out, start_line);
            start_line = line_no + 1;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            } else {
                out.warnings
                    .push(format!("line {line_no}: continuation line without a field"));
            }
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) if !key.is_empty() && !key.contains(' ') => {
                fields.push((key.to_string(), value.trim().to_string()));
            }
            _ => out
                .warnings
                .push(format!("line {line_no}: not a `Field: value` line")),
        }
    }
    flush(&mut fields, &mut out, start_line);
    out
}

/// The `Field: value` paragraphs of a file in dpkg's control format (continuation lines joined
/// with `\n`), for formats that share it with other fields (vcpkg's status database). Lines that
/// are not fields are skipped; at most [`MAX_PARAGRAPHS`] paragraphs are returned.
pub(crate) fn parse_status_paragraphs(text: &str) -> Vec<Vec<(String, String)>> {
    let mut out: Vec<Vec<(String, String)>> = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines().chain(std::iter::once("")) {
        if line.trim().is_empty() {
            if !fields.is_empty() && out.len() < MAX_PARAGRAPHS {
                out.push(std::mem::take(&mut fields));
            }
            fields.clear();
        } else if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
        } else if let Some((key, value)) = line.split_once(':')
            && !key.is_empty()
            && !key.contains(' ')
        {
            fields.push((key.to_string(), value.trim().to_string()));
        }
    }
    out
}

fn entry_from_fields(fields: &[(String, String)]) -> Result<DpkgEntry, String> {
    let mut e = DpkgEntry::default();
    for (key, value) in fields {
        match key.to_ascii_lowercase().as_str() {
            "package" => e.package.clone_from(value),
            "version" => e.version.clone_from(value),
            "source" => {
                let (name, version) = parse_source(value);
                e.source = name;
                e.source_version = version;
            }
            "architecture" => e.architecture = Some(value.clone()),
            "installed-size" => e.installed_size = value.trim().parse().ok(),
            "maintainer" => e.maintainer = Some(value.clone()),
            "depends" => e.depends = Some(value.clone()),
            "pre-depends" => e.pre_depends = Some(value.clone()),
            "provides" => e.provides = Some(value.clone()),
            "status" => e.status = Some(value.clone()),
            "conffiles" => {
                e.conffiles = value
                    .lines()
                    .filter_map(|l| {
                        let mut parts = l.split_whitespace();
                        let path = parts.next()?;
                        let md5 = parts.next()?;
                        Some((path.to_string(), md5.to_string()))
                    })
                    .collect();
            }
            _ => {}
        }
    }
    if e.package.is_empty() {
        return Err("no Package field".into());
    }
    if e.version.is_empty() {
        return Err(format!("package {}: no Version field", e.package));
    }
    Ok(e)
}

/// `name (version)` or `name`.
fn parse_source(value: &str) -> (Option<String>, Option<String>) {
    let value = value.trim();
    if let Some((name, rest)) = value.split_once('(') {
        let version = rest.trim_end().trim_end_matches(')').trim();
        let name = name.trim();
        (
            (!name.is_empty()).then(|| name.to_string()),
            (!version.is_empty()).then(|| version.to_string()),
        )
    } else {
        ((!value.is_empty()).then(|| value.to_string()), None)
    }
}

/// Parses `*.md5sums`: `md5  relative/path` per line.
pub fn parse_md5sums(bytes: &[u8]) -> Parsed<(String, String)> {
    let mut out = Parsed::default();
    let text = lossy_text(bytes, "md5sums", &mut out.warnings);
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match line.split_once(char::is_whitespace) {
            Some((md5, path)) if md5.len() == 32 && md5.bytes().all(|b| b.is_ascii_hexdigit()) => {
                out.packages
                    .push((absolute(path.trim()), md5.to_ascii_lowercase()));
            }
            _ => out
                .warnings
                .push(format!("line {}: not `md5  path`", i + 1)),
        }
    }
    out
}

fn absolute(path: &str) -> String {
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("/{path}")
    }
}

/// Parses a `*.list` file: one absolute path per line (`/.` is the root and is skipped).
pub fn parse_list(bytes: &[u8]) -> Parsed<String> {
    let mut out = Parsed::default();
    let text = lossy_text(bytes, "file list", &mut out.warnings);
    out.packages = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "/." && *l != "/")
        .map(absolute)
        .collect();
    out
}

/// Licenses from a Debian copyright file, read the way Syft reads them so results compare:
/// the first word of every `License:` line of the machine-readable format (`GPL-2+ or
/// Artistic` names `GPL-2+`; the other alternatives have `License:` paragraphs of their own)
/// and every `/usr/share/common-licenses/NAME` reference, mapped to SPDX ids where the short
/// name has one (`GPL-2+` -> `GPL-2.0-or-later`), kept as written otherwise. Sorted,
/// deduplicated.
pub fn parse_copyright(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    let mut found: BTreeSet<String> = BTreeSet::new();
    let mut add = |candidate: &str| {
        let c = candidate.trim().trim_end_matches('.');
        if !c.is_empty() && !c.eq_ignore_ascii_case("none") {
            found.insert(spdx_for(c));
        }
    };
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("License: ") {
            add(rest.split_whitespace().next().unwrap_or(""));
        }
        let mut rest = line;
        while let Some(i) = rest.find("/usr/share/common-licenses/") {
            let after = &rest[i + "/usr/share/common-licenses/".len()..];
            let end = after
                .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
                .unwrap_or(after.len());
            add(&after[..end]);
            rest = after;
        }
    }
    found.into_iter().collect()
}

/// Maps a Debian license short name to its SPDX id when one exists.
fn spdx_for(short: &str) -> String {
    let (base, plus) = match short.strip_suffix('+') {
        Some(b) => (b, true),
        None => (short, false),
    };
    let upper = base.to_ascii_uppercase();
    let family_version = |family: &str| -> Option<String> {
        let v = upper.strip_prefix(family)?.trim_start_matches('-');
        let v = match v {
            "1" => "1.0",
            "2" => "2.0",
            "3" => "3.0",
            "2.0" | "2.1" | "3.0" | "1.0" => v,
            _ => return None,
        };
        Some(format!(
            "{family}-{v}-{}",
            if plus { "or-later" } else { "only" }
        ))
    };
    for family in ["GPL", "LGPL", "AGPL", "GFDL"] {
        if let Some(id) = family_version(family).and_then(|id| spdx_lookup(&id, false)) {
            return id;
        }
    }
    match upper.as_str() {
        "APACHE-2" => return "Apache-2.0".into(),
        "MPL-2" => return "MPL-2.0".into(),
        "CC0" => return "CC0-1.0".into(),
        _ => {}
    }
    spdx_lookup(base, plus).unwrap_or_else(|| short.to_string())
}

/// Case-insensitive lookup in the SPDX license list; a deprecated id with an `-only` /
/// `-or-later` successor (`GFDL-1.3`) maps to the successor, as Syft's license index does.
fn spdx_lookup(base: &str, plus: bool) -> Option<String> {
    let find = |name: &str| {
        spdx::identifiers::LICENSES
            .iter()
            .find(|l| l.name.eq_ignore_ascii_case(name))
    };
    let found = find(base)?;
    let successor = if plus { "or-later" } else { "only" };
    let deprecated = found.flags & spdx::flags::IS_DEPRECATED != 0;
    if (deprecated || plus)
        && let Some(s) = find(&format!("{}-{successor}", found.name))
    {
        return Some(s.name.to_string());
    }
    if deprecated {
        // `BSD-2-Clause-NetBSD` was folded into `BSD-2-Clause`: the longest current prefix.
        let mut prefix = found.name;
        while let Some(i) = prefix.rfind('-') {
            prefix = &prefix[..i];
            if let Some(s) = find(prefix).filter(|l| l.flags & spdx::flags::IS_DEPRECATED == 0) {
                return Some(s.name.to_string());
            }
        }
    }
    Some(found.name.to_string())
}

/// The dpkg cataloger.
#[derive(Debug, Default)]
pub(crate) struct DpkgCataloger {
    pub(crate) max_database_size: u64,
    pub(crate) max_metadata_file_size: u64,
}

const STAGE: &str = "dpkg";

impl Cataloger for DpkgCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        e.path
            .strip_prefix("/var/lib/dpkg/status.d/")
            .is_some_and(|rest| !rest.contains('/') && !rest.ends_with(".md5sums"))
            && matches!(
                e.kind,
                anchorage_image::EntryKind::File | anchorage_image::EntryKind::Hardlink
            )
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut sources: Vec<String> = Vec::new();
        if fs.entry("/var/lib/dpkg/status").is_some() {
            sources.push("/var/lib/dpkg/status".into());
        }
        sources.extend(files.iter().map(|e| e.path.clone()));
        let mut out = Vec::new();
        for db_path in sources {
            let Some(bytes) = read_db(fs, &db_path, self.max_database_size, ctx, STAGE) else {
                continue;
            };
            let parsed = parse_status(&bytes);
            for w in parsed.warnings {
                ctx.warn(STAGE, Some(&db_path), w);
            }
            for entry in parsed.packages {
                if is_not_installed(&entry) {
                    continue;
                }
                out.push(self.package(fs, ctx, &db_path, entry));
            }
        }
        out
    }
}

/// Entries dpkg keeps for removed packages (`deinstall ok config-files`, `not-installed`) are
/// not installed software.
fn is_not_installed(e: &DpkgEntry) -> bool {
    e.status.as_deref().is_some_and(|s| {
        let state = s.split_whitespace().last().unwrap_or("");
        matches!(state, "not-installed" | "config-files")
    })
}

impl DpkgCataloger {
    fn read_meta(&self, fs: &dyn ImageFs, path: &str, ctx: &mut CatalogContext) -> Option<Vec<u8>> {
        read_db(fs, path, self.max_metadata_file_size, ctx, STAGE)
    }

    fn package(
        &self,
        fs: &dyn ImageFs,
        ctx: &mut CatalogContext,
        db_path: &str,
        e: DpkgEntry,
    ) -> Package {
        let mut locations = vec![location_for(fs, db_path)];
        let mut files: Vec<PackageFile> = Vec::new();
        let arch = e.architecture.clone().unwrap_or_default();
        let info_names = if arch.is_empty() {
            vec![e.package.clone()]
        } else {
            vec![e.package.clone(), format!("{}:{arch}", e.package)]
        };
        // File list and md5s from var/lib/dpkg/info (status file images) or status.d (distroless).
        let mut md5s: Vec<(String, String)> = Vec::new();
        for base in &info_names {
            let list = format!("/var/lib/dpkg/info/{base}.list");
            if let Some(bytes) = self.read_meta(fs, &list, ctx) {
                locations.push(location_for(fs, &list));
                let parsed = parse_list(&bytes);
                for w in parsed.warnings {
                    ctx.warn(STAGE, Some(&list), w);
                }
                files.extend(parsed.packages.into_iter().map(|path| PackageFile {
                    path,
                    digest: None,
                    config: false,
                }));
            }
            for md5_path in [
                format!("/var/lib/dpkg/info/{base}.md5sums"),
                format!("/var/lib/dpkg/status.d/{base}.md5sums"),
            ] {
                if let Some(bytes) = self.read_meta(fs, &md5_path, ctx) {
                    locations.push(location_for(fs, &md5_path));
                    let parsed = parse_md5sums(&bytes);
                    for w in parsed.warnings {
                        ctx.warn(STAGE, Some(&md5_path), w);
                    }
                    md5s.extend(parsed.packages);
                }
            }
        }
        md5s.extend(e.conffiles.iter().cloned());
        attach_md5s(&mut files, md5s);
        let conffiles: HashSet<&str> = e.conffiles.iter().map(|(p, _)| p.as_str()).collect();
        for f in &mut files {
            f.config = conffiles.contains(f.path.as_str());
        }
        // Only the package's own doc directory, as Syft does (a missing file means no
        // declared licenses; another package's copyright would be a guess).
        let mut licenses = Vec::new();
        let copyright = format!("/usr/share/doc/{}/copyright", e.package);
        if let Some(bytes) = self.read_meta(fs, &copyright, ctx) {
            locations.push(location_for(fs, &copyright));
            licenses = parse_copyright(&bytes);
        }
        let distro = distro_qualifier(&ctx.distro);
        let upstream = match (&e.source, &e.source_version) {
            (Some(s), Some(v)) => format!("{s}@{v}"),
            (Some(s), None) if *s != e.package => s.clone(),
            _ => String::new(),
        };
        let namespace = if ctx.distro.is_unknown() {
            "debian".to_string()
        } else {
            ctx.distro.id.clone()
        };
        let purl = purl::for_package(
            "deb",
            Some(&namespace),
            &e.package,
            &e.version,
            &[
                ("arch", &arch),
                ("distro", &distro),
                ("upstream", &upstream),
            ],
        );
        let id = package_id(PackageType::Dpkg, &e.package, &e.version, db_path);
        ctx.dependencies.push(dependency_decl(&id, &e));
        Package {
            id,
            cpes: cpe::candidates(&e.package, &e.version),
            purl,
            licenses,
            locations,
            source_name: e.source.clone(),
            source_version: e.source_version.clone().filter(|v| *v != e.version),
            arch: e.architecture.clone(),
            owner: None,
            metadata: PackageMetadata::Dpkg(DpkgMetadata {
                maintainer: e.maintainer,
                installed_size_kib: e.installed_size,
                files,
                depends: e.depends,
            }),
            name: e.package,
            version: e.version,
            package_type: PackageType::Dpkg,
        }
    }
}

/// The scope of dpkg dependencies: the status file and `status.d/` files of an image are one
/// database.
const SCOPE: &str = "dpkg";

/// What a status entry provides (its name and `Provides`) and requires (`Pre-Depends` and
/// `Depends`, each `a | b` clause one requirement with its alternatives in order).
fn dependency_decl(id: &str, e: &DpkgEntry) -> DependencyDecl {
    let mut d = DependencyDecl::new(id, SCOPE, &e.package);
    d.provides.extend(
        relation_clauses(e.provides.as_deref())
            .flatten()
            .map(str::to_string),
    );
    for field in [e.pre_depends.as_deref(), e.depends.as_deref()] {
        d.requires.extend(
            relation_clauses(field)
                .map(|alts| alts.map(str::to_string).collect::<Vec<_>>())
                .filter(|alts| !alts.is_empty()),
        );
    }
    d
}

/// The clauses of a dpkg relationship field (`libc6 (>= 2.34), awk | mawk, perl:any`): per
/// comma-separated clause, the package names of its `|` alternatives, without version
/// restrictions, architecture qualifiers (`:any`) or architecture/profile lists.
fn relation_clauses(field: Option<&str>) -> impl Iterator<Item = impl Iterator<Item = &str>> {
    field.unwrap_or("").split(',').map(|clause| {
        clause.split('|').filter_map(|alt| {
            let alt = alt.trim();
            let end = alt
                .find(|c: char| c.is_whitespace() || matches!(c, '(' | ':' | '[' | '<'))
                .unwrap_or(alt.len());
            Some(&alt[..end]).filter(|n| !n.is_empty())
        })
    })
}

/// Sets each `(path, md5)` as the digest of the first file with that path, adding the path
/// when the list has none. Files are indexed by path once, so this is linear in the number of
/// files and digests (a package with 200k files is no longer 200k x 200k comparisons).
fn attach_md5s(files: &mut Vec<PackageFile>, md5s: Vec<(String, String)>) {
    let mut index: HashMap<String, usize> = HashMap::with_capacity(files.len());
    for (i, f) in files.iter().enumerate() {
        index.entry(f.path.clone()).or_insert(i);
    }
    for (path, md5) in md5s {
        let digest = Some(FileDigest {
            algorithm: "md5".into(),
            value: md5,
        });
        match index.get(&path) {
            Some(&i) => files[i].digest = digest,
            None => {
                index.insert(path.clone(), files.len());
                files.push(PackageFile {
                    path,
                    digest,
                    config: false,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {

    fn md5_of(i: usize) -> String {
        format!("{i:032x}")
    }

    #[test]
    fn synthetic_md5s_attach_to_listed_files_in_order() {
        let mut files = vec![
            PackageFile {
                path: "/a".into(),
                digest: None,
                config: false,
            },
            PackageFile {
                path: "/b".into(),
                digest: None,
                config: false,
            },
        ];
        attach_md5s(
            &mut files,
            vec![
                ("/b".into(), md5_of(1)),
                ("/c".into(), md5_of(2)),
                ("/c".into(), md5_of(3)),
            ],
        );
        let got: Vec<(&str, Option<&str>)> = files
            .iter()
            .map(|f| (f.path.as_str(), f.digest.as_ref().map(|d| d.value.as_str())))
            .collect();
        let (one, three) = (md5_of(1), md5_of(3));
        assert_eq!(
            got,
            vec![
                ("/a", None),
                ("/b", Some(one.as_str())),
                ("/c", Some(three.as_str()))
            ]
        );
    }

    #[test]
    fn synthetic_200k_md5sums_attach_in_linear_time() {
        // 200k listed files and 200k md5 lines: before, every line scanned the file list
        // (2 * 10^10 path comparisons); indexed by path it takes well under a second.
        let n = 200_000;
        let paths: Vec<String> = (0..n)
            .map(|i| format!("/usr/share/doc/package-with-many-files/file-{i:06}"))
            .collect();
        let mut files: Vec<PackageFile> = paths
            .iter()
            .map(|p| PackageFile {
                path: p.clone(),
                digest: None,
                config: false,
            })
            .collect();
        let md5s: Vec<(String, String)> = paths
            .iter()
            .enumerate()
            .rev()
            .map(|(i, p)| (p.clone(), md5_of(i)))
            .collect();
        let started = std::time::Instant::now();
        attach_md5s(&mut files, md5s);
        let took = started.elapsed();
        assert_eq!(files.len(), n);
        assert!(
            files
                .iter()
                .enumerate()
                .all(|(i, f)| f.digest.as_ref().is_some_and(|d| d.value == md5_of(i)))
        );
        assert!(took < std::time::Duration::from_secs(10), "{took:?}");
    }
    use super::*;

    #[test]
    fn synthetic_source_with_version() {
        let p = parse_status(
            b"Package: bsdutils\nVersion: 1:2.38.1-5\nSource: util-linux (2.38.1-5)\nArchitecture: amd64\n",
        );
        assert!(p.warnings.is_empty());
        assert_eq!(p.packages[0].source.as_deref(), Some("util-linux"));
        assert_eq!(p.packages[0].source_version.as_deref(), Some("2.38.1-5"));
    }

    #[test]
    fn synthetic_garbage_yields_warnings_not_panics() {
        let p = parse_status(b" cont\nnocolon\nPackage: x\n\n\xff\xfe: y\nVersion: 1\n");
        assert!(p.packages.is_empty());
        assert!(p.warnings.len() >= 3);
    }

    #[test]
    fn maps_debian_short_names() {
        assert_eq!(spdx_for("GPL-2+"), "GPL-2.0-or-later");
        assert_eq!(spdx_for("GPL-2"), "GPL-2.0-only");
        assert_eq!(spdx_for("LGPL-2.1+"), "LGPL-2.1-or-later");
        assert_eq!(spdx_for("Expat"), "Expat");
    }
}
