//! Dev-only test support: a loopback `docker-registry`, a token endpoint, corpus image builders
//! and a scripted (misbehaving) HTTP server for hostile-input tests.
//!
//! External tools: `docker-registry` (Debian package `docker-registry`), `skopeo`, `umoci`,
//! `htpasswd` (`apache2-utils`) and `openssl`. [`require_tools`] decides whether a test runs:
//! with `CI=true` a missing tool is a failure, locally the test is skipped with a note.

// Test support reports progress and skips on stderr.
#![allow(clippy::print_stderr)]

mod clamd;
mod http;
mod images;
mod registry;
mod token;
mod tools;

pub use clamd::{ClamdServer, EICAR_SIGNATURE, eicar, require_clamd};
pub use http::{FakeResponse, FakeServer, Request};
pub use images::{
    Format, alpine_minirootfs, build_alpine_layout, build_app_layout, build_malware_layout,
    build_multiarch_layout, corpus_dir, push_oci_layout,
};
pub use registry::{Auth, Registry};
pub use token::TokenServer;
pub use tools::{TestkitError, require_tools, run};
