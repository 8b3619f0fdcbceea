//! Value types shared by every Anchorage crate. No I/O happens here.
//!
//! - [`Digest`], a content digest such as `sha256:<64 hex>`;
//! - [`Platform`], `os/arch[/variant]`;
//! - image references: the Docker reference grammar, normalization and Anchore's display form;
//! - [`Severity`], [`PackageType`], [`Location`] and [`FeedGroupStatus`], the vocabulary used
//!   from cataloging to policy evaluation.

mod digest;
mod distro;
mod error_kind;
mod feed;
mod package;
mod platform;
pub mod purl;
mod reference;
mod severity;

pub use digest::{Digest, DigestError};
pub use distro::{DEBIAN_RELEASES, alpine_branch, debian_release_number};
pub use error_kind::ErrorKind;
pub use feed::FeedGroupStatus;
pub use package::{Location, PackageType, PackageTypeError, pep503_normalize};
pub use platform::{Platform, PlatformError};
pub use reference::{DEFAULT_REGISTRY, DEFAULT_TAG, ImageReference, ReferenceError};

pub use severity::{Severity, SeverityError};
