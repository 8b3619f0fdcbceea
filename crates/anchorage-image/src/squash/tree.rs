//! Applies scanned layers in order (whiteouts, opaque directories, replacement) into the final
//! tree, and serves file contents from the layers' storage by offset.
//!
//! The index is compact so that millions of entries fit in little memory (issue 15):
//! - every entry is one fixed-size [`Node`] record (56 bytes) holding its parent's id, its own
//!   name as a slice of one shared byte arena (a path component is stored once, full paths are
//!   never stored), its metadata, and the (layer, offset) of its content;
//! - owner ids are interned (an image has few distinct uid/gid pairs), link targets live in a
//!   side map (only links pay for them);
//! - while building, each directory keeps a singly linked list of its children, searched as is
//!   while it holds at most [`SMALL_DIR`] entries; a longer one gets its own [`HashTable`] of
//!   bare node ids keyed by name. One table per directory instead of one for the whole tree
//!   keeps the lookups of a directory being filled in the CPU caches: with a single table of
//!   millions of entries every new file cost a few cache misses, which made the time per file
//!   grow with the file count (issue 15). Removed entries are only marked dead (ids are never
//!   reused);
//! - when finished, each directory's children become one contiguous range of a single `items`
//!   array, sorted so that a depth-first walk yields exactly the byte order of full paths (what
//!   the former `BTreeMap<String, _>` gave): next to the item of a child `c` (key `c`) a
//!   directory with children also has a "subtree" item (key `c/`), so `/a`, `/a-c`, `/a/b`
//!   come in that order. Lookups binary-search those ranges one path component at a time.
//!
//! Entries are handed out by value ([`FileEntry`] with the path built on demand).

use std::cmp::Ordering;
use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::hash::BuildHasher;
use std::io::{self, BufReader, Read};
use std::os::unix::fs::FileExt;
use std::sync::Mutex;

use hashbrown::DefaultHashBuilder;
use hashbrown::HashTable;

use crate::fs::{EntryKind, FileEntry, FsError, ImageFs, LayerRef, normalize_path};
use crate::squash::SquashStats;
use crate::squash::scan::{DataRef, ScanKind, ScannedEntry};

/// "No node".
const NONE: u32 = u32::MAX;
/// Most nodes the index can hold (node ids are shifted left by one in `items`).
const MAX_NODES: usize = (u32::MAX >> 1) as usize;

const FLAG_ALIVE: u8 = 1;
const DATA_NONE: u8 = 0;
const DATA_AT: u8 = 1;
const DATA_SPARSE: u8 = 2;

/// One entry of the index. 56 bytes.
#[derive(Debug, Clone, Copy)]
struct Node {
    size: u64,
    /// Byte offset of the content in the storage of `data_layer`.
    offset: u64,
    mtime: i64,
    parent: u32,
    name_start: u32,
    /// Building: first child (linked list). Finished: first index into `items`.
    first: u32,
    /// Building: next sibling. Finished: number of items.
    next: u32,
    mode: u32,
    /// Index into the interned (uid, gid) pairs.
    owner: u32,
    name_len: u16,
    layer: u16,
    data_layer: u16,
    kind: u8,
    /// `FLAG_ALIVE` in bit 0, data kind (`DATA_*`) in bits 1-2.
    flags: u8,
}

impl Node {
    fn alive(&self) -> bool {
        self.flags & FLAG_ALIVE != 0
    }
    fn data(&self) -> u8 {
        (self.flags >> 1) & 3
    }
    fn set_data(&mut self, data: u8) {
        self.flags = (self.flags & FLAG_ALIVE) | (data << 1);
    }
    fn kind(&self) -> EntryKind {
        kind_from_u8(self.kind)
    }
}

fn kind_to_u8(kind: EntryKind) -> u8 {
    match kind {
        EntryKind::File => 0,
        EntryKind::Dir => 1,
        EntryKind::Symlink => 2,
        EntryKind::Hardlink => 3,
        EntryKind::CharDevice => 4,
        EntryKind::BlockDevice => 5,
        EntryKind::Fifo => 6,
        EntryKind::Other => 7,
    }
}

fn kind_from_u8(kind: u8) -> EntryKind {
    match kind {
        0 => EntryKind::File,
        1 => EntryKind::Dir,
        2 => EntryKind::Symlink,
        3 => EntryKind::Hardlink,
        4 => EntryKind::CharDevice,
        5 => EntryKind::BlockDevice,
        6 => EntryKind::Fifo,
        _ => EntryKind::Other,
    }
}

const DIR: u8 = 1;

/// Directories whose child list is at most this long are searched without a table.
const SMALL_DIR: usize = 8;

/// The parts of the index shared by the builder and the finished tree.
#[derive(Debug)]
struct Index {
    nodes: Vec<Node>,
    /// All names, back to back.
    names: Vec<u8>,
    /// Link targets by node id (symlinks and hard links only).
    links: HashMap<u32, Box<str>>,
    /// Interned (uid, gid) pairs.
    owners: Vec<(u64, u64)>,
}

impl Index {
    fn name(&self, id: u32) -> &[u8] {
        let n = &self.nodes[id as usize];
        let start = n.name_start as usize;
        self.names
            .get(start..start + n.name_len as usize)
            .unwrap_or_default()
    }

    fn name_str(&self, id: u32) -> &str {
        // Names come from `&str` paths, so they are valid UTF-8; the fallback is never taken.
        std::str::from_utf8(self.name(id)).unwrap_or("")
    }

    fn entry(&self, id: u32, path: String) -> FileEntry {
        let n = &self.nodes[id as usize];
        let (uid, gid) = self.owners.get(n.owner as usize).copied().unwrap_or((0, 0));
        FileEntry {
            path,
            kind: n.kind(),
            mode: n.mode,
            uid,
            gid,
            size: n.size,
            link_target: self.links.get(&id).map(|l| l.to_string()),
            mtime: n.mtime,
            layer_index: usize::from(n.layer),
        }
    }
}

fn split_path(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("/", path),
    }
}

fn components(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|c| !c.is_empty())
}

/// Builds the tree from scanned layers (bottom first).
pub(crate) struct TreeBuilder {
    index: Index,
    owner_ids: HashMap<(u64, u64), u32>,
    /// Children by name, of the directories whose child list is longer than [`SMALL_DIR`].
    tables: HashMap<u32, HashTable<u32>, DefaultHashBuilder>,
    hasher: DefaultHashBuilder,
    warnings: Vec<String>,
    /// The directory the previous entry went into (tar entries come grouped by directory).
    last_dir: Option<(String, u32)>,
    /// Whiteout / opaque markers already applied in the current layer.
    applied: HashSet<(bool, String)>,
    current_layer: Option<usize>,
    /// Entries skipped because the index is full (reported once).
    overflowed: bool,
}

impl TreeBuilder {
    pub(crate) fn new() -> Self {
        let root = Node {
            size: 0,
            offset: 0,
            mtime: 0,
            parent: 0,
            name_start: 0,
            first: NONE,
            next: NONE,
            mode: 0o755,
            owner: 0,
            name_len: 0,
            layer: 0,
            data_layer: 0,
            kind: DIR,
            flags: FLAG_ALIVE,
        };
        let mut owner_ids = HashMap::new();
        owner_ids.insert((0, 0), 0);
        Self {
            index: Index {
                nodes: vec![root],
                names: Vec::new(),
                links: HashMap::new(),
                owners: vec![(0, 0)],
            },
            owner_ids,
            tables: HashMap::with_hasher(DefaultHashBuilder::default()),
            hasher: DefaultHashBuilder::default(),
            warnings: Vec::new(),
            last_dir: None,
            applied: HashSet::new(),
            current_layer: None,
            overflowed: false,
        }
    }

    fn hash(&self, name: &[u8]) -> u64 {
        self.hasher.hash_one(name)
    }

    fn child(&self, parent: u32, name: &[u8]) -> Option<u32> {
        let index = &self.index;
        if let Some(table) = self.tables.get(&parent) {
            return table
                .find(self.hash(name), |&c| index.name(c) == name)
                .copied();
        }
        // at most SMALL_DIR entries
        let mut c = index.nodes[parent as usize].first;
        while c != NONE {
            let n = &index.nodes[c as usize];
            if n.alive() && index.name(c) == name {
                return Some(c);
            }
            c = n.next;
        }
        None
    }

    /// The live node at a normalized absolute path, without following links.
    fn lookup(&self, path: &str) -> Option<u32> {
        let mut current = 0u32;
        for c in components(path) {
            current = self.child(current, c.as_bytes())?;
        }
        Some(current)
    }

    fn owner_id(&mut self, uid: u64, gid: u64) -> u32 {
        let next = u32::try_from(self.index.owners.len()).unwrap_or(0);
        let owners = &mut self.index.owners;
        *self.owner_ids.entry((uid, gid)).or_insert_with(|| {
            owners.push((uid, gid));
            next
        })
    }

    /// Adds a node under `parent`; `None` when the index is full.
    fn new_node(&mut self, parent: u32, name: &str, mut node: Node) -> Option<u32> {
        let id = self.index.nodes.len();
        let start = self.index.names.len();
        if id >= MAX_NODES
            || u32::try_from(start + name.len()).is_err()
            || u16::try_from(name.len()).is_err()
        {
            if !self.overflowed {
                self.overflowed = true;
                self.warnings.push(format!(
                    "file tree index full at {id} entries; {name} and later entries skipped"
                ));
            }
            return None;
        }
        let id = id as u32;
        self.index.names.extend_from_slice(name.as_bytes());
        node.parent = parent;
        node.name_start = start as u32;
        node.name_len = name.len() as u16;
        node.first = NONE;
        node.next = self.index.nodes[parent as usize].first;
        node.flags |= FLAG_ALIVE;
        self.index.nodes.push(node);
        self.index.nodes[parent as usize].first = id;
        let index = &self.index;
        let hasher = &self.hasher;
        let rehash = |&c: &u32| hasher.hash_one(index.name(c));
        if let Some(table) = self.tables.get_mut(&parent) {
            table.insert_unique(hasher.hash_one(name.as_bytes()), id, rehash);
            return Some(id);
        }
        // Without a table the list was at most SMALL_DIR long: counting it is bounded.
        let mut len = 0;
        let mut c = id;
        while c != NONE && len <= SMALL_DIR {
            len += 1;
            c = index.nodes[c as usize].next;
        }
        if len > SMALL_DIR {
            let mut table = HashTable::with_capacity(2 * len);
            let mut c = id;
            while c != NONE {
                let n = &index.nodes[c as usize];
                if n.alive() {
                    table.insert_unique(hasher.hash_one(index.name(c)), c, rehash);
                }
                c = n.next;
            }
            self.tables.insert(parent, table);
        }
        Some(id)
    }

    /// Marks `id` and everything below it dead.
    fn kill(&mut self, id: u32) {
        let mut stack = vec![id];
        while let Some(n) = stack.pop() {
            let node = self.index.nodes[n as usize];
            if !node.alive() {
                continue;
            }
            let h = self.hash(self.index.name(n));
            if let Some(table) = self.tables.get_mut(&node.parent)
                && let Ok(entry) = table.find_entry(h, |&c| c == n)
            {
                entry.remove();
            }
            self.index.nodes[n as usize].flags &= !FLAG_ALIVE;
            self.index.links.remove(&n);
            if node.kind == DIR {
                // a dead directory is never looked into again
                self.tables.remove(&n);
            }
            let mut c = node.first;
            while c != NONE {
                stack.push(c);
                c = self.index.nodes[c as usize].next;
            }
        }
    }

    fn live_children(&self, dir: u32) -> Vec<u32> {
        let mut out = Vec::new();
        let mut c = self.index.nodes[dir as usize].first;
        while c != NONE {
            if self.index.nodes[c as usize].alive() {
                out.push(c);
            }
            c = self.index.nodes[c as usize].next;
        }
        out
    }

    fn has_live_children(&self, dir: u32) -> bool {
        let mut c = self.index.nodes[dir as usize].first;
        while c != NONE {
            if self.index.nodes[c as usize].alive() {
                return true;
            }
            c = self.index.nodes[c as usize].next;
        }
        false
    }

    /// Turns `id` into an implicit directory of `layer` (keeping its live children).
    fn make_implicit_dir(&mut self, id: u32, layer: u16, mtime: i64) {
        self.index.links.remove(&id);
        let n = &mut self.index.nodes[id as usize];
        n.kind = DIR;
        n.mode = 0o755;
        n.owner = 0;
        n.size = 0;
        n.mtime = mtime;
        n.layer = layer;
        n.set_data(DATA_NONE);
    }

    /// Removes the descendants of `dir` (not `dir` itself) whose layer is below `below`
    /// (`None`: all descendants). A removed directory that still holds entries of the current
    /// layer stays, as an implicit directory of that layer.
    fn remove_descendants(&mut self, dir: u32, below: Option<u16>, mtime: i64) {
        for c in self.live_children(dir) {
            let node = self.index.nodes[c as usize];
            match below {
                None => self.kill(c),
                Some(b) => {
                    if node.kind == DIR {
                        self.remove_descendants(c, below, mtime);
                    }
                    if node.layer < b {
                        if node.kind == DIR && self.has_live_children(c) {
                            self.make_implicit_dir(c, b, mtime);
                        } else {
                            self.kill(c);
                        }
                    }
                }
            }
        }
    }

    /// The directory node at `dir`, creating missing (implicit) directories and replacing
    /// non-directories in the way. `None` when the index is full.
    fn ensure_dir(&mut self, dir: &str, needed_by: &str, layer: u16, mtime: i64) -> Option<u32> {
        if let Some((path, id)) = &self.last_dir {
            let n = &self.index.nodes[*id as usize];
            if path == dir && n.alive() && n.kind == DIR {
                return Some(*id);
            }
        }
        let mut current = 0u32;
        let mut walked = String::new();
        for c in components(dir) {
            walked.push('/');
            walked.push_str(c);
            current = match self.child(current, c.as_bytes()) {
                Some(id) if self.index.nodes[id as usize].kind == DIR => id,
                Some(id) => {
                    // A lower non-directory where this layer needs a directory: the directory
                    // wins (everything below a non-directory was already removed).
                    self.warnings.push(format!(
                        "layer {layer}: {walked} replaced by an implicit directory for {needed_by}"
                    ));
                    self.make_implicit_dir(id, layer, mtime);
                    id
                }
                None => self.new_node(current, c, implicit_dir(layer, mtime))?,
            };
        }
        self.last_dir = Some((dir.to_string(), current));
        Some(current)
    }

    /// Applies one entry of layer `layer`; entries must come layer by layer, bottom first.
    pub(crate) fn apply_entry(&mut self, layer: usize, e: ScannedEntry) {
        if self.current_layer != Some(layer) {
            self.current_layer = Some(layer);
            self.applied.clear();
        }
        // `squash` refuses more layers than fit in a u16.
        let layer16 = u16::try_from(layer).unwrap_or(u16::MAX);
        match e.kind {
            ScanKind::Whiteout => {
                // A marker repeated within one layer has nothing more to hide; skipping repeats
                // keeps hostile layers from rescanning the same subtree over and over.
                if e.path == "/" || !self.applied.insert((false, e.path.clone())) {
                    return;
                }
                let Some(id) = self.lookup(&e.path) else {
                    return;
                };
                self.remove_descendants(id, Some(layer16), e.mtime);
                let node = self.index.nodes[id as usize];
                if node.layer < layer16 {
                    // Entries this layer already put below the path keep a directory above them.
                    if node.kind == DIR && self.has_live_children(id) {
                        self.make_implicit_dir(id, layer16, e.mtime);
                    } else {
                        self.kill(id);
                    }
                }
            }
            ScanKind::Opaque => {
                if self.applied.insert((true, e.path.clone()))
                    && let Some(id) = self.lookup(&e.path)
                {
                    self.remove_descendants(id, Some(layer16), e.mtime);
                }
            }
            ScanKind::Entry(kind) => self.add(layer16, e, kind),
        }
    }

    fn add(&mut self, layer: u16, e: ScannedEntry, kind: EntryKind) {
        let owner = self.owner_id(e.uid, e.gid);
        let mut node = Node {
            size: e.size,
            offset: 0,
            mtime: e.mtime,
            parent: 0,
            name_start: 0,
            first: NONE,
            next: NONE,
            mode: e.mode,
            owner,
            name_len: 0,
            layer,
            data_layer: layer,
            kind: kind_to_u8(kind),
            flags: FLAG_ALIVE,
        };
        if e.path == "/" {
            // The root directory's own metadata.
            let root = &mut self.index.nodes[0];
            root.mode = node.mode;
            root.owner = node.owner;
            root.mtime = node.mtime;
            root.layer = layer;
            return;
        }
        let (parent_path, base) = split_path(&e.path);
        let Some(parent) = self.ensure_dir(parent_path, &e.path, layer, e.mtime) else {
            return;
        };
        let existing = self.child(parent, base.as_bytes());
        if kind != EntryKind::Dir
            && let Some(x) = existing
        {
            // A non-directory hides everything that was below the same path.
            self.remove_descendants(x, None, e.mtime);
        }
        match (kind, e.data) {
            (EntryKind::File, DataRef::At(offset)) => {
                node.offset = offset;
                node.set_data(DATA_AT);
            }
            (EntryKind::File, DataRef::Sparse) => node.set_data(DATA_SPARSE),
            (EntryKind::Hardlink, _) => {
                // Resolve now: the target is an earlier entry; its content location is copied so
                // the link keeps working even if a later layer removes the target.
                let target = e.link_target.as_deref().unwrap_or("/");
                match self.lookup(target).map(|t| self.index.nodes[t as usize]) {
                    Some(t) if matches!(t.kind(), EntryKind::File | EntryKind::Hardlink) => {
                        node.size = t.size;
                        node.offset = t.offset;
                        node.data_layer = t.data_layer;
                        node.set_data(t.data());
                    }
                    _ => {
                        self.warnings.push(format!(
                            "layer {layer}: hard link {} -> {target}: target is not a regular file in the image",
                            e.path
                        ));
                        node.set_data(DATA_NONE);
                    }
                }
            }
            _ => {}
        }
        let id = match existing {
            Some(x) => {
                let old = self.index.nodes[x as usize];
                node.parent = old.parent;
                node.name_start = old.name_start;
                node.name_len = old.name_len;
                node.first = old.first;
                node.next = old.next;
                self.index.nodes[x as usize] = node;
                x
            }
            None => match self.new_node(parent, base, node) {
                Some(id) => id,
                None => return,
            },
        };
        match e.link_target {
            Some(t) => {
                self.index.links.insert(id, t.into_boxed_str());
            }
            None => {
                self.index.links.remove(&id);
            }
        }
    }

    /// Finishes the tree: every directory's live children become one sorted range of `items`.
    // `id` indexes three parallel arrays (`nodes`, `has_kids`, the items being filled).
    #[allow(clippy::needless_range_loop)]
    pub(crate) fn finish(
        self,
        layers: Vec<LayerRef>,
        storage: Vec<File>,
        mut warnings: Vec<String>,
        mut stats: SquashStats,
    ) -> SquashedFs {
        let mut index = self.index;
        drop(self.tables);
        let count = index.nodes.len();
        // children per node
        let mut kids = vec![0u32; count];
        for (id, n) in index.nodes.iter().enumerate() {
            if id != 0 && n.alive() {
                kids[n.parent as usize] += 1;
            }
        }
        let has_kids: Vec<bool> = kids.iter().map(|&k| k > 0).collect();
        // items per directory: one per child, plus one per child directory that has children
        kids.iter_mut().for_each(|k| *k = 0);
        for (id, n) in index.nodes.iter().enumerate() {
            if id != 0 && n.alive() {
                kids[n.parent as usize] += 1 + u32::from(n.kind == DIR && has_kids[id]);
            }
        }
        let mut total = 0u32;
        for (n, k) in index.nodes.iter_mut().zip(&kids) {
            n.first = total;
            n.next = 0;
            total += *k;
        }
        drop(kids);
        let mut items = vec![0u32; total as usize];
        for (id, &kids_of_node) in has_kids.iter().enumerate().skip(1) {
            let n = index.nodes[id];
            if !n.alive() {
                continue;
            }
            let p = n.parent as usize;
            let (first, filled) = (index.nodes[p].first, index.nodes[p].next);
            let slot = (first + filled) as usize;
            items[slot] = (id as u32) << 1;
            let mut used = 1;
            if n.kind == DIR && kids_of_node {
                items[slot + 1] = ((id as u32) << 1) | 1;
                used = 2;
            }
            index.nodes[p].next = filled + used;
        }
        drop(has_kids);
        for id in 0..count {
            let n = index.nodes[id];
            if !n.alive() || n.next < 2 {
                continue;
            }
            let range = n.first as usize..(n.first + n.next) as usize;
            items[range].sort_unstable_by(|&a, &b| item_cmp(&index, a, b));
        }
        warnings.extend(self.warnings);
        stats.entries = index.nodes.iter().filter(|n| n.alive()).count();
        stats.warnings = warnings.len();
        index.nodes.shrink_to_fit();
        index.names.shrink_to_fit();
        SquashedFs {
            layers,
            index,
            items,
            storage,
            stats,
            warnings,
            last_dir: Mutex::new(None),
        }
    }
}

fn implicit_dir(layer: u16, mtime: i64) -> Node {
    Node {
        size: 0,
        offset: 0,
        mtime,
        parent: 0,
        name_start: 0,
        first: NONE,
        next: NONE,
        mode: 0o755,
        owner: 0,
        name_len: 0,
        layer,
        data_layer: layer,
        kind: DIR,
        flags: FLAG_ALIVE,
    }
}

/// Orders items by their key: a node's name, or its name followed by `/` for its subtree.
fn item_cmp(index: &Index, a: u32, b: u32) -> Ordering {
    key_cmp(
        index.name(a >> 1),
        a & 1 == 1,
        index.name(b >> 1),
        b & 1 == 1,
    )
}

fn key_cmp(a: &[u8], a_sub: bool, b: &[u8], b_sub: bool) -> Ordering {
    let slash: &[u8] = b"/";
    let a_tail: &[u8] = if a_sub { slash } else { &[] };
    let b_tail: &[u8] = if b_sub { slash } else { &[] };
    a.iter().chain(a_tail).cmp(b.iter().chain(b_tail))
}

/// The squashed, read-only file tree of an image built from its layers.
///
/// Holds per entry only a compact record with the (layer, offset) of its content; contents are
/// read on demand from an anonymous scratch copy of each decompressed layer (or from the blob
/// itself for uncompressed layers), so memory grows with the number of entries (about 70 bytes
/// each), not with bytes.
#[derive(Debug)]
pub struct SquashedFs {
    layers: Vec<LayerRef>,
    index: Index,
    /// Per directory, a sorted range (`Node::first`, `Node::next`) of child items
    /// (`id << 1`, or `id << 1 | 1` for the child's subtree).
    items: Vec<u32>,
    storage: Vec<File>,
    stats: SquashStats,
    warnings: Vec<String>,
    /// The directory of the last path looked up: a walk opens files one directory at a time,
    /// so most lookups skip the per-component searches (which miss the CPU caches once the
    /// index holds millions of entries).
    last_dir: Mutex<Option<(String, u32)>>,
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

    fn items_of(&self, dir: u32) -> &[u32] {
        let n = &self.index.nodes[dir as usize];
        self.items
            .get(n.first as usize..(n.first + n.next) as usize)
            .unwrap_or_default()
    }

    fn child(&self, dir: u32, name: &[u8]) -> Option<u32> {
        let items = self.items_of(dir);
        items
            .binary_search_by(|&it| key_cmp(self.index.name(it >> 1), it & 1 == 1, name, false))
            .ok()
            .map(|i| items[i] >> 1)
    }

    fn lookup(&self, path: &str) -> Option<u32> {
        let Some((dir, base)) = path
            .rsplit_once('/')
            .filter(|(d, b)| !d.is_empty() && !b.is_empty())
        else {
            return self.lookup_from_root(path);
        };
        if let Ok(mut cached) = self.last_dir.try_lock() {
            if let Some((cached_dir, id)) = cached.as_ref()
                && cached_dir == dir
            {
                return self.child(*id, base.as_bytes());
            }
            let id = self.lookup_from_root(dir)?;
            if self.index.nodes[id as usize].kind != DIR {
                return None;
            }
            *cached = Some((dir.to_string(), id));
            return self.child(id, base.as_bytes());
        }
        self.lookup_from_root(path)
    }

    fn lookup_from_root(&self, path: &str) -> Option<u32> {
        let mut current = 0u32;
        for c in components(path) {
            if self.index.nodes[current as usize].kind != DIR {
                return None;
            }
            current = self.child(current, c.as_bytes())?;
        }
        Some(current)
    }
}

/// Reads `remaining` bytes of a layer's storage starting at `offset`, with positioned reads
/// (no shared seek position, so several readers can be open at once).
struct SectionReader<'a> {
    file: &'a File,
    offset: u64,
    remaining: u64,
    path: String,
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

/// Depth-first walk in full-path byte order.
struct Walk<'a> {
    fs: &'a SquashedFs,
    /// (directory, next position in its items, length of `path` for that directory)
    stack: Vec<(u32, usize, usize)>,
    path: String,
    root_done: bool,
}

impl Iterator for Walk<'_> {
    type Item = FileEntry;

    fn next(&mut self) -> Option<FileEntry> {
        if !self.root_done {
            self.root_done = true;
            self.stack.push((0, 0, 0));
            return Some(self.fs.index.entry(0, "/".to_string()));
        }
        loop {
            let (dir, pos, len) = self.stack.last_mut().map(|f| (f.0, &mut f.1, f.2))?;
            let items = self.fs.items_of(dir);
            let Some(&item) = items.get(*pos) else {
                self.stack.pop();
                continue;
            };
            *pos += 1;
            let id = item >> 1;
            self.path.truncate(len);
            self.path.push('/');
            self.path.push_str(self.fs.index.name_str(id));
            if item & 1 == 1 {
                self.stack.push((id, 0, self.path.len()));
                continue;
            }
            return Some(self.fs.index.entry(id, self.path.clone()));
        }
    }
}

impl ImageFs for SquashedFs {
    fn layers(&self) -> &[LayerRef] {
        &self.layers
    }

    fn entry(&self, path: &str) -> Option<FileEntry> {
        let id = match self.lookup(path) {
            Some(id) if path.starts_with('/') && !path.contains("//") && !path.ends_with('/') => {
                return Some(self.index.entry(id, path.to_string()));
            }
            Some(id) => id,
            None => {
                let normalized = normalize_path(path)?;
                let id = self.lookup(&normalized)?;
                return Some(self.index.entry(id, normalized));
            }
        };
        let normalized = normalize_path(path)?;
        Some(self.index.entry(id, normalized))
    }

    fn entries(&self) -> Box<dyn Iterator<Item = FileEntry> + '_> {
        Box::new(Walk {
            fs: self,
            stack: Vec::new(),
            path: String::new(),
            root_done: false,
        })
    }

    fn entries_under(&self, dir: &str) -> Box<dyn Iterator<Item = FileEntry> + '_> {
        let Some(dir) = normalize_path(dir) else {
            return Box::new(std::iter::empty());
        };
        let Some(id) = self
            .lookup(&dir)
            .filter(|&id| self.index.nodes[id as usize].kind == DIR)
        else {
            return Box::new(std::iter::empty());
        };
        let path = if dir == "/" { String::new() } else { dir };
        Box::new(Walk {
            fs: self,
            stack: vec![(id, 0, path.len())],
            path,
            root_done: true,
        })
    }

    fn entry_count(&self) -> usize {
        self.stats.entries
    }

    fn open_entry(&self, entry: &FileEntry) -> Result<Box<dyn Read + Send + '_>, FsError> {
        let id = self
            .lookup(&entry.path)
            .ok_or_else(|| FsError::NotFound(entry.path.clone()))?;
        let node = self.index.nodes[id as usize];
        if !matches!(node.kind(), EntryKind::File | EntryKind::Hardlink) {
            return Err(FsError::NotAFile(entry.path.clone()));
        }
        match node.data() {
            DATA_AT => {
                let file = self
                    .storage
                    .get(usize::from(node.data_layer))
                    .ok_or_else(|| FsError::Io {
                        path: entry.path.clone(),
                        source: io::Error::other("layer storage missing"),
                    })?;
                let size = node.size;
                let reader = SectionReader {
                    file,
                    offset: node.offset,
                    remaining: size,
                    path: entry.path.clone(),
                };
                let capacity = usize::try_from(size.clamp(1, 64 * 1024)).unwrap_or(64 * 1024);
                Ok(Box::new(BufReader::with_capacity(capacity, reader)))
            }
            DATA_SPARSE => Err(FsError::Io {
                path: entry.path.clone(),
                source: io::Error::new(
                    io::ErrorKind::Unsupported,
                    "gnu sparse file content is not readable",
                ),
            }),
            _ => Err(FsError::NotFound(
                self.index
                    .links
                    .get(&id)
                    .map(|l| l.to_string())
                    .unwrap_or_else(|| entry.path.clone()),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_record_stays_small() {
        assert_eq!(std::mem::size_of::<Node>(), 56);
    }

    fn file(path: &str, size: u64) -> ScannedEntry {
        ScannedEntry {
            path: path.to_string(),
            kind: ScanKind::Entry(EntryKind::File),
            mode: 0o644,
            uid: 0,
            gid: 0,
            size,
            mtime: 0,
            link_target: None,
            data: DataRef::At(size),
        }
    }

    fn whiteout(path: &str) -> ScannedEntry {
        ScannedEntry {
            kind: ScanKind::Whiteout,
            ..file(path, 0)
        }
    }

    /// Directories below and above the size at which they get their own table of children:
    /// repeated paths replace, whiteouts remove, re-added names come back, and a directory
    /// replaced by a file and then needed again as a directory holds only its new entries
    /// (synthetic entries).
    #[test]
    fn synthetic_small_and_large_directories_find_their_children() {
        let mut b = TreeBuilder::new();
        for n in [3, SMALL_DIR, SMALL_DIR + 1, 40] {
            for i in 0..n {
                b.apply_entry(0, file(&format!("/d{n}/f{i}"), i as u64));
            }
            // a repeated path in the same layer replaces the entry
            b.apply_entry(0, file(&format!("/d{n}/f0"), 1000));
        }
        for n in [3, SMALL_DIR, SMALL_DIR + 1, 40] {
            for i in (1..n).step_by(2) {
                b.apply_entry(1, whiteout(&format!("/d{n}/f{i}")));
            }
            b.apply_entry(1, file(&format!("/d{n}/f1"), 2000));
        }
        // /d40 replaced by a file, then a directory again with one entry
        b.apply_entry(2, file("/d40", 7));
        b.apply_entry(3, file("/d40/new", 8));
        let fs = b.finish(Vec::new(), Vec::new(), Vec::new(), SquashStats::default());
        for n in [3, SMALL_DIR, SMALL_DIR + 1] {
            let size = |i: usize| fs.entry(&format!("/d{n}/f{i}")).map(|e| e.size);
            assert_eq!(size(0), Some(1000), "d{n}");
            assert_eq!(size(1), Some(2000), "d{n}");
            for i in 2..n {
                let expected = (i % 2 == 0).then_some(i as u64);
                assert_eq!(size(i), expected, "d{n}/f{i}");
            }
            let names: Vec<String> = fs
                .entries_under(&format!("/d{n}"))
                .map(|e| e.path)
                .collect();
            assert_eq!(
                names.len(),
                n / 2 + 1 + usize::from(n % 2 == 1),
                "{names:?}"
            );
        }
        let under: Vec<String> = fs.entries_under("/d40").map(|e| e.path).collect();
        assert_eq!(under, ["/d40/new"]);
        assert_eq!(fs.entry("/d40").map(|e| e.kind), Some(EntryKind::Dir));
    }

    #[test]
    fn keys_order_like_full_paths() {
        // "/a", "/a-c", "/a/b": the subtree of a (key "a/") sorts after "a-c".
        assert_eq!(key_cmp(b"a", false, b"a-c", false), Ordering::Less);
        assert_eq!(key_cmp(b"a-c", false, b"a", true), Ordering::Less);
        assert_eq!(key_cmp(b"a", false, b"a", true), Ordering::Less);
        assert_eq!(key_cmp(b"a0", false, b"a", true), Ordering::Greater);
    }
}
