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

/// The shared corpus (`../shared/corpus` next to the repository).
pub fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
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
