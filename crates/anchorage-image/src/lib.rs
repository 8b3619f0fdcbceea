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
mod ratio;
mod squash;

pub use acquire::{acquire, acquire_blocking, list_tags, list_tags_blocking};
pub use acquired::{AcquiredImage, LayerBlob};
pub use cache::{BlobCache, CacheError};
pub use error::AcquireError;
pub use options::{
    AcquireOptions, DEFAULT_MAX_BLOB_SIZE, DEFAULT_MAX_MANIFEST_SIZE,
    DEFAULT_MAX_TOKEN_RESPONSE_SIZE, ProgressCallback, ProgressEvent, RegistryCredential,
    default_cache_dir,
};
pub use source::{LayoutSelector, Source, SourceError};

pub use fs::{EntryKind, FileEntry, FsError, ImageFs, LayerRef, MAX_SYMLINK_HOPS, normalize_path};
pub use memfs::MemFs;

pub use dirfs::DirFs;
pub use layer::{Compression, LayerId};
pub use limits::{LimitKind, Limits};
pub use squash::{
    LayerStats, SquashError, SquashOptions, SquashStats, SquashedFs, open_fs, squash,
};
