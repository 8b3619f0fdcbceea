//! Language catalogers: `anchorage_catalog::lang_fuzzing::fuzz_go_buildinfo`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    anchorage_catalog::lang_fuzzing::fuzz_go_buildinfo(data);
});
