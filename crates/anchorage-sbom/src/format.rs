//! Output format names.

use std::fmt;
use std::str::FromStr;

use crate::SbomError;

/// An SBOM output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SbomFormat {
    /// Anchorage's native analysis JSON (versioned, decodable).
    Json,
    /// CycloneDX 1.6 JSON.
    CycloneDxJson,
    /// SPDX 2.3 JSON.
    SpdxJson,
    /// A `NAME VERSION TYPE` text table.
    Table,
}

impl SbomFormat {
    /// Every format, in the order the CLI lists them.
    pub const ALL: [SbomFormat; 4] = [
        SbomFormat::Json,
        SbomFormat::CycloneDxJson,
        SbomFormat::SpdxJson,
        SbomFormat::Table,
    ];

    /// The format's name as accepted by `-o`.
    pub fn as_str(self) -> &'static str {
        match self {
            SbomFormat::Json => "json",
            SbomFormat::CycloneDxJson => "cyclonedx-json",
            SbomFormat::SpdxJson => "spdx-json",
            SbomFormat::Table => "table",
        }
    }
}

impl fmt::Display for SbomFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SbomFormat {
    type Err = SbomError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.trim().to_ascii_lowercase().as_str() {
            "json" | "native" | "anchorage-json" => SbomFormat::Json,
            "cyclonedx-json" | "cyclonedx" | "cdx-json" | "cdx" => SbomFormat::CycloneDxJson,
            "spdx-json" | "spdx" => SbomFormat::SpdxJson,
            "table" => SbomFormat::Table,
            _ => return Err(SbomError::UnknownFormat(s.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in SbomFormat::ALL {
            assert_eq!(f.as_str().parse::<SbomFormat>().unwrap(), f);
        }
        assert!("xml".parse::<SbomFormat>().is_err());
    }
}
