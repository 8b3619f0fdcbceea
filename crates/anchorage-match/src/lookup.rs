//! Advisory candidates per lookup name, fetched from the [`VulnSource`] once per match.

use std::collections::HashMap;
use std::sync::Arc;

use anchorage_advisory::{SourceError, SourcedAdvisory, VulnSource};

/// Candidates for a target, cached by lookup name for the duration of one match.
pub(crate) struct Lookup<'a> {
    source: &'a dyn VulnSource,
    cache: HashMap<String, Vec<Arc<SourcedAdvisory>>>,
}

impl<'a> Lookup<'a> {
    pub(crate) fn new(source: &'a dyn VulnSource) -> Self {
        Self {
            source,
            cache: HashMap::new(),
        }
    }

    /// Fetch the candidates of many (ecosystem, name) targets in one go.
    pub(crate) fn prefetch(&mut self, targets: &[(String, String)]) -> Result<(), SourceError> {
        let mut found = self.source.advisories_for_targets(targets)?;
        for (_, n) in targets {
            if !self.cache.contains_key(n) {
                let v = found.remove(n).unwrap_or_default();
                self.cache.insert(n.clone(), v);
            }
        }
        Ok(())
    }

    pub(crate) fn get(&mut self, name: &str) -> Result<&[Arc<SourcedAdvisory>], SourceError> {
        if !self.cache.contains_key(name) {
            let found = self.source.advisories_for(name)?;
            self.cache.insert(name.to_string(), found);
        }
        Ok(self.cache.get(name).map(Vec::as_slice).unwrap_or(&[]))
    }
}
