//! File records: every path of the squashed tree with type, size, mode, owner ids, link
//! target, sha256 of regular files, the layer it came from, and the package that owns it.

use std::collections::HashMap;
use std::io::Read;

use anchorage_image::{EntryKind, FileEntry, ImageFs};
use sha2::{Digest as _, Sha256};

use crate::cataloger::CatalogContext;
use crate::model::{FileRecord, Package, PackageFile, PackageMetadata};

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

/// The digests of one regular file.
pub(crate) struct FileDigests {
    pub(crate) sha256: String,
    pub(crate) sha1: String,
    pub(crate) md5: String,
}

/// sha256, sha1 and md5 hex of a regular file, in one streamed read: package databases record
/// sha256 (rpm), sha1 (apk) or md5 (dpkg), and SPDX requires sha1.
pub(crate) fn digests_of(fs: &dyn ImageFs, entry: &FileEntry) -> Result<FileDigests, String> {
    let mut reader = fs.open_entry(entry).map_err(|e| e.to_string())?;
    let mut sha256 = Sha256::new();
    let mut sha1 = sha1::Sha1::new();
    let mut md5 = md5::Md5::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = reader
            .read(&mut buf)
            .map_err(|e| format!("read failed: {e}"))?;
        if n == 0 {
            break;
        }
        sha256.update(&buf[..n]);
        sha1.update(&buf[..n]);
        md5.update(&buf[..n]);
    }
    Ok(FileDigests {
        sha256: hex::encode(sha256.finalize()),
        sha1: hex::encode(sha1.finalize()),
        md5: hex::encode(md5.finalize()),
    })
}

/// Builds the file records of the whole tree.
pub(crate) fn file_records(
    fs: &dyn ImageFs,
    packages: &[Package],
    digests: bool,
    ctx: &mut CatalogContext,
) -> Vec<FileRecord> {
    let owners = resolved_ownership(fs, packages);
    let mut out = Vec::new();
    for entry in fs.entries() {
        let d = if digests && matches!(entry.kind, EntryKind::File | EntryKind::Hardlink) {
            match digests_of(fs, entry) {
                Ok(d) => Some(d),
                Err(e) => {
                    ctx.warn("files", Some(&entry.path), format!("cannot hash file: {e}"));
                    None
                }
            }
        } else {
            None
        };
        let (sha256, sha1, md5) = match d {
            Some(d) => (Some(d.sha256), Some(d.sha1), Some(d.md5)),
            None => (None, None, None),
        };
        out.push(FileRecord {
            path: entry.path.clone(),
            file_type: kind_name(entry.kind).to_string(),
            size: entry.size,
            mode: entry.mode,
            uid: entry.uid,
            gid: entry.gid,
            link_target: entry.link_target.clone(),
            sha256,
            sha1,
            md5,
            layer: fs
                .layers()
                .get(entry.layer_index)
                .and_then(|l| l.diff_id.clone()),
            owner: owners.get(&entry.path).cloned(),
        });
    }
    out
}
