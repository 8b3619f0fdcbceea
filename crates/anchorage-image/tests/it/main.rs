//! Integration tests of `anchorage-image`, one binary (issue 9: fewer links on 2 cores).

mod credential_helpers;
mod registry;
mod registry_hostile;
mod runtime;
mod sources;
mod squash_big;
mod squash_hostile;
mod squash_real;
