//! File records: every path of the squashed tree with type, size, mode, owner ids, link
//! target, sha256/sha1/md5 of regular files, the layer it came from, and the package that owns it.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use anchorage_image::{EntryKind, FileEntry, ImageFs};
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

use crate::md5_lanes::{self, IDLE_BLOCK, LANES, Md5Lanes, Md5One};
use crate::model::{ContentHit, FileRecord, Package, PackageFile, PackageMetadata};
use crate::options::FileRecordScope;
use crate::secrets::RuleSet;

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
fn resolved_ownership(fs: &dyn ImageFs, packages: &[Package]) -> HashMap<String, String> {
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

/// What the single walk gathers besides the catalogers' file lists: sha256 of regular files,
/// secret and content hits, and the warnings of each stage in order.
#[derive(Default)]
pub(crate) struct WalkOutput {
    /// sha256 of each entry in walk order (`None`: not a regular file, digests off, or
    /// unreadable); [`SideDigests`] holds the sha1 and md5 of the same entries.
    pub(crate) sha256: Vec<Option<[u8; 32]>>,
    pub(crate) secrets: Vec<ContentHit>,
    pub(crate) content_hits: Vec<ContentHit>,
    /// (entry index in walk order, path, message)
    pub(crate) file_warnings: Vec<(usize, String, String)>,
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

/// Reads the content of `entry` once: computes its sha256 (when `digest`) and, when it is small
/// enough for the secret scan, keeps it for the rules in `buf`.
fn read_once(
    fs: &dyn ImageFs,
    entry: &FileEntry,
    digest: bool,
    keep: bool,
    buf: &mut Vec<u8>,
    head: &mut Vec<u8>,
) -> Result<Option<[u8; 32]>, String> {
    let mut reader = fs.open_entry(entry).map_err(|e| e.to_string())?;
    buf.clear();
    let mut hasher = digest.then(Sha256::new);
    let mut chunk = [0u8; CHUNK];
    loop {
        let n = reader
            .read(&mut chunk)
            .map_err(|e| format!("read failed: {e}"))?;
        if n == 0 {
            break;
        }
        if let Some(h) = hasher.as_mut() {
            h.update(&chunk[..n]);
        }
        if head.len() < HEAD {
            let take = (HEAD - head.len()).min(n);
            head.extend_from_slice(&chunk[..take]);
        }
        if keep {
            buf.extend_from_slice(&chunk[..n]);
        }
    }
    Ok(hasher.map(|h| h.finalize().into()))
}

/// Records one entry of the walk: its sha256 (computed in the same read as the secret and
/// content scans) and its scan hits. Returns whether the content was read, with its first
/// [`HEAD`] bytes left in `head`.
pub(crate) fn walk_entry(
    fs: &dyn ImageFs,
    entry: &FileEntry,
    settings: &WalkSettings<'_>,
    buf: &mut Vec<u8>,
    head: &mut Vec<u8>,
    out: &mut WalkOutput,
) -> bool {
    head.clear();
    let mut read = false;
    let digest = settings.digests && has_content(entry);
    let scan = !(settings.secrets.is_empty() && settings.content.is_empty())
        && crate::secrets::wants(entry, settings.scan_max_size);
    let mut sha256 = None;
    if digest || scan {
        match read_once(fs, entry, digest, scan, buf, head) {
            Ok(h) => {
                sha256 = h;
                read = true;
            }
            Err(e) => {
                if digest {
                    out.file_warnings.push((
                        out.sha256.len(),
                        entry.path.clone(),
                        format!("cannot hash file: {e}"),
                    ));
                }
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
    out.sha256.push(sha256);
    read
}

/// Whether `entry` has content of its own (the entries that get digests).
fn has_content(entry: &FileEntry) -> bool {
    matches!(entry.kind, EntryKind::File | EntryKind::Hardlink)
}

/// The sha1 and md5 of every regular file, in walk order, computed by [`side_digests`].
pub(crate) struct SideDigests {
    sums: Vec<Option<([u8; 20], [u8; 16])>>,
    /// (entry index in walk order, path, message)
    warnings: Vec<(usize, String, String)>,
}

/// Computes sha1 and md5 of every regular file of `fs`, for one helper thread that runs beside
/// the walk (which computes sha256) and the catalogers: md5 alone cost about a fifth of a Debian
/// image's analysis on the walk thread. The helper reads each file itself with positioned reads
/// of the same storage (the page cache serves it a second time), so it needs no channel and
/// never makes the walk wait. It keeps [`LANES`] files open at once, each with one 64 KiB
/// buffer, and hashes their md5 in step ([`Md5Lanes`]); files go largest first, so the lanes
/// stay busy until only small files are left.
pub(crate) fn side_digests(fs: &dyn ImageFs) -> SideDigests {
    let mut jobs = Vec::new();
    let mut count = 0;
    for (i, entry) in fs.entries().enumerate() {
        count = i + 1;
        if has_content(&entry) {
            jobs.push((i, entry));
        }
    }
    // largest first; equal sizes in walk order
    jobs.sort_by_key(|(_, e)| std::cmp::Reverse(e.size));
    let mut out = SideDigests {
        sums: vec![None; count],
        warnings: Vec::new(),
    };
    let mut jobs = jobs.into_iter();
    let mut lanes: [Option<Lane<'_>>; LANES] = std::array::from_fn(|_| None);
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
                                out.sums[lane.index] =
                                    Some((lane.sha1.finalize().into(), md5.digest(l)));
                            }
                        }
                        Err(e) => {
                            if let Some(lane) = slot.take() {
                                out.warnings.push((
                                    lane.index,
                                    lane.path,
                                    format!("cannot hash file: {e}"),
                                ));
                            }
                        }
                    }
                }
                let Some((index, entry)) = jobs.next() else {
                    break;
                };
                match Lane::open(fs, index, entry) {
                    Ok(lane) => {
                        md5.reset(l);
                        *slot = Some(lane);
                    }
                    Err((index, path, e)) => {
                        out.warnings
                            .push((index, path, format!("cannot hash file: {e}")));
                    }
                }
            }
        }
        let active = lanes.iter().flatten().count();
        if active == 0 {
            break;
        }
        if active < MIN_ACTIVE_LANES {
            // the last few files (no more to start): one at a time
            for (l, slot) in lanes.iter_mut().enumerate() {
                if let Some(lane) = slot.take() {
                    let mut one = md5.lane(l);
                    let (index, path) = (lane.index, lane.path.clone());
                    match lane.finish_alone(&mut one) {
                        Ok(sha1) => out.sums[index] = Some((sha1, one.digest())),
                        Err(e) => {
                            out.warnings
                                .push((index, path, format!("cannot hash file: {e}")))
                        }
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
    out.warnings.sort_by_key(|(i, _, _)| *i);
    out
}

/// Below this many busy lanes (and no file left to start), hashing all [`LANES`] in step costs
/// more than hashing the busy ones one at a time.
const MIN_ACTIVE_LANES: usize = 4;

/// One file being hashed by [`side_digests`]: its sha1 so far and the bytes read but not yet
/// through md5, with the md5 padding appended after the last byte.
struct Lane<'fs> {
    index: usize,
    path: String,
    reader: Box<dyn Read + Send + 'fs>,
    sha1: Sha1,
    /// `CHUNK` bytes to read into plus room for the padding.
    buf: Box<[u8]>,
    start: usize,
    end: usize,
    len: u64,
    /// All content read and the padding appended.
    done_reading: bool,
}

impl<'fs> Lane<'fs> {
    fn open(
        fs: &'fs dyn ImageFs,
        index: usize,
        entry: FileEntry,
    ) -> Result<Self, (usize, String, String)> {
        match fs.open_entry(&entry) {
            Ok(reader) => Ok(Self {
                index,
                path: entry.path,
                reader,
                sha1: Sha1::new(),
                buf: vec![0u8; CHUNK + 128].into_boxed_slice(),
                start: 0,
                end: 0,
                len: 0,
                done_reading: false,
            }),
            Err(e) => Err((index, entry.path, e.to_string())),
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
                self.sha1.update(&self.buf[self.end..self.end + n]);
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

    /// Hashes the rest of the file on its own; returns the sha1.
    fn finish_alone(mut self, md5: &mut Md5One) -> Result<[u8; 20], String> {
        while self.fill()? {
            for block in self.buf[self.start..self.end].as_chunks::<64>().0 {
                md5.compress(block);
            }
            let blocks = self.blocks();
            self.consume(blocks);
        }
        Ok(self.sha1.finalize().into())
    }
}

/// Joins the walk's sha256 with the helper's sha1 and md5: an entry has digests when both reads
/// succeeded, and one warning (in walk order) when either failed.
pub(crate) fn merge_digests(
    sha256: Vec<Option<[u8; 32]>>,
    mut walk_warnings: Vec<(usize, String, String)>,
    side: Option<SideDigests>,
) -> (Vec<Option<FileDigests>>, Vec<(String, String)>) {
    // digests off: neither the walk nor the helper computed any
    let side = side.unwrap_or(SideDigests {
        sums: Vec::new(),
        warnings: Vec::new(),
    });
    // a file the walk could not read already has its warning
    walk_warnings.extend(
        side.warnings
            .into_iter()
            .filter(|(i, _, _)| sha256.get(*i).is_some_and(Option::is_some)),
    );
    walk_warnings.sort_by_key(|(i, _, _)| *i);
    let digests = sha256
        .into_iter()
        .zip(side.sums.into_iter().chain(std::iter::repeat(None)))
        .map(|(sha256, sums)| {
            let (sha1, md5) = sums?;
            Some(FileDigests {
                sha256: sha256?,
                sha1,
                md5,
            })
        })
        .collect();
    (
        digests,
        walk_warnings.into_iter().map(|(_, p, m)| (p, m)).collect(),
    )
}

/// Builds the file records once packages (owners) are known, from a metadata-only pass over
/// the tree (same order as the walk) and the digests the walk computed. With
/// [`FileRecordScope::Related`] only the records the SBOM encoders look at are kept.
pub(crate) fn build_records(
    fs: &dyn ImageFs,
    packages: &[Package],
    digests: Vec<Option<FileDigests>>,
    scope: FileRecordScope,
) -> Vec<FileRecord> {
    let owners = resolved_ownership(fs, packages);
    let related: Option<HashSet<&str>> = match scope {
        FileRecordScope::All => None,
        FileRecordScope::Related => Some(
            packages
                .iter()
                .flat_map(|p| {
                    declared_files(p)
                        .iter()
                        .map(|f| f.path.as_str())
                        .chain(p.locations.iter().map(|l| l.path.as_str()))
                })
                .chain(owners.keys().map(String::as_str))
                // the root keeps the list non-empty exactly when the full list is
                .chain(["/"])
                .collect(),
        ),
    };
    let mut out = Vec::with_capacity(match &related {
        None => digests.len(),
        Some(r) => r.len(),
    });
    for (entry, digest) in fs.entries().zip(digests) {
        if related
            .as_ref()
            .is_some_and(|r| !r.contains(entry.path.as_str()))
        {
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

    /// The walk's sha256 joined with the helper thread's sha1 and md5 give each algorithm's
    /// digest of the content, for files below, at and above one read chunk, and none for
    /// directories and symlinks; the walk still keeps the head and the content it scans
    /// (synthetic content).
    #[test]
    fn synthetic_files_get_all_three_digests_from_two_threads() {
        let sizes = [0usize, 1000, CHUNK, 3 * 1024 * 1024 + 17];
        let mut fs = MemFs::new();
        let mut contents = Vec::new();
        for (i, size) in sizes.iter().enumerate() {
            let content: Vec<u8> = (0..*size).map(|i| (i * 31 % 251) as u8).collect();
            fs.add_file(&format!("/d/f{i}"), content.clone());
            contents.push(content);
        }
        fs.add_symlink("/d/link", "f1");
        let (mut sha256, mut heads) = (Vec::new(), Vec::new());
        let mut kinds = Vec::new();
        for entry in fs.entries() {
            kinds.push(entry.kind);
            if !has_content(&entry) {
                sha256.push(None);
                continue;
            }
            let (mut buf, mut head) = (Vec::new(), Vec::new());
            let d = read_once(&fs, &entry, true, true, &mut buf, &mut head).unwrap();
            let i = contents.iter().position(|c| *c == buf).unwrap();
            heads.push((head, i));
            sha256.push(d);
        }
        let side = side_digests(&fs);
        let (digests, warnings) = merge_digests(sha256, Vec::new(), Some(side));
        assert!(warnings.is_empty());
        let mut files = 0;
        for (kind, d) in kinds.iter().zip(&digests) {
            if *kind != EntryKind::File {
                assert!(d.is_none());
                continue;
            }
            let d = d.unwrap();
            let c = contents
                .iter()
                .find(|c| <[u8; 32]>::from(Sha256::digest(c)) == d.sha256)
                .unwrap();
            assert_eq!(d.sha1, <[u8; 20]>::from(Sha1::digest(c)));
            assert_eq!(d.md5, <[u8; 16]>::from(Md5::digest(c)));
            files += 1;
        }
        assert_eq!(files, sizes.len());
        for (head, i) in heads {
            let c = &contents[i];
            assert_eq!(head, c[..c.len().min(HEAD)]);
        }
    }

    /// A helper-thread failure on a file the walk read drops that file's digests and adds one
    /// warning in walk order; a failure the walk already reported adds none (synthetic
    /// results).
    #[test]
    fn synthetic_helper_failures_merge_into_one_warning_per_file() {
        let sha256 = vec![Some([1; 32]), None, Some([3; 32]), Some([4; 32])];
        let walk_warnings = vec![(1, "/b".to_string(), "cannot hash file: x".to_string())];
        let side = SideDigests {
            sums: vec![
                None,
                None,
                Some(([3; 20], [3; 16])),
                Some(([4; 20], [4; 16])),
            ],
            warnings: vec![
                (0, "/a".to_string(), "cannot hash file: y".to_string()),
                (1, "/b".to_string(), "cannot hash file: x".to_string()),
            ],
        };
        let (digests, warnings) = merge_digests(sha256, walk_warnings, Some(side));
        assert_eq!(
            digests.iter().map(Option::is_some).collect::<Vec<_>>(),
            [false, false, true, true]
        );
        assert_eq!(digests[3].unwrap().md5, [4; 16]);
        assert_eq!(
            warnings,
            [
                ("/a".to_string(), "cannot hash file: y".to_string()),
                ("/b".to_string(), "cannot hash file: x".to_string()),
            ]
        );
    }

    fn content(seed: usize, size: usize) -> Vec<u8> {
        (0..size)
            .map(|i| ((i * 31 + seed * 7) % 251) as u8)
            .collect()
    }

    fn assert_sums(content: &[u8], sums: Option<([u8; 20], [u8; 16])>, what: &str) {
        assert_eq!(
            sums,
            Some((
                <[u8; 20]>::from(Sha1::digest(content)),
                <[u8; 16]>::from(Md5::digest(content))
            )),
            "{what}"
        );
    }

    /// Many more files than lanes, of sizes around the block and padding boundaries, empty
    /// ones, large ones and equal ones, plus directories and symlinks: every regular file gets
    /// the sha1 and md5 the md-5 and sha1 crates compute, at its walk index (synthetic content).
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
        for (entry, sums) in fs.entries().zip(&side.sums) {
            match by_path.get(&entry.path) {
                Some(c) => {
                    assert_sums(c, *sums, &entry.path);
                    files += 1;
                }
                None => assert!(sums.is_none(), "{}", entry.path),
            }
        }
        assert_eq!(files, sizes.len());
        assert_eq!(side.sums.len(), fs.entry_count());
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

    /// Files that fail to open or fail mid-read get no sums and one warning each, in walk
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
        let paths: Vec<String> = fs.entries().map(|e| e.path).collect();
        let mut expected_warnings = Vec::new();
        for (i, (path, sums)) in paths.iter().zip(&side.sums).enumerate() {
            if path.starts_with("/ok") {
                assert_sums(&by_path[path], *sums, path);
            } else if path.starts_with("/bad") || path.starts_with("/gone") {
                assert!(sums.is_none(), "{path}");
                expected_warnings.push((i, path.clone()));
            }
        }
        let warned: Vec<(usize, String)> = side
            .warnings
            .iter()
            .map(|(i, p, m)| {
                assert!(m.starts_with("cannot hash file: "), "{m}");
                (*i, p.clone())
            })
            .collect();
        assert_eq!(warned, expected_warnings);
        assert!(
            side.warnings
                .iter()
                .any(|(_, _, m)| m.contains("injected failure"))
        );
    }
}
