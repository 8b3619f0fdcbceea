//! Pulling an image (manifest, platform selection, config, layers) and listing tags.

use anchorage_types::{Digest, ImageReference};
use futures_util::{StreamExt as _, TryStreamExt as _};
use reqwest::header::LINK;

use super::client::RegistryClient;
use crate::acquired::AcquiredImage;
use crate::cache::BlobCache;
use crate::error::AcquireError;
use crate::manifest::{Document, ImageConfigDoc, MANIFEST_ACCEPT, parse_document, select_platform};
use crate::options::AcquireRequest;
use crate::source::Source;

/// The registry reference named by a source string (`registry:REF` or a bare reference).
fn registry_reference(reference: &str, what: &str) -> Result<ImageReference, AcquireError> {
    match Source::parse(reference)? {
        Source::Registry(r) => Ok(r),
        other => Err(AcquireError::Unsupported(format!(
            "{what} needs a registry reference, not a {} source",
            other.scheme()
        ))),
    }
}

/// Most pages followed when listing tags.
const MAX_TAG_PAGES: usize = 1000;

impl RegistryClient {
    /// Pulls manifest (selecting a platform from an index), config and layers; layers are
    /// downloaded in parallel, at most [`crate::AcquireOptions::max_parallel_downloads`] at a
    /// time, and listed bottom first whatever order they finish in.
    pub(crate) async fn pull(
        &self,
        reference: &ImageReference,
        cache: &BlobCache,
        request: &AcquireRequest,
    ) -> Result<AcquiredImage, AcquireError> {
        let wanted = request
            .platform
            .clone()
            .unwrap_or_else(|| self.options.wanted_platform());
        let host = self.host(reference).await?;
        let repository = reference.registry_repository();
        let what = reference.to_string();
        let (mut body, mut content_type, mut digest) = self
            .fetch_manifest(
                &host,
                &repository,
                &reference.manifest_reference(),
                reference.digest(),
                &what,
            )
            .await?;
        let mut index_digest = None;
        let manifest = match parse_document(&body, content_type.as_deref(), &what)? {
            Document::Manifest(m) => m,
            Document::Index(index) => {
                let chosen = select_platform(&index, &wanted, &what)?.clone();
                index_digest = Some(digest.clone());
                (body, content_type, digest) = self
                    .fetch_manifest(
                        &host,
                        &repository,
                        &chosen.digest.to_string(),
                        Some(&chosen.digest),
                        &what,
                    )
                    .await?;
                if content_type.is_none() && !chosen.media_type.is_empty() {
                    content_type = Some(chosen.media_type.clone());
                }
                match parse_document(&body, content_type.as_deref(), &what)? {
                    Document::Manifest(m) => m,
                    Document::Index(_) => {
                        return Err(AcquireError::InvalidManifest {
                            image: what,
                            reason: format!("index entry {} is itself an index", chosen.digest),
                        });
                    }
                }
            }
        };
        if manifest.config.size > self.options.max_manifest_size {
            return Err(AcquireError::InvalidManifest {
                image: what,
                reason: format!("config {} is larger than the limit", manifest.config.digest),
            });
        }
        let config_path = self
            .fetch_blob(&host, &repository, &manifest.config, cache, &what, request)
            .await?;
        let config_json = read_config(&config_path, &what)?;
        let config: ImageConfigDoc =
            serde_json::from_str(&config_json).map_err(|e| AcquireError::InvalidManifest {
                image: what.clone(),
                reason: format!("invalid image config {}: {e}", manifest.config.digest),
            })?;
        let planned =
            manifest
                .plan_layers(&config)
                .map_err(|reason| AcquireError::InvalidManifest {
                    image: what.clone(),
                    reason,
                })?;
        let parallel = self.options.max_parallel_downloads.max(1);
        // The futures are collected first: a closure over borrowed layers kept inside the
        // stream makes the whole acquisition future not `Send` for every lifetime (which a
        // server's `tokio::spawn` needs).
        let fetches: Vec<_> = planned
            .iter()
            .map(|layer| {
                self.fetch_blob(&host, &repository, layer.descriptor, cache, &what, request)
            })
            .collect();
        let paths: Vec<std::path::PathBuf> = futures_util::stream::iter(fetches)
            .buffered(parallel)
            .try_collect()
            .await?;
        let layers = planned
            .into_iter()
            .zip(paths)
            .map(|(layer, path)| layer.into_blob(path))
            .collect();
        Ok(AcquiredImage {
            scheme: "registry".into(),
            input: String::new(),
            reference: Some(what),
            manifest_digest: Some(digest),
            index_digest,
            manifest_json: Some(String::from_utf8_lossy(&body).into_owned()),
            config_digest: Some(manifest.config.digest.clone()),
            config_json: Some(config_json),
            platform: config.platform(&wanted),
            layers,
            root_dir: None,
        })
    }

    /// The digest a tag (or digest reference) points at, from a manifest `HEAD` request
    /// (`Docker-Content-Digest`); registries that do not send the header are asked with a
    /// `GET` and the manifest is hashed. `reference` is a source string or bare reference.
    /// For a multi-platform image this is the index digest: what a watcher compares.
    pub async fn resolve_digest(&self, reference: &str) -> Result<Digest, AcquireError> {
        let reference = registry_reference(reference, "digest resolution")?;
        if let Some(d) = reference.digest() {
            return Ok(d.clone());
        }
        let host = self.host(&reference).await?;
        let repository = reference.registry_repository();
        let what = reference.to_string();
        let url = format!(
            "{}/v2/{repository}/manifests/{}",
            host.base,
            reference.manifest_reference()
        );
        let resp = self
            .request(
                reqwest::Method::HEAD,
                &host,
                &repository,
                &url,
                Some(MANIFEST_ACCEPT),
            )
            .await?;
        if !resp.status().is_success() {
            return Err(Self::status_error(
                &host,
                &format!("manifest {what}"),
                &resp,
            ));
        }
        let header = resp
            .headers()
            .get("docker-content-digest")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        if let Some(h) = header {
            return h
                .parse::<Digest>()
                .map_err(|e| AcquireError::InvalidManifest {
                    image: what.clone(),
                    reason: format!("Docker-Content-Digest {h:?} is not a digest: {e}"),
                });
        }
        let (_, _, digest) = self
            .fetch_manifest(
                &host,
                &repository,
                &reference.manifest_reference(),
                None,
                &what,
            )
            .await?;
        Ok(digest)
    }

    /// Lists the tags of a repository (`reference` is a source string or bare reference; its
    /// tag or digest is ignored), following `Link: <...>; rel="next"` pagination.
    pub async fn list_tags(&self, reference: &str) -> Result<Vec<String>, AcquireError> {
        let reference = registry_reference(reference, "tag listing")?;
        let reference = &reference;
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let host = self.host(reference).await?;
        let repository = reference.registry_repository();
        let what = format!(
            "tag list of {}/{}",
            reference.registry(),
            reference.repository()
        );
        let mut url = format!("{}/v2/{repository}/tags/list", host.base);
        let mut tags = Vec::new();
        for _ in 0..MAX_TAG_PAGES {
            let resp = self.get(&host, &repository, &url, None).await?;
            if !resp.status().is_success() {
                return Err(Self::status_error(&host, &what, &resp));
            }
            let next = resp
                .headers()
                .get(LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let body = self.read_limited(&host, &what, resp).await?;
            let page: TagList =
                serde_json::from_slice(&body).map_err(|e| AcquireError::Registry {
                    registry: host.registry.clone(),
                    reason: format!("{what}: invalid JSON: {e}"),
                })?;
            tags.extend(page.tags.unwrap_or_default());
            match next {
                Some(n) if n.starts_with('/') => url = format!("{}{n}", host.base),
                Some(n) if n.starts_with(&host.base) => url = n,
                _ => return Ok(tags),
            }
        }
        Ok(tags)
    }
}

fn read_config(path: &std::path::Path, what: &str) -> Result<String, AcquireError> {
    let bytes = std::fs::read(path).map_err(|source| AcquireError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    String::from_utf8(bytes).map_err(|_| AcquireError::InvalidManifest {
        image: what.to_string(),
        reason: "image config is not UTF-8".into(),
    })
}

/// The target of `rel="next"` in a `Link` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim().trim_start_matches("rel=").trim_matches('"') == "next")
            .then(|| {
                target
                    .trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_link_headers() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?n=2&last=b>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?n=2&last=b")
        );
        assert_eq!(next_link(r#"</x>; rel="prev""#), None);
    }
}
