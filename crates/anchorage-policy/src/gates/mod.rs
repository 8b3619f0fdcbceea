//! Trigger implementations, one module per group of gates. Each trigger is a pure function of
//! the rule's validated params and the evaluation context, returning what fired and why.

mod dockerfile;
mod files;
mod packages;
mod vulns;

use std::cell::RefCell;
use std::collections::HashMap;

use anchorage_model::FileRecord;
use md5::{Digest as _, Md5};

use crate::bundle::ValidRule;
use crate::input::EvaluationInput;

pub(crate) use dockerfile::ParsedDockerfile;

/// One firing of a trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Fired {
    /// Explicit trigger id (§4.5); `None` means the MD5 default.
    pub(crate) trigger_id: Option<String>,
    /// The `Check_Output` column. Stable: whitelists depend on it through the MD5 id.
    pub(crate) message: String,
    /// What the rule fired on: a package, file, field or feed group.
    pub(crate) subject: String,
    /// Why, in terms of the parameters.
    pub(crate) reason: String,
}

impl Fired {
    pub(crate) fn new(
        message: String,
        subject: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            trigger_id: None,
            message,
            subject: subject.into(),
            reason: reason.into(),
        }
    }

    pub(crate) fn with_id(mut self, id: String) -> Self {
        self.trigger_id = Some(id);
        self
    }
}

/// Default trigger id: lower-case hex MD5 of `gate + trigger + message`.
pub(crate) fn md5_trigger_id(gate: &str, trigger: &str, message: &str) -> String {
    let mut h = Md5::new();
    h.update(gate.as_bytes());
    h.update(trigger.as_bytes());
    h.update(message.as_bytes());
    hex::encode(h.finalize())
}

/// Lower-case hex MD5 of a string.
pub(crate) fn md5_hex(s: &str) -> String {
    hex::encode(Md5::digest(s.as_bytes()))
}

/// Data derived once per evaluation and shared by all triggers.
pub(crate) struct Ctx<'a> {
    pub(crate) input: &'a EvaluationInput<'a>,
    pub(crate) files: HashMap<&'a str, &'a FileRecord>,
    pub(crate) dockerfile: Option<ParsedDockerfile>,
    /// Why a rule could not be evaluated fully (missing data): reported as evaluation
    /// warnings so no parameter or trigger is ignored silently.
    warnings: RefCell<Vec<String>>,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(input: &'a EvaluationInput<'a>) -> Self {
        let files = input
            .analysis
            .files
            .iter()
            .map(|f| (f.path.as_str(), f))
            .collect();
        let dockerfile = input
            .analysis
            .image
            .dockerfile
            .as_ref()
            .map(ParsedDockerfile::parse);
        Self {
            input,
            files,
            dockerfile,
            warnings: RefCell::new(Vec::new()),
        }
    }

    /// Records that `rule` could not be evaluated fully, and why.
    pub(crate) fn warn(&self, rule: &ValidRule, why: impl Into<String>) {
        self.warnings.borrow_mut().push(format!(
            "rule {} ({}/{}): {}",
            rule.id,
            rule.gate.name,
            rule.trigger.name,
            why.into()
        ));
    }

    /// The warnings recorded so far.
    pub(crate) fn take_warnings(&self) -> Vec<String> {
        std::mem::take(&mut self.warnings.borrow_mut())
    }

    /// A file by absolute path (a path without the leading `/` is accepted too).
    pub(crate) fn file(&self, path: &str) -> Option<&'a FileRecord> {
        if path.starts_with('/') {
            self.files.get(path).copied()
        } else {
            self.files.get(format!("/{path}").as_str()).copied()
        }
    }
}

/// Run one rule's trigger.
pub(crate) fn run(rule: &ValidRule, ctx: &Ctx<'_>) -> Vec<Fired> {
    match rule.gate.name {
        "always" => vec![
            Fired::new(
                "always".into(),
                "image",
                "the always trigger fires on every evaluation",
            )
            .with_id("always".into()),
        ],
        "vulnerabilities" => vulns::run(rule, ctx),
        "packages" | "licenses" | "npms" | "ruby_gems" => packages::run(rule, ctx),
        "dockerfile" => dockerfile::run(rule, ctx),
        "files" | "passwd_file" | "secret_scans" | "malware" | "retrieved_files" | "metadata" => {
            files::run(rule, ctx)
        }
        // End-of-life gates never validate; nothing to run.
        _ => Vec::new(),
    }
}
