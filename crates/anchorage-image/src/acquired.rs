//! What acquiring an image produces: verified blobs on disk plus the manifest and config.
//! Sources (registry, archives, OCI layouts) produce an [`AcquiredImage`]; squashing consumes
//! its [`LayerBlob`]s. A leaf module: the sources and the squash depend on it, never the reverse.

use std::path::PathBuf;

use anchorage_types::{Digest, Platform};
use serde::{Deserialize, Serialize};

/// An image whose manifest, config and layer blobs are available locally and verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcquiredImage {
    /// Source scheme: `registry`, `docker-archive`, `oci-archive`, `oci-dir`, `dir`.
    pub scheme: String,
    /// The source string as the user gave it.
    pub input: String,
    /// Normalized reference, when the source has one (`docker.io/library/alpine:3.20`).
    pub reference: Option<String>,
    /// Digest of the image manifest (absent for `dir:`).
    pub manifest_digest: Option<Digest>,
    /// Digest of the index the manifest was selected from, if any.
    pub index_digest: Option<Digest>,
    /// Raw manifest JSON.
    pub manifest_json: Option<String>,
    /// Digest of the config blob; its hex is the image id.
    pub config_digest: Option<Digest>,
    /// Raw config JSON.
    pub config_json: Option<String>,
    /// Platform of the selected manifest (from the config when present).
    pub platform: Platform,
    /// Layers bottom first.
    pub layers: Vec<LayerBlob>,
    /// For `dir:` sources: the host directory that is the image root.
    pub root_dir: Option<PathBuf>,
}

/// One layer blob, stored on local disk and verified against its digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerBlob {
    /// Blob digest from the manifest (compressed form), when known.
    pub digest: Option<Digest>,
    /// Uncompressed digest from the config's `rootfs.diff_ids`, when known.
    pub diff_id: Option<Digest>,
    /// Blob size in bytes.
    pub size: u64,
    /// Media type from the manifest (compression is detected from content, not from this).
    pub media_type: String,
    /// Local file holding the blob bytes (inside the blob cache or the archive's scratch copy).
    pub path: PathBuf,
    /// The blob is the uncompressed layer and acquisition already hashed its bytes to
    /// `diff_id` (an uncompressed docker-archive member, or a blob whose verified digest is its
    /// diff_id): squashing does not hash the same bytes again.
    #[serde(default)]
    pub diff_id_verified: bool,
}
