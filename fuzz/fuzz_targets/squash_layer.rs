//! One layer blob of arbitrary bytes (gzip, zstd or tar as sniffed from its content).
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Ok(dir) = tempfile::tempdir() else { return };
    let path = dir.path().join("layer");
    if std::fs::write(&path, data).is_err() {
        return;
    }
    common::run(&[&path]);
});
