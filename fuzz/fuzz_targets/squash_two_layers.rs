//! Two layer blobs (the input split at its first byte's proportion), to reach whiteouts, opaque
//! directories and replacements across layers.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let cut = rest.len() * usize::from(*first) / 255;
    let (lower, upper) = rest.split_at(cut);
    let Ok(dir) = tempfile::tempdir() else { return };
    let a = dir.path().join("lower");
    let b = dir.path().join("upper");
    if std::fs::write(&a, lower).is_err() || std::fs::write(&b, upper).is_err() {
        return;
    }
    common::run(&[&a, &b]);
});
