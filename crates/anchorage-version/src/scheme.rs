//! Version schemes and the mapping from OSV ecosystem names.

use std::fmt;

/// A version ordering. Each variant follows one ecosystem tool exactly (see the module docs of
/// each implementation for the reference tool and any known deviation).
///
/// | variant | ecosystems (OSV names) | reference |
/// |---|---|---|
/// | `Dpkg` | Debian, Ubuntu | `dpkg --compare-versions` |
/// | `Rpm` | Red Hat, Rocky Linux, AlmaLinux, SUSE, openSUSE, Photon OS, Azure Linux, Mageia, openEuler | `rpmvercmp` (rpm 4.18) |
/// | `Apk` | Alpine up to v3.22, Wolfi, Chainguard, MinimOS | `apk version -t` (apk-tools 2.14) |
/// | `Apk3` | Alpine v3.23 and later | apk-tools 3 `version.c` |
/// | `Pep440` | PyPI | Python `packaging.version` |
/// | `Semver` | crates.io, Pub, Hex, SwiftURL, Bitnami | SemVer 2.0.0 precedence (build ignored) |
/// | `Npm` | npm | node `semver` (strict, `v` prefix allowed) |
/// | `Go` | Go | `golang.org/x/mod/semver` (`v` optional, `+incompatible` ignored) |
/// | `Maven` | Maven | Maven `ComparableVersion` |
/// | `RubyGems` | RubyGems | `Gem::Version` |
/// | `NuGet` | NuGet | `NuGetVersion` with the default comparer |
/// | `Composer` | Packagist | Composer `VersionParser::normalize` + PHP `version_compare` |
/// | `Generic` | anything else | natural ordering of digit and letter runs (best effort) |
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Scheme {
    /// Debian package versions (`[epoch:]upstream[-revision]`).
    Dpkg,
    /// RPM `[epoch:]version[-release]`.
    Rpm,
    /// Alpine apk versions (apk-tools 2).
    Apk,
    /// Alpine apk versions as apk-tools 3 orders them (Alpine v3.23 and later).
    Apk3,
    /// Python PEP 440.
    Pep440,
    /// Plain SemVer 2.0.0 (crates.io and others).
    Semver,
    /// node-semver as used by npm.
    Npm,
    /// Go module versions, including pseudo-versions and `+incompatible`.
    Go,
    /// Maven `ComparableVersion`.
    Maven,
    /// RubyGems `Gem::Version`.
    RubyGems,
    /// NuGet versions (SemVer 2 with up to four numeric parts, case-insensitive labels).
    NuGet,
    /// Composer (Packagist) versions.
    Composer,
    /// Unknown ecosystems: best-effort natural ordering.
    Generic,
}

impl Scheme {
    /// Every scheme, for tests and tooling.
    pub const ALL: [Scheme; 13] = [
        Scheme::Dpkg,
        Scheme::Rpm,
        Scheme::Apk,
        Scheme::Apk3,
        Scheme::Pep440,
        Scheme::Semver,
        Scheme::Npm,
        Scheme::Go,
        Scheme::Maven,
        Scheme::RubyGems,
        Scheme::NuGet,
        Scheme::Composer,
        Scheme::Generic,
    ];

    /// The scheme used by an OSV ecosystem name such as `Debian:12`, `Alpine:v3.20`, `PyPI`.
    /// The part after the first `:` (release) only selects between apk-tools orderings
    /// (`Alpine:v3.23` and later use apk-tools 3); matching is case-insensitive. Unknown
    /// ecosystems get [`Scheme::Generic`].
    pub fn for_ecosystem(osv_ecosystem: &str) -> Scheme {
        let base = osv_ecosystem
            .split(':')
            .next()
            .unwrap_or_default()
            .trim()
            .to_ascii_lowercase();
        match base.as_str() {
            "debian" | "ubuntu" => Scheme::Dpkg,
            "alpine" if alpine_uses_apk3(osv_ecosystem) => Scheme::Apk3,
            "alpine" | "wolfi" | "chainguard" | "minimos" => Scheme::Apk,
            "red hat" | "redhat" | "rhel" | "rocky" | "rocky linux" | "almalinux" | "alma"
            | "suse" | "opensuse" | "photon os" | "azure linux" | "mariner" | "mageia"
            | "openeuler" | "centos" | "fedora" | "oracle" | "oracle linux" | "amazon"
            | "amazon linux" => Scheme::Rpm,
            "pypi" => Scheme::Pep440,
            "npm" => Scheme::Npm,
            "go" => Scheme::Go,
            "crates.io" | "pub" | "hex" | "swifturl" | "bitnami" => Scheme::Semver,
            "maven" => Scheme::Maven,
            "rubygems" => Scheme::RubyGems,
            "nuget" => Scheme::NuGet,
            "packagist" => Scheme::Composer,
            _ => Scheme::Generic,
        }
    }

    /// Short lower-case name used in errors and serialized data.
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Dpkg => "dpkg",
            Scheme::Rpm => "rpm",
            Scheme::Apk => "apk",
            Scheme::Apk3 => "apk3",
            Scheme::Pep440 => "pep440",
            Scheme::Semver => "semver",
            Scheme::Npm => "npm",
            Scheme::Go => "go",
            Scheme::Maven => "maven",
            Scheme::RubyGems => "rubygems",
            Scheme::NuGet => "nuget",
            Scheme::Composer => "composer",
            Scheme::Generic => "generic",
        }
    }
}

/// First Alpine release whose package manager is apk-tools 3.
const FIRST_APK3_RELEASE: (u32, u32) = (3, 23);

/// True for `Alpine:vX.Y` (or `Alpine:X.Y`) at or after [`FIRST_APK3_RELEASE`].
fn alpine_uses_apk3(osv_ecosystem: &str) -> bool {
    let Some((_, release)) = osv_ecosystem.split_once(':') else {
        return false;
    };
    let release = release.trim();
    let release = release
        .strip_prefix('v')
        .or_else(|| release.strip_prefix('V'))
        .unwrap_or(release);
    let mut parts = release.split('.');
    let (Some(major), Some(minor)) = (
        parts.next().and_then(|p| p.parse::<u32>().ok()),
        parts.next().and_then(|p| p.parse::<u32>().ok()),
    ) else {
        return false;
    };
    (major, minor) >= FIRST_APK3_RELEASE
}

impl fmt::Display for Scheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
