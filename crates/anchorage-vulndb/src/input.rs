//! Reading record files out of a zip archive or a local folder, with explicit limits.

use std::io::{Cursor, Read};
use std::path::{Path, PathBuf};

use crate::error::VulnDbError;

/// Limits applied while reading feeds. Every limit is explicit and configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single record (bytes, uncompressed); larger records are counted as malformed.
    pub max_record_bytes: u64,
    /// Largest download or local document (bytes).
    pub max_document_bytes: u64,
    /// Most entries read from one archive or folder.
    pub max_entries: usize,
    /// HTTP timeout per request, seconds.
    pub http_timeout_secs: u64,
    /// Pause between NVD API pages (NVD asks for about 6 s without an API key).
    pub nvd_page_delay_ms: u64,
    /// Most NVD API pages fetched in one sync.
    pub max_nvd_pages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_record_bytes: 4 << 20,
            max_document_bytes: 2 << 30,
            max_entries: 2_000_000,
            http_timeout_secs: 300,
            nvd_page_delay_ms: 6000,
            max_nvd_pages: 1000,
        }
    }
}

/// One record file: its name inside the archive or folder and its bytes, or why it was skipped.
#[derive(Debug)]
pub(crate) struct RecordFile {
    pub(crate) name: String,
    pub(crate) content: Result<Vec<u8>, String>,
}

pub(crate) type RecordIter = Box<dyn Iterator<Item = Result<RecordFile, VulnDbError>>>;

pub(crate) fn is_record_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.ends_with(".json") || lower.ends_with(".yaml") || lower.ends_with(".yml")
}

/// Iterate the record files of a zip held in memory. A record that cannot be read because the
/// archive itself is damaged is a fatal error (the sync aborts and nothing is applied).
pub(crate) fn zip_records(
    feed: &str,
    label: &str,
    bytes: Vec<u8>,
    limits: Limits,
) -> Result<RecordIter, VulnDbError> {
    let archive_err = |message: String| VulnDbError::Archive {
        feed: feed.to_string(),
        path: label.to_string(),
        message,
    };
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| archive_err(e.to_string()))?;
    if archive.len() > limits.max_entries {
        return Err(VulnDbError::Limit {
            feed: feed.to_string(),
            message: format!(
                "archive {label} has {} entries (limit {})",
                archive.len(),
                limits.max_entries
            ),
        });
    }
    let feed = feed.to_string();
    let label = label.to_string();
    let mut index = 0usize;
    Ok(Box::new(std::iter::from_fn(move || {
        loop {
            if index >= archive.len() {
                return None;
            }
            let i = index;
            index += 1;
            let mut entry = match archive.by_index(i) {
                Ok(e) => e,
                Err(e) => {
                    return Some(Err(VulnDbError::Archive {
                        feed: feed.clone(),
                        path: label.clone(),
                        message: format!("entry {i}: {e}"),
                    }));
                }
            };
            let name = match entry.name() {
                Ok(n) => n.to_string(),
                Err(e) => {
                    return Some(Ok(RecordFile {
                        name: format!("entry {i}"),
                        content: Err(format!("entry name is not valid: {e}")),
                    }));
                }
            };
            if entry.is_dir() || !is_record_name(&name) {
                continue;
            }
            if entry.size() > limits.max_record_bytes {
                return Some(Ok(RecordFile {
                    name,
                    content: Err(format!(
                        "record is {} bytes (limit {})",
                        entry.size(),
                        limits.max_record_bytes
                    )),
                }));
            }
            let mut buf = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
            if let Err(e) = (&mut entry)
                .take(limits.max_record_bytes + 1)
                .read_to_end(&mut buf)
            {
                return Some(Err(VulnDbError::Archive {
                    feed: feed.clone(),
                    path: label.clone(),
                    message: format!("entry {name}: {e}"),
                }));
            }
            return Some(Ok(RecordFile {
                name,
                content: Ok(buf),
            }));
        }
    })))
}

/// Every record file under a folder, sorted by path (deterministic).
pub(crate) fn folder_files(
    feed: &str,
    root: &Path,
    limits: Limits,
) -> Result<Vec<PathBuf>, VulnDbError> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|source| VulnDbError::Io {
            feed: feed.to_string(),
            path: dir.display().to_string(),
            source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| VulnDbError::Io {
                feed: feed.to_string(),
                path: dir.display().to_string(),
                source,
            })?;
            let path = entry.path();
            let file_type = entry.file_type().map_err(|source| VulnDbError::Io {
                feed: feed.to_string(),
                path: path.display().to_string(),
                source,
            })?;
            if file_type.is_dir() {
                stack.push(path);
            } else if file_type.is_file() && is_record_name(&path.to_string_lossy()) {
                out.push(path);
                if out.len() > limits.max_entries {
                    return Err(VulnDbError::Limit {
                        feed: feed.to_string(),
                        message: format!(
                            "folder {} has more than {} record files",
                            root.display(),
                            limits.max_entries
                        ),
                    });
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Read one local file with the document limit.
pub(crate) fn read_file_limited(
    feed: &str,
    path: &Path,
    limit: u64,
) -> Result<Vec<u8>, VulnDbError> {
    let io_err = |source| VulnDbError::Io {
        feed: feed.to_string(),
        path: path.display().to_string(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io_err)?;
    let mut buf = Vec::new();
    file.take(limit + 1).read_to_end(&mut buf).map_err(io_err)?;
    if buf.len() as u64 > limit {
        return Err(VulnDbError::Limit {
            feed: feed.to_string(),
            message: format!("{} is larger than {limit} bytes", path.display()),
        });
    }
    Ok(buf)
}

/// Iterate the record files of a folder, reading each lazily.
pub(crate) fn folder_records(
    feed: &str,
    root: &Path,
    limits: Limits,
) -> Result<RecordIter, VulnDbError> {
    let files = folder_files(feed, root, limits)?;
    let feed = feed.to_string();
    let root = root.to_path_buf();
    Ok(Box::new(files.into_iter().map(move |path| {
        let name = path
            .strip_prefix(&root)
            .unwrap_or(&path)
            .to_string_lossy()
            .into_owned();
        let size = std::fs::metadata(&path)
            .map_err(|source| VulnDbError::Io {
                feed: feed.clone(),
                path: path.display().to_string(),
                source,
            })?
            .len();
        if size > limits.max_record_bytes {
            return Ok(RecordFile {
                name,
                content: Err(format!(
                    "record is {size} bytes (limit {})",
                    limits.max_record_bytes
                )),
            });
        }
        let bytes = read_file_limited(&feed, &path, limits.max_record_bytes)?;
        Ok(RecordFile {
            name,
            content: Ok(bytes),
        })
    })))
}
