//! Opening the file tree of any acquired image. Kept apart from `squash` and `dirfs` so that
//! neither of those modules needs the other.

use crate::acquired::AcquiredImage;
use crate::dirfs::DirFs;
use crate::fs::ImageFs;
use crate::squash::{SquashError, SquashOptions, squash};

/// Opens the file tree of any acquired image: a [`DirFs`] over `root_dir` for `dir:` sources,
/// otherwise the [`squash`] of its layers.
pub fn open_fs(
    image: &AcquiredImage,
    options: &SquashOptions,
) -> Result<Box<dyn ImageFs>, SquashError> {
    if let Some(root) = &image.root_dir {
        return Ok(Box::new(DirFs::open(root, &options.limits)?));
    }
    Ok(Box::new(squash(image, options)?))
}
