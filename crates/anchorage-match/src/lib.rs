//! Pure matching of an analysis against a vulnerability snapshot. Every finding carries the
//! evidence of why it matched.

pub mod model;

pub use model::*;
