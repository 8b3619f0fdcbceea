//! The OSV range verdict: is an installed version inside one affected entry (its version list or
//! its ECOSYSTEM/SEMVER ranges), compared in the entry's ecosystem's version scheme.

use std::cmp::Ordering;

use anchorage_version::{RangeEvent, Scheme, clean_version, compare, is_affected};

use crate::model::{Affected, AffectedStatus, Event, RangeKind};

/// The verdict of one affected entry for one installed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Affected: the constraint that contained the version, and the fixed versions it names.
    Affected {
        /// The range or version list that contained the version, in words.
        constraint: String,
        /// The fixed versions the matched range names.
        fixes: Vec<String>,
        /// The version scheme used to compare.
        scheme: Scheme,
    },
    /// Not affected, and why.
    NotAffected(String),
    /// Could not be decided (a version that does not parse).
    Invalid(String),
}

fn range_scheme(kind: RangeKind, ecosystem: &str) -> Scheme {
    let eco = Scheme::for_ecosystem(ecosystem);
    match kind {
        RangeKind::Semver => match eco {
            Scheme::Npm | Scheme::Go | Scheme::Semver => eco,
            _ => Scheme::Semver,
        },
        _ => eco,
    }
}

fn to_event(e: &Event) -> RangeEvent {
    match e {
        Event::Introduced(v) => RangeEvent::Introduced(v.clone()),
        Event::Fixed(v) => RangeEvent::Fixed(v.clone()),
        Event::LastAffected(v) => RangeEvent::LastAffected(v.clone()),
        Event::Limit(v) => RangeEvent::Limit(v.clone()),
    }
}

/// Decide whether `installed` is affected by one affected entry (OSV semantics: listed in
/// `versions`, or inside any ECOSYSTEM/SEMVER range; GIT ranges are not evaluated).
pub fn evaluate(aff: &Affected, installed: &str) -> Verdict {
    let scheme = Scheme::for_ecosystem(&aff.ecosystem);
    if aff.status == AffectedStatus::NotAffected {
        return Verdict::NotAffected(format!(
            "the vendor marks {} {} not affected ({})",
            aff.ecosystem,
            aff.name,
            aff.note.as_deref().unwrap_or("no detail")
        ));
    }
    let cleaned = clean_version(scheme, installed);
    for v in &aff.versions {
        if v == installed || compare(scheme, v, &cleaned).is_ok_and(|o| o == Ordering::Equal) {
            return Verdict::Affected {
                constraint: format!("affected versions list contains {v}"),
                fixes: aff.fixed_versions(),
                scheme,
            };
        }
    }
    let mut errors = Vec::new();
    let mut evaluated = Vec::new();
    for range in &aff.ranges {
        if range.kind == RangeKind::Git {
            continue;
        }
        let s = range_scheme(range.kind, &aff.ecosystem);
        // Callers clean what catalogers recorded (`go1.24.1`, `1.13.1-x86_64-linux`, `v1.2`).
        let inst = clean_version(s, installed);
        let inst = if range.kind == RangeKind::Semver {
            inst.trim_start_matches('v')
        } else {
            &inst
        };
        let events: Vec<RangeEvent> = range.events.iter().map(to_event).collect();
        match is_affected(s, inst, &events) {
            Ok(true) => {
                let fixes = range
                    .events
                    .iter()
                    .filter_map(|e| match e {
                        Event::Fixed(v) => Some(v.clone()),
                        _ => None,
                    })
                    .collect();
                let mut constraint = range.describe();
                if let Some(note) = &aff.note {
                    constraint.push_str(&format!(" [{note}]"));
                }
                return Verdict::Affected {
                    constraint,
                    fixes,
                    scheme: s,
                };
            }
            Ok(false) => evaluated.push(range.describe()),
            Err(e) => errors.push(format!("{}: {e}", range.describe())),
        }
    }
    if !evaluated.is_empty() {
        let mut why = format!(
            "{installed} is outside {} ({} ordering)",
            evaluated.join("; "),
            scheme.name()
        );
        if let Some(note) = &aff.note {
            why.push_str(&format!(" [{note}]"));
        }
        if !aff.versions.is_empty() {
            why.push_str(&format!(
                " and not among {} listed versions",
                aff.versions.len()
            ));
        }
        return Verdict::NotAffected(why);
    }
    if !errors.is_empty() {
        return Verdict::Invalid(errors.join("; "));
    }
    if aff.versions.is_empty() {
        Verdict::NotAffected("the record has only GIT ranges (commits are not compared)".into())
    } else {
        Verdict::NotAffected(format!(
            "{installed} is not among {} listed versions",
            aff.versions.len()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Range;

    fn aff(eco: &str, kind: RangeKind, events: Vec<Event>) -> Affected {
        Affected {
            ecosystem: eco.into(),
            name: "x".into(),
            purl: None,
            ranges: vec![Range {
                kind,
                repo: None,
                events,
            }],
            versions: Vec::new(),
            status: AffectedStatus::Fixed,
            severity: None,
            note: None,
        }
    }

    fn hit(v: &Verdict) -> bool {
        matches!(v, Verdict::Affected { .. })
    }

    #[test]
    fn synthetic_last_affected_and_limit_events() {
        let a = aff(
            "PyPI",
            RangeKind::Ecosystem,
            vec![
                Event::Introduced("1.0".into()),
                Event::LastAffected("1.4".into()),
            ],
        );
        assert!(hit(&evaluate(&a, "1.4")));
        assert!(!hit(&evaluate(&a, "1.4.1")));
        assert!(!hit(&evaluate(&a, "0.9")));
        let l = aff(
            "npm",
            RangeKind::Semver,
            vec![Event::Introduced("0".into()), Event::Limit("2.0.0".into())],
        );
        assert!(hit(&evaluate(&l, "1.9.9")));
        assert!(!hit(&evaluate(&l, "2.0.0")));
    }

    #[test]
    fn synthetic_semver_range_accepts_go_v_prefix() {
        let a = aff(
            "Go",
            RangeKind::Semver,
            vec![Event::Introduced("0".into()), Event::Fixed("1.2.3".into())],
        );
        assert!(hit(&evaluate(&a, "v1.2.2")));
        assert!(!hit(&evaluate(&a, "v1.2.3")));
    }

    #[test]
    fn synthetic_unparsable_version_is_undecidable_not_a_panic() {
        let a = aff(
            "Debian:12",
            RangeKind::Ecosystem,
            vec![Event::Introduced("0".into()), Event::Fixed("1.0-1".into())],
        );
        assert!(matches!(
            evaluate(&a, "not a version!"),
            Verdict::Invalid(_)
        ));
        let git = aff("PyPI", RangeKind::Git, vec![Event::Introduced("0".into())]);
        assert!(matches!(evaluate(&git, "1.0"), Verdict::NotAffected(_)));
    }

    /// The stdlib range of the real record GO-2026-5037 (`shared/corpus/osv/Go`): a Go
    /// binary's toolchain version `go1.25.3` is affected, `go1.26.4` is not.
    #[test]
    fn go_toolchain_versions_are_cleaned_before_matching() {
        let path = anchorage_testkit::corpus_dir().join("osv/Go/GO-2026-5037.json");
        let record: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let stdlib = record["affected"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["package"]["name"] == "stdlib")
            .unwrap();
        let events = stdlib["ranges"][0]["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let (k, v) = e.as_object().unwrap().iter().next().unwrap();
                let v = v.as_str().unwrap().to_string();
                match k.as_str() {
                    "introduced" => Event::Introduced(v),
                    _ => Event::Fixed(v),
                }
            })
            .collect();
        let a = aff("Go", RangeKind::Semver, events);
        assert!(hit(&evaluate(&a, "go1.25.3")));
        assert!(!hit(&evaluate(&a, "go1.26.4")));
        assert!(hit(&evaluate(&a, "go1.26rc1")));
    }

    #[test]
    fn synthetic_gem_platform_suffix_is_dropped_before_matching() {
        let a = aff(
            "RubyGems",
            RangeKind::Ecosystem,
            vec![Event::Introduced("0".into()), Event::Fixed("1.13.2".into())],
        );
        assert!(hit(&evaluate(&a, "1.13.1-x86_64-linux")));
        assert!(!hit(&evaluate(&a, "1.13.2-x86_64-linux")));
    }
}
