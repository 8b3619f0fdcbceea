//! An in-memory [`ImageFs`], for tests of catalogers over real files and for tiny images.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use crate::fs::{EntryKind, FileEntry, FsError, ImageFs, LayerRef, normalize_path};

/// A file tree held in memory: each regular file's bytes are kept.
#[derive(Debug, Default, Clone)]
pub struct MemFs {
    layers: Vec<LayerRef>,
    entries: BTreeMap<String, (FileEntry, Vec<u8>)>,
}

impl MemFs {
    /// An empty tree with one anonymous layer.
    pub fn new() -> Self {
        let mut fs = Self {
            layers: vec![LayerRef {
                digest: None,
                diff_id: None,
            }],
            entries: BTreeMap::new(),
        };
        fs.ensure_dir("/", 0);
        fs
    }

    /// Replaces the layer list (entries refer to layers by index).
    pub fn set_layers(&mut self, layers: Vec<LayerRef>) {
        self.layers = layers;
    }

    fn ensure_dir(&mut self, path: &str, layer_index: usize) {
        if self.entries.contains_key(path) {
            return;
        }
        if path != "/" {
            let parent = match path.rfind('/') {
                Some(0) | None => "/".to_string(),
                Some(i) => path[..i].to_string(),
            };
            self.ensure_dir(&parent, layer_index);
        }
        self.entries.insert(
            path.to_string(),
            (
                FileEntry {
                    path: path.to_string(),
                    kind: EntryKind::Dir,
                    mode: 0o755,
                    uid: 0,
                    gid: 0,
                    size: 0,
                    link_target: None,
                    mtime: 0,
                    layer_index,
                },
                Vec::new(),
            ),
        );
    }

    /// Adds a regular file (mode 0644) with `content`, creating parent directories.
    pub fn add_file(&mut self, path: &str, content: impl Into<Vec<u8>>) -> &mut Self {
        self.add_file_in_layer(path, content, 0o644, 0)
    }

    /// Adds a regular file with a mode and layer index.
    pub fn add_file_in_layer(
        &mut self,
        path: &str,
        content: impl Into<Vec<u8>>,
        mode: u32,
        layer_index: usize,
    ) -> &mut Self {
        let Some(path) = normalize_path(path) else {
            return self;
        };
        let content = content.into();
        self.ensure_dir(parent(&path), layer_index);
        self.entries.insert(
            path.clone(),
            (
                FileEntry {
                    path,
                    kind: EntryKind::File,
                    mode,
                    uid: 0,
                    gid: 0,
                    size: content.len() as u64,
                    link_target: None,
                    mtime: 0,
                    layer_index,
                },
                content,
            ),
        );
        self
    }

    /// Adds a symlink at `path` pointing at `target` (as written).
    pub fn add_symlink(&mut self, path: &str, target: &str) -> &mut Self {
        let Some(path) = normalize_path(path) else {
            return self;
        };
        self.ensure_dir(parent(&path), 0);
        self.entries.insert(
            path.clone(),
            (
                FileEntry {
                    path,
                    kind: EntryKind::Symlink,
                    mode: 0o777,
                    uid: 0,
                    gid: 0,
                    size: 0,
                    link_target: Some(target.to_string()),
                    mtime: 0,
                    layer_index: 0,
                },
                Vec::new(),
            ),
        );
        self
    }

    /// Adds a hard link at `path` to the regular file at the absolute image path `target`.
    pub fn add_hardlink(&mut self, path: &str, target: &str) -> &mut Self {
        let (Some(path), Some(target)) = (normalize_path(path), normalize_path(target)) else {
            return self;
        };
        let size = self.entries.get(&target).map_or(0, |(e, _)| e.size);
        self.ensure_dir(parent(&path), 0);
        self.entries.insert(
            path.clone(),
            (
                FileEntry {
                    path,
                    kind: EntryKind::Hardlink,
                    mode: 0o755,
                    uid: 0,
                    gid: 0,
                    size,
                    link_target: Some(target),
                    mtime: 0,
                    layer_index: 0,
                },
                Vec::new(),
            ),
        );
        self
    }

    /// Adds an empty directory.
    pub fn add_dir(&mut self, path: &str) -> &mut Self {
        if let Some(path) = normalize_path(path) {
            self.ensure_dir(&path, 0);
        }
        self
    }
}

fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

impl ImageFs for MemFs {
    fn layers(&self) -> &[LayerRef] {
        &self.layers
    }

    fn entry(&self, path: &str) -> Option<FileEntry> {
        let path = normalize_path(path)?;
        self.entries.get(&path).map(|(e, _)| e.clone())
    }

    fn entries(&self) -> Box<dyn Iterator<Item = FileEntry> + '_> {
        Box::new(self.entries.values().map(|(e, _)| e.clone()))
    }

    fn open_entry(&self, entry: &FileEntry) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let key = match (&entry.kind, &entry.link_target) {
            (EntryKind::Hardlink, Some(t)) => t.clone(),
            (EntryKind::File, _) => entry.path.clone(),
            _ => return Err(FsError::NotAFile(entry.path.clone())),
        };
        match self.entries.get(&key) {
            Some((e, bytes)) if e.kind == EntryKind::File => Ok(Box::new(Cursor::new(&bytes[..]))),
            Some(_) => Err(FsError::NotAFile(key)),
            None => Err(FsError::NotFound(key)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_symlinks_confined_to_root() {
        let mut fs = MemFs::new();
        fs.add_file("/usr/lib/os-release", "ID=debian\n")
            .add_symlink("/etc/os-release", "../usr/lib/os-release")
            .add_symlink("/escape", "../../../../usr/lib/os-release")
            .add_symlink("/loop1", "/loop2")
            .add_symlink("/loop2", "loop1");
        assert_eq!(
            fs.read_limited("/etc/os-release", 100).unwrap(),
            b"ID=debian\n"
        );
        assert_eq!(fs.read_limited("escape", 100).unwrap(), b"ID=debian\n");
        assert!(matches!(fs.resolve("/loop1"), Err(FsError::SymlinkLoop(_))));
        assert!(matches!(
            fs.read_limited("/etc/os-release", 3),
            Err(FsError::TooLarge { .. })
        ));
    }
}
