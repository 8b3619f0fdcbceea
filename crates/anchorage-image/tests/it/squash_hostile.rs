//! Hostile and malformed layers (all synthetic, named so): path escapes, symlink escapes and
//! loops, decompression bombs, truncated and corrupt blobs, oversized headers.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on bad fixtures"
)]

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anchorage_image::{
    AcquiredImage, DirFs, EntryKind, FsError, ImageFs, LayerBlob, LimitKind, Limits, SquashError,
    SquashOptions, squash,
};
use anchorage_types::{Digest, Platform};
use flate2::Compression as Level;
use flate2::write::GzEncoder;

use anchorage_testkit::corpus_dir as corpus;

fn alpine320_gz() -> PathBuf {
    corpus().join("images/alpine-3.20/alpine-minirootfs-3.20.3-x86_64.tar.gz")
}

fn fake_digest(n: u8) -> Digest {
    Digest::sha256_hex(&format!("{n:02x}").repeat(32)).unwrap()
}

fn image_of(paths: &[&Path]) -> AcquiredImage {
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
                digest: Some(fake_digest(u8::try_from(i).unwrap() + 1)),
                diff_id: None,
                size: std::fs::metadata(p).unwrap().len(),
                media_type: String::new(),
                path: p.to_path_buf(),
            })
            .collect(),
        root_dir: None,
    }
}

/// A header whose name bytes are written raw (tar::Builder refuses `..` and absolute paths).
fn raw_header(name: &[u8], kind: tar::EntryType, size: u64, link: Option<&[u8]>) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    {
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name);
        if let Some(l) = link {
            old.linkname[..l.len()].copy_from_slice(l);
        }
    }
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_mtime(0);
    h.set_cksum();
    h
}

/// (raw name, type, data, raw link target)
type Spec<'a> = (&'a [u8], tar::EntryType, &'a [u8], Option<&'a [u8]>);

fn write_tar(path: &Path, entries: &[Spec<'_>]) {
    let mut b = tar::Builder::new(File::create(path).unwrap());
    for (name, kind, data, link) in entries {
        b.append(&raw_header(name, *kind, data.len() as u64, *link), *data)
            .unwrap();
    }
    b.into_inner().unwrap().flush().unwrap();
}

const FILE: tar::EntryType = tar::EntryType::Regular;
const LINK: tar::EntryType = tar::EntryType::Symlink;
const DIR: tar::EntryType = tar::EntryType::Directory;

#[test]
fn synthetic_dotdot_and_absolute_entries_stay_inside_the_tree() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("evil.tar");
    write_tar(
        &layer,
        &[
            (b"../../../../tmp/evil", FILE, b"one", None),
            (b"/etc/abs", FILE, b"two", None),
            (b"a/b/../../../c", FILE, b"three", None),
            (b"./d/./e", FILE, b"four", None),
        ],
    );
    let scratch = tempfile::tempdir().unwrap();
    let options = SquashOptions {
        scratch_dir: Some(scratch.path().to_path_buf()),
        ..SquashOptions::default()
    };
    let fs = squash(&image_of(&[&layer]), &options).unwrap();
    let paths: Vec<String> = fs.entries().map(|e| e.path).collect();
    assert_eq!(
        paths,
        [
            "/",
            "/c",
            "/d",
            "/d/e",
            "/etc",
            "/etc/abs",
            "/tmp",
            "/tmp/evil"
        ]
    );
    assert_eq!(fs.read_limited("/tmp/evil", 10).unwrap(), b"one");
    assert_eq!(fs.read_limited("/c", 10).unwrap(), b"three");
    // nothing named after an image path appeared on the host
    assert_eq!(std::fs::read_dir(scratch.path()).unwrap().count(), 0);
    assert!(!dir.path().join("tmp").exists());
}

#[test]
fn synthetic_nul_byte_in_pax_path_is_skipped_with_a_warning() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("nul.tar");
    let mut b = tar::Builder::new(File::create(&layer).unwrap());
    let record = b"22 path=etc/x\0/passwd\n";
    b.append(
        &raw_header(
            b"././@PaxHeader",
            tar::EntryType::XHeader,
            record.len() as u64,
            None,
        ),
        &record[..],
    )
    .unwrap();
    b.append(&raw_header(b"placeholder", FILE, 2, None), &b"hi"[..])
        .unwrap();
    b.append(&raw_header(b"ok", FILE, 2, None), &b"ok"[..])
        .unwrap();
    b.into_inner().unwrap().flush().unwrap();
    let fs = squash(&image_of(&[&layer]), &SquashOptions::default()).unwrap();
    assert!(fs.entry("/placeholder").is_none());
    assert!(fs.entry("/etc").is_none());
    assert_eq!(fs.read_limited("/ok", 10).unwrap(), b"ok");
    assert_eq!(fs.warnings().len(), 1, "{:?}", fs.warnings());
    assert!(fs.warnings()[0].contains("nul byte"));
}

#[test]
fn synthetic_whiteout_after_same_layer_children_keeps_the_tree_consistent() {
    let dir = tempfile::tempdir().unwrap();
    let lower = dir.path().join("lower.tar");
    write_tar(
        &lower,
        &[(b"d/old", FILE, b"old", None), (b"f", FILE, b"file", None)],
    );
    let upper = dir.path().join("upper.tar");
    write_tar(
        &upper,
        &[
            (b"d/new", FILE, b"new", None),
            (b".wh.d", FILE, b"", None),
            (b".wh.d", FILE, b"", None),
            (b"f/child", FILE, b"under a former file", None),
            (b".wh..wh..opq", FILE, b"", None),
        ],
    );
    let fs = squash(&image_of(&[&lower, &upper]), &SquashOptions::default()).unwrap();
    let paths: Vec<String> = fs.entries().map(|e| e.path).collect();
    assert_eq!(paths, ["/", "/d", "/d/new", "/f", "/f/child"]);
    assert_eq!(fs.entry("/d").unwrap().kind, EntryKind::Dir);
    assert_eq!(fs.entry("/f").unwrap().kind, EntryKind::Dir);
    assert_eq!(
        fs.read_limited("/f/child", 100).unwrap(),
        b"under a former file"
    );
}

#[test]
fn synthetic_gnu_and_pax_long_names_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("long.tar");
    let long_dir = format!("opt/{}", "deep-directory-name/".repeat(12));
    let gnu_path = format!("{long_dir}gnu-file");
    let pax_path = format!("{long_dir}pax-file");
    let mut b = tar::Builder::new(File::create(&layer).unwrap());
    // GNU: tar::Builder writes a `L` long-name entry for paths over 100 bytes
    let mut h = tar::Header::new_gnu();
    h.set_size(3);
    h.set_mode(0o600);
    b.append_data(&mut h, &gnu_path, &b"gnu"[..]).unwrap();
    // GNU long link name (`K`) on a symlink
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(LINK);
    h.set_size(0);
    b.append_link(&mut h, "opt/link", format!("/{gnu_path}"))
        .unwrap();
    // PAX: path, uid, gid and mtime from the extended header override the ustar fields
    b.append_pax_extensions([
        ("path", pax_path.as_bytes()),
        ("uid", b"4242".as_slice()),
        ("gid", b"4343".as_slice()),
        ("mtime", b"1700000000.5".as_slice()),
    ])
    .unwrap();
    b.append(&raw_header(b"short-name", FILE, 3, None), &b"pax"[..])
        .unwrap();
    b.into_inner().unwrap().flush().unwrap();

    let fs = squash(&image_of(&[&layer]), &SquashOptions::default()).unwrap();
    assert_eq!(fs.read_limited(&gnu_path, 10).unwrap(), b"gnu");
    assert_eq!(fs.entry(&gnu_path).unwrap().mode, 0o600);
    assert_eq!(fs.read_limited("/opt/link", 10).unwrap(), b"gnu");
    let pax = fs.entry(&pax_path).unwrap();
    assert_eq!((pax.uid, pax.gid, pax.mtime), (4242, 4343, 1_700_000_000));
    assert_eq!(fs.read_limited(&pax_path, 10).unwrap(), b"pax");
    assert!(fs.entry("/short-name").is_none());
}

#[test]
fn synthetic_escaping_symlinks_resolve_inside_the_root() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("links.tar");
    write_tar(
        &layer,
        &[
            (b"etc/passwd", FILE, b"image-passwd", None),
            (b"rel", LINK, b"", Some(b"../../../../../../etc/passwd")),
            (b"abs", LINK, b"", Some(b"/etc/passwd")),
            (b"sub/dir/up", LINK, b"", Some(b"../../../../etc")),
            (
                b"hostonly",
                LINK,
                b"",
                Some(b"../../../../proc/self/environ"),
            ),
        ],
    );
    let fs = squash(&image_of(&[&layer]), &SquashOptions::default()).unwrap();
    assert_eq!(fs.read_limited("/rel", 100).unwrap(), b"image-passwd");
    assert_eq!(fs.read_limited("/abs", 100).unwrap(), b"image-passwd");
    assert_eq!(
        fs.read_limited("/sub/dir/up/passwd", 100).unwrap(),
        b"image-passwd"
    );
    assert!(matches!(fs.resolve("/hostonly"), Err(FsError::NotFound(_))));
    // the link itself is recorded as written
    assert_eq!(
        fs.entry("/rel").unwrap().link_target.as_deref(),
        Some("../../../../../../etc/passwd")
    );
}

#[test]
fn synthetic_symlink_loops_terminate() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("loops.tar");
    write_tar(
        &layer,
        &[
            (b"a", LINK, b"", Some(b"b")),
            (b"b", LINK, b"", Some(b"/a")),
            (b"self", LINK, b"", Some(b"./self")),
            (b"d", DIR, b"", None),
            (b"d/deeper", LINK, b"", Some(b"../d/deeper/x")),
        ],
    );
    let fs = squash(&image_of(&[&layer]), &SquashOptions::default()).unwrap();
    for p in ["/a", "/b", "/self", "/d/deeper", "/a/x/y"] {
        let started = Instant::now();
        assert!(
            matches!(fs.resolve(p), Err(FsError::SymlinkLoop(_))),
            "{p}: {:?}",
            fs.resolve(p)
        );
        assert!(matches!(
            fs.read_limited(p, 10),
            Err(FsError::SymlinkLoop(_))
        ));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}

/// A valid tar header for one `size`-byte file of zeros, gzip'd as many concatenated members
/// so the bomb is built in milliseconds: ~2 MiB on disk, `size` bytes when decompressed.
fn write_gzip_bomb(path: &Path, size: u64) {
    let mut out = File::create(path).unwrap();
    let mut header = tar::Header::new_gnu();
    header.set_path("bomb").unwrap();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    let mut first = GzEncoder::new(Vec::new(), Level::best());
    first.write_all(header.as_bytes()).unwrap();
    out.write_all(&first.finish().unwrap()).unwrap();
    let mut member = GzEncoder::new(Vec::new(), Level::best());
    member.write_all(&vec![0u8; 1 << 20]).unwrap();
    let member = member.finish().unwrap();
    for _ in 0..size >> 20 {
        out.write_all(&member).unwrap();
    }
}

#[test]
fn synthetic_gzip_bomb_is_stopped_by_the_layer_limit() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = dir.path().join("bomb.tar.gz");
    write_gzip_bomb(&bomb, 2 << 30);
    assert!(std::fs::metadata(&bomb).unwrap().len() < 8 << 20);
    // the ratio check (which refuses this bomb first by default) is off to reach the byte limit
    let options = SquashOptions {
        limits: Limits {
            max_layer_decompressed_bytes: 64 << 20,
            max_compression_ratio: 0,
            ..Limits::default()
        },
        ..SquashOptions::default()
    };
    let started = Instant::now();
    let err = squash(&image_of(&[&bomb]), &options).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(60));
    match &err {
        SquashError::LimitExceeded {
            layer, kind, limit, ..
        } => {
            assert_eq!(*kind, LimitKind::LayerDecompressedBytes);
            assert_eq!(*limit, 64 << 20);
            assert_eq!(layer.index, 0);
        }
        other => panic!("unexpected {other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains("layer 0") && msg.contains(&fake_digest(1).to_string()),
        "{msg}"
    );

    // the same bomb against the single-file limit names the file
    let options = SquashOptions {
        limits: Limits {
            max_file_size: 1 << 30,
            ..Limits::default()
        },
        ..SquashOptions::default()
    };
    let err = squash(&image_of(&[&bomb]), &options).unwrap_err();
    assert!(
        matches!(&err, SquashError::LimitExceeded { kind: LimitKind::FileSize, path: Some(p), .. } if p == "/bomb"),
        "{err}"
    );
}

/// The same bomb as zstd: one frame per MiB of zeros.
fn write_zstd_bomb(path: &Path, size: u64) {
    let mut out = File::create(path).unwrap();
    let mut header = tar::Header::new_gnu();
    header.set_path("bomb").unwrap();
    header.set_size(size);
    header.set_mode(0o644);
    header.set_cksum();
    out.write_all(&zstd::encode_all(header.as_bytes().as_slice(), 3).unwrap())
        .unwrap();
    let member = zstd::encode_all(vec![0u8; 1 << 20].as_slice(), 3).unwrap();
    for _ in 0..(size >> 20) + 1 {
        out.write_all(&member).unwrap();
    }
}

#[test]
fn hostile_gzip_and_zstd_bombs_are_refused_by_the_default_ratio_limit() {
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("bomb.tar.gz");
    let zst = dir.path().join("bomb.tar.zst");
    // 1 GiB of zeros each: accepted (and fully copied to scratch) without a ratio limit.
    write_gzip_bomb(&gz, 1 << 30);
    write_zstd_bomb(&zst, 1 << 30);
    for (bomb, compression) in [(&gz, "gzip"), (&zst, "zstd")] {
        let started = Instant::now();
        let err = squash(&image_of(&[bomb]), &SquashOptions::default()).unwrap_err();
        let took = started.elapsed();
        match &err {
            SquashError::CompressionRatio {
                layer,
                ratio,
                limit,
                decompressed,
                ..
            } => {
                assert_eq!(layer.index, 0);
                assert_eq!(*limit, 200);
                assert!(*ratio > 200, "{err}");
                // refused right after the 64 MiB grace amount, not at the byte limits
                assert!(*decompressed <= (64 << 20) + (1 << 20), "{err}");
                assert!(*ratio > 900, "the ratio counts only consumed input: {err}");
            }
            other => panic!("{compression}: unexpected {other}"),
        }
        let msg = err.to_string();
        assert!(
            msg.contains("layer 0")
                && msg.contains(compression)
                && msg.contains("compression ratio limit of 200:1"),
            "{msg}"
        );
        assert!(took < Duration::from_secs(30), "{compression}: {took:?}");
    }
}

#[test]
fn synthetic_small_high_ratio_layer_is_accepted() {
    // 32 MiB of zeros (ratio ~1000:1) stays under the 64 MiB grace amount.
    let dir = tempfile::tempdir().unwrap();
    let gz = dir.path().join("zeros.tar.gz");
    write_gzip_bomb(&gz, 32 << 20);
    let fs = squash(&image_of(&[&gz]), &SquashOptions::default()).unwrap();
    assert_eq!(fs.entry("/bomb").unwrap().size, 32 << 20);
    // and a configured lower grace refuses it
    let options = SquashOptions {
        limits: Limits {
            compression_ratio_grace_bytes: 8 << 20,
            ..Limits::default()
        },
        ..SquashOptions::default()
    };
    let err = squash(&image_of(&[&gz]), &options).unwrap_err();
    assert!(matches!(err, SquashError::CompressionRatio { .. }), "{err}");
}

#[test]
fn synthetic_total_bytes_limit_spans_layers() {
    let options = SquashOptions {
        limits: Limits {
            max_total_decompressed_bytes: 12 << 20,
            ..Limits::default()
        },
        threads: 1,
        ..SquashOptions::default()
    };
    let gz = alpine320_gz();
    // one layer (about 8 MB of tar) fits, three do not
    assert!(squash(&image_of(&[&gz]), &options).is_ok());
    let err = squash(&image_of(&[&gz, &gz, &gz]), &options).unwrap_err();
    assert!(
        matches!(&err, SquashError::LimitExceeded { kind: LimitKind::TotalDecompressedBytes, layer, .. } if layer.index == 1),
        "{err}"
    );
}

#[test]
fn synthetic_entry_count_limit() {
    let options = SquashOptions {
        limits: Limits {
            max_entries: 50,
            ..Limits::default()
        },
        ..SquashOptions::default()
    };
    let err = squash(&image_of(&[&alpine320_gz()]), &options).unwrap_err();
    assert!(
        matches!(
            &err,
            SquashError::LimitExceeded {
                kind: LimitKind::Entries,
                limit: 50,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn synthetic_truncated_gzip_is_an_error() {
    let full = std::fs::read(alpine320_gz()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let cut_points = [
        1usize,
        2,
        10,
        100,
        1000,
        full.len() / 3,
        full.len() / 2,
        full.len() - 9,
        full.len() - 1,
    ];
    for cut in cut_points {
        let path = dir.path().join(format!("cut-{cut}.tar.gz"));
        std::fs::write(&path, &full[..cut]).unwrap();
        let err = squash(&image_of(&[&path]), &SquashOptions::default())
            .err()
            .unwrap_or_else(|| panic!("cut at {cut} was accepted"));
        assert!(err.to_string().contains("layer 0"), "{err}");
    }
}

#[test]
fn synthetic_corrupt_gzip_is_an_error() {
    let mut bytes = std::fs::read(alpine320_gz()).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("corrupt.tar.gz");
    std::fs::write(&path, &bytes).unwrap();
    let err = squash(&image_of(&[&path]), &SquashOptions::default()).unwrap_err();
    assert!(
        matches!(
            err,
            SquashError::Corrupt { .. } | SquashError::InvalidTar { .. }
        ),
        "{err}"
    );
}

#[test]
fn synthetic_truncated_plain_tar_names_the_entry() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("t.tar");
    write_tar(
        &layer,
        &[
            (b"first", FILE, b"ok", None),
            (b"big", FILE, &[7u8; 5000], None),
        ],
    );
    let bytes = std::fs::read(&layer).unwrap();
    std::fs::write(&layer, &bytes[..2048]).unwrap();
    let err = squash(&image_of(&[&layer]), &SquashOptions::default()).unwrap_err();
    assert!(
        matches!(&err, SquashError::Truncated { path: Some(p), .. } if p == "/big"),
        "{err}"
    );
}

#[test]
fn synthetic_oversized_gnu_long_name_is_refused_before_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("longname.tar.gz");
    // a GNU long-name header claiming 1 GiB of name, followed by zeros
    let mut gz = GzEncoder::new(File::create(&layer).unwrap(), Level::fast());
    let h = raw_header(b"././@LongLink", tar::EntryType::GNULongName, 1 << 30, None);
    gz.write_all(h.as_bytes()).unwrap();
    gz.write_all(&vec![b'a'; 1 << 20]).unwrap();
    gz.finish().unwrap();
    let err = squash(&image_of(&[&layer]), &SquashOptions::default()).unwrap_err();
    assert!(
        matches!(
            &err,
            SquashError::LimitExceeded {
                kind: LimitKind::PathLength,
                ..
            }
        ),
        "{err}"
    );
    // same for a PAX header
    let layer = dir.path().join("pax.tar");
    let mut f = File::create(&layer).unwrap();
    f.write_all(raw_header(b"pax", tar::EntryType::XHeader, 1 << 30, None).as_bytes())
        .unwrap();
    f.write_all(&vec![b'1'; 4096]).unwrap();
    drop(f);
    let err = squash(&image_of(&[&layer]), &SquashOptions::default()).unwrap_err();
    assert!(
        matches!(
            &err,
            SquashError::LimitExceeded {
                kind: LimitKind::PaxHeaderBytes,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn synthetic_bad_checksum_and_unsupported_compression_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("bad.tar");
    let mut h = raw_header(b"x", FILE, 0, None);
    h.as_old_mut().cksum = *b"0000001\0";
    std::fs::write(&layer, h.as_bytes()).unwrap();
    let err = squash(&image_of(&[&layer]), &SquashOptions::default()).unwrap_err();
    assert!(matches!(&err, SquashError::InvalidTar { .. }), "{err}");

    let xz = dir.path().join("layer.tar.xz");
    std::fs::write(&xz, b"\xfd7zXZ\x00\x00\x04rest").unwrap();
    let err = squash(&image_of(&[&xz]), &SquashOptions::default()).unwrap_err();
    assert!(
        matches!(&err, SquashError::UnsupportedCompression { compression, .. } if compression == "xz"),
        "{err}"
    );
}

#[test]
fn synthetic_empty_blob_is_an_empty_layer() {
    let dir = tempfile::tempdir().unwrap();
    let layer = dir.path().join("empty");
    std::fs::write(&layer, b"").unwrap();
    let fs = squash(&image_of(&[&layer]), &SquashOptions::default()).unwrap();
    assert_eq!(fs.entries().count(), 1);
    assert_eq!(fs.entry("/").unwrap().kind, EntryKind::Dir);
}

/// A small tar using every header kind the reader handles: PAX, GNU long name and long link,
/// hard link, symlink, whiteout and opaque markers, a device and a FIFO.
fn synthetic_rich_tar(path: &Path) {
    let mut b = tar::Builder::new(File::create(path).unwrap());
    let long = format!("usr/{}file", "long-component/".repeat(8));
    let mut h = tar::Header::new_gnu();
    h.set_size(4);
    b.append_data(&mut h, &long, &b"long"[..]).unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(LINK);
    h.set_size(0);
    b.append_link(&mut h, "usr/long-link", format!("/{long}"))
        .unwrap();
    b.append_pax_extensions([
        ("path", b"etc/pax-name".as_slice()),
        ("uid", b"7".as_slice()),
    ])
    .unwrap();
    b.append(&raw_header(b"ignored", FILE, 3, None), &b"pax"[..])
        .unwrap();
    let entries: [Spec<'_>; 6] = [
        (
            b"etc/hard",
            tar::EntryType::Link,
            b"",
            Some(b"etc/pax-name"),
        ),
        (b"etc/.wh.gone", FILE, b"", None),
        (b"usr/.wh..wh..opq", FILE, b"", None),
        (b"dev/null", tar::EntryType::Char, b"", None),
        (b"run/fifo", tar::EntryType::Fifo, b"", None),
        (b"../../escape", LINK, b"", Some(b"../../../etc/hard")),
    ];
    for (name, kind, data, link) in entries {
        b.append(&raw_header(name, kind, data.len() as u64, link), data)
            .unwrap();
    }
    b.into_inner().unwrap().flush().unwrap();
}

#[test]
fn synthetic_random_mutations_never_panic() {
    // Deterministic xorshift mutations of a real layer's tar bytes and of a tar with every
    // header kind, alone and over an intact lower layer: every outcome is Ok or Err.
    let dir = tempfile::tempdir().unwrap();
    let mut real = Vec::new();
    flate2::read::MultiGzDecoder::new(File::open(alpine320_gz()).unwrap())
        .take(64 * 1024)
        .read_to_end(&mut real)
        .unwrap();
    let rich_path = dir.path().join("rich.tar");
    synthetic_rich_tar(&rich_path);
    let rich = std::fs::read(&rich_path).unwrap();
    let intact = squash(&image_of(&[&rich_path]), &SquashOptions::default()).unwrap();
    assert_eq!(intact.read_limited("/escape", 10).unwrap(), b"pax");
    assert_eq!(
        intact.entry("/dev/null").unwrap().kind,
        EntryKind::CharDevice
    );
    assert_eq!(intact.entry("/run/fifo").unwrap().kind, EntryKind::Fifo);

    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..300 {
        let seed = if round % 2 == 0 { &real } else { &rich };
        let mut bytes = seed.clone();
        let len = bytes.len() as u64;
        for _ in 0..(next() % 16 + 1) {
            let at = usize::try_from(next() % len).unwrap();
            bytes[at] = u8::try_from(next() & 0xff).unwrap();
        }
        let cut = usize::try_from(next() % len).unwrap().max(1);
        let path = dir.path().join(format!("m{round}.tar"));
        std::fs::write(&path, &bytes[..cut]).unwrap();
        let layers: Vec<&Path> = if round % 3 == 0 {
            vec![&rich_path, &path]
        } else {
            vec![&path]
        };
        if let Ok(fs) = squash(&image_of(&layers), &SquashOptions::default()) {
            for e in fs.entries() {
                let _ = fs.resolve(&e.path);
                let _ = fs.read_limited(&e.path, 1 << 20);
            }
        }
    }
}

#[test]
fn synthetic_dirfs_never_follows_host_symlinks_outside_the_root() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), b"host secret").unwrap();
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("etc")).unwrap();
    std::fs::write(root.path().join("etc/passwd"), b"root-passwd").unwrap();
    let r = root.path();
    std::os::unix::fs::symlink(outside.path().join("secret"), r.join("abs-out")).unwrap();
    std::os::unix::fs::symlink("../../../../../../../../etc/passwd", r.join("rel")).unwrap();
    std::os::unix::fs::symlink(outside.path(), r.join("dir-out")).unwrap();
    std::os::unix::fs::symlink("loop", r.join("loop")).unwrap();

    let fs = DirFs::open(r, &Limits::default()).unwrap();
    // absolute host path is looked up inside the root, where it does not exist
    assert!(matches!(
        fs.read_limited("/abs-out", 100),
        Err(FsError::NotFound(_))
    ));
    assert!(matches!(
        fs.read_limited("/dir-out/secret", 100),
        Err(FsError::NotFound(_))
    ));
    // escaping relative link clamps at the root
    assert_eq!(fs.read_limited("/rel", 100).unwrap(), b"root-passwd");
    assert!(matches!(fs.resolve("/loop"), Err(FsError::SymlinkLoop(_))));
    // opening a symlink entry directly never follows it
    let link = fs.entry("/abs-out").unwrap().clone();
    assert_eq!(link.kind, EntryKind::Symlink);
    assert!(fs.open_entry(&link).is_err());

    // a directory swapped for a symlink after the walk is refused at open time
    let entry = fs.entry("/etc/passwd").unwrap().clone();
    std::fs::rename(r.join("etc"), r.join("etc-moved")).unwrap();
    std::os::unix::fs::symlink(outside.path(), r.join("etc")).unwrap();
    std::fs::write(outside.path().join("passwd"), b"host passwd").unwrap();
    assert!(fs.open_entry(&entry).is_err());

    let tight = Limits {
        max_entries: 3,
        ..Limits::default()
    };
    assert!(matches!(
        DirFs::open(r, &tight),
        Err(SquashError::DirRoot { .. })
    ));
}

proptest::proptest! {
    /// Whatever a tar entry is named, its normalized path is absolute, has no `.`/`..`/empty
    /// components, and normalizing again changes nothing.
    #[test]
    fn synthetic_entry_names_always_normalize_inside_the_root(name in "[a-z./\\\\]{0,40}") {
        let normalized = anchorage_image::normalize_path(&name).unwrap();
        proptest::prop_assert!(normalized.starts_with('/'));
        proptest::prop_assert!(normalized == "/" || !normalized.ends_with('/'));
        proptest::prop_assert!(normalized
            .split('/')
            .skip(1)
            .all(|c| normalized == "/" || (!c.is_empty() && c != "." && c != "..")));
        proptest::prop_assert_eq!(anchorage_image::normalize_path(&normalized).unwrap(), normalized.clone());
    }
}
