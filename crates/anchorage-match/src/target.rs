//! What to look up for a package: ecosystem(s), normalized name, the version to compare.

use anchorage_advisory::normalize_name;
#[cfg(test)]
use anchorage_model::Distro;
use anchorage_model::Package;
pub(crate) use anchorage_model::{DistroTarget, distro_target};
use anchorage_types::PackageType;

/// True when an affected entry's ecosystem covers the target ecosystem (equal, or a finer
/// variant such as `Ubuntu:22.04:LTS` or `Red Hat:enterprise_linux:9::appstream`).
pub(crate) fn ecosystem_covers(affected: &str, target: &str) -> bool {
    affected == target
        || (affected.len() > target.len()
            && affected.starts_with(target)
            && affected.as_bytes()[target.len()] == b':')
}

/// The language ecosystem of a package type.
pub(crate) fn language_ecosystem(t: PackageType) -> Option<&'static str> {
    Some(match t {
        PackageType::Python => "PyPI",
        PackageType::Npm => "npm",
        PackageType::Gem => "RubyGems",
        PackageType::Java => "Maven",
        PackageType::Go => "Go",
        PackageType::Rust => "crates.io",
        PackageType::Nuget => "NuGet",
        PackageType::Composer => "Packagist",
        PackageType::RPackage => "CRAN",
        PackageType::GithubAction => "GitHub Actions",
        PackageType::DartPub => "Pub",
        PackageType::Hex => "Hex",
        PackageType::Swift => "SwiftURL",
        PackageType::Hackage => "Hackage",
        PackageType::Conan => "ConanCenter",
        _ => return None,
    })
}

/// Anchore's language group suffix (`github:python`).
pub(crate) fn anchore_language(t: PackageType) -> &'static str {
    match t {
        PackageType::Python => "python",
        PackageType::Npm => "npm",
        PackageType::Gem => "gem",
        PackageType::Java => "java",
        PackageType::Go => "go",
        PackageType::Rust => "rust",
        PackageType::Nuget => "nuget",
        PackageType::Composer => "composer",
        other => other.as_str(),
    }
}

/// `group:artifact` from a Maven purl.
fn maven_name(purl: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:maven/")?;
    let rest = rest.split(['@', '?', '#']).next()?;
    let (group, artifact) = rest.rsplit_once('/')?;
    let decode = |s: &str| s.replace("%40", "@").replace("%2F", "/");
    Some(format!("{}:{}", decode(group), decode(artifact)))
}

/// `host/owner/repo` from a Swift purl (`pkg:swift/github.com/apple/swift-nio@2.40.0`): the
/// repository URL without scheme, as OSV's `SwiftURL` names packages.
fn swift_name(purl: &str) -> Option<String> {
    let rest = purl.strip_prefix("pkg:swift/")?;
    let rest = rest.split(['@', '?', '#']).next()?;
    let name = rest.replace("%40", "@");
    (name.matches('/').count() >= 2).then_some(name)
}

/// `owner/repo` of a GitHub Action (`github/codeql-action/init` -> `github/codeql-action`),
/// the name OSV's `GitHub Actions` ecosystem uses.
fn action_name(name: &str) -> Option<String> {
    let mut parts = name.splitn(3, '/');
    let owner = parts.next().filter(|s| !s.is_empty())?;
    let repo = parts.next().filter(|s| !s.is_empty())?;
    Some(format!("{owner}/{repo}"))
}

/// The comparable version of a GitHub Action reference: the tag without its `v`; `None` for a
/// commit hash, which no version range can order.
fn action_version(reference: &str) -> Option<String> {
    let is_commit = reference.len() >= 7
        && reference.len() <= 40
        && reference.bytes().all(|b| b.is_ascii_hexdigit());
    if is_commit && !reference.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = reference.strip_prefix('v').unwrap_or(reference);
    v.starts_with(|c: char| c.is_ascii_digit())
        .then(|| v.to_string())
}

/// What to look up for one package.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    /// Ecosystems accepted.
    pub(crate) ecosystems: Vec<String>,
    /// Name as compared (source package for OS packages).
    pub(crate) name: String,
    /// Normalized lookup key.
    pub(crate) lookup: String,
    /// Version compared.
    pub(crate) version: String,
    /// True for OS packages.
    pub(crate) os: bool,
}

impl Target {
    pub(crate) fn describe(&self) -> String {
        let eco = self.ecosystems.first().map(String::as_str).unwrap_or("?");
        if self.os {
            format!("source package {} {} ({eco})", self.name, self.version)
        } else {
            format!("{eco} {} {}", self.name, self.version)
        }
    }
}

/// The lookup target of a package; `None` when the package cannot be matched (binary
/// classifier hits, OS packages of an unknown distro, Maven packages without a group).
pub(crate) fn package_target(pkg: &Package, distro: Option<&DistroTarget>) -> Option<Target> {
    if pkg.package_type.is_os() {
        let d = distro?;
        let name = pkg
            .source_name
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| pkg.name.clone());
        let version = pkg
            .source_version
            .clone()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| pkg.version.clone());
        let eco = d.ecosystems.first()?.clone();
        return Some(Target {
            lookup: normalize_name(&eco, &name),
            ecosystems: d.ecosystems.clone(),
            name,
            version,
            os: true,
        });
    }
    let eco = language_ecosystem(pkg.package_type)?;
    let (name, version) = match pkg.package_type {
        PackageType::Java => (maven_name(&pkg.purl)?, pkg.version.clone()),
        PackageType::Swift => (swift_name(&pkg.purl)?, pkg.version.clone()),
        PackageType::GithubAction => (action_name(&pkg.name)?, action_version(&pkg.version)?),
        _ => (pkg.name.clone(), pkg.version.clone()),
    };
    Some(Target {
        lookup: normalize_name(eco, &name),
        ecosystems: vec![eco.to_string()],
        name,
        version,
        os: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distro_ecosystems() {
        let d = |id: &str, v: &str| Distro {
            id: id.into(),
            version_id: Some(v.into()),
            ..Distro::default()
        };
        assert_eq!(
            distro_target(&d("debian", "12")).unwrap().ecosystems,
            vec!["Debian:12"]
        );
        let a = distro_target(&d("alpine", "3.20.3")).unwrap();
        assert_eq!(
            (a.ecosystems[0].as_str(), a.anchore_group.as_str()),
            ("Alpine:v3.20", "alpine:3.20")
        );
        assert!(distro_target(&Distro::unknown()).is_none());
        assert!(ecosystem_covers("Ubuntu:22.04:LTS", "Ubuntu:22.04"));
        assert!(!ecosystem_covers("Debian:1", "Debian:12"));
        assert!(!ecosystem_covers("Debian:12", "Debian:1"));
        assert_eq!(
            maven_name("pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0").as_deref(),
            Some("org.apache.logging.log4j:log4j-core")
        );
    }

    #[test]
    fn osv_ecosystems_of_every_matchable_type() {
        let expected = [
            (PackageType::RPackage, "CRAN"),
            (PackageType::GithubAction, "GitHub Actions"),
            (PackageType::DartPub, "Pub"),
            (PackageType::Hex, "Hex"),
            (PackageType::Swift, "SwiftURL"),
            (PackageType::Hackage, "Hackage"),
            (PackageType::Conan, "ConanCenter"),
            (PackageType::Nuget, "NuGet"),
        ];
        for (t, eco) in expected {
            assert_eq!(language_ecosystem(t), Some(eco), "{t}");
        }
        // no OSV ecosystem: nothing to look up
        for t in [
            PackageType::Pod,
            PackageType::LuaRocks,
            PackageType::Vcpkg,
            PackageType::Homebrew,
            PackageType::Nix,
            PackageType::Binary,
        ] {
            assert_eq!(language_ecosystem(t), None, "{t}");
        }
    }

    #[test]
    fn swift_and_action_names_as_osv_spells_them() {
        assert_eq!(
            swift_name("pkg:swift/github.com/apple/swift-nio@2.40.0").as_deref(),
            Some("github.com/apple/swift-nio")
        );
        assert_eq!(swift_name("pkg:swift/swift-nio@2.40.0"), None);
        assert_eq!(
            action_name("github/codeql-action/init").as_deref(),
            Some("github/codeql-action")
        );
        assert_eq!(action_version("v4.1.0").as_deref(), Some("4.1.0"));
        assert_eq!(action_version("v4").as_deref(), Some("4"));
        assert_eq!(
            action_version("b4ffde65f46336ab88eb53be808477a3936bae11"),
            None,
            "a commit cannot be ordered"
        );
        assert_eq!(action_version("main"), None);
    }
}
