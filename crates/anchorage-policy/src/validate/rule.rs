//! Rule validation: gate, trigger and every parameter resolved against the spec table.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::{Validator, active_gate_names, kind, parse_float, parse_int, parse_size};
use crate::bundle::{Action, ValidRule, split_list};
use crate::pattern::param_regex;
use crate::spec::{self, Check, ParamDef, State};

/// Keys a rule may carry: Anchore's, plus `comment` and the `recommendation` text that
/// Anchore Enterprise exports carry.
const RULE_KEYS: &[&str] = &[
    "id",
    "gate",
    "trigger",
    "action",
    "params",
    "comment",
    "recommendation",
];
const PARAM_KEYS: &[&str] = &["name", "value"];

impl Validator<'_> {
    pub(super) fn rule(
        &mut self,
        value: &Value,
        policy_at: &str,
        index: usize,
    ) -> Option<ValidRule> {
        let at0 = format!("{policy_at} rules[{index}]");
        let obj = self.object(value, &at0)?;
        let id = self.string(obj, "id", &at0, true);
        let at = match &id {
            Some(id) => format!("{policy_at} rule '{id}'"),
            None => at0,
        };
        self.known_keys(obj, &at, RULE_KEYS);
        let gate_name = self.string(obj, "gate", &at, true);
        let trigger_name = self
            .string(obj, "trigger", &at, true)
            .map(|t| t.to_lowercase());
        let action = self.string(obj, "action", &at, true).and_then(|a| {
            let parsed = Action::parse(&a);
            if parsed.is_none() {
                self.push(
                    "InvalidGateAction",
                    format!("{at}: action '{a}' is not one of GO, WARN, STOP"),
                );
            }
            parsed
        });
        let params_v = self.array(obj, "params", &at, false);

        let gate_name = gate_name?;
        let Some(gate) = spec::gate(&gate_name) else {
            self.push(
                "GateNotFoundError",
                format!(
                    "{at}: gate '{gate_name}' not found; valid gates: {}",
                    active_gate_names().join(", ")
                ),
            );
            return None;
        };
        if gate.state == State::Eol {
            self.push(
                "EndOfLifedError",
                format!(
                    "{at}: gate '{gate_name}' is end-of-life{}",
                    gate.superceded_by
                        .map(|s| format!("; use gate '{s}' instead"))
                        .unwrap_or_default()
                ),
            );
            return None;
        }
        let trigger_name = trigger_name?;
        let Some(trigger) = gate.trigger(&trigger_name) else {
            self.push(
                "TriggerNotFoundError",
                format!(
                    "{at}: gate '{gate_name}' has no trigger '{trigger_name}'; valid triggers: {}",
                    gate.triggers
                        .iter()
                        .map(|t| t.name)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            return None;
        };
        let at = format!("{at} ({gate_name}/{trigger_name})");
        let mut params: BTreeMap<&'static str, String> = BTreeMap::new();
        let mut regexes = BTreeMap::new();
        let mut ok = true;
        // Parameters whose own value failed its check: left out of the cross-parameter checks
        // so each problem is reported once.
        let mut bad_values: Vec<&'static str> = Vec::new();
        for (i, pv) in params_v.iter().enumerate() {
            let pat = format!("{at} params[{i}]");
            let Some(pobj) = self.object(pv, &pat) else {
                ok = false;
                continue;
            };
            self.known_keys(pobj, &pat, PARAM_KEYS);
            let (Some(pname), value) = (
                self.string(pobj, "name", &pat, true),
                self.param_value(pobj, &pat),
            ) else {
                ok = false;
                continue;
            };
            let lname = pname.to_lowercase();
            let Some(def) = trigger.param(&lname) else {
                self.push(
                    "InvalidParameterError",
                    format!(
                        "{at}: parameter '{pname}' is not valid; valid parameters: {}",
                        trigger
                            .params
                            .iter()
                            .map(|p| p.name)
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                );
                ok = false;
                continue;
            };
            let Some(value) = value else {
                ok = false;
                continue;
            };
            if params.contains_key(def.name) {
                self.push(
                    "InvalidParameterError",
                    format!("{at}: parameter '{}' is given more than once", def.name),
                );
                ok = false;
                continue;
            }
            match self.check_value(def, &value) {
                Ok(Some(re)) => {
                    regexes.insert(def.name, re);
                }
                Ok(None) => {}
                Err(e) => {
                    self.push(
                        "ParameterValueInvalidError",
                        format!("{at}: parameter '{}' value {value:?}: {e}", def.name),
                    );
                    bad_values.push(def.name);
                    ok = false;
                }
            }
            params.insert(def.name, value);
        }
        for def in trigger.params.iter().filter(|p| p.required) {
            if !params.contains_key(def.name) {
                self.push(
                    "ParameterValueInvalidError",
                    format!("{at}: required parameter '{}' is missing", def.name),
                );
                ok = false;
            }
        }
        // The two-parameter checks run even when the rule already has another problem, so
        // one validation reports everything wrong with it; they see only the parameters whose
        // own values were valid.
        let checkable: BTreeMap<&'static str, String> = params
            .iter()
            .filter(|(k, _)| !bad_values.contains(k))
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        if let Err((param, e)) = self.cross_check(gate.name, trigger.name, &checkable, &mut regexes)
        {
            self.push(
                "ParameterValueInvalidError",
                format!("{at}: parameter '{param}': {e}"),
            );
            ok = false;
        }
        (ok && id.is_some() && action.is_some()).then(|| ValidRule {
            id: id.unwrap_or_default(),
            gate,
            trigger,
            action: action.unwrap_or(Action::Go),
            params,
            regexes,
        })
    }

    /// Param values are strings; numbers and booleans are accepted and stringified, since
    /// hand-written bundles often use them.
    fn param_value(&mut self, obj: &Map<String, Value>, at: &str) -> Option<String> {
        match obj.get("value") {
            Some(Value::String(s)) if s.len() > self.limits.max_string_bytes => {
                self.schema(format!(
                    "{at}: value is {} bytes, over the limit of {} bytes",
                    s.len(),
                    self.limits.max_string_bytes
                ));
                None
            }
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            Some(Value::Bool(b)) => Some(b.to_string()),
            None | Some(Value::Null) => {
                self.schema(format!("{at}: required field 'value' is missing"));
                None
            }
            Some(other) => {
                self.schema(format!(
                    "{at}: field 'value' must be a string, got {}",
                    kind(other)
                ));
                None
            }
        }
    }

    fn check_value(&self, def: &ParamDef, value: &str) -> Result<Option<regex::Regex>, String> {
        let trimmed = value.trim();
        match def.check {
            Check::Enum(allowed) => {
                if allowed.contains(&value) {
                    Ok(None)
                } else {
                    Err(format!("must be one of: {}", allowed.join(", ")))
                }
            }
            Check::Bool => {
                if trimmed.eq_ignore_ascii_case("true") || trimmed.eq_ignore_ascii_case("false") {
                    Ok(None)
                } else {
                    Err("must be 'true' or 'false'".into())
                }
            }
            Check::Int => parse_int(trimmed).map(|_| None),
            Check::Float => parse_float(trimmed).map(|_| None),
            Check::Regex => param_regex(value, self.limits.regex_size_limit).map(Some),
            Check::List => {
                if split_list(value).is_empty() {
                    Err("must be a non-empty comma-separated list".into())
                } else {
                    Ok(None)
                }
            }
            Check::IntList => {
                let items = split_list(value);
                if items.is_empty() {
                    return Err("must be a non-empty comma-separated list of integers".into());
                }
                for i in &items {
                    parse_int(i)?;
                }
                Ok(None)
            }
            Check::Octal => {
                if !trimmed.is_empty()
                    && trimmed.len() <= 6
                    && trimmed.chars().all(|c| ('0'..='7').contains(&c))
                {
                    Ok(None)
                } else {
                    Err("must be an octal file mode such as 00644".into())
                }
            }
            Check::Text => {
                if value.is_empty() {
                    Err("must not be empty".into())
                } else {
                    Ok(None)
                }
            }
        }
    }

    /// Checks that involve more than one parameter of a trigger.
    fn cross_check(
        &self,
        gate: &str,
        trigger: &str,
        params: &BTreeMap<&'static str, String>,
        regexes: &mut BTreeMap<&'static str, regex::Regex>,
    ) -> Result<(), (&'static str, String)> {
        // Without a (valid) `check` there is nothing to cross-check; its absence or bad value
        // was reported on its own.
        let Some(check) = params.get("check").map(String::as_str) else {
            return Ok(());
        };
        let value = params.get("value");
        match (gate, trigger) {
            ("dockerfile", "instruction") | ("metadata", "attribute") => {
                let needs_value = !matches!(check, "exists" | "not_exists");
                let Some(value) = value else {
                    return if needs_value {
                        Err(("value", format!("required when check is '{check}'")))
                    } else {
                        Ok(())
                    };
                };
                if matches!(check, "like" | "not_like") {
                    let re = param_regex(value, self.limits.regex_size_limit)
                        .map_err(|e| ("value", e))?;
                    regexes.insert("value", re);
                }
                if gate == "metadata" && matches!(check, "=" | "!=" | ">" | "<" | ">=" | "<=") {
                    match params.get("attribute").map(String::as_str) {
                        Some("size") => {
                            parse_size(value).map_err(|e| ("value", e))?;
                        }
                        Some("layer_count") => {
                            parse_int(value.trim()).map_err(|e| ("value", e))?;
                        }
                        _ => {}
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }
}
