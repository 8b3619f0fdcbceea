//! Integration tests of the policy engine on real corpus analyses (one test binary).

// Test helpers load fixed corpus files; a panic on unexpected data is the test failing.
#![allow(clippy::unwrap_used)]

mod cataloged;
mod nested;
mod precedence;
mod props;
mod support;
mod triggers;
mod triggers_content;
mod validation;
