//! Content-addressed blob cache on disk: `<root>/<algorithm>/<hex>`.
//!
//! Blobs are written to a temporary file in `<root>/tmp` while their size and digest are
//! computed; only a blob whose digest (and size, when known) matches is renamed into place. A
//! mismatching blob is deleted and reported. Readers therefore only ever see verified blobs.

use anchorage_types::ErrorKind;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use anchorage_types::Digest;
use sha2::{Digest as _, Sha256, Sha512};

/// Why storing a blob failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// Filesystem error on the cache directory.
    #[error("blob cache {path}: {source}")]
    Io {
        /// File or directory at fault.
        path: PathBuf,
        /// Underlying error.
        #[source]
        source: io::Error,
    },
    /// Reading the blob's source failed.
    #[error("reading blob {digest}: {source}")]
    Read {
        /// Blob being read.
        digest: Digest,
        /// Underlying error.
        #[source]
        source: io::Error,
    },
    /// The content's digest differs from the expected one; the blob was deleted.
    #[error("blob {expected} failed verification: content hashes to {actual} (blob deleted)")]
    DigestMismatch {
        /// Digest the blob was announced with.
        expected: Digest,
        /// Digest of the bytes received.
        actual: String,
    },
    /// The content's size differs from the expected one; the blob was deleted.
    #[error(
        "blob {digest} failed verification: expected {expected} bytes, got {actual} (blob deleted)"
    )]
    SizeMismatch {
        /// Blob at fault.
        digest: Digest,
        /// Announced size.
        expected: u64,
        /// Bytes received (so far, when it was too many).
        actual: u64,
    },
    /// The blob is larger than the configured limit.
    #[error("blob {digest} is larger than the limit of {limit} bytes")]
    TooLarge {
        /// Blob at fault.
        digest: Digest,
        /// The configured limit.
        limit: u64,
    },
}

impl CacheError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            // The cache directory is ours: its failures are local, not the caller's.
            CacheError::Io { .. } => ErrorKind::Internal,
            CacheError::Read { source, .. } => match source.kind() {
                io::ErrorKind::TimedOut => ErrorKind::Timeout,
                io::ErrorKind::NotFound => ErrorKind::NotFound,
                _ => ErrorKind::Upstream,
            },
            CacheError::DigestMismatch { .. } | CacheError::SizeMismatch { .. } => {
                ErrorKind::Upstream
            }
            CacheError::TooLarge { .. } => ErrorKind::LimitExceeded,
        }
    }
}

enum Hasher {
    Sha256(Sha256),
    Sha512(Sha512),
}

/// Streaming verifier: feed bytes with [`Verifier::update`], then [`Verifier::finish`].
pub(crate) struct Verifier {
    hasher: Hasher,
    expected: Digest,
    expected_size: Option<u64>,
    limit: u64,
    seen: u64,
}

impl Verifier {
    /// A verifier for `expected` (and `expected_size` when known), refusing more than `limit`.
    pub(crate) fn new(expected: &Digest, expected_size: Option<u64>, limit: u64) -> Self {
        let hasher = match expected.algorithm() {
            "sha512" => Hasher::Sha512(Sha512::new()),
            _ => Hasher::Sha256(Sha256::new()),
        };
        Self {
            hasher,
            expected: expected.clone(),
            expected_size,
            limit,
            seen: 0,
        }
    }

    /// Hashes `data`; fails as soon as the size limit or the announced size is exceeded.
    pub(crate) fn update(&mut self, data: &[u8]) -> Result<(), CacheError> {
        self.seen += data.len() as u64;
        if self.seen > self.limit {
            return Err(CacheError::TooLarge {
                digest: self.expected.clone(),
                limit: self.limit,
            });
        }
        if let Some(size) = self.expected_size
            && self.seen > size
        {
            return Err(CacheError::SizeMismatch {
                digest: self.expected.clone(),
                expected: size,
                actual: self.seen,
            });
        }
        match &mut self.hasher {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sha512(h) => h.update(data),
        }
        Ok(())
    }

    /// Checks the final size and digest.
    pub(crate) fn finish(self) -> Result<u64, CacheError> {
        if let Some(size) = self.expected_size
            && self.seen != size
        {
            return Err(CacheError::SizeMismatch {
                digest: self.expected,
                expected: size,
                actual: self.seen,
            });
        }
        let hex = match self.hasher {
            Hasher::Sha256(h) => hex::encode(h.finalize()),
            Hasher::Sha512(h) => hex::encode(h.finalize()),
        };
        if hex != self.expected.encoded() {
            return Err(CacheError::DigestMismatch {
                actual: format!("{}:{hex}", self.expected.algorithm()),
                expected: self.expected,
            });
        }
        Ok(self.seen)
    }
}

/// Computes the sha256 digest of `bytes`.
pub(crate) fn sha256_digest(bytes: &[u8]) -> Digest {
    let hex = hex::encode(Sha256::digest(bytes));
    // A 64-char lower-case hex string always forms a valid digest.
    Digest::sha256_hex(&hex).unwrap_or_else(|_| unreachable_digest())
}

#[allow(clippy::panic)]
fn unreachable_digest() -> Digest {
    panic!("hex::encode of a sha256 output is always a valid digest")
}

/// A content-addressed blob cache rooted at a directory.
#[derive(Debug, Clone)]
pub struct BlobCache {
    root: PathBuf,
}

impl BlobCache {
    /// Opens (creating if needed) a cache rooted at `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, CacheError> {
        let root = root.into();
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp).map_err(|source| CacheError::Io {
            path: tmp.clone(),
            source,
        })?;
        Ok(Self { root })
    }

    /// The cache directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the blob `digest` lives (whether or not it is present).
    pub fn path_for(&self, digest: &Digest) -> PathBuf {
        self.root.join(digest.algorithm()).join(digest.encoded())
    }

    /// Whether a verified blob is present (with the given size, when known).
    pub fn contains(&self, digest: &Digest, size: Option<u64>) -> bool {
        match fs::metadata(self.path_for(digest)) {
            Ok(m) => m.is_file() && size.is_none_or(|s| m.len() == s),
            Err(_) => false,
        }
    }

    /// A fresh temporary file inside the cache (same filesystem, so renames are atomic).
    pub(crate) fn temp_file(&self) -> Result<tempfile::NamedTempFile, CacheError> {
        let dir = self.root.join("tmp");
        tempfile::NamedTempFile::new_in(&dir).map_err(|source| CacheError::Io { path: dir, source })
    }

    /// Moves a verified temporary file into place and returns the blob's path.
    pub(crate) fn commit(
        &self,
        temp: tempfile::NamedTempFile,
        digest: &Digest,
    ) -> Result<PathBuf, CacheError> {
        let dest = self.path_for(digest);
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|source| CacheError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        temp.persist(&dest).map_err(|e| CacheError::Io {
            path: dest.clone(),
            source: e.error,
        })?;
        Ok(dest)
    }

    /// Copies `reader` into the cache as blob `digest`, verifying size and digest while
    /// streaming. Returns the blob path. An already present blob is not rewritten.
    pub fn ingest(
        &self,
        mut reader: impl Read,
        digest: &Digest,
        size: Option<u64>,
        limit: u64,
    ) -> Result<PathBuf, CacheError> {
        if self.contains(digest, size) {
            return Ok(self.path_for(digest));
        }
        let mut verifier = Verifier::new(digest, size, limit);
        let mut temp = self.temp_file()?;
        let mut buf = vec![0u8; 128 * 1024];
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(CacheError::Read {
                        digest: digest.clone(),
                        source,
                    });
                }
            };
            // On error the temp file is dropped, which deletes it.
            verifier.update(&buf[..n])?;
            temp.write_all(&buf[..n]).map_err(|source| CacheError::Io {
                path: temp.path().to_path_buf(),
                source,
            })?;
        }
        verifier.finish()?;
        self.commit(temp, digest)
    }

    /// Copies `reader` into the cache under the sha256 of its content (for sources that do not
    /// announce digests). Returns the digest, path and size.
    pub(crate) fn ingest_unverified(
        &self,
        mut reader: impl Read,
        limit: u64,
        what: &str,
    ) -> Result<(Digest, PathBuf, u64), CacheError> {
        let mut hasher = Sha256::new();
        let mut temp = self.temp_file()?;
        let mut buf = vec![0u8; 128 * 1024];
        let mut seen = 0u64;
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(source) => {
                    return Err(CacheError::Io {
                        path: PathBuf::from(what),
                        source,
                    });
                }
            };
            seen += n as u64;
            if seen > limit {
                return Err(CacheError::Io {
                    path: PathBuf::from(what),
                    source: io::Error::other(format!("larger than the limit of {limit} bytes")),
                });
            }
            hasher.update(&buf[..n]);
            temp.write_all(&buf[..n]).map_err(|source| CacheError::Io {
                path: temp.path().to_path_buf(),
                source,
            })?;
        }
        let digest = Digest::sha256_hex(&hex::encode(hasher.finalize()))
            .unwrap_or_else(|_| unreachable_digest());
        let path = self.commit(temp, &digest)?;
        Ok((digest, path, seen))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingests_and_verifies() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::open(dir.path()).unwrap();
        let data = b"hello blob";
        let d = sha256_digest(data);
        let p = cache.ingest(&data[..], &d, Some(10), 100).unwrap();
        assert_eq!(fs::read(&p).unwrap(), data);
        assert!(cache.contains(&d, Some(10)));
    }

    #[test]
    fn synthetic_mismatches_leave_nothing_behind() {
        let dir = tempfile::tempdir().unwrap();
        let cache = BlobCache::open(dir.path()).unwrap();
        let d = sha256_digest(b"expected");
        let err = cache.ingest(&b"other"[..], &d, None, 100).unwrap_err();
        assert!(matches!(err, CacheError::DigestMismatch { .. }), "{err}");
        let err = cache
            .ingest(&b"expected"[..], &d, Some(3), 100)
            .unwrap_err();
        assert!(matches!(err, CacheError::SizeMismatch { .. }), "{err}");
        let err = cache.ingest(&b"expected"[..], &d, None, 4).unwrap_err();
        assert!(matches!(err, CacheError::TooLarge { .. }), "{err}");
        assert!(!cache.contains(&d, None));
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}
