//! A `NAME VERSION TYPE` text table, like Syft's table output.

use std::io::Write;

use anchorage_model::Analysis;

use crate::SbomError;
use crate::common::syft_type;

/// Writes one row per distinct (name, version, type), sorted, with aligned columns.
pub(crate) fn encode(analysis: &Analysis, w: &mut dyn Write) -> Result<(), SbomError> {
    let mut rows: Vec<[&str; 3]> = analysis
        .packages
        .iter()
        .map(|p| {
            [
                p.name.as_str(),
                p.version.as_str(),
                syft_type(p.package_type),
            ]
        })
        .collect();
    if rows.is_empty() {
        writeln!(w, "No packages discovered")?;
        return Ok(());
    }
    rows.sort_unstable();
    rows.dedup();
    let header = ["NAME", "VERSION", "TYPE"];
    let mut width = header.map(str::len);
    for row in &rows {
        for (i, cell) in row.iter().enumerate() {
            width[i] = width[i].max(cell.chars().count());
        }
    }
    let mut line = String::new();
    for row in std::iter::once(&header).chain(rows.iter()) {
        line.clear();
        for (i, cell) in row.iter().enumerate() {
            line.push_str(cell);
            if i + 1 < row.len() {
                let pad = width[i] - cell.chars().count() + 2;
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(w, "{line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use anchorage_model::{ANALYSIS_SCHEMA_VERSION, Distro, ImageMetadata, SourceInfo};

    use super::*;

    #[test]
    fn synthetic_empty_analysis_says_no_packages() {
        let analysis = Analysis {
            schema_version: ANALYSIS_SCHEMA_VERSION.into(),
            source: SourceInfo {
                scheme: "dir".into(),
                input: "dir:/empty".into(),
                reference: None,
                manifest_digest: None,
                config_digest: None,
                index_digest: None,
            },
            image: ImageMetadata::default(),
            distro: Distro::unknown(),
            packages: vec![],
            files: vec![],
            relationships: Vec::new(),
            secrets: vec![],
            content_hits: vec![],
            retrieved_files: vec![],
            warnings: vec![],
            malware: Vec::new(),
            analyzed_at: chrono::DateTime::UNIX_EPOCH,
        };
        let mut out = Vec::new();
        encode(&analysis, &mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "No packages discovered\n");
    }
}
