//! Hits (one advisory record's affected entry containing a package's version) and their merging
//! by alias into one vulnerability per package, with the id to report.

use std::collections::BTreeSet;
use std::sync::Arc;

use anchorage_advisory::{Affected, SourcedAdvisory};
use anchorage_version::Scheme;

/// One record/affected-entry hit for a package before alias merging.
#[derive(Debug, Clone)]
pub(crate) struct Hit {
    pub(crate) record: Arc<SourcedAdvisory>,
    pub(crate) affected: usize,
    pub(crate) constraint: String,
    pub(crate) fixes: Vec<String>,
    pub(crate) scheme: Scheme,
    /// A record naming several CVEs attached to the finding of one of them: only its own id
    /// is added to the finding's aliases.
    pub(crate) attached: bool,
}

impl Hit {
    pub(crate) fn ids(&self) -> impl Iterator<Item = &str> {
        self.record.advisory.all_ids()
    }
    pub(crate) fn affected(&self) -> &Affected {
        &self.record.advisory.affected[self.affected]
    }
}

/// Number of distinct CVE ids a hit's record carries (its id and aliases).
pub(crate) fn cve_count(hit: &Hit) -> usize {
    hit.ids()
        .filter(|id| is_cve(id))
        .collect::<BTreeSet<_>>()
        .len()
}

/// Merge hits into findings: hits whose id sets intersect are one vulnerability (one CVE is
/// reported once per package with all its source ids). A record naming several CVEs (a DSA
/// covering five CVEs) does not fuse those CVEs into one finding: it is attached as evidence
/// to each finding of a CVE it names, and stands alone only when none matched.
pub(crate) fn merge(hits: Vec<Hit>) -> Vec<Vec<Hit>> {
    let (multi, single): (Vec<Hit>, Vec<Hit>) = hits.into_iter().partition(|h| cve_count(h) > 1);
    let mut groups: Vec<(BTreeSet<String>, Vec<Hit>)> = Vec::new();
    for hit in single {
        let mut merged_ids: BTreeSet<String> = hit.ids().map(str::to_string).collect();
        let mut merged_hits = vec![hit];
        let mut i = 0;
        while i < groups.len() {
            if !groups[i].0.is_disjoint(&merged_ids) {
                let (g_ids, g_hits) = groups.swap_remove(i);
                merged_ids.extend(g_ids);
                merged_hits.extend(g_hits);
                i = 0;
            } else {
                i += 1;
            }
        }
        groups.push((merged_ids, merged_hits));
    }
    let mut standalone = Vec::new();
    for mut hit in multi {
        let ids: BTreeSet<String> = hit.ids().map(str::to_string).collect();
        hit.attached = true;
        let mut attached = false;
        for (g_ids, g_hits) in &mut groups {
            if !g_ids.is_disjoint(&ids) {
                g_hits.push(hit.clone());
                attached = true;
            }
        }
        if !attached {
            hit.attached = false;
            standalone.push(vec![hit]);
        }
    }
    groups
        .into_iter()
        .map(|(_, h)| h)
        .chain(standalone)
        .collect()
}

pub(crate) fn is_cve(id: &str) -> bool {
    id.starts_with("CVE-")
}

/// The id to report for merged hits: a CVE record id, else the one CVE all aliases agree on,
/// else the smallest record id.
pub(crate) fn reported_id(hits: &[Hit]) -> String {
    let own: Vec<&Hit> = hits.iter().filter(|h| !h.attached).collect();
    let hits: Vec<&Hit> = if own.is_empty() {
        hits.iter().collect()
    } else {
        own
    };
    let record_ids: BTreeSet<&str> = hits.iter().map(|h| h.record.advisory.id.as_str()).collect();
    if let Some(cve) = record_ids.iter().find(|id| is_cve(id)) {
        return (*cve).to_string();
    }
    let cves: BTreeSet<&str> = hits
        .iter()
        .flat_map(|h| h.ids())
        .filter(|id| is_cve(id))
        .collect();
    if cves.len() == 1
        && let Some(c) = cves.first()
    {
        return (*c).to_string();
    }
    record_ids
        .first()
        .map(|s| (*s).to_string())
        .unwrap_or_default()
}
