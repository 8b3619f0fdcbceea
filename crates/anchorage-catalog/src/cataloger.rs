//! The cataloger interface: each ecosystem is one module implementing [`Cataloger`].

use anchorage_image::ImageFs;

use crate::model::{AnalysisWarning, Distro, Package};

/// Shared state handed to every cataloger during one analysis.
#[derive(Debug, Default)]
pub struct CatalogContext {
    /// The distro detected before package catalogers run.
    pub distro: Distro,
    /// Problems that did not stop the analysis; catalogers push here instead of failing.
    pub warnings: Vec<AnalysisWarning>,
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

    /// Returns the packages found.
    fn catalog(&self, fs: &dyn ImageFs, ctx: &mut CatalogContext) -> Vec<Package>;
}
