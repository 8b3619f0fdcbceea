//! Blocking wrappers over the async acquisition API, each on a runtime made for the test (the
//! library creates none): shared by every test module of this binary.

use anchorage_image::{AcquireError, AcquireOptions, AcquiredImage};

/// A current-thread runtime for one call.
pub(crate) fn test_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a test runtime")
}

/// [`anchorage_image::acquire`] on a test runtime.
pub(crate) fn acquire_blocking(
    source: &str,
    options: &AcquireOptions,
) -> Result<AcquiredImage, AcquireError> {
    test_runtime().block_on(anchorage_image::acquire(source, options))
}

/// [`anchorage_image::list_tags`] on a test runtime.
pub(crate) fn list_tags_blocking(
    reference: &str,
    options: &AcquireOptions,
) -> Result<Vec<String>, AcquireError> {
    test_runtime().block_on(anchorage_image::list_tags(reference, options))
}
