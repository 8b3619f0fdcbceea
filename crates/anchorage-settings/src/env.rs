//! Every environment variable Anchorage's settings read, in one place.

/// Path of the config file to read instead of `./anchorage.toml` and the user file.
pub const ANCHORAGE_CONFIG: &str = "ANCHORAGE_CONFIG";
/// Blob cache directory (`--cache-dir`).
pub const ANCHORAGE_CACHE_DIR: &str = "ANCHORAGE_CACHE_DIR";
/// Platform to pick from an index (`--platform`).
pub const ANCHORAGE_PLATFORM: &str = "ANCHORAGE_PLATFORM";
/// Comma-separated `HOST[:PORT]` list allowed plain HTTP / unverified TLS
/// (`--insecure-registry`).
pub const ANCHORAGE_INSECURE_REGISTRIES: &str = "ANCHORAGE_INSECURE_REGISTRIES";
/// User name for the source's registry (`--username`).
pub const ANCHORAGE_REGISTRY_USERNAME: &str = "ANCHORAGE_REGISTRY_USERNAME";
/// Password for `--username` (only ever taken from the environment, never a flag).
pub const ANCHORAGE_REGISTRY_PASSWORD: &str = "ANCHORAGE_REGISTRY_PASSWORD";
/// Project config file name, looked up in the current directory.
pub const PROJECT_FILE: &str = "anchorage.toml";
