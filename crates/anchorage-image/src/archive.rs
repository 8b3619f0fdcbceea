//! `docker-archive:PATH`: tarballs written by `docker save` / `skopeo copy docker-archive:`.
//!
//! The archive is read twice: first its small JSON members (`manifest.json`, configs) and
//! symlinks, then the layer members, which are streamed into the blob cache under their
//! sha256. A layer stored uncompressed must hash to the config's `diff_id`; a member named by a
//! digest (`<hex>.tar`, `blobs/sha256/<hex>`) must hash to that digest.
//!
//! A docker-archive has no registry manifest. We synthesize a Docker v2 schema 2 manifest from
//! the config and the layers as stored, and report its digest as the manifest digest (so the
//! same archive always gets the same digest).

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anchorage_types::Digest;
use serde::Deserialize;

use crate::acquired::{AcquiredImage, LayerBlob};
use crate::cache::{BlobCache, sha256_digest};
use crate::error::AcquireError;
use crate::manifest::{
    DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_LAYER_TAR, DOCKER_MANIFEST, ImageConfigDoc,
};
use crate::options::AcquireOptions;
use crate::outer_tar::{FileSource, MemberReader, describe, for_each_entry, outer_limits};
use crate::squash::tar_stream::TarSource as _;

/// Most small JSON members kept from pass one.
const MAX_JSON_MEMBERS: usize = 256;
/// Most bytes of small members kept in memory from pass one.
const MAX_JSON_BYTES: u64 = 64 << 20;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ArchiveManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

/// Normalizes a tar member name: no leading `./` or `/`, `..` and `.` resolved.
pub(crate) fn clean_member(name: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for p in name.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    parts.join("/")
}

fn archive_err(path: &Path, reason: impl Into<String>) -> AcquireError {
    AcquireError::Archive {
        kind: "docker-archive",
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

fn open(path: &Path) -> Result<FileSource, AcquireError> {
    FileSource::open(path).map_err(|source| AcquireError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Reads a docker-archive into the blob cache (the first image of `manifest.json`).
pub(crate) fn read_docker_archive(
    path: &Path,
    cache: &BlobCache,
    options: &AcquireOptions,
) -> Result<AcquiredImage, AcquireError> {
    let bad = |reason: String| archive_err(path, reason);
    // Pass 1: small JSON members and symlinks.
    let mut json: HashMap<String, Vec<u8>> = HashMap::new();
    let mut links: HashMap<String, String> = HashMap::new();
    let mut json_bytes = 0u64;
    let limits = outer_limits();
    let mut source = open(path)?;
    for_each_entry(
        &mut source,
        &limits,
        |entry, stream| {
            let name = clean_member(&String::from_utf8_lossy(&entry.path));
            let kind = entry.entry_type;
            if kind.is_symlink() || kind.is_hard_link() {
                if let Some(target) = entry.link {
                    let target = String::from_utf8_lossy(&target).into_owned();
                    let parent = name.rsplit_once('/').map_or("", |(p, _)| p);
                    let resolved = if kind.is_symlink() && !target.starts_with('/') {
                        clean_member(&format!("{parent}/{target}"))
                    } else {
                        clean_member(&target)
                    };
                    links.insert(name, resolved);
                }
                return Ok(());
            }
            let size = entry.size;
            if kind.is_file()
                && !entry.sparse
                && (name.ends_with(".json") || name.starts_with("blobs/"))
                && size <= options.max_manifest_size
                && json.len() < MAX_JSON_MEMBERS
                && json_bytes + size <= MAX_JSON_BYTES
            {
                json_bytes += size;
                let len = usize::try_from(size).map_err(|_| bad(format!("{name}: too large")))?;
                let buf = stream
                    .read_vec(len)
                    .map_err(|f| bad(format!("reading {name}: {}", describe(f))))?;
                json.insert(name, buf);
            }
            Ok(())
        },
        |reason| bad(format!("reading the archive: {reason}")),
    )?;
    let resolve = |name: &str| -> String {
        let mut cur = clean_member(name);
        for _ in 0..8 {
            match links.get(&cur) {
                Some(t) => cur = t.clone(),
                None => break,
            }
        }
        cur
    };
    let manifest_bytes = json
        .get("manifest.json")
        .ok_or_else(|| bad("no manifest.json (is this a docker save archive?)".into()))?;
    let entries: Vec<ArchiveManifestEntry> = serde_json::from_slice(manifest_bytes)
        .map_err(|e| bad(format!("invalid manifest.json: {e}")))?;
    let entry = entries
        .into_iter()
        .next()
        .ok_or_else(|| bad("manifest.json lists no image".into()))?;
    let config_name = resolve(&entry.config);
    let config_bytes = json
        .get(&config_name)
        .ok_or_else(|| {
            bad(format!(
                "config {config_name} missing or larger than the limit"
            ))
        })?
        .clone();
    let config_digest = sha256_digest(&config_bytes);
    check_named_digest(&config_name, &config_digest).map_err(&bad)?;
    let config_json = String::from_utf8(config_bytes.clone())
        .map_err(|_| bad(format!("config {config_name} is not UTF-8")))?;
    let config: ImageConfigDoc = serde_json::from_str(&config_json)
        .map_err(|e| bad(format!("invalid config {config_name}: {e}")))?;
    // The layer list: member names paired with the config's diff_ids (counts checked).
    let wanted: Vec<(String, Digest)> = config
        .pair_diff_ids(entry.layers.iter().map(|l| resolve(l)).collect())
        .map_err(&bad)?;

    // Pass 2: stream the layer members into the cache.
    let mut stored: HashMap<String, (Digest, PathBuf, u64)> = HashMap::new();
    let mut source = open(path)?;
    for_each_entry(
        &mut source,
        &limits,
        |member, stream| {
            let name = clean_member(&String::from_utf8_lossy(&member.path));
            if !member.entry_type.is_file()
                || member.sparse
                || !wanted.iter().any(|(w, _)| *w == name)
                || stored.contains_key(&name)
            {
                return Ok(());
            }
            let found = cache
                .ingest_unverified(
                    MemberReader::new(stream, member.size),
                    options.max_blob_size,
                    &format!("{}:{name}", path.display()),
                )
                .map_err(|source| AcquireError::Blob {
                    image: path.display().to_string(),
                    source,
                })?;
            stored.insert(name, found);
            Ok(())
        },
        |reason| bad(format!("reading the archive: {reason}")),
    )?;
    let mut layers = Vec::with_capacity(wanted.len());
    for (name, diff_id) in wanted {
        let (digest, blob, size) = stored
            .get(&name)
            .cloned()
            .ok_or_else(|| bad(format!("layer member {name} is missing")))?;
        check_named_digest(&name, &digest).map_err(&bad)?;
        let media_type = sniff_media_type(&blob)?;
        if media_type == DOCKER_LAYER_TAR && diff_id != digest {
            return Err(bad(format!(
                "layer {name} hashes to {digest} but the config's diff_id is {diff_id}"
            )));
        }
        layers.push(LayerBlob {
            diff_id_verified: media_type == DOCKER_LAYER_TAR,
            digest: Some(digest),
            diff_id: Some(diff_id),
            size,
            media_type: media_type.to_string(),
            path: blob,
        });
    }
    let manifest_json = synthesize_manifest(&config_digest, config_bytes.len() as u64, &layers);
    let wanted_platform = options.wanted_platform();
    Ok(AcquiredImage {
        scheme: "docker-archive".into(),
        input: String::new(),
        reference: entry.repo_tags.and_then(|t| t.into_iter().next()),
        manifest_digest: Some(sha256_digest(manifest_json.as_bytes())),
        index_digest: None,
        manifest_json: Some(manifest_json),
        config_digest: Some(config_digest),
        config_json: Some(config_json),
        platform: config.platform(&wanted_platform),
        layers,
        root_dir: None,
    })
}

/// A member named `<hex>.tar`, `<hex>.json`, `<hex>` or `blobs/sha256/<hex>` must hash to it.
fn check_named_digest(name: &str, actual: &Digest) -> Result<(), String> {
    let base = name.rsplit('/').next().unwrap_or(name);
    let stem = base.split('.').next().unwrap_or(base);
    if stem.len() == 64
        && stem.bytes().all(|b| b.is_ascii_hexdigit())
        && (name.starts_with("blobs/sha256/") || !name.contains('/'))
        && stem != actual.encoded()
    {
        return Err(format!(
            "member {name} hashes to {actual}, not to the digest in its name"
        ));
    }
    Ok(())
}

/// Detects layer compression from the first bytes.
fn sniff_media_type(path: &Path) -> Result<&'static str, AcquireError> {
    let mut head = [0u8; 4];
    let mut f = File::open(path).map_err(|source| AcquireError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let n = f.read(&mut head).map_err(|source| AcquireError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(match &head[..n] {
        [0x1f, 0x8b, ..] => DOCKER_LAYER_GZIP,
        [0x28, 0xb5, 0x2f, 0xfd] => "application/vnd.oci.image.layer.v1.tar+zstd",
        _ => DOCKER_LAYER_TAR,
    })
}

fn synthesize_manifest(config: &Digest, config_size: u64, layers: &[LayerBlob]) -> String {
    let layers: Vec<serde_json::Value> = layers
        .iter()
        .map(|l| {
            serde_json::json!({
                "mediaType": l.media_type,
                "size": l.size,
                "digest": l.digest.as_ref().map(ToString::to_string),
            })
        })
        .collect();
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": DOCKER_CONFIG, "size": config_size, "digest": config.to_string()},
        "layers": layers,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cleans_member_names() {
        assert_eq!(clean_member("./a/../b.tar"), "b.tar");
        assert_eq!(clean_member("x/../../y"), "y");
        assert_eq!(clean_member("/blobs/sha256/ab"), "blobs/sha256/ab");
    }
}
