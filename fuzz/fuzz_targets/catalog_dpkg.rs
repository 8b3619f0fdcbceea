//! dpkg status / status.d paragraphs, `*.list`, `*.md5sums` and copyright files.
#![no_main]

use anchorage_catalog::parsers::{parse_copyright, parse_list, parse_md5sums, parse_status};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = parse_status(data);
    let _ = parse_list(data);
    let _ = parse_md5sums(data);
    let _ = parse_copyright(data);
});
