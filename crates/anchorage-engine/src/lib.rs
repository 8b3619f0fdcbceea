//! The one place that wires the parts together. Today: [`analyze`], which acquires an image,
//! squashes its layers into one file tree and catalogs it into an [`Analysis`].

mod analyze;

pub use analyze::{AnalyzeSettings, EngineError, analyze};

/// The analysis document, re-exported so callers of [`analyze`] need not name the catalog crate.
pub use anchorage_catalog::Analysis;
