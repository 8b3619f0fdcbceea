//! `analyze`: source string -> acquired image -> squashed file tree -> catalog.

use anchorage_types::ErrorKind;
use std::time::Instant;

use anchorage_catalog::{Analysis, CatalogOptions};
use anchorage_image::{AcquireError, AcquireOptions, SquashError, SquashOptions};

/// Resolved settings of one analysis: how to acquire, how to squash, what to catalog.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeSettings {
    /// Registry access, platform choice, blob cache and acquisition limits.
    pub acquire: AcquireOptions,
    /// Layer reading limits and parallelism.
    pub squash: SquashOptions,
    /// Which scans run and with which limits.
    pub catalog: CatalogOptions,
}

/// Why an analysis could not be made. Problems inside the image that do not stop cataloging are
/// warnings in the [`Analysis`], not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EngineError {
    /// The image could not be fetched or read from its source.
    #[error("acquiring {source_ref}: {error}")]
    Acquire {
        /// The source string as given.
        source_ref: String,
        /// What went wrong.
        #[source]
        error: Box<AcquireError>,
    },
    /// The layers could not be read into one file tree.
    #[error("reading the layers of {source_ref}: {error}")]
    Squash {
        /// The source string as given.
        source_ref: String,
        /// What went wrong.
        #[source]
        error: Box<SquashError>,
    },
}

impl EngineError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            EngineError::Acquire { error, .. } => error.kind(),
            EngineError::Squash { error, .. } => error.kind(),
        }
    }
}

/// Analyzes the image at `source` (`registry:REF`, `docker-archive:PATH`, `oci-archive:PATH`,
/// `oci-dir:PATH`, `dir:PATH` or a bare reference): acquire, squash, catalog.
pub fn analyze(source: &str, settings: &AnalyzeSettings) -> Result<Analysis, EngineError> {
    let started = Instant::now();
    let image = anchorage_image::acquire_blocking(source, &settings.acquire).map_err(|e| {
        EngineError::Acquire {
            source_ref: source.to_string(),
            error: Box::new(e),
        }
    })?;
    let acquired = started.elapsed();
    let fs =
        anchorage_image::open_fs(&image, &settings.squash).map_err(|e| EngineError::Squash {
            source_ref: source.to_string(),
            error: Box::new(e),
        })?;
    let squashed = started.elapsed();
    let analysis = anchorage_catalog::catalog(fs.as_ref(), &image, &settings.catalog);
    tracing::debug!(
        source,
        acquire_ms = acquired.as_millis() as u64,
        squash_ms = (squashed - acquired).as_millis() as u64,
        catalog_ms = (started.elapsed() - squashed).as_millis() as u64,
        packages = analysis.packages.len(),
        files = analysis.files.len(),
        "analysis finished"
    );
    Ok(analysis)
}
