//! Catalogers over an [`anchorage_image::ImageFs`]; the result is an [`Analysis`], the document
//! stored once per image digest and read by SBOM export, matching and policy evaluation.

mod catalog;
mod cataloger;
pub mod cpe;
mod distro;
mod files;
mod image_metadata;
mod lang;
mod md5_lanes;
pub mod model;
mod options;
mod os;
pub mod relationships;
mod retrieved;
mod secrets;

pub use cataloger::{CatalogContext, Cataloger};
pub use lang::{LangLimits, fuzzing as lang_fuzzing, language_catalogers};
pub use model::*;

pub use catalog::{catalog, catalog_os_packages, catalogers};
pub use distro::detect_distro;
pub use image_metadata::{dockerfile_line, reconstruct_dockerfile};
pub use options::{CatalogOptions, FileRecordScope, SecretsOptions, default_secret_rules};
pub use os::Parsed;
pub use os::rpm::{HeaderLimits, RpmLimits, SqliteLimits};
pub use secrets::RuleSet;

/// Package URLs: the workspace's one encoder, [`anchorage_types::purl`], at its old path.
pub mod purl {
    pub use anchorage_types::purl::*;
}

/// Byte-level parsers of the OS package databases, public for fuzzing and for tools. Each takes
/// bytes, never panics, and returns what it could read plus warnings.
pub mod parsers {
    pub use crate::os::apk::{ApkEntry, parse_installed};
    pub use crate::os::dpkg::{
        DpkgEntry, parse_copyright, parse_list, parse_md5sums, parse_status,
    };
    pub use crate::os::rpm::{
        BdbFormat, HeaderError, HeaderLimits, NdbFormat, RpmDbFormat, RpmFile, RpmHeader,
        RpmLimits, SqliteFormat, SqliteLimits, parse_container_manifest, parse_header,
        parse_header_with_limits, read_database, read_database_with_limits,
    };
}
