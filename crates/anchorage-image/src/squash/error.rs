//! Errors of squashing: each names the layer (index and digest) and, when known, the path.

use anchorage_types::ErrorKind;
use std::io;
use std::path::PathBuf;

use anchorage_types::Digest;

use crate::layer::{Compression, LayerId};
use crate::limits::LimitKind;

fn at(path: Option<&String>) -> String {
    path.map(|p| format!(" at {p}")).unwrap_or_default()
}

/// Why an image could not be turned into a file tree.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SquashError {
    /// The blob file could not be opened or read.
    #[error("{layer}: cannot read blob {}: {source}", path.display())]
    Blob {
        /// Layer at fault.
        layer: LayerId,
        /// Blob file.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: io::Error,
    },
    /// The blob uses a compression we do not read.
    #[error("{layer}: unsupported layer compression {compression}")]
    UnsupportedCompression {
        /// Layer at fault.
        layer: LayerId,
        /// Detected compression name.
        compression: String,
    },
    /// Decompression failed: the blob is corrupt or truncated.
    #[error("{layer}: corrupt or truncated {compression} stream{}: {source}", at(path.as_ref()))]
    Corrupt {
        /// Layer at fault.
        layer: LayerId,
        /// Detected compression.
        compression: Compression,
        /// Entry being read when it failed, if any.
        path: Option<String>,
        /// Underlying error.
        #[source]
        source: io::Error,
    },
    /// A gzip or zstd layer expands far beyond its compressed size: a decompression bomb.
    #[error(
        "{layer}: {compression} stream expands {ratio}:1 ({decompressed} bytes from {compressed} compressed), above the compression ratio limit of {limit}:1 (limits.max_compression_ratio)"
    )]
    CompressionRatio {
        /// Layer at fault.
        layer: LayerId,
        /// Detected compression.
        compression: Compression,
        /// Observed decompressed-to-compressed ratio, rounded down.
        ratio: u64,
        /// The configured limit.
        limit: u64,
        /// Decompressed bytes produced when the stream was refused.
        decompressed: u64,
        /// Compressed bytes read by then.
        compressed: u64,
    },
    /// The tar structure is invalid.
    #[error("{layer}: invalid tar at byte {offset}{}: {message}", at(path.as_ref()))]
    InvalidTar {
        /// Layer at fault.
        layer: LayerId,
        /// Offset in the uncompressed stream.
        offset: u64,
        /// Entry before the fault, if any.
        path: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// The tar stream ended inside an entry.
    #[error("{layer}: tar stream ends inside an entry at byte {offset}{} (truncated blob)", at(path.as_ref()))]
    Truncated {
        /// Layer at fault.
        layer: LayerId,
        /// Offset in the uncompressed stream.
        offset: u64,
        /// Entry being read, if any.
        path: Option<String>,
    },
    /// A configured limit was exceeded.
    #[error("{layer}: {kind} limit of {limit} exceeded{}", at(path.as_ref()))]
    LimitExceeded {
        /// Layer at fault.
        layer: LayerId,
        /// Which limit.
        kind: LimitKind,
        /// Its configured value.
        limit: u64,
        /// Entry at fault, if any.
        path: Option<String>,
    },
    /// The uncompressed stream does not hash to the config's diff_id.
    #[error("{layer}: diff_id mismatch: expected {expected}, computed {actual}")]
    DiffIdMismatch {
        /// Layer at fault.
        layer: LayerId,
        /// diff_id from the image config (boxed to keep the error small).
        expected: Box<Digest>,
        /// Digest of what was read.
        actual: String,
    },
    /// The scratch copy of a layer could not be written.
    #[error("{layer}: cannot write scratch copy{}: {source}", dir.as_ref().map(|d| format!(" in {}", d.display())).unwrap_or_default())]
    Scratch {
        /// Layer at fault.
        layer: LayerId,
        /// Scratch directory, if configured.
        dir: Option<PathBuf>,
        /// Underlying error.
        #[source]
        source: io::Error,
    },
    /// The image has more layers than allowed.
    #[error("image has {count} layers, above the layer count limit of {limit}")]
    TooManyLayers {
        /// Layers in the image.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A `dir:` root could not be read.
    #[error("dir root {}: {message}", path.display())]
    DirRoot {
        /// Host path at fault.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A worker thread failed unexpectedly.
    #[error("squash worker thread failed for {layer}")]
    Worker {
        /// Layer being processed.
        layer: LayerId,
    },
}

impl SquashError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            SquashError::Blob { source, .. } => ErrorKind::of_io(source),
            SquashError::UnsupportedCompression { .. } => ErrorKind::Unsupported,
            SquashError::Corrupt { .. }
            | SquashError::InvalidTar { .. }
            | SquashError::Truncated { .. }
            | SquashError::DiffIdMismatch { .. } => ErrorKind::InvalidInput,
            SquashError::LimitExceeded { .. }
            | SquashError::TooManyLayers { .. }
            | SquashError::CompressionRatio { .. } => ErrorKind::LimitExceeded,
            SquashError::Scratch { .. } | SquashError::Worker { .. } => ErrorKind::Internal,
            SquashError::DirRoot { .. } => ErrorKind::InvalidInput,
        }
    }
}
