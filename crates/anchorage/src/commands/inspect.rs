//! `anchorage inspect SRC`: manifest, config, layers and squashed-tree counts.

use std::process::ExitCode;

/// Arguments of `anchorage inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Image source: `registry:REF`, `docker-archive:PATH`, `oci-archive:PATH`, `oci-dir:PATH`,
    /// `dir:PATH`, or a bare reference.
    pub(crate) source: String,
}

pub(crate) fn run(args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("inspect of {} is not wired yet", args.source)
}
