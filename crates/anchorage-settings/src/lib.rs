//! Layered settings for Anchorage (every environment variable and config key is read here): precedence is CLI, then environment, then the project file
//! (`./anchorage.toml`), then the user file (`$XDG_CONFIG_HOME/anchorage/config.toml`), then
//! defaults. [`load`] reads the files once into a [`Settings`]; commands pass it explicitly and
//! turn it into [`anchorage_image::AcquireOptions`] with their CLI/env values as
//! [`AcquireOverrides`]. Passwords are held in `secrecy` types and never printed.

mod client;
mod env;
mod error;
mod file;
mod malware;
mod roles;
mod sections;
mod service;
mod settings;
mod watch;

pub use client::{
    ANCHORAGE_ACCOUNT, ANCHORAGE_PASS, ANCHORAGE_URL, ANCHORAGE_USER, ANCHORE_CLI_ACCOUNT,
    ANCHORE_CLI_JSON, ANCHORE_CLI_PASS, ANCHORE_CLI_URL, ANCHORE_CLI_USER, ClientFlags,
    ClientSettings, DEFAULT_CLIENT_URL,
};
pub use env::{
    ANCHORAGE_CACHE_DIR, ANCHORAGE_CONFIG, ANCHORAGE_DATA_DIR, ANCHORAGE_DATABASE_URL,
    ANCHORAGE_FEED_SOURCES, ANCHORAGE_INSECURE_REGISTRIES, ANCHORAGE_LOG, ANCHORAGE_LOG_FORMAT,
    ANCHORAGE_PLATFORM, ANCHORAGE_REGISTRY_PASSWORD, ANCHORAGE_REGISTRY_USERNAME, DOCKER_CONFIG,
    Environment, HOME, NVD_API_KEY, PATH, PROJECT_FILE, XDG_CACHE_HOME, XDG_CONFIG_HOME,
};
pub use error::SettingsError;
pub use malware::{ClamavSettings, DEFAULT_CLAMD_SOCKET};
pub use roles::{
    DEFAULT_LISTEN, DatabaseSettings, FeedSettings, ScanSettings, ServerSettings, WebhookSettings,
    WorkerSettings, parse_content_rule,
};
pub use service::{
    ANCHORAGE_ADMIN_PASSWORD, ANCHORAGE_SECRET_KEY, ArchiveStorage, Role, ServeFlags,
    ServiceSettings,
};
pub use settings::{
    AcquireOverrides, ConfigPaths, DEFAULT_DATA_DIR, LimitSettings, RegistrySettings, Settings,
    load, load_with,
};
pub use watch::{CYCLES, CycleSpec, CycleTimers, HOOK_NAMES, HookSettings, WebhookConfig};
