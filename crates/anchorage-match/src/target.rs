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
    let name = if eco == "Maven" {
        maven_name(&pkg.purl)?
    } else {
        pkg.name.clone()
    };
    Some(Target {
        lookup: normalize_name(eco, &name),
        ecosystems: vec![eco.to_string()],
        name,
        version: pkg.version.clone(),
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
}
