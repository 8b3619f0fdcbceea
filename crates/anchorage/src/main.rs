//! The `anchorage` binary: parses arguments, calls one command, maps the result to an exit code.
//!
//! Exit codes: 0 success (GO/WARN, or no finding at/above `--fail-on`), 1 policy STOP or a
//! finding at/above `--fail-on`, 2 error.

// The binary is the one place that writes to stdout/stderr (data to stdout, errors to stderr).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod acquire_args;
mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Container image security engine: inspect, catalog, scan and evaluate images.
#[derive(Debug, Parser)]
#[command(name = "anchorage", version, about)]
struct Cli {
    /// Log filter (e.g. `info`, `anchorage_image=debug`); logs go to stderr.
    #[arg(long, global = true, env = "ANCHORAGE_LOG", default_value = "warn")]
    log: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show an image's manifest, config, layers and file-tree counts.
    Inspect(commands::inspect::Args),
    /// Catalog an image and print an SBOM (json, cyclonedx-json, spdx-json, table).
    Sbom(commands::sbom::Args),
    /// Match an image against the vulnerability store (and evaluate a policy bundle).
    Scan(commands::scan::Args),
    /// Explain why a vulnerability matched a package of an image, or why it did not.
    Explain(commands::explain::Args),
    /// Sync vulnerability feeds or show their status.
    #[command(subcommand)]
    Feeds(commands::feeds::Command),
    /// Validate or test policy bundles.
    #[command(subcommand)]
    Policy(commands::policy::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log)
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Inspect(args) => commands::inspect::run(args),
        Command::Sbom(args) => commands::sbom::run(args),
        Command::Scan(args) => commands::scan::run(args),
        Command::Explain(args) => commands::explain::run(args),
        Command::Feeds(command) => commands::feeds::run(command),
        Command::Policy(command) => commands::policy::run(command),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            // The error chain names the image, layer, path or field at fault.
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
