//! NDB `Packages.db` files (slots, blobs) and the headers inside.
#![no_main]

use anchorage_catalog::parsers::{NdbFormat, read_database};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_database(&NdbFormat, data, None);
});
