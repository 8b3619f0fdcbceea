//! NVD driver: CVE API 2.0 JSON (a page of the API or a yearly file, both
//! `{"vulnerabilities": [{"cve": {...}}]}`). Used only to enrich severity and CVSS.

use crate::driver::{FeedDriver, ItemIter, collected};
use crate::error::VulnDbError;
use crate::input::RecordIter;
use anchorage_advisory::{SeverityRating, rate_vector};
use serde::Deserialize;

pub use anchorage_advisory::NvdEntry;

#[derive(Debug, Deserialize)]
struct Doc {
    vulnerabilities: Vec<serde_json::Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Cve {
    id: String,
    #[serde(default)]
    last_modified: Option<String>,
    #[serde(default)]
    metrics: Metrics,
    #[serde(default)]
    weaknesses: Vec<Weakness>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metrics {
    #[serde(default)]
    cvss_metric_v40: Vec<Metric>,
    #[serde(default)]
    cvss_metric_v31: Vec<Metric>,
    #[serde(default)]
    cvss_metric_v30: Vec<Metric>,
    #[serde(default, rename = "cvssMetricV2")]
    cvss_metric_v2: Vec<Metric>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metric {
    #[serde(default, rename = "type")]
    kind: Option<String>,
    cvss_data: CvssDataRaw,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CvssDataRaw {
    vector_string: String,
}

#[derive(Debug, Deserialize)]
struct Weakness {
    #[serde(default)]
    description: Vec<LangValue>,
}

#[derive(Debug, Deserialize)]
struct LangValue {
    value: String,
}

fn primary(metrics: &[Metric]) -> Option<SeverityRating> {
    metrics
        .iter()
        .find(|m| m.kind.as_deref() == Some("Primary"))
        .or_else(|| metrics.first())
        .map(|m| rate_vector(&m.cvss_data.vector_string, "nvd"))
}

/// Parse an NVD CVE API 2.0 document. Returns the entries and malformed-entry messages.
pub(crate) fn parse_nvd(name: &str, bytes: &[u8]) -> Result<(Vec<NvdEntry>, Vec<String>), String> {
    let doc: Doc = serde_json::from_slice(bytes).map_err(|e| format!("{name}: {e}"))?;
    let mut out = Vec::with_capacity(doc.vulnerabilities.len());
    let mut malformed = Vec::new();
    for (i, item) in doc.vulnerabilities.into_iter().enumerate() {
        let Some(cve_value) = item.get("cve").cloned() else {
            malformed.push(format!("{name}: vulnerabilities[{i}] has no cve"));
            continue;
        };
        let cve: Cve = match serde_json::from_value(cve_value) {
            Ok(c) => c,
            Err(e) => {
                malformed.push(format!("{name}: vulnerabilities[{i}]: {e}"));
                continue;
            }
        };
        let v3 =
            primary(&cve.metrics.cvss_metric_v31).or_else(|| primary(&cve.metrics.cvss_metric_v30));
        out.push(NvdEntry {
            cvss_v2: primary(&cve.metrics.cvss_metric_v2),
            cvss_v3: v3,
            cvss_v4: primary(&cve.metrics.cvss_metric_v40),
            cwes: cve
                .weaknesses
                .iter()
                .flat_map(|w| w.description.iter().map(|d| d.value.clone()))
                .filter(|v| v.starts_with("CWE-"))
                .collect(),
            last_modified: cve.last_modified,
            id: cve.id,
        });
    }
    Ok((out, malformed))
}

/// NVD CVE API 2.0 pages or yearly files (scores only).
pub(crate) struct NvdDriver;

impl FeedDriver for NvdDriver {
    fn items(&self, files: RecordIter) -> Result<ItemIter, VulnDbError> {
        let mut entries = Vec::new();
        let mut malformed = Vec::new();
        for f in files {
            let f = f?;
            match f.content {
                Err(why) => malformed.push(format!("{}: {why}", f.name)),
                Ok(bytes) => match parse_nvd(&f.name, &bytes) {
                    Ok((e, bad)) => {
                        entries.extend(e);
                        malformed.extend(bad);
                    }
                    Err(e) => malformed.push(e),
                },
            }
        }
        Ok(collected(Vec::new(), entries, malformed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_nvd_api_page() {
        // Shape of an NVD CVE API 2.0 response, values made up for the test.
        let doc = br#"{"resultsPerPage":2,"vulnerabilities":[
          {"cve":{"id":"CVE-2099-0001","lastModified":"2099-01-01T00:00:00.000",
            "metrics":{"cvssMetricV31":[{"source":"nvd@nist.gov","type":"Primary",
              "cvssData":{"version":"3.1","vectorString":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","baseScore":9.8}}],
              "cvssMetricV2":[{"type":"Primary","cvssData":{"version":"2.0","vectorString":"AV:N/AC:L/Au:N/C:P/I:P/A:P"}}]},
            "weaknesses":[{"description":[{"lang":"en","value":"CWE-787"}]}]}},
          {"nocve":{}}]}"#;
        let (entries, malformed) = parse_nvd("page.json", doc).unwrap();
        assert_eq!(entries.len(), 1);
        assert_eq!(malformed.len(), 1);
        let e = &entries[0];
        assert_eq!(e.cvss_v3.as_ref().unwrap().base_score, Some(9.8));
        assert_eq!(e.cvss_v2.as_ref().unwrap().base_score, Some(7.5));
        assert_eq!(e.cwes, vec!["CWE-787"]);
    }
}
