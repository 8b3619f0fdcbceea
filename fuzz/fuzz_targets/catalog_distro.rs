//! Distro detection over arbitrary release files and a distroless status.d entry.
#![no_main]

use anchorage_catalog::detect_distro;
use anchorage_image::MemFs;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |b| usize::from(*b) % 6);
    let path = [
        "/etc/os-release",
        "/usr/lib/os-release",
        "/etc/alpine-release",
        "/etc/debian_version",
        "/etc/redhat-release",
        "/var/lib/dpkg/status.d/base-files",
    ][split];
    let mut fs = MemFs::new();
    fs.add_file(path, data.get(1..).unwrap_or_default().to_vec());
    let _ = detect_distro(&fs);
});
