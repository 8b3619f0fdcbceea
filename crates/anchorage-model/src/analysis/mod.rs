//! The analysis document: everything learned about one image. Versioned by
//! [`ANALYSIS_SCHEMA_VERSION`]; serialized as Anchorage's native JSON.

mod malware;
mod metadata;
mod relationships;

use std::collections::BTreeMap;

use anchorage_types::{Digest, Location, PackageType};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use malware::*;
pub use metadata::*;
pub use relationships::{dependency_chain, depends_on};

/// Version of the native analysis JSON. Bump the minor for added fields, the major for changes.
pub const ANALYSIS_SCHEMA_VERSION: &str = "1.1.0";

/// Everything learned about one image (one manifest digest).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// [`ANALYSIS_SCHEMA_VERSION`] at the time of writing.
    pub schema_version: String,
    /// Where the image came from.
    pub source: SourceInfo,
    /// Image configuration, layers and history.
    pub image: ImageMetadata,
    /// The distribution, or `Distro::unknown()`.
    pub distro: Distro,
    /// Every package found, OS and language, sorted by (type, name, version, first location).
    pub packages: Vec<Package>,
    /// Every path in the squashed tree.
    pub files: Vec<FileRecord>,
    /// Package-to-package edges (`from` depends on `to`), sorted by (`from`, `to`); both ends are
    /// ids of [`Analysis::packages`]. Absent in documents older than schema 1.1.0.
    #[serde(default)]
    pub relationships: Vec<Relationship>,
    /// Secret-scan hits (never the secret text).
    pub secrets: Vec<ContentHit>,
    /// Content-search hits of user-configured regexes.
    #[serde(default)]
    pub content_hits: Vec<ContentHit>,
    /// Content of configured small files (default `/etc/passwd`).
    #[serde(default)]
    pub retrieved_files: Vec<RetrievedFile>,
    /// Problems that did not stop the analysis (malformed databases, skipped files, ...).
    #[serde(default)]
    pub warnings: Vec<AnalysisWarning>,
    /// Malware scans of the image's files, one per scanner that ran (Anchore's `malware`
    /// content). Empty (absent in JSON) when no scanner was configured or the configured
    /// scanner could not be reached: the policy `malware/scan_not_run` trigger fires then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub malware: Vec<MalwareScan>,
    /// When the analysis was made.
    pub analyzed_at: DateTime<Utc>,
}

/// The source an analysis was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceInfo {
    /// Source scheme: `registry`, `docker-archive`, `oci-archive`, `oci-dir`, `dir`.
    pub scheme: String,
    /// The source string as given by the user.
    pub input: String,
    /// Normalized reference (`docker.io/library/alpine:3.20`) when the source has one.
    #[serde(default)]
    pub reference: Option<String>,
    /// Manifest digest (the image digest Anchore keys on), absent for `dir:`.
    #[serde(default)]
    pub manifest_digest: Option<Digest>,
    /// Config digest; its hex is the image id.
    #[serde(default)]
    pub config_digest: Option<Digest>,
    /// Index digest when the reference resolved through a multi-platform index.
    #[serde(default)]
    pub index_digest: Option<Digest>,
}

/// Image-level metadata from the manifest and config.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ImageMetadata {
    /// `linux`.
    pub os: String,
    /// `amd64`.
    pub architecture: String,
    /// `v7`, `v8`.
    #[serde(default)]
    pub variant: Option<String>,
    /// Config `created`.
    #[serde(default)]
    pub created: Option<DateTime<Utc>>,
    /// Config author.
    #[serde(default)]
    pub author: Option<String>,
    /// Layers bottom first.
    pub layers: Vec<LayerInfo>,
    /// Sum of layer blob sizes (compressed), bytes: Anchore's `image_size`.
    pub image_size: u64,
    /// Number of layers.
    pub layer_count: usize,
    /// Runtime configuration.
    pub config: RuntimeConfig,
    /// Config history entries.
    #[serde(default)]
    pub history: Vec<HistoryEntry>,
    /// Dockerfile: `Actual` when supplied by the user, else `Guessed` from history.
    #[serde(default)]
    pub dockerfile: Option<Dockerfile>,
    /// The raw manifest JSON as fetched (for `metadata/manifest`).
    #[serde(default)]
    pub manifest_json: Option<String>,
    /// The raw config JSON.
    #[serde(default)]
    pub config_json: Option<String>,
}

/// One layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerInfo {
    /// Blob digest.
    pub digest: Option<Digest>,
    /// Uncompressed digest (diff_id).
    pub diff_id: Option<Digest>,
    /// Blob size in bytes.
    pub size: u64,
    /// Media type of the blob.
    pub media_type: String,
    /// `created_by` of the matching non-empty history entry.
    #[serde(default)]
    pub created_by: Option<String>,
}

/// The runtime part of the image config.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RuntimeConfig {
    /// `KEY=value` strings.
    #[serde(default)]
    pub env: Vec<String>,
    /// Entrypoint argv.
    #[serde(default)]
    pub entrypoint: Vec<String>,
    /// Cmd argv.
    #[serde(default)]
    pub cmd: Vec<String>,
    /// User.
    #[serde(default)]
    pub user: Option<String>,
    /// Working directory.
    #[serde(default)]
    pub working_dir: Option<String>,
    /// Exposed ports like `80/tcp`.
    #[serde(default)]
    pub exposed_ports: Vec<String>,
    /// Volumes.
    #[serde(default)]
    pub volumes: Vec<String>,
    /// Labels.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Healthcheck test argv (`["CMD", ...]`), if any.
    #[serde(default)]
    pub healthcheck: Option<Vec<String>>,
    /// Stop signal.
    #[serde(default)]
    pub stop_signal: Option<String>,
}

/// A config history entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    /// When.
    #[serde(default)]
    pub created: Option<String>,
    /// The command that made the layer.
    #[serde(default)]
    pub created_by: Option<String>,
    /// True when the step made no layer.
    #[serde(default)]
    pub empty_layer: bool,
    /// Comment.
    #[serde(default)]
    pub comment: Option<String>,
}

/// Where a Dockerfile came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DockerfileMode {
    /// Supplied by the user.
    Actual,
    /// Reconstructed from history.
    Guessed,
}

/// A Dockerfile and its mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dockerfile {
    /// Actual or Guessed.
    pub mode: DockerfileMode,
    /// Dockerfile text.
    pub text: String,
}

/// The distribution of the image.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Distro {
    /// os-release `ID` (`debian`, `alpine`, `rocky`), or `unknown`.
    pub id: String,
    /// `VERSION_ID` (`12`, `3.20.3`), if known.
    #[serde(default)]
    pub version_id: Option<String>,
    /// `VERSION_CODENAME` (`bookworm`).
    #[serde(default)]
    pub codename: Option<String>,
    /// `ID_LIKE` entries.
    #[serde(default)]
    pub id_like: Vec<String>,
    /// `PRETTY_NAME`.
    #[serde(default)]
    pub pretty_name: Option<String>,
    /// The file the distro was read from, or `packages` when inferred from a package database.
    #[serde(default)]
    pub evidence: Option<String>,
}

impl Distro {
    /// The distro of an image whose distribution could not be told.
    pub fn unknown() -> Self {
        Self {
            id: "unknown".into(),
            ..Self::default()
        }
    }

    /// True when the distribution is unknown.
    pub fn is_unknown(&self) -> bool {
        self.id == "unknown" || self.id.is_empty()
    }
}

/// One package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Package {
    /// Stable id within the analysis (hash of type, name, version, first location).
    pub id: String,
    /// Package name as the ecosystem spells it.
    pub name: String,
    /// Version as installed (dpkg `[epoch:]upstream-revision`, rpm `[epoch:]version-release`).
    pub version: String,
    /// Package type.
    #[serde(rename = "type")]
    pub package_type: PackageType,
    /// Package URL.
    pub purl: String,
    /// CPE 2.3 strings.
    #[serde(default)]
    pub cpes: Vec<String>,
    /// License names or SPDX expressions as declared.
    #[serde(default)]
    pub licenses: Vec<String>,
    /// Where the package was found (database file, manifest, archive), each with its layer.
    pub locations: Vec<Location>,
    /// The source package name for OS packages (dpkg Source, apk origin, rpm source rpm name).
    #[serde(default)]
    pub source_name: Option<String>,
    /// Source package version when it differs from `version`.
    #[serde(default)]
    pub source_version: Option<String>,
    /// Architecture, where the ecosystem has one.
    #[serde(default)]
    pub arch: Option<String>,
    /// Id of the OS package that owns this package's files (e.g. python3-yaml owning a
    /// dist-info), when reported alongside it.
    #[serde(default)]
    pub owner: Option<String>,
    /// Ecosystem-specific detail.
    #[serde(default)]
    pub metadata: PackageMetadata,
}

/// What a [`Relationship`] says about its two packages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RelationshipKind {
    /// `from` depends on `to` (dpkg `Depends`/`Pre-Depends`, apk `D:`, rpm `Requires`, a lock
    /// file's dependency list). This is CycloneDX's `dependsOn` and SPDX's `DEPENDS_ON`; Syft's
    /// `dependency-of` is the same edge written the other way round (its parent is our `to`).
    DependsOn,
}

/// A directed edge between two packages of one analysis.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Relationship {
    /// Id of the dependent package.
    pub from: String,
    /// Id of the package it depends on.
    pub to: String,
    /// The kind of edge.
    pub kind: RelationshipKind,
}

/// One path in the squashed tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Absolute image path.
    pub path: String,
    /// `file`, `dir`, `slink`, `hlink`, `chr`, `blk`, `fifo`, `other`.
    #[serde(rename = "type")]
    pub file_type: String,
    /// Size in bytes.
    pub size: u64,
    /// Permission bits including setuid/setgid/sticky.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// Link target.
    #[serde(default)]
    pub link_target: Option<String>,
    /// sha256 hex of regular files.
    #[serde(default)]
    pub sha256: Option<String>,
    /// sha1 hex of regular files (SPDX file checksums, apk's `Z:Q1` records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha1: Option<String>,
    /// md5 hex of regular files (dpkg's `.md5sums`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub md5: Option<String>,
    /// Layer diff_id the entry came from.
    #[serde(default)]
    pub layer: Option<Digest>,
    /// Id of the package that owns the path, if any.
    #[serde(default)]
    pub owner: Option<String>,
}

/// A regex hit in file content: path, rule and line numbers, never the matched text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContentHit {
    /// Absolute image path.
    pub path: String,
    /// Rule name, e.g. `AWS_ACCESS_KEY`.
    pub rule: String,
    /// The rule's regular expression as configured (Anchore's `regex_name` may name a rule by
    /// its regex text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub regex: Option<String>,
    /// 1-based line numbers of the hits.
    pub lines: Vec<u64>,
}

/// A small file whose content was kept for policy gates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetrievedFile {
    /// Absolute image path.
    pub path: String,
    /// Content, base64-encoded.
    pub content_b64: String,
}

/// A problem recorded during analysis that did not stop it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnalysisWarning {
    /// Which cataloger or stage, e.g. `dpkg`, `squash`.
    pub stage: String,
    /// Image path at fault, if any.
    #[serde(default)]
    pub path: Option<String>,
    /// What was wrong.
    pub message: String,
}
