//! One module per subcommand; each is a thin layer over the library crates.

pub(crate) mod inspect;
