//! Layered settings for Anchorage: precedence is CLI, then environment, then the project file
//! (`./anchorage.toml`), then the user file (`$XDG_CONFIG_HOME/anchorage/config.toml`), then
//! defaults. [`load`] reads the files once into a [`Settings`]; commands pass it explicitly and
//! turn it into [`anchorage_image::AcquireOptions`] with their CLI/env values as
//! [`AcquireOverrides`]. Passwords are held in `secrecy` types and never printed.

mod env;
mod error;
mod file;
mod sections;
mod settings;

pub use env::{
    ANCHORAGE_CACHE_DIR, ANCHORAGE_CONFIG, ANCHORAGE_INSECURE_REGISTRIES, ANCHORAGE_PLATFORM,
    ANCHORAGE_REGISTRY_PASSWORD, ANCHORAGE_REGISTRY_USERNAME, PROJECT_FILE,
};
pub use error::SettingsError;
pub use settings::{
    AcquireOverrides, ConfigPaths, LimitSettings, RegistrySettings, Settings, load, load_with,
};
