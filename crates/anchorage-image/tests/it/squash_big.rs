//! Big images (issue 15), all synthetic and named so: a 300,000-entry layer (the CI smoke of
//! `scripts/bench-big-images.sh`: counts only, no timing), many layers with whiteouts, opaque
//! directories and hard links, 300 layers, and a 10 GB sparse file.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on bad fixtures"
)]

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use anchorage_image::{
    AcquiredImage, EntryKind, FileEntry, FsError, ImageFs, LayerBlob, LimitKind, Limits,
    SquashError, SquashOptions, squash,
};
use anchorage_types::{Digest, Platform};

fn fake_digest(n: usize) -> Digest {
    Digest::sha256_hex(&format!("{n:064x}")).unwrap()
}

fn image_of(paths: &[PathBuf]) -> AcquiredImage {
    AcquiredImage {
        scheme: "oci-dir".to_string(),
        input: "synthetic".to_string(),
        reference: None,
        manifest_digest: None,
        index_digest: None,
        manifest_json: None,
        config_digest: None,
        config_json: None,
        platform: Platform::linux_amd64(),
        layers: paths
            .iter()
            .enumerate()
            .map(|(i, p)| LayerBlob {
                diff_id_verified: false,
                digest: Some(fake_digest(i + 1)),
                diff_id: None,
                size: std::fs::metadata(p).unwrap().len(),
                media_type: String::new(),
                path: p.clone(),
            })
            .collect(),
        root_dir: None,
    }
}

fn header(kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_mtime(1_700_000_000);
    h
}

type Builder = tar::Builder<flate2::write::GzEncoder<BufWriter<File>>>;

fn gz_builder(path: &Path) -> Builder {
    let file = BufWriter::new(File::create(path).unwrap());
    tar::Builder::new(flate2::write::GzEncoder::new(
        file,
        flate2::Compression::fast(),
    ))
}

fn finish(b: Builder) {
    b.into_inner().unwrap().finish().unwrap().flush().unwrap();
}

fn file(b: &mut Builder, path: &str, content: &[u8]) {
    let mut h = header(tar::EntryType::Regular, content.len() as u64);
    b.append_data(&mut h, path, content).unwrap();
}

fn dir(b: &mut Builder, path: &str) {
    let mut h = header(tar::EntryType::Directory, 0);
    b.append_data(&mut h, path, std::io::empty()).unwrap();
}

fn hard_link(b: &mut Builder, path: &str, target: &str) {
    let mut h = header(tar::EntryType::Link, 0);
    b.append_link(&mut h, path, target).unwrap();
}

fn read(fs: &dyn ImageFs, path: &str) -> String {
    let mut s = String::new();
    fs.open(path).unwrap().read_to_string(&mut s).unwrap();
    s
}

fn counts(fs: &dyn ImageFs) -> (usize, usize, usize) {
    let (mut files, mut dirs, mut links) = (0, 0, 0);
    for e in fs.entries() {
        match e.kind {
            EntryKind::File => files += 1,
            EntryKind::Dir => dirs += 1,
            EntryKind::Hardlink => links += 1,
            _ => {}
        }
    }
    (files, dirs, links)
}

/// The benchmark smoke: one gzip layer of 300,000 small files, 1,000 per directory.
#[test]
fn synthetic_300k_entry_layer_squashes_with_exact_counts() {
    let tmp = tempfile::tempdir().unwrap();
    let layer = tmp.path().join("big.tar.gz");
    let mut b = gz_builder(&layer);
    dir(&mut b, "data/");
    for d in 0..300 {
        dir(&mut b, &format!("data/d{d:04}/"));
        for f in 0..1000 {
            let n = d * 1000 + f;
            file(
                &mut b,
                &format!("data/d{d:04}/f{n}"),
                format!("file {n}\n").as_bytes(),
            );
        }
    }
    finish(b);
    let fs = squash(&image_of(&[layer]), &SquashOptions::default()).unwrap();
    assert_eq!(counts(&fs), (300_000, 302, 0));
    assert_eq!(fs.entry_count(), 300_302);
    assert_eq!(fs.stats().entries, 300_302);
    assert_eq!(fs.stats().tar_entries, 300_301);
    // order: parents first, byte order of full paths; contents by offset
    let mut previous = String::new();
    for (i, e) in fs.entries().enumerate() {
        assert!(i == 0 || e.path > previous, "{} after {previous}", e.path);
        previous = e.path;
    }
    assert_eq!(read(&fs, "/data/d0123/f123456"), "file 123456\n");
    assert_eq!(read(&fs, "/data/d0299/f299999"), "file 299999\n");
    assert!(fs.entry("/data/d0300").is_none());
    let under: Vec<FileEntry> = fs.entries_under("/data/d0007").collect();
    assert_eq!(under.len(), 1000);
    assert_eq!(under[0].path, "/data/d0007/f7000");
    assert_eq!(fs.entries_under("/data").count(), 300_300);
    assert_eq!(fs.entries_under("/").count(), 300_301);
    assert_eq!(fs.entries_under("/data/d0007/f7000").count(), 0);
}

/// Twenty layers: each deletes files of the previous one, makes one of its directories opaque,
/// replaces files and adds hard links (one of them to a file a later layer deletes).
#[test]
fn synthetic_many_layers_with_whiteouts_opaque_dirs_and_hard_links() {
    let tmp = tempfile::tempdir().unwrap();
    let mut layers = Vec::new();
    let mut alive: BTreeSet<String> = BTreeSet::new();
    let mut links: BTreeSet<String> = BTreeSet::new();
    let per_layer = 3000;
    for l in 0..20usize {
        let path = tmp.path().join(format!("layer{l}.tar.gz"));
        let mut b = gz_builder(&path);
        let first = l * per_layer;
        if l > 0 {
            let prev = first - per_layer;
            for n in prev..prev + 10 {
                file(&mut b, &format!("data/d{}/.wh.f{n}", n / 1000), b"");
                alive.remove(&format!("/data/d{}/f{n}", n / 1000));
            }
            let opaque = prev / 1000 + 1;
            dir(&mut b, &format!("data/d{opaque}/"));
            file(&mut b, &format!("data/d{opaque}/.wh..wh..opq"), b"");
            let prefix = format!("/data/d{opaque}/");
            alive.retain(|p| !p.starts_with(&prefix));
            links.retain(|p| !p.starts_with(&prefix));
            file(&mut b, &format!("data/d{opaque}/readded"), b"again\n");
            alive.insert(format!("/data/d{opaque}/readded"));
            let replaced = prev + 2000;
            file(
                &mut b,
                &format!("data/d{}/f{replaced}", replaced / 1000),
                b"replaced\n",
            );
        }
        for n in first..first + per_layer {
            if n % 1000 == 0 {
                dir(&mut b, &format!("data/d{}/", n / 1000));
            }
            let p = format!("data/d{}/f{n}", n / 1000);
            file(&mut b, &p, format!("file {n}\n").as_bytes());
            alive.insert(format!("/{p}"));
            if n % 100 == 0 {
                let link = format!("data/d{}/h{n}", n / 1000);
                hard_link(&mut b, &link, &p);
                links.insert(format!("/{link}"));
            }
        }
        finish(b);
        layers.push(path);
    }
    let fs = squash(&image_of(&layers), &SquashOptions::default()).unwrap();
    let (files, _, hard_links) = counts(&fs);
    assert_eq!(files, alive.len());
    assert_eq!(hard_links, links.len());
    let seen: BTreeSet<String> = fs
        .entries()
        .filter(|e| e.kind == EntryKind::File)
        .map(|e| e.path)
        .collect();
    assert_eq!(seen, alive);
    // f3000 was deleted by layer 2; its hard link h3000 keeps the content
    assert!(fs.entry("/data/d3/f3000").is_none());
    assert_eq!(read(&fs, "/data/d3/h3000"), "file 3000\n");
    // the opaque directory d4 holds only what layer 2 put there
    let d4: Vec<FileEntry> = fs
        .entries()
        .filter(|e| e.path.starts_with("/data/d4/"))
        .collect();
    assert_eq!(d4.len(), 1);
    assert_eq!(read(&fs, "/data/d4/readded"), "again\n");
    assert_eq!(read(&fs, "/data/d5/f5000"), "replaced\n");
    assert_eq!(read(&fs, "/data/d5/h5000"), "file 5000\n");
    assert_eq!(fs.entry("/data/d5/f5000").unwrap().layer_index, 2);
}

fn tiny_layers(dir: &Path, count: usize) -> Vec<PathBuf> {
    (0..count)
        .map(|l| {
            let path = dir.join(format!("l{l}.tar.gz"));
            let mut b = gz_builder(&path);
            file(&mut b, &format!("layers/l{l}"), format!("{l}\n").as_bytes());
            if l > 0 && l % 2 == 0 {
                file(&mut b, &format!("layers/.wh.l{}", l - 1), b"");
            }
            finish(b);
            path
        })
        .collect()
}

/// 300 layers squash within the default limits; a lower `max_layers` is a clear error.
#[test]
fn synthetic_300_layers_and_the_layer_limit() {
    let tmp = tempfile::tempdir().unwrap();
    let layers = tiny_layers(tmp.path(), 300);
    let image = image_of(&layers);
    let fs = squash(&image, &SquashOptions::default()).unwrap();
    // odd layers' files are deleted by the next even layer, except the last (299)
    assert_eq!(counts(&fs).0, 151);
    assert_eq!(fs.layers().len(), 300);
    assert_eq!(read(&fs, "/layers/l299"), "299\n");
    assert_eq!(fs.entry("/layers/l299").unwrap().layer_index, 299);
    assert!(fs.entry("/layers/l297").is_none());

    let options = SquashOptions {
        limits: Limits {
            max_layers: 200,
            ..Limits::default()
        },
        ..SquashOptions::default()
    };
    let err = squash(&image, &options).unwrap_err();
    assert!(
        matches!(
            err,
            SquashError::TooManyLayers {
                count: 300,
                limit: 200
            }
        ),
        "{err}"
    );
    let message = err.to_string();
    assert!(
        message.contains("300") && message.contains("200"),
        "{message}"
    );
}

/// A GNU sparse file of 10 GB (one 512-byte data block stored): above the default file-size
/// limit it is refused by name before anything is read; with the limit raised it is an entry
/// of 10 GB whose content is reported unreadable, and memory does not grow with its size.
#[test]
fn synthetic_10_gb_sparse_file_is_limited_or_recorded() {
    const SIZE: u64 = 10 * 1000 * 1000 * 1000;
    let tmp = tempfile::tempdir().unwrap();
    let layer = tmp.path().join("sparse.tar.gz");
    let mut b = gz_builder(&layer);
    file(&mut b, "small", b"small\n");
    let mut h = tar::Header::new_gnu();
    h.set_path("huge.img").unwrap();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_mode(0o644);
    h.set_size(512);
    h.set_mtime(0);
    {
        let gnu = h.as_gnu_mut().unwrap();
        gnu.set_real_size(SIZE);
        gnu.sparse[0].set_offset(SIZE - 512);
        gnu.sparse[0].set_length(512);
    }
    h.set_cksum();
    b.append(&h, &[7u8; 512][..]).unwrap();
    file(&mut b, "after", b"after\n");
    finish(b);
    let image = image_of(std::slice::from_ref(&layer));

    let err = squash(&image, &SquashOptions::default()).unwrap_err();
    match &err {
        SquashError::LimitExceeded {
            kind: LimitKind::FileSize,
            path: Some(p),
            ..
        } => assert_eq!(p, "/huge.img"),
        other => panic!("unexpected error: {other}"),
    }
    assert!(err.to_string().contains("/huge.img"), "{err}");

    let options = SquashOptions {
        limits: Limits {
            max_file_size: 16 * 1000 * 1000 * 1000,
            ..Limits::default()
        },
        ..SquashOptions::default()
    };
    let fs = squash(&image, &options).unwrap();
    let huge = fs.entry("/huge.img").unwrap();
    assert_eq!(huge.kind, EntryKind::File);
    assert_eq!(huge.size, SIZE);
    assert!(matches!(fs.open("/huge.img"), Err(FsError::Io { .. })));
    assert_eq!(read(&fs, "/after"), "after\n");
    assert!(fs.warnings().iter().any(|w| w.contains("/huge.img")));
}
