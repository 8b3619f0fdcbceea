//! Pulling an image (manifest, platform selection, config, layers) and listing tags.

use anchorage_types::ImageReference;
use reqwest::header::LINK;

use super::client::RegistryClient;
use crate::acquired::{AcquiredImage, LayerBlob};
use crate::cache::BlobCache;
use crate::error::AcquireError;
use crate::manifest::{Document, ImageConfigDoc, parse_document, select_platform};

/// Most pages followed when listing tags.
const MAX_TAG_PAGES: usize = 1000;

impl RegistryClient {
    /// Pulls manifest (selecting a platform from an index), config and layers.
    pub(crate) async fn pull(
        &self,
        reference: &ImageReference,
        cache: &BlobCache,
    ) -> Result<AcquiredImage, AcquireError> {
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
                let wanted = self.options.wanted_platform();
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
            .fetch_blob(&host, &repository, &manifest.config, cache, &what)
            .await?;
        let config_json = read_config(&config_path, &what)?;
        let config: ImageConfigDoc =
            serde_json::from_str(&config_json).map_err(|e| AcquireError::InvalidManifest {
                image: what.clone(),
                reason: format!("invalid image config {}: {e}", manifest.config.digest),
            })?;
        let diff_ids = config
            .diff_ids_for(manifest.layers.len())
            .map_err(|reason| AcquireError::InvalidManifest {
                image: what.clone(),
                reason,
            })?;
        let mut layers = Vec::with_capacity(manifest.layers.len());
        for (i, layer) in manifest.layers.iter().enumerate() {
            let path = self
                .fetch_blob(&host, &repository, layer, cache, &what)
                .await?;
            layers.push(LayerBlob {
                digest: Some(layer.digest.clone()),
                diff_id: diff_ids.get(i).cloned(),
                size: layer.size,
                media_type: layer.media_type.clone(),
                path,
            });
        }
        Ok(AcquiredImage {
            scheme: "registry".into(),
            input: String::new(),
            reference: Some(what),
            manifest_digest: Some(digest),
            index_digest,
            manifest_json: Some(String::from_utf8_lossy(&body).into_owned()),
            config_digest: Some(manifest.config.digest.clone()),
            config_json: Some(config_json),
            platform: config.platform(&self.options.wanted_platform()),
            layers,
            root_dir: None,
        })
    }

    /// Lists tags, following `Link: <...>; rel="next"` pagination.
    pub(crate) async fn list_tags(
        &self,
        reference: &ImageReference,
    ) -> Result<Vec<String>, AcquireError> {
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
