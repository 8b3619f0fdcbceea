//! Streaming tar header iteration over a layer [`Tee`] or an archive file ([`TarSource`]).
//!
//! Hand-written on top of `tar::Header` (which parses the fields) instead of using
//! `tar::Archive::entries`, because `Archive` reads GNU long names and PAX headers fully into
//! memory with no bound; here every extension header is checked against [`Limits`] before it is
//! read, so memory stays bounded by the number of entries whatever the input. The same reader
//! walks image layers (over a [`Tee`]) and the outer docker-archive / oci-archive tar files.

use crate::limits::{LimitKind, Limits};
use crate::squash::tee::{ReadFailure, Tee};

const BLOCK: u64 = 512;

/// One file-system entry of the archive, with extension headers applied.
pub(crate) struct TarEntry {
    /// Raw path bytes (PAX `path`, GNU long name, or ustar prefix + name).
    pub(crate) path: Vec<u8>,
    /// Raw link target bytes, if any.
    pub(crate) link: Option<Vec<u8>>,
    /// Entry type.
    pub(crate) entry_type: tar::EntryType,
    /// Permission bits.
    pub(crate) mode: u32,
    /// Owner.
    pub(crate) uid: u64,
    /// Group.
    pub(crate) gid: u64,
    /// Modification time, seconds.
    pub(crate) mtime: i64,
    /// Logical size of the file.
    pub(crate) size: u64,
    /// Stream offset of the entry's data.
    pub(crate) data_offset: u64,
    /// GNU sparse file: the stored data is not the file content byte for byte.
    pub(crate) sparse: bool,
}

/// A byte stream a [`TarStream`] walks: sequential reads with a known position.
pub(crate) trait TarSource {
    /// Stream offset of the next byte to be consumed.
    fn position(&self) -> u64;
    /// Reads up to `out.len()` bytes, stopping only at end of stream; returns the count.
    fn read_full(&mut self, out: &mut [u8]) -> Result<usize, ReadFailure>;
    /// Skips exactly `n` bytes.
    fn skip(&mut self, n: u64) -> Result<(), ReadFailure>;

    /// Registers the `len` bytes at `offset` (not yet read) as a file's contents and returns
    /// where they can be read back later; a plain file source keeps its own offsets.
    fn keep_data(&mut self, offset: u64, _len: u64) -> u64 {
        offset
    }

    /// Reads exactly `n` bytes into a new vector (callers bound `n`).
    fn read_vec(&mut self, n: usize) -> Result<Vec<u8>, ReadFailure> {
        let mut v = vec![0u8; n];
        let got = self.read_full(&mut v)?;
        if got < n {
            return Err(ReadFailure::Truncated {
                offset: self.position(),
            });
        }
        Ok(v)
    }
}

impl TarSource for Tee<'_> {
    fn position(&self) -> u64 {
        Tee::position(self)
    }
    fn read_full(&mut self, out: &mut [u8]) -> Result<usize, ReadFailure> {
        Tee::read_full(self, out)
    }
    fn skip(&mut self, n: u64) -> Result<(), ReadFailure> {
        Tee::skip(self, n)
    }
    fn read_vec(&mut self, n: usize) -> Result<Vec<u8>, ReadFailure> {
        Tee::read_vec(self, n)
    }
    fn keep_data(&mut self, offset: u64, len: u64) -> u64 {
        Tee::keep_data(self, offset, len)
    }
}

/// Iterates the entries of a tar stream.
pub(crate) struct TarStream<'t, S> {
    tee: &'t mut S,
    limits: &'t Limits,
    next_header: u64,
}

fn round_up(n: u64) -> Option<u64> {
    n.checked_add(BLOCK - 1).map(|v| v & !(BLOCK - 1))
}

fn tar_error(message: impl Into<String>, offset: u64) -> ReadFailure {
    ReadFailure::Tar {
        message: message.into(),
        offset,
    }
}

fn trim_nul(mut v: Vec<u8>) -> Vec<u8> {
    if let Some(i) = v.iter().position(|b| *b == 0) {
        v.truncate(i);
    }
    v
}

#[derive(Default)]
struct Pending {
    long_name: Option<Vec<u8>>,
    long_link: Option<Vec<u8>>,
    pax: Option<Vec<u8>>,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.long_name.is_none() && self.long_link.is_none() && self.pax.is_none()
    }
}

impl<'t, S: TarSource> TarStream<'t, S> {
    pub(crate) fn new(tee: &'t mut S, limits: &'t Limits) -> Self {
        Self {
            tee,
            limits,
            next_header: 0,
        }
    }

    /// The underlying stream (the current entry's data is next in it).
    pub(crate) fn tee(&mut self) -> &mut S {
        self.tee
    }

    fn read_extension(
        &mut self,
        size: u64,
        limit: u64,
        kind: LimitKind,
    ) -> Result<Vec<u8>, ReadFailure> {
        if size > limit {
            return Err(ReadFailure::Limit {
                kind,
                limit,
                path: None,
            });
        }
        let len = usize::try_from(size)
            .map_err(|_| tar_error("extension header too large", self.tee.position()))?;
        self.tee.read_vec(len)
    }

    /// The next entry, or `None` at the end of the archive.
    pub(crate) fn next_entry(&mut self) -> Result<Option<TarEntry>, ReadFailure> {
        let mut pending = Pending::default();
        let max_path = self.limits.max_path_len as u64;
        loop {
            let here = self.tee.position();
            if self.next_header > here {
                self.tee.skip(self.next_header - here)?;
            }
            let header_offset = self.tee.position();
            let mut block = [0u8; 512];
            let got = self.tee.read_full(&mut block)?;
            if got == 0 || (got == block.len() && block.iter().all(|b| *b == 0)) {
                if !pending.is_empty() {
                    return Err(tar_error(
                        "extension header without a following entry",
                        header_offset,
                    ));
                }
                return Ok(None);
            }
            if got < block.len() {
                return Err(ReadFailure::Truncated {
                    offset: header_offset + got as u64,
                });
            }
            let header = tar::Header::from_byte_slice(&block);
            verify_checksum(header, header_offset)?;
            let entry_type = header.entry_type();
            let stored = header
                .entry_size()
                .map_err(|e| tar_error(format!("bad size field: {e}"), header_offset))?;
            let data_start = self.tee.position();
            let stored_end = round_up(stored)
                .and_then(|s| data_start.checked_add(s))
                .ok_or_else(|| tar_error("size overflow", header_offset))?;
            match entry_type {
                tar::EntryType::GNULongName => {
                    let v = self.read_extension(stored, max_path + 1, LimitKind::PathLength)?;
                    pending.long_name = Some(trim_nul(v));
                    self.next_header = stored_end;
                    continue;
                }
                tar::EntryType::GNULongLink => {
                    let v = self.read_extension(stored, max_path + 1, LimitKind::PathLength)?;
                    pending.long_link = Some(trim_nul(v));
                    self.next_header = stored_end;
                    continue;
                }
                tar::EntryType::XHeader => {
                    let v = self.read_extension(
                        stored,
                        self.limits.max_pax_header_bytes,
                        LimitKind::PaxHeaderBytes,
                    )?;
                    pending.pax = Some(v);
                    self.next_header = stored_end;
                    continue;
                }
                tar::EntryType::XGlobalHeader => {
                    // Global PAX headers carry defaults that images do not rely on; bounded and
                    // skipped.
                    if stored > self.limits.max_pax_header_bytes {
                        return Err(ReadFailure::Limit {
                            kind: LimitKind::PaxHeaderBytes,
                            limit: self.limits.max_pax_header_bytes,
                            path: None,
                        });
                    }
                    self.next_header = stored_end;
                    continue;
                }
                _ => {}
            }
            return self
                .finish_entry(header, entry_type, stored, pending, header_offset)
                .map(Some);
        }
    }

    fn finish_entry(
        &mut self,
        header: &tar::Header,
        entry_type: tar::EntryType,
        stored: u64,
        pending: Pending,
        header_offset: u64,
    ) -> Result<TarEntry, ReadFailure> {
        let mut path = pending
            .long_name
            .unwrap_or_else(|| header.path_bytes().into_owned());
        let mut link = pending
            .long_link
            .or_else(|| header.link_name_bytes().map(|l| l.into_owned()));
        let mut uid = header.uid().unwrap_or(0);
        let mut gid = header.gid().unwrap_or(0);
        let mut mtime = i64::try_from(header.mtime().unwrap_or(0)).unwrap_or(0);
        let mut data_len = stored;
        if let Some(pax) = &pending.pax {
            for ext in tar::PaxExtensions::new(pax) {
                let ext =
                    ext.map_err(|e| tar_error(format!("invalid pax header: {e}"), header_offset))?;
                let value = ext.value_bytes();
                match ext.key_bytes() {
                    b"path" => path = value.to_vec(),
                    b"linkpath" => link = Some(value.to_vec()),
                    b"size" => {
                        data_len = parse_decimal(value)
                            .ok_or_else(|| tar_error("invalid pax size", header_offset))?;
                    }
                    b"uid" => uid = parse_decimal(value).unwrap_or(uid),
                    b"gid" => gid = parse_decimal(value).unwrap_or(gid),
                    b"mtime" => {
                        // "seconds[.fraction]", possibly negative
                        let whole = value.split(|b| *b == b'.').next().unwrap_or_default();
                        if let Some(t) =
                            std::str::from_utf8(whole).ok().and_then(|s| s.parse().ok())
                        {
                            mtime = t;
                        }
                    }
                    _ => {}
                }
            }
        }
        let mut size = data_len;
        let sparse = entry_type.is_gnu_sparse();
        if sparse {
            let gnu = header
                .as_gnu()
                .ok_or_else(|| tar_error("sparse entry without a gnu header", header_offset))?;
            size = gnu
                .real_size()
                .map_err(|e| tar_error(format!("bad sparse size: {e}"), header_offset))?;
            let mut extended = gnu.is_extended();
            while extended {
                let mut ext = tar::GnuExtSparseHeader::new();
                let got = self.tee.read_full(ext.as_mut_bytes())?;
                if got < BLOCK as usize {
                    return Err(ReadFailure::Truncated {
                        offset: self.tee.position(),
                    });
                }
                extended = ext.is_extended();
            }
        }
        let data_offset = self.tee.position();
        self.next_header = round_up(data_len)
            .and_then(|s| data_offset.checked_add(s))
            .ok_or_else(|| tar_error("size overflow", header_offset))?;
        // Only the contents of readable regular files are ever read back.
        let readable = matches!(
            entry_type,
            tar::EntryType::Regular | tar::EntryType::Continuous
        ) && !sparse;
        let data_offset = if readable {
            self.tee.keep_data(data_offset, data_len)
        } else {
            data_offset
        };
        Ok(TarEntry {
            path,
            link,
            entry_type,
            mode: header.mode().unwrap_or(0) & 0o7777,
            uid,
            gid,
            mtime,
            size,
            data_offset,
            sparse,
        })
    }
}

fn parse_decimal(v: &[u8]) -> Option<u64> {
    std::str::from_utf8(v).ok()?.trim().parse().ok()
}

fn verify_checksum(header: &tar::Header, offset: u64) -> Result<(), ReadFailure> {
    let bytes = header.as_bytes();
    let unsigned: u32 = bytes[..148]
        .iter()
        .chain(&bytes[156..])
        .map(|b| u32::from(*b))
        .sum::<u32>()
        + 8 * 32;
    let expected = header
        .cksum()
        .map_err(|e| tar_error(format!("bad checksum field: {e}"), offset))?;
    if unsigned != expected {
        // Some old writers summed signed bytes.
        let signed: i64 = bytes[..148]
            .iter()
            .chain(&bytes[156..])
            .map(|b| i64::from(*b as i8))
            .sum::<i64>()
            + 8 * 32;
        if signed != i64::from(expected) {
            return Err(tar_error("header checksum mismatch", offset));
        }
    }
    Ok(())
}
