//! Squashing real layers from the corpus: the Alpine 3.20 minirootfs (gzip), the Alpine 3.12
//! docker-archive layer (plain tar), and a synthetic whiteout layer on top of the real one.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on bad fixtures"
)]

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use anchorage_image::{
    AcquiredImage, Compression, EntryKind, FsError, ImageFs, LayerBlob, SquashError, SquashOptions,
    open_fs, squash,
};
use anchorage_types::{Digest, Platform};
use sha2::Digest as _;

use anchorage_testkit::corpus_dir as corpus;

fn alpine320_gz() -> PathBuf {
    corpus().join("images/alpine-3.20/alpine-minirootfs-3.20.3-x86_64.tar.gz")
}

fn blob(path: PathBuf, diff_id: Option<Digest>) -> LayerBlob {
    let size = std::fs::metadata(&path).unwrap().len();
    LayerBlob {
        diff_id_verified: false,
        digest: Some(sha256_file(&path)),
        diff_id,
        size,
        media_type: "application/vnd.oci.image.layer.v1.tar+gzip".to_string(),
        path,
    }
}

fn image(layers: Vec<LayerBlob>) -> AcquiredImage {
    AcquiredImage {
        scheme: "oci-dir".to_string(),
        input: "test".to_string(),
        reference: None,
        manifest_digest: None,
        index_digest: None,
        manifest_json: None,
        config_digest: None,
        config_json: None,
        platform: Platform::linux_amd64(),
        layers,
        root_dir: None,
    }
}

fn sha256_reader(mut r: impl Read) -> Digest {
    let mut h = sha2::Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = r.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Digest::sha256_hex(&hex::encode(h.finalize())).unwrap()
}

fn sha256_file(path: &Path) -> Digest {
    sha256_reader(File::open(path).unwrap())
}

fn gunzip_digest(path: &Path) -> Digest {
    sha256_reader(flate2::read::MultiGzDecoder::new(File::open(path).unwrap()))
}

fn corpus_file(rel: &str) -> Vec<u8> {
    std::fs::read(corpus().join(rel)).unwrap()
}

#[test]
fn alpine_320_gzip_layer_squashes_with_real_contents() {
    let diff_id = gunzip_digest(&alpine320_gz());
    let img = image(vec![blob(alpine320_gz(), Some(diff_id))]);
    let fs = squash(&img, &SquashOptions::default()).unwrap();

    assert_eq!(
        fs.read_limited("/etc/alpine-release", 1024).unwrap(),
        corpus_file("images/alpine-3.20/etc/alpine-release")
    );
    // /etc/os-release is a symlink to ../usr/lib/os-release in Alpine 3.20
    assert_eq!(
        fs.read_limited("/etc/os-release", 4096).unwrap(),
        corpus_file("images/alpine-3.20/etc/os-release")
    );
    assert_eq!(
        fs.read_limited("/lib/apk/db/installed", 1 << 20).unwrap(),
        corpus_file("images/alpine-3.20/lib/apk/db/installed")
    );
    let sh = fs.entry("/bin/sh").unwrap();
    assert_eq!(sh.kind, EntryKind::Symlink);
    assert_eq!(sh.link_target.as_deref(), Some("/bin/busybox"));
    let busybox = fs.resolve("/bin/sh").unwrap();
    assert_eq!(busybox.path, "/bin/busybox");
    assert_eq!(busybox.kind, EntryKind::File);
    assert!(busybox.size > 100_000);
    assert_eq!(busybox.mode & 0o111, 0o111);
    let mut elf = [0u8; 4];
    fs.open("/bin/sh").unwrap().read_exact(&mut elf).unwrap();
    assert_eq!(&elf, b"\x7fELF");
    let tmp = fs.entry("/tmp").unwrap();
    assert_eq!(tmp.kind, EntryKind::Dir);
    assert_eq!(tmp.mode, 0o1777);
    assert!(fs.entry("/etc/hostname").unwrap().mtime > 1_700_000_000);

    let stats = fs.stats();
    assert_eq!(stats.layers, 1);
    assert_eq!(stats.per_layer[0].compression, Compression::Gzip);
    assert_eq!(
        stats.bytes_read,
        std::fs::metadata(alpine320_gz()).unwrap().len()
    );
    assert!(stats.bytes_decompressed > stats.bytes_read);
    // every tar entry except "./" (the root) is a tree entry
    assert_eq!(stats.entries as u64, stats.tar_entries);
    assert_eq!(fs.entries().count(), stats.entries);
    assert!(fs.warnings().is_empty(), "{:?}", fs.warnings());
    // parents come before children
    let paths: Vec<String> = fs.entries().map(|e| e.path).collect();
    assert_eq!(paths[0], "/");
    for p in &paths[1..] {
        let parent = &p[..p.rfind('/').unwrap().max(1)];
        assert!(
            fs.entry(parent).is_some_and(|e| e.kind == EntryKind::Dir),
            "{p}"
        );
    }
}

#[test]
fn wrong_diff_id_is_an_error_naming_the_layer() {
    let wrong = Digest::sha256_hex(&"ab".repeat(32)).unwrap();
    let layer = blob(alpine320_gz(), Some(wrong.clone()));
    let digest = layer.digest.clone().unwrap();
    let img = image(vec![layer]);
    for pipeline in [false, true] {
        let options = SquashOptions {
            pipeline,
            ..SquashOptions::default()
        };
        let err = squash(&img, &options).unwrap_err();
        assert!(matches!(err, SquashError::DiffIdMismatch { .. }), "{err}");
        let msg = err.to_string();
        assert!(
            msg.contains("layer 0") && msg.contains(&digest.to_string()),
            "{msg}"
        );
        assert!(msg.contains(&wrong.to_string()), "{msg}");
    }
}

/// Extracts the uncompressed layer of the Alpine 3.12 docker-archive into `dir`.
fn alpine312_plain_layer(dir: &Path) -> (PathBuf, Digest) {
    let archive = corpus().join("images/archives/alpine-3.12.docker.tar");
    let mut ar = tar::Archive::new(File::open(archive).unwrap());
    let mut layer_path = None;
    for entry in ar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        if name.ends_with(".tar") && entry.header().entry_type().is_file() {
            let out = dir.join("layer.tar");
            let mut f = File::create(&out).unwrap();
            std::io::copy(&mut entry, &mut f).unwrap();
            layer_path = Some((out, name.trim_end_matches(".tar").to_string()));
        }
    }
    let (path, hex) = layer_path.unwrap();
    (path, Digest::sha256_hex(&hex).unwrap())
}

#[test]
fn alpine_312_plain_tar_layer_from_docker_archive() {
    let dir = tempfile::tempdir().unwrap();
    let (path, diff_id) = alpine312_plain_layer(dir.path());
    let scratch = tempfile::tempdir().unwrap();
    let options = SquashOptions {
        scratch_dir: Some(scratch.path().to_path_buf()),
        ..SquashOptions::default()
    };
    let fs = squash(&image(vec![blob(path, Some(diff_id))]), &options).unwrap();
    assert_eq!(fs.stats().per_layer[0].compression, Compression::None);
    assert_eq!(
        fs.read_limited("/etc/alpine-release", 1024).unwrap(),
        corpus_file("images/alpine-3.12/etc/alpine-release")
    );
    assert_eq!(
        fs.read_limited("/lib/apk/db/installed", 1 << 20).unwrap(),
        corpus_file("images/alpine-3.12/lib/apk/db/installed")
    );
    // plain layers are read in place: nothing was written to the scratch directory
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
}

#[test]
fn zstd_layer_of_real_rootfs_matches_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let zst = dir.path().join("layer.tar.zst");
    let mut input = flate2::read::MultiGzDecoder::new(File::open(alpine320_gz()).unwrap());
    let mut enc = zstd::stream::write::Encoder::new(File::create(&zst).unwrap(), 3).unwrap();
    std::io::copy(&mut input, &mut enc).unwrap();
    enc.finish().unwrap().flush().unwrap();

    let diff_id = gunzip_digest(&alpine320_gz());
    let from_zstd = squash(
        &image(vec![blob(zst, Some(diff_id))]),
        &SquashOptions::default(),
    )
    .unwrap();
    let from_gzip = squash(
        &image(vec![blob(alpine320_gz(), None)]),
        &SquashOptions::default(),
    )
    .unwrap();
    assert_eq!(
        from_zstd.stats().per_layer[0].compression,
        Compression::Zstd
    );
    let a: Vec<_> = from_zstd.entries().collect();
    let b: Vec<_> = from_gzip.entries().collect();
    assert_eq!(a, b);
    assert_eq!(
        from_zstd
            .read_limited("/lib/apk/db/installed", 1 << 20)
            .unwrap(),
        from_gzip
            .read_limited("/lib/apk/db/installed", 1 << 20)
            .unwrap()
    );
}

fn header(path: &str, kind: tar::EntryType, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_path(path).unwrap();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_mtime(1_700_000_000);
    h.set_cksum();
    h
}

/// A second layer with whiteouts, written as Docker/OCI tools do.
fn synthetic_whiteout_layer(dir: &Path) -> PathBuf {
    let path = dir.join("layer2.tar");
    let mut b = tar::Builder::new(File::create(&path).unwrap());
    let empty: &[u8] = &[];
    let mut add = |name: &str, kind: tar::EntryType, data: &[u8]| {
        b.append(&header(name, kind, data.len() as u64), data)
            .unwrap();
    };
    add("etc/", tar::EntryType::Directory, empty);
    add("etc/.wh.motd", tar::EntryType::Regular, empty);
    add("etc/hostname", tar::EntryType::Regular, b"layer-two\n");
    add("etc/apk/", tar::EntryType::Directory, empty);
    add(
        "etc/apk/repositories",
        tar::EntryType::Regular,
        b"https://example.invalid/main\n",
    );
    add("etc/apk/.wh..wh..opq", tar::EntryType::Regular, empty);
    add("lib/.wh.apk", tar::EntryType::Regular, empty);
    add("media", tar::EntryType::Regular, b"now a file\n");
    add("opt/", tar::EntryType::Directory, empty);
    add("opt/new", tar::EntryType::Regular, b"kept\n");
    add("opt/.wh.new", tar::EntryType::Regular, empty);
    let mut link = header("usr/bin/hostname-copy", tar::EntryType::Link, 0);
    link.set_link_name("etc/hostname").unwrap();
    link.set_cksum();
    b.append(&link, empty).unwrap();
    b.into_inner().unwrap().flush().unwrap();
    path
}

#[test]
fn synthetic_whiteouts_over_real_alpine_layer() {
    let dir = tempfile::tempdir().unwrap();
    let upper = synthetic_whiteout_layer(dir.path());
    let img = image(vec![blob(alpine320_gz(), None), blob(upper, None)]);
    for (threads, pipeline) in [(1, false), (1, true), (2, true)] {
        let options = SquashOptions {
            threads,
            pipeline,
            ..SquashOptions::default()
        };
        let fs = squash(&img, &options).unwrap();
        assert_eq!(fs.layers().len(), 2);
        // .wh.motd deleted the lower file
        assert!(fs.entry("/etc/motd").is_none());
        // replaced file, from layer 1
        assert_eq!(
            fs.read_limited("/etc/hostname", 100).unwrap(),
            b"layer-two\n"
        );
        assert_eq!(fs.entry("/etc/hostname").unwrap().layer_index, 1);
        // opaque dir: lower children gone, same-layer child kept
        assert!(fs.entry("/etc/apk/world").is_none());
        assert!(fs.entry("/etc/apk/keys").is_none());
        assert!(fs.entry("/etc/apk/arch").is_none());
        assert_eq!(
            fs.read_limited("/etc/apk/repositories", 100).unwrap(),
            b"https://example.invalid/main\n"
        );
        // whiteout of a directory removes the subtree
        assert!(fs.entry("/lib/apk").is_none());
        assert!(fs.entry("/lib/apk/db/installed").is_none());
        assert!(fs.entry("/lib").is_some());
        // a file replacing a directory hides its children
        assert_eq!(fs.entry("/media").unwrap().kind, EntryKind::File);
        assert!(fs.entry("/media/cdrom").is_none());
        // a layer's own whiteout does not hide its own entries
        assert_eq!(fs.read_limited("/opt/new", 100).unwrap(), b"kept\n");
        // hard link reads its target's content
        let hl = fs.entry("/usr/bin/hostname-copy").unwrap();
        assert_eq!(hl.kind, EntryKind::Hardlink);
        assert_eq!(hl.link_target.as_deref(), Some("/etc/hostname"));
        assert_eq!(
            fs.read_limited("/usr/bin/hostname-copy", 100).unwrap(),
            b"layer-two\n"
        );
        // untouched lower content is still there, from layer 0
        assert_eq!(fs.entry("/bin/busybox").unwrap().layer_index, 0);
        assert_eq!(fs.stats().whiteouts, 4);
        assert_eq!(fs.stats().per_layer.len(), 2);
        // whiteout markers are not entries
        assert!(fs.entries().all(|e| !e.path.contains(".wh.")));
    }
}

#[test]
fn open_fs_dispatches_dir_and_layers() {
    let root = corpus().join("images/alpine-3.20");
    let mut img = image(Vec::new());
    img.scheme = "dir".to_string();
    img.root_dir = Some(root.clone());
    let fs = open_fs(&img, &SquashOptions::default()).unwrap();
    assert_eq!(
        fs.read_limited("/etc/os-release", 4096).unwrap(),
        std::fs::read(root.join("etc/os-release")).unwrap()
    );
    assert!(
        fs.entry("/alpine-minirootfs-3.20.3-x86_64.tar.gz")
            .is_some()
    );
    assert!(matches!(fs.open("/etc"), Err(FsError::NotAFile(_))));

    let layered = open_fs(
        &image(vec![blob(alpine320_gz(), None)]),
        &SquashOptions::default(),
    )
    .unwrap();
    assert!(layered.entry("/bin/busybox").is_some());
}

#[test]
fn synthetic_hard_link_keeps_its_content_when_a_later_layer_replaces_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let upper = synthetic_whiteout_layer(dir.path());
    let top = dir.path().join("layer3.tar");
    let mut b = tar::Builder::new(File::create(&top).unwrap());
    let data = b"replaced-again\n";
    b.append(
        &header("etc/hostname", tar::EntryType::Regular, data.len() as u64),
        &data[..],
    )
    .unwrap();
    b.into_inner().unwrap().flush().unwrap();
    let img = image(vec![
        blob(alpine320_gz(), None),
        blob(upper, None),
        blob(top, None),
    ]);
    let fs = squash(&img, &SquashOptions::default()).unwrap();
    assert_eq!(fs.read_limited("/etc/hostname", 100).unwrap(), data);
    assert_eq!(fs.entry("/etc/hostname").unwrap().layer_index, 2);
    // the link made in layer 1 still has layer 1's content
    assert_eq!(
        fs.read_limited("/usr/bin/hostname-copy", 100).unwrap(),
        b"layer-two\n"
    );
    assert_eq!(fs.entry("/usr/bin/hostname-copy").unwrap().size, 10);
}

/// The scratch copy of a compressed layer holds only file contents (not the tar headers and
/// padding), at offsets of its own: every regular file and hard link of the real Alpine 3.20
/// layer reads the same bytes from the gzip layer (with the copy made on the sink thread or
/// inline) as from the same layer gunzipped and read in place.
#[test]
fn gzip_layer_contents_read_back_like_the_plain_tar_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("layer.tar");
    let mut input = flate2::read::MultiGzDecoder::new(File::open(alpine320_gz()).unwrap());
    std::io::copy(&mut input, &mut File::create(&plain).unwrap()).unwrap();
    let diff_id = gunzip_digest(&alpine320_gz());
    let in_place = squash(
        &image(vec![blob(plain, Some(diff_id.clone()))]),
        &SquashOptions::default(),
    )
    .unwrap();
    assert_eq!(in_place.stats().per_layer[0].compression, Compression::None);
    for pipeline in [true, false] {
        let options = SquashOptions {
            pipeline,
            ..SquashOptions::default()
        };
        let copied = squash(
            &image(vec![blob(alpine320_gz(), Some(diff_id.clone()))]),
            &options,
        )
        .unwrap();
        let entries: Vec<_> = copied.entries().collect();
        assert_eq!(entries, in_place.entries().collect::<Vec<_>>());
        let mut files = 0;
        for e in &entries {
            if !matches!(e.kind, EntryKind::File | EntryKind::Hardlink) {
                continue;
            }
            let mut a = Vec::new();
            copied.open_entry(e).unwrap().read_to_end(&mut a).unwrap();
            let mut b = Vec::new();
            in_place.open_entry(e).unwrap().read_to_end(&mut b).unwrap();
            assert_eq!(a, b, "{} (pipeline {pipeline})", e.path);
            assert_eq!(a.len() as u64, e.size, "{}", e.path);
            files += 1;
        }
        assert!(files > 50, "only {files} files");
    }
}
