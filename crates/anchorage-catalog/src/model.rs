//! The analysis document, defined in [`anchorage_model`] and re-exported here at its old path.

pub use anchorage_model::analysis::*;
