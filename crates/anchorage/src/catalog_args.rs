//! Command-line flags that feed the catalog (`sbom`, `scan`, `explain`): the image's actual
//! Dockerfile (for the `dockerfile` gate) and content search rules (for
//! `files/content_regex_match`), over the config file's `[scan] content_search`.

use std::io::Read as _;
use std::path::PathBuf;

use anchorage_engine::AnalyzeSettings;
use anchorage_settings::{Settings, parse_content_rule};
use anyhow::Context as _;

/// Largest Dockerfile read with `--dockerfile`.
const MAX_DOCKERFILE_BYTES: u64 = 1 << 20;

/// What the catalog is told beyond the image itself (`#[command(flatten)]` into a command).
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct CatalogArgs {
    /// The Dockerfile the image was built from: stored as the analysis' actual Dockerfile and
    /// read by the policy `dockerfile` gate (without it, the gate sees a Dockerfile guessed
    /// from the image history).
    #[arg(long, value_name = "FILE")]
    pub(crate) dockerfile: Option<PathBuf>,
    /// A content search rule, `NAME=REGEX` or a bare `REGEX` (named by itself); repeatable.
    /// Files whose content matches are reported to `files/content_regex_match`. Replaces the
    /// config file's `[scan] content_search`.
    #[arg(long = "content-search", value_name = "[NAME=]REGEX", value_parser = parse_rule)]
    pub(crate) content_search: Vec<(String, String)>,
    /// Also report development-only dependencies of lock files and manifests (npm/yarn/pnpm
    /// dev, composer `packages-dev`, Maven test scope, Python dev groups), left out by default.
    #[arg(long)]
    pub(crate) include_dev_dependencies: bool,
}

fn parse_rule(s: &str) -> Result<(String, String), String> {
    parse_content_rule(s)
}

impl CatalogArgs {
    /// Applies the flags (else the config file's rules) to the catalog options.
    pub(crate) fn apply(
        &self,
        settings: &Settings,
        analyze: &mut AnalyzeSettings,
    ) -> anyhow::Result<()> {
        if let Some(path) = &self.dockerfile {
            let file = std::fs::File::open(path)
                .with_context(|| format!("cannot read the Dockerfile {}", path.display()))?;
            let mut text = String::new();
            file.take(MAX_DOCKERFILE_BYTES + 1)
                .read_to_string(&mut text)
                .with_context(|| {
                    format!("cannot read the Dockerfile {} as text", path.display())
                })?;
            anyhow::ensure!(
                text.len() as u64 <= MAX_DOCKERFILE_BYTES,
                "the Dockerfile {} is over the limit of {MAX_DOCKERFILE_BYTES} bytes",
                path.display()
            );
            analyze.catalog.dockerfile = Some(text);
        }
        if self.include_dev_dependencies {
            analyze.catalog.language.include_dev_dependencies = true;
        }
        if !self.content_search.is_empty() {
            analyze.catalog.content_search = self.content_search.clone();
        } else if let Some(rules) = &settings.scan.content_search {
            analyze.catalog.content_search = rules.clone();
        }
        Ok(())
    }
}
