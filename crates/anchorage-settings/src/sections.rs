//! The config-file sections shared by the file reader and the merged [`crate::Settings`]:
//! registries and limits. A leaf module: it uses neither `file` nor `settings`.

use secrecy::SecretString;
use serde::Deserialize;

/// Credentials and transport for one registry (`[[registries]]`).
#[derive(Clone)]
pub struct RegistrySettings {
    /// Registry `HOST[:PORT]`.
    pub host: String,
    /// User name, when credentials are configured.
    pub username: Option<String>,
    /// Password or token (from `password`, `password_env` or `password_file`).
    pub password: Option<SecretString>,
    /// Plain HTTP or unverified TLS allowed (`insecure = true` or `tls_verify = false`).
    pub insecure: bool,
}

impl std::fmt::Debug for RegistrySettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistrySettings")
            .field("host", &self.host)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("insecure", &self.insecure)
            .finish()
    }
}

/// The `[limits]` section: each key unset means the built-in default.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// [`anchorage_image::Limits::max_layer_decompressed_bytes`].
    pub max_layer_decompressed_bytes: Option<u64>,
    /// [`anchorage_image::Limits::max_total_decompressed_bytes`].
    pub max_total_decompressed_bytes: Option<u64>,
    /// [`anchorage_image::Limits::max_entries`].
    pub max_entries: Option<u64>,
    /// [`anchorage_image::Limits::max_file_size`].
    pub max_file_size: Option<u64>,
    /// [`anchorage_image::Limits::max_path_len`].
    pub max_path_len: Option<usize>,
    /// [`anchorage_image::Limits::max_pax_header_bytes`].
    pub max_pax_header_bytes: Option<u64>,
    /// [`anchorage_image::Limits::max_layers`].
    pub max_layers: Option<usize>,
    /// [`anchorage_image::Limits::max_compression_ratio`].
    pub max_compression_ratio: Option<u64>,
    /// [`anchorage_image::Limits::compression_ratio_grace_bytes`].
    pub compression_ratio_grace_bytes: Option<u64>,
    /// [`anchorage_image::AcquireOptions::max_blob_size`].
    pub max_blob_size: Option<u64>,
    /// [`anchorage_image::AcquireOptions::max_manifest_size`].
    pub max_manifest_size: Option<u64>,
    /// [`anchorage_image::AcquireOptions::max_parallel_downloads`].
    pub max_parallel_downloads: Option<usize>,
}

impl LimitSettings {
    /// Each key from `self`, else from `lower`.
    pub(crate) fn combine(self, lower: Self) -> Self {
        Self {
            max_layer_decompressed_bytes: self
                .max_layer_decompressed_bytes
                .or(lower.max_layer_decompressed_bytes),
            max_total_decompressed_bytes: self
                .max_total_decompressed_bytes
                .or(lower.max_total_decompressed_bytes),
            max_entries: self.max_entries.or(lower.max_entries),
            max_file_size: self.max_file_size.or(lower.max_file_size),
            max_path_len: self.max_path_len.or(lower.max_path_len),
            max_pax_header_bytes: self.max_pax_header_bytes.or(lower.max_pax_header_bytes),
            max_layers: self.max_layers.or(lower.max_layers),
            max_compression_ratio: self.max_compression_ratio.or(lower.max_compression_ratio),
            compression_ratio_grace_bytes: self
                .compression_ratio_grace_bytes
                .or(lower.compression_ratio_grace_bytes),
            max_blob_size: self.max_blob_size.or(lower.max_blob_size),
            max_manifest_size: self.max_manifest_size.or(lower.max_manifest_size),
            max_parallel_downloads: self.max_parallel_downloads.or(lower.max_parallel_downloads),
        }
    }
}
