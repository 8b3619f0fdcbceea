//! `anchorage sbom SRC -o FORMAT [--file F]`: analyze an image and write its SBOM.

use anchorage_image::AcquireRequest;
use anchorage_sbom::SbomFormat;
use anyhow::Context as _;
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// Arguments of `anchorage sbom`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Image source: `registry:REF`, `docker-archive:PATH`, `oci-archive:PATH`, `oci-dir:PATH`,
    /// `dir:PATH`, or a bare reference.
    pub(crate) source: String,
    /// Output format: `json` (native analysis), `cyclonedx-json`, `spdx-json` or `table`.
    #[arg(short = 'o', long = "output", default_value = "table", value_parser = parse_format)]
    pub(crate) output: SbomFormat,
    /// Write the SBOM to this file instead of stdout.
    #[arg(long = "file", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
    /// How to reach the image (platform, registries, credentials, cache, config file).
    #[command(flatten)]
    pub(crate) acquire: crate::acquire_args::AcquireArgs,
    /// What the catalog is told beyond the image (Dockerfile, content search rules).
    #[command(flatten)]
    pub(crate) catalog: crate::catalog_args::CatalogArgs,
    /// Whether and where to scan for malware (ClamAV's clamd); the native `json` analysis
    /// carries the result (`malware`).
    #[command(flatten)]
    pub(crate) malware: crate::malware_args::MalwareArgs,
}

fn parse_format(s: &str) -> Result<SbomFormat, String> {
    s.parse()
        .map_err(|e: anchorage_sbom::SbomError| e.to_string())
}

pub(crate) async fn run(args: Args) -> anyhow::Result<crate::ExitStatus> {
    let (settings, mut analysis) = args.acquire.resolve(&args.source)?;
    args.catalog.apply(&settings, &mut analysis)?;
    args.malware.apply(&settings, &mut analysis);
    if matches!(
        args.output,
        SbomFormat::CycloneDxJson | SbomFormat::SpdxJson
    ) {
        // These encoders only look at the files packages declare, own or were found at; the
        // output is the same, and memory no longer grows with unrelated files (issue 15).
        analysis.catalog.file_records = anchorage_catalog::FileRecordScope::Related;
    }
    let engine = crate::acquire_args::engine(&settings, analysis, None)?;
    let analysis = engine
        .analyze(&args.source, &AcquireRequest::default())
        .await?;
    for w in &analysis.warnings {
        tracing::warn!(stage = %w.stage, path = w.path.as_deref().unwrap_or(""), "{}", w.message);
    }
    match &args.file {
        Some(path) => {
            let file = std::fs::File::create(path)
                .with_context(|| format!("creating {}", path.display()))?;
            let mut out = BufWriter::new(file);
            let written = anchorage_sbom::encode(&analysis, args.output, &mut out)
                .map_err(anyhow::Error::from)
                .and_then(|()| out.flush().map_err(anyhow::Error::from));
            if let Err(e) = written {
                // Leave no truncated SBOM behind.
                let _ = std::fs::remove_file(path);
                return Err(e.context(format!("writing {}", path.display())));
            }
        }
        None => {
            let stdout = std::io::stdout();
            let mut out = BufWriter::new(stdout.lock());
            anchorage_sbom::encode(&analysis, args.output, &mut out)
                .context("writing the sbom to stdout")?;
            out.flush().context("writing the sbom to stdout")?;
        }
    }
    Ok(crate::ExitStatus::Ok)
}
