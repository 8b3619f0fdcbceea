//! The decompressed stream of one layer, read in large chunks: every chunk is counted against
//! the limits, hashed for the diff_id and (for compressed layers) appended to the layer's
//! scratch file, so that file contents can later be read back by offset.

use std::fs::File;
use std::io::{self, Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

use sha2::Digest as _;

use crate::limits::LimitKind;
use crate::ratio::RatioExceeded;

/// Chunk size pulled from the decompressor.
const CHUNK: usize = 256 * 1024;

/// Why reading a layer stream stopped.
#[derive(Debug)]
pub(crate) enum ReadFailure {
    /// Decompression or blob read failed (corrupt or truncated blob).
    Decompress(io::Error),
    /// The compressed stream expanded beyond the compression-ratio limit.
    Ratio(RatioExceeded),
    /// A limit was exceeded.
    Limit {
        kind: LimitKind,
        limit: u64,
        path: Option<String>,
    },
    /// Writing the scratch copy failed.
    Scratch(io::Error),
    /// The tar structure is invalid.
    Tar { message: String, offset: u64 },
    /// The stream ended inside an entry.
    Truncated { offset: u64 },
    /// Another layer failed; this one stopped early.
    Cancelled,
}

/// Shared across the layers of one image being squashed.
pub(crate) struct ImageBudget {
    /// Decompressed bytes read so far from all layers.
    pub(crate) total: AtomicU64,
    /// Limit for `total`.
    pub(crate) max_total: u64,
    /// Set when any layer failed, so the others stop.
    pub(crate) cancelled: AtomicBool,
}

/// Digest of the uncompressed stream, in the algorithm of the expected diff_id.
pub(crate) enum StreamHasher {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl StreamHasher {
    fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sha256(h) => h.update(data),
            Self::Sha512(h) => h.update(data),
        }
    }

    fn finish(self) -> String {
        match self {
            Self::Sha256(h) => format!("sha256:{}", hex::encode(h.finalize())),
            Self::Sha512(h) => format!("sha512:{}", hex::encode(h.finalize())),
        }
    }
}

/// What happens to each chunk besides being parsed: hashing and the scratch copy.
type SinkParts = (Option<StreamHasher>, Option<File>);

/// Chunks handed to the sink thread, and returned for reuse once hashed and written.
type Chunk = (Arc<Vec<u8>>, usize);

/// Buffers in flight between the reader and the sink thread (bounds memory to a few chunks).
const PIPELINE_DEPTH: usize = 4;

enum Sink {
    /// Hash and copy on the reading thread.
    Inline(SinkParts),
    /// Hash and copy on a helper thread while the next chunk is decompressed.
    Thread {
        tx: Option<SyncSender<Chunk>>,
        back: Receiver<Arc<Vec<u8>>>,
        handle: Option<JoinHandle<io::Result<SinkParts>>>,
    },
    /// The helper thread could not be started.
    Failed(Option<io::Error>),
}

fn run_sink(
    rx: Receiver<Chunk>,
    back: SyncSender<Arc<Vec<u8>>>,
    mut parts: SinkParts,
) -> io::Result<SinkParts> {
    for (chunk, n) in rx {
        let data = &chunk[..n];
        if let Some(h) = &mut parts.0 {
            h.update(data);
        }
        if let Some(f) = &mut parts.1 {
            f.write_all(data)?;
        }
        // The reader may already be gone; then the buffer is simply dropped.
        let _ = back.try_send(chunk);
    }
    Ok(parts)
}

/// A buffered, counted, hashed and optionally copied view of a decompressed layer.
pub(crate) struct Tee<'a> {
    inner: Box<dyn Read + Send>,
    /// Current chunk; shared with the sink thread while it hashes and copies it.
    cur: Arc<Vec<u8>>,
    start: usize,
    end: usize,
    /// Stream offset of `cur[start]`.
    pos: u64,
    /// Bytes pulled from `inner`.
    total: u64,
    max_layer: u64,
    budget: &'a ImageBudget,
    sink: Sink,
    eof: bool,
}

impl<'a> Tee<'a> {
    /// `pipelined`: hash and copy on a helper thread (only when there is work for it).
    pub(crate) fn new(
        inner: Box<dyn Read + Send>,
        max_layer: u64,
        budget: &'a ImageBudget,
        hasher: Option<StreamHasher>,
        scratch: Option<File>,
        pipelined: bool,
    ) -> Self {
        let has_work = hasher.is_some() || scratch.is_some();
        let sink = if pipelined && has_work {
            let (tx, rx) = sync_channel::<Chunk>(PIPELINE_DEPTH);
            let (back_tx, back) = sync_channel(PIPELINE_DEPTH + 2);
            let spawned = std::thread::Builder::new()
                .name("anchorage-layer-sink".to_string())
                .spawn(move || run_sink(rx, back_tx, (hasher, scratch)));
            match spawned {
                Ok(handle) => Sink::Thread {
                    tx: Some(tx),
                    back,
                    handle: Some(handle),
                },
                // No thread available: reported at the first chunk.
                Err(e) => Sink::Failed(Some(e)),
            }
        } else {
            Sink::Inline((hasher, scratch))
        };
        Self {
            inner,
            cur: Arc::new(Vec::new()),
            start: 0,
            end: 0,
            pos: 0,
            total: 0,
            max_layer,
            budget,
            sink,
            eof: false,
        }
    }

    /// Stream offset of the next byte to be consumed.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// The sink thread stopped: its error, or a generic one.
    fn sink_failure(&mut self) -> ReadFailure {
        if let Sink::Thread { tx, handle, .. } = &mut self.sink {
            tx.take();
            if let Some(h) = handle.take() {
                return match h.join() {
                    Ok(Err(e)) => ReadFailure::Scratch(e),
                    _ => ReadFailure::Scratch(io::Error::other("layer sink thread stopped")),
                };
            }
        }
        ReadFailure::Scratch(io::Error::other("layer sink thread stopped"))
    }

    /// A chunk buffer to read into: the previous one when nobody else holds it, one the sink
    /// thread gave back, or a new one. Never blocks: back-pressure comes from the bounded
    /// channel to the sink, so no input can make the reader wait forever here.
    fn take_buffer(&mut self) -> Vec<u8> {
        let old = std::mem::replace(&mut self.cur, Arc::new(Vec::new()));
        if let Ok(v) = Arc::try_unwrap(old)
            && v.len() == CHUNK
        {
            return v;
        }
        if let Sink::Thread { back, .. } = &self.sink {
            while let Ok(returned) = back.try_recv() {
                if let Ok(v) = Arc::try_unwrap(returned) {
                    return v;
                }
            }
        }
        vec![0u8; CHUNK]
    }

    /// Ensures there are buffered bytes; returns false at end of stream.
    fn fill(&mut self) -> Result<bool, ReadFailure> {
        if self.start < self.end {
            return Ok(true);
        }
        if self.eof {
            return Ok(false);
        }
        if self.budget.cancelled.load(Ordering::Relaxed) {
            return Err(ReadFailure::Cancelled);
        }
        let mut buf = self.take_buffer();
        let n = loop {
            match self.inner.read(&mut buf) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    return Err(match RatioExceeded::from_io(&e) {
                        Some(found) => ReadFailure::Ratio(found),
                        None => ReadFailure::Decompress(e),
                    });
                }
            }
        };
        if n == 0 {
            self.eof = true;
            self.cur = Arc::new(buf);
            self.start = 0;
            self.end = 0;
            return Ok(false);
        }
        self.total += n as u64;
        if self.total > self.max_layer {
            return Err(ReadFailure::Limit {
                kind: LimitKind::LayerDecompressedBytes,
                limit: self.max_layer,
                path: None,
            });
        }
        let before = self.budget.total.fetch_add(n as u64, Ordering::Relaxed);
        if before.saturating_add(n as u64) > self.budget.max_total {
            return Err(ReadFailure::Limit {
                kind: LimitKind::TotalDecompressedBytes,
                limit: self.budget.max_total,
                path: None,
            });
        }
        let chunk = Arc::new(buf);
        match &mut self.sink {
            Sink::Inline((hasher, scratch)) => {
                if let Some(h) = hasher {
                    h.update(&chunk[..n]);
                }
                if let Some(f) = scratch {
                    f.write_all(&chunk[..n]).map_err(ReadFailure::Scratch)?;
                }
            }
            Sink::Failed(e) => {
                return Err(ReadFailure::Scratch(e.take().unwrap_or_else(|| {
                    io::Error::other("layer sink thread could not be started")
                })));
            }
            Sink::Thread { tx, .. } => {
                let sent = tx
                    .as_ref()
                    .is_some_and(|tx| tx.send((Arc::clone(&chunk), n)).is_ok());
                if !sent {
                    return Err(self.sink_failure());
                }
            }
        }
        self.cur = chunk;
        self.start = 0;
        self.end = n;
        Ok(true)
    }

    /// Reads up to `out.len()` bytes, stopping only at end of stream; returns the count.
    pub(crate) fn read_full(&mut self, out: &mut [u8]) -> Result<usize, ReadFailure> {
        let mut filled = 0;
        while filled < out.len() {
            if !self.fill()? {
                break;
            }
            let n = (self.end - self.start).min(out.len() - filled);
            out[filled..filled + n].copy_from_slice(&self.cur[self.start..self.start + n]);
            self.start += n;
            self.pos += n as u64;
            filled += n;
        }
        Ok(filled)
    }

    /// Reads exactly `n` bytes into a new vector (callers bound `n`).
    pub(crate) fn read_vec(&mut self, n: usize) -> Result<Vec<u8>, ReadFailure> {
        let mut v = vec![0u8; n];
        let got = self.read_full(&mut v)?;
        if got < n {
            return Err(ReadFailure::Truncated { offset: self.pos });
        }
        Ok(v)
    }

    /// Skips exactly `n` bytes.
    pub(crate) fn skip(&mut self, mut n: u64) -> Result<(), ReadFailure> {
        while n > 0 {
            if !self.fill()? {
                return Err(ReadFailure::Truncated { offset: self.pos });
            }
            let avail = (self.end - self.start) as u64;
            let step = avail.min(n);
            // step <= avail, which is a usize
            self.start += usize::try_from(step).unwrap_or(self.end - self.start);
            self.pos += step;
            n -= step;
        }
        Ok(())
    }

    /// Reads the rest of the stream (trailing zero blocks, gzip trailer) so the digest covers it.
    pub(crate) fn drain(&mut self) -> Result<(), ReadFailure> {
        while self.fill()? {
            self.pos += (self.end - self.start) as u64;
            self.start = self.end;
        }
        Ok(())
    }

    /// Finishes the stream: (computed digest if hashing, bytes read, scratch file).
    pub(crate) fn finish(mut self) -> Result<(Option<String>, u64, Option<File>), ReadFailure> {
        let sink = std::mem::replace(&mut self.sink, Sink::Inline((None, None)));
        let (hasher, scratch) = match sink {
            Sink::Inline(parts) => parts,
            Sink::Failed(e) => {
                return Err(ReadFailure::Scratch(e.unwrap_or_else(|| {
                    io::Error::other("layer sink thread could not be started")
                })));
            }
            Sink::Thread {
                mut tx, mut handle, ..
            } => {
                // Closing the channel lets the sink finish the queued chunks and return.
                tx.take();
                match handle.take().map(JoinHandle::join) {
                    Some(Ok(Ok(parts))) => parts,
                    Some(Ok(Err(e))) => return Err(ReadFailure::Scratch(e)),
                    _ => {
                        return Err(ReadFailure::Scratch(io::Error::other(
                            "layer sink thread stopped",
                        )));
                    }
                }
            }
        };
        Ok((hasher.map(StreamHasher::finish), self.total, scratch))
    }
}

impl Drop for Tee<'_> {
    fn drop(&mut self) {
        // On early errors: stop the sink thread and wait for it, so no thread outlives the
        // squash call.
        if let Sink::Thread { tx, handle, .. } = &mut self.sink {
            tx.take();
            if let Some(h) = handle.take() {
                let _ = h.join();
            }
        }
    }
}
