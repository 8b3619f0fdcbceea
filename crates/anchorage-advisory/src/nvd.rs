//! NVD's scores for one CVE, as the NVD feed driver stores them and matching reads them.

use serde::{Deserialize, Serialize};

use crate::model::SeverityRating;

/// NVD's scores for one CVE.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NvdEntry {
    /// CVE id.
    pub id: String,
    /// CVSS v2 (primary metric when several).
    #[serde(default)]
    pub cvss_v2: Option<SeverityRating>,
    /// CVSS v3.x.
    #[serde(default)]
    pub cvss_v3: Option<SeverityRating>,
    /// CVSS v4.0.
    #[serde(default)]
    pub cvss_v4: Option<SeverityRating>,
    /// CWE ids.
    #[serde(default)]
    pub cwes: Vec<String>,
    /// `lastModified` as published.
    #[serde(default)]
    pub last_modified: Option<String>,
}
