//! The read side matching uses: the [`VulnSource`] trait and the in-memory implementation.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::error::SourceError;
use crate::model::{Advisory, normalize_name};
use crate::nvd::NvdEntry;

/// An advisory with the feed it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcedAdvisory {
    /// Feed kind: `osv`, `debian-tracker`, `alpine-secdb`.
    pub feed: String,
    /// The configured source it was synced from.
    pub source: String,
    /// The advisory.
    pub advisory: Advisory,
}

/// Read access to vulnerability data; implemented by a store snapshot and by [`MemorySource`].
pub trait VulnSource {
    /// Advisories with an affected entry for this normalized package name (any ecosystem).
    fn advisories_for(&self, name: &str) -> Result<Vec<Arc<SourcedAdvisory>>, SourceError>;
    /// Advisories whose id or alias is `vuln_id`.
    fn advisories_by_id(&self, vuln_id: &str) -> Result<Vec<Arc<SourcedAdvisory>>, SourceError>;
    /// NVD scores for a CVE.
    fn nvd(&self, cve: &str) -> Result<Option<NvdEntry>, SourceError>;
    /// Every ecosystem (`Debian:12`, `PyPI`) that has at least one record.
    fn ecosystems(&self) -> Result<BTreeSet<String>, SourceError>;
    /// When a fix was first seen by a sync for (advisory id, ecosystem, package name). Sources
    /// that keep no history (in-memory data) answer `None`.
    fn fix_observed_at(
        &self,
        advisory_id: &str,
        ecosystem: &str,
        name: &str,
    ) -> Result<Option<chrono::DateTime<chrono::Utc>>, SourceError> {
        let _ = (advisory_id, ecosystem, name);
        Ok(None)
    }
    /// [`VulnSource::advisories_for`] for many names at once (names without records are
    /// absent from the map). Stores override this to answer in one query.
    fn advisories_for_names(
        &self,
        names: &[String],
    ) -> Result<HashMap<String, Vec<Arc<SourcedAdvisory>>>, SourceError> {
        let mut out = HashMap::new();
        for n in names {
            let found = self.advisories_for(n)?;
            if !found.is_empty() {
                out.insert(n.clone(), found);
            }
        }
        Ok(out)
    }

    /// Advisories for many `(ecosystem, normalized name)` targets at once, keyed by name. A
    /// store may leave out advisories none of whose affected entries is in (or below, as
    /// `Ubuntu:22.04:LTS` is below `Ubuntu:22.04`) the target ecosystem; callers still filter.
    fn advisories_for_targets(
        &self,
        targets: &[(String, String)],
    ) -> Result<HashMap<String, Vec<Arc<SourcedAdvisory>>>, SourceError> {
        let mut names: Vec<String> = targets.iter().map(|(_, n)| n.clone()).collect();
        names.sort_unstable();
        names.dedup();
        self.advisories_for_names(&names)
    }
}

/// Vulnerability data held in memory: built from advisories directly (tests, benchmarks) or
/// loaded from a store snapshot for repeated re-matching.
#[derive(Debug, Default, Clone)]
pub struct MemorySource {
    by_name: HashMap<String, Vec<Arc<SourcedAdvisory>>>,
    by_id: HashMap<String, Vec<Arc<SourcedAdvisory>>>,
    ecosystems: BTreeSet<String>,
    nvd: HashMap<String, NvdEntry>,
}

impl MemorySource {
    /// Add an advisory from a feed.
    pub fn insert(&mut self, feed: &str, source: &str, advisory: Advisory) {
        self.insert_arc(Arc::new(SourcedAdvisory {
            feed: feed.to_string(),
            source: source.to_string(),
            advisory,
        }));
    }

    /// Add an advisory already shared (e.g. loaded from a store snapshot).
    pub fn insert_arc(&mut self, a: Arc<SourcedAdvisory>) {
        let mut names: Vec<String> = a
            .advisory
            .affected
            .iter()
            .map(|x| normalize_name(&x.ecosystem, &x.name))
            .collect();
        names.sort();
        names.dedup();
        for x in &a.advisory.affected {
            self.ecosystems.insert(x.ecosystem.clone());
        }
        for n in names {
            self.by_name.entry(n).or_default().push(Arc::clone(&a));
        }
        let mut ids: Vec<&str> = a.advisory.all_ids().collect();
        ids.sort_unstable();
        ids.dedup();
        for id in ids {
            self.by_id
                .entry(id.to_string())
                .or_default()
                .push(Arc::clone(&a));
        }
    }

    /// Add NVD scores.
    pub fn insert_nvd(&mut self, entry: NvdEntry) {
        self.nvd.insert(entry.id.clone(), entry);
    }
}

impl VulnSource for MemorySource {
    fn advisories_for(&self, name: &str) -> Result<Vec<Arc<SourcedAdvisory>>, SourceError> {
        Ok(self.by_name.get(name).cloned().unwrap_or_default())
    }

    fn advisories_by_id(&self, vuln_id: &str) -> Result<Vec<Arc<SourcedAdvisory>>, SourceError> {
        Ok(self.by_id.get(vuln_id).cloned().unwrap_or_default())
    }

    fn nvd(&self, cve: &str) -> Result<Option<NvdEntry>, SourceError> {
        Ok(self.nvd.get(cve).cloned())
    }

    fn ecosystems(&self) -> Result<BTreeSet<String>, SourceError> {
        Ok(self.ecosystems.clone())
    }
}
