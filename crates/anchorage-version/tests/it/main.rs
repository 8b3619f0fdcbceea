//! Integration tests of `anchorage-version`, one binary (issue 9: fewer links on 2 cores).

mod corpus;
mod ecosystems;
mod props;
mod ranges;
