//! Writes a synthetic OCI layout with many small files, for the big-image benchmark
//! (`scripts/bench-big-images.sh`); not used by tests.
//!
//! ```text
//! cargo run --release -p anchorage-image --example gen_big_image -- \
//!     --files 300000 --per-dir 1000 --layers 1 --out /tmp/big-300k
//! ```
//!
//! Every file is small (one line, unique content), `--per-dir` files per directory under
//! `/data/dNNNNNN/`. With `--layers L > 1` the files are spread over `L` gzip layers and every
//! layer after the first also: deletes a few files of the previous layer (`.wh.NAME`), makes one
//! directory of the previous layer opaque (`.wh..wh..opq`) and re-adds one file in it, replaces
//! a few files of the previous layer, and adds hard links to a few of its own files. The last
//! line printed is a JSON summary with the number of files the squashed tree must hold.
//!
//! Python's `tarfile` needs minutes for 3 million entries; this writes the headers with the
//! `tar` crate and gzips with flate2 at the fastest level.
#![allow(
    clippy::print_stdout,
    clippy::print_stderr,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark generator: prints its summary and fails loudly"
)]

use std::collections::HashSet;
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest as _, Sha256};

struct HashWriter<W: Write> {
    inner: W,
    hasher: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

type LayerWriter = tar::Builder<HashWriter<flate2::write::GzEncoder<HashWriter<BufWriter<File>>>>>;

struct Layer {
    builder: LayerWriter,
    tmp: PathBuf,
}

fn start_layer(blobs: &Path, index: usize) -> Layer {
    let tmp = blobs.join(format!(".layer-{index}.tmp"));
    let file = BufWriter::with_capacity(1 << 20, File::create(&tmp).unwrap());
    let compressed = HashWriter {
        inner: file,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let gz = flate2::write::GzEncoder::new(compressed, flate2::Compression::fast());
    let plain = HashWriter {
        inner: gz,
        hasher: Sha256::new(),
        bytes: 0,
    };
    let mut builder = tar::Builder::new(plain);
    builder.mode(tar::HeaderMode::Deterministic);
    Layer { builder, tmp }
}

/// Finishes a layer; returns (blob digest, blob size, diff_id).
fn finish_layer(layer: Layer, blobs: &Path) -> (String, u64, String) {
    let plain = layer.builder.into_inner().unwrap();
    let diff_id = hex::encode(plain.hasher.finalize());
    let compressed = plain.inner.finish().unwrap();
    let digest = hex::encode(compressed.hasher.finalize());
    let size = compressed.bytes;
    compressed.inner.into_inner().unwrap().sync_all().ok();
    fs::rename(&layer.tmp, blobs.join(&digest)).unwrap();
    (digest, size, diff_id)
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(1_700_000_000);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn add_dir(b: &mut LayerWriter, path: &str) {
    let mut h = header(tar::EntryType::Directory, 0o755, 0);
    b.append_data(&mut h, path, io::empty()).unwrap();
}

fn add_file(b: &mut LayerWriter, path: &str, content: &[u8]) {
    let mut h = header(tar::EntryType::Regular, 0o644, content.len() as u64);
    b.append_data(&mut h, path, content).unwrap();
}

fn add_hardlink(b: &mut LayerWriter, path: &str, target: &str) {
    let mut h = header(tar::EntryType::Link, 0o644, 0);
    b.append_link(&mut h, path, target).unwrap();
}

fn write_blob(blobs: &Path, bytes: &[u8]) -> String {
    let digest = hex::encode(Sha256::digest(bytes));
    fs::write(blobs.join(&digest), bytes).unwrap();
    digest
}

fn arg(args: &[String], name: &str, default: &str) -> String {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
        .unwrap_or_else(|| default.to_string())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let files: usize = arg(&args, "--files", "300000").parse().unwrap();
    let per_dir: usize = arg(&args, "--per-dir", "1000").parse().unwrap();
    let layers: usize = arg(&args, "--layers", "1").parse().unwrap();
    let out = PathBuf::from(arg(&args, "--out", "big-image"));
    assert!(
        per_dir > 0 && layers > 0,
        "--per-dir and --layers must be positive"
    );

    let blobs = out.join("blobs/sha256");
    fs::create_dir_all(&blobs).unwrap();
    let per_layer = files.div_ceil(layers);
    let mut layer_descs = Vec::new();
    let mut diff_ids = Vec::new();
    // (layer, file number) of every regular file alive in the squashed tree, by path
    let mut alive: HashSet<String> = HashSet::new();
    let mut hardlinks_alive: HashSet<String> = HashSet::new();
    let dir_of = |n: usize| format!("data/d{:07}", n / per_dir);
    let mut next = 0usize;
    for layer_index in 0..layers {
        let mut layer = start_layer(&blobs, layer_index);
        let b = &mut layer.builder;
        if layer_index == 0 {
            add_dir(b, "data/");
        }
        let first = next;
        let last = (first + per_layer).min(files);
        if layer_index > 0 && layers > 1 {
            // changes to the previous layer's files
            let prev_first = first.saturating_sub(per_layer);
            let prev_dir_start = prev_first.div_ceil(per_dir) * per_dir;
            // delete the first 10 files of the previous layer's first full directory
            for n in prev_dir_start..(prev_dir_start + 10).min(first) {
                let dir = dir_of(n);
                let name = format!("f{n}");
                add_file(b, &format!("{dir}/.wh.{name}"), b"");
                alive.remove(&format!("/{dir}/{name}"));
                hardlinks_alive.remove(&format!("/{dir}/{name}"));
            }
            // make the previous layer's second full directory opaque and re-add one file
            let opaque_start = prev_dir_start + per_dir;
            if opaque_start + per_dir <= first {
                let dir = dir_of(opaque_start);
                add_dir(b, &format!("{dir}/"));
                add_file(b, &format!("{dir}/.wh..wh..opq"), b"");
                let prefix = format!("/{dir}/");
                alive.retain(|p| !p.starts_with(&prefix));
                hardlinks_alive.retain(|p| !p.starts_with(&prefix));
                let path = format!("{dir}/readded");
                add_file(b, &path, b"re-added after opaque\n");
                alive.insert(format!("/{path}"));
            }
            // replace 5 files of the previous layer's third directory
            let replace_start = opaque_start + per_dir;
            for n in replace_start..(replace_start + 5).min(first) {
                let path = format!("{}/f{n}", dir_of(n));
                add_file(
                    b,
                    &path,
                    format!("replaced in layer {layer_index}\n").as_bytes(),
                );
                alive.insert(format!("/{path}"));
            }
        }
        let mut current_dir = usize::MAX;
        for n in first..last {
            let d = n / per_dir;
            if d != current_dir {
                current_dir = d;
                add_dir(b, &format!("{}/", dir_of(n)));
            }
            let path = format!("{}/f{n}", dir_of(n));
            add_file(b, &path, format!("file {n}\n").as_bytes());
            alive.insert(format!("/{path}"));
            // multi-layer variant: every 100th file gets a hard link next to it
            if layers > 1 && n % 100 == 0 {
                let link = format!("{}/h{n}", dir_of(n));
                add_hardlink(b, &link, &path);
                hardlinks_alive.insert(format!("/{link}"));
            }
        }
        next = last;
        let (digest, size, diff_id) = finish_layer(layer, &blobs);
        eprintln!("layer {layer_index}: files {first}..{last}, {size} bytes gzip");
        layer_descs.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
            "digest": format!("sha256:{digest}"),
            "size": size,
        }));
        diff_ids.push(format!("sha256:{diff_id}"));
    }
    let history: Vec<_> = (0..layers)
        .map(|i| {
            serde_json::json!({
                "created": "2024-01-01T00:00:00Z",
                "created_by": format!("/bin/sh -c generate layer {i}"),
            })
        })
        .collect();
    let config = serde_json::json!({
        "created": "2024-01-01T00:00:00Z",
        "architecture": "amd64",
        "os": "linux",
        "config": {"Env": ["PATH=/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": history,
    });
    let config_bytes = serde_json::to_vec(&config).unwrap();
    let config_digest = write_blob(&blobs, &config_bytes);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": format!("sha256:{config_digest}"),
            "size": config_bytes.len(),
        },
        "layers": layer_descs,
    });
    let manifest_bytes = serde_json::to_vec(&manifest).unwrap();
    let manifest_digest = write_blob(&blobs, &manifest_bytes);
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": format!("sha256:{manifest_digest}"),
            "size": manifest_bytes.len(),
            "annotations": {"org.opencontainers.image.ref.name": "latest"},
        }],
    });
    fs::write(out.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    fs::write(out.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let summary = serde_json::json!({
        "layers": layers,
        "regular_files": alive.len(),
        "hardlinks": hardlinks_alive.len(),
        "manifest": format!("sha256:{manifest_digest}"),
    });
    println!("{summary}");
}
