//! The native analysis JSON: the [`Analysis`] document as stored, versioned by
//! [`ANALYSIS_SCHEMA_VERSION`].

use std::io::{Read, Write};

use anchorage_model::{ANALYSIS_SCHEMA_VERSION, Analysis};
use serde::Deserialize;

use crate::SbomError;

/// Writes the analysis as pretty-printed JSON.
pub(crate) fn encode(analysis: &Analysis, w: &mut dyn Write) -> Result<(), SbomError> {
    serde_json::to_writer_pretty(&mut *w, analysis)?;
    w.write_all(b"\n")?;
    Ok(())
}

#[derive(Deserialize)]
struct VersionProbe {
    #[serde(default)]
    schema_version: Option<String>,
}

fn major(v: &str) -> &str {
    v.split('.').next().unwrap_or(v)
}

/// Reads an analysis document, checking its schema version first so that a document from an
/// incompatible release fails with a clear error instead of a field-level one.
pub(crate) fn decode(r: &mut dyn Read) -> Result<Analysis, SbomError> {
    let mut buf = Vec::new();
    r.read_to_end(&mut buf)?;
    let probe: VersionProbe = serde_json::from_slice(&buf)?;
    let found = probe
        .schema_version
        .ok_or(SbomError::MissingSchemaVersion)?;
    if major(&found) != major(ANALYSIS_SCHEMA_VERSION) {
        return Err(SbomError::UnsupportedSchemaVersion {
            found,
            supported: major(ANALYSIS_SCHEMA_VERSION).to_string(),
        });
    }
    Ok(serde_json::from_slice(&buf)?)
}
