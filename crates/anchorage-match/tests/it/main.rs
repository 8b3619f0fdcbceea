//! Integration tests of `anchorage-match`, one binary (issue 9: fewer links on 2 cores).

mod behaviour;
mod corpus_expected;
mod sarif_schema;
mod support;
