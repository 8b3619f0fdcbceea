//! The rpm header blob as rpmdb stores it: `il` and `dl` (big-endian u32), `il` index entries of
//! 16 bytes (tag, type, offset, count), then `dl` bytes of data. Hand-written: the format is
//! small and stable, and the `rpm` crate reads whole package files with heavy dependencies.

use anchorage_types::ErrorKind;

/// Tags we read.
mod tag {
    pub(super) const NAME: u32 = 1000;
    pub(super) const VERSION: u32 = 1001;
    pub(super) const RELEASE: u32 = 1002;
    pub(super) const EPOCH: u32 = 1003;
    pub(super) const SIZE: u32 = 1009;
    pub(super) const VENDOR: u32 = 1011;
    pub(super) const LICENSE: u32 = 1014;
    pub(super) const ARCH: u32 = 1022;
    pub(super) const OLDFILENAMES: u32 = 1027;
    pub(super) const FILESIZES: u32 = 1028;
    pub(super) const FILEMODES: u32 = 1030;
    pub(super) const FILEDIGESTS: u32 = 1035;
    pub(super) const FILEFLAGS: u32 = 1037;
    pub(super) const FILEUSERNAME: u32 = 1039;
    pub(super) const FILEGROUPNAME: u32 = 1040;
    pub(super) const SOURCERPM: u32 = 1044;
    pub(super) const PROVIDENAME: u32 = 1047;
    pub(super) const REQUIRENAME: u32 = 1049;
    pub(super) const DIRINDEXES: u32 = 1116;
    pub(super) const BASENAMES: u32 = 1117;
    pub(super) const DIRNAMES: u32 = 1118;
    pub(super) const LONGSIZE: u32 = 5009;
    pub(super) const FILEDIGESTALGO: u32 = 5011;
    pub(super) const MODULARITYLABEL: u32 = 5096;
}

const TYPE_INT8: u32 = 2;
const TYPE_INT16: u32 = 3;
const TYPE_INT32: u32 = 4;
const TYPE_INT64: u32 = 5;
const TYPE_STRING: u32 = 6;
const TYPE_STRING_ARRAY: u32 = 8;
const TYPE_I18NSTRING: u32 = 9;

/// Largest number of index entries accepted (rpm's own limit is 0xffff).
const MAX_INDEX_ENTRIES: usize = 0x10000;
/// Largest data store accepted (rpm's own limit is 256 MiB).
const MAX_DATA_LEN: usize = 256 * 1024 * 1024;

/// Bounds on what one header may make us build. File paths are directory name + base name,
/// and one long directory name shared by many base names would otherwise multiply: a 7 MB
/// header can describe a terabyte of paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderLimits {
    /// Longest accepted directory name (`DIRNAMES` entry), bytes.
    pub max_dir_name_len: usize,
    /// Most bytes of file paths built from one header (all paths together).
    pub max_path_bytes: u64,
}

impl Default for HeaderLimits {
    fn default() -> Self {
        Self {
            max_dir_name_len: 4096,
            max_path_bytes: 64 * 1024 * 1024,
        }
    }
}

/// One file an rpm header lists.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpmFile {
    /// Absolute path.
    pub path: String,
    /// Hex digest, empty for directories and links.
    pub digest: Option<String>,
    /// File mode (type and permission bits).
    pub mode: Option<u32>,
    /// Size in bytes.
    pub size: Option<u64>,
    /// Owner name.
    pub user: Option<String>,
    /// Group name.
    pub group: Option<String>,
    /// rpm file flags (config, doc, ...).
    pub flags: Option<u32>,
}

/// The fields of a header that the catalog uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpmHeader {
    /// NAME.
    pub name: String,
    /// EPOCH.
    pub epoch: Option<u64>,
    /// VERSION.
    pub version: String,
    /// RELEASE.
    pub release: String,
    /// ARCH.
    pub arch: Option<String>,
    /// SOURCERPM.
    pub source_rpm: Option<String>,
    /// LICENSE.
    pub license: Option<String>,
    /// VENDOR.
    pub vendor: Option<String>,
    /// SIZE or LONGSIZE.
    pub size: Option<u64>,
    /// MODULARITYLABEL.
    pub modularity_label: Option<String>,
    /// Digest algorithm name of the file digests (`md5`, `sha1`, `sha256`, ...).
    pub digest_algorithm: String,
    /// Files.
    pub files: Vec<RpmFile>,
    /// PROVIDENAME: capabilities provided (`bash`, `libc.so.6()(64bit)`, `config(bash)`).
    pub provides: Vec<String>,
    /// REQUIRENAME: capabilities and file paths required (`/bin/sh`, `libc.so.6()(64bit)`).
    pub requires: Vec<String>,
}

/// Why a header blob was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HeaderError {
    /// Shorter than its own declared sizes.
    #[error("header blob truncated: {0}")]
    Truncated(String),
    /// Declared sizes beyond the limits.
    #[error("header blob sizes out of range: {0} index entries, {1} data bytes")]
    TooLarge(usize, usize),
    /// No NAME or VERSION tag.
    #[error("header blob has no {0} tag")]
    Missing(&'static str),
    /// The header asks for more than a [`HeaderLimits`] bound.
    #[error("header of {package}: {what} {value} exceeds the limit of {limit}")]
    Limit {
        /// Package NAME.
        package: String,
        /// What was too large.
        what: &'static str,
        /// Its value (bytes).
        value: u64,
        /// The configured limit.
        limit: u64,
    },
}

impl HeaderError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            HeaderError::Truncated(_) | HeaderError::Missing(_) => ErrorKind::InvalidInput,
            HeaderError::TooLarge(..) | HeaderError::Limit { .. } => ErrorKind::LimitExceeded,
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct IndexEntry {
    tag: u32,
    kind: u32,
    offset: usize,
    count: usize,
}

fn be32(bytes: &[u8], at: usize) -> Option<u32> {
    let b = bytes.get(at..at.checked_add(4)?)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

struct Blob<'a> {
    entries: Vec<IndexEntry>,
    data: &'a [u8],
}

impl<'a> Blob<'a> {
    fn find(&self, tag: u32) -> Option<IndexEntry> {
        self.entries.iter().copied().find(|e| e.tag == tag)
    }

    fn strings(&self, tag: u32) -> Vec<String> {
        let Some(e) = self.find(tag) else {
            return Vec::new();
        };
        if !matches!(e.kind, TYPE_STRING | TYPE_STRING_ARRAY | TYPE_I18NSTRING) {
            return Vec::new();
        }
        let count = if e.kind == TYPE_STRING { 1 } else { e.count };
        let mut out = Vec::with_capacity(count.min(65536));
        let mut at = e.offset;
        for _ in 0..count {
            let Some(rest) = self.data.get(at..) else {
                break;
            };
            let Some(end) = rest.iter().position(|&b| b == 0) else {
                break;
            };
            out.push(String::from_utf8_lossy(&rest[..end]).into_owned());
            at += end + 1;
        }
        out
    }

    fn string(&self, tag: u32) -> Option<String> {
        self.strings(tag).into_iter().next()
    }

    fn ints(&self, tag: u32) -> Vec<u64> {
        let Some(e) = self.find(tag) else {
            return Vec::new();
        };
        let width = match e.kind {
            TYPE_INT8 => 1,
            TYPE_INT16 => 2,
            TYPE_INT32 => 4,
            TYPE_INT64 => 8,
            _ => return Vec::new(),
        };
        let mut out = Vec::with_capacity(e.count.min(65536));
        for i in 0..e.count {
            let Some(start) = i.checked_mul(width).and_then(|o| o.checked_add(e.offset)) else {
                break;
            };
            let Some(b) = self.data.get(start..start + width) else {
                break;
            };
            let v = b.iter().fold(0u64, |acc, &x| (acc << 8) | u64::from(x));
            out.push(v);
        }
        out
    }

    fn int(&self, tag: u32) -> Option<u64> {
        self.ints(tag).into_iter().next()
    }
}

/// Parses a header blob with the default [`HeaderLimits`]. Never panics; a blob without NAME
/// or VERSION is an error.
pub fn parse_header(bytes: &[u8]) -> Result<RpmHeader, HeaderError> {
    parse_header_with_limits(bytes, &HeaderLimits::default())
}

/// Parses a header blob; file paths are bounded by `limits`.
pub fn parse_header_with_limits(
    bytes: &[u8],
    limits: &HeaderLimits,
) -> Result<RpmHeader, HeaderError> {
    let il = be32(bytes, 0).ok_or_else(|| HeaderError::Truncated("no index count".into()))?;
    let dl = be32(bytes, 4).ok_or_else(|| HeaderError::Truncated("no data length".into()))?;
    let il = usize::try_from(il).unwrap_or(usize::MAX);
    let dl = usize::try_from(dl).unwrap_or(usize::MAX);
    if il > MAX_INDEX_ENTRIES || dl > MAX_DATA_LEN {
        return Err(HeaderError::TooLarge(il, dl));
    }
    let data_start = 8 + il * 16;
    let data = bytes.get(data_start..data_start + dl).ok_or_else(|| {
        HeaderError::Truncated(format!(
            "{} bytes, header declares {}",
            bytes.len(),
            data_start + dl
        ))
    })?;
    let mut entries = Vec::with_capacity(il);
    for i in 0..il {
        let at = 8 + i * 16;
        let (Some(tag), Some(kind), Some(offset), Some(count)) = (
            be32(bytes, at),
            be32(bytes, at + 4),
            be32(bytes, at + 8),
            be32(bytes, at + 12),
        ) else {
            return Err(HeaderError::Truncated(format!("index entry {i}")));
        };
        entries.push(IndexEntry {
            tag,
            kind,
            offset: usize::try_from(offset).unwrap_or(usize::MAX),
            count: usize::try_from(count).unwrap_or(0),
        });
    }
    let blob = Blob { entries, data };
    let name = blob.string(tag::NAME).ok_or(HeaderError::Missing("NAME"))?;
    let version = blob
        .string(tag::VERSION)
        .ok_or(HeaderError::Missing("VERSION"))?;
    let digest_algorithm = match blob.int(tag::FILEDIGESTALGO) {
        None | Some(1) => "md5",
        Some(2) => "sha1",
        Some(8) => "sha256",
        Some(9) => "sha384",
        Some(10) => "sha512",
        Some(11) => "sha224",
        Some(_) => "unknown",
    }
    .to_string();
    let files = files(&blob, limits).map_err(|(what, value, limit)| HeaderError::Limit {
        package: name.clone(),
        what,
        value,
        limit,
    })?;
    Ok(RpmHeader {
        epoch: blob.int(tag::EPOCH),
        release: blob.string(tag::RELEASE).unwrap_or_default(),
        arch: blob.string(tag::ARCH),
        source_rpm: blob
            .string(tag::SOURCERPM)
            .filter(|s| !s.is_empty() && s != "(none)"),
        license: blob.string(tag::LICENSE),
        vendor: blob.string(tag::VENDOR),
        size: blob.int(tag::LONGSIZE).or_else(|| blob.int(tag::SIZE)),
        modularity_label: blob.string(tag::MODULARITYLABEL),
        provides: blob.strings(tag::PROVIDENAME),
        requires: blob.strings(tag::REQUIRENAME),
        files,
        digest_algorithm,
        name,
        version,
    })
}

/// A limit that was exceeded: (what, value, limit).
type Exceeded = (&'static str, u64, u64);

fn files(blob: &Blob<'_>, limits: &HeaderLimits) -> Result<Vec<RpmFile>, Exceeded> {
    let basenames = blob.strings(tag::BASENAMES);
    let paths: Vec<String> = if basenames.is_empty() {
        // Each old file name is stored whole in the data, so it cannot multiply; still bounded.
        let names = blob.strings(tag::OLDFILENAMES);
        let total: u64 = names.iter().map(|n| n.len() as u64).sum();
        if total > limits.max_path_bytes {
            return Err(("total file path bytes", total, limits.max_path_bytes));
        }
        names
    } else {
        let dirnames = blob.strings(tag::DIRNAMES);
        if let Some(long) = dirnames.iter().find(|d| d.len() > limits.max_dir_name_len) {
            return Err((
                "directory name length",
                long.len() as u64,
                limits.max_dir_name_len as u64,
            ));
        }
        let dirindexes = blob.ints(tag::DIRINDEXES);
        let dir_of = |i: usize| {
            dirindexes
                .get(i)
                .and_then(|d| usize::try_from(*d).ok())
                .and_then(|d| dirnames.get(d))
                .map_or("", String::as_str)
        };
        // Sized before anything is built: the sum, not the allocation, meets the limit.
        let mut total = 0u64;
        for (i, base) in basenames.iter().enumerate() {
            total = total.saturating_add((dir_of(i).len() + base.len()) as u64);
            if total > limits.max_path_bytes {
                return Err(("total file path bytes", total, limits.max_path_bytes));
            }
        }
        basenames
            .iter()
            .enumerate()
            .map(|(i, base)| format!("{}{base}", dir_of(i)))
            .collect()
    };
    let digests = blob.strings(tag::FILEDIGESTS);
    let modes = blob.ints(tag::FILEMODES);
    let sizes = blob.ints(tag::FILESIZES);
    let users = blob.strings(tag::FILEUSERNAME);
    let groups = blob.strings(tag::FILEGROUPNAME);
    let flags = blob.ints(tag::FILEFLAGS);
    Ok(paths
        .into_iter()
        .enumerate()
        .map(|(i, path)| RpmFile {
            path,
            digest: digests.get(i).filter(|d| !d.is_empty()).cloned(),
            mode: modes.get(i).and_then(|m| u32::try_from(*m).ok()),
            size: sizes.get(i).copied(),
            user: users.get(i).cloned(),
            group: groups.get(i).cloned(),
            flags: flags.get(i).and_then(|m| u32::try_from(*m).ok()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a header blob from (tag, type, count, data) entries.
    fn blob(entries: &[(u32, u32, u32, Vec<u8>)]) -> Vec<u8> {
        let mut index = Vec::new();
        let mut data = Vec::new();
        for (tag, kind, count, bytes) in entries {
            while kind == &TYPE_INT32 && data.len() % 4 != 0 {
                data.push(0);
            }
            for v in [*tag, *kind, u32::try_from(data.len()).unwrap(), *count] {
                index.extend_from_slice(&v.to_be_bytes());
            }
            data.extend_from_slice(bytes);
        }
        let mut out = Vec::new();
        out.extend_from_slice(&u32::try_from(entries.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&u32::try_from(data.len()).unwrap().to_be_bytes());
        out.extend_from_slice(&index);
        out.extend_from_slice(&data);
        out
    }

    /// A header whose `bases` empty base names all point at one `dir_len`-byte directory.
    fn multiplying_header(dir_len: usize, bases: u32) -> Vec<u8> {
        let mut dir = vec![b'a'; dir_len];
        dir[0] = b'/';
        dir.push(0);
        blob(&[
            (tag::NAME, TYPE_STRING, 1, b"bomb\0".to_vec()),
            (tag::VERSION, TYPE_STRING, 1, b"1\0".to_vec()),
            (tag::DIRNAMES, TYPE_STRING_ARRAY, 1, dir),
            (
                tag::BASENAMES,
                TYPE_STRING_ARRAY,
                bases,
                vec![0u8; bases as usize],
            ),
            (
                tag::DIRINDEXES,
                TYPE_INT32,
                bases,
                vec![0u8; 4 * bases as usize],
            ),
        ])
    }

    #[test]
    fn hostile_header_multiplying_a_long_directory_name_is_refused() {
        // 7 MB of header: one 2 MB directory name shared by 1M empty base names asks for
        // 2 TB of paths.
        let header = multiplying_header(2 << 20, 1 << 20);
        assert!(header.len() < 8 << 20);
        let err = parse_header(&header).unwrap_err();
        assert!(
            matches!(&err, HeaderError::Limit { package, what: "directory name length", value, limit: 4096 } if package == "bomb" && *value == 2 << 20),
            "{err}"
        );
        // short directory names, but too many of them: the total is bounded before building
        let header = multiplying_header(4000, 1 << 20);
        let err = parse_header(&header).unwrap_err();
        assert!(
            matches!(&err, HeaderError::Limit { what: "total file path bytes", limit, .. } if *limit == 64 << 20),
            "{err}"
        );
        assert!(err.to_string().contains("header of bomb"), "{err}");
    }

    #[test]
    fn synthetic_header_limits_are_configurable() {
        let header = multiplying_header(100, 1000);
        let parsed = parse_header(&header).unwrap();
        assert_eq!(parsed.files.len(), 1000);
        assert_eq!(parsed.files[0].path.len(), 100);
        let tight = HeaderLimits {
            max_dir_name_len: 50,
            ..HeaderLimits::default()
        };
        assert!(parse_header_with_limits(&header, &tight).is_err());
        let tight = HeaderLimits {
            max_path_bytes: 99_999,
            ..HeaderLimits::default()
        };
        assert!(matches!(
            parse_header_with_limits(&header, &tight),
            Err(HeaderError::Limit {
                what: "total file path bytes",
                value: 100_000,
                limit: 99_999,
                ..
            })
        ));
    }

    #[test]
    fn synthetic_truncated_blobs_are_errors() {
        assert!(parse_header(b"").is_err());
        assert!(parse_header(&[0, 0, 0, 1, 0, 0, 0, 0]).is_err());
        assert!(matches!(
            parse_header(&[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]),
            Err(HeaderError::TooLarge(..))
        ));
    }
}
