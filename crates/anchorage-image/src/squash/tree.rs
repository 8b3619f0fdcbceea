//! Applies scanned layers in order (whiteouts, opaque directories, replacement) into the final
//! tree, and serves file contents from the layers' storage by offset.

use std::collections::{BTreeMap, HashSet};
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::ops::Bound;
use std::os::unix::fs::FileExt;

use crate::fs::{EntryKind, FileEntry, FsError, ImageFs, LayerRef, normalize_path};
use crate::squash::SquashStats;
use crate::squash::scan::{DataRef, LayerScan, ScanKind, ScannedEntry};

/// Where a final entry's content lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NodeData {
    None,
    At { layer: usize, offset: u64 },
    Sparse,
}

#[derive(Debug)]
struct Node {
    entry: FileEntry,
    data: NodeData,
}

/// The squashed, read-only file tree of an image built from its layers.
///
/// Holds per entry only metadata and the (layer, offset) of its content; contents are read on
/// demand from an anonymous scratch copy of each decompressed layer (or from the blob itself for
/// uncompressed layers), so memory grows with the number of entries, not with bytes.
#[derive(Debug)]
pub struct SquashedFs {
    layers: Vec<LayerRef>,
    nodes: BTreeMap<String, Node>,
    storage: Vec<File>,
    stats: SquashStats,
    warnings: Vec<String>,
}

impl SquashedFs {
    /// Counts gathered while squashing.
    pub fn stats(&self) -> &SquashStats {
        &self.stats
    }

    /// Non-fatal problems met while squashing (skipped entries, unreadable sparse files, ...).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

fn root_entry() -> Node {
    Node {
        entry: FileEntry {
            path: "/".to_string(),
            kind: EntryKind::Dir,
            mode: 0o755,
            uid: 0,
            gid: 0,
            size: 0,
            link_target: None,
            mtime: 0,
            layer_index: 0,
        },
        data: NodeData::None,
    }
}

fn parent_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Builds the tree from scanned layers (bottom first).
pub(crate) struct TreeBuilder {
    nodes: BTreeMap<String, Node>,
    warnings: Vec<String>,
}

impl TreeBuilder {
    pub(crate) fn new() -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert("/".to_string(), root_entry());
        Self {
            nodes,
            warnings: Vec::new(),
        }
    }

    /// Removes the descendants of `dir` (not `dir` itself) whose layer is below `below`
    /// (`None`: all descendants).
    fn remove_descendants(&mut self, dir: &str, below: Option<usize>) {
        let prefix = if dir == "/" {
            "/".to_string()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .nodes
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(&prefix))
            .filter(|(k, n)| k.as_str() != dir && below.is_none_or(|b| n.entry.layer_index < b))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            self.nodes.remove(&k);
        }
    }

    /// Makes sure every ancestor of `path` is a directory, creating implicit ones.
    fn ensure_parents(&mut self, path: &str, layer: usize, mtime: i64) {
        self.ensure_dir(parent_of(path), path, layer, mtime);
    }

    /// Makes sure `dir` and its ancestors are directories (`needed_by` names the entry that
    /// needs them, for the warning).
    fn ensure_dir(&mut self, dir: &str, needed_by: &str, layer: usize, mtime: i64) {
        let mut missing = Vec::new();
        let mut current = dir;
        loop {
            match self.nodes.get(current) {
                Some(n) if n.entry.kind == EntryKind::Dir => break,
                Some(_) => {
                    // A lower non-directory where this layer needs a directory: the directory
                    // wins (everything below a non-directory was already removed).
                    self.warnings.push(format!(
                        "layer {layer}: {current} replaced by an implicit directory for {needed_by}"
                    ));
                    missing.push(current.to_string());
                    break;
                }
                None => {
                    missing.push(current.to_string());
                    if current == "/" {
                        break;
                    }
                    current = parent_of(current);
                }
            }
        }
        for dir in missing {
            self.nodes.insert(
                dir.clone(),
                Node {
                    entry: FileEntry {
                        path: dir,
                        kind: EntryKind::Dir,
                        mode: 0o755,
                        uid: 0,
                        gid: 0,
                        size: 0,
                        link_target: None,
                        mtime,
                        layer_index: layer,
                    },
                    data: NodeData::None,
                },
            );
        }
    }

    fn has_descendants(&self, dir: &str) -> bool {
        let prefix = format!("{dir}/");
        self.nodes
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .next()
            .is_some_and(|(k, _)| k.starts_with(&prefix))
    }

    /// Applies one layer's entries on top of the tree.
    pub(crate) fn apply(&mut self, layer: usize, entries: Vec<ScannedEntry>) {
        // A marker repeated within one layer has nothing more to hide; skipping repeats keeps
        // hostile layers from rescanning the same subtree over and over.
        let mut applied: HashSet<(bool, String)> = HashSet::new();
        for e in entries {
            match e.kind {
                ScanKind::Whiteout => {
                    if e.path == "/" || !applied.insert((false, e.path.clone())) {
                        continue;
                    }
                    if self
                        .nodes
                        .get(&e.path)
                        .is_some_and(|n| n.entry.layer_index < layer)
                    {
                        self.nodes.remove(&e.path);
                    }
                    self.remove_descendants(&e.path, Some(layer));
                    // Entries this layer already put below the path keep a directory above them.
                    if !self.nodes.contains_key(&e.path) && self.has_descendants(&e.path) {
                        self.ensure_dir(&e.path, &e.path, layer, e.mtime);
                    }
                }
                ScanKind::Opaque => {
                    if applied.insert((true, e.path.clone())) {
                        self.remove_descendants(&e.path, Some(layer));
                    }
                }
                ScanKind::Entry(kind) => self.add(layer, e, kind),
            }
        }
    }

    fn add(&mut self, layer: usize, e: ScannedEntry, kind: EntryKind) {
        if e.path != "/" {
            self.ensure_parents(&e.path, layer, e.mtime);
        }
        if kind != EntryKind::Dir {
            // A non-directory hides everything that was below the same path.
            self.remove_descendants(&e.path, None);
        }
        let mut size = e.size;
        let data = match (kind, e.data) {
            (EntryKind::File, DataRef::At(offset)) => NodeData::At { layer, offset },
            (EntryKind::File, DataRef::Sparse) => NodeData::Sparse,
            (EntryKind::Hardlink, _) => {
                // Resolve now: the target is an earlier entry; its content location is copied so
                // the link keeps working even if a later layer removes the target.
                let target = e.link_target.as_deref().unwrap_or("/");
                match self.nodes.get(target) {
                    Some(t) if matches!(t.entry.kind, EntryKind::File | EntryKind::Hardlink) => {
                        size = t.entry.size;
                        t.data
                    }
                    _ => {
                        self.warnings.push(format!(
                            "layer {layer}: hard link {} -> {target}: target is not a regular file in the image",
                            e.path
                        ));
                        NodeData::None
                    }
                }
            }
            _ => NodeData::None,
        };
        let entry = FileEntry {
            path: e.path.clone(),
            kind,
            mode: e.mode,
            uid: e.uid,
            gid: e.gid,
            size,
            link_target: e.link_target,
            mtime: e.mtime,
            layer_index: layer,
        };
        self.nodes.insert(e.path, Node { entry, data });
    }

    /// Finishes the tree.
    pub(crate) fn finish(
        self,
        layers: Vec<LayerRef>,
        scans: Vec<(File, Vec<String>)>,
        mut stats: SquashStats,
    ) -> SquashedFs {
        let mut warnings = Vec::new();
        let mut storage = Vec::with_capacity(scans.len());
        for (file, w) in scans {
            storage.push(file);
            warnings.extend(w);
        }
        warnings.extend(self.warnings);
        stats.entries = self.nodes.len();
        stats.warnings = warnings.len();
        SquashedFs {
            layers,
            nodes: self.nodes,
            storage,
            stats,
            warnings,
        }
    }
}

/// Splits a layer scan into its entries and the parts the final tree keeps.
pub(crate) fn split_scan(scan: LayerScan) -> (Vec<ScannedEntry>, File, Vec<String>) {
    (scan.entries, scan.storage, scan.warnings)
}

/// Reads `remaining` bytes of a layer's storage starting at `offset`, with positioned reads
/// (no shared seek position, so several readers can be open at once).
struct SectionReader<'a> {
    file: &'a File,
    offset: u64,
    remaining: u64,
    path: &'a str,
}

impl Read for SectionReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 || buf.is_empty() {
            return Ok(0);
        }
        let want = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.file.read_at(&mut buf[..want], self.offset)?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                format!("{}: layer storage ended early", self.path),
            ));
        }
        self.offset += n as u64;
        self.remaining -= n as u64;
        Ok(n)
    }
}

impl ImageFs for SquashedFs {
    fn layers(&self) -> &[LayerRef] {
        &self.layers
    }

    fn entry(&self, path: &str) -> Option<&FileEntry> {
        if let Some(n) = self.nodes.get(path) {
            return Some(&n.entry);
        }
        let path = normalize_path(path)?;
        self.nodes.get(&path).map(|n| &n.entry)
    }

    fn entries(&self) -> Box<dyn Iterator<Item = &FileEntry> + '_> {
        Box::new(self.nodes.values().map(|n| &n.entry))
    }

    fn open_entry(&self, entry: &FileEntry) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let node = self
            .nodes
            .get(&entry.path)
            .ok_or_else(|| FsError::NotFound(entry.path.clone()))?;
        if !matches!(node.entry.kind, EntryKind::File | EntryKind::Hardlink) {
            return Err(FsError::NotAFile(node.entry.path.clone()));
        }
        match node.data {
            NodeData::At { layer, offset } => {
                let file = self.storage.get(layer).ok_or_else(|| FsError::Io {
                    path: node.entry.path.clone(),
                    source: io::Error::other("layer storage missing"),
                })?;
                let size = node.entry.size;
                let reader = SectionReader {
                    file,
                    offset,
                    remaining: size,
                    path: &node.entry.path,
                };
                let capacity = usize::try_from(size.clamp(1, 64 * 1024)).unwrap_or(64 * 1024);
                Ok(Box::new(BufReader::with_capacity(capacity, reader)))
            }
            NodeData::Sparse => Err(FsError::Io {
                path: node.entry.path.clone(),
                source: io::Error::new(
                    io::ErrorKind::Unsupported,
                    "gnu sparse file content is not readable",
                ),
            }),
            NodeData::None => Err(FsError::NotFound(
                node.entry
                    .link_target
                    .clone()
                    .unwrap_or_else(|| node.entry.path.clone()),
            )),
        }
    }
}
