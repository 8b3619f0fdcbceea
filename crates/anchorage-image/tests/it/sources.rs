//! Local sources against the real corpus archives: docker-archive, oci-archive, oci-dir, dir.
#![allow(
    clippy::unwrap_used,
    reason = "test helpers fail loudly on bad fixtures"
)]

use std::path::{Path, PathBuf};

use anchorage_image::{AcquireError, AcquireOptions};
use sha2::{Digest as _, Sha256};

use crate::runtime::acquire_blocking;
use anchorage_testkit::corpus_dir as corpus;

fn archives() -> PathBuf {
    corpus().join("images/archives")
}

fn options(cache: &Path) -> AcquireOptions {
    AcquireOptions {
        cache_dir: cache.to_path_buf(),
        use_docker_config: false,
        ..AcquireOptions::default()
    }
}

fn sha256_file(p: &Path) -> String {
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(std::fs::read(p).unwrap()))
    )
}

const CONFIG_3_12: &str = "sha256:b8a92f8794f8c714411fd7899e34bb75ed34e5e67019a7dffcc4ca26fc7310d6";
const DIFF_ID_3_12: &str =
    "sha256:cb0f6ba9bb4c9e1d3efc7a4fff04c43011bb93afa19c6c82f5361784596080cb";

#[test]
fn docker_archive_alpine_3_12() {
    let cache = tempfile::tempdir().unwrap();
    let src = format!(
        "docker-archive:{}",
        archives().join("alpine-3.12.docker.tar").display()
    );
    let img = acquire_blocking(&src, &options(cache.path())).unwrap();
    assert_eq!(img.scheme, "docker-archive");
    assert_eq!(img.input, src);
    assert_eq!(
        img.reference.as_deref(),
        Some("docker.io/corpus/alpine-3.12:latest")
    );
    assert_eq!(img.config_digest.as_ref().unwrap().to_string(), CONFIG_3_12);
    assert_eq!(img.platform.to_string(), "linux/amd64");
    assert_eq!(img.layers.len(), 1);
    let layer = &img.layers[0];
    assert_eq!(layer.digest.as_ref().unwrap().to_string(), DIFF_ID_3_12);
    assert_eq!(layer.diff_id.as_ref().unwrap().to_string(), DIFF_ID_3_12);
    assert_eq!(
        layer.media_type,
        "application/vnd.docker.image.rootfs.diff.tar"
    );
    assert_eq!(layer.size, 5_864_448);
    assert!(layer.path.starts_with(cache.path()));
    assert_eq!(sha256_file(&layer.path), DIFF_ID_3_12);
    // the member was hashed to its diff_id while stored: squashing does not hash it again
    assert!(layer.diff_id_verified);
    // the synthesized manifest's digest is the sha256 of the manifest JSON we report
    let m = img.manifest_json.as_ref().unwrap();
    assert_eq!(
        img.manifest_digest.as_ref().unwrap().to_string(),
        format!("sha256:{}", hex::encode(Sha256::digest(m.as_bytes())))
    );
    // a second acquisition gives the same answer (cache reuse)
    let again = acquire_blocking(&src, &options(cache.path())).unwrap();
    assert_eq!(again.manifest_digest, img.manifest_digest);
}

#[test]
fn oci_archive_alpine_3_12_and_selectors() {
    let cache = tempfile::tempdir().unwrap();
    let path = archives().join("alpine-3.12.oci.tar");
    let img = acquire_blocking(
        &format!("oci-archive:{}", path.display()),
        &options(cache.path()),
    )
    .unwrap();
    assert_eq!(img.scheme, "oci-archive");
    assert_eq!(
        img.manifest_digest.as_ref().unwrap().to_string(),
        "sha256:fdad40378ddd4a3595e347160647309e95615ad23a1db68075f396cfe1155327"
    );
    // same config as the docker-archive of the same image
    assert_eq!(img.config_digest.as_ref().unwrap().to_string(), CONFIG_3_12);
    assert_eq!(img.reference.as_deref(), Some("corpus/alpine-3.12:latest"));
    assert_eq!(img.layers.len(), 1);
    let layer = &img.layers[0];
    let blob = "sha256:58cd1ebaba8a20b68d34e5483c8e40203eac74d0036fdde86dc3f809d99da64b";
    assert_eq!(layer.digest.as_ref().unwrap().to_string(), blob);
    assert_eq!(layer.diff_id.as_ref().unwrap().to_string(), DIFF_ID_3_12);
    // gzip: only the squash sees the uncompressed bytes, so it checks the diff_id
    assert!(!layer.diff_id_verified);
    assert_eq!(
        layer.media_type,
        "application/vnd.oci.image.layer.v1.tar+gzip"
    );
    assert_eq!(sha256_file(&layer.path), blob);

    let by_tag = acquire_blocking(
        &format!("oci-archive:{}:latest", path.display()),
        &options(cache.path()),
    )
    .unwrap();
    assert_eq!(by_tag.manifest_digest, img.manifest_digest);
    let by_digest = acquire_blocking(
        &format!(
            "oci-archive:{}@{}",
            path.display(),
            img.manifest_digest.as_ref().unwrap()
        ),
        &options(cache.path()),
    )
    .unwrap();
    assert_eq!(by_digest.layers, img.layers);
    let err = acquire_blocking(
        &format!("oci-archive:{}:nope", path.display()),
        &options(cache.path()),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("nope") && msg.contains("corpus/alpine-3.12:latest"),
        "{msg}"
    );
}

#[test]
fn oci_dir_from_the_unpacked_archive() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let f = std::fs::File::open(archives().join("alpine-3.12.oci.tar")).unwrap();
    tar::Archive::new(f).unpack(dir.path()).unwrap();
    let img = acquire_blocking(
        &format!("oci-dir:{}", dir.path().display()),
        &options(cache.path()),
    )
    .unwrap();
    assert_eq!(img.scheme, "oci-dir");
    assert_eq!(img.config_digest.as_ref().unwrap().to_string(), CONFIG_3_12);
    // the layer was copied (verified) into the cache
    assert!(img.layers[0].path.starts_with(cache.path()));

    // tamper with the layer blob: verification fails, nothing is cached
    let cache2 = tempfile::tempdir().unwrap();
    let blob = dir
        .path()
        .join("blobs/sha256/58cd1ebaba8a20b68d34e5483c8e40203eac74d0036fdde86dc3f809d99da64b");
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 10;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, &bytes).unwrap();
    let err = acquire_blocking(
        &format!("oci-dir:{}", dir.path().display()),
        &options(cache2.path()),
    )
    .unwrap_err();
    assert!(matches!(err, AcquireError::Blob { .. }), "{err}");
    assert!(err.to_string().contains("58cd1eba"), "{err}");
    assert!(
        !cache2
            .path()
            .join("sha256/58cd1ebaba8a20b68d34e5483c8e40203eac74d0036fdde86dc3f809d99da64b")
            .exists()
    );
}

#[test]
fn dir_source_is_the_root() {
    let cache = tempfile::tempdir().unwrap();
    let root = corpus().join("images/alpine-3.20");
    let img = acquire_blocking(&format!("dir:{}", root.display()), &options(cache.path())).unwrap();
    assert_eq!(img.scheme, "dir");
    assert!(img.layers.is_empty());
    assert_eq!(img.root_dir.as_deref(), Some(root.as_path()));
    assert!(acquire_blocking("dir:/nonexistent/anchorage", &options(cache.path())).is_err());
}

#[test]
fn synthetic_oci_archive_with_a_lying_blob_name_is_rejected() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let tar_path = dir.path().join("bad.oci.tar");
    let mut b = tar::Builder::new(std::fs::File::create(&tar_path).unwrap());
    let mut add = |name: &str, data: &[u8]| {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, data).unwrap();
    };
    add("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#);
    let fake = "sha256:".to_string() + &"ab".repeat(32);
    add(
        &format!("blobs/sha256/{}", "ab".repeat(32)),
        b"not what the name says",
    );
    add("index.json", format!(r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{fake}","size":22}}]}}"#).as_bytes());
    b.finish().unwrap();
    drop(b);
    let err = acquire_blocking(
        &format!("oci-archive:{}", tar_path.display()),
        &options(cache.path()),
    )
    .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains(&fake) && msg.contains("verification"), "{msg}");
}

#[test]
fn missing_archive_names_the_path() {
    let cache = tempfile::tempdir().unwrap();
    let err =
        acquire_blocking("docker-archive:/nonexistent/x.tar", &options(cache.path())).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/x.tar"), "{err}");
}

/// An outer archive whose first header is an extension header (`kind`) declaring `size` bytes,
/// with those bytes present (a sparse file of zeros) and nothing after them.
fn archive_with_extension_header(path: &Path, kind: tar::EntryType, size: u64) {
    use std::io::Write as _;
    let mut h = tar::Header::new_gnu();
    h.as_gnu_mut().unwrap().name[..13].copy_from_slice(b"././@LongLink");
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(0o644);
    h.set_cksum();
    let mut f = std::fs::File::create(path).unwrap();
    f.write_all(h.as_bytes()).unwrap();
    f.set_len(512 + size.next_multiple_of(512) + 1024).unwrap();
}

#[test]
fn hostile_outer_archive_extension_headers_are_size_checked_before_reading() {
    // Before, tar::Archive read a 64 MiB GNU long name (or PAX header) whole into memory and
    // went on; now the layer reader's limits refuse it from its header.
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    for (scheme, kind, what) in [
        ("docker-archive", tar::EntryType::GNULongName, "path length"),
        ("docker-archive", tar::EntryType::GNULongLink, "path length"),
        ("docker-archive", tar::EntryType::XHeader, "pax header size"),
        ("oci-archive", tar::EntryType::GNULongName, "path length"),
        ("oci-archive", tar::EntryType::XHeader, "pax header size"),
    ] {
        let path = dir.path().join(format!("{scheme}-{kind:?}.tar"));
        archive_with_extension_header(&path, kind, 64 << 20);
        let err = acquire_blocking(
            &format!("{scheme}:{}", path.display()),
            &options(cache.path()),
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("{what} limit")) && msg.contains(scheme),
            "{scheme} {kind:?}: {msg}"
        );
    }
}

fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

fn tar_of(path: &Path, members: &[(&str, &[u8])]) {
    let mut b = tar::Builder::new(std::fs::File::create(path).unwrap());
    for (name, data) in members {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, name, *data).unwrap();
    }
    b.finish().unwrap();
}

#[test]
fn synthetic_layer_and_diff_id_count_mismatch_is_an_error_on_every_local_source() {
    // One layer, but a config with no rootfs.diff_ids (and one with two): before, oci-archive
    // and oci-dir silently dropped every diff_id check and docker-archive accepted none.
    let layer = b"a layer whose diff_id nobody can check".to_vec();
    let layer_hex = sha256_hex(&layer);
    for config in [
        r#"{"architecture":"amd64","os":"linux"}"#.to_string(),
        format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":["sha256:{layer_hex}","sha256:{layer_hex}"]}}}}"#
        ),
    ] {
        let cache = tempfile::tempdir().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let config_hex = sha256_hex(config.as_bytes());
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{config_hex}","size":{}}},"layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":"sha256:{layer_hex}","size":{}}}]}}"#,
            config.len(),
            layer.len()
        );
        let manifest_hex = sha256_hex(manifest.as_bytes());
        let index = format!(
            r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:{manifest_hex}","size":{}}}]}}"#,
            manifest.len()
        );
        let (c, m, l) = (
            format!("blobs/sha256/{config_hex}"),
            format!("blobs/sha256/{manifest_hex}"),
            format!("blobs/sha256/{layer_hex}"),
        );
        let members: Vec<(&str, &[u8])> = vec![
            ("oci-layout", br#"{"imageLayoutVersion":"1.0.0"}"#),
            ("index.json", index.as_bytes()),
            (&c, config.as_bytes()),
            (&m, manifest.as_bytes()),
            (&l, &layer),
        ];
        let oci = dir.path().join("image.oci.tar");
        tar_of(&oci, &members);
        let layout = dir.path().join("layout");
        for (name, data) in &members {
            let p = layout.join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, data).unwrap();
        }
        let docker_manifest =
            format!(r#"[{{"Config":"{config_hex}.json","Layers":["{layer_hex}/layer.tar"]}}]"#);
        let docker = dir.path().join("image.docker.tar");
        tar_of(
            &docker,
            &[
                ("manifest.json", docker_manifest.as_bytes()),
                (&format!("{config_hex}.json"), config.as_bytes()),
                (&format!("{layer_hex}/layer.tar"), &layer),
            ],
        );
        for source in [
            format!("oci-archive:{}", oci.display()),
            format!("oci-dir:{}", layout.display()),
            format!("docker-archive:{}", docker.display()),
        ] {
            let err = acquire_blocking(&source, &options(cache.path())).unwrap_err();
            assert!(
                err.to_string()
                    .contains("lists 1 layers but the config has"),
                "{source}: {err}"
            );
        }
    }
}
