//! Pieces shared by the CycloneDX and SPDX encoders: document identity, package files,
//! package-to-package dependencies, licence classification and identifier sanitizing.

use std::collections::{BTreeMap, HashMap};

use anchorage_model::{Analysis, FileRecord, Package, PackageMetadata, RelationshipKind};
use anchorage_types::PackageType;
use sha1::Digest as _;

/// The name and version written into documents as the producing tool.
pub(crate) const TOOL_NAME: &str = "anchorage";
/// Version of this crate, written as the tool version.
pub(crate) const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// RFC 4122 URL namespace, the namespace of our name-based (v5) document UUIDs.
const UUID_NAMESPACE_URL: [u8; 16] = [
    0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1, 0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8,
];

/// A name-based UUID (RFC 4122 version 5) of the whole analysis, so the same analysis always
/// gives the same CycloneDX serial number and SPDX namespace, and two analyses (even of the same
/// image at different times) give different ones.
pub(crate) fn document_uuid(analysis: &Analysis) -> String {
    let mut content = sha2::Sha256::new();
    // Serializing into the hasher cannot fail for this model (no maps with non-string keys); if
    // it ever did, the UUID would still be derived from what was hashed so far plus the input.
    let _ = serde_json::to_writer(HashWriter(&mut content), analysis);
    content.update(analysis.source.input.as_bytes());
    let name = format!("anchorage:analysis:{}", hex::encode(content.finalize()));
    let mut sha = sha1::Sha1::new();
    sha.update(UUID_NAMESPACE_URL);
    sha.update(name.as_bytes());
    let digest = sha.finalize();
    let mut b = [0u8; 16];
    b.copy_from_slice(&digest[..16]);
    b[6] = (b[6] & 0x0f) | 0x50;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

struct HashWriter<'a>(&'a mut sha2::Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// First 16 hex characters of the SHA-256 of `s`: short, stable identifier suffixes.
pub(crate) fn short_hash(s: &str) -> String {
    let d = sha2::Sha256::digest(s.as_bytes());
    hex::encode(&d[..8])
}

/// Keeps `[A-Za-z0-9.-]` and replaces every other character by `-` (the SPDX idstring
/// alphabet); never returns an empty string.
pub(crate) fn sanitize_id(s: &str) -> String {
    let out: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if out.is_empty() { "-".into() } else { out }
}

/// Syft's package type names, which Grype reads from `syft:package:type` properties.
pub(crate) fn syft_type(t: PackageType) -> &'static str {
    match t {
        PackageType::Dpkg => "deb",
        PackageType::Apk => "apk",
        PackageType::Rpm => "rpm",
        PackageType::Python => "python",
        PackageType::Npm => "npm",
        PackageType::Gem => "gem",
        PackageType::Java => "java-archive",
        PackageType::Go => "go-module",
        PackageType::Rust => "rust-crate",
        PackageType::Nuget => "dotnet",
        PackageType::Composer => "php-composer",
        PackageType::Binary => "binary",
        PackageType::PhpPear => "php-pear",
        PackageType::WordpressPlugin => "wordpress-plugin",
        PackageType::RPackage => "R-package",
        PackageType::GithubAction => "github-action",
        PackageType::DartPub => "dart-pub",
        PackageType::Hex => "hex",
        PackageType::Swift => "swift",
        PackageType::Pod => "pod",
        PackageType::Conan => "conan",
        PackageType::Vcpkg => "vcpkg",
        PackageType::Hackage => "hackage",
        PackageType::LuaRocks => "lua-rocks",
        PackageType::Opkg => "opkg",
        PackageType::Homebrew => "homebrew",
        PackageType::Nix => "nix",
    }
}

/// The display name of the analysed source: its normalized reference, else the input.
pub(crate) fn source_name(analysis: &Analysis) -> &str {
    analysis
        .source
        .reference
        .as_deref()
        .filter(|r| !r.is_empty())
        .unwrap_or(&analysis.source.input)
}

/// A digest that the document schemas accept: a known algorithm and a hex value of its length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Checksum {
    /// `md5`, `sha1`, `sha256`, `sha512`.
    pub(crate) algorithm: &'static str,
    /// Lower-case hex.
    pub(crate) value: String,
}

impl Checksum {
    /// Accepts `algorithm` (any case, with or without `-`) and a hex `value` of the right length.
    pub(crate) fn new(algorithm: &str, value: &str) -> Option<Self> {
        let alg = algorithm.to_ascii_lowercase().replace('-', "");
        let (algorithm, len) = match alg.as_str() {
            "md5" => ("md5", 32),
            "sha1" => ("sha1", 40),
            "sha256" => ("sha256", 64),
            "sha512" => ("sha512", 128),
            _ => return None,
        };
        let value = value.trim();
        (value.len() == len && value.bytes().all(|b| b.is_ascii_hexdigit())).then(|| Self {
            algorithm,
            value: value.to_ascii_lowercase(),
        })
    }
}

/// A regular file that belongs to a package, with every digest known for it.
#[derive(Debug, Clone)]
pub(crate) struct OwnedFile<'a> {
    /// Absolute image path.
    pub(crate) path: &'a str,
    /// The file-tree record, when the analysis lists files.
    pub(crate) record: Option<&'a FileRecord>,
    /// Digests, sorted by algorithm, without duplicates.
    pub(crate) checksums: Vec<Checksum>,
}

/// The files a package declares in its metadata.
pub(crate) fn metadata_files(p: &Package) -> &[anchorage_model::PackageFile] {
    match &p.metadata {
        PackageMetadata::Dpkg(m) => &m.files,
        PackageMetadata::Apk(m) => &m.files,
        PackageMetadata::Rpm(m) => &m.files,
        PackageMetadata::Python(m) => &m.files,
        _ => &[],
    }
}

/// Regular files only: directories and links listed by package databases are left out (a
/// link's recorded digest is that of its target path, not of content).
fn is_file_like(file_type: &str) -> bool {
    file_type == "file"
}

/// Per package (by index into `analysis.packages`), the files it owns: the files its metadata
/// lists plus the file records whose `owner` is the package. When the analysis lists files,
/// only paths present there as regular files are kept (so deleted or directory paths
/// from a package database are not reported).
pub(crate) fn owned_files(analysis: &Analysis) -> Vec<Vec<OwnedFile<'_>>> {
    let by_path: HashMap<&str, &FileRecord> = analysis
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();
    let index_of: HashMap<&str, usize> = analysis
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let mut per: Vec<BTreeMap<&str, OwnedFile<'_>>> =
        vec![BTreeMap::new(); analysis.packages.len()];
    let have_records = !analysis.files.is_empty();
    for (i, p) in analysis.packages.iter().enumerate() {
        for mf in metadata_files(p) {
            let record = by_path.get(mf.path.as_str()).copied();
            if have_records && record.is_none_or(|r| !is_file_like(&r.file_type)) {
                continue;
            }
            let entry = per[i].entry(mf.path.as_str()).or_insert_with(|| OwnedFile {
                path: mf.path.as_str(),
                record,
                checksums: Vec::new(),
            });
            if let Some(c) = mf
                .digest
                .as_ref()
                .and_then(|d| Checksum::new(&d.algorithm, &d.value))
            {
                entry.checksums.push(c);
            }
        }
    }
    for f in &analysis.files {
        if !is_file_like(&f.file_type) {
            continue;
        }
        let Some(i) = f.owner.as_deref().and_then(|o| index_of.get(o)) else {
            continue;
        };
        per[*i].entry(f.path.as_str()).or_insert_with(|| OwnedFile {
            path: f.path.as_str(),
            record: Some(f),
            checksums: Vec::new(),
        });
    }
    per.into_iter()
        .map(|m| {
            m.into_values()
                .map(|mut f| {
                    if let Some(c) = f
                        .record
                        .and_then(|r| r.sha256.as_deref())
                        .and_then(|v| Checksum::new("sha256", v))
                    {
                        f.checksums.push(c);
                    }
                    if let Some(c) = f
                        .record
                        .and_then(|r| r.sha1.as_deref())
                        .and_then(|v| Checksum::new("sha1", v))
                    {
                        f.checksums.push(c);
                    }
                    f.checksums.sort_by(|a, b| a.algorithm.cmp(b.algorithm));
                    f.checksums.dedup_by(|a, b| a.algorithm == b.algorithm);
                    f
                })
                .collect()
        })
        .collect()
}

/// Package-to-package dependencies: per package index, the sorted indices of the packages it
/// depends on. Taken from [`Analysis::relationships`] (edges whose ends are not packages of the
/// analysis are skipped); a document older than schema 1.1.0 has none, and its edges are
/// derived from the dpkg `Depends` / apk `D:` metadata as before.
pub(crate) fn dependencies(analysis: &Analysis) -> Vec<Vec<usize>> {
    if predates_relationships(&analysis.schema_version) {
        return legacy_dependencies(analysis);
    }
    let index: HashMap<&str, usize> = analysis
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let mut deps: Vec<Vec<usize>> = vec![Vec::new(); analysis.packages.len()];
    for r in &analysis.relationships {
        if r.kind != RelationshipKind::DependsOn {
            continue;
        }
        if let (Some(&i), Some(&j)) = (index.get(r.from.as_str()), index.get(r.to.as_str()))
            && i != j
        {
            deps[i].push(j);
        }
    }
    for d in &mut deps {
        d.sort_unstable();
        d.dedup();
    }
    deps
}

/// True for native schema versions before 1.1.0, which carried no `relationships`.
fn predates_relationships(version: &str) -> bool {
    let mut parts = version.split('.').map(|p| p.parse::<u64>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    (major, minor) < (1, 1)
}

/// The edges of a pre-1.1.0 document: dpkg `Depends` and apk `D:` resolved by package name among
/// packages of the same type (virtual apk names through owned files).
fn legacy_dependencies(analysis: &Analysis) -> Vec<Vec<usize>> {
    let mut by_name: HashMap<(PackageType, &str), usize> = HashMap::new();
    for (i, p) in analysis.packages.iter().enumerate() {
        by_name
            .entry((p.package_type, p.name.as_str()))
            .or_insert(i);
    }
    let apk_files = ApkProviders::new(analysis);
    analysis
        .packages
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut deps: Vec<usize> = Vec::new();
            let resolve = |name: &str| by_name.get(&(p.package_type, name)).copied();
            match &p.metadata {
                PackageMetadata::Dpkg(m) => {
                    for clause in m.depends.as_deref().unwrap_or("").split(',') {
                        // An alternative list `a | b`: the first installed alternative.
                        if let Some(j) = clause
                            .split('|')
                            .find_map(|alt| resolve(dpkg_dep_name(alt)))
                        {
                            deps.push(j);
                        }
                    }
                }
                PackageMetadata::Apk(m) => {
                    for d in &m.depends {
                        let j = match apk_dep_name(d) {
                            Some(name) => resolve(name),
                            None => apk_files.resolve(d),
                        };
                        if let Some(j) = j {
                            deps.push(j);
                        }
                    }
                }
                _ => {}
            }
            deps.retain(|&j| j != i);
            deps.sort_unstable();
            deps.dedup();
            deps
        })
        .collect()
}

/// Resolves apk virtual dependencies through the files apk packages own: `so:NAME` to the
/// package owning a library `NAME` in a `lib` directory, `cmd:NAME` to the owner of an executable
/// `NAME` in a `bin` directory, and an absolute path to its owner. (apk itself resolves them
/// through the `p:` provides lines, which the analysis does not keep; the shipped files are the
/// same evidence.)
struct ApkProviders<'a> {
    libraries: HashMap<&'a str, usize>,
    commands: HashMap<&'a str, usize>,
    paths: HashMap<&'a str, usize>,
}

impl<'a> ApkProviders<'a> {
    fn new(analysis: &'a Analysis) -> Self {
        let mut me = Self {
            libraries: HashMap::new(),
            commands: HashMap::new(),
            paths: HashMap::new(),
        };
        for (i, p) in analysis.packages.iter().enumerate() {
            let PackageMetadata::Apk(m) = &p.metadata else {
                continue;
            };
            for f in &m.files {
                let path = f.path.as_str();
                me.paths.entry(path).or_insert(i);
                let Some((dir, base)) = path.rsplit_once('/') else {
                    continue;
                };
                if dir.ends_with("/lib") || dir.ends_with("/lib64") {
                    me.libraries.entry(base).or_insert(i);
                } else if dir.ends_with("bin") {
                    me.commands.entry(base).or_insert(i);
                }
            }
        }
        me
    }

    fn resolve(&self, dep: &str) -> Option<usize> {
        let dep = dep.trim();
        let name = |s: &str| -> String {
            s.split(['=', '<', '>', '~'])
                .next()
                .unwrap_or(s)
                .to_string()
        };
        if let Some(lib) = dep.strip_prefix("so:") {
            self.libraries.get(name(lib).as_str()).copied()
        } else if let Some(cmd) = dep.strip_prefix("cmd:") {
            self.commands.get(name(cmd).as_str()).copied()
        } else if dep.starts_with('/') {
            self.paths.get(dep).copied()
        } else {
            None
        }
    }
}

/// `libc6 (>= 2.34)` or `perl:any` -> the package name.
fn dpkg_dep_name(alt: &str) -> &str {
    let alt = alt.trim();
    let end = alt
        .find(|c: char| c.is_whitespace() || c == '(' || c == ':' || c == '[' || c == '<')
        .unwrap_or(alt.len());
    &alt[..end]
}

/// `musl>=1.2` -> `musl`; virtual (`so:`, `cmd:`, `pc:`), path and conflict (`!`) entries -> None.
fn apk_dep_name(dep: &str) -> Option<&str> {
    let dep = dep.trim();
    if dep.is_empty() || dep.starts_with('!') || dep.starts_with('/') || dep.contains(':') {
        return None;
    }
    let end = dep.find(['=', '<', '>', '~']).unwrap_or(dep.len());
    Some(&dep[..end]).filter(|n| !n.is_empty())
}

/// How a declared licence string can be written in an SBOM.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum LicenseTerm {
    /// A current (non-deprecated) SPDX licence identifier.
    Id(&'static str),
    /// A valid SPDX licence expression with operators (`MIT OR Apache-2.0`).
    Expression(String),
    /// Anything else: a free-text licence name.
    Other(String),
}

/// Classifies a declared licence string. Strict SPDX parsing: deprecated identifiers (`GPL-2.0+`)
/// and unknown names become [`LicenseTerm::Other`].
pub(crate) fn classify_license(s: &str) -> Option<LicenseTerm> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if !s.ends_with('+')
        && let Some(id) = spdx::license_id(s).filter(|id| !id.is_deprecated() && id.name == s)
    {
        return Some(LicenseTerm::Id(id.name));
    }
    match spdx::Expression::parse(s) {
        Ok(_) if s.contains(' ') => Some(LicenseTerm::Expression(s.to_string())),
        Ok(_) if s.starts_with("LicenseRef-") => Some(LicenseTerm::Expression(s.to_string())),
        _ => Some(LicenseTerm::Other(s.to_string())),
    }
}

/// Version of the SPDX licence list the classification uses.
pub(crate) fn license_list_version() -> &'static str {
    spdx::identifiers::VERSION
}

/// True when `s` parses as an absolute URL (what the document schemas accept as a URL).
pub(crate) fn is_url(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| !u.cannot_be_a_base() || u.scheme() == "mailto")
}

/// The OCI purl of the analysed image, when it has a manifest digest:
/// `pkg:oci/NAME@sha256%3A...?arch=amd64&repository_url=REGISTRY/REPO&tag=TAG`.
pub(crate) fn image_purl(analysis: &Analysis) -> Option<String> {
    let digest = analysis.source.manifest_digest.as_ref()?.to_string();
    let reference = analysis.source.reference.as_deref();
    let (repo, tag) = match reference {
        Some(r) => split_reference(r),
        None => (None, None),
    };
    let name = repo
        .and_then(|r| r.rsplit('/').next())
        .unwrap_or("image")
        .to_ascii_lowercase();
    let mut q: Vec<(&str, String)> = Vec::new();
    if !analysis.image.architecture.is_empty() {
        q.push(("arch", analysis.image.architecture.clone()));
    }
    if let Some(r) = repo {
        q.push(("repository_url", r.to_string()));
    }
    if let Some(t) = tag {
        q.push(("tag", t.to_string()));
    }
    let mut out = format!("pkg:oci/{}@{}", purl_escape(&name), purl_escape(&digest));
    for (i, (k, v)) in q.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(k);
        out.push('=');
        out.push_str(&purl_escape(v));
    }
    Some(out)
}

/// `registry/repo:tag@digest` -> (`registry/repo`, `tag`).
fn split_reference(r: &str) -> (Option<&str>, Option<&str>) {
    let r = r.split('@').next().unwrap_or(r);
    let slash = r.rfind('/').map_or(0, |i| i + 1);
    match r[slash..].find(':') {
        Some(c) => (Some(&r[..slash + c]), Some(&r[slash + c + 1..])),
        None => (Some(r), None),
    }
}

/// Percent-encodes a purl component (unreserved characters and `/` in qualifier values kept).
fn purl_escape(s: &str) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_licenses() {
        assert_eq!(classify_license("MIT"), Some(LicenseTerm::Id("MIT")));
        assert_eq!(
            classify_license("MIT OR Apache-2.0"),
            Some(LicenseTerm::Expression("MIT OR Apache-2.0".into()))
        );
        assert_eq!(
            classify_license("GPL-2.0+"),
            Some(LicenseTerm::Other("GPL-2.0+".into()))
        );
        assert_eq!(
            classify_license("Apache 2.0"),
            Some(LicenseTerm::Other("Apache 2.0".into()))
        );
        assert_eq!(classify_license("  "), None);
    }

    #[test]
    fn dependency_names() {
        assert_eq!(dpkg_dep_name(" libc6 (>= 2.34)"), "libc6");
        assert_eq!(dpkg_dep_name("perl:any"), "perl");
        assert_eq!(apk_dep_name("musl>=1.2"), Some("musl"));
        assert_eq!(apk_dep_name("so:libc.musl-x86_64.so.1"), None);
        assert_eq!(apk_dep_name("/bin/sh"), None);
    }

    #[test]
    fn checksums_need_hex_of_the_right_length() {
        assert!(Checksum::new("SHA-256", &"a".repeat(64)).is_some());
        assert!(Checksum::new("sha1", "Q1abc=").is_none());
        assert!(Checksum::new("crc32", "abcd").is_none());
    }

    #[test]
    fn splits_references() {
        assert_eq!(
            split_reference("docker.io/library/alpine:3.20"),
            (Some("docker.io/library/alpine"), Some("3.20"))
        );
        assert_eq!(
            split_reference("localhost:5000/corpus/alpine@sha256:ab"),
            (Some("localhost:5000/corpus/alpine"), None)
        );
    }
}
