//! Retrieved files: the content of configured small files (default `/etc/passwd`), kept for
//! policy gates.

use anchorage_image::{FsError, ImageFs};
use base64::Engine as _;

use crate::cataloger::CatalogContext;
use crate::model::RetrievedFile;

/// Reads each configured path up to `max_bytes`; missing files are skipped, larger ones warned.
pub(crate) fn retrieve(
    fs: &dyn ImageFs,
    paths: &[String],
    max_bytes: u64,
    ctx: &mut CatalogContext,
) -> Vec<RetrievedFile> {
    let mut out = Vec::new();
    for path in paths {
        match fs.read_limited(path, max_bytes) {
            Ok(bytes) => out.push(RetrievedFile {
                path: path.clone(),
                content_b64: base64::engine::general_purpose::STANDARD.encode(bytes),
            }),
            Err(FsError::NotFound(_)) => {}
            Err(e) => ctx.warn("retrieve_files", Some(path), format!("not retrieved: {e}")),
        }
    }
    out
}
