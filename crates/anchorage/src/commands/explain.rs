//! `anchorage explain VULN-ID SRC`: why a package of an image matched a vulnerability, or why
//! none did (version outside the range, record for another release, withdrawn, ...).

use std::collections::HashMap;
use std::sync::Arc;

use super::scan::{SourceArgs, load_analysis, warn_if_empty};
use crate::ExitStatus;

/// Arguments of `anchorage explain`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Vulnerability id (CVE, GHSA, PYSEC, DSA, ...); aliases are followed.
    pub(crate) vuln_id: String,
    /// Image source (or an analysis file with `--from-analysis`).
    pub(crate) source: String,
    /// Print JSON.
    #[arg(long)]
    pub(crate) json: bool,
    /// Image and store options.
    #[command(flatten)]
    pub(crate) common: SourceArgs,
}

pub(crate) async fn run(args: Args) -> anyhow::Result<ExitStatus> {
    let (engine, analysis, _) = load_analysis(&args.source, &args.common).await?;
    let relationships = analysis.relationships.clone();
    let names: HashMap<String, String> = analysis
        .packages
        .iter()
        .map(|p| (p.id.clone(), format!("{} {}", p.name, p.version)))
        .collect();
    let (e, sources) = engine
        .explain(Arc::new(analysis), args.vuln_id.clone())
        .await?;
    warn_if_empty(&engine, sources);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&e)?);
        return Ok(ExitStatus::Ok);
    }
    if e.records.is_empty() {
        println!(
            "{}: no record in the vulnerability store names this id",
            e.vuln_id
        );
        return Ok(ExitStatus::Ok);
    }
    println!(
        "{}: {} record(s): {}",
        e.vuln_id,
        e.records.len(),
        e.records.join(", ")
    );
    for l in &e.lines {
        let mark = if l.matched { "MATCH" } else { "no" };
        let what = match (&l.package, &l.affected) {
            (Some(p), Some(a)) => format!(" {p} vs {a}:"),
            (None, Some(a)) => format!(" {a}:"),
            _ => String::new(),
        };
        println!("  [{mark}] {} ({}){what} {}", l.record_id, l.feed, l.reason);
    }
    if e.findings.is_empty() {
        println!("result: the image is not affected by {}", e.vuln_id);
    } else {
        for f in &e.findings {
            println!(
                "result: {} {} is affected by {} ({}), fix: {}",
                f.package.name,
                f.package.version,
                f.vuln,
                f.severity.as_str(),
                f.fix_column()
            );
            // why the package is in the image: its dependents up to a top-level package
            if let Some(chain) = anchorage_catalog::dependency_chain(&relationships, &f.package.id)
            {
                let chain: Vec<&str> = chain
                    .iter()
                    .map(|id| names.get(id).map_or(id.as_str(), String::as_str))
                    .collect();
                println!("  required by: {}", chain.join(" -> "));
            }
        }
    }
    Ok(ExitStatus::Ok)
}
