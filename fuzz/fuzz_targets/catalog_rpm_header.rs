//! rpm header blobs (index entries + data store).
#![no_main]

use anchorage_catalog::parsers::parse_header;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_header(data);
});
