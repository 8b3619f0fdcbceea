//! `anchorage scan SRC`: analyze an image (or read a stored native analysis), match it against
//! the vulnerability store, print findings, optionally evaluate a policy bundle.
//!
//! Exit codes ([`ExitStatus`]): 0 no finding at/above `--fail-on` (and policy GO/WARN), 1 a
//! finding at/above `--fail-on`, policy STOP, or `--fail-on` given while vulnerability data was
//! unavailable for part of the image (an unsupported image cannot pass as clean), 2 error.
//!
//! `--only-fixed` filters what is printed (and what `--fail-on` reads); the policy bundle
//! always evaluates every finding. With `--policy`, the `json`, `anchore-json` and `sarif`
//! outputs carry the evaluation (final action, reason, every fired row) in an added
//! `policy_evaluation` member.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anchorage_catalog::Analysis;
use anchorage_engine::{Engine, EvaluateRequest};
use anchorage_image::AcquireRequest;
use anchorage_match::{FixState, MatchReport, OutputFormat, render};
use anchorage_policy::Evaluation;
use anchorage_types::Severity;
use anyhow::Context as _;
use serde_json::{Value, json};

use crate::ExitStatus;

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
    /// What the catalog is told beyond the image (Dockerfile, content search rules).
    #[command(flatten)]
    pub(crate) catalog: crate::catalog_args::CatalogArgs,
    /// Whether and where to scan for malware (ClamAV's clamd).
    #[command(flatten)]
    pub(crate) malware: crate::malware_args::MalwareArgs,
    /// Vulnerability store directory (default `$ANCHORAGE_DATA_DIR/vulndb` or
    /// `./anchorage-data/vulndb`).
    #[arg(long = "db-dir", value_name = "DIR")]
    pub(crate) db_dir: Option<PathBuf>,
}

/// Largest native analysis file read with `--from-analysis`.
const MAX_ANALYSIS_BYTES: u64 = 1 << 30;

/// The engine for `source`, and the analysis of `source` (or `source` read as an analysis
/// document).
pub(crate) async fn load_analysis(
    source: &str,
    args: &SourceArgs,
) -> anyhow::Result<(Engine, Analysis, anchorage_settings::Settings)> {
    let (settings, mut analyze) = args.acquire.resolve(source)?;
    args.catalog.apply(&settings, &mut analyze)?;
    args.malware.apply(&settings, &mut analyze);
    let engine = crate::acquire_args::engine(&settings, analyze, args.db_dir.as_deref())?;
    if args.from_analysis {
        let meta = std::fs::metadata(source).with_context(|| format!("cannot read {source}"))?;
        anyhow::ensure!(
            meta.len() <= MAX_ANALYSIS_BYTES,
            "{source} is {} bytes, over the limit of {MAX_ANALYSIS_BYTES} bytes",
            meta.len()
        );
        let bytes = std::fs::read(source).with_context(|| format!("cannot read {source}"))?;
        let analysis = serde_json::from_slice(&bytes)
            .with_context(|| format!("{source} is not a native analysis document"))?;
        return Ok((engine, analysis, settings));
    }
    let analysis = engine.analyze(source, &AcquireRequest::default()).await?;
    for w in &analysis.warnings {
        tracing::warn!(stage = %w.stage, path = w.path.as_deref().unwrap_or(""), "{}", w.message);
    }
    Ok((engine, analysis, settings))
}

/// Warns when nothing was ever synced into the store.
pub(crate) fn warn_if_empty(engine: &Engine, sources_synced: usize) {
    if sources_synced == 0 {
        tracing::warn!(
            "no vulnerability feeds synced in {} (run `anchorage feeds sync`)",
            engine.vulndb_dir().display()
        );
    }
}

/// Arguments of `anchorage scan`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Image source: `registry:REF`, `docker-archive:PATH`, `oci-archive:PATH`, `oci-dir:PATH`,
    /// `dir:PATH`, or a bare reference (or an analysis file with `--from-analysis`).
    pub(crate) source: String,
    /// Output: `table`, `json`, `sarif`, `cyclonedx-json`, `anchore-json` (default `table`,
    /// or `[scan] output`).
    #[arg(short = 'o', long = "output", value_parser = parse_output)]
    pub(crate) output: Option<OutputFormat>,
    /// Exit 1 when a finding has this severity or higher (unknown, negligible, low, medium,
    /// high, critical).
    #[arg(long = "fail-on", value_name = "SEVERITY")]
    pub(crate) fail_on: Option<Severity>,
    /// Print only findings that have a fix (the policy still sees every finding).
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

/// Apply `--only-fixed` to a report that is only printed.
pub(crate) fn only_fixed(report: &mut MatchReport) {
    report
        .findings
        .retain(|f| matches!(&f.fix, FixState::Fixed(v) if !v.is_empty()));
}

pub(crate) async fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let (engine, analysis, settings) = load_analysis(&args.source, &args.common).await?;
    let fail_on = args.fail_on.or(settings.scan.fail_on);
    let only = args.only_fixed || settings.scan.only_fixed.unwrap_or(false);
    let output = match (args.output, &settings.scan.output) {
        (Some(o), _) => o,
        (None, Some(o)) => o.parse().map_err(anyhow::Error::msg)?,
        (None, None) => OutputFormat::Table,
    };
    let policy = args.policy.clone().or_else(|| settings.scan.policy.clone());
    let analysis = Arc::new(analysis);
    let vulns = engine.vulnerabilities(analysis.clone()).await?;
    warn_if_empty(&engine, vulns.sources_synced);
    let report = Arc::new(vulns.report);
    let mut shown = (*report).clone();
    if only {
        only_fixed(&mut shown);
    }
    for w in &shown.warnings {
        tracing::warn!("{w}");
    }
    let digest = analysis
        .source
        .manifest_digest
        .as_ref()
        .map(|d| d.to_string());
    // The bundle reads the full report: `--only-fixed` never hides a finding from policy.
    let evaluation = match &policy {
        Some(path) => Some(
            evaluate_policy(
                &engine,
                path,
                args.tag.clone(),
                analysis.clone(),
                report.clone(),
                vulns.feeds.clone(),
                digest.clone(),
            )
            .await?,
        ),
        None => None,
    };
    let mut text = render(&shown, output, &args.source, digest.as_deref())?;
    if let Some(eval) = &evaluation {
        text = with_evaluation(text, output, eval)?;
    }
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
    let mut failed =
        fail_on.is_some_and(|threshold| shown.findings.iter().any(|f| f.severity >= threshold));
    if let anchorage_match::Coverage::Unavailable { groups } = &shown.coverage {
        eprintln!(
            "warning: vulnerability data unavailable for {}: the result is not clean",
            groups.join(", ")
        );
        failed |= fail_on.is_some();
    }
    print_malware(&analysis);
    if let Some(eval) = &evaluation {
        print_evaluation(eval);
        failed |= eval.final_action == anchorage_policy::Action::Stop;
    }
    Ok(ExitStatus::fail_if(failed))
}

/// Largest bundle file read.
const MAX_BUNDLE_BYTES: u64 = 64 << 20;

/// Reads, validates and evaluates a bundle.
async fn evaluate_policy(
    engine: &Engine,
    path: &Path,
    tag: Option<String>,
    analysis: Arc<Analysis>,
    report: Arc<MatchReport>,
    feeds: Vec<anchorage_types::FeedGroupStatus>,
    digest: Option<String>,
) -> anyhow::Result<Evaluation> {
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
    let value: Value =
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
    Ok(engine
        .evaluate(
            Arc::new(bundle),
            EvaluateRequest {
                analysis,
                report,
                feeds,
                tag,
                image_digest: digest,
                now: chrono::Utc::now(),
            },
        )
        .await?)
}

/// The malware scan's findings, on stderr, when a scan ran.
fn print_malware(analysis: &Analysis) {
    for scan in &analysis.malware {
        eprintln!(
            "malware scan ({}): {} findings in {} files scanned ({} bytes, {} files skipped){}",
            scan.scanner,
            scan.findings.len(),
            scan.files_scanned,
            scan.bytes_scanned,
            scan.files_skipped,
            if scan.complete {
                ""
            } else {
                ", stopped part-way"
            }
        );
        for f in &scan.findings {
            eprintln!("  {} {}", f.signature, f.path);
        }
    }
}

/// The decision and its rows, on stderr.
fn print_evaluation(eval: &Evaluation) {
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
}

/// The evaluation as the machine-readable outputs carry it.
fn evaluation_value(eval: &Evaluation) -> Value {
    json!({
        "bundle_id": eval.bundle_id,
        "tag": eval.tag,
        "image_digest": eval.image_digest,
        "final_action": eval.final_action,
        "final_action_reason": eval.final_action_reason,
        "policy_final_action": eval.policy_final_action,
        "status": eval.status(),
        "matched_mapping": eval.matched_mapping,
        "rows": eval.rows,
        "stale_whitelist_items": eval.stale_whitelist_items,
        "evaluation_problems": eval.evaluation_problems,
        "evaluated_at": eval.evaluated_at,
    })
}

/// Adds the evaluation to a rendered `json`, `anchore-json` or `sarif` document (a
/// `policy_evaluation` member; SARIF: in the run's `properties`). Other outputs are returned
/// unchanged (the table's verdict is on stderr; CycloneDX has no place for it).
fn with_evaluation(
    text: String,
    format: OutputFormat,
    eval: &Evaluation,
) -> anyhow::Result<String> {
    let member = |mut doc: Value, at: &[&str]| -> anyhow::Result<String> {
        let mut target = &mut doc;
        for key in at {
            target = match target {
                Value::Object(map) => map.entry(key.to_string()).or_insert_with(|| json!({})),
                Value::Array(list) => list
                    .first_mut()
                    .context("the report has no run to attach the evaluation to")?,
                _ => anyhow::bail!("the report has no member {key}"),
            };
        }
        let Value::Object(map) = target else {
            anyhow::bail!("cannot attach the evaluation to the report");
        };
        map.insert("policy_evaluation".into(), evaluation_value(eval));
        Ok(serde_json::to_string_pretty(&doc)?)
    };
    match format {
        OutputFormat::Json | OutputFormat::AnchoreJson => member(serde_json::from_str(&text)?, &[]),
        OutputFormat::Sarif => member(serde_json::from_str(&text)?, &["runs", "0", "properties"]),
        _ => Ok(text),
    }
}
