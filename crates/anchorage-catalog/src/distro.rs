//! Distribution detection from the release files of the image, with a fallback to the package
//! databases for distroless images (dpkg `status.d/` without an os-release file).

use anchorage_image::ImageFs;

use crate::model::Distro;
use crate::os::apk;
use crate::os::dpkg;

/// Largest release file read, bytes.
const MAX_RELEASE_FILE: u64 = 64 * 1024;
/// Largest package database read for the fallback, bytes.
const MAX_FALLBACK_DB: u64 = 64 * 1024 * 1024;

/// Detects the distribution. Never fails: an image whose distribution cannot be told gets
/// [`Distro::unknown`].
pub fn detect_distro(fs: &dyn ImageFs) -> Distro {
    for path in ["/etc/os-release", "/usr/lib/os-release"] {
        if let Ok(bytes) = fs.read_limited(path, MAX_RELEASE_FILE) {
            let distro = parse_os_release(&String::from_utf8_lossy(&bytes), path);
            if !distro.is_unknown() {
                return distro;
            }
        }
    }
    if let Ok(bytes) = fs.read_limited("/etc/alpine-release", MAX_RELEASE_FILE) {
        let version = String::from_utf8_lossy(&bytes).trim().to_string();
        return Distro {
            id: "alpine".into(),
            version_id: non_empty(version),
            evidence: Some("/etc/alpine-release".into()),
            ..Distro::default()
        };
    }
    for path in [
        "/etc/rocky-release",
        "/etc/almalinux-release",
        "/etc/centos-release",
        "/etc/fedora-release",
        "/etc/redhat-release",
        "/etc/system-release",
    ] {
        if let Ok(bytes) = fs.read_limited(path, MAX_RELEASE_FILE)
            && let Some(d) = parse_redhat_release(&String::from_utf8_lossy(&bytes), path)
        {
            return d;
        }
    }
    if let Ok(bytes) = fs.read_limited("/etc/debian_version", MAX_RELEASE_FILE) {
        return parse_debian_version(&String::from_utf8_lossy(&bytes));
    }
    from_packages(fs).unwrap_or_else(Distro::unknown)
}

fn non_empty(s: String) -> Option<String> {
    if s.is_empty() { None } else { Some(s) }
}

/// Parses an os-release file (`KEY=value`, values optionally quoted with shell escapes).
pub(crate) fn parse_os_release(text: &str, evidence: &str) -> Distro {
    let mut distro = Distro::unknown();
    let mut name: Option<String> = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw)) = line.split_once('=') else {
            continue;
        };
        let value = unquote(raw.trim());
        match key.trim() {
            "ID" => distro.id = value.to_ascii_lowercase(),
            "VERSION_ID" => distro.version_id = non_empty(value),
            "VERSION_CODENAME" => distro.codename = non_empty(value),
            "ID_LIKE" => {
                distro.id_like = value.split_whitespace().map(str::to_string).collect();
            }
            "PRETTY_NAME" => distro.pretty_name = non_empty(value),
            "NAME" => name = non_empty(value),
            _ => {}
        }
    }
    if distro.id.is_empty() || distro.id == "unknown" {
        // Some os-release files carry NAME only.
        if let Some(n) = name {
            distro.id = n
                .split_whitespace()
                .next()
                .unwrap_or("unknown")
                .to_ascii_lowercase();
        } else {
            return Distro::unknown();
        }
    }
    if distro.codename.is_none() && distro.id == "debian" {
        // Debian's os-release before 10 had the codename only in VERSION ("9 (stretch)").
        distro.codename = text.lines().find_map(|l| {
            let v = l.strip_prefix("VERSION=")?;
            let v = unquote(v.trim());
            let open = v.find('(')?;
            let close = v[open..].find(')')? + open;
            non_empty(v[open + 1..close].to_string())
        });
    }
    distro.evidence = Some(evidence.to_string());
    distro
}

fn unquote(raw: &str) -> String {
    let quote = raw.chars().next();
    if let Some(q @ ('"' | '\'')) = quote {
        let inner = raw[1..].strip_suffix(q).unwrap_or(&raw[1..]);
        if q == '\'' {
            return inner.to_string();
        }
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                if let Some(n) = chars.next() {
                    out.push(n);
                }
            } else {
                out.push(c);
            }
        }
        out
    } else {
        raw.to_string()
    }
}

/// Parses `Rocky Linux release 9.3 (Blue Onyx)` style files.
fn parse_redhat_release(text: &str, evidence: &str) -> Option<Distro> {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty())?;
    let lower = line.to_ascii_lowercase();
    let id = if lower.starts_with("rocky") {
        "rocky"
    } else if lower.starts_with("almalinux") {
        "almalinux"
    } else if lower.starts_with("centos") {
        "centos"
    } else if lower.starts_with("fedora") {
        "fedora"
    } else if lower.starts_with("red hat") {
        "rhel"
    } else if lower.starts_with("amazon") {
        "amzn"
    } else if lower.starts_with("oracle") {
        "ol"
    } else {
        return None;
    };
    let version = lower
        .split_once(" release ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .map(str::to_string);
    let codename = line.find('(').and_then(|o| {
        line[o + 1..]
            .find(')')
            .map(|c| line[o + 1..o + 1 + c].to_string())
    });
    Some(Distro {
        id: id.to_string(),
        version_id: version,
        codename,
        id_like: if id == "fedora" {
            Vec::new()
        } else {
            vec!["rhel".into(), "fedora".into()]
        },
        pretty_name: Some(line.to_string()),
        evidence: Some(evidence.to_string()),
    })
}

fn parse_debian_version(text: &str) -> Distro {
    let value = text.trim();
    let major = value
        .split(['.', '/'])
        .next()
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_string);
    let codename = if major.is_none() {
        value
            .split('/')
            .next()
            .and_then(|s| non_empty(s.to_string()))
    } else {
        None
    };
    Distro {
        id: "debian".into(),
        version_id: major,
        codename,
        evidence: Some("/etc/debian_version".into()),
        ..Distro::default()
    }
}

/// Infers the distribution from package databases when no release file exists (distroless).
fn from_packages(fs: &dyn ImageFs) -> Option<Distro> {
    let mut dpkg_entries = Vec::new();
    if let Ok(bytes) = fs.read_limited("/var/lib/dpkg/status", MAX_FALLBACK_DB) {
        dpkg_entries.extend(dpkg::parse_status(&bytes).packages);
    }
    for entry in fs.entries_under("/var/lib/dpkg/status.d") {
        if let Some(rest) = entry.path.strip_prefix("/var/lib/dpkg/status.d/") {
            if rest.contains('/') || rest.ends_with(".md5sums") {
                continue;
            }
            if let Ok(bytes) = fs.read_limited(&entry.path, MAX_FALLBACK_DB) {
                dpkg_entries.extend(dpkg::parse_status(&bytes).packages);
            }
        }
    }
    if !dpkg_entries.is_empty() {
        let base = dpkg_entries.iter().find(|e| e.package == "base-files");
        let mut distro = Distro {
            id: "debian".into(),
            evidence: Some("packages".into()),
            ..Distro::default()
        };
        if let Some(base) = base {
            if base.version.contains("ubuntu") {
                distro.id = "ubuntu".into();
                // Ubuntu base-files versions are `13ubuntu10` for 24.04; not a release number.
            } else {
                distro.version_id = base
                    .version
                    .split(['.', '+', '-'])
                    .next()
                    .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                    .map(str::to_string);
            }
        }
        return Some(distro);
    }
    if let Some(d) = from_rpm_release_package(fs) {
        return Some(d);
    }
    if let Ok(bytes) = fs.read_limited("/lib/apk/db/installed", MAX_FALLBACK_DB) {
        let parsed = apk::parse_installed(&bytes);
        if !parsed.packages.is_empty() {
            let version = parsed
                .packages
                .iter()
                .find(|p| p.name == "alpine-release")
                .and_then(|p| p.version.split("-r").next().map(str::to_string));
            return Some(Distro {
                id: "alpine".into(),
                version_id: version,
                evidence: Some("packages".into()),
                ..Distro::default()
            });
        }
    }
    None
}

/// The distro's `*-release` rpm (`sles-release`, `rocky-release`, ...) names it and its version.
fn from_rpm_release_package(fs: &dyn ImageFs) -> Option<Distro> {
    use crate::os::rpm::{BdbFormat, NdbFormat, RpmDbFormat, SqliteFormat, read_database};
    const RELEASE_PACKAGES: [(&str, &str); 10] = [
        ("redhat-release", "rhel"),
        ("centos-release", "centos"),
        ("centos-stream-release", "centos"),
        ("rocky-release", "rocky"),
        ("almalinux-release", "almalinux"),
        ("fedora-release-common", "fedora"),
        ("fedora-release", "fedora"),
        ("sles-release", "sles"),
        ("openSUSE-release", "opensuse-leap"),
        ("oraclelinux-release", "ol"),
    ];
    for dir in ["/var/lib/rpm", "/usr/lib/sysimage/rpm"] {
        let formats: [(&str, &dyn RpmDbFormat); 3] = [
            ("rpmdb.sqlite", &SqliteFormat),
            ("Packages", &BdbFormat),
            ("Packages.db", &NdbFormat),
        ];
        for (file, format) in formats {
            let path = format!("{dir}/{file}");
            let Ok(bytes) = fs.read_limited(&path, MAX_FALLBACK_DB) else {
                continue;
            };
            let headers = read_database(format, &bytes, None).packages;
            for (package, id) in RELEASE_PACKAGES {
                if let Some(h) = headers.iter().find(|h| h.name == package) {
                    return Some(Distro {
                        id: id.to_string(),
                        version_id: Some(h.version.clone()),
                        evidence: Some("packages".into()),
                        ..Distro::default()
                    });
                }
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_quoted_values_and_id_like() {
        let d = parse_os_release(
            "NAME=\"Rocky Linux\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n",
            "/etc/os-release",
        );
        assert_eq!(d.id, "rocky");
        assert_eq!(d.version_id.as_deref(), Some("9.3"));
        assert_eq!(d.id_like, vec!["rhel", "centos", "fedora"]);
    }

    #[test]
    fn parses_redhat_release_line() {
        let d = parse_redhat_release(
            "Rocky Linux release 9.3 (Blue Onyx)\n",
            "/etc/redhat-release",
        )
        .unwrap();
        assert_eq!(d.id, "rocky");
        assert_eq!(d.version_id.as_deref(), Some("9.3"));
        assert_eq!(d.codename.as_deref(), Some("Blue Onyx"));
    }
}
