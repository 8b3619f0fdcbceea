//! Squash throughput and peak memory (a benchmark, not a timed test).
//!
//! `cargo bench -p anchorage-image --bench squash` builds (once, cached under `target/`) a gzip
//! layer of about 100 MB from this machine's own files with the system `tar` and `gzip`, then
//! times, on the same layer and in the same run:
//! - `flate2` decompression alone (the decompression limit of this build),
//! - `squash` (one thread; decompress, diff_id SHA-256, scratch copy, tar walk, tree),
//! - `gzip -dc layer | tar -t > /dev/null` (the shell reference),
//!
//! and prints MB/s of uncompressed tar (10^6 bytes per second). With `-- --big` it squashes a
//! ~1 GB (uncompressed) layer once and prints the peak RSS (`VmHWM`); run the bench binary under
//! `/usr/bin/time -v` for an independent peak-memory figure. With `-- --bomb` it squashes, with
//! the default limits, a synthetic 1:1000 gzip bomb (one tar entry of 8 GiB of zeros, ~8 MiB on
//! disk) and prints how long the refusal took and the scratch bytes written.
#![allow(
    clippy::print_stdout,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "benchmark binary: prints its results and fails loudly"
)]

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anchorage_image::{AcquiredImage, LayerBlob, SquashOptions, squash};
use anchorage_types::{Digest, Platform};
use sha2::Digest as _;

fn cache_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("squash-bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Lists regular files under each root (sorted, no symlinks followed), up to that root's byte
/// budget.
fn pick_files(roots: &[(&str, u64)]) -> Vec<String> {
    let mut picked = Vec::new();
    for (root, budget) in roots {
        let mut stack = vec![Path::new("/").join(root)];
        let mut files = Vec::new();
        while let Some(dir) = stack.pop() {
            let Ok(listing) = std::fs::read_dir(&dir) else {
                continue;
            };
            for item in listing.flatten() {
                let Ok(meta) = item.metadata() else { continue };
                if meta.is_dir() {
                    stack.push(item.path());
                } else if meta.is_file() && File::open(item.path()).is_ok() {
                    files.push((item.path(), meta.len()));
                }
            }
        }
        files.sort();
        let mut total = 0u64;
        for (path, len) in files {
            if total >= *budget {
                break;
            }
            total += len;
            picked.push(path.to_string_lossy().trim_start_matches('/').to_string());
        }
    }
    picked
}

/// Builds `name` with `tar -cf - -T list | gzip -LEVEL` unless it is cached.
fn build_layer(name: &str, roots: &[(&str, u64)], level: u32) -> PathBuf {
    let out = cache_dir().join(name);
    if out.exists() {
        return out;
    }
    let list = cache_dir().join(format!("{name}.list"));
    std::fs::write(&list, pick_files(roots).join("\n")).unwrap();
    let partial = out.with_extension("partial");
    let status = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "tar -cf - -C / --no-recursion -T '{}' | gzip -{level} > '{}'",
            list.display(),
            partial.display()
        ))
        .status()
        .unwrap();
    assert!(status.success(), "building the layer failed");
    std::fs::rename(&partial, &out).unwrap();
    out
}

fn diff_id(layer: &Path) -> (Digest, u64) {
    let mut dec = flate2::read::MultiGzDecoder::new(File::open(layer).unwrap());
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = dec.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        total += n as u64;
        h.update(&buf[..n]);
    }
    (
        Digest::sha256_hex(&hex::encode(h.finalize())).unwrap(),
        total,
    )
}

fn image(layer: &Path, diff_id: Digest) -> AcquiredImage {
    AcquiredImage {
        scheme: "oci-dir".to_string(),
        input: "bench".to_string(),
        reference: None,
        manifest_digest: None,
        index_digest: None,
        manifest_json: None,
        config_digest: None,
        config_json: None,
        platform: Platform::linux_amd64(),
        layers: vec![LayerBlob {
            diff_id_verified: false,
            digest: None,
            diff_id: Some(diff_id),
            size: std::fs::metadata(layer).unwrap().len(),
            media_type: "application/vnd.oci.image.layer.v1.tar+gzip".to_string(),
            path: layer.to_path_buf(),
        }],
        root_dir: None,
    }
}

fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn time<F: FnMut()>(iterations: usize, mut f: F) -> Vec<f64> {
    let mut secs: Vec<f64> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .collect();
    secs.sort_by(f64::total_cmp);
    secs
}

fn report(label: &str, bytes: u64, secs: &[f64]) -> f64 {
    let mb = bytes as f64 / 1e6;
    let best = mb / secs[0];
    let median = mb / secs[secs.len() / 2];
    println!(
        "{label:<40} best {best:7.1} MB/s  median {median:7.1} MB/s  ({:.2}s best of {})",
        secs[0],
        secs.len()
    );
    best
}

fn squash_options() -> SquashOptions {
    SquashOptions {
        threads: 1,
        pipeline: true,
        scratch_dir: Some(cache_dir()),
        ..SquashOptions::default()
    }
}

/// Writes a tar holding one `size`-byte file of zeros as concatenated gzip members of 1 MiB of
/// zeros each (about 1:1000), so an 8 GiB bomb is written in well under a second.
fn write_gzip_bomb(path: &Path, size: u64) {
    use flate2::write::GzEncoder;
    let mut out = std::io::BufWriter::new(File::create(path).unwrap());
    let mut header = tar::Header::new_gnu();
    header.set_path("bomb").unwrap();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    let mut first = GzEncoder::new(Vec::new(), flate2::Compression::best());
    first.write_all(header.as_bytes()).unwrap();
    out.write_all(&first.finish().unwrap()).unwrap();
    let mut member = GzEncoder::new(Vec::new(), flate2::Compression::best());
    member.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = member.finish().unwrap();
    // the file's data plus the two zero blocks that end the archive
    for _ in 0..(size >> 20) + 1 {
        out.write_all(&member).unwrap();
    }
    out.flush().unwrap();
}

/// Squashes a synthetic 8 GiB (1:1000) gzip bomb with the default limits and prints the time.
fn bomb() {
    let path = cache_dir().join("bomb-8g.tar.gz");
    write_gzip_bomb(&path, 8 << 30);
    let blob = std::fs::metadata(&path).unwrap().len();
    let mut img = image(&path, Digest::sha256_hex(&"00".repeat(32)).unwrap());
    img.layers[0].diff_id = None;
    let scratch = tempfile::tempdir_in(cache_dir()).unwrap();
    let options = SquashOptions {
        scratch_dir: Some(scratch.path().to_path_buf()),
        ..SquashOptions::default()
    };
    let t = Instant::now();
    let result = squash(&img, &options);
    let secs = t.elapsed().as_secs_f64();
    let outcome = match &result {
        Ok(fs) => format!(
            "accepted, {} bytes decompressed",
            fs.stats().bytes_decompressed
        ),
        Err(e) => format!("refused: {e}"),
    };
    println!(
        "1:1000 gzip bomb ({blob} bytes on disk, 8 GiB of zeros): {secs:.2}s, peak RSS {} KiB; {outcome}",
        peak_rss_kib()
    );
    drop(result);
    std::fs::remove_file(&path).unwrap();
}

fn main() {
    if std::env::args().any(|a| a == "--bomb") {
        bomb();
        return;
    }
    let big = std::env::args().any(|a| a == "--big");
    if big {
        let layer = build_layer(
            "layer-1g.tar.gz",
            &[("usr/lib", 700_000_000), ("usr/share", 300_000_000)],
            1,
        );
        let (digest, tar_bytes) = diff_id(&layer);
        let img = image(&layer, digest);
        // Reset the peak-RSS counter (Linux >= 4.0) so the figure covers the squash alone.
        let reset = std::fs::write("/proc/self/clear_refs", b"5").is_ok();
        let before = peak_rss_kib();
        let t = Instant::now();
        let fs = squash(&img, &squash_options()).unwrap();
        let secs = t.elapsed().as_secs_f64();
        let stats = fs.stats();
        println!(
            "1 GB layer: {} tar bytes, {} tree entries, {:.2}s, {:.1} MB/s; peak RSS during squash {} KiB (at start {} KiB, peak reset: {reset})",
            tar_bytes,
            stats.entries,
            secs,
            tar_bytes as f64 / 1e6 / secs,
            peak_rss_kib(),
            before
        );
        return;
    }

    let layer = build_layer(
        "layer-100m.tar.gz",
        &[
            ("usr/bin", 110_000_000),
            ("usr/include", 130_000_000),
            ("usr/lib/python3.11", 60_000_000),
            ("usr/share/doc", 20_000_000),
        ],
        6,
    );
    let blob_size = std::fs::metadata(&layer).unwrap().len();
    let (digest, tar_bytes) = diff_id(&layer);
    println!(
        "layer {}: {:.1} MB gzip, {:.1} MB tar",
        layer.display(),
        blob_size as f64 / 1e6,
        tar_bytes as f64 / 1e6
    );
    let img = image(&layer, digest);
    let iterations = 3;

    let gunzip = time(iterations, || {
        let mut dec = flate2::read::MultiGzDecoder::new(std::io::BufReader::with_capacity(
            256 * 1024,
            File::open(&layer).unwrap(),
        ));
        let mut buf = vec![0u8; 256 * 1024];
        while dec.read(&mut buf).unwrap() > 0 {}
    });
    let limit = report("flate2 (zlib-rs) decompress only", tar_bytes, &gunzip);

    let mut entries = 0;
    let squashed = time(iterations, || {
        let fs = squash(&img, &squash_options()).unwrap();
        entries = fs.stats().entries;
    });
    let ours = report("squash (1 layer, pipelined, diff_id)", tar_bytes, &squashed);

    let inline = time(iterations, || {
        let options = SquashOptions {
            pipeline: false,
            ..squash_options()
        };
        squash(&img, &options).unwrap();
    });
    report("squash (1 layer, one thread, diff_id)", tar_bytes, &inline);

    let unverified = time(iterations, || {
        let options = SquashOptions {
            pipeline: false,
            verify_diff_ids: false,
            ..squash_options()
        };
        squash(&img, &options).unwrap();
    });
    report(
        "squash (1 layer, one thread, no diff_id)",
        tar_bytes,
        &unverified,
    );

    let shell = time(iterations, || {
        let status = Command::new("sh")
            .arg("-c")
            .arg(format!(
                "gzip -dc '{}' | tar -t > /dev/null",
                layer.display()
            ))
            .status()
            .unwrap();
        assert!(status.success());
    });
    let reference = report("gzip -dc | tar -t", tar_bytes, &shell);

    println!("tree entries: {entries}");
    println!(
        "squash / decompress-only: {:.2}x slower; squash vs gzip|tar: {:.2}x faster",
        limit / ours,
        ours / reference
    );
    println!("peak RSS of this process: {} KiB", peak_rss_kib());
    std::io::stdout().flush().unwrap();
}
