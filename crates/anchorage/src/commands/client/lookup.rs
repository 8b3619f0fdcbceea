//! How an image argument is resolved (anchore-cli's rules): `sha256:<hex>`, `local:<hex>` or
//! `repo@sha256:<hex>` is a digest; 64 bare hex digits an image ID; anything else a tag,
//! looked up with `GET images?fulltag=`.

use serde_json::Value;

use super::http::{Api, ClientError, ClientResult};

/// What an image argument names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ImageRef {
    /// An image (manifest) digest, `sha256:<hex>` or `local:<hex>`.
    Digest(String),
    /// An image ID (config digest hex).
    Id(String),
    /// A tag, as typed (the server normalizes it).
    Tag(String),
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

impl ImageRef {
    /// Classifies an argument.
    pub(crate) fn parse(input: &str) -> ImageRef {
        let digest_part = input.rsplit_once('@').map_or(input, |(_, d)| d);
        if let Some((algo, hex)) = digest_part.split_once(':')
            && matches!(algo, "sha256" | "local")
            && is_hex64(hex)
        {
            return ImageRef::Digest(digest_part.to_string());
        }
        if is_hex64(input) {
            return ImageRef::Id(input.to_ascii_lowercase());
        }
        ImageRef::Tag(input.to_string())
    }
}

/// The image records (a list) an argument names: `GET images/{digest}`,
/// `GET images/by_id/{id}` or `GET images?fulltag=` (with the tag's `history` if asked).
pub(crate) async fn records(api: &Api, input: &str, history: bool) -> ClientResult<Value> {
    let no_history = [("history", "false".to_string())];
    match ImageRef::parse(input) {
        ImageRef::Digest(d) => api.get(&["images", &d], &no_history).await,
        ImageRef::Id(id) => api.get(&["images", "by_id", &id], &no_history).await,
        ImageRef::Tag(t) => {
            api.get(
                &["images"],
                &[("fulltag", t), ("history", history.to_string())],
            )
            .await
        }
    }
}

/// The digest of the image an argument names (a digest is used as given).
pub(crate) async fn digest(api: &Api, input: &str) -> ClientResult<String> {
    if let ImageRef::Digest(d) = ImageRef::parse(input) {
        return Ok(d);
    }
    let list = records(api, input, false).await?;
    list.get(0)
        .and_then(|r| r["imageDigest"].as_str())
        .map(str::to_string)
        .ok_or_else(|| ClientError::msg(format!("image {input} not found in the engine")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_classified_like_anchore_cli() {
        let hex = "a".repeat(64);
        assert_eq!(
            ImageRef::parse(&format!("sha256:{hex}")),
            ImageRef::Digest(format!("sha256:{hex}"))
        );
        assert_eq!(
            ImageRef::parse(&format!("docker.io/alpine@sha256:{hex}")),
            ImageRef::Digest(format!("sha256:{hex}"))
        );
        assert_eq!(
            ImageRef::parse(&format!("local:{hex}")),
            ImageRef::Digest(format!("local:{hex}"))
        );
        assert_eq!(
            ImageRef::parse(&hex.to_uppercase()),
            ImageRef::Id(hex.clone())
        );
        assert_eq!(
            ImageRef::parse("127.0.0.1:5000/team/app:1.0"),
            ImageRef::Tag("127.0.0.1:5000/team/app:1.0".into())
        );
        assert_eq!(
            ImageRef::parse("sha256:short"),
            ImageRef::Tag("sha256:short".into())
        );
    }
}
