//! The `anchorage` binary: parses arguments, calls one command, maps the result to an
//! [`ExitStatus`]. It owns the one tokio runtime (built in `main`); library crates create none.

// The binary is the one place that writes to stdout/stderr (data to stdout, errors to stderr).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod acquire_args;
mod catalog_args;
mod commands;
mod exit;
mod malware_args;

use std::io::IsTerminal as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

pub(crate) use exit::ExitStatus;

/// Container image security engine: inspect, catalog, scan and evaluate images.
#[derive(Debug, Parser)]
#[command(name = "anchorage", version, about)]
struct Cli {
    /// Log filter (e.g. `info`, `anchorage_image=debug`); logs go to stderr, coloured only
    /// when stderr is a terminal.
    #[arg(long, global = true, env = anchorage_settings::ANCHORAGE_LOG, default_value = "warn")]
    log: String,
    /// Log line format: `text`, or `json` (one object per line with the span fields: a
    /// server request's `request_id`, a job's image `digest`).
    #[arg(long, global = true, value_enum, env = anchorage_settings::ANCHORAGE_LOG_FORMAT, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
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
    /// Validate or test policy bundles; add, list, activate them on a running engine.
    #[command(subcommand)]
    Policy(commands::policy::Command),
    /// Engine client: add, list, wait for, inspect and delete images.
    #[command(subcommand)]
    Image(commands::client::image::Command),
    /// Engine client: evaluate the active policy bundle against an image.
    #[command(subcommand)]
    Evaluate(commands::client::evaluate::Command),
    /// Engine client: registry credentials the engine pulls with.
    #[command(subcommand)]
    Registry(commands::client::registry::Command),
    /// Engine client: what the engine watches and notifies about.
    #[command(subcommand)]
    Subscription(commands::client::subscription::Command),
    /// Engine client: watched repositories (new tags are added and analysed).
    #[command(subcommand)]
    Repo(commands::client::subscription::RepoCommand),
    /// Engine client: service status, readiness, feeds.
    #[command(subcommand)]
    System(commands::client::system::Command),
    /// Engine client: events.
    #[command(subcommand)]
    Event(commands::client::event::Command),
    /// Engine client: accounts and users.
    #[command(subcommand)]
    Account(commands::client::account::Command),
    /// Engine client: the analysis archive (archived images, transition rules).
    #[command(subcommand, name = "analysis-archive")]
    AnalysisArchive(commands::client::analysis_archive::Command),
    /// Run the engine service: the Anchore v1 API and analysis workers.
    Serve(commands::serve::Args),
    /// Apply the service database's migrations.
    Migrate(commands::serve::MigrateArgs),
    /// Back up or restore a whole deployment (database, analyses, archive).
    #[command(subcommand)]
    Admin(commands::admin::Command),
}

fn main() -> ExitCode {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitStatus::Error.into();
        }
    };
    let code = runtime.block_on(run());
    // A blocking task still running (an analysis abandoned at the shutdown deadline) does not
    // hold the exit back for long.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    code
}

async fn run() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_new(&cli.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    match cli.log_format {
        LogFormat::Text => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr)
            .init(),
        // Every line carries the fields of the spans it is in (request id, digest).
        LogFormat::Json => tracing_subscriber::fmt()
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
    let result = match cli.command {
        Command::Inspect(args) => commands::inspect::run(args).await,
        Command::Sbom(args) => commands::sbom::run(args).await,
        Command::Scan(args) => commands::scan::run(args).await,
        Command::Explain(args) => commands::explain::run(args).await,
        Command::Feeds(command) => commands::feeds::run(command).await,
        Command::Policy(command) => commands::policy::run(command).await,
        Command::Image(command) => commands::client::image::run(command).await,
        Command::Evaluate(command) => commands::client::evaluate::run(command).await,
        Command::Registry(command) => commands::client::registry::run(command).await,
        Command::Subscription(command) => commands::client::subscription::run(command).await,
        Command::Repo(command) => commands::client::subscription::run_repo(command).await,
        Command::System(command) => commands::client::system::run(command).await,
        Command::Event(command) => commands::client::event::run(command).await,
        Command::Account(command) => commands::client::account::run(command).await,
        Command::AnalysisArchive(command) => commands::client::analysis_archive::run(command).await,
        Command::Serve(args) => commands::serve::run(args).await,
        Command::Migrate(args) => commands::serve::migrate(args).await,
        Command::Admin(command) => commands::admin::run(command).await,
    };
    match result {
        Ok(status) => status.into(),
        Err(err) => {
            // The error chain names the image, layer, path or field at fault; each cause is
            // printed once.
            eprintln!("error: {}", exit::error_chain(&err));
            ExitStatus::Error.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }

    #[test]
    fn policy_keeps_its_offline_subcommands_beside_the_engine_ones() {
        use clap::Parser as _;
        let parse = |args: &[&str]| super::Cli::try_parse_from(args).map(|c| c.command);
        assert!(matches!(
            parse(&["anchorage", "policy", "validate", "b.json", "--json"]),
            Ok(super::Command::Policy(
                crate::commands::policy::Command::Validate { json: true, .. }
            ))
        ));
        assert!(matches!(
            parse(&[
                "anchorage",
                "policy",
                "list",
                "--url",
                "http://h:1/v1",
                "--json"
            ]),
            Ok(super::Command::Policy(
                crate::commands::policy::Command::Engine(_)
            ))
        ));
        // Connection flags belong to the engine subcommands only.
        assert!(
            parse(&[
                "anchorage",
                "policy",
                "validate",
                "b.json",
                "--url",
                "http://h/v1"
            ])
            .is_err()
        );
        assert!(
            parse(&[
                "anchorage",
                "image",
                "vuln",
                "app:1",
                "all",
                "--vendor-only",
                "False"
            ])
            .is_ok()
        );
    }
}
