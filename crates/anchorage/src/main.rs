//! The `anchorage` binary: parses arguments, calls one command, maps the result to an exit code.
//!
//! Exit codes: 0 success (GO/WARN, or no finding at/above `--fail-on`), 1 policy STOP or a
//! finding at/above `--fail-on`, 2 error.

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
