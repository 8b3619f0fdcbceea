//! FIXED-IN: the fix a user upgrades to, chosen with the matched version scheme.

use anchorage_model::{Finding, FixState};
use anchorage_version::{Scheme, compare};

/// The fixed version nearest above the installed one (by the matched version scheme):
/// what the user upgrades to. A range fixed in several release lines lists every line's
/// fix; only the next one above the installed version is useful. `None` without a fix;
/// the first listed fix when no scheme or no larger version is known.
pub fn nearest_fix(finding: &Finding) -> Option<String> {
    let FixState::Fixed(versions) = &finding.fix else {
        return None;
    };
    let evidence = finding.evidence.first();
    let scheme = evidence.and_then(|e| {
        Scheme::ALL
            .into_iter()
            .find(|s| s.name() == e.version_scheme)
    });
    let installed = evidence
        .map(|e| e.installed_version.as_str())
        .filter(|v| !v.is_empty())
        .unwrap_or(&finding.package.version);
    let (Some(scheme), false) = (scheme, versions.is_empty()) else {
        return versions.first().cloned();
    };
    let cmp = |a: &str, b: &str| compare(scheme, a, b).ok();
    let above = versions
        .iter()
        .filter(|v| cmp(v, installed) == Some(std::cmp::Ordering::Greater));
    let nearest = above.fold(None::<&String>, |best, v| match best {
        Some(b) if cmp(v, b) != Some(std::cmp::Ordering::Less) => Some(b),
        _ => Some(v),
    });
    nearest.or_else(|| versions.first()).cloned()
}
