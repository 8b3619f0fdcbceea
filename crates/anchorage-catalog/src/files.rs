//! File records: every path of the squashed tree with type, size, mode, owner ids, link
//! target, sha256/sha1/md5 of regular files, the layer it came from, and the package that owns it.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};

use anchorage_image::{EntryKind, FileEntry, ImageFs};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::md5_lanes::{self, IDLE_BLOCK, LANES, Md5Lanes, Md5One};
use crate::model::{ContentHit, FileRecord, Package, PackageFile, PackageMetadata};
use crate::options::FileRecordScope;
use crate::secrets::{self, RuleSet};

/// The files a package's metadata declares (OS databases and Python RECORDs).
pub(crate) fn declared_files(p: &Package) -> &[PackageFile] {
    match &p.metadata {
        PackageMetadata::Dpkg(m) => &m.files,
        PackageMetadata::Apk(m) => &m.files,
        PackageMetadata::Rpm(m) => &m.files,
        PackageMetadata::Python(m) => &m.files,
        _ => &[],
    }
}

/// Path -> id of the OS package that declares it (the first one wins).
pub(crate) fn ownership(packages: &[Package]) -> HashMap<String, String> {
    let mut owners = HashMap::new();
    for p in packages.iter().filter(|p| p.package_type.is_os()) {
        for f in declared_files(p) {
            owners.entry(f.path.clone()).or_insert_with(|| p.id.clone());
        }
    }
    owners
}

/// [`ownership`] plus each declared path as the tree resolves it: on merged-/usr images dpkg
/// lists `/bin/bash` while the tree holds `/usr/bin/bash` under a `/bin` symlink.
pub(crate) fn resolved_ownership(
    fs: &dyn ImageFs,
    packages: &[Package],
) -> HashMap<String, String> {
    let mut owners = ownership(packages);
    let extra: Vec<(String, String)> = owners
        .iter()
        .filter_map(|(path, id)| {
            let resolved = resolve_parent(fs, path)?;
            (resolved != *path && !owners.contains_key(&resolved)).then(|| (resolved, id.clone()))
        })
        .collect();
    for (path, id) in extra {
        owners.entry(path).or_insert(id);
    }
    owners
}

/// Resolves the directory part of `path` through symlinks, keeping the last component as is
/// (a package owns a symlink itself, not what it points to).
fn resolve_parent(fs: &dyn ImageFs, path: &str) -> Option<String> {
    if fs.entry(path).is_some() {
        return None;
    }
    let (dir, name) = path.rsplit_once('/')?;
    let dir = if dir.is_empty() { "/" } else { dir };
    let parent = fs.resolve(dir).ok()?;
    Some(if parent.path == "/" {
        format!("/{name}")
    } else {
        format!("{}/{name}", parent.path)
    })
}

fn kind_name(kind: EntryKind) -> &'static str {
    match kind {
        EntryKind::File => "file",
        EntryKind::Dir => "dir",
        EntryKind::Symlink => "slink",
        EntryKind::Hardlink => "hlink",
        EntryKind::CharDevice => "chr",
        EntryKind::BlockDevice => "blk",
        EntryKind::Fifo => "fifo",
        EntryKind::Other => "other",
    }
}

/// The digests of one regular file: package databases record sha256 (rpm), sha1 (apk) or md5
/// (dpkg), and SPDX requires sha1. Raw bytes, 68 per file; hex only in the records that are
/// kept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileDigests {
    pub(crate) sha256: [u8; 32],
    pub(crate) sha1: [u8; 20],
    pub(crate) md5: [u8; 16],
}

/// What the single walk gathers besides the catalogers' file lists: secret and content hits
/// and the secret scan's warnings (the digests come from [`FileHasher`]).
#[derive(Default)]
pub(crate) struct WalkOutput {
    pub(crate) secrets: Vec<ContentHit>,
    pub(crate) content_hits: Vec<ContentHit>,
    pub(crate) secret_warnings: Vec<(String, String)>,
}

/// Settings of the per-entry work of the walk.
pub(crate) struct WalkSettings<'a> {
    pub(crate) digests: bool,
    pub(crate) secrets: &'a RuleSet,
    pub(crate) content: &'a RuleSet,
    pub(crate) scan_max_size: u64,
}

const CHUNK: usize = 64 * 1024;
/// Bytes of each file's start handed to [`crate::Cataloger::wants_content`].
pub(crate) const HEAD: usize = 16;

/// Reads what the walk needs of `entry`: its first [`HEAD`] bytes into `head` and, when
/// `scan`, the content into `buf` for the rules — all of it, unless the first
/// [`secrets::BINARY_SNIFF`] bytes already show a binary file, which the scans skip.
fn read_for_walk(
    fs: &dyn ImageFs,
    entry: &FileEntry,
    scan: bool,
    buf: &mut Vec<u8>,
    head: &mut Vec<u8>,
) -> Result<(), String> {
    let mut reader = fs.open_entry(entry).map_err(|e| e.to_string())?;
    buf.clear();
    let failed = |e: std::io::Error| format!("read failed: {e}");
    if !scan {
        // Only the first bytes, into a small array: a 64 KiB chunk zeroed per file was a
        // tenth of the walk of an image of small files (issue 15).
        let mut first = [0u8; HEAD];
        let mut got = 0;
        while got < HEAD {
            let n = reader.read(&mut first[got..]).map_err(failed)?;
            if n == 0 {
                break;
            }
            got += n;
        }
        head.extend_from_slice(&first[..got]);
        return Ok(());
    }
    // `read_to_end` reads into the vector's spare room without zeroing it first.
    (&mut reader)
        .take(secrets::BINARY_SNIFF as u64)
        .read_to_end(buf)
        .map_err(failed)?;
    head.extend_from_slice(&buf[..buf.len().min(HEAD)]);
    if buf.len() >= secrets::BINARY_SNIFF && secrets::is_binary(buf) {
        buf.clear();
        return Ok(());
    }
    reader.read_to_end(buf).map_err(failed)?;
    Ok(())
}

/// Records one entry of the walk: its secret and content scan hits. Reads the entry when it is
/// scanned or when `head_wanted` (a cataloger looks at the first bytes of a regular file; only
/// with digests on, as when the walk computed them). Returns whether the content was read,
/// with its first [`HEAD`] bytes left in `head`.
pub(crate) fn walk_entry(
    fs: &dyn ImageFs,
    entry: &FileEntry,
    settings: &WalkSettings<'_>,
    head_wanted: bool,
    buf: &mut Vec<u8>,
    head: &mut Vec<u8>,
    out: &mut WalkOutput,
) -> bool {
    head.clear();
    let mut read = false;
    let scan = !(settings.secrets.is_empty() && settings.content.is_empty())
        && secrets::wants(entry, settings.scan_max_size);
    if scan || (head_wanted && settings.digests && has_content(entry)) {
        match read_for_walk(fs, entry, scan, buf, head) {
            Ok(()) => read = true,
            Err(e) => {
                if scan {
                    out.secret_warnings
                        .push((entry.path.clone(), format!("cannot read file: {e}")));
                }
                buf.clear();
            }
        }
        if scan && !buf.is_empty() && buf.len() as u64 <= settings.scan_max_size {
            out.secrets.extend(settings.secrets.scan(&entry.path, buf));
            out.content_hits
                .extend(settings.content.scan(&entry.path, buf));
        }
        if buf.capacity() > 4 * CHUNK {
            // a large file was scanned: do not keep its buffer for the rest of the walk
            *buf = Vec::new();
        }
    }
    read
}

/// Whether `entry` has content of its own (the entries that get digests).
fn has_content(entry: &FileEntry) -> bool {
    matches!(entry.kind, EntryKind::File | EntryKind::Hardlink)
}

/// The digests of the hashed files as (walk index, digests) in walk order (files that were not
/// hashed or could not be read have none; a vector of every entry held 72 bytes per entry) and
/// the warnings of the files that could not be read, from [`FileHasher::finish`].
pub(crate) struct SideDigests {
    pub(crate) digests: Vec<(usize, FileDigests)>,
    /// (path, message) in walk order
    pub(crate) warnings: Vec<(String, String)>,
}

/// sha256, sha1 and md5 of every regular file of a tree, off the walk: the three digests were
/// about a third of a Debian image's analysis on the walk thread (md5 alone a fifth). One helper
/// thread starts [`FileHasher::work`] when the walk starts; the walk thread joins in when the
/// catalogers are done, and the two share out the files left. Each worker reads its files
/// itself with positioned reads of the same storage (the page cache serves them a second time;
/// the walk reads only what the scans and catalogers look at), so nothing waits on a channel.
/// A worker keeps [`LANES`] files open at once, each with one 64 KiB buffer, hashes sha256 and
/// sha1 per file as the bytes arrive and md5 of all lanes in step ([`Md5Lanes`]). Files go
/// largest first, so the lanes stay busy and only small files are left to share at the end.
pub(crate) struct FileHasher<'a> {
    fs: &'a dyn ImageFs,
    /// Only these paths (`None`: every regular file).
    only: Option<&'a HashSet<String>>,
    /// (walk index, entry) of the regular files, largest first, built by the first worker.
    jobs: OnceLock<Vec<(usize, FileEntry)>>,
    entries: OnceLock<usize>,
    next: AtomicUsize,
    shares: Mutex<Vec<Share>>,
}

/// What one worker hashed: (walk index, digests) and (walk index, path, message).
#[derive(Default)]
struct Share {
    digests: Vec<(usize, FileDigests)>,
    warnings: Vec<(usize, String, String)>,
}

impl<'a> FileHasher<'a> {
    /// A hasher of the regular files of `fs`, or only of those whose path is in `only` (the
    /// file list is built by the first worker).
    pub(crate) fn new(fs: &'a dyn ImageFs, only: Option<&'a HashSet<String>>) -> Self {
        Self {
            fs,
            only,
            jobs: OnceLock::new(),
            entries: OnceLock::new(),
            next: AtomicUsize::new(0),
            shares: Mutex::new(Vec::new()),
        }
    }

    fn jobs(&self) -> &[(usize, FileEntry)] {
        self.jobs.get_or_init(|| {
            let mut jobs = Vec::new();
            let mut count = 0;
            for (i, entry) in self.fs.entries().enumerate() {
                count = i + 1;
                if has_content(&entry) && self.only.is_none_or(|o| o.contains(&entry.path)) {
                    jobs.push((i, entry));
                }
            }
            let _ = self.entries.set(count);
            // largest first; equal sizes in walk order
            jobs.sort_by_key(|(_, e)| std::cmp::Reverse(e.size));
            jobs
        })
    }

    /// Hashes files until none is left to start; callable from several threads at once.
    pub(crate) fn work(&self) {
        let jobs = self.jobs();
        let share = hash_files(self.fs, || {
            jobs.get(self.next.fetch_add(1, Ordering::Relaxed))
        });
        if let Ok(mut shares) = self.shares.lock() {
            shares.push(share);
        }
    }

    /// Every worker's digests in walk order, once all [`FileHasher::work`] calls returned.
    pub(crate) fn finish(self) -> SideDigests {
        let mut digests = Vec::new();
        let mut warnings = Vec::new();
        let shares = self.shares.into_inner().unwrap_or_else(|e| e.into_inner());
        for share in shares {
            digests.extend(share.digests);
            warnings.extend(share.warnings);
        }
        // walk indexes are unique
        digests.sort_unstable_by_key(|(i, _)| *i);
        warnings.sort_by_key(|(i, _, _)| *i);
        SideDigests {
            digests,
            warnings: warnings.into_iter().map(|(_, p, m)| (p, m)).collect(),
        }
    }
}

/// All the digests of `fs` on the calling thread (one worker).
#[cfg(test)]
fn side_digests(fs: &dyn ImageFs) -> SideDigests {
    let hasher = FileHasher::new(fs, None);
    hasher.work();
    hasher.finish()
}

/// Hashes the files `next` hands out, [`LANES`] at a time.
fn hash_files<'a>(
    fs: &'a dyn ImageFs,
    mut next: impl FnMut() -> Option<&'a (usize, FileEntry)>,
) -> Share {
    fn failed(share: &mut Share, index: usize, path: &str, e: String) {
        share
            .warnings
            .push((index, path.to_string(), format!("cannot hash file: {e}")));
    }
    let mut share = Share::default();
    let mut lanes: [Option<Lane<'a>>; LANES] = std::array::from_fn(|_| None);
    // the buffers of finished files, for the next ones (at most one per lane)
    let mut spare: Vec<Box<[u8]>> = Vec::with_capacity(LANES);
    let mut md5 = Md5Lanes::new();
    loop {
        // every lane gets a file with at least one block to hash, while files are left
        for (l, slot) in lanes.iter_mut().enumerate() {
            loop {
                if let Some(lane) = slot.as_mut() {
                    match lane.fill() {
                        Ok(true) => break,
                        Ok(false) => {
                            if let Some(lane) = slot.take() {
                                let index = lane.index;
                                let (digests, buf) = lane.finish(md5.digest(l));
                                share.digests.push((index, digests));
                                spare.push(buf);
                            }
                        }
                        Err(e) => {
                            if let Some(lane) = slot.take() {
                                failed(&mut share, lane.index, lane.path, e);
                                spare.push(lane.buf);
                            }
                        }
                    }
                }
                let Some((index, entry)) = next() else {
                    break;
                };
                match fs.open_entry(entry) {
                    Ok(reader) => {
                        md5.reset(l);
                        let buf = spare
                            .pop()
                            .unwrap_or_else(|| vec![0u8; CHUNK + 128].into_boxed_slice());
                        *slot = Some(Lane::new(*index, &entry.path, reader, buf));
                    }
                    Err(e) => failed(&mut share, *index, &entry.path, e.to_string()),
                }
            }
        }
        let busy = lanes.iter().flatten().count();
        if busy == 0 {
            break;
        }
        if busy < MIN_BUSY_LANES {
            // the last few files (no more to start): one at a time
            for (l, slot) in lanes.iter_mut().enumerate() {
                if let Some(lane) = slot.take() {
                    let (index, path) = (lane.index, lane.path);
                    match lane.finish_alone(md5.lane(l)) {
                        Ok(d) => share.digests.push((index, d)),
                        Err(e) => failed(&mut share, index, path, e),
                    }
                }
            }
            break;
        }
        // as many blocks as every busy lane has buffered
        let n = lanes.iter().flatten().map(Lane::blocks).min().unwrap_or(0);
        for k in 0..n {
            let mut blocks = [&IDLE_BLOCK; LANES];
            for (b, lane) in blocks.iter_mut().zip(&lanes) {
                if let Some(block) = lane.as_ref().and_then(|lane| lane.block(k)) {
                    *b = block;
                }
            }
            md5.compress(blocks);
        }
        for lane in lanes.iter_mut().flatten() {
            lane.consume(n);
        }
    }
    share
}

/// Below this many busy lanes (and no file left to start), hashing all [`LANES`] in step costs
/// more than hashing the busy ones one at a time.
const MIN_BUSY_LANES: usize = 4;

/// One file being hashed by [`hash_files`]: its sha256 and sha1 so far and the bytes read but
/// not yet through md5, with the md5 padding appended after the last byte.
struct Lane<'a> {
    index: usize,
    path: &'a str,
    reader: Box<dyn Read + Send + 'a>,
    sha256: Sha256,
    sha1: Sha1,
    /// `CHUNK` bytes to read into plus room for the padding.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    len: u64,
    /// All content read and the padding appended.
    done_reading: bool,
}

impl<'a> Lane<'a> {
    /// `buf`: at least `CHUNK` + 128 bytes (its content does not matter).
    fn new(index: usize, path: &'a str, reader: Box<dyn Read + Send + 'a>, buf: Box<[u8]>) -> Self {
        Self {
            index,
            path,
            reader,
            sha256: Sha256::new(),
            sha1: Sha1::new(),
            buf,
            start: 0,
            end: 0,
            len: 0,
            done_reading: false,
        }
    }

    /// Reads until at least one whole block is buffered or the content ended (then the padding
    /// is appended). Returns whether a block is left to hash (`false`: the file is done).
    fn fill(&mut self) -> Result<bool, String> {
        while self.end - self.start < 64 && !self.done_reading {
            if self.start > 0 {
                self.buf.copy_within(self.start..self.end, 0);
                self.end -= self.start;
                self.start = 0;
            }
            let n = self
                .reader
                .read(&mut self.buf[self.end..CHUNK])
                .map_err(|e| format!("read failed: {e}"))?;
            if n == 0 {
                self.end += md5_lanes::padding(self.len, &mut self.buf[self.end..]);
                self.done_reading = true;
            } else {
                let bytes = &self.buf[self.end..self.end + n];
                self.sha256.update(bytes);
                self.sha1.update(bytes);
                self.len += n as u64;
                self.end += n;
            }
        }
        Ok(self.end > self.start)
    }

    /// Whole blocks buffered.
    fn blocks(&self) -> usize {
        (self.end - self.start) / 64
    }

    /// The `k`-th buffered block.
    fn block(&self, k: usize) -> Option<&[u8; 64]> {
        self.buf[self.start..self.end].as_chunks::<64>().0.get(k)
    }

    fn consume(&mut self, blocks: usize) {
        self.start += blocks * 64;
    }

    /// The digests once every block went through md5 (`md5` is its result).
    fn finish(self, md5: [u8; 16]) -> (FileDigests, Box<[u8]>) {
        let digests = FileDigests {
            sha256: self.sha256.finalize().into(),
            sha1: self.sha1.finalize().into(),
            md5,
        };
        (digests, self.buf)
    }

    /// Hashes the rest of the file on its own, md5 going on from `md5`.
    fn finish_alone(mut self, mut md5: Md5One) -> Result<FileDigests, String> {
        while self.fill()? {
            for block in self.buf[self.start..self.end].as_chunks::<64>().0 {
                md5.compress(block);
            }
            let blocks = self.blocks();
            self.consume(blocks);
        }
        Ok(self.finish(md5.digest()).0)
    }
}

/// The paths whose records the SBOM encoders look at ([`FileRecordScope::Related`]): the
/// files packages declare or were found at, the owned paths and the root (which keeps the list
/// non-empty exactly when the full list is).
pub(crate) fn related_paths(
    packages: &[Package],
    owners: &HashMap<String, String>,
) -> HashSet<String> {
    packages
        .iter()
        .flat_map(|p| {
            declared_files(p)
                .iter()
                .map(|f| f.path.as_str())
                .chain(p.locations.iter().map(|l| l.path.as_str()))
        })
        .chain(owners.keys().map(String::as_str))
        .chain(["/"])
        .map(str::to_string)
        .collect()
}

/// The file owners and, with [`FileRecordScope::Related`], the only paths that get records
/// (and digests).
pub(crate) fn record_plan(
    fs: &dyn ImageFs,
    packages: &[Package],
    scope: FileRecordScope,
) -> (HashMap<String, String>, Option<HashSet<String>>) {
    let owners = resolved_ownership(fs, packages);
    let related = match scope {
        FileRecordScope::All => None,
        FileRecordScope::Related => Some(related_paths(packages, &owners)),
    };
    (owners, related)
}

/// Builds the file records once packages (owners) are known, from a metadata-only pass over
/// the tree (same order as the walk) and the digests (walk index, digests) in walk order. With
/// `related` only the records of those paths are kept.
pub(crate) fn build_records(
    fs: &dyn ImageFs,
    owners: &HashMap<String, String>,
    related: Option<&HashSet<String>>,
    digests: Vec<(usize, FileDigests)>,
) -> Vec<FileRecord> {
    let mut out = Vec::with_capacity(match related {
        None => fs.entry_count(),
        Some(r) => r.len(),
    });
    let mut digests = digests.into_iter().peekable();
    for (i, entry) in fs.entries().enumerate() {
        let digest = digests.next_if(|(at, _)| *at == i).map(|(_, d)| d);
        if related.is_some_and(|r| !r.contains(entry.path.as_str())) {
            continue;
        }
        out.push(FileRecord {
            owner: owners.get(&entry.path).cloned(),
            file_type: kind_name(entry.kind).to_string(),
            size: entry.size,
            mode: entry.mode,
            uid: entry.uid,
            gid: entry.gid,
            sha256: digest.map(|d| hex::encode(d.sha256)),
            sha1: digest.map(|d| hex::encode(d.sha1)),
            md5: digest.map(|d| hex::encode(d.md5)),
            layer: fs
                .layers()
                .get(entry.layer_index)
                .and_then(|l| l.diff_id.clone()),
            link_target: entry.link_target,
            path: entry.path,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchorage_image::{FsError, LayerRef, MemFs};
    use md5::Md5;

    fn content(seed: usize, size: usize) -> Vec<u8> {
        (0..size)
            .map(|i| ((i * 31 + seed * 7) % 251) as u8)
            .collect()
    }

    /// The digests of every entry in walk order (`None` for entries without).
    fn dense(side: &SideDigests, count: usize) -> Vec<Option<FileDigests>> {
        let mut all = vec![None; count];
        for (i, d) in &side.digests {
            all[*i] = Some(*d);
        }
        all
    }

    fn assert_digests(content: &[u8], d: Option<FileDigests>, what: &str) {
        let d = d.unwrap_or_else(|| panic!("no digests for {what}"));
        assert_eq!(
            d.sha256,
            <[u8; 32]>::from(Sha256::digest(content)),
            "{what}"
        );
        assert_eq!(d.sha1, <[u8; 20]>::from(Sha1::digest(content)), "{what}");
        assert_eq!(d.md5, <[u8; 16]>::from(Md5::digest(content)), "{what}");
    }

    /// Many more files than lanes, of sizes around the block and padding boundaries, empty
    /// ones, large ones and equal ones, plus a symlink: every regular file gets the sha256,
    /// sha1 and md5 the sha2, sha1 and md-5 crates compute, at its walk index, and nothing else
    /// does (synthetic content).
    #[test]
    fn synthetic_many_files_through_the_lanes_equal_single_stream_digests() {
        let mut sizes: Vec<usize> = (0..130).collect();
        sizes.extend([
            447,
            448,
            4096,
            CHUNK - 1,
            CHUNK,
            CHUNK + 1,
            CHUNK + 56,
            5 * CHUNK + 3,
            2 * 1024 * 1024 + 17,
        ]);
        sizes.extend([1000; 40]);
        let mut fs = MemFs::new();
        let mut by_path = HashMap::new();
        for (i, size) in sizes.iter().enumerate() {
            let c = content(i, *size);
            let path = format!("/d{}/f{i}", i % 7);
            fs.add_file(&path, c.clone());
            by_path.insert(path, c);
        }
        fs.add_symlink("/d0/link", "f0");
        let side = side_digests(&fs);
        assert!(side.warnings.is_empty());
        let mut files = 0;
        for (entry, d) in fs.entries().zip(&dense(&side, fs.entry_count())) {
            match by_path.get(&entry.path) {
                Some(c) => {
                    assert_digests(c, *d, &entry.path);
                    files += 1;
                }
                None => assert!(d.is_none(), "{}", entry.path),
            }
        }
        assert_eq!(files, sizes.len());
        assert_eq!(side.digests.len(), sizes.len());
    }

    /// Three threads sharing one [`FileHasher`] (as the helper and the walk thread do) hash
    /// every file exactly once, with the same digests as one thread (synthetic content).
    #[test]
    fn synthetic_workers_sharing_the_files_give_the_same_digests() {
        let mut fs = MemFs::new();
        for i in 0..300usize {
            fs.add_file(&format!("/f{i:03}"), content(i, (i * 7919) % 40_000));
        }
        let alone = side_digests(&fs);
        let hasher = FileHasher::new(&fs, None);
        std::thread::scope(|scope| {
            scope.spawn(|| hasher.work());
            scope.spawn(|| hasher.work());
            hasher.work();
        });
        let shared = hasher.finish();
        assert_eq!(shared.digests.len(), alone.digests.len());
        let key = |(i, d): &(usize, FileDigests)| (*i, d.sha256, d.sha1, d.md5);
        for (a, b) in alone.digests.iter().zip(&shared.digests) {
            assert_eq!(key(a), key(b));
        }
        assert_eq!(shared.digests.len(), 300);
        assert!(shared.warnings.is_empty());
    }

    /// The walk keeps the head and all of a text file for the scans, stops after the sniff of
    /// a binary file (a NUL in its first 8 KiB), and reads only the head when it does not scan
    /// (synthetic content).
    #[test]
    fn synthetic_walk_reads_text_whole_and_binary_only_to_the_sniff() {
        let text: Vec<u8> = b"key = value\n".repeat(20_000);
        let mut binary = vec![0x7fu8, b'E', b'L', b'F', 2, 1, 1, 0];
        binary.extend(content(1, 3 * CHUNK));
        let mut fs = MemFs::new();
        fs.add_file("/text", text.clone());
        fs.add_file("/bin", binary.clone());
        for (path, full, scan, want_buf) in [
            ("/text", &text, true, Some(&text)),
            ("/bin", &binary, true, None),
            ("/text", &text, false, None),
        ] {
            let entry = fs.entry(path).unwrap();
            let (mut buf, mut head) = (vec![1, 2, 3], Vec::new());
            read_for_walk(&fs, &entry, scan, &mut buf, &mut head).unwrap();
            assert_eq!(head, full[..HEAD], "{path} scan={scan}");
            match want_buf {
                Some(c) => assert_eq!(&buf, c, "{path}"),
                None => assert!(buf.is_empty(), "{path} scan={scan}"),
            }
        }
    }

    /// A tree whose reads of some files fail part-way (`/bad*`) or cannot open (`/gone*`).
    struct FailingFs(MemFs);

    struct FailAfter<R> {
        inner: R,
        left: usize,
    }

    impl<R: Read> Read for FailAfter<R> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.left == 0 {
                return Err(std::io::Error::other("injected failure"));
            }
            let max = buf.len().min(self.left);
            let n = self.inner.read(&mut buf[..max])?;
            self.left -= n;
            Ok(n)
        }
    }

    impl ImageFs for FailingFs {
        fn layers(&self) -> &[LayerRef] {
            self.0.layers()
        }
        fn entry(&self, path: &str) -> Option<FileEntry> {
            self.0.entry(path)
        }
        fn entries(&self) -> Box<dyn Iterator<Item = FileEntry> + '_> {
            self.0.entries()
        }
        fn open_entry(&self, entry: &FileEntry) -> Result<Box<dyn Read + Send + '_>, FsError> {
            if entry.path.starts_with("/gone") {
                return Err(FsError::NotFound(entry.path.clone()));
            }
            let inner = self.0.open_entry(entry)?;
            Ok(if entry.path.starts_with("/bad") {
                Box::new(FailAfter { inner, left: 100 })
            } else {
                inner
            })
        }
    }

    /// Files that fail to open or fail mid-read get no digests and one warning each, in walk
    /// order; the lanes they used go on to hash the other files correctly (synthetic failures).
    #[test]
    fn synthetic_read_failures_leave_the_other_lanes_correct() {
        let mut mem = MemFs::new();
        let mut by_path = HashMap::new();
        for i in 0..60usize {
            let path = match i % 5 {
                0 => format!("/bad{i:02}"),
                1 => format!("/gone{i:02}"),
                _ => format!("/ok{i:02}"),
            };
            let c = content(i, 200 + i * 997);
            mem.add_file(&path, c.clone());
            by_path.insert(path, c);
        }
        let fs = FailingFs(mem);
        let side = side_digests(&fs);
        let mut expected_warnings = Vec::new();
        for (entry, d) in fs.entries().zip(&dense(&side, fs.entry_count())) {
            let path = entry.path;
            if path.starts_with("/ok") {
                assert_digests(&by_path[&path], *d, &path);
            } else if path.starts_with("/bad") || path.starts_with("/gone") {
                assert!(d.is_none(), "{path}");
                expected_warnings.push(path);
            }
        }
        let warned: Vec<String> = side
            .warnings
            .iter()
            .map(|(p, m)| {
                assert!(m.starts_with("cannot hash file: "), "{m}");
                p.clone()
            })
            .collect();
        assert_eq!(warned, expected_warnings);
        assert!(
            side.warnings
                .iter()
                .any(|(_, m)| m.contains("injected failure"))
        );
    }
}
