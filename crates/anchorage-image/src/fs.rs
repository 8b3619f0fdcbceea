//! The read-only file tree interface that catalogers read images through.

use anchorage_types::ErrorKind;
use std::io::Read;

use anchorage_types::Digest;
use serde::{Deserialize, Serialize};

/// The type of a file-tree entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Regular file.
    File,
    /// Directory.
    Dir,
    /// Symbolic link (`link_target` holds the target as written).
    Symlink,
    /// Hard link (`link_target` holds the absolute image path it links to).
    Hardlink,
    /// Character device (recorded, never created).
    CharDevice,
    /// Block device (recorded, never created).
    BlockDevice,
    /// Named pipe.
    Fifo,
    /// Anything else a tar can carry.
    Other,
}

/// Metadata of one path in the squashed image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Normalized absolute path inside the image, e.g. `/etc/passwd` (root is `/`).
    pub path: String,
    /// Entry type.
    pub kind: EntryKind,
    /// Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000).
    pub mode: u32,
    /// Owner user id.
    pub uid: u64,
    /// Owner group id.
    pub gid: u64,
    /// Content size in bytes (0 for non-regular files; for a hard link, the size of the content
    /// it links to).
    pub size: u64,
    /// Symlink target as written, or the absolute target path of a hard link.
    pub link_target: Option<String>,
    /// Modification time, seconds since the Unix epoch.
    pub mtime: i64,
    /// Index into [`ImageFs::layers`] of the layer that provided this entry.
    pub layer_index: usize,
}

/// A layer of the image as the file tree knows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerRef {
    /// Digest of the blob as stored (compressed) in the registry or archive.
    pub digest: Option<Digest>,
    /// Digest of the uncompressed tar (the config's `rootfs.diff_ids` entry).
    pub diff_id: Option<Digest>,
}

/// Errors reading from an [`ImageFs`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FsError {
    /// The path does not exist in the image.
    #[error("{0}: no such file in image")]
    NotFound(String),
    /// The path resolves to something that is not a regular file.
    #[error("{0}: not a regular file")]
    NotAFile(String),
    /// Symlink resolution looped or went too deep.
    #[error("{0}: too many levels of symbolic links")]
    SymlinkLoop(String),
    /// The file is larger than the caller's limit.
    #[error("{path}: file of {size} bytes exceeds the read limit of {limit} bytes")]
    TooLarge {
        /// Image path.
        path: String,
        /// Actual size.
        size: u64,
        /// The limit that was exceeded.
        limit: u64,
    },
    /// Reading the backing storage failed.
    #[error("{path}: read failed: {source}")]
    Io {
        /// Image path.
        path: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl FsError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            FsError::NotFound(_) => ErrorKind::NotFound,
            FsError::NotAFile(_) | FsError::SymlinkLoop(_) => ErrorKind::InvalidInput,
            FsError::TooLarge { .. } => ErrorKind::LimitExceeded,
            FsError::Io { source, .. } => ErrorKind::of_io(source),
        }
    }
}

/// Maximum symlinks followed while resolving one path.
pub const MAX_SYMLINK_HOPS: usize = 40;

/// A squashed, read-only image file tree.
///
/// All paths are absolute image paths (`/usr/lib/os-release`); they are normalized with
/// [`normalize_path`] before lookup, so `usr/lib/../lib/os-release` works too. Nothing here ever
/// touches host paths named after image paths.
pub trait ImageFs: Send + Sync {
    /// The layers, bottom first.
    fn layers(&self) -> &[LayerRef];

    /// The entry at `path` without following a final symlink (parents are not resolved either).
    ///
    /// Entries are returned by value: implementations may keep a compact index and build the
    /// path on demand (a squashed tree of millions of files never stores full paths).
    fn entry(&self, path: &str) -> Option<FileEntry>;

    /// All entries in byte order of their paths (parents before children), by value.
    fn entries(&self) -> Box<dyn Iterator<Item = FileEntry> + '_>;

    /// The entries below the directory `dir` (not `dir` itself), in the order of
    /// [`ImageFs::entries`]; empty when `dir` is not a directory. The default filters
    /// [`ImageFs::entries`]; trees with an index walk only the subtree.
    fn entries_under(&self, dir: &str) -> Box<dyn Iterator<Item = FileEntry> + '_> {
        let Some(dir) = normalize_path(dir) else {
            return Box::new(std::iter::empty());
        };
        let prefix = if dir == "/" { dir } else { format!("{dir}/") };
        Box::new(
            self.entries()
                .filter(move |e| e.path.len() > prefix.len() && e.path.starts_with(&prefix)),
        )
    }

    /// Number of entries [`ImageFs::entries`] yields.
    fn entry_count(&self) -> usize {
        self.entries().count()
    }

    /// Opens the content of the regular file at `entry.path` (no link following). Hard links are
    /// opened through their target.
    fn open_entry(&self, entry: &FileEntry) -> Result<Box<dyn Read + Send + '_>, FsError>;

    /// Resolves `path`, following symlinks in every component, confined to the image root
    /// (`..` at the root stays at the root), with loop detection.
    fn resolve(&self, path: &str) -> Result<FileEntry, FsError> {
        resolve_in(self, path)
    }

    /// Opens `path` after resolving symlinks.
    fn open(&self, path: &str) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let entry = self.resolve(path)?;
        match entry.kind {
            EntryKind::File | EntryKind::Hardlink => self.open_entry(&entry),
            _ => Err(FsError::NotAFile(entry.path)),
        }
    }

    /// Reads a whole file after resolving symlinks, refusing files larger than `limit` bytes.
    fn read_limited(&self, path: &str, limit: u64) -> Result<Vec<u8>, FsError> {
        // A hard link carries the size of its content and is opened through `open_entry`,
        // which knows what it links to (even if a later layer replaced the target path).
        let entry = self.resolve(path)?;
        if !matches!(entry.kind, EntryKind::File | EntryKind::Hardlink) {
            return Err(FsError::NotAFile(entry.path.clone()));
        }
        if entry.size > limit {
            return Err(FsError::TooLarge {
                path: entry.path.clone(),
                size: entry.size,
                limit,
            });
        }
        let mut reader = self.open_entry(&entry)?;
        let mut buf = Vec::with_capacity(usize::try_from(entry.size).unwrap_or(0));
        reader
            .by_ref()
            .take(limit.saturating_add(1))
            .read_to_end(&mut buf)
            .map_err(|source| FsError::Io {
                path: entry.path.clone(),
                source,
            })?;
        if buf.len() as u64 > limit {
            return Err(FsError::TooLarge {
                path: entry.path.clone(),
                size: buf.len() as u64,
                limit,
            });
        }
        Ok(buf)
    }
}

/// Normalizes an image path: absolute, no `.`/`..`/empty components, `..` at the root stays at
/// the root, NUL bytes rejected by returning `None`.
pub fn normalize_path(path: &str) -> Option<String> {
    if path.contains('\0') {
        return None;
    }
    let mut parts: Vec<&str> = Vec::new();
    for component in path.split('/') {
        match component {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    let mut out = String::with_capacity(path.len() + 1);
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    Some(out)
}

fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

fn resolve_in<F: ImageFs + ?Sized>(fs: &F, path: &str) -> Result<FileEntry, FsError> {
    let start = normalize_path(path).ok_or_else(|| FsError::NotFound(path.to_string()))?;
    let mut hops = 0usize;
    // Walk component by component; `resolved` is always a symlink-free, normalized prefix.
    let mut pending: Vec<String> = start
        .split('/')
        .filter(|c| !c.is_empty())
        .rev()
        .map(str::to_string)
        .collect();
    let mut resolved = String::from("/");
    while let Some(component) = pending.pop() {
        if component == "." || component.is_empty() {
            continue;
        }
        if component == ".." {
            resolved = parent_of(&resolved).to_string();
            continue;
        }
        let candidate = if resolved == "/" {
            format!("/{component}")
        } else {
            format!("{resolved}/{component}")
        };
        let entry = fs
            .entry(&candidate)
            .ok_or_else(|| FsError::NotFound(start.clone()))?;
        if entry.kind == EntryKind::Symlink {
            hops += 1;
            if hops > MAX_SYMLINK_HOPS {
                return Err(FsError::SymlinkLoop(start));
            }
            let target = entry.link_target.clone().unwrap_or_default();
            if target.starts_with('/') {
                resolved = String::from("/");
            }
            for c in target.split('/').filter(|c| !c.is_empty()).rev() {
                pending.push(c.to_string());
            }
        } else {
            resolved = candidate;
        }
    }
    fs.entry(&resolved)
        .ok_or_else(|| FsError::NotFound(start.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_hostile_paths() {
        assert_eq!(normalize_path("../../etc/passwd").unwrap(), "/etc/passwd");
        assert_eq!(normalize_path("/a/./b//c/..").unwrap(), "/a/b");
        assert_eq!(normalize_path("").unwrap(), "/");
        assert_eq!(normalize_path("./").unwrap(), "/");
        assert!(normalize_path("a\0b").is_none());
    }
}
