//! Integration tests of `anchorage`, one binary (issue 9: fewer links on 2 cores).

mod chaos;
mod client;
mod engine;
mod inspect;
mod lifecycle;
mod malware;
mod ops;
mod sbom;
mod serve;
mod settings;
mod vulns;
mod watch;
