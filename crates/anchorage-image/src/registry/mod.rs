//! Registry client (OCI distribution spec).
//!
//! Hand-written on `reqwest` rather than `oci-client`: we need control that crate does not give
//! in one place — our own `Accept` list with a clear schema-1 rejection, per-registry insecure
//! opt-in (plain HTTP or unverified TLS), retries honouring `Retry-After`, blobs streamed into
//! our content-addressed cache with size and digest verified while streaming, a token cache
//! keyed by scope, and Docker config credentials.

mod auth;
mod client;
mod docker_config;
mod pull;
mod retry;
mod token;

pub use client::RegistryClient;
