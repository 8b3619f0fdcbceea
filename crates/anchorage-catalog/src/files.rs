//! File records: every path of the squashed tree with type, size, mode, owner ids, link
//! target, sha256/sha1/md5 of regular files, the layer it came from, and the package that owns it.

use std::collections::{HashMap, HashSet};
use std::io::Read;

use anchorage_image::{EntryKind, FileEntry, ImageFs};
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest as _, Sha256};

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

/// The digests of one regular file, computed in the walk's one read: package databases record
/// sha256 (rpm), sha1 (apk) or md5 (dpkg), and SPDX requires sha1. Raw bytes, 68 per file;
/// hex only in the records that are kept.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FileDigests {
    pub(crate) sha256: [u8; 32],
    pub(crate) sha1: [u8; 20],
    pub(crate) md5: [u8; 16],
}

/// A running [`FileDigests`].
struct Hashers(Sha256, Sha1, Md5);

impl Hashers {
    fn new() -> Self {
        Self(Sha256::new(), Sha1::new(), Md5::new())
    }
    fn update(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
        self.1.update(bytes);
        self.2.update(bytes);
    }
    fn finish(self) -> FileDigests {
        FileDigests {
            sha256: self.0.finalize().into(),
            sha1: self.1.finalize().into(),
            md5: self.2.finalize().into(),
        }
    }
}

/// What the single walk gathers besides the catalogers' file lists: file records (owners
/// attached later), secret and content hits, and the warnings of each stage in order.
#[derive(Default)]
pub(crate) struct WalkOutput {
    /// Digests of each entry in walk order (`None`: not a regular file, digests off, or
    /// unreadable).
    pub(crate) digests: Vec<Option<FileDigests>>,
    pub(crate) secrets: Vec<ContentHit>,
    pub(crate) content_hits: Vec<ContentHit>,
    pub(crate) file_warnings: Vec<(String, String)>,
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

/// Files at least this large are hashed on two threads (sha256 here, sha1 and md5 on a helper
/// thread fed the same chunks): the walk is otherwise single-threaded, and md5 alone cost about
/// a fifth of an analysis of a Debian image. Smaller files are hashed inline (a thread per small
/// file would cost more than it saves).
const PARALLEL_HASH_MIN: u64 = 256 * 1024;

/// Reads the content of `entry` once: hashes it (when `digest`) and, when it is small enough
/// for the secret scan, keeps it for the rules in `buf`. Returns the digests (sha256, sha1,
/// md5).
fn read_once(
    fs: &dyn ImageFs,
    entry: &FileEntry,
    digest: bool,
    keep: bool,
    buf: &mut Vec<u8>,
    head: &mut Vec<u8>,
) -> Result<Option<FileDigests>, String> {
    let mut reader = fs.open_entry(entry).map_err(|e| e.to_string())?;
    buf.clear();
    if digest && entry.size >= PARALLEL_HASH_MIN {
        return read_hashing_in_parallel(reader.as_mut(), keep, buf, head).map(Some);
    }
    let mut hasher = digest.then(Hashers::new);
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
        keep_head_and_content(&chunk[..n], keep, buf, head);
    }
    Ok(hasher.map(Hashers::finish))
}

fn keep_head_and_content(chunk: &[u8], keep: bool, buf: &mut Vec<u8>, head: &mut Vec<u8>) {
    if head.len() < HEAD {
        let take = (HEAD - head.len()).min(chunk.len());
        head.extend_from_slice(&chunk[..take]);
    }
    if keep {
        buf.extend_from_slice(chunk);
    }
}

/// [`read_once`] for a large file: sha256 on this thread, sha1 and md5 on a scoped helper
/// thread that receives each chunk after this thread is done with it.
fn read_hashing_in_parallel(
    reader: &mut (dyn Read + Send + '_),
    keep: bool,
    buf: &mut Vec<u8>,
    head: &mut Vec<u8>,
) -> Result<FileDigests, String> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(8);
        let side = scope.spawn(move || {
            let (mut sha1, mut md5) = (Sha1::new(), Md5::new());
            for chunk in rx {
                sha1.update(&chunk);
                md5.update(&chunk);
            }
            (
                <[u8; 20]>::from(sha1.finalize()),
                <[u8; 16]>::from(md5.finalize()),
            )
        });
        let mut sha256 = Sha256::new();
        loop {
            let mut chunk = vec![0u8; CHUNK];
            let n = reader
                .read(&mut chunk)
                .map_err(|e| format!("read failed: {e}"))?;
            if n == 0 {
                break;
            }
            chunk.truncate(n);
            sha256.update(&chunk);
            keep_head_and_content(&chunk, keep, buf, head);
            tx.send(chunk)
                .map_err(|_| "the hashing thread stopped".to_string())?;
        }
        drop(tx);
        let (sha1, md5) = side
            .join()
            .map_err(|_| "the hashing thread panicked".to_string())?;
        Ok(FileDigests {
            sha256: sha256.finalize().into(),
            sha1,
            md5,
        })
    })
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
    let is_content = matches!(entry.kind, EntryKind::File | EntryKind::Hardlink);
    let digest = settings.digests && is_content;
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
                    out.file_warnings
                        .push((entry.path.clone(), format!("cannot hash file: {e}")));
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
    out.digests.push(sha256);
    read
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
    use anchorage_image::MemFs;

    /// The two-thread path (files of 256 KiB and more) gives the same digests, head and kept
    /// content as hashing inline, on both sides of the threshold (synthetic content).
    #[test]
    fn synthetic_large_files_hash_the_same_on_two_threads() {
        for size in [1000usize, PARALLEL_HASH_MIN as usize, 3 * 1024 * 1024 + 17] {
            let content: Vec<u8> = (0..size).map(|i| (i * 31 % 251) as u8).collect();
            let mut fs = MemFs::new();
            fs.add_file("/f", content.clone());
            let entry = fs.entry("/f").unwrap();
            let (mut buf, mut head) = (Vec::new(), Vec::new());
            let d = read_once(&fs, &entry, true, true, &mut buf, &mut head)
                .unwrap()
                .unwrap();
            assert_eq!(d.sha256, <[u8; 32]>::from(Sha256::digest(&content)));
            assert_eq!(d.sha1, <[u8; 20]>::from(Sha1::digest(&content)));
            assert_eq!(d.md5, <[u8; 16]>::from(Md5::digest(&content)));
            assert_eq!(head, content[..HEAD]);
            assert_eq!(buf, content, "size {size}");
        }
    }
}
