//! The one place that wires the parts together: an [`Engine`] is built once (per CLI run, or
//! per server process) and holds the long-lived registry client (token cache, connection
//! pools), the blob cache and the vulnerability store. Its async methods run the pipeline:
//! [`Engine::analyze`] (acquire -> squash -> catalog), [`Engine::vulnerabilities`] (match),
//! [`Engine::evaluate`] (policy), [`Engine::rematch`] (match again, diff) and
//! [`Engine::sync_feeds`]. Blocking work (squashing, cataloging, SQLite, policy evaluation)
//! runs on `tokio::task::spawn_blocking`; the engine never creates a runtime, so it must be
//! called from inside one (the binary's `#[tokio::main]`, the server's runtime).

mod analyze;
mod engine;
mod error;

pub use analyze::AnalyzeSettings;
pub use engine::{
    Engine, EngineOptions, EvaluateRequest, FeedStatus, ImageAccess, RematchItem, RematchOutcome,
    Vulnerabilities,
};
pub use error::EngineError;

/// The analysis document, re-exported so callers of [`Engine::analyze`] need not name the
/// catalog crate.
pub use anchorage_catalog::Analysis;
