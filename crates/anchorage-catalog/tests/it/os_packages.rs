//! Distro detection, dpkg and apk catalogers over real corpus files, and the accuracy
//! comparison against Syft 1.18.1's outputs.

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers: a missing corpus file should fail the test loudly"
)]

use std::collections::BTreeMap;
use std::io::Read;

use anchorage_catalog::parsers::{parse_copyright, parse_installed, parse_status};
use anchorage_catalog::{
    CatalogOptions, Package, PackageMetadata, catalog_os_packages, detect_distro,
};
use anchorage_image::MemFs;
use serde_json::Value;

use anchorage_testkit::corpus_dir as corpus;

/// Loads the distro files and package databases of a corpus image into a MemFs at their
/// image paths.
fn image_fs(image: &str) -> MemFs {
    let root = corpus().join("images").join(image);
    let mut fs = MemFs::new();
    for rel in [
        "etc/os-release",
        "etc/debian_version",
        "etc/alpine-release",
        "var/lib/dpkg/status",
        "lib/apk/db/installed",
    ] {
        if let Ok(bytes) = std::fs::read(root.join(rel)) {
            fs.add_file(&format!("/{rel}"), bytes);
        }
    }
    fs
}

fn read_json(rel: &str) -> Value {
    let path = corpus().join("syft").join(rel);
    let bytes = std::fs::read(&path).unwrap();
    let bytes = if rel.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .unwrap();
        out
    } else {
        bytes
    };
    serde_json::from_slice(&bytes).unwrap()
}

#[test]
fn detects_every_corpus_distro() {
    let cases = [
        ("debian-bookworm", "debian", Some("12"), Some("bookworm")),
        ("debian-bullseye", "debian", Some("11"), Some("bullseye")),
        ("debian-trixie", "debian", Some("13"), Some("trixie")),
        (
            "debian-bookworm-app",
            "debian",
            Some("12"),
            Some("bookworm"),
        ),
        ("alpine-3.20", "alpine", Some("3.20.3"), None),
        ("alpine-3.12", "alpine", Some("3.12.12"), None),
    ];
    for (image, id, version, codename) in cases {
        let d = detect_distro(&image_fs(image));
        assert_eq!(d.id, id, "{image}");
        assert_eq!(d.version_id.as_deref(), version, "{image}");
        assert_eq!(d.codename.as_deref(), codename, "{image}");
        assert_eq!(d.evidence.as_deref(), Some("/etc/os-release"), "{image}");
    }
}

#[test]
fn falls_back_to_debian_version_and_alpine_release_files() {
    let root = corpus().join("images");
    let mut fs = MemFs::new();
    fs.add_file(
        "/etc/debian_version",
        std::fs::read(root.join("debian-bullseye/etc/debian_version")).unwrap(),
    );
    let d = detect_distro(&fs);
    assert_eq!(
        (d.id.as_str(), d.version_id.as_deref()),
        ("debian", Some("11"))
    );
    let mut fs = MemFs::new();
    fs.add_file(
        "/etc/alpine-release",
        std::fs::read(root.join("alpine-3.12/etc/alpine-release")).unwrap(),
    );
    let d = detect_distro(&fs);
    assert_eq!(
        (d.id.as_str(), d.version_id.as_deref()),
        ("alpine", Some("3.12.12"))
    );
}

#[test]
fn distroless_status_d_gets_a_distro_from_packages() {
    // Real bookworm paragraphs split into status.d files the way distroless images ship them.
    let status =
        std::fs::read_to_string(corpus().join("images/debian-bookworm/var/lib/dpkg/status"))
            .unwrap();
    let mut fs = MemFs::new();
    for para in status.split("\n\n").filter(|p| !p.trim().is_empty()) {
        let name = para
            .lines()
            .find_map(|l| l.strip_prefix("Package: "))
            .unwrap()
            .to_string();
        fs.add_file(
            &format!("/var/lib/dpkg/status.d/{name}"),
            format!("{para}\n"),
        );
    }
    let d = detect_distro(&fs);
    assert_eq!(d.id, "debian");
    assert_eq!(d.version_id.as_deref(), Some("12"));
    assert_eq!(d.evidence.as_deref(), Some("packages"));
    let (packages, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    assert_eq!(packages.len(), 88);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let bash = packages.iter().find(|p| p.name == "bash").unwrap();
    assert_eq!(bash.locations[0].path, "/var/lib/dpkg/status.d/bash");
    assert!(bash.purl.contains("distro=debian-12"));
}

#[test]
fn synthetic_unknown_distro_still_reports_packages() {
    let root = corpus().join("images");
    let mut fs = MemFs::new();
    fs.add_file("/etc/os-release", "# nothing useful\n");
    fs.add_file(
        "/lib/apk/db/installed",
        std::fs::read(root.join("alpine-3.20/lib/apk/db/installed")).unwrap(),
    );
    // The installed db alone tells alpine (no alpine-release package in minirootfs).
    let (packages, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    assert_eq!(ctx.distro.id, "alpine");
    assert_eq!(packages.len(), 14);
    let empty = MemFs::new();
    assert!(detect_distro(&empty).is_unknown());
}

#[test]
fn dpkg_status_fields_from_real_bookworm() {
    let bytes = std::fs::read(corpus().join("images/debian-bookworm/var/lib/dpkg/status")).unwrap();
    let parsed = parse_status(&bytes);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.packages.len(), 88);
    let bsd = parsed
        .packages
        .iter()
        .find(|e| e.package == "bsdutils")
        .unwrap();
    assert_eq!(bsd.version, "1:2.38.1-5+deb12u3");
    assert_eq!(bsd.source.as_deref(), Some("util-linux"));
    assert_eq!(bsd.source_version.as_deref(), Some("2.38.1-5+deb12u3"));
    assert_eq!(bsd.architecture.as_deref(), Some("amd64"));
    assert!(bsd.installed_size.is_some());
    assert!(bsd.maintainer.as_deref().unwrap().contains('@'));
}

#[test]
fn dpkg_files_md5s_and_licenses_from_this_machines_real_debian_files() {
    // Real Debian 12 data: this machine's dpkg database, bash file list, md5sums, copyright.
    let read = |p: &str| std::fs::read(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let mut fs = MemFs::new();
    fs.add_file("/etc/os-release", read("/etc/os-release"));
    fs.add_file("/var/lib/dpkg/status", read("/var/lib/dpkg/status"));
    for f in ["bash.list", "bash.md5sums"] {
        fs.add_file(
            &format!("/var/lib/dpkg/info/{f}"),
            read(&format!("/var/lib/dpkg/info/{f}")),
        );
    }
    fs.add_file(
        "/usr/share/doc/bash/copyright",
        read("/usr/share/doc/bash/copyright"),
    );
    let (packages, _ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    let bash = packages.iter().find(|p| p.name == "bash").unwrap();
    let PackageMetadata::Dpkg(m) = &bash.metadata else {
        panic!("not dpkg metadata")
    };
    assert!(
        m.files
            .iter()
            .any(|f| f.path == "/usr/bin/bash" || f.path == "/bin/bash")
    );
    let list_lines = String::from_utf8(read("/var/lib/dpkg/info/bash.list")).unwrap();
    assert_eq!(
        m.files
            .iter()
            .filter(|f| list_lines.lines().any(|l| l == f.path))
            .count(),
        list_lines.lines().filter(|l| *l != "/.").count()
    );
    let md5_line = String::from_utf8(read("/var/lib/dpkg/info/bash.md5sums")).unwrap();
    let (md5, rel) = md5_line.lines().next().unwrap().split_once("  ").unwrap();
    let f = m
        .files
        .iter()
        .find(|f| f.path == format!("/{rel}"))
        .unwrap();
    assert_eq!(f.digest.as_ref().unwrap().value, md5);
    assert!(
        bash.licenses.contains(&"GPL-3.0-or-later".to_string()),
        "{:?}",
        bash.licenses
    );
    let paths: Vec<&str> = bash.locations.iter().map(|l| l.path.as_str()).collect();
    assert_eq!(paths[0], "/var/lib/dpkg/status");
    assert!(paths.contains(&"/usr/share/doc/bash/copyright"));
}

#[test]
fn copyright_licenses_match_syft_for_same_versions_on_this_machine() {
    // Syft read copyright files of the bookworm image; this machine is Debian 12 too, so for
    // packages installed here at the same version the copyright file is the same file.
    let local = parse_status(&std::fs::read("/var/lib/dpkg/status").unwrap()).packages;
    let cdx = read_json("debian-bookworm.cdx.json");
    let mut compared = 0;
    let mut differences = Vec::new();
    for c in cdx["components"].as_array().unwrap() {
        let name = c["name"].as_str().unwrap();
        let version = c["version"].as_str().unwrap();
        if !local
            .iter()
            .any(|e| e.package == name && e.version == version)
        {
            continue;
        }
        let Ok(bytes) = std::fs::read(format!("/usr/share/doc/{name}/copyright")) else {
            continue;
        };
        let mut syft: Vec<String> = c["licenses"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|l| {
                        l["license"]["id"]
                            .as_str()
                            .or(l["license"]["name"].as_str())
                            .map(str::to_string)
                    })
                    .collect()
            })
            .unwrap_or_default();
        syft.sort();
        let mut ours = parse_copyright(&bytes);
        ours.sort();
        compared += 1;
        if ours != syft {
            differences.push(format!("{name} {version}: ours {ours:?} syft {syft:?}"));
        }
    }
    assert!(differences.is_empty(), "{}", differences.join("\n"));
    let is_debian12 =
        std::fs::read_to_string("/etc/debian_version").is_ok_and(|v| v.starts_with("12"));
    if is_debian12 {
        assert!(compared >= 10, "only {compared} packages compared");
    }
}

#[test]
fn apk_fields_from_real_alpine() {
    let bytes = std::fs::read(corpus().join("images/alpine-3.20/lib/apk/db/installed")).unwrap();
    let parsed = parse_installed(&bytes);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.packages.len(), 14);
    let ssl = parsed
        .packages
        .iter()
        .find(|p| p.name == "libssl3")
        .unwrap();
    assert_eq!(ssl.origin.as_deref(), Some("openssl"));
    assert_eq!(ssl.arch.as_deref(), Some("x86_64"));
    assert!(ssl.license.is_some());
    let with_digest = ssl.files.iter().filter(|f| f.digest.is_some()).count();
    assert!(with_digest > 0 && ssl.files.iter().all(|f| f.path.starts_with('/')));
    let d = ssl.files.iter().find_map(|f| f.digest.as_ref()).unwrap();
    assert_eq!((d.algorithm.as_str(), d.value.len()), ("sha1", 40));
}

/// Our OS packages keyed by purl with (name, version, source, arch).
fn ours(image: &str) -> BTreeMap<String, Package> {
    let (packages, ctx) = catalog_os_packages(&image_fs(image), &CatalogOptions::default());
    assert!(ctx.warnings.is_empty(), "{image}: {:?}", ctx.warnings);
    packages.into_iter().map(|p| (p.purl.clone(), p)).collect()
}

fn source_of(p: &Package) -> String {
    match (&p.source_name, &p.source_version) {
        (Some(s), Some(v)) => format!("{s}@{v}"),
        (Some(s), None) => s.clone(),
        _ => String::new(),
    }
}

#[test]
fn accuracy_debian_bookworm_equals_syft_cyclonedx() {
    let cdx = read_json("debian-bookworm.cdx.json");
    let ours = ours("debian-bookworm");
    let syft: BTreeMap<String, &Value> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| {
            c["purl"]
                .as_str()
                .is_some_and(|p| p.starts_with("pkg:deb/"))
        })
        .map(|c| (c["purl"].as_str().unwrap().to_string(), c))
        .collect();
    assert_eq!(syft.len(), 88);
    let only_ours: Vec<&String> = ours.keys().filter(|k| !syft.contains_key(*k)).collect();
    let only_syft: Vec<&String> = syft.keys().filter(|k| !ours.contains_key(*k)).collect();
    assert!(
        only_ours.is_empty() && only_syft.is_empty(),
        "ours only {only_ours:?}\nsyft only {only_syft:?}"
    );
    for (purl, c) in &syft {
        let p = &ours[purl];
        assert_eq!(p.name, c["name"].as_str().unwrap());
        assert_eq!(p.version, c["version"].as_str().unwrap());
        assert_eq!(p.cpes[0], c["cpe"].as_str().unwrap(), "{purl}");
    }
}

#[test]
fn accuracy_debian_bookworm_app_equals_syft_json() {
    let doc = read_json("debian-bookworm-app.syft.json.gz");
    let ours = ours("debian-bookworm-app");
    let mut syft = BTreeMap::new();
    for a in doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "deb")
    {
        let m = &a["metadata"];
        let source = match (
            m["source"].as_str().unwrap_or(""),
            m["sourceVersion"].as_str().unwrap_or(""),
        ) {
            ("", _) => String::new(),
            (s, "") => s.to_string(),
            (s, v) => format!("{s}@{v}"),
        };
        syft.insert(
            a["purl"].as_str().unwrap().to_string(),
            (
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap().to_string(),
                source,
                m["architecture"].as_str().unwrap_or("").to_string(),
            ),
        );
    }
    assert_eq!(syft.len(), 123);
    let ours_rows: BTreeMap<String, (String, String, String, String)> = ours
        .iter()
        .map(|(k, p)| {
            (
                k.clone(),
                (
                    p.name.clone(),
                    p.version.clone(),
                    source_of(p),
                    p.arch.clone().unwrap_or_default(),
                ),
            )
        })
        .collect();
    assert_eq!(ours_rows, syft);
    // Installed-Size and Maintainer as Syft read them.
    for a in doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "deb")
    {
        let p = &ours[a["purl"].as_str().unwrap()];
        let PackageMetadata::Dpkg(m) = &p.metadata else {
            panic!()
        };
        assert_eq!(
            m.installed_size_kib,
            a["metadata"]["installedSize"].as_u64()
        );
        assert_eq!(
            m.maintainer.as_deref(),
            a["metadata"]["maintainer"].as_str()
        );
    }
}

#[test]
fn accuracy_alpine_3_20_equals_syft_json() {
    let doc = read_json("alpine-3.20.syft.json");
    let ours = ours("alpine-3.20");
    let mut syft = BTreeMap::new();
    for a in doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["type"] == "apk")
    {
        let m = &a["metadata"];
        syft.insert(
            a["purl"].as_str().unwrap().to_string(),
            (
                a["name"].as_str().unwrap().to_string(),
                a["version"].as_str().unwrap().to_string(),
                m["originPackage"].as_str().unwrap_or("").to_string(),
                m["architecture"].as_str().unwrap_or("").to_string(),
            ),
        );
    }
    assert_eq!(syft.len(), 14);
    let ours_rows: BTreeMap<String, (String, String, String, String)> = ours
        .iter()
        .map(|(k, p)| {
            (
                k.clone(),
                (
                    p.name.clone(),
                    p.version.clone(),
                    source_of(p),
                    p.arch.clone().unwrap_or_default(),
                ),
            )
        })
        .collect();
    assert_eq!(ours_rows, syft);
    for a in doc["artifacts"].as_array().unwrap() {
        let p = &ours[a["purl"].as_str().unwrap()];
        let syft_licenses: Vec<&str> = a["licenses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["value"].as_str().unwrap())
            .collect();
        assert_eq!(
            p.licenses.iter().map(String::as_str).collect::<Vec<_>>(),
            syft_licenses,
            "{}",
            p.name
        );
        let PackageMetadata::Apk(m) = &p.metadata else {
            panic!()
        };
        let syft_files = a["metadata"]["files"].as_array().unwrap();
        for f in &m.files {
            let s = syft_files
                .iter()
                .find(|s| s["path"] == f.path.as_str())
                .unwrap();
            assert_eq!(f.digest.is_some(), s["digest"].is_object(), "{}", f.path);
        }
        assert_eq!(
            m.files.iter().filter(|f| f.digest.is_some()).count(),
            syft_files
                .iter()
                .filter(|f| f["digest"].is_object())
                .count()
        );
    }
}

#[test]
fn other_corpus_images_catalog_cleanly() {
    for (image, count) in [
        ("debian-bullseye", 96),
        ("debian-trixie", 78),
        ("alpine-3.12", 14),
    ] {
        let ours = ours(image);
        assert_eq!(ours.len(), count, "{image}");
    }
}
