//! Safety limits applied while reading layers and building the squashed tree.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Explicit, configurable limits that stop decompression bombs and hostile archives.
///
/// Exceeding any limit is an error that names the layer (and the path when there is one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Maximum uncompressed (tar) bytes read from one layer.
    pub max_layer_decompressed_bytes: u64,
    /// Maximum uncompressed bytes read from all layers of one image together.
    pub max_total_decompressed_bytes: u64,
    /// Maximum tar entries (including whiteouts and directories) read from all layers together.
    /// The squashed-tree index costs about 80 bytes per entry, so the default of 8 million
    /// bounds it near 640 MB.
    pub max_entries: u64,
    /// Maximum size of one file in a layer.
    pub max_file_size: u64,
    /// Maximum length in bytes of an entry path or a link target.
    pub max_path_len: usize,
    /// Maximum size of one PAX extended header (they are held in memory while read).
    pub max_pax_header_bytes: u64,
    /// Maximum number of layers in one image.
    pub max_layers: usize,
    /// Highest decompressed-to-compressed ratio of a gzip or zstd layer (decompression bombs
    /// are refused after [`Self::compression_ratio_grace_bytes`], not after the byte limits);
    /// `0` disables the check.
    pub max_compression_ratio: u64,
    /// Decompressed bytes of a layer accepted before its compression ratio is checked, so small
    /// layers with a high ratio (tar padding, files of zeros) are not refused.
    pub compression_ratio_grace_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        const GIB: u64 = 1024 * 1024 * 1024;
        Self {
            max_layer_decompressed_bytes: 16 * GIB,
            max_total_decompressed_bytes: 64 * GIB,
            max_entries: 8_000_000,
            max_file_size: 8 * GIB,
            max_path_len: 4096,
            max_pax_header_bytes: 1024 * 1024,
            max_layers: 512,
            max_compression_ratio: 200,
            compression_ratio_grace_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Which limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LimitKind {
    /// [`Limits::max_layer_decompressed_bytes`].
    LayerDecompressedBytes,
    /// [`Limits::max_total_decompressed_bytes`].
    TotalDecompressedBytes,
    /// [`Limits::max_entries`].
    Entries,
    /// [`Limits::max_file_size`].
    FileSize,
    /// [`Limits::max_path_len`].
    PathLength,
    /// [`Limits::max_pax_header_bytes`].
    PaxHeaderBytes,
    /// [`Limits::max_layers`].
    Layers,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::LayerDecompressedBytes => "decompressed bytes per layer",
            Self::TotalDecompressedBytes => "decompressed bytes per image",
            Self::Entries => "entry count",
            Self::FileSize => "single file size",
            Self::PathLength => "path length",
            Self::PaxHeaderBytes => "pax header size",
            Self::Layers => "layer count",
        })
    }
}
