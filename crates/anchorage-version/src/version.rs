//! The parsed [`Version`] and the [`compare`] entry points.

use std::cmp::Ordering;
use std::fmt;

use crate::{
    Scheme, VersionError, apk, apk3, composer, dpkg, gem, generic, maven, nuget, pep440, rpm,
    semverish,
};

/// Longest version string accepted by any scheme; longer input is rejected without parsing.
pub const MAX_VERSION_LEN: usize = 4096;

#[derive(Debug, Clone)]
enum Parsed {
    Dpkg(dpkg::DpkgVersion),
    Rpm(rpm::RpmVersion),
    Apk(apk::ApkVersion),
    Apk3(apk3::Apk3Version),
    Pep440(pep440::Pep440Version),
    Semver(semverish::SemverVersion),
    Maven(maven::Item),
    Gem(gem::GemVersion),
    NuGet(nuget::NuGetVersion),
    Composer(composer::ComposerVersion),
    Generic(generic::GenericVersion),
}

/// A version parsed under one [`Scheme`]. Ordered by the scheme's own rules; versions of
/// different schemes order by scheme first (an arbitrary but total order). Equality is
/// equivalence under the scheme (`1.0` == `1.00` in dpkg), so there is no `Hash`.
#[derive(Debug, Clone)]
pub struct Version {
    scheme: Scheme,
    original: String,
    parsed: Parsed,
}

impl Version {
    /// Parses `s` under `scheme`, rejecting what the ecosystem's own tool rejects.
    pub fn parse(scheme: Scheme, s: &str) -> Result<Version, VersionError> {
        if s.len() > MAX_VERSION_LEN {
            return Err(VersionError::invalid(
                scheme,
                s,
                format!("longer than {MAX_VERSION_LEN} bytes"),
            ));
        }
        let parsed = match scheme {
            Scheme::Dpkg => dpkg::parse(s).map(Parsed::Dpkg),
            Scheme::Rpm => rpm::parse(s).map(Parsed::Rpm),
            Scheme::Apk => apk::parse(s).map(Parsed::Apk),
            Scheme::Apk3 => apk3::parse(s).map(Parsed::Apk3),
            Scheme::Pep440 => pep440::parse(s).map(Parsed::Pep440),
            Scheme::Semver => semverish::parse_strict(s).map(Parsed::Semver),
            Scheme::Npm => semverish::parse_npm(s).map(Parsed::Semver),
            Scheme::Go => semverish::parse_go(s).map(Parsed::Semver),
            Scheme::Maven => maven::parse(s).map(Parsed::Maven),
            Scheme::RubyGems => gem::parse(s).map(Parsed::Gem),
            Scheme::NuGet => nuget::parse(s).map(Parsed::NuGet),
            Scheme::Composer => composer::parse(s).map(Parsed::Composer),
            Scheme::Generic => generic::parse(s).map(Parsed::Generic),
        }
        .map_err(|reason| VersionError::invalid(scheme, s, reason))?;
        Ok(Version {
            scheme,
            original: s.to_string(),
            parsed,
        })
    }

    /// Parses a version taken from an advisory: the strict form first, then the form the
    /// ecosystem's OSV consumers coerce it to ([`crate::coerce_advisory_version`]), so a
    /// record saying `introduced: "1.0"` for npm is read as `1.0.0` instead of being skipped.
    /// The error is the strict parser's.
    pub fn parse_advisory(scheme: Scheme, s: &str) -> Result<Version, VersionError> {
        match Version::parse(scheme, s) {
            Ok(v) => Ok(v),
            Err(e) => crate::coerce_advisory_version(scheme, s)
                .and_then(|c| Version::parse(scheme, &c).ok())
                .ok_or(e),
        }
    }

    /// The scheme this version was parsed with.
    pub fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// The string as given to [`Version::parse`].
    pub fn as_str(&self) -> &str {
        &self.original
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        match (&self.parsed, &other.parsed) {
            (Parsed::Dpkg(a), Parsed::Dpkg(b)) => dpkg::cmp(a, b),
            (Parsed::Rpm(a), Parsed::Rpm(b)) => rpm::cmp(a, b),
            (Parsed::Apk(a), Parsed::Apk(b)) => apk::cmp(a, b),
            (Parsed::Apk3(a), Parsed::Apk3(b)) => apk3::cmp(a, b),
            (Parsed::Pep440(a), Parsed::Pep440(b)) => pep440::cmp(a, b),
            (Parsed::Semver(a), Parsed::Semver(b)) if self.scheme == other.scheme => {
                semverish::cmp(a, b)
            }
            (Parsed::Maven(a), Parsed::Maven(b)) => maven::cmp(a, b),
            (Parsed::Gem(a), Parsed::Gem(b)) => gem::cmp(a, b),
            (Parsed::NuGet(a), Parsed::NuGet(b)) => nuget::cmp(a, b),
            (Parsed::Composer(a), Parsed::Composer(b)) => composer::cmp(a, b),
            (Parsed::Generic(a), Parsed::Generic(b)) => generic::cmp(a, b),
            _ => self.scheme.cmp(&other.scheme),
        }
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

/// Compares two version strings under `scheme`; an error names the string that is invalid.
pub fn compare(scheme: Scheme, a: &str, b: &str) -> Result<Ordering, VersionError> {
    Ok(Version::parse(scheme, a)?.cmp(&Version::parse(scheme, b)?))
}

/// node-semver `compareBuild` (npm): precedence first, then build metadata, a version without
/// build metadata sorting first. Used where a total order including `+build` is wanted.
pub fn compare_npm_build(a: &str, b: &str) -> Result<Ordering, VersionError> {
    let pa = semverish::parse_npm(a).map_err(|r| VersionError::invalid(Scheme::Npm, a, r))?;
    let pb = semverish::parse_npm(b).map_err(|r| VersionError::invalid(Scheme::Npm, b, r))?;
    Ok(semverish::cmp_npm_build(&pa, &pb))
}
