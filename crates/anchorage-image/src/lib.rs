//! Image acquisition and the squashed, read-only file tree.
//!
//! Catalogers see an image only through the [`ImageFs`] trait: a map from absolute image paths
//! to [`FileEntry`] metadata, with contents readable on demand.

mod fs;
mod memfs;

pub use fs::{EntryKind, FileEntry, FsError, ImageFs, LayerRef, MAX_SYMLINK_HOPS, normalize_path};
pub use memfs::MemFs;
