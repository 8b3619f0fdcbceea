//! apk `lib/apk/db/installed`.
#![no_main]

use anchorage_catalog::parsers::parse_installed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_installed(data);
});
