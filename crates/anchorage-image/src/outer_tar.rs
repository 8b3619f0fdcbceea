//! The outer tar of a docker-archive or oci-archive, walked with the layer reader's
//! [`TarStream`]: GNU long names, long links and PAX headers are size-checked against
//! [`Limits`] before they are read (`tar::Archive` reads them whole, unbounded), and member
//! data is read through [`MemberReader`] or skipped with a seek.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Seek};
use std::path::Path;

use crate::limits::Limits;
use crate::squash::tar_stream::{TarEntry, TarSource, TarStream};
use crate::squash::tee::ReadFailure;

/// Read buffer of the archive file.
const BUFFER: usize = 256 * 1024;

/// An archive file read sequentially; skips are seeks.
pub(crate) struct FileSource {
    input: BufReader<File>,
    pos: u64,
    len: u64,
}

impl FileSource {
    /// Opens `path`.
    pub(crate) fn open(path: &Path) -> io::Result<Self> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        Ok(Self {
            input: BufReader::with_capacity(BUFFER, file),
            pos: 0,
            len,
        })
    }
}

impl TarSource for FileSource {
    fn position(&self) -> u64 {
        self.pos
    }

    fn read_full(&mut self, out: &mut [u8]) -> Result<usize, ReadFailure> {
        let mut filled = 0;
        while filled < out.len() {
            match self.input.read(&mut out[filled..]) {
                Ok(0) => break,
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(ReadFailure::Decompress(e)),
            }
        }
        self.pos += filled as u64;
        Ok(filled)
    }

    fn skip(&mut self, n: u64) -> Result<(), ReadFailure> {
        let target = self
            .pos
            .checked_add(n)
            .filter(|t| *t <= self.len)
            .ok_or(ReadFailure::Truncated { offset: self.len })?;
        let buffered = self.input.buffer().len() as u64;
        if n <= buffered {
            // n fits in the buffer, so it fits in usize
            self.input.consume(usize::try_from(n).unwrap_or(0));
        } else {
            self.input
                .seek(io::SeekFrom::Start(target))
                .map_err(ReadFailure::Decompress)?;
        }
        self.pos = target;
        Ok(())
    }
}

/// Reads the data of the current member: at most `remaining` bytes from the source.
pub(crate) struct MemberReader<'s, S> {
    source: &'s mut S,
    remaining: u64,
}

impl<'s, S: TarSource> MemberReader<'s, S> {
    /// The next `size` bytes of `source`.
    pub(crate) fn new(source: &'s mut S, size: u64) -> Self {
        Self {
            source,
            remaining: size,
        }
    }
}

impl<S: TarSource> Read for MemberReader<'_, S> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let want = usize::try_from(self.remaining)
            .unwrap_or(usize::MAX)
            .min(buf.len());
        if want == 0 {
            return Ok(0);
        }
        let got = self
            .source
            .read_full(&mut buf[..want])
            .map_err(|f| io::Error::other(describe(f)))?;
        if got == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "archive ends inside a member",
            ));
        }
        self.remaining -= got as u64;
        Ok(got)
    }
}

/// Limits for the outer archive's own headers (names and PAX records; member sizes are bounded
/// by the blob and manifest limits of [`crate::AcquireOptions`]).
pub(crate) fn outer_limits() -> Limits {
    Limits::default()
}

/// Walks `source` entry by entry; `visit` gets each entry and the stream (to read its data).
pub(crate) fn for_each_entry<S: TarSource, E>(
    source: &mut S,
    limits: &Limits,
    mut visit: impl FnMut(TarEntry, &mut S) -> Result<(), E>,
    fail: impl Fn(String) -> E,
) -> Result<(), E> {
    let mut stream = TarStream::new(source, limits);
    while let Some(entry) = stream.next_entry().map_err(|f| fail(describe(f)))? {
        visit(entry, stream.tee())?;
    }
    Ok(())
}

/// A reader failure as a sentence for the archive error.
pub(crate) fn describe(failure: ReadFailure) -> String {
    match failure {
        ReadFailure::Limit { kind, limit, path } => format!(
            "{kind} limit of {limit} exceeded{}",
            path.map(|p| format!(" at {p}")).unwrap_or_default()
        ),
        ReadFailure::Tar { message, offset } => format!("corrupt tar at byte {offset}: {message}"),
        ReadFailure::Truncated { offset } => format!("tar ends inside an entry at byte {offset}"),
        ReadFailure::Decompress(e) | ReadFailure::Scratch(e) => format!("read failed: {e}"),
        ReadFailure::Ratio(r) => r.to_string(),
        ReadFailure::Cancelled => "cancelled".to_string(),
    }
}
