//! Opening a layer blob: compression detected from content, decompressed as a stream.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use anchorage_types::Digest;
use serde::{Deserialize, Serialize};

use crate::ratio::{CountingReader, RatioGuard, RatioLimit};

/// Identifies a layer in errors and statistics: its position (bottom first) and blob digest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LayerId {
    /// Index of the layer, bottom first.
    pub index: usize,
    /// Blob digest, when known.
    pub digest: Option<Digest>,
}

impl fmt::Display for LayerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.digest {
            Some(d) => write!(f, "layer {} ({d})", self.index),
            None => write!(f, "layer {}", self.index),
        }
    }
}

/// Compression of a layer blob, detected from its first bytes (never from the media type).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip (`1f 8b`), possibly several concatenated members.
    Gzip,
    /// zstd (`28 b5 2f fd`), possibly several frames.
    Zstd,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::None => "none",
            Self::Gzip => "gzip",
            Self::Zstd => "zstd",
        })
    }
}

const GZIP_MAGIC: &[u8] = &[0x1f, 0x8b];
const ZSTD_MAGIC: &[u8] = &[0x28, 0xb5, 0x2f, 0xfd];
const XZ_MAGIC: &[u8] = &[0xfd, b'7', b'z', b'X', b'Z', 0x00];
const BZIP2_MAGIC: &[u8] = b"BZh";

/// Input buffer size for blob reads.
const INPUT_BUFFER: usize = 256 * 1024;

/// Result of sniffing a blob's first bytes.
pub(crate) enum Detected {
    /// A format we read.
    Known(Compression),
    /// A compression we recognize but do not read (named for the error).
    Unsupported(&'static str),
}

/// Detects the compression from the first bytes of a blob.
pub(crate) fn detect(head: &[u8]) -> Detected {
    if head.starts_with(GZIP_MAGIC) {
        return Detected::Known(Compression::Gzip);
    }
    if head.starts_with(ZSTD_MAGIC) {
        return Detected::Known(Compression::Zstd);
    }
    // A tar header carries "ustar" at offset 257; only blobs without it are checked for other
    // compressions, so a tar whose first name happens to start with "BZh" is still a tar.
    let is_ustar = head.get(257..262) == Some(b"ustar".as_slice());
    if !is_ustar {
        if head.starts_with(XZ_MAGIC) {
            return Detected::Unsupported("xz");
        }
        if head.starts_with(BZIP2_MAGIC) && head.get(3).is_some_and(|b| (b'1'..=b'9').contains(b)) {
            return Detected::Unsupported("bzip2");
        }
    }
    Detected::Known(Compression::None)
}

/// An opened layer: the decompressed tar stream and what was detected.
pub(crate) struct OpenedLayer {
    /// Decompressed tar bytes.
    pub(crate) reader: Box<dyn Read + Send>,
    /// Detected compression.
    pub(crate) compression: Compression,
    /// Size of the blob file in bytes.
    pub(crate) blob_size: u64,
}

/// Why a blob could not be opened.
pub(crate) enum OpenError {
    /// Reading the file failed.
    Io(io::Error),
    /// A compression we do not read.
    Unsupported(&'static str),
}

/// Opens `path`, sniffs its compression and returns a decompressing reader; a compressed
/// stream fails (with a [`crate::ratio::RatioExceeded`] inside the `io::Error`) once it expands
/// beyond `ratio`.
pub(crate) fn open_layer(path: &Path, ratio: RatioLimit) -> Result<OpenedLayer, OpenError> {
    let file = File::open(path).map_err(OpenError::Io)?;
    let blob_size = file.metadata().map_err(OpenError::Io)?.len();
    let (counting, compressed) = CountingReader::new(file);
    let mut input = BufReader::with_capacity(INPUT_BUFFER, counting);
    // fill_buf may return fewer bytes than a header; read until we have 512 or EOF.
    let head = peek(&mut input, 512).map_err(OpenError::Io)?;
    let compression = match detect(&head) {
        Detected::Known(c) => c,
        Detected::Unsupported(name) => return Err(OpenError::Unsupported(name)),
    };
    let reader: Box<dyn Read + Send> = match compression {
        Compression::None => Box::new(input),
        Compression::Gzip => Box::new(RatioGuard::new(
            flate2::bufread::MultiGzDecoder::new(input),
            compressed,
            |d| d.get_ref().buffer().len(),
            ratio,
        )),
        Compression::Zstd => Box::new(RatioGuard::new(
            zstd::stream::read::Decoder::with_buffer(input).map_err(OpenError::Io)?,
            compressed,
            |d| d.get_ref().buffer().len(),
            ratio,
        )),
    };
    Ok(OpenedLayer {
        reader,
        compression,
        blob_size,
    })
}

/// Returns up to `n` first bytes without consuming them. `BufReader` only exposes its current
/// buffer, so a short first read is completed by hand from a fresh buffered view.
fn peek(input: &mut BufReader<CountingReader<File>>, n: usize) -> io::Result<Vec<u8>> {
    let buffered = input.fill_buf()?;
    if buffered.len() >= n || buffered.is_empty() {
        return Ok(buffered[..buffered.len().min(n)].to_vec());
    }
    // Rare: a short read from the file. Fall back to positioned reads on the handle.
    let mut head = vec![0u8; n];
    let mut filled = 0;
    let file = input.get_ref().get_ref();
    while filled < n {
        let read = std::os::unix::fs::FileExt::read_at(file, &mut head[filled..], filled as u64)?;
        if read == 0 {
            break;
        }
        filled += read;
    }
    head.truncate(filled);
    Ok(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_by_magic() {
        assert!(matches!(
            detect(&[0x1f, 0x8b, 8, 0]),
            Detected::Known(Compression::Gzip)
        ));
        assert!(matches!(
            detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Detected::Known(Compression::Zstd)
        ));
        assert!(matches!(
            detect(b"BZh91AY&SY"),
            Detected::Unsupported("bzip2")
        ));
        assert!(matches!(
            detect(&[0xfd, b'7', b'z', b'X', b'Z', 0, 0]),
            Detected::Unsupported("xz")
        ));
        let mut tar_head = vec![0u8; 512];
        tar_head[..4].copy_from_slice(b"BZh9");
        tar_head[257..262].copy_from_slice(b"ustar");
        assert!(matches!(
            detect(&tar_head),
            Detected::Known(Compression::None)
        ));
        assert!(matches!(detect(&[]), Detected::Known(Compression::None)));
    }
}
