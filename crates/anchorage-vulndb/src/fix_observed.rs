//! The `fix_observed` table: when a sync first saw a fix per (advisory, package). A leaf module
//! read by both the store and its snapshots.

use anchorage_advisory::normalize_name;
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension as _, params};

use crate::error::{VulnDbError, store_err};

/// Reads one `fix_observed` row (shared by the store and its snapshots).
pub(crate) fn query(
    conn: &Connection,
    path: &str,
    advisory_id: &str,
    ecosystem: &str,
    name: &str,
) -> Result<Option<DateTime<Utc>>, VulnDbError> {
    let at: Option<String> = conn
        .prepare_cached(
            "SELECT first_seen FROM fix_observed WHERE advisory_id = ?1 AND ecosystem = ?2 \
             AND name = ?3",
        )
        .and_then(|mut s| {
            s.query_row(
                params![advisory_id, ecosystem, normalize_name(ecosystem, name)],
                |r| r.get(0),
            )
            .optional()
        })
        .map_err(store_err(path))?;
    Ok(at.and_then(|s| {
        DateTime::parse_from_rfc3339(&s)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }))
}
