//! Image acquisition and the squashed, read-only file tree.
//!
//! Catalogers see an image only through the [`ImageFs`] trait: a map from absolute image paths
//! to [`FileEntry`] metadata, with contents readable on demand.

mod acquire;
// types shared by the sources (leaf modules)
mod acquired;
mod error;
mod manifest;
mod options;
// sources, registry client and blob cache
mod archive;
mod cache;
mod fs;
mod memfs;
mod oci_layout;
mod outer_tar;
mod registry;
mod source;
// layers, limits and the squashed tree
mod dirfs;
mod layer;
mod limits;
mod open;
mod ratio;
mod squash;

pub use acquire::{Acquirer, acquire, list_tags};
pub use acquired::{AcquiredImage, LayerBlob};
pub use cache::{BlobCache, CacheError};
pub use error::AcquireError;
pub use options::{
    AcquireOptions, AcquireRequest, DEFAULT_MAX_BLOB_SIZE, DEFAULT_MAX_MANIFEST_SIZE,
    DEFAULT_MAX_TOKEN_RESPONSE_SIZE, DEFAULT_PARALLEL_DOWNLOADS, ProgressCallback, ProgressEvent,
    RegistryCredential, fallback_cache_dir,
};
pub use registry::RegistryClient;
pub use source::{LayoutSelector, Source, SourceError};

pub use fs::{EntryKind, FileEntry, FsError, ImageFs, LayerRef, MAX_SYMLINK_HOPS, normalize_path};
pub use memfs::MemFs;

pub use dirfs::DirFs;
pub use layer::{Compression, LayerId};
pub use limits::{LimitKind, Limits};
pub use open::open_fs;
pub use squash::{LayerStats, SquashError, SquashOptions, SquashStats, SquashedFs, squash};
