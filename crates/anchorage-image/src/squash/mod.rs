//! Squashing: layers read in one streaming pass each, whiteouts applied in layer order, into one
//! read-only [`SquashedFs`].
//!
//! Design:
//! - Each layer blob is sniffed (gzip, zstd or plain tar), decompressed as a stream and read in
//!   256 KiB chunks. Every chunk is counted against [`Limits`] and hashed for the `diff_id`
//!   check, and the contents of its regular files (not the tar headers and padding) are
//!   appended to an anonymous scratch file (compressed layers only; an uncompressed blob is
//!   read back in place). The tar headers are walked over the same stream (`tar_stream`), so a
//!   layer is read exactly once and nothing is ever unpacked to host paths.
//! - For each entry only metadata and the byte offset of its data are kept, so memory grows
//!   with the number of entries, not with bytes; [`SquashedFs`] reads contents on demand with
//!   positioned reads into the scratch copy.
//! - Layers may be read in parallel (`threads`), then applied bottom first: `.wh.NAME` removes
//!   NAME and its subtree from lower layers, `.wh..wh..opq` removes all lower-layer children of
//!   its directory, a non-directory hides everything that was below its path, and a layer's
//!   own whiteouts never hide its own entries. Hard links are resolved when applied and keep
//!   their content even if a later layer replaces the target.

mod error;
mod scan;
pub(crate) mod tar_stream;
pub(crate) mod tee;
mod tree;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use serde::{Deserialize, Serialize};

pub use error::SquashError;
pub use tree::SquashedFs;

use crate::acquired::AcquiredImage;
use crate::fs::LayerRef;
use crate::layer::{Compression, LayerId};
use crate::limits::Limits;
use scan::{LayerScan, ScanContext, ScanError, scan_layer};
use tee::ImageBudget;

/// How to squash an image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SquashOptions {
    /// Safety limits.
    pub limits: Limits,
    /// Directory for the anonymous scratch copies of the file contents of decompressed layers
    /// (default: the system temporary directory; the files have no name and vanish when the
    /// tree is dropped).
    pub scratch_dir: Option<PathBuf>,
    /// Check each layer's uncompressed digest against its `diff_id` when one is known.
    pub verify_diff_ids: bool,
    /// Layers read at the same time (whiteouts are still applied in layer order); `0` means the
    /// number of CPUs, at most 4.
    pub threads: usize,
    /// Hash and copy each layer's decompressed stream on a helper thread while the next chunk
    /// is decompressed (one extra thread per layer being read).
    pub pipeline: bool,
}

impl Default for SquashOptions {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            scratch_dir: None,
            verify_diff_ids: true,
            threads: 0,
            pipeline: true,
        }
    }
}

/// Counts for one layer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerStats {
    /// The layer.
    pub layer: LayerId,
    /// Compression detected from content.
    pub compression: Compression,
    /// Bytes of the blob as stored.
    pub blob_bytes: u64,
    /// Bytes of uncompressed tar read.
    pub decompressed_bytes: u64,
    /// Tar entries read (files, directories, links, whiteouts).
    pub tar_entries: u64,
    /// Whiteout and opaque markers among them.
    pub whiteouts: u64,
}

/// Counts gathered while squashing, for `inspect` and benchmarks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SquashStats {
    /// Number of layers.
    pub layers: usize,
    /// Entries in the final tree (including the root and implicit directories).
    pub entries: usize,
    /// Tar entries read from all layers.
    pub tar_entries: u64,
    /// Whiteout and opaque markers read.
    pub whiteouts: u64,
    /// Blob bytes read (compressed size of all layers).
    pub bytes_read: u64,
    /// Uncompressed tar bytes read from all layers.
    pub bytes_decompressed: u64,
    /// Number of warnings recorded.
    pub warnings: usize,
    /// Per-layer counts, bottom first.
    pub per_layer: Vec<LayerStats>,
}

fn thread_count(requested: usize, layers: usize) -> usize {
    let wanted = if requested == 0 {
        std::thread::available_parallelism()
            .map(std::num::NonZeroUsize::get)
            .unwrap_or(1)
            .min(4)
    } else {
        requested
    };
    wanted.clamp(1, layers.max(1))
}

/// Most layers the compact index can tell apart (layer indexes are stored in 16 bits).
const MAX_INDEX_LAYERS: usize = u16::MAX as usize;

/// Builds the squashed file tree of `image` from its layer blobs (bottom first).
///
/// Runs synchronously (call it from a blocking thread). `dir:` images have no layers and give
/// an empty tree here; use [`crate::open_fs`] to handle every source.
pub fn squash(image: &AcquiredImage, options: &SquashOptions) -> Result<SquashedFs, SquashError> {
    let limits = &options.limits;
    let max_layers = limits.max_layers.min(MAX_INDEX_LAYERS);
    if image.layers.len() > max_layers {
        return Err(SquashError::TooManyLayers {
            count: image.layers.len(),
            limit: max_layers,
        });
    }
    let ctx = ScanContext {
        options,
        budget: ImageBudget {
            total: AtomicU64::new(0),
            max_total: limits.max_total_decompressed_bytes,
            cancelled: AtomicBool::new(false),
        },
        entries_seen: AtomicU64::new(0),
    };
    let (scans, builder) = scan_all(image, &ctx)?;

    let layers: Vec<LayerRef> = image
        .layers
        .iter()
        .map(|l| LayerRef {
            digest: l.digest.clone(),
            diff_id: l.diff_id.clone(),
        })
        .collect();
    let mut stats = SquashStats {
        layers: layers.len(),
        ..SquashStats::default()
    };
    let mut storage = Vec::with_capacity(scans.len());
    let mut warnings = Vec::new();
    for scan in scans {
        stats.tar_entries += scan.stats.tar_entries;
        stats.whiteouts += scan.stats.whiteouts;
        stats.bytes_read += scan.stats.blob_bytes;
        stats.bytes_decompressed += scan.stats.decompressed_bytes;
        stats.per_layer.push(scan.stats);
        storage.push(scan.storage);
        warnings.extend(scan.warnings);
    }
    Ok(builder.finish(layers, storage, warnings, stats))
}

/// Whose turn it is to apply entries to the tree: layers are applied strictly in order.
struct Turn {
    next: AtomicUsize,
    lock: Mutex<()>,
    changed: Condvar,
}

impl Turn {
    fn is(&self, layer: usize) -> bool {
        self.next.load(Ordering::Acquire) == layer
    }

    /// Waits until it is `layer`'s turn; `false` if the run was cancelled meanwhile.
    fn wait_for(&self, layer: usize, cancelled: &AtomicBool) -> bool {
        let Ok(mut guard) = self.lock.lock() else {
            return false;
        };
        loop {
            if self.is(layer) {
                return true;
            }
            if cancelled.load(Ordering::Relaxed) {
                return false;
            }
            guard = match self
                .changed
                .wait_timeout(guard, std::time::Duration::from_millis(50))
            {
                Ok((g, _)) => g,
                Err(_) => return false,
            };
        }
    }

    fn advance(&self, from: usize) {
        let _guard = self.lock.lock();
        self.next.store(from + 1, Ordering::Release);
        self.changed.notify_all();
    }
}

/// Feeds one layer's entries into the tree: straight away while it is this layer's turn,
/// otherwise into a buffer applied when the turn comes. With one layer (or one thread) nothing
/// is ever buffered, so memory holds only the tree, never a whole layer's entry list.
struct Feeder<'a> {
    layer: usize,
    turn: &'a Turn,
    tree: &'a Mutex<tree::TreeBuilder>,
    buffer: Vec<scan::ScannedEntry>,
    direct: Option<std::sync::MutexGuard<'a, tree::TreeBuilder>>,
}

impl<'a> Feeder<'a> {
    fn take_turn(&mut self) -> bool {
        if self.direct.is_none() {
            let Ok(mut guard) = self.tree.lock() else {
                return false;
            };
            for e in self.buffer.drain(..) {
                guard.apply_entry(self.layer, e);
            }
            self.buffer = Vec::new();
            self.direct = Some(guard);
        }
        true
    }

    fn push(&mut self, e: scan::ScannedEntry) {
        if self.direct.is_none() && self.turn.is(self.layer) {
            self.take_turn();
        }
        match &mut self.direct {
            Some(tree) => tree.apply_entry(self.layer, e),
            None => self.buffer.push(e),
        }
    }
}

type Slot = Option<Result<LayerScan, ScanError>>;

/// Reads every layer, several at a time, applying their entries to the tree in layer order;
/// returns the scans in layer order and the tree builder, or the first error (lowest layer
/// index) that was not a cancellation.
fn scan_all(
    image: &AcquiredImage,
    ctx: &ScanContext<'_>,
) -> Result<(Vec<LayerScan>, tree::TreeBuilder), SquashError> {
    let count = image.layers.len();
    let threads = thread_count(ctx.options.threads, count);
    let results: Mutex<Vec<Slot>> = Mutex::new((0..count).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    let turn = Turn {
        next: AtomicUsize::new(0),
        lock: Mutex::new(()),
        changed: Condvar::new(),
    };
    let tree = Mutex::new(tree::TreeBuilder::new());
    let work = || {
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            let Some(blob) = image.layers.get(index) else {
                break;
            };
            let mut feeder = Feeder {
                layer: index,
                turn: &turn,
                tree: &tree,
                buffer: Vec::new(),
                direct: None,
            };
            let mut result = scan_layer(index, blob, ctx, &mut |e| feeder.push(e));
            if result.is_ok()
                && !(turn.wait_for(index, &ctx.budget.cancelled) && feeder.take_turn())
            {
                result = Err(ScanError::Cancelled);
            }
            drop(feeder);
            if result.is_ok() {
                turn.advance(index);
            } else {
                ctx.budget.cancelled.store(true, Ordering::Relaxed);
                let _guard = turn.lock.lock();
                turn.changed.notify_all();
            }
            if let Ok(mut slots) = results.lock()
                && let Some(slot) = slots.get_mut(index)
            {
                *slot = Some(result);
            }
        }
    };
    if threads <= 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    let slots = results.into_inner().map_err(|_| worker_failed(image, 0))?;
    let mut scans = Vec::with_capacity(count);
    let mut cancelled_at = None;
    for (index, slot) in slots.into_iter().enumerate() {
        match slot {
            Some(Ok(scan)) => scans.push(scan),
            Some(Err(ScanError::Failed(e))) => return Err(*e),
            Some(Err(ScanError::Cancelled)) | None => {
                cancelled_at.get_or_insert(index);
            }
        }
    }
    match cancelled_at {
        // Cancellation only happens after a real error, which is returned above; reaching here
        // means a worker died without reporting.
        Some(index) => Err(worker_failed(image, index)),
        None => {
            let tree = tree.into_inner().map_err(|_| worker_failed(image, 0))?;
            Ok((scans, tree))
        }
    }
}

fn worker_failed(image: &AcquiredImage, index: usize) -> SquashError {
    SquashError::Worker {
        layer: LayerId {
            index,
            digest: image.layers.get(index).and_then(|l| l.digest.clone()),
        },
    }
}
