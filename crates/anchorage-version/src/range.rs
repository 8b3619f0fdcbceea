//! OSV range evaluation (<https://ossf.github.io/osv-schema/#evaluation>).

use std::cmp::Ordering;

use crate::{Scheme, Version, VersionError};

/// One event of an OSV `ECOSYSTEM` or `SEMVER` range. Serializes as OSV does
/// (`{"introduced": "1.0"}`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RangeEvent {
    /// First affected version; `"0"` means "since the beginning".
    Introduced(String),
    /// First version that is no longer affected (exclusive upper bound).
    Fixed(String),
    /// Last affected version (inclusive upper bound).
    LastAffected(String),
    /// Upper limit of the range (exclusive); `"*"` means no limit.
    Limit(String),
}

impl RangeEvent {
    /// The version string carried by the event.
    pub fn version(&self) -> &str {
        match self {
            RangeEvent::Introduced(v)
            | RangeEvent::Fixed(v)
            | RangeEvent::LastAffected(v)
            | RangeEvent::Limit(v) => v,
        }
    }
}

/// A point on the version line, with the two OSV infinities.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Point {
    MinusInf,
    At(Version),
    PlusInf,
}

fn point(scheme: Scheme, e: &RangeEvent) -> Result<Point, VersionError> {
    match e {
        RangeEvent::Introduced(v) if v == "0" => Ok(Point::MinusInf),
        RangeEvent::Limit(v) if v == "*" => Ok(Point::PlusInf),
        other => Version::parse_advisory(scheme, other.version()).map(Point::At),
    }
}

/// Whether `installed` falls in the OSV range given by `events` (one range; call once per
/// range and OR the answers). Events are sorted by version first (stable, so events at the
/// same version keep their given order); then walking them in order, `introduced <= v` sets
/// affected, `fixed <= v` and `last_affected < v` clear it. A finite `limit` caps the range:
/// versions at or above every limit are not affected. No events: not affected.
///
/// PEP 440 local versions are compared the way pip matches specifiers: against an event
/// version without a local segment, the installed version's local segment (`+cgr.1`) is
/// ignored, so `6.4+cgr.1` is within `last_affected: 6.4`.
///
/// Event versions are read leniently, as OSV consumers do ([`Version::parse_advisory`]).
///
/// Errors when `installed` or any event version is not valid in `scheme`.
pub fn is_affected(
    scheme: Scheme,
    installed: &str,
    events: &[RangeEvent],
) -> Result<bool, VersionError> {
    let full = Point::At(Version::parse(scheme, installed)?);
    let public = match (scheme, installed.split_once('+')) {
        (Scheme::Pep440, Some((public, _))) => Some(Point::At(Version::parse(scheme, public)?)),
        _ => None,
    };
    // The installed point an event is compared with (see the PEP 440 note above).
    let against = |e: &RangeEvent| match &public {
        Some(p) if !e.version().contains('+') => p,
        _ => &full,
    };
    let mut points = events
        .iter()
        .map(|e| point(scheme, e).map(|p| (p, e)))
        .collect::<Result<Vec<_>, _>>()?;
    points.sort_by(|a, b| a.0.cmp(&b.0));

    let mut affected = false;
    for (p, e) in &points {
        let v = against(e);
        match e {
            RangeEvent::Introduced(_) if *v >= *p => affected = true,
            RangeEvent::Fixed(_) if *v >= *p => affected = false,
            RangeEvent::LastAffected(_) if *v > *p => affected = false,
            _ => {}
        }
    }
    let mut limits = points
        .iter()
        .filter(|(_, e)| matches!(e, RangeEvent::Limit(_)))
        .peekable();
    if limits.peek().is_some() && !limits.any(|(p, e)| against(e).cmp(p) == Ordering::Less) {
        affected = false;
    }
    Ok(affected)
}
