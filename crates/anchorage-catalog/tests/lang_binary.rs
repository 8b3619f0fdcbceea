//! Binary classifiers on real host binaries. Each version found is checked against the
//! upstream part of the owning Debian package's version in the host's dpkg database (the
//! ground truth); binaries missing locally are skipped with a note, and are required in CI.
#![allow(clippy::unwrap_used)]

mod lang_support;

use anchorage_catalog::PackageMetadata;
use anchorage_image::MemFs;
use anchorage_types::PackageType;
use lang_support::{host_file, run};

/// Upstream version of an installed Debian package (epoch and revision removed).
fn dpkg_upstream(package: &str) -> Option<String> {
    let status = std::fs::read_to_string("/var/lib/dpkg/status").ok()?;
    for para in status.split("\n\n") {
        if para.lines().any(|l| l == format!("Package: {package}")) {
            let v = para.lines().find_map(|l| l.strip_prefix("Version: "))?;
            let v = v.split_once(':').map(|(_, r)| r).unwrap_or(v);
            return Some(v.rsplit_once('-').map(|(u, _)| u).unwrap_or(v).to_string());
        }
    }
    None
}

fn classify(path: &str, apt: &str, extra: &[(&str, &str)]) -> Option<(String, String, String)> {
    let bytes = host_file(path, apt)?;
    let mut fs = MemFs::new();
    fs.add_file(path, bytes);
    for (p, host) in extra {
        fs.add_file(p, std::fs::read(host).unwrap());
    }
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let bins: Vec<_> = pkgs
        .iter()
        .filter(|p| p.package_type == PackageType::Binary)
        .collect();
    assert_eq!(bins.len(), 1, "{path}: {pkgs:?}");
    let p = bins[0];
    assert_eq!(p.locations[0].path, path);
    let PackageMetadata::Binary(m) = &p.metadata else {
        panic!()
    };
    assert!(!m.matched.is_empty());
    Some((p.name.clone(), p.version.clone(), m.classifier.clone()))
}

fn check(path: &str, apt: &str, dpkg_package: &str, name: &str) {
    let Some((n, v, _)) = classify(path, apt, &[]) else {
        return;
    };
    assert_eq!(n, name);
    let truth = dpkg_upstream(dpkg_package).expect("dpkg knows the package");
    assert!(
        truth.starts_with(&v),
        "{path}: classifier says {v}, dpkg says {truth}"
    );
}

#[test]
fn python() {
    check(
        "/usr/bin/python3.11",
        "python3.11-minimal",
        "python3.11-minimal",
        "python",
    );
}

#[test]
fn node() {
    check("/usr/bin/node", "nodejs", "nodejs", "node");
}

#[test]
fn openssl_libcrypto() {
    check(
        "/usr/lib/x86_64-linux-gnu/libcrypto.so.3",
        "libssl3",
        "libssl3",
        "openssl",
    );
}

#[test]
fn bash() {
    check("/usr/bin/bash", "bash", "bash", "bash");
}

#[test]
fn curl_and_libcurl() {
    check("/usr/bin/curl", "curl", "curl", "curl");
    check(
        "/usr/lib/x86_64-linux-gnu/libcurl.so.4.8.0",
        "libcurl4",
        "libcurl4",
        "curl",
    );
}

#[test]
fn redis() {
    check(
        "/usr/bin/redis-server",
        "redis-tools",
        "redis-tools",
        "redis",
    );
}

#[test]
fn postgres() {
    check(
        "/usr/lib/postgresql/15/bin/postgres",
        "postgresql-15",
        "postgresql-15",
        "postgresql",
    );
}

#[test]
fn busybox() {
    check("/usr/bin/busybox", "busybox", "busybox", "busybox");
}

#[test]
fn nginx() {
    check("/usr/sbin/nginx", "nginx", "nginx-core", "nginx");
}

#[test]
fn jdk_release_file() {
    let jdk = "/usr/lib/jvm/java-17-openjdk-amd64";
    let java = format!("{jdk}/bin/java");
    let Some((n, v, c)) = classify(
        &format!("{jdk}/release"),
        "openjdk-17-jre-headless",
        &[(&java, &java)],
    ) else {
        return;
    };
    assert_eq!((n.as_str(), c.as_str()), ("openjdk", "java-release"));
    let truth = dpkg_upstream("openjdk-17-jre-headless").unwrap();
    assert!(truth.starts_with(&v), "{v} vs {truth}");
}

#[test]
fn python_classifier_ignores_versions_of_other_minor_releases() {
    // Real bytes of the python3.11 interpreter, stored under a python3.9 name: the 3.11.x
    // string must not be reported as python 3.9.
    let Some(bytes) = host_file("/usr/bin/python3.11", "python3.11-minimal") else {
        return;
    };
    let mut fs = MemFs::new();
    fs.add_file("/usr/bin/python3.9", bytes);
    let (pkgs, _) = run(&fs);
    assert!(
        pkgs.iter().all(|p| p.package_type != PackageType::Binary),
        "{pkgs:?}"
    );
}
