//! The normalized advisory model every feed driver produces, the OSV range verdict over it,
//! CVSS rating, and [`VulnSource`], the read interface of vulnerability data that a store
//! snapshot implements and matching consumes. Pure: no I/O, no database, no HTTP.

mod cvss;
mod error;
pub mod model;
mod nvd;
mod source;
mod verdict;

pub use cvss::{label_severity, rate_vector, rating_severity, vendor_label};
pub use error::SourceError;
pub use model::{
    Advisory, Affected, AffectedStatus, Event, Range, RangeKind, Reference, SeverityKind,
    SeverityRating, ecosystem_base, normalize_name,
};
pub use nvd::NvdEntry;
pub use source::{MemorySource, SourcedAdvisory, VulnSource};
pub use verdict::{Verdict, evaluate};
