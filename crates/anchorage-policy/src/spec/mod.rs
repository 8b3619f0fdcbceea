//! The one table of gates, triggers and parameters. Validation, evaluation dispatch and the
//! `policy_spec` document are all generated from it, so they cannot drift apart.

mod table;

pub(crate) use table::{GATES, INSTRUCTIONS};

use serde_json::{Value, json};

/// Lifecycle state of a gate, trigger or parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    Active,
    /// No gate or trigger is deprecated in 0.10.2-1.1.0; kept so the spec ordering and
    /// validation handle the state when one is.
    #[allow(dead_code)]
    Deprecated,
    Eol,
}

impl State {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            State::Active => "active",
            State::Deprecated => "deprecated",
            State::Eol => "eol",
        }
    }
}

/// How a parameter value (always a string) is validated.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Check {
    /// One of the listed values, exactly.
    Enum(&'static [&'static str]),
    /// `true` / `false`, case-insensitive.
    Bool,
    /// A non-negative integer, surrounding whitespace allowed.
    Int,
    /// A float with optional leading `-`.
    Float,
    /// A regular expression (compiled with the `regex` crate's size limit).
    Regex,
    /// A non-empty comma-separated list of strings.
    List,
    /// A comma-separated list of non-negative integers.
    IntList,
    /// An octal file mode such as `00644`.
    Octal,
    /// Any non-empty string.
    Text,
}

impl Check {
    /// (type, description, criteria) for the `policy_spec` validator object.
    fn describe(self) -> (&'static str, String, Value) {
        match self {
            Check::Enum(v) => (
                "EnumValidator",
                format!("one of: {}", v.join(", ")),
                json!(v),
            ),
            Check::Bool => (
                "BooleanStringValidator",
                "string value true or false (case-insensitive)".into(),
                json!(["true", "false"]),
            ),
            Check::Int => (
                "IntegerValidator",
                "an integer".into(),
                json!(r"^\s*\d+\s*$"),
            ),
            Check::Float => (
                "FloatValidator",
                "a floating point number".into(),
                json!(r"^\s*-?\d+(\.\d+)?\s*$"),
            ),
            Check::Regex => (
                "RegexParamValidator",
                "a valid regular expression (linear-time syntax, no look-around or back-references)"
                    .into(),
                json!("regex"),
            ),
            Check::List => (
                "CommaDelimitedStringListValidator",
                "comma-separated list of strings".into(),
                json!(r"^[^,]+(,[^,]+)*$"),
            ),
            Check::IntList => (
                "CommaDelimitedNumberListValidator",
                "comma-separated list of integers".into(),
                json!(r"^\s*\d+\s*(,\s*\d+\s*)*$"),
            ),
            Check::Octal => (
                "OctalModeValidator",
                "an octal file mode such as 00644".into(),
                json!(r"^[0-7]{1,6}$"),
            ),
            Check::Text => (
                "TypeValidator",
                "a non-empty string".into(),
                json!("string"),
            ),
        }
    }
}

/// One declared parameter of a trigger.
#[derive(Debug)]
pub(crate) struct ParamDef {
    pub(crate) name: &'static str,
    pub(crate) aliases: &'static [&'static str],
    pub(crate) description: &'static str,
    pub(crate) example: Option<&'static str>,
    pub(crate) required: bool,
    pub(crate) check: Check,
}

/// One trigger of a gate.
#[derive(Debug)]
pub(crate) struct TriggerDef {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) state: State,
    pub(crate) params: &'static [ParamDef],
}

/// One gate.
#[derive(Debug)]
pub(crate) struct GateDef {
    pub(crate) name: &'static str,
    pub(crate) description: &'static str,
    pub(crate) state: State,
    pub(crate) superceded_by: Option<&'static str>,
    pub(crate) triggers: &'static [TriggerDef],
}

impl GateDef {
    pub(crate) fn trigger(&self, name: &str) -> Option<&'static TriggerDef> {
        self.triggers.iter().find(|t| t.name == name)
    }
}

impl TriggerDef {
    /// The declared parameter for a (lower-cased) name or alias.
    pub(crate) fn param(&self, name: &str) -> Option<&'static ParamDef> {
        self.params
            .iter()
            .find(|p| p.name == name || p.aliases.contains(&name))
    }
}

/// The gate definition for a name (case-sensitive, as upstream).
pub(crate) fn gate(name: &str) -> Option<&'static GateDef> {
    GATES.iter().find(|g| g.name == name)
}

fn param_json(p: &ParamDef) -> Value {
    let (kind, description, criteria) = p.check.describe();
    json!({
        "name": p.name,
        "description": p.description,
        "example": p.example,
        "required": p.required,
        "state": State::Active.as_str(),
        "superceded_by": null,
        "aliases": p.aliases,
        "validator": {"type": kind, "description": description, "criteria": criteria},
    })
}

/// The `GET system/policy_spec` document: every gate (sorted by state: active, deprecated,
/// end-of-life; then by name), generated from the same table that validates bundles.
pub fn policy_spec() -> Value {
    let mut gates: Vec<&GateDef> = GATES.iter().collect();
    gates.sort_by_key(|g| (g.state as u8, g.name));
    Value::Array(gates.iter().map(|g| gate_json(g)).collect())
}

pub(crate) fn gate_json(g: &GateDef) -> Value {
    json!({
        "name": g.name,
        "description": g.description,
        "state": g.state.as_str(),
        "superceded_by": g.superceded_by,
        "triggers": g.triggers.iter().map(|t| json!({
            "name": t.name,
            "description": t.description,
            "state": t.state.as_str(),
            "superceded_by": null,
            "parameters": t.params.iter().map(param_json).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gate_names_are_unique_and_lower_case() {
        let mut names: Vec<_> = GATES.iter().map(|g| g.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), GATES.len());
        assert!(GATES.iter().all(|g| g.name == g.name.to_lowercase()));
        for g in GATES {
            for t in g.triggers {
                assert_eq!(t.name, t.name.to_lowercase());
            }
        }
    }

    #[test]
    fn spec_lists_active_gates_first_with_validators() {
        let spec = policy_spec();
        let arr = spec.as_array().unwrap();
        assert_eq!(arr[0]["state"], "active");
        assert_eq!(arr.last().unwrap()["state"], "eol");
        let vulns = arr.iter().find(|g| g["name"] == "vulnerabilities").unwrap();
        let pkg = &vulns["triggers"][0];
        assert_eq!(pkg["name"], "package");
        assert_eq!(pkg["parameters"][0]["name"], "package_type");
        assert_eq!(pkg["parameters"][0]["required"], true);
        assert_eq!(pkg["parameters"][0]["validator"]["type"], "EnumValidator");
    }
}
