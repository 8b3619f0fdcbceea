//! The decompressed stream of one layer, read in large chunks: every chunk is counted against
//! the limits and hashed for the diff_id, and (for compressed layers) the contents of regular
//! files in it are appended to the layer's scratch file, so that they can later be read back
//! by offset.
//!
//! Only file contents go to the scratch file, not the tar headers and padding around them: an
//! image of 3 million small files is 3 GB of tar but 0.1 GB of content, and writing the whole
//! tar to the page cache was the part of the time per file that grew with the file count
//! (issue 15). The tar parser tells the stream which byte ranges are file contents
//! ([`Tee::keep_data`]) before it reads past them; a chunk goes to the sink (hash and copy) once
//! the parser has moved past it, so every range in it is known by then.

use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
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
type SinkParts = (Option<StreamHasher>, Option<BufWriter<File>>);

/// A chunk handed to the sink thread (its length, and the (start, end) ranges of file contents
/// in it to copy), returned for reuse once hashed and written.
type Chunk = (Arc<Vec<u8>>, usize, Vec<(usize, usize)>);

/// Buffer of the scratch writer: file contents come in pieces as small as a few bytes.
const SCRATCH_BUFFER: usize = 256 * 1024;

/// Hashes a whole chunk and copies its content ranges to the scratch file.
fn consume(parts: &mut SinkParts, data: &[u8], ranges: &[(usize, usize)]) -> io::Result<()> {
    if let Some(h) = &mut parts.0 {
        h.update(data);
    }
    if let Some(f) = &mut parts.1 {
        for &(start, end) in ranges {
            if let Some(piece) = data.get(start..end) {
                f.write_all(piece)?;
            }
        }
    }
    Ok(())
}

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
    for (chunk, n, ranges) in rx {
        consume(&mut parts, &chunk[..n], &ranges)?;
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
    /// A scratch file is written (only file contents are copied to it).
    copying: bool,
    /// Stream ranges [start, end) of file contents not yet handed to the sink, in order.
    keep: VecDeque<(u64, u64)>,
    /// Bytes of file contents registered so far (the scratch offset of the next range).
    kept: u64,
    /// Stream offset of `cur[0]`, and whether `cur` went to the sink already.
    cur_offset: u64,
    cur_sent: bool,
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
        let copying = scratch.is_some();
        let scratch = scratch.map(|f| BufWriter::with_capacity(SCRATCH_BUFFER, f));
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
            copying,
            keep: VecDeque::new(),
            kept: 0,
            cur_offset: 0,
            cur_sent: true,
        }
    }

    /// Registers `len` bytes of file content at stream offset `offset` (not yet consumed; ranges
    /// come in stream order) and returns where they will be in the layer's storage: the scratch
    /// offset when a scratch copy is written, else `offset` itself (the blob is read back in
    /// place).
    pub(crate) fn keep_data(&mut self, offset: u64, len: u64) -> u64 {
        if !self.copying {
            return offset;
        }
        let at = self.kept;
        if len > 0 {
            self.keep.push_back((offset, offset.saturating_add(len)));
            self.kept = self.kept.saturating_add(len);
        }
        at
    }

    /// Hands the current chunk to the sink (hash, and copy of the content ranges in it) once the
    /// parser is done with it.
    fn retire(&mut self) -> Result<(), ReadFailure> {
        if self.cur_sent {
            return Ok(());
        }
        self.cur_sent = true;
        let n = self.end;
        let chunk_end = self.cur_offset + n as u64;
        let mut ranges = Vec::new();
        while let Some(&(start, end)) = self.keep.front() {
            if start >= chunk_end {
                break;
            }
            let from = start.max(self.cur_offset) - self.cur_offset;
            let to = end.min(chunk_end) - self.cur_offset;
            // both within the chunk, so they fit in a usize
            ranges.push((
                usize::try_from(from).unwrap_or(n),
                usize::try_from(to).unwrap_or(n),
            ));
            if end > chunk_end {
                break;
            }
            self.keep.pop_front();
        }
        let chunk = Arc::clone(&self.cur);
        match &mut self.sink {
            Sink::Inline(parts) => {
                consume(parts, &chunk[..n], &ranges).map_err(ReadFailure::Scratch)?;
            }
            Sink::Failed(e) => {
                return Err(ReadFailure::Scratch(e.take().unwrap_or_else(|| {
                    io::Error::other("layer sink thread could not be started")
                })));
            }
            Sink::Thread { tx, .. } => {
                let sent = tx
                    .as_ref()
                    .is_some_and(|tx| tx.send((chunk, n, ranges)).is_ok());
                if !sent {
                    return Err(self.sink_failure());
                }
            }
        }
        Ok(())
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
        self.retire()?;
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
        if let Sink::Failed(e) = &mut self.sink {
            return Err(ReadFailure::Scratch(e.take().unwrap_or_else(|| {
                io::Error::other("layer sink thread could not be started")
            })));
        }
        self.cur_offset = self.pos;
        self.cur = Arc::new(buf);
        self.cur_sent = false;
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
        self.retire()?;
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
        let scratch = match scratch.map(BufWriter::into_inner).transpose() {
            Ok(f) => f,
            Err(e) => return Err(ReadFailure::Scratch(e.into_error())),
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
