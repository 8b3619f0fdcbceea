//! Executables (ELF, Mach-O, PE): each is read once, under [`LangLimits::max_binary_bytes`],
//! and handed to the Go build-info reader and the cargo-auditable reader.

use std::io::Read;

use anchorage_image::{FileEntry, ImageFs};

use super::golang::is_executable_magic;
use super::util::{is_file, read_entry};
use super::{LangLimits, golang, location_of, rust};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::Package;

/// Finds Go modules and Rust crates recorded inside executables.
pub(crate) struct ExecutableCataloger {
    limits: LangLimits,
}

impl ExecutableCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

/// True when the first bytes of `entry` are an executable magic number.
fn looks_executable(fs: &dyn ImageFs, entry: &FileEntry) -> bool {
    let mut head = [0u8; 4];
    fs.open_entry(entry)
        .ok()
        .and_then(|mut r| r.read_exact(&mut head).ok())
        .is_some()
        && is_executable_magic(&head)
}

impl Cataloger for ExecutableCataloger {
    fn name(&self) -> &'static str {
        "executables"
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e) && e.size >= 64 && e.size <= self.limits.max_binary_bytes
    }

    fn wants_content(&self, _entry: &FileEntry, head: Option<&[u8]>) -> bool {
        head.is_none_or(|h| h.len() >= 4 && is_executable_magic(&h[..4]))
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        for entry in files {
            if !looks_executable(fs, entry) {
                continue;
            }
            let Some(data) = read_entry(fs, entry, self.limits.max_binary_bytes, ctx, "go") else {
                continue;
            };
            let loc = location_of(fs, entry);
            match golang::packages_from_executable(&data, &loc) {
                Ok(p) => out.extend(p),
                Err(e) => ctx.warn("go", Some(&entry.path), e),
            }
            match rust::packages_from_executable(&data, &loc) {
                Ok(p) => out.extend(p),
                Err(e) => ctx.warn("rust", Some(&entry.path), e),
            }
        }
        out
    }
}
