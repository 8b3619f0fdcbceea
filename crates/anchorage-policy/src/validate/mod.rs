//! Bundle validation: raw JSON -> [`ValidBundle`], collecting every problem at once with
//! Anchore's `problem_type` names (anchore-v1.md §3.5, §4.1).

mod rule;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::bundle::{
    ImageRule, ImageSelector, ValidBundle, ValidMapping, ValidPolicy, ValidWhitelist,
    ValidationProblem, WhitelistItem,
};
use crate::pattern::Pattern;
use crate::spec::{self, State};

/// Keys a whitelist item may carry (`reason` is an Anchorage extension).
const ITEM_KEYS: &[&str] = &[
    "id",
    "gate",
    "trigger_id",
    "expires_on",
    "reason",
    "comment",
];

/// Explicit limits applied while validating a bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationLimits {
    /// Largest accepted bundle document, in bytes of JSON text (default 16 MiB).
    pub max_bundle_bytes: usize,
    /// Most rules + whitelist items + mappings + image-list entries (default 100 000).
    pub max_entries: usize,
    /// Longest accepted string value, in bytes (default 64 KiB).
    pub max_string_bytes: usize,
    /// Compiled size limit of each regular expression, in bytes (default 1 MiB).
    pub regex_size_limit: usize,
    /// Most problems reported; the rest are summarized in one final problem (default 1000).
    pub max_problems: usize,
}

impl Default for ValidationLimits {
    fn default() -> Self {
        Self {
            max_bundle_bytes: 16 << 20,
            max_entries: 100_000,
            max_string_bytes: 64 << 10,
            regex_size_limit: 1 << 20,
            max_problems: 1000,
        }
    }
}

/// The bundle JSON as parsed, before validation.
#[derive(Debug, Clone, PartialEq)]
pub struct RawBundle(pub Value);

impl RawBundle {
    /// Parse bundle text, enforcing `max_bundle_bytes`. Malformed JSON is reported as a
    /// `ValidationError` problem naming the line and column.
    pub fn parse(text: &str, limits: &ValidationLimits) -> Result<Self, Vec<ValidationProblem>> {
        if text.len() > limits.max_bundle_bytes {
            return Err(vec![ValidationProblem::error(
                "ValidationError",
                format!(
                    "bundle is {} bytes, over the limit of {} bytes",
                    text.len(),
                    limits.max_bundle_bytes
                ),
            )]);
        }
        serde_json::from_str(text).map(RawBundle).map_err(|e| {
            vec![ValidationProblem::error(
                "ValidationError",
                format!("bundle is not valid JSON: {e}"),
            )]
        })
    }

    /// Validate with the given limits.
    pub fn validate(
        &self,
        limits: &ValidationLimits,
    ) -> Result<ValidBundle, Vec<ValidationProblem>> {
        validate_with_limits(&self.0, limits)
    }
}

/// Validate a bundle with the default [`ValidationLimits`].
pub fn validate(bundle_json: &Value) -> Result<ValidBundle, Vec<ValidationProblem>> {
    validate_with_limits(bundle_json, &ValidationLimits::default())
}

/// Validate a bundle, collecting every problem.
pub fn validate_with_limits(
    bundle_json: &Value,
    limits: &ValidationLimits,
) -> Result<ValidBundle, Vec<ValidationProblem>> {
    let mut v = Validator {
        limits,
        problems: Vec::new(),
        dropped: 0,
    };
    let bundle = v.bundle(bundle_json);
    if v.dropped > 0 {
        v.problems.push(ValidationProblem::error(
            "ValidationError",
            format!("{} more problems not shown", v.dropped),
        ));
    }
    match bundle {
        Some(b) if v.problems.is_empty() => Ok(b),
        _ => Err(v.problems),
    }
}

struct Validator<'l> {
    limits: &'l ValidationLimits,
    problems: Vec<ValidationProblem>,
    dropped: usize,
}

impl Validator<'_> {
    fn push(&mut self, problem_type: &str, details: String) {
        if self.problems.len() >= self.limits.max_problems {
            self.dropped += 1;
        } else {
            self.problems
                .push(ValidationProblem::error(problem_type, details));
        }
    }

    fn schema(&mut self, details: String) {
        self.push("ValidationError", details);
    }

    /// A string field; `required` controls whether absence is a problem.
    fn string(
        &mut self,
        obj: &Map<String, Value>,
        key: &str,
        at: &str,
        required: bool,
    ) -> Option<String> {
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.schema(format!("{at}: required field '{key}' is missing"));
                }
                None
            }
            Some(Value::String(s)) if s.len() > self.limits.max_string_bytes => {
                self.schema(format!(
                    "{at}: field '{key}' is {} bytes, over the limit of {} bytes",
                    s.len(),
                    self.limits.max_string_bytes
                ));
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => {
                self.schema(format!(
                    "{at}: field '{key}' must be a string, got {}",
                    kind(other)
                ));
                None
            }
        }
    }

    fn array<'v>(
        &mut self,
        obj: &'v Map<String, Value>,
        key: &str,
        at: &str,
        required: bool,
    ) -> &'v [Value] {
        match obj.get(key) {
            None | Some(Value::Null) => {
                if required {
                    self.schema(format!("{at}: required field '{key}' is missing"));
                }
                &[]
            }
            Some(Value::Array(a)) => a,
            Some(other) => {
                self.schema(format!(
                    "{at}: field '{key}' must be a list, got {}",
                    kind(other)
                ));
                &[]
            }
        }
    }

    fn object<'v>(&mut self, value: &'v Value, at: &str) -> Option<&'v Map<String, Value>> {
        match value {
            Value::Object(o) => Some(o),
            other => {
                self.schema(format!("{at}: must be an object, got {}", kind(other)));
                None
            }
        }
    }

    /// Unknown keys inside rules, params and whitelist items are typos that would silently
    /// change the meaning (a misspelt `params` drops every parameter), so they are problems.
    /// Other objects accept extra keys, as exported bundles carry bookkeeping fields.
    fn known_keys(&mut self, obj: &Map<String, Value>, at: &str, known: &[&str]) {
        for key in obj.keys() {
            if !known.contains(&key.as_str()) {
                self.schema(format!(
                    "{at}: unknown field '{key}' (expected one of: {})",
                    known.join(", ")
                ));
            }
        }
    }

    fn version(&mut self, obj: &Map<String, Value>, at: &str) {
        if let Some(version) = self.string(obj, "version", at, true)
            && version != "1_0"
        {
            self.push(
                "UnsupportedVersionError",
                format!("{at}: version '{version}' is not supported (expected '1_0')"),
            );
        }
    }

    fn pattern(&mut self, raw: &str, at: &str, field: &str) -> Option<Pattern> {
        match Pattern::compile(raw, self.limits.regex_size_limit) {
            Ok(p) => Some(p),
            Err(e) => {
                self.schema(format!("{at}: field '{field}' pattern {raw:?}: {e}"));
                None
            }
        }
    }

    fn bundle(&mut self, value: &Value) -> Option<ValidBundle> {
        let obj = self.object(value, "bundle")?;
        let id = self.string(obj, "id", "bundle", true);
        let name = self
            .string(obj, "name", "bundle", false)
            .unwrap_or_default();
        self.string(obj, "comment", "bundle", false);
        self.version(obj, "bundle");
        let policies_v = self.array(obj, "policies", "bundle", true);
        let whitelists_v = self.array(obj, "whitelists", "bundle", false);
        let mappings_v = self.array(obj, "mappings", "bundle", true);
        let wl_images_v = self.array(obj, "whitelisted_images", "bundle", false);
        let bl_images_v = self.array(obj, "blacklisted_images", "bundle", false);

        let entries = policies_v
            .iter()
            .map(|p| p.get("rules").and_then(Value::as_array).map_or(1, Vec::len))
            .sum::<usize>()
            + whitelists_v
                .iter()
                .map(|w| w.get("items").and_then(Value::as_array).map_or(1, Vec::len))
                .sum::<usize>()
            + mappings_v.len()
            + wl_images_v.len()
            + bl_images_v.len();
        if entries > self.limits.max_entries {
            self.schema(format!(
                "bundle: {entries} rules, whitelist items, mappings and image-list entries, over the limit of {}",
                self.limits.max_entries
            ));
            return None;
        }

        let mut policies = Vec::new();
        for (i, p) in policies_v.iter().enumerate() {
            if let Some(p) = self.policy(p, i) {
                policies.push(p);
            }
        }
        let mut whitelists = Vec::new();
        for (i, w) in whitelists_v.iter().enumerate() {
            if let Some(w) = self.whitelist(w, i) {
                whitelists.push(w);
            }
        }
        let policy_ids = self.unique_ids(policies_v, "policy");
        let whitelist_ids = self.unique_ids(whitelists_v, "whitelist");

        let mut mappings = Vec::new();
        for (i, m) in mappings_v.iter().enumerate() {
            if let Some(m) = self.mapping(m, i, &policy_ids, &whitelist_ids) {
                mappings.push(m);
            }
        }
        let mut whitelisted_images = Vec::new();
        for (i, r) in wl_images_v.iter().enumerate() {
            if let Some(r) = self.image_rule(r, &format!("whitelisted_images[{i}]")) {
                whitelisted_images.push(r);
            }
        }
        let mut blacklisted_images = Vec::new();
        for (i, r) in bl_images_v.iter().enumerate() {
            if let Some(r) = self.image_rule(r, &format!("blacklisted_images[{i}]")) {
                blacklisted_images.push(r);
            }
        }
        Some(ValidBundle {
            raw: value.clone(),
            id: id?,
            name,
            policies,
            whitelists,
            mappings,
            whitelisted_images,
            blacklisted_images,
        })
    }

    /// Ids of the objects in `list` that appear exactly once; duplicates are reported.
    fn unique_ids(&mut self, list: &[Value], what: &str) -> BTreeSet<String> {
        let mut counts: BTreeMap<String, usize> = BTreeMap::new();
        for item in list {
            if let Some(id) = item.get("id").and_then(Value::as_str) {
                *counts.entry(id.to_string()).or_default() += 1;
            }
        }
        let mut ids = BTreeSet::new();
        for (id, n) in counts {
            if n > 1 {
                self.push(
                    "DuplicateIdentifierFoundError",
                    format!("{what} id '{id}' is used {n} times; ids must be unique"),
                );
            } else {
                ids.insert(id);
            }
        }
        ids
    }

    fn policy(&mut self, value: &Value, index: usize) -> Option<ValidPolicy> {
        let at0 = format!("policies[{index}]");
        let obj = self.object(value, &at0)?;
        let id = self.string(obj, "id", &at0, true);
        let at = format!("policy '{}'", id.as_deref().unwrap_or(&at0));
        self.string(obj, "name", &at, false);
        self.string(obj, "comment", &at, false);
        self.version(obj, &at);
        let rules_v = self.array(obj, "rules", &at, true);
        let mut rule_ids: BTreeMap<String, usize> = BTreeMap::new();
        let mut rules = Vec::new();
        for (i, r) in rules_v.iter().enumerate() {
            if let Some(rid) = r.get("id").and_then(Value::as_str) {
                *rule_ids.entry(rid.to_string()).or_default() += 1;
            }
            if let Some(rule) = self.rule(r, &at, i) {
                rules.push(rule);
            }
        }
        for (rid, n) in rule_ids {
            if n > 1 {
                self.push(
                    "DuplicateIdentifierFoundError",
                    format!("{at}: rule id '{rid}' is used {n} times; ids must be unique"),
                );
            }
        }
        Some(ValidPolicy { id: id?, rules })
    }

    fn whitelist(&mut self, value: &Value, index: usize) -> Option<ValidWhitelist> {
        let at0 = format!("whitelists[{index}]");
        let obj = self.object(value, &at0)?;
        let id = self.string(obj, "id", &at0, true);
        let at = format!("whitelist '{}'", id.as_deref().unwrap_or(&at0));
        let name = self.string(obj, "name", &at, false).unwrap_or_default();
        self.string(obj, "comment", &at, false);
        self.version(obj, &at);
        let items_v = self.array(obj, "items", &at, false);
        let mut items = Vec::new();
        let mut ids: BTreeMap<String, usize> = BTreeMap::new();
        for (i, item) in items_v.iter().enumerate() {
            let iat0 = format!("{at} items[{i}]");
            let Some(iobj) = self.object(item, &iat0) else {
                continue;
            };
            self.known_keys(iobj, &iat0, ITEM_KEYS);
            let item_id = self.string(iobj, "id", &iat0, true);
            let iat = match &item_id {
                Some(x) => {
                    *ids.entry(x.clone()).or_default() += 1;
                    format!("{at} item '{x}'")
                }
                None => iat0,
            };
            let gate = self.string(iobj, "gate", &iat, true);
            if let Some(g) = &gate
                && spec::gate(&g.to_lowercase()).is_none()
            {
                self.push(
                    "GateNotFoundError",
                    format!("{iat}: gate '{g}' not found; the item could never match"),
                );
            }
            let trigger_id = self
                .string(iobj, "trigger_id", &iat, true)
                .and_then(|t| self.pattern(&t, &iat, "trigger_id"));
            let reason = self.string(iobj, "reason", &iat, false);
            let expires_on = self.string(iobj, "expires_on", &iat, false).and_then(|e| {
                match DateTime::parse_from_rfc3339(&e) {
                    Ok(d) => Some(d.with_timezone(&Utc)),
                    Err(err) => {
                        self.schema(format!(
                            "{iat}: expires_on {e:?} is not an RFC 3339 timestamp: {err}"
                        ));
                        None
                    }
                }
            });
            if let (Some(id), Some(gate), Some(trigger_id)) = (item_id, gate, trigger_id) {
                items.push(WhitelistItem {
                    id,
                    gate: gate.to_lowercase(),
                    trigger_id,
                    expires_on,
                    reason,
                });
            }
        }
        for (iid, n) in ids {
            if n > 1 {
                self.push(
                    "DuplicateIdentifierFoundError",
                    format!("{at}: item id '{iid}' is used {n} times; ids must be unique"),
                );
            }
        }
        Some(ValidWhitelist::new(id?, name, items))
    }

    fn image_rule(&mut self, value: &Value, at: &str) -> Option<ImageRule> {
        let obj = self.object(value, at)?;
        let registry = self
            .string(obj, "registry", at, true)
            .and_then(|r| self.pattern(&r, at, "registry"));
        let repository = self
            .string(obj, "repository", at, true)
            .and_then(|r| self.pattern(&r, at, "repository"));
        let image = match obj.get("image") {
            Some(Value::Object(img)) => {
                let kind = self.string(img, "type", &format!("{at} image"), true);
                let val = self.string(img, "value", &format!("{at} image"), true);
                match (kind.as_deref(), val) {
                    (Some("tag"), Some(v)) => {
                        self.pattern(&v, at, "image.value").map(ImageSelector::Tag)
                    }
                    (Some("digest"), Some(v)) => Some(ImageSelector::Digest(v)),
                    (Some("id"), Some(v)) => Some(ImageSelector::Id(v)),
                    (Some(other), _) => {
                        self.schema(format!(
                            "{at}: image type '{other}' must be one of tag, digest, id"
                        ));
                        None
                    }
                    _ => None,
                }
            }
            None | Some(Value::Null) => {
                self.schema(format!("{at}: required field 'image' is missing"));
                None
            }
            Some(other) => {
                self.schema(format!(
                    "{at}: field 'image' must be an object, got {}",
                    kind(other)
                ));
                None
            }
        };
        Some(ImageRule {
            raw: value.clone(),
            registry: registry?,
            repository: repository?,
            image: image?,
        })
    }

    fn mapping(
        &mut self,
        value: &Value,
        index: usize,
        policy_ids: &BTreeSet<String>,
        whitelist_ids: &BTreeSet<String>,
    ) -> Option<ValidMapping> {
        let name = value
            .get("name")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_default();
        let at = if name.is_empty() {
            format!("mappings[{index}]")
        } else {
            format!("mapping '{name}'")
        };
        let rule = self.image_rule(value, &at);
        let obj = value.as_object()?;
        let single = self.string(obj, "policy_id", &at, false);
        let multi_v = self.array(obj, "policy_ids", &at, false).to_vec();
        let has_multi = obj.get("policy_ids").is_some_and(|v| !v.is_null());
        let mut policy_refs = Vec::new();
        match (single, has_multi) {
            (Some(_), true) => self.schema(format!(
                "{at}: give exactly one of 'policy_id' and 'policy_ids', not both"
            )),
            (None, false) => self.schema(format!(
                "{at}: one of 'policy_id' or 'policy_ids' is required"
            )),
            (Some(p), false) => policy_refs.push(p),
            (None, true) => {
                for (i, p) in multi_v.iter().enumerate() {
                    match p.as_str() {
                        Some(s) => policy_refs.push(s.to_string()),
                        None => self.schema(format!("{at}: policy_ids[{i}] must be a string")),
                    }
                }
            }
        }
        let mut whitelist_refs = Vec::new();
        for (i, w) in self
            .array(obj, "whitelist_ids", &at, false)
            .to_vec()
            .iter()
            .enumerate()
        {
            match w.as_str() {
                Some(s) => whitelist_refs.push(s.to_string()),
                None => self.schema(format!("{at}: whitelist_ids[{i}] must be a string")),
            }
        }
        for p in &policy_refs {
            if !policy_ids.contains(p) {
                self.push(
                    "ReferencedObjectNotFoundError",
                    format!("{at}: referenced policy '{p}' not found exactly once in the bundle"),
                );
            }
        }
        for w in &whitelist_refs {
            if !whitelist_ids.contains(w) {
                self.push(
                    "ReferencedObjectNotFoundError",
                    format!(
                        "{at}: referenced whitelist '{w}' not found exactly once in the bundle"
                    ),
                );
            }
        }
        Some(ValidMapping {
            rule: rule?,
            policy_ids: policy_refs,
            whitelist_ids: whitelist_refs,
        })
    }
}

fn active_gate_names() -> Vec<&'static str> {
    spec::GATES
        .iter()
        .filter(|g| g.state != State::Eol)
        .map(|g| g.name)
        .collect()
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Parse `^\s*\d+\s*$` into a u64.
pub(crate) fn parse_int(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if t.is_empty() || !t.chars().all(|c| c.is_ascii_digit()) {
        return Err("must be a non-negative integer".into());
    }
    t.parse::<u64>().map_err(|_| "integer is too large".into())
}

/// Parse a float with optional leading `-` and decimal part.
pub(crate) fn parse_float(s: &str) -> Result<f64, String> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    let valid = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
        && digits.matches('.').count() <= 1
        && !digits.starts_with('.')
        && !digits.ends_with('.');
    if !valid {
        return Err("must be a number such as 7.5".into());
    }
    t.parse::<f64>()
        .map_err(|_| "must be a number such as 7.5".into())
}

/// Parse a size: integer bytes with an optional `kb|mb|gb|tb` suffix (1024-based).
pub(crate) fn parse_size(s: &str) -> Result<u64, String> {
    let t = s.trim().to_ascii_lowercase();
    let (num, mult) = [
        ("kb", 1u64 << 10),
        ("mb", 1 << 20),
        ("gb", 1 << 30),
        ("tb", 1 << 40),
    ]
    .iter()
    .find_map(|(suf, m)| t.strip_suffix(suf).map(|n| (n.trim().to_string(), *m)))
    .unwrap_or((t.clone(), 1));
    let n = parse_int(&num)
        .map_err(|_| "must be an integer size with optional kb, mb, gb or tb suffix".to_string())?;
    n.checked_mul(mult)
        .ok_or_else(|| "size is too large".to_string())
}
