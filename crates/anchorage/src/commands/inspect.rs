//! `anchorage inspect SRC`: manifest, config, layers and squashed-tree counts.

use std::io::IsTerminal as _;
use std::sync::Arc;

use anchorage_image::{AcquireRequest, AcquiredImage, EntryKind, ImageFs, ProgressEvent};
use serde::Serialize;

use crate::acquire_args::AcquireArgs;

/// Output format of `inspect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Output {
    /// Human-readable summary.
    Table,
    /// JSON document.
    Json,
}

/// Arguments of `anchorage inspect`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Image source: `registry:REF`, `docker-archive:PATH`, `oci-archive:PATH`, `oci-dir:PATH`,
    /// `dir:PATH`, or a bare reference.
    pub(crate) source: String,
    /// Output format.
    #[arg(short = 'o', long = "output", value_enum, default_value = "table")]
    pub(crate) output: Output,
    /// Registry access, platform and blob cache (shared with `sbom` and `scan`).
    #[command(flatten)]
    pub(crate) acquire: AcquireArgs,
    /// Whether and where to scan the squashed tree for malware (ClamAV's clamd).
    #[command(flatten)]
    pub(crate) malware: crate::malware_args::MalwareArgs,
}

#[derive(Serialize)]
struct LayerOut {
    digest: Option<String>,
    diff_id: Option<String>,
    size: u64,
    media_type: String,
}

#[derive(Serialize, Default)]
struct Counts {
    files: u64,
    dirs: u64,
    symlinks: u64,
    hardlinks: u64,
    other: u64,
}

#[derive(Serialize)]
struct InspectOut {
    source: String,
    scheme: String,
    reference: Option<String>,
    manifest_digest: Option<String>,
    index_digest: Option<String>,
    config_digest: Option<String>,
    platform: String,
    layers: Vec<LayerOut>,
    counts: Counts,
    /// The malware scan, when one ran (absent: not configured or clamd unreachable).
    #[serde(skip_serializing_if = "Option::is_none")]
    malware: Option<anchorage_model::MalwareScan>,
    /// Warnings of the malware scan (files not scanned, clamd unreachable).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    warnings: Vec<anchorage_model::AnalysisWarning>,
}

/// A byte progress bar on stderr while blobs download (hidden when stderr is not a terminal).
fn progress_bar(request: &mut AcquireRequest) -> indicatif::ProgressBar {
    let bar = if std::io::stderr().is_terminal() {
        let bar = indicatif::ProgressBar::new(0);
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} downloading {bytes}/{total_bytes} {bar:30} {bytes_per_sec} {msg}",
        ) {
            bar.set_style(style);
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let b = bar.clone();
    request.progress = Some(Arc::new(move |event: &ProgressEvent| match event {
        ProgressEvent::BlobStarted { digest, size } => {
            b.inc_length(*size);
            let hex = digest.encoded();
            b.set_message(hex.get(..12).unwrap_or(hex).to_string());
        }
        ProgressEvent::BlobBytes { bytes, .. } => b.inc(*bytes),
        ProgressEvent::BlobDone { .. } => {}
    }));
    bar
}

fn count(fs: &dyn ImageFs) -> Counts {
    let mut c = Counts::default();
    for e in fs.entries() {
        match e.kind {
            EntryKind::File => c.files += 1,
            EntryKind::Dir => c.dirs += 1,
            EntryKind::Symlink => c.symlinks += 1,
            EntryKind::Hardlink => c.hardlinks += 1,
            _ => c.other += 1,
        }
    }
    c
}

fn describe(image: &AcquiredImage, counts: Counts) -> InspectOut {
    let s = |d: &Option<anchorage_types::Digest>| d.as_ref().map(ToString::to_string);
    InspectOut {
        source: image.input.clone(),
        scheme: image.scheme.clone(),
        reference: image.reference.clone(),
        manifest_digest: s(&image.manifest_digest),
        index_digest: s(&image.index_digest),
        config_digest: s(&image.config_digest),
        platform: image.platform.to_string(),
        layers: image
            .layers
            .iter()
            .map(|l| LayerOut {
                digest: s(&l.digest),
                diff_id: s(&l.diff_id),
                size: l.size,
                media_type: l.media_type.clone(),
            })
            .collect(),
        counts,
        malware: None,
        warnings: Vec::new(),
    }
}

fn table(out: &InspectOut) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let mut s = String::new();
    let mut row = |k: &str, v: String| s.push_str(&format!("{k:<16}{v}\n"));
    row("Source", out.source.clone());
    row("Scheme", out.scheme.clone());
    row("Reference", dash(&out.reference));
    row("Manifest digest", dash(&out.manifest_digest));
    row("Index digest", dash(&out.index_digest));
    row("Config digest", dash(&out.config_digest));
    row("Platform", out.platform.clone());
    let c = &out.counts;
    row(
        "Tree",
        format!(
            "{} files, {} dirs, {} symlinks, {} hardlinks, {} other",
            c.files, c.dirs, c.symlinks, c.hardlinks, c.other
        ),
    );
    if let Some(m) = &out.malware {
        row(
            "Malware",
            format!(
                "{} findings ({}; {} files, {} bytes scanned, {} skipped)",
                m.findings.len(),
                m.scanner,
                m.files_scanned,
                m.bytes_scanned,
                m.files_skipped
            ),
        );
        for f in &m.findings {
            row("", format!("{} {}", f.signature, f.path));
        }
    }
    for w in &out.warnings {
        row(
            "Warning",
            format!("{}: {}", w.path.as_deref().unwrap_or("-"), w.message),
        );
    }
    s.push_str(&format!("\nLayers ({}):\n", out.layers.len()));
    s.push_str(&format!(
        "{:<4}{:<73}{:>12}  {}\n",
        "#", "DIGEST", "SIZE", "MEDIA TYPE"
    ));
    for (i, l) in out.layers.iter().enumerate() {
        s.push_str(&format!(
            "{:<4}{:<73}{:>12}  {}\n",
            i,
            dash(&l.digest),
            l.size,
            l.media_type
        ));
    }
    s
}

pub(crate) async fn run(args: Args) -> anyhow::Result<crate::ExitStatus> {
    let (settings, mut analysis) = args.acquire.resolve(&args.source)?;
    args.malware.apply(&settings, &mut analysis);
    let engine = crate::acquire_args::engine(&settings, analysis, None)?;
    let mut request = AcquireRequest::default();
    let bar = progress_bar(&mut request);
    let image = engine.acquire(&args.source, &request).await;
    bar.finish_and_clear();
    let (image, fs) = engine.open_fs(image?).await?;
    let counts = count(fs.as_ref());
    let (_, scanned) = engine.scan_malware(fs).await?;
    let mut out = describe(&image, counts);
    if let Some(outcome) = scanned {
        out.malware = outcome.scan;
        out.warnings = outcome.warnings;
    }
    match args.output {
        Output::Json => println!("{}", serde_json::to_string_pretty(&out)?),
        Output::Table => print!("{}", table(&out)),
    }
    Ok(crate::ExitStatus::Ok)
}
