//! Feed status as seen by matching and policy (`stale_feed_data`, `system feeds`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// State of one feed group (e.g. feed `osv`, group `Debian:12`) in the vulnerability store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedGroupStatus {
    /// Feed name, e.g. `osv`, `debian-tracker`, `alpine-secdb`, `nvd`.
    pub feed: String,
    /// Group inside the feed, e.g. `Debian:12`, `Alpine:v3.20`, `PyPI`.
    pub group: String,
    /// Number of records currently stored for the group.
    pub record_count: u64,
    /// When the group was last synced successfully.
    pub last_sync: Option<DateTime<Utc>>,
    /// The last sync error, if the most recent attempt failed.
    pub last_error: Option<String>,
}
