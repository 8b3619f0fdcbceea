//! `anchorage policy`: validate bundles, run their embedded tests, describe gates, print the
//! default bundle (offline); and add, list, get, activate, delete bundles on a running engine
//! (`commands::client::policy`).
//!
//! Exit codes of the offline subcommands: 0 valid / all tests passed, 1 validation problems /
//! a test failed, 2 error (unreadable file, unknown gate).

use std::path::{Path, PathBuf};

use anchorage_policy::{RawBundle, ValidationLimits, ValidationProblem};
use anyhow::Context as _;

use crate::ExitStatus;
use serde_json::Value;

/// Largest fixture (analysis, findings) a bundle test may load.
const MAX_FIXTURE_BYTES: u64 = 512 << 20;

/// Subcommands of `anchorage policy`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Validate a bundle file and print every problem found.
    Validate {
        /// Bundle JSON file.
        file: PathBuf,
        /// Print problems as Anchore's `validation_details` JSON list.
        #[arg(long)]
        json: bool,
    },
    /// Run the test cases embedded in a bundle (`tests` key; see the policy crate README).
    Test {
        /// Bundle JSON file; fixture paths are resolved relative to it.
        file: PathBuf,
    },
    /// Print the default bundle (installed active for accounts without one) as JSON.
    Default,
    /// Describe gates, triggers and parameters (the `policy_spec` data).
    Describe {
        /// Only this gate.
        #[arg(long)]
        gate: Option<String>,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Engine-side subcommands (add, list, get, activate, del).
    #[command(flatten)]
    Engine(super::client::policy::Command),
}

pub(crate) async fn run(command: Command) -> anyhow::Result<ExitStatus> {
    match command {
        Command::Engine(c) => super::client::policy::run(c).await,
        Command::Validate { file, json } => validate(&file, json),
        Command::Test { file } => test(&file),
        Command::Describe { gate, json } => describe(gate.as_deref(), json),
        Command::Default => {
            println!(
                "{}",
                serde_json::to_string_pretty(&anchorage_policy::default_bundle())?
            );
            Ok(ExitStatus::Ok)
        }
    }
}

/// Read a file after checking its size, so a huge file is refused before it is read.
fn read_limited(path: &Path, limit: u64) -> anyhow::Result<String> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(
        meta.len() <= limit,
        "{} is {} bytes, over the limit of {limit} bytes",
        path.display(),
        meta.len()
    );
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

/// Read and parse a bundle file; `Ok(Err(problems))` when the text is not a usable bundle.
fn load_bundle(path: &Path) -> anyhow::Result<Result<RawBundle, Vec<ValidationProblem>>> {
    let limits = ValidationLimits::default();
    let limit = u64::try_from(limits.max_bundle_bytes).unwrap_or(u64::MAX);
    let text = read_limited(path, limit)?;
    Ok(RawBundle::parse(&text, &limits))
}

fn print_problems(path: &Path, problems: &[ValidationProblem], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(problems)?);
    } else {
        println!("{}: {} problem(s)", path.display(), problems.len());
        for p in problems {
            println!("  {}: {}", p.problem_type, p.details);
        }
    }
    Ok(())
}

fn validate(path: &Path, json: bool) -> anyhow::Result<ExitStatus> {
    let result = load_bundle(path)?.and_then(|raw| raw.validate(&ValidationLimits::default()));
    match result {
        Ok(bundle) => {
            if json {
                println!("[]");
            } else {
                println!("{}: bundle '{}' is valid", path.display(), bundle.id());
            }
            Ok(ExitStatus::Ok)
        }
        Err(problems) => {
            print_problems(path, &problems, json)?;
            Ok(ExitStatus::PolicyStop)
        }
    }
}

fn test(path: &Path) -> anyhow::Result<ExitStatus> {
    let raw = match load_bundle(path)? {
        Ok(raw) => raw,
        Err(problems) => {
            print_problems(path, &problems, false)?;
            return Ok(ExitStatus::PolicyStop);
        }
    };
    let base = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let load = |rel: &str| -> Result<Value, String> {
        let p = base.join(rel);
        let text = read_limited(&p, MAX_FIXTURE_BYTES).map_err(|e| format!("{e:#}"))?;
        serde_json::from_str(&text).map_err(|e| format!("{} is not valid JSON: {e}", p.display()))
    };
    let results = match anchorage_policy::run_bundle_tests(&raw.0, &load, chrono::Utc::now()) {
        Ok(r) => r,
        Err(problems) => {
            print_problems(path, &problems, false)?;
            return Ok(ExitStatus::PolicyStop);
        }
    };
    if results.is_empty() {
        println!(
            "{}: no test cases (add a \"tests\" list to the bundle)",
            path.display()
        );
        return Ok(ExitStatus::Ok);
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    for r in &results {
        let verdict = r
            .evaluation
            .as_ref()
            .map(|e| format!(" (final action {})", e.final_action.as_str()))
            .unwrap_or_default();
        println!(
            "{} {}{verdict}",
            if r.passed { "PASS" } else { "FAIL" },
            r.name
        );
        for f in &r.failures {
            println!("    {f}");
        }
        if let Some(e) = &r.evaluation {
            for s in &e.stale_whitelist_items {
                println!(
                    "    note: whitelist item {}:{} matched nothing{}",
                    s.whitelist_id,
                    s.item_id,
                    if s.expired { " (expired)" } else { "" }
                );
            }
        }
    }
    println!("{} passed, {failed} failed", results.len() - failed);
    Ok(if failed == 0 {
        ExitStatus::Ok
    } else {
        ExitStatus::PolicyStop
    })
}

fn describe(gate: Option<&str>, json: bool) -> anyhow::Result<ExitStatus> {
    let gates: Vec<Value> = match gate {
        Some(name) => vec![
            anchorage_policy::gate_spec(name).with_context(|| format!("no gate named {name:?}"))?,
        ],
        None => anchorage_policy::policy_spec()
            .as_array()
            .cloned()
            .unwrap_or_default(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&gates)?);
        return Ok(ExitStatus::Ok);
    }
    let s = |v: &Value| v.as_str().unwrap_or_default().to_string();
    for g in &gates {
        println!(
            "{} [{}]: {}",
            s(&g["name"]),
            s(&g["state"]),
            s(&g["description"])
        );
        for t in g["triggers"].as_array().into_iter().flatten() {
            println!("  {}: {}", s(&t["name"]), s(&t["description"]));
            for p in t["parameters"].as_array().into_iter().flatten() {
                println!(
                    "    {}{} ({}): {} e.g. {}",
                    s(&p["name"]),
                    if p["required"] == Value::Bool(true) {
                        " (required)"
                    } else {
                        ""
                    },
                    s(&p["validator"]["description"]),
                    s(&p["description"]),
                    s(&p["example"]),
                );
            }
        }
    }
    Ok(ExitStatus::Ok)
}
