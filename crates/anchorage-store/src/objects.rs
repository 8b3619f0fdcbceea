//! The analysis archive's object store (Anchore §7.3 `analysis_archive`): a directory
//! (`localfs`, `archive_data_dir`) or an S3-compatible bucket (`s3`: `url`, `bucket`,
//! `access_key`, `secret_key`, `region`), behind the `object_store` crate. Keys are
//! `/`-separated and built only from checked parts (see [`archive_key`]).

use std::path::PathBuf;
use std::sync::Arc;

use futures_util::TryStreamExt as _;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt as _, PutPayload};
use secrecy::{ExposeSecret as _, SecretString};

use crate::StoreError;

/// Where archived analyses are kept.
#[derive(Clone)]
#[non_exhaustive]
pub enum ArchiveDriver {
    /// A directory on this machine (created when missing).
    LocalFs {
        /// `archive_data_dir`.
        dir: PathBuf,
    },
    /// An S3-compatible bucket (AWS, MinIO, Ceph, moto...).
    S3 {
        /// Endpoint URL (`http://127.0.0.1:9000`); `None`: AWS for the region.
        url: Option<String>,
        /// Bucket (must exist).
        bucket: String,
        /// Access key id; `None` with `secret_key` `None`: the instance's IAM role.
        access_key: Option<SecretString>,
        /// Secret access key.
        secret_key: Option<SecretString>,
        /// Region (default `us-east-1`).
        region: Option<String>,
    },
}

impl ArchiveDriver {
    /// A local directory.
    pub fn local(dir: impl Into<PathBuf>) -> Self {
        ArchiveDriver::LocalFs { dir: dir.into() }
    }
}

impl std::fmt::Debug for ArchiveDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ArchiveDriver::LocalFs { dir } => f.debug_struct("LocalFs").field("dir", dir).finish(),
            ArchiveDriver::S3 {
                url,
                bucket,
                region,
                ..
            } => f
                .debug_struct("S3")
                .field("url", url)
                .field("bucket", bucket)
                .field("region", region)
                .finish_non_exhaustive(),
        }
    }
}

/// The archive store: put, get, delete and list whole objects.
#[derive(Clone)]
pub struct ArchiveStore {
    inner: Arc<dyn ObjectStore>,
    describe: String,
}

impl std::fmt::Debug for ArchiveStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ArchiveStore")
            .field("store", &self.describe)
            .finish()
    }
}

/// An object in the archive store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveObject {
    /// Key (`analysis_archive/ACCOUNT/DIGEST.tar`).
    pub key: String,
    /// Size in bytes.
    pub size: u64,
}

fn failed(what: &str, store: &str) -> impl FnOnce(object_store::Error) -> StoreError {
    let what = format!("{what} ({store})");
    move |e| StoreError::Archive {
        what,
        // The error names the object and the reason; it never holds the credentials.
        reason: e.to_string(),
    }
}

/// An object path from a key written by [`archive_key`] (or read from a backup).
fn object_path(key: &str) -> Result<ObjectPath, StoreError> {
    ObjectPath::parse(key).map_err(|e| StoreError::Archive {
        what: format!("object key {key:?}"),
        reason: e.to_string(),
    })
}

/// The key of an archived image: `analysis_archive/ACCOUNT/DIGEST.tar`. An account name that
/// is not plain (letters, digits, `_`, `-`, `@`, `.`, not starting with `.`) is hex-encoded.
pub fn archive_key(account: &str, digest: &str) -> String {
    let plain = |s: &str| {
        !s.is_empty()
            && !s.starts_with('.')
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-@.".contains(c))
    };
    let account = if plain(account) {
        account.to_string()
    } else {
        format!("x-{}", hex::encode(account))
    };
    let digest = if plain(&digest.replace(':', "")) {
        digest.to_string()
    } else {
        format!("x-{}", hex::encode(digest))
    };
    format!("analysis_archive/{account}/{digest}.tar")
}

impl ArchiveStore {
    /// Opens the store (creates a local directory when missing; an S3 bucket must exist).
    pub fn open(driver: &ArchiveDriver) -> Result<Self, StoreError> {
        match driver {
            ArchiveDriver::LocalFs { dir } => {
                std::fs::create_dir_all(dir).map_err(|e| StoreError::Archive {
                    what: format!("archive directory {}", dir.display()),
                    reason: e.to_string(),
                })?;
                let fs = object_store::local::LocalFileSystem::new_with_prefix(dir)
                    .map_err(failed(
                        "opening the archive directory",
                        &dir.display().to_string(),
                    ))?
                    .with_automatic_cleanup(true);
                Ok(Self {
                    inner: Arc::new(fs),
                    describe: format!("localfs:{}", dir.display()),
                })
            }
            ArchiveDriver::S3 {
                url,
                bucket,
                access_key,
                secret_key,
                region,
            } => {
                let mut b = object_store::aws::AmazonS3Builder::new()
                    .with_bucket_name(bucket.clone())
                    .with_region(region.clone().unwrap_or_else(|| "us-east-1".into()));
                if let Some(url) = url {
                    b = b
                        .with_endpoint(url.trim_end_matches('/').to_string())
                        .with_allow_http(url.starts_with("http://"));
                }
                if let (Some(k), Some(s)) = (access_key, secret_key) {
                    b = b
                        .with_access_key_id(k.expose_secret().to_string())
                        .with_secret_access_key(s.expose_secret().to_string());
                }
                let describe = match url {
                    Some(u) => format!("s3:{bucket} at {u}"),
                    None => format!("s3:{bucket}"),
                };
                let s3 = b
                    .build()
                    .map_err(failed("configuring the S3 store", &describe))?;
                Ok(Self {
                    inner: Arc::new(s3),
                    describe,
                })
            }
        }
    }

    /// What the store is (`localfs:/dir` or `s3:bucket at url`; never credentials).
    pub fn describe(&self) -> &str {
        &self.describe
    }

    /// Writes an object (replacing one with the same key).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), StoreError> {
        let path = object_path(key)?;
        self.inner
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(failed(&format!("writing {key}"), &self.describe))?;
        Ok(())
    }

    /// Reads an object; `None` when it does not exist.
    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let path = object_path(key)?;
        match self.inner.get(&path).await {
            Ok(r) => r
                .bytes()
                .await
                .map(|b| Some(b.to_vec()))
                .map_err(failed(&format!("reading {key}"), &self.describe)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(failed(&format!("reading {key}"), &self.describe)(e)),
        }
    }

    /// Deletes an object (one that does not exist is not an error).
    pub async fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = object_path(key)?;
        match self.inner.delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(failed(&format!("deleting {key}"), &self.describe)(e)),
        }
    }

    /// Every object under `prefix` (`analysis_archive`), in key order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ArchiveObject>, StoreError> {
        let prefix = object_path(prefix)?;
        let mut out: Vec<ArchiveObject> = self
            .inner
            .list(Some(&prefix))
            .map_ok(|m| ArchiveObject {
                key: m.location.to_string(),
                size: m.size,
            })
            .try_collect()
            .await
            .map_err(failed("listing objects", &self.describe))?;
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_plain_or_hex_encoded() {
        assert_eq!(
            archive_key("admin", "sha256:ab12"),
            "analysis_archive/admin/sha256:ab12.tar"
        );
        // Hostile account names never make path traversal or odd object names.
        assert_eq!(
            archive_key("..", "sha256:ab"),
            "analysis_archive/x-2e2e/sha256:ab.tar"
        );
        assert!(archive_key("a/b", "sha256:ab").starts_with("analysis_archive/x-612f62/"));
        assert!(object_path(&archive_key("..", "sha256:../x")).is_ok());
    }
}
