//! Binary classifiers on real host binaries. Each version found is checked against the
//! upstream part of the owning Debian package's version in the host's dpkg database (the
//! ground truth); binaries missing locally are skipped with a note, and are required in CI.
#![allow(clippy::unwrap_used)]

use crate::lang_support;

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
    // JAVA_RUNTIME_VERSION (17.0.15+6-Debian-1deb12u1) carries dpkg's upstream (17.0.15+6)
    let truth = dpkg_upstream("openjdk-17-jre-headless").unwrap();
    assert!(v.starts_with(&truth), "{v} vs {truth}");
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

/// Like [`check`], and also asserts the classifier (rule) name.
fn check_class(path: &str, apt: &str, dpkg_package: &str, name: &str, class: &str) {
    let Some((n, v, c)) = classify(path, apt, &[]) else {
        return;
    };
    assert_eq!((n.as_str(), c.as_str()), (name, class), "{path}");
    let truth = dpkg_upstream(dpkg_package).expect("dpkg knows the package");
    assert!(
        truth.starts_with(&v),
        "{path}: classifier says {v}, dpkg says {truth}"
    );
}

#[test]
fn haproxy() {
    check_class(
        "/usr/sbin/haproxy",
        "haproxy",
        "haproxy",
        "haproxy",
        "haproxy-binary",
    );
}

#[test]
fn memcached() {
    check_class(
        "/usr/bin/memcached",
        "memcached",
        "memcached",
        "memcached",
        "memcached-binary",
    );
}

#[test]
fn httpd_debian_apache2() {
    check_class(
        "/usr/sbin/apache2",
        "apache2-bin",
        "apache2-bin",
        "httpd",
        "httpd-binary",
    );
}

#[test]
fn php_cli_versioned_name() {
    check_class(
        "/usr/bin/php8.2",
        "php8.2-cli",
        "php8.2-cli",
        "php-cli",
        "php-cli-binary",
    );
}

#[test]
fn perl() {
    check_class(
        "/usr/bin/perl",
        "perl-base",
        "perl-base",
        "perl",
        "perl-binary",
    );
}

#[test]
fn sqlite_library() {
    check_class(
        "/usr/lib/x86_64-linux-gnu/libsqlite3.so.0.8.6",
        "libsqlite3-0",
        "libsqlite3-0",
        "sqlite",
        "sqlite-library",
    );
}

#[test]
fn mariadb_server_and_client_named_mysql() {
    check_class(
        "/usr/sbin/mariadbd",
        "mariadb-server-core",
        "mariadb-server-core",
        "mariadb",
        "mariadb-binary",
    );
    // Debian's MariaDB client is also installed as `mysql`: MariaDB, not Oracle MySQL
    let Some(bytes) = host_file("/usr/bin/mariadb", "mariadb-client-core") else {
        return;
    };
    let mut fs = MemFs::new();
    fs.add_file("/usr/bin/mysql", bytes);
    let (pkgs, _) = run(&fs);
    let names: Vec<_> = pkgs.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, vec!["mariadb"]);
}

#[test]
fn erlang_beam() {
    check_class(
        "/usr/lib/erlang/erts-13.1.5/bin/beam.smp",
        "erlang-base",
        "erlang-base",
        "erlang",
        "erlang-binary",
    );
}

#[test]
fn glibc() {
    check_class(
        "/usr/lib/x86_64-linux-gnu/libc.so.6",
        "libc6",
        "libc6",
        "glibc",
        "glibc-binary",
    );
}

#[test]
fn gcc_driver() {
    check_class(
        "/usr/bin/x86_64-linux-gnu-gcc-12",
        "gcc-12",
        "gcc-12",
        "gcc",
        "gcc-binary",
    );
}

#[test]
fn go_toolchain() {
    check_class(
        "/usr/lib/go-1.19/bin/go",
        "golang-1.19-go",
        "golang-1.19-go",
        "go",
        "go-binary",
    );
}

#[test]
fn ruby_library_with_patchlevel() {
    let path = "/usr/lib/x86_64-linux-gnu/libruby-3.1.so.3.1.2";
    let Some((n, v, c)) = classify(path, "libruby3.1", &[]) else {
        return;
    };
    assert_eq!((n.as_str(), c.as_str()), ("ruby", "ruby-binary"));
    // Debian's 3.1.7+really3.1.2 ships ruby 3.1.2, patch level 20
    assert_eq!(v, "3.1.2p20");
    let truth = dpkg_upstream("libruby3.1").unwrap();
    assert!(truth.ends_with("3.1.2"), "{truth}");
}

#[test]
fn java_launcher_without_release_file() {
    let path = "/usr/lib/jvm/java-17-openjdk-amd64/bin/java";
    let Some((n, v, c)) = classify(path, "openjdk-17-jre-headless", &[]) else {
        return;
    };
    assert_eq!((n.as_str(), c.as_str()), ("openjdk", "java-binary-openjdk"));
    let truth = dpkg_upstream("openjdk-17-jre-headless").unwrap();
    assert!(v.starts_with(&truth), "{v} vs {truth}");
}

#[test]
fn jdk_release_file_in_any_directory() {
    // the real Debian release file, unpacked somewhere without a bin/java beside it
    let Some(bytes) = host_file(
        "/usr/lib/jvm/java-17-openjdk-amd64/release",
        "openjdk-17-jre-headless",
    ) else {
        return;
    };
    let mut fs = MemFs::new();
    fs.add_file("/opt/unpacked/jdk/release", bytes);
    let (pkgs, _) = run(&fs);
    assert_eq!(pkgs.len(), 1, "{pkgs:?}");
    let p = &pkgs[0];
    assert_eq!(p.name, "openjdk");
    assert!(
        p.purl.starts_with("pkg:generic/oracle/openjdk@17.0."),
        "{}",
        p.purl
    );
    assert!(
        p.cpes[0].starts_with("cpe:2.3:a:oracle:openjdk:17.0."),
        "{:?}",
        p.cpes
    );
}

#[test]
fn busybox_hard_links_classified_once() {
    // busybox images ship the applets as hard links of one binary
    let Some(bytes) = host_file("/usr/bin/busybox", "busybox") else {
        return;
    };
    let mut fs = MemFs::new();
    fs.add_file("/bin/busybox", bytes);
    fs.add_hardlink("/bin/[", "/bin/busybox");
    fs.add_hardlink("/usr/bin/busybox", "/bin/busybox");
    fs.add_symlink("/bin/sh", "busybox");
    let (pkgs, _) = run(&fs);
    let bins: Vec<_> = pkgs
        .iter()
        .filter(|p| p.package_type == PackageType::Binary)
        .collect();
    assert_eq!(bins.len(), 1, "{bins:?}");
    assert_eq!(bins[0].locations[0].path, "/bin/busybox");
}
