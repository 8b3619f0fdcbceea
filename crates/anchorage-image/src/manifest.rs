//! Manifest, index and config documents (OCI and Docker v2 schema 2) and platform selection.
//!
//! Small serde structs of our own: we need only a handful of fields, want unknown fields and
//! media types to pass through untouched, and must detect Docker schema 1 to reject it clearly.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anchorage_types::{Digest, Platform};
use serde::Deserialize;

use crate::acquired::LayerBlob;
use crate::error::AcquireError;

/// OCI image manifest.
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub(crate) const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker v2 schema 2 manifest.
pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker v2 schema 2 manifest list.
pub(crate) const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// Docker schema 1 media types (rejected).
const DOCKER_SCHEMA1: [&str; 2] = [
    "application/vnd.docker.distribution.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v1+prettyjws",
];
/// Docker uncompressed layer (docker-archive).
pub(crate) const DOCKER_LAYER_TAR: &str = "application/vnd.docker.image.rootfs.diff.tar";
/// Docker gzip layer.
pub(crate) const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";
/// Docker image config.
pub(crate) const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

/// The `Accept` header sent for manifest requests (schema 1 deliberately absent).
pub(crate) const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// A content descriptor.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Descriptor {
    #[serde(default)]
    pub(crate) media_type: String,
    pub(crate) digest: Digest,
    pub(crate) size: u64,
    #[serde(default)]
    pub(crate) platform: Option<DescriptorPlatform>,
    #[serde(default)]
    pub(crate) annotations: BTreeMap<String, String>,
}

/// The platform object of an index entry.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct DescriptorPlatform {
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
}

impl DescriptorPlatform {
    fn to_platform(&self) -> Platform {
        Platform {
            os: self.os.clone(),
            architecture: self.architecture.clone(),
            variant: self.variant.clone().filter(|v| !v.is_empty()),
        }
    }
}

/// An image manifest (OCI or Docker v2s2; same shape for what we read).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ImageManifest {
    pub(crate) config: Descriptor,
    #[serde(default)]
    pub(crate) layers: Vec<Descriptor>,
}

/// An image index or Docker manifest list.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct ImageIndex {
    #[serde(default)]
    pub(crate) manifests: Vec<Descriptor>,
}

/// The fields of an image config we use.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct ImageConfigDoc {
    #[serde(default)]
    pub(crate) os: String,
    #[serde(default)]
    pub(crate) architecture: String,
    #[serde(default)]
    pub(crate) variant: Option<String>,
    #[serde(default)]
    pub(crate) rootfs: Option<RootFs>,
}

/// `rootfs` of an image config.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RootFs {
    #[serde(default)]
    pub(crate) diff_ids: Vec<Digest>,
}

impl ImageConfigDoc {
    /// The platform named by the config, falling back to `fallback` for missing fields.
    pub(crate) fn platform(&self, fallback: &Platform) -> Platform {
        Platform {
            os: non_empty(&self.os).unwrap_or_else(|| fallback.os.clone()),
            architecture: non_empty(&self.architecture)
                .unwrap_or_else(|| fallback.architecture.clone()),
            variant: self.variant.clone().filter(|v| !v.is_empty()),
        }
    }
}

impl ImageConfigDoc {
    /// Pairs `layers` (bottom first) with the config's `rootfs.diff_ids`, which must be one per
    /// layer: a count mismatch is an error on every source (the diff_id check of each layer
    /// depends on it). Every source builds its layer list through this (directly for
    /// docker-archive member names, through [`ImageManifest::plan_layers`] for manifests).
    pub(crate) fn pair_diff_ids<T>(&self, layers: Vec<T>) -> Result<Vec<(T, Digest)>, String> {
        let diff_ids = self
            .rootfs
            .as_ref()
            .map(|r| r.diff_ids.as_slice())
            .unwrap_or_default();
        if diff_ids.len() != layers.len() {
            return Err(format!(
                "the manifest lists {} layers but the config has {} diff_ids",
                layers.len(),
                diff_ids.len()
            ));
        }
        Ok(layers.into_iter().zip(diff_ids.iter().cloned()).collect())
    }
}

/// A manifest layer paired with its config diff_id, before its blob is on local disk.
#[derive(Debug, Clone)]
pub(crate) struct PlannedLayer<'a> {
    /// The manifest's descriptor of the layer.
    pub(crate) descriptor: &'a Descriptor,
    /// The config's diff_id for it.
    pub(crate) diff_id: Digest,
}

impl PlannedLayer<'_> {
    /// The acquired layer once its blob is stored at `path`.
    pub(crate) fn into_blob(self, path: PathBuf) -> LayerBlob {
        LayerBlob {
            // the blob was verified against its digest when stored
            diff_id_verified: self.descriptor.digest == self.diff_id,
            digest: Some(self.descriptor.digest.clone()),
            diff_id: Some(self.diff_id),
            size: self.descriptor.size,
            media_type: self.descriptor.media_type.clone(),
            path,
        }
    }
}

impl ImageManifest {
    /// The manifest's layers, bottom first, each paired with its config diff_id (counts
    /// checked by [`ImageConfigDoc::pair_diff_ids`]). Called before any layer is fetched, so a
    /// mismatch fails without downloading.
    pub(crate) fn plan_layers(
        &self,
        config: &ImageConfigDoc,
    ) -> Result<Vec<PlannedLayer<'_>>, String> {
        Ok(config
            .pair_diff_ids(self.layers.iter().collect())?
            .into_iter()
            .map(|(descriptor, diff_id)| PlannedLayer {
                descriptor,
                diff_id,
            })
            .collect())
    }
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// A parsed top-level document.
#[derive(Debug)]
pub(crate) enum Document {
    /// A single-image manifest.
    Manifest(ImageManifest),
    /// An index / manifest list.
    Index(ImageIndex),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    config: Option<serde_json::Value>,
}

/// Parses a manifest or index. `content_type` is the HTTP `Content-Type` or the descriptor's
/// media type; the document's own `mediaType` and shape decide when that is missing.
/// `what` names the image for error messages.
pub(crate) fn parse_document(
    bytes: &[u8],
    content_type: Option<&str>,
    what: &str,
) -> Result<Document, AcquireError> {
    let bad = |reason: String| AcquireError::InvalidManifest {
        image: what.to_string(),
        reason,
    };
    let ct = content_type
        .map(|c| c.split(';').next().unwrap_or(c).trim().to_string())
        .filter(|c| !c.is_empty());
    if let Some(c) = &ct
        && DOCKER_SCHEMA1.contains(&c.as_str())
    {
        return Err(AcquireError::UnsupportedSchema1 {
            image: what.to_string(),
        });
    }
    let probe: Probe =
        serde_json::from_slice(bytes).map_err(|e| bad(format!("not a JSON manifest: {e}")))?;
    if probe.schema_version == Some(1) {
        return Err(AcquireError::UnsupportedSchema1 {
            image: what.to_string(),
        });
    }
    let media = probe.media_type.clone().or(ct);
    let is_index = match media.as_deref() {
        Some(OCI_INDEX | DOCKER_LIST) => true,
        Some(OCI_MANIFEST | DOCKER_MANIFEST) => false,
        _ => probe.manifests.is_some() && probe.config.is_none(),
    };
    if is_index {
        let index: ImageIndex =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid index: {e}")))?;
        Ok(Document::Index(index))
    } else {
        let manifest: ImageManifest =
            serde_json::from_slice(bytes).map_err(|e| bad(format!("invalid manifest: {e}")))?;
        Ok(Document::Manifest(manifest))
    }
}

/// Picks the index entry for `wanted`. A wanted platform without variant matches any variant
/// (the first such entry wins); with a variant it must match exactly. Entries with platform
/// `unknown/unknown` (attestations) are never chosen.
pub(crate) fn select_platform<'a>(
    index: &'a ImageIndex,
    wanted: &Platform,
    what: &str,
) -> Result<&'a Descriptor, AcquireError> {
    let candidates: Vec<(&Descriptor, Platform)> = index
        .manifests
        .iter()
        .filter_map(|d| d.platform.as_ref().map(|p| (d, p.to_platform())))
        .filter(|(_, p)| p.os != "unknown" && p.architecture != "unknown")
        .collect();
    let exact = candidates.iter().find(|(_, p)| {
        p.os == wanted.os
            && p.architecture == wanted.architecture
            && (wanted.variant.is_none() || p.variant == wanted.variant)
    });
    match exact {
        Some((d, _)) => Ok(d),
        None => {
            let mut available: Vec<String> =
                candidates.iter().map(|(_, p)| p.to_string()).collect();
            available.dedup();
            Err(AcquireError::NoMatchingPlatform {
                image: what.to_string(),
                wanted: wanted.to_string(),
                available: if available.is_empty() {
                    "none".to_string()
                } else {
                    available.join(", ")
                },
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    fn index() -> ImageIndex {
        let json = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
            {{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":1,"platform":{{"os":"linux","architecture":"amd64"}}}},
            {{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":1,"platform":{{"os":"linux","architecture":"arm","variant":"v7"}}}},
            {{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":1,"platform":{{"os":"unknown","architecture":"unknown"}}}}]}}"#
        );
        match parse_document(json.as_bytes(), None, "x").unwrap() {
            Document::Index(i) => i,
            Document::Manifest(_) => panic!("expected index"),
        }
    }

    #[test]
    fn selects_platforms_and_lists_available_ones() {
        let i = index();
        assert_eq!(
            select_platform(&i, &Platform::linux_amd64(), "x")
                .unwrap()
                .digest
                .to_string(),
            D1
        );
        let arm: Platform = "linux/arm".parse().unwrap();
        assert_eq!(
            select_platform(&i, &arm, "x").unwrap().digest.to_string(),
            D2
        );
        let err = select_platform(&i, &"linux/s390x".parse().unwrap(), "img").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("linux/amd64, linux/arm/v7"), "{msg}");
        assert!(!msg.contains("unknown"), "{msg}");
        assert!(select_platform(&i, &"linux/arm/v6".parse().unwrap(), "x").is_err());
    }

    #[test]
    fn synthetic_schema1_is_rejected() {
        let doc = br#"{"schemaVersion":1,"name":"a","tag":"b","fsLayers":[]}"#;
        assert!(matches!(
            parse_document(doc, None, "a:b"),
            Err(AcquireError::UnsupportedSchema1 { .. })
        ));
        assert!(matches!(
            parse_document(b"{}", Some(DOCKER_SCHEMA1[1]), "a:b"),
            Err(AcquireError::UnsupportedSchema1 { .. })
        ));
    }
}
