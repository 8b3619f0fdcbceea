//! `rpmdb.sqlite` files (SQLite itself is well fuzzed; this covers our handling of what it
//! returns). Slow: every input is written to a temporary file.
#![no_main]

use anchorage_catalog::parsers::{SqliteFormat, read_database};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_database(&SqliteFormat, data, None);
});
