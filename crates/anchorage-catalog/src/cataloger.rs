//! The cataloger interface: each ecosystem is one module implementing [`Cataloger`].
//!
//! The tree is walked once per analysis ([`crate::catalog`]): every entry is offered to each
//! cataloger's [`Cataloger::wants`], and each cataloger then gets the entries it asked for, in
//! walk order (byte order of paths), through [`Cataloger::catalog_files`]. A cataloger that
//! reads only fixed paths (package databases) wants nothing and reads them through `fs`.
//!
//! Porting a cataloger written against the former one-method interface is mechanical: the
//! `fs.entries().filter(P)` that started its `catalog` becomes `wants` (returning `P`), and the
//! loop over those entries becomes `catalog_files` over `files`.

use anchorage_image::{FileEntry, ImageFs};

use crate::model::{AnalysisWarning, Distro, Package};
use crate::relationships::DependencyDecl;

/// Shared state handed to every cataloger during one analysis.
#[derive(Debug, Default)]
pub struct CatalogContext {
    /// The distro detected before package catalogers run.
    pub distro: Distro,
    /// Problems that did not stop the analysis; catalogers push here instead of failing.
    pub warnings: Vec<AnalysisWarning>,
    /// Dependency declarations of the packages found, linked into
    /// [`crate::model::Analysis::relationships`] after every cataloger ran.
    pub dependencies: Vec<DependencyDecl>,
}

impl CatalogContext {
    /// Records a warning for `stage` about `path`.
    pub fn warn(&mut self, stage: &str, path: Option<&str>, message: impl Into<String>) {
        self.warnings.push(AnalysisWarning {
            stage: stage.to_string(),
            path: path.map(str::to_string),
            message: message.into(),
        });
    }
}

/// Finds packages of one ecosystem in an image file tree. Must not panic on any input:
/// malformed data becomes a warning in `ctx` and the cataloger returns what it could read.
pub trait Cataloger: Send + Sync {
    /// Short name, e.g. `dpkg`, `python`; used in warnings.
    fn name(&self) -> &'static str;

    /// Whether this cataloger reads `entry`. Called once for every entry of the tree during the
    /// single walk, so it must be cheap (a look at the name, kind or size; no reads).
    fn wants(&self, entry: &FileEntry) -> bool;

    /// Second look at an entry [`Cataloger::wants`] accepted, with the first bytes of its
    /// content (up to 16) when the walk read them anyway (`None` otherwise: then keep it if
    /// in doubt). Lets a cataloger that wants, say, executables skip every other file without
    /// a read of its own. Default: keep.
    fn wants_content(&self, entry: &FileEntry, head: Option<&[u8]>) -> bool {
        let _ = (entry, head);
        true
    }

    /// Returns the packages found, given the entries [`Cataloger::wants`] accepted (in walk
    /// order). Other paths may still be looked up or read through `fs`.
    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package>;

    /// Runs this cataloger alone: walks the tree itself, then [`Cataloger::catalog_files`].
    /// [`crate::catalog`] never calls this (it walks once for all catalogers).
    fn catalog(&self, fs: &dyn ImageFs, ctx: &mut CatalogContext) -> Vec<Package> {
        let files: Vec<FileEntry> = fs.entries().filter(|e| self.wants(e)).collect();
        // `wants_content` is not consulted here: without the walk's read there is no head,
        // which it must treat as "keep".
        self.catalog_files(fs, &files, ctx)
    }
}
