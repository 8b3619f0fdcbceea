//! Version ordering per ecosystem and OSV range evaluation. Pure; no I/O.
//!
//! Each [`Scheme`] follows one ecosystem tool exactly; the dpkg, rpm, apk, PEP 440 and npm
//! orderings are checked against every row of `shared/corpus/versions/*.tsv`, which those
//! tools produced, and Maven, npm and PEP 440 also against tool-produced tables in
//! `tests/data` (see its `PROVENANCE`). RubyGems, NuGet and Composer are checked against the
//! examples of their documentation and test suites.
//!
//! ```
//! use anchorage_version::{compare, is_affected, RangeEvent, Scheme};
//! use std::cmp::Ordering;
//!
//! let s = Scheme::for_ecosystem("Debian:12");
//! assert_eq!(compare(s, "1.0~rc1", "1.0").unwrap(), Ordering::Less);
//! let events = [RangeEvent::Introduced("0".into()), RangeEvent::Fixed("1.0-2".into())];
//! assert!(is_affected(s, "1.0-1", &events).unwrap());
//! ```

mod apk;
mod apk3;
mod clean;
mod composer;
mod dpkg;
mod error;
mod gem;
mod generic;
mod maven;
mod nuget;
mod pep440;
mod range;
mod rpm;
mod scheme;
mod semverish;
mod version;

pub use clean::{clean_version, coerce_advisory_version};
pub use error::VersionError;
pub use range::{RangeEvent, is_affected};
pub use scheme::Scheme;
pub use version::{MAX_VERSION_LEN, Version, compare, compare_npm_build};
