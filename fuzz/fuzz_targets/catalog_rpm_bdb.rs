//! Berkeley DB hash `Packages` files (pages, overflow chains) and the headers inside.
#![no_main]

use anchorage_catalog::parsers::{BdbFormat, read_database};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_database(&BdbFormat, data, None);
});
