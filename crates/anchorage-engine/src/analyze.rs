//! What one analysis needs: how to acquire, how to squash, what to catalog, whether to scan
//! for malware.

use anchorage_catalog::CatalogOptions;
use anchorage_image::{AcquireOptions, SquashOptions};
use anchorage_malware::ScanOptions;

/// Resolved settings of analyses: how to acquire, how to squash, what to catalog.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeSettings {
    /// Registry access, platform choice, blob cache and acquisition limits.
    pub acquire: AcquireOptions,
    /// Layer reading limits and parallelism.
    pub squash: SquashOptions,
    /// Which scans run and with which limits.
    pub catalog: CatalogOptions,
    /// The ClamAV malware scan after cataloging (`None`: not run, the default).
    pub malware: Option<ScanOptions>,
}
