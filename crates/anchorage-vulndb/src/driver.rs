//! The one interface of the feed drivers: each driver (OSV, Debian tracker, Alpine secdb, NVD)
//! turns the record files of a source into [`Item`]s, owning its format. A leaf module: the
//! drivers and the sync both use it.

use anchorage_advisory::{Advisory, NvdEntry};

use crate::error::VulnDbError;
use crate::input::RecordIter;

/// One thing a feed yields.
pub(crate) enum Item {
    /// A normalized advisory.
    Advisory(Box<Advisory>),
    /// NVD scores for one CVE.
    Nvd(Box<NvdEntry>),
    /// A record that could not be read (counted and reported, not an error).
    Malformed(String),
}

/// The items of one source, in order.
pub(crate) type ItemIter = Box<dyn Iterator<Item = Result<Item, VulnDbError>>>;

/// A feed format: record files in, items out.
pub(crate) trait FeedDriver {
    /// Parses the record files of one source.
    fn items(&self, files: RecordIter) -> Result<ItemIter, VulnDbError>;
}

/// Items from fully collected advisories, NVD entries and malformed-record messages.
pub(crate) fn collected(
    advisories: Vec<Advisory>,
    nvd: Vec<NvdEntry>,
    malformed: Vec<String>,
) -> ItemIter {
    Box::new(
        advisories
            .into_iter()
            .map(|a| Ok(Item::Advisory(Box::new(a))))
            .chain(nvd.into_iter().map(|n| Ok(Item::Nvd(Box::new(n)))))
            .chain(malformed.into_iter().map(|m| Ok(Item::Malformed(m)))),
    )
}
