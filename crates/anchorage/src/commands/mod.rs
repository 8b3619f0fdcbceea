//! One module per subcommand; each is a thin layer over the library crates.

pub(crate) mod admin;
pub(crate) mod client;
pub(crate) mod explain;
pub(crate) mod feeds;
pub(crate) mod inspect;
pub(crate) mod policy;
pub(crate) mod sbom;
pub(crate) mod scan;
pub(crate) mod serve;
pub(crate) mod serve_ops;
