//! Integration tests of `anchorage`, one binary (issue 9: fewer links on 2 cores).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod inspect;
mod sbom;
mod settings;
mod vulns;
