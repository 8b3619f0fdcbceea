//! Shared by the fuzz targets: tight limits, and a walk that exercises every read path.

use std::path::Path;

use anchorage_image::{AcquiredImage, ImageFs, LayerBlob, Limits, SquashOptions, squash};
use anchorage_types::Platform;

pub fn options() -> SquashOptions {
    SquashOptions {
        limits: Limits {
            max_layer_decompressed_bytes: 64 << 20,
            max_total_decompressed_bytes: 128 << 20,
            max_entries: 100_000,
            max_file_size: 32 << 20,
            ..Limits::default()
        },
        threads: 1,
        ..SquashOptions::default()
    }
}

pub fn image(paths: &[&Path]) -> AcquiredImage {
    AcquiredImage {
        scheme: "oci-dir".to_string(),
        input: "fuzz".to_string(),
        reference: None,
        manifest_digest: None,
        index_digest: None,
        manifest_json: None,
        config_digest: None,
        config_json: None,
        platform: Platform::linux_amd64(),
        layers: paths
            .iter()
            .map(|p| LayerBlob {
                digest: None,
                diff_id: None,
                size: 0,
                media_type: String::new(),
                path: p.to_path_buf(),
            })
            .collect(),
        root_dir: None,
    }
}

/// Squashes and, when that works, resolves and reads every entry.
pub fn run(paths: &[&Path]) {
    if let Ok(fs) = squash(&image(paths), &options()) {
        for entry in fs.entries() {
            let _ = fs.resolve(&entry.path);
            let _ = fs.read_limited(&entry.path, 1 << 20);
            if let Some(target) = &entry.link_target {
                let _ = fs.resolve(target);
            }
        }
    }
}
