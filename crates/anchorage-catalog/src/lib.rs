//! Catalogers over an [`anchorage_image::ImageFs`]; the result is an [`Analysis`], the document
//! stored once per image digest and read by SBOM export, matching and policy evaluation.

pub mod model;

pub use model::*;
