//! CVSS vectors to scores (via the RustSec `cvss` crate) and vendor labels to severities.

use std::str::FromStr;

use anchorage_types::Severity;

use crate::model::{SeverityKind, SeverityRating};

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Rate a CVSS vector: kind from its prefix (`CVSS:3.1/`, `CVSS:4.0/`, none for v2), scores
/// computed. A vector that does not parse keeps its text and has no scores.
pub fn rate_vector(vector: &str, source: &str) -> SeverityRating {
    let vector = vector.trim();
    let mut rating = SeverityRating {
        kind: if vector.starts_with("CVSS:4") {
            SeverityKind::CvssV4
        } else if vector.starts_with("CVSS:3") {
            SeverityKind::CvssV3
        } else {
            SeverityKind::CvssV2
        },
        source: source.to_string(),
        value: vector.to_string(),
        base_score: None,
        exploitability_score: None,
        impact_score: None,
    };
    match rating.kind {
        SeverityKind::CvssV3 => {
            if let Ok(v) = cvss::v3::Vector::from_str(vector) {
                rating.base_score = Some(v.base_score().value());
                rating.exploitability_score = Some(round1(v.exploitability().value()));
                // The v3 spec's impact sub-score is the scoped ISS.
                let iss = v.impact().value();
                let impact = if vector.contains("/S:C") {
                    7.52 * (iss - 0.029) - 3.25 * (iss - 0.02).powf(15.0)
                } else {
                    6.42 * iss
                };
                rating.impact_score = Some(round1(impact.max(0.0)));
            }
        }
        SeverityKind::CvssV2 => {
            let bare = vector.strip_prefix("CVSS:2.0/").unwrap_or(vector);
            if let Ok(v) = cvss::v2::Vector::from_str(bare) {
                rating.base_score = Some(v.score().value());
                rating.exploitability_score = Some(round1(v.exploitability().value()));
                rating.impact_score = Some(round1(v.impact().value()));
            }
        }
        SeverityKind::CvssV4 => {
            if let Ok(v) = cvss::v4::Vector::from_str(vector) {
                rating.base_score = Some(v.score().value());
            }
        }
        SeverityKind::Vendor => {}
    }
    rating
}

/// A vendor label rating.
pub fn vendor_label(label: &str, source: &str) -> SeverityRating {
    SeverityRating {
        kind: SeverityKind::Vendor,
        source: source.to_string(),
        value: label.to_string(),
        base_score: None,
        exploitability_score: None,
        impact_score: None,
    }
}

/// Severity of a vendor label (`HIGH`, `moderate`, Debian `unimportant`, `low**`); `None` for
/// labels that carry no severity (`not yet assigned`, `end-of-life`).
pub fn label_severity(label: &str) -> Option<Severity> {
    let cleaned = label.trim().trim_end_matches('*').trim();
    match cleaned.parse::<Severity>() {
        Ok(Severity::Unknown) | Err(_) => None,
        Ok(s) => Some(s),
    }
}

/// Severity of a rating: the label for vendor ratings, the FIRST scale for CVSS v3/v4, the
/// NVD v2 scale (low < 4, medium < 7, high) for v2.
pub fn rating_severity(rating: &SeverityRating) -> Option<Severity> {
    match rating.kind {
        SeverityKind::Vendor => label_severity(&rating.value),
        SeverityKind::CvssV3 | SeverityKind::CvssV4 => {
            rating.base_score.map(Severity::from_cvss_score)
        }
        SeverityKind::CvssV2 => rating.base_score.map(|s| {
            if s >= 7.0 {
                Severity::High
            } else if s >= 4.0 {
                Severity::Medium
            } else if s > 0.0 {
                Severity::Low
            } else {
                Severity::Unknown
            }
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_v3_vector_of_lodash_record() {
        // The vector published in corpus npm/GHSA-jf85-cpcp-j695.json; NVD lists 9.1 for it.
        let r = rate_vector("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:H/A:H", "osv");
        assert_eq!(r.kind, SeverityKind::CvssV3);
        assert_eq!(r.base_score, Some(9.1));
        assert_eq!(r.exploitability_score, Some(3.9));
        assert_eq!(r.impact_score, Some(5.2));
        assert_eq!(rating_severity(&r), Some(Severity::Critical));
    }

    #[test]
    fn scores_v2_vector() {
        let r = rate_vector("AV:N/AC:L/Au:N/C:P/I:P/A:P", "nvd");
        assert_eq!(r.base_score, Some(7.5));
        assert_eq!(r.exploitability_score, Some(10.0));
        assert_eq!(r.impact_score, Some(6.4));
    }

    #[test]
    fn synthetic_garbage_vector_keeps_text_without_score() {
        let r = rate_vector("CVSS:3.1/AV:Q", "osv");
        assert_eq!(r.base_score, None);
        assert_eq!(rating_severity(&r), None);
    }

    #[test]
    fn labels() {
        assert_eq!(label_severity("high**"), Some(Severity::High));
        assert_eq!(label_severity("unimportant"), Some(Severity::Negligible));
        assert_eq!(label_severity("not yet assigned"), None);
        assert_eq!(label_severity("MODERATE"), Some(Severity::Medium));
    }
}
