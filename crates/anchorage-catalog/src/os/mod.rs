//! OS package catalogers (dpkg, apk, rpm, opkg) and the helpers they share.

pub(crate) mod apk;
pub(crate) mod dpkg;
pub(crate) mod opkg;
pub(crate) mod rpm;

use anchorage_image::ImageFs;
use anchorage_types::{Location, PackageType};
use sha2::{Digest as _, Sha256};

use crate::cataloger::CatalogContext;

/// What a byte-level parser returns: the records it could read and what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parsed<T> {
    /// Records read.
    pub packages: Vec<T>,
    /// Problems met; parsing continued past each.
    pub warnings: Vec<String>,
}

/// Stable package id: the first 16 hex digits of sha256(type, name, version, first location).
pub(crate) fn package_id(
    package_type: PackageType,
    name: &str,
    version: &str,
    first_location: &str,
) -> String {
    let mut h = Sha256::new();
    for part in [package_type.as_str(), name, version, first_location] {
        h.update(part.as_bytes());
        h.update([0u8]);
    }
    let digest = h.finalize();
    hex::encode(&digest[..8])
}

/// A location for `path` carrying the diff_id of the layer that provided it.
pub(crate) fn location_for(fs: &dyn ImageFs, path: &str) -> Location {
    let layer = fs
        .entry(path)
        .and_then(|e| fs.layers().get(e.layer_index))
        .and_then(|l| l.diff_id.clone());
    Location::new(path, layer)
}

/// Reads a database file, turning failures into a warning of `stage`.
pub(crate) fn read_db(
    fs: &dyn ImageFs,
    path: &str,
    limit: u64,
    ctx: &mut CatalogContext,
    stage: &str,
) -> Option<Vec<u8>> {
    match fs.read_limited(path, limit) {
        Ok(bytes) => Some(bytes),
        Err(anchorage_image::FsError::NotFound(_)) => None,
        Err(e) => {
            ctx.warn(
                stage,
                Some(path),
                format!("cannot read package database: {e}"),
            );
            None
        }
    }
}

/// The `distro=` purl qualifier: `ID-VERSION_ID` (`debian-12`, `alpine-3.20.3`), or `ID` alone.
pub(crate) fn distro_qualifier(distro: &crate::model::Distro) -> String {
    if distro.is_unknown() {
        return String::new();
    }
    match &distro.version_id {
        Some(v) => format!("{}-{}", distro.id, v),
        None => distro.id.clone(),
    }
}

/// Decodes bytes as UTF-8, lossily, pushing a warning when bytes were replaced.
pub(crate) fn lossy_text<'a>(
    bytes: &'a [u8],
    what: &str,
    warnings: &mut Vec<String>,
) -> std::borrow::Cow<'a, str> {
    let text = String::from_utf8_lossy(bytes);
    if let std::borrow::Cow::Owned(_) = text {
        warnings.push(format!("{what}: invalid UTF-8 replaced"));
    }
    text
}
