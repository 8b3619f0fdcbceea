//! The compression-ratio guard of a layer: refuses a decompression bomb early instead of
//! decompressing (and copying to scratch) every byte up to the size limits.
//!
//! Two readers share one counter: [`CountingReader`] sits under the decompressor and counts the
//! compressed bytes it pulls from the blob file; [`RatioGuard`] sits over the decompressor and,
//! once more than a grace amount has come out, fails the read as soon as the output is more than
//! `max_ratio` times the compressed input consumed so far. The grace amount keeps small layers
//! with a high ratio (a few MiB of tar padding, an empty file of zeros) from being refused.

use std::fmt;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// The ratio check settings of one layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RatioLimit {
    /// Highest accepted decompressed-to-compressed ratio; `0` disables the check.
    pub(crate) max_ratio: u64,
    /// Decompressed bytes always accepted before the ratio is checked.
    pub(crate) grace_bytes: u64,
}

/// The error a [`RatioGuard`] read fails with (inside an [`io::Error`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct RatioExceeded {
    /// Decompressed bytes produced so far.
    pub(crate) decompressed: u64,
    /// Compressed bytes read from the blob so far.
    pub(crate) compressed: u64,
    /// The configured limit.
    pub(crate) limit: u64,
}

impl RatioExceeded {
    /// The observed ratio, rounded down.
    pub(crate) fn ratio(&self) -> u64 {
        self.decompressed / self.compressed.max(1)
    }

    /// Finds a ratio failure inside an I/O error returned by the decompressing reader.
    pub(crate) fn from_io(e: &io::Error) -> Option<Self> {
        e.get_ref()
            .and_then(|inner| inner.downcast_ref::<Self>())
            .copied()
    }
}

impl fmt::Display for RatioExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "compression ratio {}:1 above the limit of {}:1",
            self.ratio(),
            self.limit
        )
    }
}

impl std::error::Error for RatioExceeded {}

/// Counts the bytes read through it into a shared counter.
pub(crate) struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> CountingReader<R> {
    /// Wraps `inner`; returns the reader and the counter it updates.
    pub(crate) fn new(inner: R) -> (Self, Arc<AtomicU64>) {
        let count = Arc::new(AtomicU64::new(0));
        (
            Self {
                inner,
                count: Arc::clone(&count),
            },
            count,
        )
    }
}

impl<R> CountingReader<R> {
    /// The wrapped reader.
    pub(crate) fn get_ref(&self) -> &R {
        &self.inner
    }
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Fails the stream once its output outgrows the compressed input by more than the limit.
pub(crate) struct RatioGuard<R> {
    inner: R,
    compressed: Arc<AtomicU64>,
    /// Compressed bytes read ahead but not yet decompressed (the input buffer's fill).
    unconsumed: fn(&R) -> usize,
    decompressed: u64,
    limit: RatioLimit,
}

impl<R: Read> RatioGuard<R> {
    /// Guards the decompressed stream `inner`; `compressed` counts the blob bytes read and
    /// `unconsumed` tells how many of them still wait in the decompressor's input buffer.
    pub(crate) fn new(
        inner: R,
        compressed: Arc<AtomicU64>,
        unconsumed: fn(&R) -> usize,
        limit: RatioLimit,
    ) -> Self {
        Self {
            inner,
            compressed,
            unconsumed,
            decompressed: 0,
            limit,
        }
    }

    fn check(&self) -> Result<(), RatioExceeded> {
        if self.limit.max_ratio == 0 || self.decompressed <= self.limit.grace_bytes {
            return Ok(());
        }
        let compressed = self
            .compressed
            .load(Ordering::Relaxed)
            .saturating_sub((self.unconsumed)(&self.inner) as u64);
        if self.decompressed > compressed.saturating_mul(self.limit.max_ratio) {
            return Err(RatioExceeded {
                decompressed: self.decompressed,
                compressed,
                limit: self.limit.max_ratio,
            });
        }
        Ok(())
    }
}

impl<R: Read> Read for RatioGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.decompressed = self.decompressed.saturating_add(n as u64);
        self.check().map_err(io::Error::other)?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader producing `len` zeros.
    struct Zeros(u64);

    impl Read for Zeros {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = usize::try_from(self.0).unwrap_or(usize::MAX).min(buf.len());
            buf[..n].fill(0);
            self.0 -= n as u64;
            Ok(n)
        }
    }

    fn drain(mut r: impl Read) -> io::Result<u64> {
        let mut buf = vec![0u8; 64 * 1024];
        let mut total = 0;
        loop {
            match r.read(&mut buf)? {
                0 => return Ok(total),
                n => total += n as u64,
            }
        }
    }

    #[test]
    fn synthetic_ratio_within_grace_is_accepted() {
        let counter = Arc::new(AtomicU64::new(1));
        let limit = RatioLimit {
            max_ratio: 10,
            grace_bytes: 1 << 20,
        };
        // 1 MiB out of one compressed byte: inside the grace amount.
        assert_eq!(
            drain(RatioGuard::new(Zeros(1 << 20), counter, |_| 0, limit)).unwrap(),
            1 << 20
        );
    }

    #[test]
    fn hostile_ratio_above_limit_after_grace_is_refused() {
        let counter = Arc::new(AtomicU64::new(1000));
        let limit = RatioLimit {
            max_ratio: 100,
            grace_bytes: 1 << 20,
        };
        let err = drain(RatioGuard::new(Zeros(8 << 20), counter, |_| 0, limit)).unwrap_err();
        let found = RatioExceeded::from_io(&err).unwrap();
        assert_eq!(found.limit, 100);
        assert!(found.decompressed > 1 << 20 && found.decompressed <= (1 << 20) + 64 * 1024);
        assert!(found.ratio() > 100, "{found}");
        assert!(
            err.to_string().contains("above the limit of 100:1"),
            "{err}"
        );
    }

    #[test]
    fn synthetic_disabled_ratio_and_counting() {
        let (mut counting, count) = CountingReader::new(Zeros(5000));
        assert_eq!(drain(&mut counting).unwrap(), 5000);
        assert_eq!(count.load(Ordering::Relaxed), 5000);
        let limit = RatioLimit {
            max_ratio: 0,
            grace_bytes: 0,
        };
        let counter = Arc::new(AtomicU64::new(1));
        assert_eq!(
            drain(RatioGuard::new(Zeros(4 << 20), counter, |_| 0, limit)).unwrap(),
            4 << 20
        );
    }
}
