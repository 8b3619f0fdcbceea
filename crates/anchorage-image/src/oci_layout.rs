//! OCI image layouts: `oci-dir:PATH` (a directory) and `oci-archive:PATH` (the same packed in a
//! tar). A manifest is picked by its `org.opencontainers.image.ref.name` annotation or by digest;
//! an index is resolved to one platform like a registry index.
//!
//! For `oci-archive`, every `blobs/<alg>/<hex>` member is streamed into the blob cache, verified
//! against its name. For `oci-dir`, the needed blobs are read in place (small documents, verified
//! in memory) or copied into the cache while verified (layers).

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use anchorage_types::Digest;

use crate::acquired::AcquiredImage;
use crate::archive::clean_member;
use crate::cache::{BlobCache, Verifier};
use crate::error::AcquireError;
use crate::manifest::{
    Descriptor, Document, ImageConfigDoc, ImageIndex, parse_document, select_platform,
};
use crate::options::AcquireOptions;
use crate::outer_tar::{FileSource, MemberReader, describe, for_each_entry, outer_limits};
use crate::source::LayoutSelector;
use crate::squash::tar_stream::TarSource as _;

/// The annotation naming a manifest in a layout's `index.json`.
const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Deepest index nesting followed.
const MAX_INDEX_DEPTH: usize = 4;

/// Where a layout's blobs are.
enum Blobs<'a> {
    /// `<dir>/blobs/<alg>/<hex>`, not yet verified.
    Dir(&'a Path),
    /// Already in the cache (verified when ingested).
    Cache,
}

struct Layout<'a> {
    kind: &'static str,
    path: &'a Path,
    blobs: Blobs<'a>,
    cache: &'a BlobCache,
    options: &'a AcquireOptions,
}

impl Layout<'_> {
    fn err(&self, reason: impl Into<String>) -> AcquireError {
        AcquireError::Archive {
            kind: self.kind,
            path: self.path.to_path_buf(),
            reason: reason.into(),
        }
    }

    fn blob_file(&self, digest: &Digest) -> PathBuf {
        match self.blobs {
            Blobs::Dir(dir) => dir
                .join("blobs")
                .join(digest.algorithm())
                .join(digest.encoded()),
            Blobs::Cache => self.cache.path_for(digest),
        }
    }

    /// Reads and verifies a small blob (manifest, index, config).
    fn small(&self, desc: &Descriptor) -> Result<Vec<u8>, AcquireError> {
        if desc.size > self.options.max_manifest_size {
            return Err(self.err(format!("blob {} is larger than the limit", desc.digest)));
        }
        let file = self.blob_file(&desc.digest);
        let mut bytes = Vec::new();
        File::open(&file)
            .and_then(|f| {
                f.take(self.options.max_manifest_size + 1)
                    .read_to_end(&mut bytes)
            })
            .map_err(|e| self.err(format!("blob {} unreadable: {e}", desc.digest)))?;
        let mut v = Verifier::new(
            &desc.digest,
            Some(desc.size),
            self.options.max_manifest_size,
        );
        v.update(&bytes)
            .and_then(|()| v.finish())
            .map_err(|source| AcquireError::Blob {
                image: self.path.display().to_string(),
                source,
            })?;
        Ok(bytes)
    }

    /// Makes a layer available as a verified file in the cache.
    fn layer(&self, desc: &Descriptor) -> Result<PathBuf, AcquireError> {
        let blob_err = |source| AcquireError::Blob {
            image: self.path.display().to_string(),
            source,
        };
        match self.blobs {
            Blobs::Dir(_) => {
                let file = self.blob_file(&desc.digest);
                let reader = File::open(&file)
                    .map_err(|e| self.err(format!("layer {} unreadable: {e}", desc.digest)))?;
                self.cache
                    .ingest(
                        reader,
                        &desc.digest,
                        Some(desc.size),
                        self.options.max_blob_size,
                    )
                    .map_err(blob_err)
            }
            Blobs::Cache => {
                if self.cache.contains(&desc.digest, Some(desc.size)) {
                    Ok(self.cache.path_for(&desc.digest))
                } else {
                    Err(self.err(format!(
                        "layer {} is missing or has the wrong size",
                        desc.digest
                    )))
                }
            }
        }
    }

    fn resolve(
        &self,
        index_json: &[u8],
        selector: &LayoutSelector,
    ) -> Result<AcquiredImage, AcquireError> {
        let what = self.path.display().to_string();
        let index: ImageIndex = match parse_document(index_json, None, &what)? {
            Document::Index(i) => i,
            Document::Manifest(_) => return Err(self.err("index.json is not an image index")),
        };
        let names = || {
            let n: Vec<&str> = index
                .manifests
                .iter()
                .filter_map(|d| d.annotations.get(REF_NAME).map(String::as_str))
                .collect();
            if n.is_empty() {
                "none".to_string()
            } else {
                n.join(", ")
            }
        };
        let mut desc = match selector {
            LayoutSelector::Default => match index.manifests.as_slice() {
                [one] => one.clone(),
                [] => return Err(self.err("index.json lists no image")),
                many if many.iter().all(|d| d.platform.is_some()) => {
                    select_platform(&index, &self.options.wanted_platform(), &what)?.clone()
                }
                _ => {
                    return Err(self.err(format!(
                        "index.json lists several images; pick one with PATH:NAME (names: {})",
                        names()
                    )));
                }
            },
            LayoutSelector::Tag(tag) => index
                .manifests
                .iter()
                .find(|d| {
                    d.annotations
                        .get(REF_NAME)
                        .is_some_and(|n| n == tag || n.ends_with(&format!(":{tag}")))
                })
                .cloned()
                .ok_or_else(|| self.err(format!("no image named {tag:?} (names: {})", names())))?,
            LayoutSelector::Digest(d) => {
                index
                    .manifests
                    .iter()
                    .find(|m| &m.digest == d)
                    .cloned()
                    .ok_or_else(|| self.err(format!("no image with digest {d}")))?
            }
        };
        let mut index_digest = None;
        for _ in 0..MAX_INDEX_DEPTH {
            let bytes = self.small(&desc)?;
            let media = (!desc.media_type.is_empty()).then_some(desc.media_type.as_str());
            match parse_document(&bytes, media, &what)? {
                Document::Index(inner) => {
                    index_digest = Some(desc.digest.clone());
                    desc = select_platform(&inner, &self.options.wanted_platform(), &what)?.clone();
                }
                Document::Manifest(manifest) => {
                    return self.finish(desc, bytes, manifest, index_digest);
                }
            }
        }
        Err(self.err(format!("indexes nested deeper than {MAX_INDEX_DEPTH}")))
    }

    fn finish(
        &self,
        desc: Descriptor,
        manifest_bytes: Vec<u8>,
        manifest: crate::manifest::ImageManifest,
        index_digest: Option<Digest>,
    ) -> Result<AcquiredImage, AcquireError> {
        let config_bytes = self.small(&manifest.config)?;
        let config_json = String::from_utf8(config_bytes)
            .map_err(|_| self.err(format!("config {} is not UTF-8", manifest.config.digest)))?;
        let config: ImageConfigDoc = serde_json::from_str(&config_json)
            .map_err(|e| self.err(format!("invalid config {}: {e}", manifest.config.digest)))?;
        let planned = manifest
            .plan_layers(&config)
            .map_err(|reason| self.err(reason))?;
        let mut layers = Vec::with_capacity(planned.len());
        for layer in planned {
            let path = self.layer(layer.descriptor)?;
            layers.push(layer.into_blob(path));
        }
        Ok(AcquiredImage {
            scheme: self.kind.to_string(),
            input: String::new(),
            reference: desc.annotations.get(REF_NAME).cloned(),
            manifest_digest: Some(desc.digest),
            index_digest,
            manifest_json: Some(String::from_utf8_lossy(&manifest_bytes).into_owned()),
            config_digest: Some(manifest.config.digest.clone()),
            config_json: Some(config_json),
            platform: config.platform(&self.options.wanted_platform()),
            layers,
            root_dir: None,
        })
    }
}

fn read_index(
    kind: &'static str,
    path: &Path,
    bytes: Option<Vec<u8>>,
) -> Result<Vec<u8>, AcquireError> {
    bytes.ok_or_else(|| AcquireError::Archive {
        kind,
        path: path.to_path_buf(),
        reason: "no index.json (is this an OCI image layout?)".into(),
    })
}

/// Reads an OCI layout directory.
pub(crate) fn read_oci_dir(
    path: &Path,
    selector: &LayoutSelector,
    cache: &BlobCache,
    options: &AcquireOptions,
) -> Result<AcquiredImage, AcquireError> {
    let index_path = path.join("index.json");
    let index = match std::fs::metadata(&index_path) {
        Ok(m) if m.len() <= options.max_manifest_size => std::fs::read(&index_path).ok(),
        _ => None,
    };
    let index = read_index("oci-dir", path, index)?;
    let layout = Layout {
        kind: "oci-dir",
        path,
        blobs: Blobs::Dir(path),
        cache,
        options,
    };
    layout.resolve(&index, selector)
}

/// Reads an OCI layout packed in a tar file.
pub(crate) fn read_oci_archive(
    path: &Path,
    selector: &LayoutSelector,
    cache: &BlobCache,
    options: &AcquireOptions,
) -> Result<AcquiredImage, AcquireError> {
    let bad = |reason: String| AcquireError::Archive {
        kind: "oci-archive",
        path: path.to_path_buf(),
        reason,
    };
    let mut source = FileSource::open(path).map_err(|source| AcquireError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut index = None;
    for_each_entry(
        &mut source,
        &outer_limits(),
        |entry, stream| {
            if !entry.entry_type.is_file() || entry.sparse {
                return Ok(());
            }
            let name = clean_member(&String::from_utf8_lossy(&entry.path));
            let size = entry.size;
            if name == "index.json" {
                if size > options.max_manifest_size {
                    return Err(bad("index.json is larger than the limit".into()));
                }
                let len = usize::try_from(size).map_err(|_| bad("index.json: too large".into()))?;
                let buf = stream
                    .read_vec(len)
                    .map_err(|f| bad(format!("index.json: {}", describe(f))))?;
                index = Some(buf);
            } else if let Some(rest) = name.strip_prefix("blobs/") {
                let Some((alg, hex)) = rest.split_once('/') else {
                    return Ok(());
                };
                let digest: Digest = format!("{alg}:{hex}")
                    .parse()
                    .map_err(|e| bad(format!("member {name}: {e}")))?;
                cache
                    .ingest(
                        MemberReader::new(stream, size),
                        &digest,
                        Some(size),
                        options.max_blob_size,
                    )
                    .map_err(|source| AcquireError::Blob {
                        image: path.display().to_string(),
                        source,
                    })?;
            }
            Ok(())
        },
        |reason| bad(format!("reading the archive: {reason}")),
    )?;
    let index = read_index("oci-archive", path, index)?;
    let layout = Layout {
        kind: "oci-archive",
        path,
        blobs: Blobs::Cache,
        cache,
        options,
    };
    layout.resolve(&index, selector)
}
