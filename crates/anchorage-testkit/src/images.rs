//! Test images built from the shared corpus with `umoci` and pushed with `skopeo`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::registry::Registry;
use crate::tools::{TestkitError, run};

/// Manifest format used when pushing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// OCI manifest (and index).
    Oci,
    /// Docker v2 schema 2 (`skopeo --format v2s2`).
    V2s2,
}

/// The shared corpus: `../shared/corpus` next to the repository, or, for a worktree nested
/// deeper (`/work/wt/NAME`), `shared/corpus` beside the nearest ancestor that has one.
pub fn corpus_dir() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let beside_repo = manifest.join("../../../shared/corpus");
    if beside_repo.is_dir() {
        return beside_repo;
    }
    manifest
        .ancestors()
        .skip(3)
        .map(|a| a.join("shared/corpus"))
        .find(|c| c.is_dir())
        .unwrap_or(beside_repo)
}

/// The official Alpine 3.20.3 x86_64 minirootfs tarball kept in the corpus.
pub fn alpine_minirootfs() -> PathBuf {
    corpus_dir().join("images/alpine-3.20/alpine-minirootfs-3.20.3-x86_64.tar.gz")
}

fn rootless() -> bool {
    run(Command::new("id").arg("-u"))
        .map(|u| u.trim() != "0")
        .unwrap_or(true)
}

/// Builds (in `dir/layout`) an OCI image `tag` from the Alpine 3.20 minirootfs with the given
/// config architecture, one layer, as REBUILD.md §3c does. Returns the layout path.
pub fn build_alpine_layout(
    dir: &Path,
    tag: &str,
    architecture: &str,
) -> Result<PathBuf, TestkitError> {
    let layout = dir.join("layout");
    if !layout.join("index.json").exists() {
        run(Command::new("umoci")
            .args(["init", "--layout"])
            .arg(&layout))?;
    }
    let rootfs = dir.join("rootfs");
    if !rootfs.exists() {
        std::fs::create_dir_all(&rootfs)?;
        run(Command::new("tar")
            .arg("-xzf")
            .arg(alpine_minirootfs())
            .arg("-C")
            .arg(&rootfs))?;
    }
    let image = format!("{}:{tag}", layout.display());
    run(Command::new("umoci").args(["new", "--image", &image]))?;
    run(Command::new("umoci").args([
        "config",
        "--image",
        &image,
        "--os",
        "linux",
        "--architecture",
        architecture,
        "--config.cmd",
        "/bin/sh",
        "--created",
        "2024-01-01T00:00:00Z",
    ]))?;
    let mut insert = Command::new("umoci");
    insert.arg("insert");
    if rootless() {
        insert.arg("--rootless");
    }
    insert
        .args([
            "--image",
            &image,
            "--history.created_by",
            "ADD alpine-minirootfs-3.20.3",
        ])
        .arg(&rootfs)
        .arg("/");
    run(&mut insert)?;
    Ok(layout)
}

/// Builds `alpine-amd64` and `alpine-arm64` (same rootfs, different config architecture) and an
/// OCI index `tag` over both (linux/amd64, linux/arm64/v8) in `dir/layout`.
pub fn build_multiarch_layout(dir: &Path, tag: &str) -> Result<PathBuf, TestkitError> {
    let layout = build_alpine_layout(dir, "alpine-amd64", "amd64")?;
    build_alpine_layout(dir, "alpine-arm64", "arm64")?;
    let index_path = layout.join("index.json");
    let mut index: Value = serde_json::from_slice(&std::fs::read(&index_path)?)
        .map_err(|e| TestkitError::Other(format!("index.json: {e}")))?;
    let find = |name: &str| -> Result<Value, TestkitError> {
        index["manifests"]
            .as_array()
            .and_then(|m| {
                m.iter()
                    .find(|d| d["annotations"]["org.opencontainers.image.ref.name"] == name)
                    .cloned()
            })
            .ok_or_else(|| TestkitError::Other(format!("{name} not in index.json")))
    };
    let mut amd = find("alpine-amd64")?;
    let mut arm = find("alpine-arm64")?;
    for (d, arch, variant) in [(&mut amd, "amd64", None), (&mut arm, "arm64", Some("v8"))] {
        if let Some(o) = d.as_object_mut() {
            o.remove("annotations");
            let mut p = serde_json::json!({"os": "linux", "architecture": arch});
            if let Some(v) = variant {
                p["variant"] = v.into();
            }
            o.insert("platform".into(), p);
        }
    }
    let inner = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [amd, arm],
    })
    .to_string();
    let hex = hex::encode(Sha256::digest(inner.as_bytes()));
    std::fs::write(layout.join("blobs/sha256").join(&hex), &inner)?;
    if let Some(list) = index["manifests"].as_array_mut() {
        list.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": format!("sha256:{hex}"),
            "size": inner.len(),
            "annotations": {"org.opencontainers.image.ref.name": tag},
        }));
    }
    std::fs::write(&index_path, index.to_string())?;
    Ok(layout)
}

/// Pushes `layout:tag` to `registry` as `repository:dest_tag` with skopeo (all platforms of
/// an index), in the given manifest format.
pub fn push_oci_layout(
    registry: &Registry,
    layout: &Path,
    tag: &str,
    repository: &str,
    dest_tag: &str,
    format: Format,
) -> Result<(), TestkitError> {
    let mut cmd = Command::new("skopeo");
    cmd.args(["copy", "--all", "--retry-times", "2"]);
    cmd.args(registry.skopeo_dest_args(repository)?);
    if format == Format::V2s2 {
        cmd.args(["--format", "v2s2"]);
    }
    cmd.arg(format!("oci:{}:{tag}", layout.display()));
    cmd.arg(format!(
        "docker://{}/{repository}:{dest_tag}",
        registry.host()
    ));
    run(&mut cmd).map(|_| ())
}

/// Real packages fetched from the package registries for the service tests, cached in the
/// system temp directory: `lodash` 4.17.4 (npm, GHSA-jf85-cpcp-j695 and others in the corpus),
/// `urllib3` 1.24.1 (PyPI wheel, PYSEC records in the corpus) and Debian's
/// `libcommons-io-java` 2.11.0 (a real jar).
fn app_packages() -> Result<PathBuf, TestkitError> {
    let dir = std::env::temp_dir()
        .join("anchorage-testdata")
        .join("app-packages");
    std::fs::create_dir_all(&dir)?;
    if !dir.join("lodash-4.17.4.tgz").exists() {
        run(Command::new("npm")
            .args(["pack", "--silent", "lodash@4.17.4"])
            .current_dir(&dir))?;
    }
    if !dir.join("urllib3-1.24.1-py2.py3-none-any.whl").exists() {
        run(Command::new("python3")
            .args([
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary=:all:",
            ])
            .args(["urllib3==1.24.1", "-d"])
            .arg(&dir))?;
    }
    let has_deb = std::fs::read_dir(&dir)?.flatten().any(|e| {
        e.file_name()
            .to_string_lossy()
            .starts_with("libcommons-io-java_")
    });
    if !has_deb {
        run(Command::new("apt-get")
            .args(["download", "-q", "libcommons-io-java"])
            .current_dir(&dir))?;
    }
    Ok(dir)
}

/// Builds (in `dir/layout`) the image `tag`: the Alpine 3.20 minirootfs layer of
/// [`build_alpine_layout`] plus a second layer holding real packages from the registries
/// (npm `lodash` 4.17.4 under `usr/lib/node_modules`, the PyPI wheel of `urllib3` 1.24.1
/// unpacked into `usr/lib/python3.12/site-packages`, Debian's commons-io jar in `opt/app`).
/// Returns the layout path.
pub fn build_app_layout(dir: &Path, tag: &str) -> Result<PathBuf, TestkitError> {
    let layout = build_alpine_layout(dir, tag, "amd64")?;
    let packages = app_packages()?;
    let app = dir.join("app-layer");
    if app.exists() {
        std::fs::remove_dir_all(&app)?;
    }
    let modules = app.join("usr/lib/node_modules");
    let site = app.join("usr/lib/python3.12/site-packages");
    let opt = app.join("opt/app");
    for d in [&modules, &site, &opt] {
        std::fs::create_dir_all(d)?;
    }
    run(Command::new("tar")
        .arg("-xzf")
        .arg(packages.join("lodash-4.17.4.tgz"))
        .arg("-C")
        .arg(&modules))?;
    std::fs::rename(modules.join("package"), modules.join("lodash"))?;
    run(Command::new("python3")
        .args(["-m", "zipfile", "-e"])
        .arg(packages.join("urllib3-1.24.1-py2.py3-none-any.whl"))
        .arg(&site))?;
    let deb = std::fs::read_dir(&packages)?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("libcommons-io-java_"))
        })
        .ok_or_else(|| std::io::Error::other("libcommons-io-java .deb missing"))?;
    let unpacked = dir.join("deb");
    run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&unpacked))?;
    let jar = std::fs::read_dir(unpacked.join("usr/share/java"))?
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            p.extension().is_some_and(|e| e == "jar")
                && !std::fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink())
        })
        .ok_or_else(|| std::io::Error::other("no jar in libcommons-io-java"))?;
    std::fs::copy(&jar, opt.join("commons-io.jar"))?;
    // The layer is written by GNU tar and added verbatim: `umoci insert` 0.4.7 ends this
    // layer's tar stream without its last blocks (GNU tar reports "Unexpected EOF").
    let tarball = dir.join("app-layer.tar");
    run(Command::new("tar")
        .args(["--owner=0", "--group=0", "--numeric-owner", "-cf"])
        .arg(&tarball)
        .arg("-C")
        .arg(&app)
        .args(["usr", "opt"]))?;
    let image = format!("{}:{tag}", layout.display());
    run(Command::new("umoci")
        .args([
            "raw",
            "add-layer",
            "--image",
            &image,
            "--history.created_by",
            "COPY app /",
        ])
        .arg(&tarball))?;
    Ok(layout)
}

/// Adds a layer holding `files` (image path without the leading `/`, host file to copy) to
/// `layout:tag`, written by GNU tar and added with `umoci raw add-layer` (see
/// [`build_app_layout`] for why not `umoci insert`).
fn add_files_layer(
    dir: &Path,
    layout: &Path,
    tag: &str,
    name: &str,
    files: &[(&str, &Path)],
) -> Result<(), TestkitError> {
    let root = dir.join(name);
    if root.exists() {
        std::fs::remove_dir_all(&root)?;
    }
    for (path, source) in files {
        let target = root.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::copy(source, &target)?;
    }
    let tarball = dir.join(format!("{name}.tar"));
    run(Command::new("tar")
        .args(["--owner=0", "--group=0", "--numeric-owner", "-cf"])
        .arg(&tarball)
        .arg("-C")
        .arg(&root)
        .arg("."))?;
    let image = format!("{}:{tag}", layout.display());
    run(Command::new("umoci")
        .args([
            "raw",
            "add-layer",
            "--image",
            &image,
            "--history.created_by",
            &format!("COPY {name} /"),
        ])
        .arg(&tarball))?;
    Ok(())
}

/// Builds (in `dir/layout`) the image `tag` for malware-scan tests: the Alpine 3.20 minirootfs
/// layer of [`build_alpine_layout`] (whose `/lib/libcrypto.so.3`, 4,478,288 bytes, is its
/// largest file), a layer with the EICAR test file at `/opt/eicar/eicar.com`, and a layer
/// with a copy of the minirootfs tarball itself at `/opt/app/payload.tar.gz` (3,490,290 bytes;
/// give it a hash signature with [`crate::ClamdServer::start`]). Returns the layout path.
pub fn build_malware_layout(dir: &Path, tag: &str) -> Result<PathBuf, TestkitError> {
    let layout = build_alpine_layout(dir, tag, "amd64")?;
    let eicar = dir.join("eicar.com");
    std::fs::write(&eicar, crate::clamd::eicar())?;
    add_files_layer(
        dir,
        &layout,
        tag,
        "eicar-layer",
        &[("opt/eicar/eicar.com", &eicar)],
    )?;
    add_files_layer(
        dir,
        &layout,
        tag,
        "payload-layer",
        &[("opt/app/payload.tar.gz", &alpine_minirootfs())],
    )?;
    Ok(layout)
}
