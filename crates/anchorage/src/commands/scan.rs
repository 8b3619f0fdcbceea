//! `anchorage scan SRC`: analyze an image (or read a stored native analysis), match it against
//! the vulnerability store, print findings, optionally evaluate a policy bundle.
//!
//! Exit codes: 0 no finding at/above `--fail-on` (and policy GO/WARN), 1 a finding at/above
//! `--fail-on`, policy STOP, or `--fail-on` given while vulnerability data was unavailable for
//! part of the image (an unsupported image cannot pass as clean), 2 error.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anchorage_catalog::Analysis;
use anchorage_engine::analyze;
use anchorage_match::{FixState, MatchReport, OutputFormat, match_analysis, render};
use anchorage_types::Severity;
use anchorage_vulndb::Store;
use anyhow::Context as _;

/// How to get the analysis; shared by `scan` and `explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct SourceArgs {
    /// Treat SRC as a native analysis JSON file (`anchorage sbom -o json`) instead of an image:
    /// re-match without re-analysis.
    #[arg(long = "from-analysis")]
    pub(crate) from_analysis: bool,
    /// How to reach the image (platform, registries, credentials, cache, config file).
    #[command(flatten)]
    pub(crate) acquire: crate::acquire_args::AcquireArgs,
    /// Vulnerability store directory (default `$ANCHORAGE_DATA_DIR/vulndb` or
    /// `./anchorage-data/vulndb`).
    #[arg(long = "db-dir", value_name = "DIR")]
    pub(crate) db_dir: Option<PathBuf>,
}

/// Largest native analysis file read with `--from-analysis`.
const MAX_ANALYSIS_BYTES: u64 = 1 << 30;

/// Analyze `source` (or read it as an analysis document).
pub(crate) fn load_analysis(source: &str, args: &SourceArgs) -> anyhow::Result<Analysis> {
    if args.from_analysis {
        let meta = std::fs::metadata(source).with_context(|| format!("cannot read {source}"))?;
        anyhow::ensure!(
            meta.len() <= MAX_ANALYSIS_BYTES,
            "{source} is {} bytes, over the limit of {MAX_ANALYSIS_BYTES} bytes",
            meta.len()
        );
        let bytes = std::fs::read(source).with_context(|| format!("cannot read {source}"))?;
        return serde_json::from_slice(&bytes)
            .with_context(|| format!("{source} is not a native analysis document"));
    }
    let settings = args.acquire.resolve(source)?;
    let analysis = analyze(source, &settings)?;
    for w in &analysis.warnings {
        tracing::warn!(stage = %w.stage, path = w.path.as_deref().unwrap_or(""), "{}", w.message);
    }
    Ok(analysis)
}

/// Open the vulnerability store, warning when nothing was ever synced.
pub(crate) fn open_store(args: &SourceArgs) -> anyhow::Result<Store> {
    let dir = super::feeds::db_dir(args.db_dir.clone());
    let store = Store::open_dir(&dir)
        .with_context(|| format!("opening the vulnerability store in {}", dir.display()))?;
    if store.sources()?.is_empty() {
        tracing::warn!(
            "no vulnerability feeds synced in {} (run `anchorage feeds sync`)",
            dir.display()
        );
    }
    Ok(store)
}

/// Arguments of `anchorage scan`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Image source: `registry:REF`, `docker-archive:PATH`, `oci-archive:PATH`, `oci-dir:PATH`,
    /// `dir:PATH`, or a bare reference (or an analysis file with `--from-analysis`).
    pub(crate) source: String,
    /// Output: `table`, `json`, `sarif`, `cyclonedx-json`, `anchore-json`.
    #[arg(short = 'o', long = "output", default_value = "table", value_parser = parse_output)]
    pub(crate) output: OutputFormat,
    /// Exit 1 when a finding has this severity or higher (unknown, negligible, low, medium,
    /// high, critical).
    #[arg(long = "fail-on", value_name = "SEVERITY")]
    pub(crate) fail_on: Option<Severity>,
    /// Report only findings that have a fix.
    #[arg(long = "only-fixed")]
    pub(crate) only_fixed: bool,
    /// Evaluate this policy bundle (JSON) too; STOP exits 1.
    #[arg(long = "policy", value_name = "BUNDLE")]
    pub(crate) policy: Option<PathBuf>,
    /// Tag to evaluate the bundle for (selects the mapping), e.g. `docker.io/library/alpine:3.20`.
    #[arg(long = "tag", value_name = "TAG")]
    pub(crate) tag: Option<String>,
    /// Image and store options.
    #[command(flatten)]
    pub(crate) common: SourceArgs,
}

fn parse_output(s: &str) -> Result<OutputFormat, String> {
    s.parse()
}

/// Apply `--only-fixed`.
pub(crate) fn only_fixed(report: &mut MatchReport) {
    report
        .findings
        .retain(|f| matches!(&f.fix, FixState::Fixed(v) if !v.is_empty()));
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    let analysis = load_analysis(&args.source, &args.common)?;
    let mut store = open_store(&args.common)?;
    let feeds = store.group_status()?;
    let snapshot = store.snapshot()?;
    let mut report = match_analysis(&analysis, &snapshot)?;
    drop(snapshot);
    if args.only_fixed {
        only_fixed(&mut report);
    }
    for w in &report.warnings {
        tracing::warn!("{w}");
    }
    let digest = analysis
        .source
        .manifest_digest
        .as_ref()
        .map(|d| d.to_string());
    let text = render(&report, args.output, &args.source, digest.as_deref())?;
    {
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        out.write_all(text.as_bytes())
            .context("writing the report to stdout")?;
        if !text.ends_with('\n') {
            out.write_all(b"\n")
                .context("writing the report to stdout")?;
        }
        out.flush().context("writing the report to stdout")?;
    }
    let mut failed = args
        .fail_on
        .is_some_and(|threshold| report.findings.iter().any(|f| f.severity >= threshold));
    if let anchorage_match::Coverage::Unavailable { groups } = &report.coverage {
        eprintln!(
            "warning: vulnerability data unavailable for {}: the result is not clean",
            groups.join(", ")
        );
        failed |= args.fail_on.is_some();
    }
    if let Some(path) = &args.policy {
        let stop = evaluate_policy(
            path,
            args.tag.as_deref(),
            &analysis,
            &report,
            &feeds,
            digest,
        )?;
        failed |= stop;
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Largest bundle file read.
const MAX_BUNDLE_BYTES: u64 = 64 << 20;

/// Evaluate a bundle; prints the decision and rows to stderr; returns true on STOP.
fn evaluate_policy(
    path: &PathBuf,
    tag: Option<&str>,
    analysis: &Analysis,
    report: &MatchReport,
    feeds: &[anchorage_types::FeedGroupStatus],
    digest: Option<String>,
) -> anyhow::Result<bool> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    anyhow::ensure!(
        meta.len() <= MAX_BUNDLE_BYTES,
        "{} is {} bytes, over the limit of {MAX_BUNDLE_BYTES} bytes",
        path.display(),
        meta.len()
    );
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    let bundle = anchorage_policy::validate(&value).map_err(|problems| {
        let lines: Vec<String> = problems
            .iter()
            .map(|p| format!("{}: {}", p.problem_type, p.details))
            .collect();
        anyhow::anyhow!(
            "bundle {} failed validation: {}",
            path.display(),
            lines.join("; ")
        )
    })?;
    let tag = tag
        .map(str::to_string)
        .or_else(|| analysis.source.reference.clone())
        .unwrap_or_default();
    let mut input = anchorage_policy::EvaluationInput::new(
        analysis,
        &report.findings,
        &report.coverage,
        feeds,
        &tag,
        chrono::Utc::now(),
    );
    if let Some(d) = digest {
        input.image_digest = d;
    }
    let eval = anchorage_policy::evaluate(&bundle, &input);
    eprintln!(
        "policy {}: final action {} ({} rows)",
        eval.bundle_id,
        eval.final_action.as_str().to_ascii_uppercase(),
        eval.rows.len()
    );
    for row in &eval.rows {
        let wl = if row.whitelisted.is_some() {
            " (whitelisted)"
        } else {
            ""
        };
        eprintln!(
            "  {} {}/{}: {}{wl}",
            row.action.as_str(),
            row.gate,
            row.trigger,
            row.check_output
        );
    }
    Ok(eval.final_action == anchorage_policy::Action::Stop)
}
