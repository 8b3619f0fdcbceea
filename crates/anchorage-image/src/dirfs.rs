//! A host directory seen as an image root (`dir:` sources).

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use crate::fs::{EntryKind, FileEntry, FsError, ImageFs, LayerRef, normalize_path};
use crate::limits::Limits;
use crate::squash::SquashError;

/// A host directory as a read-only image tree.
///
/// The directory is walked once without following symlinks; symlinks are recorded with their
/// targets as written and resolved by [`ImageFs::resolve`] inside the root, never on the host.
/// Files are opened with `O_NOFOLLOW` after checking that no parent component has become a
/// symlink, so a link can never lead outside the root.
#[derive(Debug)]
pub struct DirFs {
    root: PathBuf,
    layers: Vec<LayerRef>,
    entries: BTreeMap<String, FileEntry>,
    warnings: Vec<String>,
}

fn kind_of(ft: &fs::FileType) -> EntryKind {
    if ft.is_dir() {
        EntryKind::Dir
    } else if ft.is_symlink() {
        EntryKind::Symlink
    } else if ft.is_file() {
        EntryKind::File
    } else if ft.is_char_device() {
        EntryKind::CharDevice
    } else if ft.is_block_device() {
        EntryKind::BlockDevice
    } else if ft.is_fifo() {
        EntryKind::Fifo
    } else {
        EntryKind::Other
    }
}

fn entry_from(path: String, meta: &fs::Metadata, link_target: Option<String>) -> FileEntry {
    let kind = kind_of(&meta.file_type());
    FileEntry {
        path,
        kind,
        mode: meta.mode() & 0o7777,
        uid: u64::from(meta.uid()),
        gid: u64::from(meta.gid()),
        size: if kind == EntryKind::File {
            meta.len()
        } else {
            0
        },
        link_target,
        mtime: meta.mtime(),
        layer_index: 0,
    }
}

impl DirFs {
    /// Walks `root` (at most `limits.max_entries` entries, paths up to `limits.max_path_len`).
    pub fn open(root: &Path, limits: &Limits) -> Result<Self, SquashError> {
        let dir_error = |path: &Path, message: String| SquashError::DirRoot {
            path: path.to_path_buf(),
            message,
        };
        let root = fs::canonicalize(root).map_err(|e| dir_error(root, e.to_string()))?;
        let meta = fs::metadata(&root).map_err(|e| dir_error(&root, e.to_string()))?;
        if !meta.is_dir() {
            return Err(dir_error(&root, "not a directory".to_string()));
        }
        let mut entries = BTreeMap::new();
        let mut warnings = Vec::new();
        entries.insert("/".to_string(), entry_from("/".to_string(), &meta, None));
        let mut stack = vec![(root.clone(), String::from("/"))];
        while let Some((host_dir, image_dir)) = stack.pop() {
            let listing = match fs::read_dir(&host_dir) {
                Ok(l) => l,
                Err(e) => {
                    warnings.push(format!("{image_dir}: cannot list directory: {e}"));
                    continue;
                }
            };
            for item in listing {
                let item = match item {
                    Ok(i) => i,
                    Err(e) => {
                        warnings.push(format!("{image_dir}: cannot read directory entry: {e}"));
                        continue;
                    }
                };
                let name = item.file_name();
                let Some(name) = name.to_str() else {
                    warnings.push(format!(
                        "{image_dir}: entry {:?}: name is not utf-8; skipped",
                        item.file_name()
                    ));
                    continue;
                };
                let image_path = if image_dir == "/" {
                    format!("/{name}")
                } else {
                    format!("{image_dir}/{name}")
                };
                if image_path.len() > limits.max_path_len {
                    return Err(dir_error(
                        &item.path(),
                        format!("path length limit of {} exceeded", limits.max_path_len),
                    ));
                }
                if entries.len() as u64 >= limits.max_entries {
                    return Err(dir_error(
                        &root,
                        format!("entry count limit of {} exceeded", limits.max_entries),
                    ));
                }
                // DirEntry::metadata does not follow symlinks.
                let meta = match item.metadata() {
                    Ok(m) => m,
                    Err(e) => {
                        warnings.push(format!("{image_path}: cannot stat: {e}"));
                        continue;
                    }
                };
                let ft = meta.file_type();
                let link_target = if ft.is_symlink() {
                    match fs::read_link(item.path()) {
                        Ok(t) => Some(t.to_string_lossy().into_owned()),
                        Err(e) => {
                            warnings.push(format!("{image_path}: cannot read link: {e}"));
                            None
                        }
                    }
                } else {
                    None
                };
                if ft.is_dir() {
                    stack.push((item.path(), image_path.clone()));
                }
                entries.insert(
                    image_path.clone(),
                    entry_from(image_path, &meta, link_target),
                );
            }
        }
        Ok(Self {
            root,
            layers: vec![LayerRef {
                digest: None,
                diff_id: None,
            }],
            entries,
            warnings,
        })
    }

    /// The canonical host root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Non-fatal problems met while walking (unreadable directories, non-utf-8 names).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Opens the host file behind an image path without following any symlink.
    fn open_host(&self, image_path: &str) -> io::Result<File> {
        let mut host = self.root.clone();
        let components: Vec<&str> = image_path.split('/').filter(|c| !c.is_empty()).collect();
        let Some((last, parents)) = components.split_last() else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the root is a directory",
            ));
        };
        for c in parents {
            host.push(c);
            let meta = fs::symlink_metadata(&host)?;
            if !meta.file_type().is_dir() {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "a parent directory changed into a non-directory",
                ));
            }
        }
        host.push(last);
        let file = OpenOptions::new()
            .read(true)
            // No symlink at the last component, and no blocking on a FIFO swapped in.
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&host)?;
        if !file.metadata()?.file_type().is_file() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a regular file on the host",
            ));
        }
        Ok(file)
    }
}

impl ImageFs for DirFs {
    fn layers(&self) -> &[LayerRef] {
        &self.layers
    }

    fn entry(&self, path: &str) -> Option<FileEntry> {
        if let Some(e) = self.entries.get(path) {
            return Some(e.clone());
        }
        self.entries.get(&normalize_path(path)?).cloned()
    }

    fn entries(&self) -> Box<dyn Iterator<Item = FileEntry> + '_> {
        Box::new(self.entries.values().cloned())
    }

    fn entry_count(&self) -> usize {
        self.entries.len()
    }

    fn open_entry(&self, entry: &FileEntry) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let known = self
            .entries
            .get(&entry.path)
            .ok_or_else(|| FsError::NotFound(entry.path.clone()))?;
        if known.kind != EntryKind::File {
            return Err(FsError::NotAFile(known.path.clone()));
        }
        let file = self.open_host(&known.path).map_err(|source| FsError::Io {
            path: known.path.clone(),
            source,
        })?;
        Ok(Box::new(io::BufReader::new(file).take(known.size)))
    }
}
