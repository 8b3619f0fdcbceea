//! Cleaning installed-version strings before they are compared: what catalogers record is
//! not always a version of the ecosystem's grammar.

use std::borrow::Cow;

use crate::Scheme;

/// CPU and OS names that start a RubyGems platform (`Gem::Platform`): `x86_64-linux`,
/// `arm64-darwin`, `x64-mingw-ucrt`, `java`, `universal-darwin-21`, ...
const GEM_PLATFORM_HEADS: &[&str] = &[
    "x86_64",
    "x86",
    "x64",
    "i386",
    "i486",
    "i586",
    "i686",
    "aarch64",
    "arm64",
    "arm",
    "armv7",
    "armv6",
    "powerpc",
    "powerpc64",
    "powerpc64le",
    "ppc64",
    "ppc64le",
    "s390x",
    "sparc",
    "riscv64",
    "universal",
    "java",
    "jruby",
    "dalvik",
    "mswin",
    "mswin32",
    "mswin64",
    "mingw",
    "mingw32",
    "cygwin",
    "darwin",
    "linux",
    "freebsd",
    "openbsd",
    "netbsd",
    "solaris",
    "wasm32",
];

/// Normalises an installed version for comparison under `scheme`:
/// - RubyGems: a platform suffix is dropped (`1.13.1-x86_64-linux` -> `1.13.1`; a
///   prerelease such as `1.0.0-beta` is kept);
/// - Go: a toolchain version becomes a module version (`go1.24.1` -> `v1.24.1`, `go1.22` ->
///   `v1.22.0`, `go1.21rc2` -> `v1.21.0-rc.2`);
/// - a `v`/`V` prefix before a digit is dropped for schemes whose grammar has none
///   (SemVer, RubyGems, NuGet, Maven, generic).
///
/// Anything else is returned unchanged; the result is still validated by the scheme's parser.
pub fn clean_version(scheme: Scheme, raw: &str) -> Cow<'_, str> {
    let trimmed = raw.trim();
    match scheme {
        Scheme::Go => go_toolchain(trimmed).map_or(Cow::Borrowed(trimmed), Cow::Owned),
        Scheme::RubyGems => {
            let v = strip_v(trimmed);
            match v.split_once('-') {
                Some((version, platform)) if is_gem_platform(platform) => Cow::Borrowed(version),
                _ => Cow::Borrowed(v),
            }
        }
        Scheme::Semver | Scheme::NuGet | Scheme::Maven | Scheme::Generic => {
            Cow::Borrowed(strip_v(trimmed))
        }
        _ => Cow::Borrowed(trimmed),
    }
}

/// Coerces a version written loosely in an advisory into the scheme's grammar the way the
/// ecosystem's OSV consumers do (osv-scanner and node-semver's `coerce` for npm, Go and
/// SemVer ranges): a `v`/`=` prefix is dropped and a missing minor or patch becomes `0`
/// (`1.0` -> `1.0.0`, `v2` -> `2.0.0`, `1.2-beta.1` -> `1.2.0-beta.1`). `None` when the
/// scheme needs no coercion or the text is not of that shape; callers try the strict form
/// first.
pub fn coerce_advisory_version(scheme: Scheme, raw: &str) -> Option<String> {
    if !matches!(scheme, Scheme::Npm | Scheme::Semver | Scheme::Go) {
        return None;
    }
    let s = raw.trim().trim_start_matches(['=', 'v', 'V']).trim();
    let core_end = s.find(['-', '+']).unwrap_or(s.len());
    let (core, tail) = s.split_at(core_end);
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty()
        || parts.len() > 3
        || parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return None;
    }
    // Leading zeros are not SemVer; node-semver's coerce reads them as numbers.
    let mut numbers: Vec<String> = parts
        .iter()
        .map(|p| {
            let t = p.trim_start_matches('0');
            if t.is_empty() {
                "0".to_string()
            } else {
                t.to_string()
            }
        })
        .collect();
    while numbers.len() < 3 {
        numbers.push("0".to_string());
    }
    let prefix = if scheme == Scheme::Go { "v" } else { "" };
    Some(format!("{prefix}{}{tail}", numbers.join(".")))
}

fn strip_v(s: &str) -> &str {
    match s.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => s,
    }
}

fn is_gem_platform(suffix: &str) -> bool {
    let head = suffix.split('-').next().unwrap_or_default();
    GEM_PLATFORM_HEADS
        .iter()
        .any(|p| head.eq_ignore_ascii_case(p))
}

/// `go1.24.1` -> `v1.24.1`; `None` when `s` is not a Go toolchain version.
fn go_toolchain(s: &str) -> Option<String> {
    let rest = s.strip_prefix("go")?;
    let end = rest
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(rest.len());
    let (numbers, pre) = rest.split_at(end);
    let parts: Vec<&str> = numbers.split('.').collect();
    if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    let mut core: Vec<&str> = parts.clone();
    while core.len() < 3 {
        core.push("0");
    }
    let mut out = format!("v{}", core.join("."));
    if !pre.is_empty() {
        let label_end = pre.find(|c: char| c.is_ascii_digit()).unwrap_or(pre.len());
        let (label, n) = pre.split_at(label_end);
        if !matches!(label, "rc" | "beta" | "alpha") || !n.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        out.push('-');
        out.push_str(label);
        if !n.is_empty() {
            out.push('.');
            out.push_str(n);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare;
    use std::cmp::Ordering;

    #[test]
    fn cleans_installed_versions() {
        let cases = [
            (Scheme::RubyGems, "1.13.1-x86_64-linux", "1.13.1"),
            (Scheme::RubyGems, "1.16.3-arm64-darwin", "1.16.3"),
            (Scheme::RubyGems, "1.15.4-x64-mingw-ucrt", "1.15.4"),
            (Scheme::RubyGems, "9.4.3.0-java", "9.4.3.0"),
            (Scheme::RubyGems, "1.0.0-beta", "1.0.0-beta"),
            (Scheme::RubyGems, "v2.1", "2.1"),
            (Scheme::Go, "go1.24.1", "v1.24.1"),
            (Scheme::Go, "go1.22", "v1.22.0"),
            (Scheme::Go, "go1.21rc2", "v1.21.0-rc.2"),
            (Scheme::Go, "v1.2.3", "v1.2.3"),
            (Scheme::Go, "gopher", "gopher"),
            (Scheme::Semver, "v1.2.3", "1.2.3"),
            (Scheme::Maven, "v2.0", "2.0"),
            (Scheme::Semver, "vendor", "vendor"),
            (Scheme::Dpkg, "1.0-1", "1.0-1"),
        ];
        for (scheme, raw, want) in cases {
            assert_eq!(clean_version(scheme, raw), want, "{scheme} {raw}");
        }
    }

    #[test]
    fn synthetic_loose_advisory_versions_are_coerced() {
        let cases = [
            (Scheme::Npm, "1.0", Some("1.0.0")),
            (Scheme::Npm, "1", Some("1.0.0")),
            (Scheme::Npm, "v2.3", Some("2.3.0")),
            (Scheme::Npm, "=1.2", Some("1.2.0")),
            (Scheme::Npm, "1.2-beta.1", Some("1.2.0-beta.1")),
            (Scheme::Npm, "1.02.3", Some("1.2.3")),
            (Scheme::Go, "1.2", Some("v1.2.0")),
            (Scheme::Semver, "0.3", Some("0.3.0")),
            (Scheme::Npm, "1.2.3.4", None),
            (Scheme::Npm, "latest", None),
            (Scheme::Pep440, "1.0", None),
        ];
        for (scheme, raw, want) in cases {
            assert_eq!(
                coerce_advisory_version(scheme, raw).as_deref(),
                want,
                "{scheme} {raw}"
            );
        }
    }

    #[test]
    fn cleaned_versions_compare() {
        let c = |s, a, b| compare(s, &clean_version(s, a), &clean_version(s, b)).unwrap();
        assert_eq!(
            c(Scheme::RubyGems, "1.13.1-x86_64-linux", "1.13.2"),
            Ordering::Less
        );
        assert_eq!(c(Scheme::Go, "go1.24.1", "v1.24.2"), Ordering::Less);
        assert_eq!(c(Scheme::Go, "go1.21rc2", "v1.21.0"), Ordering::Less);
        assert_eq!(c(Scheme::Semver, "v1.2.3", "1.2.3"), Ordering::Equal);
        // Without cleaning these do not parse at all.
        assert!(!matches!(
            compare(Scheme::RubyGems, "1.13.1-x86_64-linux", "1.13.2"),
            Ok(Ordering::Less)
        ));
        assert!(compare(Scheme::Go, "go1.24.1", "v1.24.2").is_err());
    }
}
