//! Ecosystem-specific package detail. Each cataloger fills its own variant.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Ecosystem-specific package detail.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum PackageMetadata {
    /// Nothing beyond the common fields.
    #[default]
    None,
    /// dpkg status entry.
    Dpkg(DpkgMetadata),
    /// apk installed entry.
    Apk(ApkMetadata),
    /// rpm header.
    Rpm(RpmMetadata),
    /// Python distribution.
    Python(PythonMetadata),
    /// npm package.
    Npm(NpmMetadata),
    /// Ruby gem.
    Gem(GemMetadata),
    /// Java archive.
    Java(JavaMetadata),
    /// Go module (from build info or go.mod).
    Go(GoMetadata),
    /// Rust crate.
    Rust(RustMetadata),
    /// .NET package.
    Nuget(NugetMetadata),
    /// Composer package.
    Composer(ComposerMetadata),
    /// Binary classifier hit.
    Binary(BinaryMetadata),
}

/// A file a package declares it owns, with its recorded digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageFile {
    /// Absolute image path.
    pub path: String,
    /// Digest algorithm (`md5`, `sha1`, `sha256`) and hex value, when recorded.
    #[serde(default)]
    pub digest: Option<FileDigest>,
    /// A configuration file (dpkg `Conffiles`, rpm `%config`): administrators are expected to
    /// change it, so `packages/verify` does not report it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub config: bool,
}

/// A recorded file digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileDigest {
    /// `md5`, `sha1`, `sha256`, ...
    pub algorithm: String,
    /// Hex value.
    pub value: String,
}

/// dpkg status fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DpkgMetadata {
    /// Maintainer.
    #[serde(default)]
    pub maintainer: Option<String>,
    /// Installed-Size in KiB.
    #[serde(default)]
    pub installed_size_kib: Option<u64>,
    /// Files from `info/*.list` with md5 from `*.md5sums`.
    #[serde(default)]
    pub files: Vec<PackageFile>,
    /// Depends field as written.
    #[serde(default)]
    pub depends: Option<String>,
}

/// apk installed fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ApkMetadata {
    /// Maintainer (`m:`).
    #[serde(default)]
    pub maintainer: Option<String>,
    /// Installed size in bytes (`I:`).
    #[serde(default)]
    pub installed_size: Option<u64>,
    /// Upstream URL (`U:`).
    #[serde(default)]
    pub url: Option<String>,
    /// Git commit of aports (`c:`).
    #[serde(default)]
    pub commit: Option<String>,
    /// Files with checksums (`R:`/`Z:`).
    #[serde(default)]
    pub files: Vec<PackageFile>,
    /// Dependencies (`D:`).
    #[serde(default)]
    pub depends: Vec<String>,
}

/// rpm header fields.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RpmMetadata {
    /// Epoch, if set.
    #[serde(default)]
    pub epoch: Option<u64>,
    /// Version (without release).
    pub version: String,
    /// Release.
    pub release: String,
    /// Source rpm file name.
    #[serde(default)]
    pub source_rpm: Option<String>,
    /// Vendor.
    #[serde(default)]
    pub vendor: Option<String>,
    /// Size in bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Files with digests.
    #[serde(default)]
    pub files: Vec<PackageFile>,
}

/// Python distribution metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PythonMetadata {
    /// Author.
    #[serde(default)]
    pub author: Option<String>,
    /// Home page.
    #[serde(default)]
    pub home_page: Option<String>,
    /// Site-packages root the distribution is installed under.
    #[serde(default)]
    pub site_packages_root: Option<String>,
    /// `dist-info`, `egg-info`, `egg`.
    #[serde(default)]
    pub format: Option<String>,
    /// Files from RECORD / installed-files.txt.
    #[serde(default)]
    pub files: Vec<PackageFile>,
    /// Requires-Dist entries.
    #[serde(default)]
    pub requires_dist: Vec<String>,
}

/// npm package metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NpmMetadata {
    /// Author.
    #[serde(default)]
    pub author: Option<String>,
    /// Homepage.
    #[serde(default)]
    pub homepage: Option<String>,
    /// Resolved tarball URL (lockfiles).
    #[serde(default)]
    pub resolved: Option<String>,
    /// Integrity hash (lockfiles).
    #[serde(default)]
    pub integrity: Option<String>,
    /// Whether the lockfile marks it as a dev dependency.
    #[serde(default)]
    pub dev: bool,
}

/// Ruby gem metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GemMetadata {
    /// Authors.
    #[serde(default)]
    pub authors: Vec<String>,
    /// Homepage.
    #[serde(default)]
    pub homepage: Option<String>,
}

/// Java archive metadata (Anchore's `java` content row fields).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct JavaMetadata {
    /// Archive type: `JAVA-JAR`, `JAVA-WAR`, `JAVA-EAR`, ...
    pub archive_type: String,
    /// Maven groupId.
    #[serde(default)]
    pub group_id: Option<String>,
    /// Maven artifactId.
    #[serde(default)]
    pub artifact_id: Option<String>,
    /// Version from pom.properties / pom.xml.
    #[serde(default)]
    pub maven_version: Option<String>,
    /// Specification-Version from the manifest.
    #[serde(default)]
    pub specification_version: Option<String>,
    /// Implementation-Version from the manifest.
    #[serde(default)]
    pub implementation_version: Option<String>,
    /// Main manifest attributes.
    #[serde(default)]
    pub manifest: BTreeMap<String, String>,
    /// Path inside nested archives, e.g. `app.war:WEB-INF/lib/x.jar`.
    #[serde(default)]
    pub virtual_path: Option<String>,
    /// sha1 of the archive.
    #[serde(default)]
    pub sha1: Option<String>,
}

/// Go module metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GoMetadata {
    /// Go toolchain version that built the binary.
    #[serde(default)]
    pub go_version: Option<String>,
    /// Module checksum (`h1:...`).
    #[serde(default)]
    pub sum: Option<String>,
    /// Main module path of the binary.
    #[serde(default)]
    pub main_module: Option<String>,
    /// Build settings (`-ldflags`, `GOOS`, `vcs.revision`, ...).
    #[serde(default)]
    pub build_settings: BTreeMap<String, String>,
}

/// Rust crate metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RustMetadata {
    /// Source (`registry+https://...`).
    #[serde(default)]
    pub source: Option<String>,
    /// Checksum.
    #[serde(default)]
    pub checksum: Option<String>,
}

/// .NET package metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NugetMetadata {
    /// sha512 from deps.json.
    #[serde(default)]
    pub sha512: Option<String>,
    /// Path inside the package cache.
    #[serde(default)]
    pub path: Option<String>,
}

/// Composer package metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ComposerMetadata {
    /// Source reference.
    #[serde(default)]
    pub source_reference: Option<String>,
    /// Dist URL.
    #[serde(default)]
    pub dist_url: Option<String>,
}

/// Binary classifier evidence.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BinaryMetadata {
    /// Classifier name, e.g. `python-binary`.
    pub classifier: String,
    /// The matched string that carried the version.
    pub matched: String,
}
