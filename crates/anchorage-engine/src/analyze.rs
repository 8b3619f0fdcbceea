//! What one analysis needs: how to acquire, how to squash, what to catalog.

use anchorage_catalog::CatalogOptions;
use anchorage_image::{AcquireOptions, SquashOptions};

/// Resolved settings of analyses: how to acquire, how to squash, what to catalog.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeSettings {
    /// Registry access, platform choice, blob cache and acquisition limits.
    pub acquire: AcquireOptions,
    /// Layer reading limits and parallelism.
    pub squash: SquashOptions,
    /// Which scans run and with which limits.
    pub catalog: CatalogOptions,
}
