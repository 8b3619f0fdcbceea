//! Integration tests of `anchorage-match`, one binary (issue 9: fewer links on 2 cores).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod behaviour;
mod corpus_expected;
mod sarif_schema;
mod support;
