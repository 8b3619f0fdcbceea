//! Vulnerability feeds, the normalized advisory model and the local store.
//!
//! Drivers (one module each) turn OSV records, the Debian security tracker, Alpine secdb and
//! NVD CVE API 2.0 JSON into [`Advisory`] values; [`sync_source`] applies a source to the
//! [`Store`] in one transaction; [`VulnSource`] is the read side matching uses.

mod alpine;
mod debian;
mod driver;
mod error;
mod fix_observed;
mod input;
mod nvd;
mod osv;
mod pack;
mod snapshot;
mod store;
mod sync;

pub use alpine::alpine_branch;
pub use anchorage_advisory::{
    Advisory, Affected, AffectedStatus, Event, Range, RangeKind, Reference, SeverityKind,
    SeverityRating, ecosystem_base, normalize_name,
};
pub use anchorage_advisory::{
    MemorySource, SourceError, Verdict, VulnSource, evaluate, label_severity, rate_vector,
    rating_severity, vendor_label,
};
pub use debian::{DEBIAN_RELEASES, debian_release_number};
pub use error::VulnDbError;
pub use input::Limits;
pub use nvd::NvdEntry;
pub use osv::parse_osv_record;
pub use snapshot::Snapshot;
pub use store::{STORE_FILE, SourceStatus, SourcedAdvisory, Store};
pub use sync::{
    DEFAULT_OSV_ECOSYSTEMS, FeedKind, FeedSource, FetchedSource, Location, OSV_EXPORTS_BASE,
    SyncOptions, SyncReport, Validators, apply_source, fetch_source, sync_source,
};
