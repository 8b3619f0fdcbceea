//! The vulnerability-data view of a detected distribution: its OSV ecosystems and Anchore's feed
//! group. Used by matching (which records apply) and by the policy vulnerabilities gate (which
//! feed group must have data).

use anchorage_types::{alpine_branch, debian_release_number};

use crate::analysis::Distro;

/// The distro release as vulnerability ecosystems (`Debian:12`) and Anchore's feed group
/// (`debian:12`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistroTarget {
    /// OSV ecosystems that hold this release's records (first is the canonical one).
    pub ecosystems: Vec<String>,
    /// Anchore feed group (`debian:12`, `alpine:3.20`).
    pub anchore_group: String,
}

fn major(version_id: &str) -> Option<&str> {
    let m = version_id.split('.').next()?;
    (!m.is_empty() && m.chars().all(|c| c.is_ascii_digit())).then_some(m)
}

/// Map a detected distro to its vulnerability ecosystem; `None` when the distro is unknown or
/// has no known ecosystem (the report then says data is unavailable).
pub fn distro_target(distro: &Distro) -> Option<DistroTarget> {
    let id = distro.id.to_ascii_lowercase();
    let version = distro.version_id.as_deref().unwrap_or("");
    let t = |ecosystems: Vec<String>, group: String| {
        Some(DistroTarget {
            ecosystems,
            anchore_group: group,
        })
    };
    match id.as_str() {
        "debian" => {
            let n = major(version).map(str::to_string).or_else(|| {
                distro
                    .codename
                    .as_deref()
                    .and_then(debian_release_number)
                    .map(str::to_string)
            })?;
            t(vec![format!("Debian:{n}")], format!("debian:{n}"))
        }
        "ubuntu" => {
            if version.is_empty() {
                return None;
            }
            t(
                vec![format!("Ubuntu:{version}"), format!("Ubuntu:{version}:LTS")],
                format!("ubuntu:{version}"),
            )
        }
        "alpine" => {
            let b = alpine_branch(version)?;
            let group = format!("alpine:{}", b.trim_start_matches('v'));
            t(vec![format!("Alpine:{b}")], group)
        }
        "rocky" => {
            let m = major(version)?;
            t(vec![format!("Rocky Linux:{m}")], format!("rocky:{m}"))
        }
        "almalinux" => {
            let m = major(version)?;
            t(vec![format!("AlmaLinux:{m}")], format!("almalinux:{m}"))
        }
        "rhel" => {
            let m = major(version)?;
            t(
                vec![
                    format!("Red Hat:enterprise_linux:{m}"),
                    format!("Red Hat:rhel_aus:{m}"),
                ],
                format!("rhel:{m}"),
            )
        }
        // Rolling apk distributions: one unversioned ecosystem each, as OSV names them.
        "wolfi" => t(vec!["Wolfi".into()], "wolfi:rolling".into()),
        "chainguard" => t(vec!["Chainguard".into()], "chainguard:rolling".into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(id: &str, v: &str) -> Distro {
        Distro {
            id: id.into(),
            version_id: Some(v.into()),
            ..Distro::default()
        }
    }

    #[test]
    fn distro_targets_of_known_releases() {
        let deb = distro_target(&d("debian", "12")).map(|t| t.ecosystems);
        assert_eq!(deb, Some(vec!["Debian:12".to_string()]));
        let a = distro_target(&d("alpine", "3.20.3"));
        assert_eq!(
            a.as_ref()
                .map(|a| (a.ecosystems[0].as_str(), a.anchore_group.as_str())),
            Some(("Alpine:v3.20", "alpine:3.20"))
        );
        let by_codename = Distro {
            id: "debian".into(),
            codename: Some("bookworm".into()),
            ..Distro::default()
        };
        assert_eq!(
            distro_target(&by_codename).map(|t| t.anchore_group),
            Some("debian:12".to_string())
        );
        assert!(distro_target(&Distro::unknown()).is_none());
        let wolfi = distro_target(&d("wolfi", "20230201")).map(|t| (t.ecosystems, t.anchore_group));
        assert_eq!(
            wolfi,
            Some((vec!["Wolfi".to_string()], "wolfi:rolling".to_string()))
        );
        let cg = distro_target(&d("chainguard", "20230214")).map(|t| t.ecosystems);
        assert_eq!(cg, Some(vec!["Chainguard".to_string()]));
    }
}
