//! Validated bundle types. Engine code only accepts these; they are built by
//! [`crate::validate`].

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use regex::Regex;

use serde_json::Value;

use crate::pattern::Pattern;
use crate::spec::{GateDef, TriggerDef};

pub use anchorage_model::{Action, ValidationProblem};

/// A bundle that passed validation: every gate, trigger and parameter resolved, every regex
/// compiled, every reference checked.
#[derive(Debug, Clone)]
pub struct ValidBundle {
    pub(crate) raw: Value,
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) policies: Vec<ValidPolicy>,
    pub(crate) whitelists: Vec<ValidWhitelist>,
    pub(crate) mappings: Vec<ValidMapping>,
    pub(crate) whitelisted_images: Vec<ImageRule>,
    pub(crate) blacklisted_images: Vec<ImageRule>,
}

impl ValidBundle {
    /// Bundle id (the `policyId`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Bundle name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The bundle JSON as given.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    pub(crate) fn policy(&self, id: &str) -> Option<&ValidPolicy> {
        self.policies.iter().find(|p| p.id == id)
    }

    pub(crate) fn whitelist(&self, id: &str) -> Option<&ValidWhitelist> {
        self.whitelists.iter().find(|w| w.id == id)
    }
}

/// A validated policy.
#[derive(Debug, Clone)]
pub(crate) struct ValidPolicy {
    pub(crate) id: String,
    pub(crate) rules: Vec<ValidRule>,
}

/// A validated rule: gate and trigger resolved, params keyed by canonical name.
#[derive(Debug, Clone)]
pub(crate) struct ValidRule {
    pub(crate) id: String,
    pub(crate) gate: &'static GateDef,
    pub(crate) trigger: &'static TriggerDef,
    pub(crate) action: Action,
    pub(crate) params: BTreeMap<&'static str, String>,
    pub(crate) regexes: BTreeMap<&'static str, Regex>,
}

impl ValidRule {
    pub(crate) fn param(&self, name: &str) -> Option<&str> {
        self.params.get(name).map(String::as_str)
    }

    pub(crate) fn regex(&self, name: &str) -> Option<&Regex> {
        self.regexes.get(name)
    }

    /// Boolean param (validated), with a default.
    pub(crate) fn flag(&self, name: &str, default: bool) -> bool {
        self.param(name)
            .map_or(default, |v| v.trim().eq_ignore_ascii_case("true"))
    }

    /// Comma list param, trimmed, empty elements dropped.
    pub(crate) fn list(&self, name: &str) -> Vec<String> {
        self.param(name).map(split_list).unwrap_or_default()
    }
}

/// Split a comma list, trimming whitespace and dropping empty elements.
pub(crate) fn split_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// A validated whitelist, indexed so that a bundle with many exact items is matched in
/// constant time per row (exact items by hash, only wildcard items scanned).
#[derive(Debug, Clone)]
pub(crate) struct ValidWhitelist {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) items: Vec<WhitelistItem>,
    /// gate -> exact trigger id -> item indices in document order.
    exact: HashMap<String, HashMap<String, Vec<usize>>>,
    /// Indices of wildcard / `regexp:` items in document order.
    patterns: Vec<usize>,
}

impl ValidWhitelist {
    pub(crate) fn new(id: String, name: String, items: Vec<WhitelistItem>) -> Self {
        let mut exact: HashMap<String, HashMap<String, Vec<usize>>> = HashMap::new();
        let mut patterns = Vec::new();
        for (i, item) in items.iter().enumerate() {
            if item.trigger_id.is_literal() {
                exact
                    .entry(item.gate.clone())
                    .or_default()
                    .entry(item.trigger_id.as_str().to_string())
                    .or_default()
                    .push(i);
            } else {
                patterns.push(i);
            }
        }
        Self {
            id,
            name,
            items,
            exact,
            patterns,
        }
    }

    /// The first unexpired item (in document order) matching a fired trigger.
    pub(crate) fn first_match(
        &self,
        gate: &str,
        trigger_id: &str,
        now: DateTime<Utc>,
    ) -> Option<&WhitelistItem> {
        let live = |i: usize| self.items[i].expires_on.is_none_or(|e| e > now);
        let exact = self
            .exact
            .get(gate)
            .and_then(|m| m.get(trigger_id))
            .and_then(|v| v.iter().copied().find(|i| live(*i)));
        let bound = exact.unwrap_or(usize::MAX);
        let pattern = self
            .patterns
            .iter()
            .copied()
            .take_while(|i| *i < bound)
            .find(|i| {
                let item = &self.items[*i];
                item.gate == gate && live(*i) && item.trigger_id.matches(trigger_id)
            });
        pattern.or(exact).map(|i| &self.items[i])
    }
}

/// One whitelist item.
#[derive(Debug, Clone)]
pub(crate) struct WhitelistItem {
    pub(crate) id: String,
    /// Lower-cased gate name.
    pub(crate) gate: String,
    pub(crate) trigger_id: Pattern,
    pub(crate) expires_on: Option<DateTime<Utc>>,
    /// Optional justification (an Anchorage extension; Anchore ignores unknown item keys).
    pub(crate) reason: Option<String>,
}

/// What a mapping or image-list rule selects by image.
#[derive(Debug, Clone)]
pub(crate) enum ImageSelector {
    Tag(Pattern),
    Digest(String),
    Id(String),
}

/// A mapping or image-list rule.
#[derive(Debug, Clone)]
pub(crate) struct ImageRule {
    pub(crate) raw: Value,
    pub(crate) registry: Pattern,
    pub(crate) repository: Pattern,
    pub(crate) image: ImageSelector,
}

/// A validated mapping.
#[derive(Debug, Clone)]
pub(crate) struct ValidMapping {
    pub(crate) rule: ImageRule,
    pub(crate) policy_ids: Vec<String>,
    pub(crate) whitelist_ids: Vec<String>,
}
