//! Reads one layer in a single streaming pass into a list of entries and whiteouts.

use std::fs::File;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::acquired::LayerBlob;
use crate::fs::{EntryKind, normalize_path};
use crate::layer::{Compression, LayerId, OpenError, open_layer};
use crate::limits::{LimitKind, Limits};
use crate::ratio::RatioLimit;
use crate::squash::error::SquashError;
use crate::squash::tar_stream::{TarEntry, TarStream};
use crate::squash::tee::{ImageBudget, ReadFailure, StreamHasher, Tee};
use crate::squash::{LayerStats, SquashOptions};

/// What a scanned tar entry does to the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ScanKind {
    /// Adds or replaces the path.
    Entry(EntryKind),
    /// `.wh.NAME`: deletes `path` (and its subtree) from lower layers.
    Whiteout,
    /// `.wh..wh..opq`: hides all lower-layer children of the directory `path`.
    Opaque,
}

/// Where an entry's content is in its layer's storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DataRef {
    /// No content (not a regular file, or a hard link not yet resolved).
    None,
    /// Byte offset of the content in the layer storage.
    At(u64),
    /// A GNU sparse file: content not readable by offset.
    Sparse,
}

/// One entry of one layer, path normalized.
#[derive(Debug, Clone)]
pub(crate) struct ScannedEntry {
    pub(crate) path: String,
    pub(crate) kind: ScanKind,
    pub(crate) mode: u32,
    pub(crate) uid: u64,
    pub(crate) gid: u64,
    pub(crate) size: u64,
    pub(crate) mtime: i64,
    pub(crate) link_target: Option<String>,
    pub(crate) data: DataRef,
}

/// The result of reading one layer (its entries went to the sink as they were read).
pub(crate) struct LayerScan {
    /// File the data offsets point into (scratch copy, or the blob itself when uncompressed).
    pub(crate) storage: File,
    pub(crate) stats: LayerStats,
    pub(crate) warnings: Vec<String>,
}

/// Failure of one layer scan.
pub(crate) enum ScanError {
    /// A real error to report.
    Failed(Box<SquashError>),
    /// Stopped because another layer failed.
    Cancelled,
}

impl From<SquashError> for ScanError {
    fn from(e: SquashError) -> Self {
        Self::Failed(Box::new(e))
    }
}

/// Shared state of one squash run.
pub(crate) struct ScanContext<'a> {
    pub(crate) options: &'a SquashOptions,
    pub(crate) budget: ImageBudget,
    pub(crate) entries_seen: AtomicU64,
}

fn failure_to_error(
    failure: ReadFailure,
    layer: &LayerId,
    compression: Compression,
    path: Option<String>,
    scratch_dir: Option<&std::path::PathBuf>,
) -> ScanError {
    let layer = layer.clone();
    let e = match failure {
        ReadFailure::Cancelled => return ScanError::Cancelled,
        ReadFailure::Ratio(found) => SquashError::CompressionRatio {
            layer,
            compression,
            ratio: found.ratio(),
            limit: found.limit,
            decompressed: found.decompressed,
            compressed: found.compressed,
        },
        ReadFailure::Decompress(source) => SquashError::Corrupt {
            layer,
            compression,
            path,
            source,
        },
        ReadFailure::Limit {
            kind,
            limit,
            path: p,
        } => SquashError::LimitExceeded {
            layer,
            kind,
            limit,
            path: p.or(path),
        },
        ReadFailure::Scratch(source) => SquashError::Scratch {
            layer,
            dir: scratch_dir.cloned(),
            source,
        },
        ReadFailure::Tar { message, offset } => SquashError::InvalidTar {
            layer,
            offset,
            path,
            message,
        },
        ReadFailure::Truncated { offset } => SquashError::Truncated {
            layer,
            offset,
            path,
        },
    };
    ScanError::Failed(Box::new(e))
}

/// Maximum warnings kept per layer (the rest are only counted).
const MAX_WARNINGS: usize = 100;

struct Warnings {
    kept: Vec<String>,
    dropped: u64,
}

impl Warnings {
    fn push(&mut self, w: String) {
        if self.kept.len() < MAX_WARNINGS {
            self.kept.push(w);
        } else {
            self.dropped += 1;
        }
    }
}

/// Reads layer `index` of the image, handing each entry to `sink` as soon as it is read (so a
/// layer's entries are never all held at once).
pub(crate) fn scan_layer(
    index: usize,
    blob: &LayerBlob,
    ctx: &ScanContext<'_>,
    sink: &mut dyn FnMut(ScannedEntry),
) -> Result<LayerScan, ScanError> {
    let layer = LayerId {
        index,
        digest: blob.digest.clone(),
    };
    let ratio = RatioLimit {
        max_ratio: ctx.options.limits.max_compression_ratio,
        grace_bytes: ctx.options.limits.compression_ratio_grace_bytes,
    };
    let opened = open_layer(&blob.path, ratio).map_err(|e| match e {
        OpenError::Io(source) => SquashError::Blob {
            layer: layer.clone(),
            path: blob.path.clone(),
            source,
        },
        OpenError::Unsupported(name) => SquashError::UnsupportedCompression {
            layer: layer.clone(),
            compression: name.to_string(),
        },
    })?;
    let compression = opened.compression;
    let scratch_dir = ctx.options.scratch_dir.as_ref();
    // Uncompressed blobs are read back directly; compressed ones get an anonymous scratch copy
    // of the decompressed tar (never files named after image paths).
    let (storage, scratch) = if compression == Compression::None {
        let f = File::open(&blob.path).map_err(|source| SquashError::Blob {
            layer: layer.clone(),
            path: blob.path.clone(),
            source,
        })?;
        (Some(f), None)
    } else {
        let tmp = match scratch_dir {
            Some(dir) => tempfile::tempfile_in(dir),
            None => tempfile::tempfile(),
        }
        .map_err(|source| SquashError::Scratch {
            layer: layer.clone(),
            dir: scratch_dir.cloned(),
            source,
        })?;
        (None, Some(tmp))
    };
    // An uncompressed layer whose bytes acquisition already hashed to its diff_id is not
    // hashed again (a third of the CPU of a docker-archive analysis went to sha256).
    let verify = ctx.options.verify_diff_ids && !blob.diff_id_verified;
    let hasher = match (&blob.diff_id, verify) {
        (Some(d), true) if d.algorithm() == "sha256" => {
            Some(StreamHasher::Sha256(sha2::Digest::new()))
        }
        (Some(d), true) if d.algorithm() == "sha512" => {
            Some(StreamHasher::Sha512(sha2::Digest::new()))
        }
        _ => None,
    };
    let limits = &ctx.options.limits;
    let mut tee = Tee::new(
        opened.reader,
        limits.max_layer_decompressed_bytes,
        &ctx.budget,
        hasher,
        scratch,
        ctx.options.pipeline,
    );
    let mut warnings = Warnings {
        kept: Vec::new(),
        dropped: 0,
    };
    let mut tar_entries = 0u64;
    let mut whiteouts = 0u64;
    let mut last_path: Option<String> = None;
    {
        let mut stream = TarStream::new(&mut tee, limits);
        loop {
            let next = stream.next_entry().map_err(|f| {
                failure_to_error(f, &layer, compression, last_path.clone(), scratch_dir)
            })?;
            let Some(raw) = next else { break };
            tar_entries += 1;
            let seen = ctx.entries_seen.fetch_add(1, Ordering::Relaxed) + 1;
            if seen > limits.max_entries {
                return Err(SquashError::LimitExceeded {
                    layer,
                    kind: LimitKind::Entries,
                    limit: limits.max_entries,
                    path: None,
                }
                .into());
            }
            let converted = convert(raw, limits, &layer, &mut warnings)?;
            if let Some(entry) = converted {
                if matches!(entry.kind, ScanKind::Whiteout | ScanKind::Opaque) {
                    whiteouts += 1;
                }
                last_path = Some(entry.path.clone());
                sink(entry);
            }
        }
        stream
            .tee()
            .drain()
            .map_err(|f| failure_to_error(f, &layer, compression, None, scratch_dir))?;
    }
    let (digest, decompressed, scratch) = tee
        .finish()
        .map_err(|f| failure_to_error(f, &layer, compression, None, scratch_dir))?;
    if let (Some(expected), Some(actual)) = (&blob.diff_id, digest)
        && expected.to_string() != actual
    {
        return Err(SquashError::DiffIdMismatch {
            layer,
            expected: Box::new(expected.clone()),
            actual,
        }
        .into());
    }
    let Some(storage) = storage.or(scratch) else {
        return Err(SquashError::Scratch {
            layer,
            dir: scratch_dir.cloned(),
            source: std::io::Error::other("scratch file missing"),
        }
        .into());
    };
    if warnings.dropped > 0 {
        warnings.kept.push(format!(
            "{layer}: {} more warnings not shown",
            warnings.dropped
        ));
    }
    Ok(LayerScan {
        storage,
        stats: LayerStats {
            layer,
            compression,
            blob_bytes: opened.blob_size,
            decompressed_bytes: decompressed,
            tar_entries,
            whiteouts,
        },
        warnings: warnings.kept,
    })
}

fn limit_error(layer: &LayerId, kind: LimitKind, limit: u64, path: String) -> ScanError {
    SquashError::LimitExceeded {
        layer: layer.clone(),
        kind,
        limit,
        path: Some(path),
    }
    .into()
}

/// Shortens hostile paths before they are put into an error message.
fn display_path(bytes: &[u8]) -> String {
    let s = String::from_utf8_lossy(bytes);
    if s.len() > 200 {
        let mut cut = 200;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}...", &s[..cut])
    } else {
        s.into_owned()
    }
}

fn convert(
    raw: TarEntry,
    limits: &Limits,
    layer: &LayerId,
    warnings: &mut Warnings,
) -> Result<Option<ScannedEntry>, ScanError> {
    let max_path = limits.max_path_len;
    if raw.path.len() > max_path {
        return Err(limit_error(
            layer,
            LimitKind::PathLength,
            max_path as u64,
            display_path(&raw.path),
        ));
    }
    let name = match std::str::from_utf8(&raw.path) {
        Ok(s) => s.to_string(),
        Err(_) => {
            let lossy = String::from_utf8_lossy(&raw.path).into_owned();
            warnings.push(format!("{layer}: entry {lossy}: path is not utf-8"));
            lossy
        }
    };
    let Some(path) = normalize_path(&name) else {
        warnings.push(format!(
            "{layer}: entry {}: path contains a nul byte; skipped",
            display_path(&raw.path)
        ));
        return Ok(None);
    };
    let (parent, base) = match path.rfind('/') {
        Some(0) => ("/", &path[1..]),
        Some(i) => (&path[..i], &path[i + 1..]),
        None => ("/", path.as_str()),
    };
    let mut entry = ScannedEntry {
        path: path.clone(),
        kind: ScanKind::Entry(EntryKind::Other),
        mode: raw.mode,
        uid: raw.uid,
        gid: raw.gid,
        size: 0,
        mtime: raw.mtime,
        link_target: None,
        data: DataRef::None,
    };
    if base == ".wh..wh..opq" {
        entry.path = parent.to_string();
        entry.kind = ScanKind::Opaque;
        return Ok(Some(entry));
    }
    if base.starts_with(".wh..wh.") {
        // aufs bookkeeping (.wh..wh.plnk, .wh..wh.aufs): not part of the image.
        return Ok(None);
    }
    if let Some(hidden) = base.strip_prefix(".wh.") {
        if hidden.is_empty() || hidden == "." || hidden == ".." {
            warnings.push(format!(
                "{layer}: entry {path}: malformed whiteout; skipped"
            ));
            return Ok(None);
        }
        entry.path = if parent == "/" {
            format!("/{hidden}")
        } else {
            format!("{parent}/{hidden}")
        };
        entry.kind = ScanKind::Whiteout;
        return Ok(Some(entry));
    }
    let kind = match raw.entry_type {
        tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
            EntryKind::File
        }
        tar::EntryType::Directory => EntryKind::Dir,
        tar::EntryType::Symlink => EntryKind::Symlink,
        tar::EntryType::Link => EntryKind::Hardlink,
        tar::EntryType::Char => EntryKind::CharDevice,
        tar::EntryType::Block => EntryKind::BlockDevice,
        tar::EntryType::Fifo => EntryKind::Fifo,
        _ => EntryKind::Other,
    };
    if path == "/" && kind != EntryKind::Dir {
        warnings.push(format!(
            "{layer}: entry {name}: non-directory at the image root; skipped"
        ));
        return Ok(None);
    }
    entry.kind = ScanKind::Entry(kind);
    match kind {
        EntryKind::File => {
            if raw.size > limits.max_file_size {
                return Err(limit_error(
                    layer,
                    LimitKind::FileSize,
                    limits.max_file_size,
                    path,
                ));
            }
            entry.size = raw.size;
            entry.data = if raw.sparse {
                warnings.push(format!(
                    "{layer}: entry {path}: gnu sparse file; content not readable"
                ));
                DataRef::Sparse
            } else {
                DataRef::At(raw.data_offset)
            };
        }
        EntryKind::Symlink | EntryKind::Hardlink => {
            let link = raw.link.unwrap_or_default();
            if link.len() > max_path {
                return Err(limit_error(
                    layer,
                    LimitKind::PathLength,
                    max_path as u64,
                    path,
                ));
            }
            let target = String::from_utf8_lossy(&link).into_owned();
            if kind == EntryKind::Hardlink {
                let Some(t) = normalize_path(&target) else {
                    warnings.push(format!(
                        "{layer}: entry {path}: hard link target contains a nul byte; skipped"
                    ));
                    return Ok(None);
                };
                entry.link_target = Some(t);
            } else {
                if target.contains('\0') {
                    warnings.push(format!(
                        "{layer}: entry {path}: symlink target contains a nul byte; skipped"
                    ));
                    return Ok(None);
                }
                entry.link_target = Some(target);
            }
        }
        _ => {}
    }
    Ok(Some(entry))
}
