//! CycloneDX 1.6, SPDX 2.3, native JSON and table encoding of an [`Analysis`], and decoding of
//! the native JSON.
//!
//! Every document is deterministic for a given analysis: packages keep the analysis order
//! (sorted by the catalogers), identifiers are derived from package ids and paths, and the
//! CycloneDX serial number / SPDX namespace are name-based UUIDs of the analysis content.

mod common;
pub mod cyclonedx;
mod error;
mod format;
mod native;
mod spdx;
mod table;

use std::io::{Read, Write};

use anchorage_model::Analysis;

pub use error::SbomError;
pub use format::SbomFormat;

/// Writes `analysis` to `w` in `format`.
pub fn encode(analysis: &Analysis, format: SbomFormat, w: &mut dyn Write) -> Result<(), SbomError> {
    match format {
        SbomFormat::Json => native::encode(analysis, w),
        SbomFormat::CycloneDxJson => cyclonedx::encode(analysis, w),
        SbomFormat::SpdxJson => spdx::encode(analysis, w),
        SbomFormat::Table => table::encode(analysis, w),
    }
}

/// Encodes `analysis` into a byte vector (convenience over [`encode`]).
pub fn encode_to_vec(analysis: &Analysis, format: SbomFormat) -> Result<Vec<u8>, SbomError> {
    let mut out = Vec::new();
    encode(analysis, format, &mut out)?;
    Ok(out)
}

/// Reads a native analysis document (the `json` format), refusing documents whose schema major
/// version differs from [`anchorage_model::ANALYSIS_SCHEMA_VERSION`]'s.
pub fn decode_native(r: &mut dyn Read) -> Result<Analysis, SbomError> {
    native::decode(r)
}
