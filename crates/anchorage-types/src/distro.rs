//! Distribution release names: Debian codenames and Alpine branches, shared by the feed drivers
//! (which key records by release) and by matching (which maps a detected distro to a release).

/// Debian release codenames and their major versions.
pub const DEBIAN_RELEASES: &[(&str, &str)] = &[
    ("wheezy", "7"),
    ("jessie", "8"),
    ("stretch", "9"),
    ("buster", "10"),
    ("bullseye", "11"),
    ("bookworm", "12"),
    ("trixie", "13"),
    ("forky", "14"),
    ("duke", "15"),
];

/// The major version of a Debian codename.
pub fn debian_release_number(codename: &str) -> Option<&'static str> {
    DEBIAN_RELEASES
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(codename))
        .map(|(_, n)| *n)
}

/// `v3.20.3`, `3.20` -> `v3.20`; `None` without a numeric major and minor.
pub fn alpine_branch(version: &str) -> Option<String> {
    let v = version.trim().trim_start_matches('v');
    let mut parts = v.split('.');
    let major = parts
        .next()
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))?;
    let minor = parts
        .next()
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    match minor {
        Some(minor) => Some(format!("v{major}.{minor}")),
        None if v == "edge" => Some("edge".into()),
        None => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_codenames_map_to_majors() {
        assert_eq!(debian_release_number("bookworm"), Some("12"));
        assert_eq!(debian_release_number("Trixie"), Some("13"));
        assert_eq!(debian_release_number("sid"), None);
    }

    #[test]
    fn alpine_versions_map_to_branches() {
        assert_eq!(alpine_branch("3.20.3").as_deref(), Some("v3.20"));
        assert_eq!(alpine_branch("v3.12").as_deref(), Some("v3.12"));
        assert_eq!(alpine_branch("garbage"), None);
        assert_eq!(alpine_branch("3"), None);
    }
}
