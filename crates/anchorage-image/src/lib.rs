//! Image acquisition and the squashed, read-only file tree.
//!
//! Catalogers see an image only through the [`ImageFs`] trait: a map from absolute image paths
//! to [`FileEntry`] metadata, with contents readable on demand.

mod acquire;
// sources, registry client and blob cache
mod archive;
mod cache;
mod fs;
mod memfs;
mod oci_layout;
mod registry;
mod source;
// layers, limits and the squashed tree
mod dirfs;
mod layer;
mod limits;
mod squash;

pub use acquire::{
    AcquireError, AcquireOptions, AcquireRequest, Acquirer, DEFAULT_MAX_BLOB_SIZE,
    DEFAULT_MAX_MANIFEST_SIZE, DEFAULT_PARALLEL_DOWNLOADS, ProgressCallback, ProgressEvent,
    RegistryCredential, acquire, fallback_cache_dir, list_tags,
};
pub use acquire::{AcquiredImage, LayerBlob};
pub use cache::{BlobCache, CacheError};
pub use registry::RegistryClient;
pub use source::{LayoutSelector, Source, SourceError};

pub use fs::{EntryKind, FileEntry, FsError, ImageFs, LayerRef, MAX_SYMLINK_HOPS, normalize_path};
pub use memfs::MemFs;

pub use dirfs::DirFs;
pub use layer::{Compression, LayerId};
pub use limits::{LimitKind, Limits};
pub use squash::{
    LayerStats, SquashError, SquashOptions, SquashStats, SquashedFs, open_fs, squash,
};
