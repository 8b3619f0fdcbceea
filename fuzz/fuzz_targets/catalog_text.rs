//! Secret rules over arbitrary file content, and Dockerfile reconstruction of arbitrary
//! history `created_by` strings.
#![no_main]

use std::sync::OnceLock;

use anchorage_catalog::{RuleSet, default_secret_rules, dockerfile_line};
use libfuzzer_sys::fuzz_target;

fn rules() -> &'static RuleSet {
    static RULES: OnceLock<RuleSet> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::compile(&default_secret_rules()).0)
}

fuzz_target!(|data: &[u8]| {
    let _ = rules().scan("/fuzz", data);
    let text = String::from_utf8_lossy(data);
    let _ = dockerfile_line(&text, data.first().is_some_and(|b| b % 2 == 0));
});
