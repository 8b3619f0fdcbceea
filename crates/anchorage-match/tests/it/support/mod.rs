//! Test-only loaders: real `Analysis` values from the corpus package databases (dpkg status,
//! apk installed, the bookworm-app venv list, node_modules and jar pom.properties), and a
//! vulnerability store synced from the corpus feeds.

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::path::Path;

use anchorage_catalog::{Analysis, Distro, ImageMetadata, Package, SourceInfo};
use anchorage_types::{Location, PackageType};
use anchorage_vulndb::{FeedSource, Store, SyncOptions};

pub use anchorage_testkit::corpus_dir as corpus;

fn pkg(
    name: &str,
    version: &str,
    t: PackageType,
    purl: String,
    path: &str,
    source: Option<(String, Option<String>)>,
) -> Package {
    let (source_name, source_version) = match source {
        Some((n, v)) => (Some(n), v),
        None => (None, None),
    };
    Package {
        id: format!("{}:{name}@{version}:{path}", t.as_str()),
        name: name.to_string(),
        version: version.to_string(),
        package_type: t,
        purl,
        cpes: Vec::new(),
        licenses: Vec::new(),
        locations: vec![Location::new(path, None)],
        source_name,
        source_version,
        arch: None,
        owner: None,
        metadata: Default::default(),
    }
}

fn os_release(image: &Path) -> Distro {
    let text = std::fs::read_to_string(image.join("etc/os-release")).unwrap();
    let mut d = Distro::unknown();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            let v = v.trim_matches('"').to_string();
            match k {
                "ID" => d.id = v,
                "VERSION_ID" => d.version_id = Some(v),
                "VERSION_CODENAME" => d.codename = Some(v),
                _ => {}
            }
        }
    }
    d
}

fn dpkg(image: &Path) -> Vec<Package> {
    let text = std::fs::read_to_string(image.join("var/lib/dpkg/status")).unwrap();
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let mut name = None;
        let mut version = None;
        let mut source = None;
        let mut installed = false;
        for line in stanza.lines() {
            if let Some(v) = line.strip_prefix("Package: ") {
                name = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("Version: ") {
                version = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("Source: ") {
                source = Some(v.trim().to_string());
            } else if let Some(v) = line.strip_prefix("Status: ") {
                installed = v.trim() == "install ok installed";
            }
        }
        let (Some(name), Some(version)) = (name, version) else {
            continue;
        };
        if !installed {
            continue;
        }
        let source = source.map(|s| match s.split_once(" (") {
            Some((n, v)) => (n.to_string(), Some(v.trim_end_matches(')').to_string())),
            None => (s, None),
        });
        let purl = format!("pkg:deb/debian/{name}@{version}");
        out.push(pkg(
            &name,
            &version,
            PackageType::Dpkg,
            purl,
            "/var/lib/dpkg/status",
            source,
        ));
    }
    out
}

fn apk(image: &Path) -> Vec<Package> {
    let text = std::fs::read_to_string(image.join("lib/apk/db/installed")).unwrap();
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let field = |k: &str| {
            stanza
                .lines()
                .find_map(|l| l.strip_prefix(k).map(|v| v.trim().to_string()))
        };
        let (Some(name), Some(version)) = (field("P:"), field("V:")) else {
            continue;
        };
        let origin = field("o:").map(|o| (o, None));
        let purl = format!("pkg:apk/alpine/{name}@{version}");
        out.push(pkg(
            &name,
            &version,
            PackageType::Apk,
            purl,
            "/lib/apk/db/installed",
            origin,
        ));
    }
    out
}

/// The venv packages of debian-bookworm-app, read from the list in corpus/README.md.
fn venv(corpus: &Path) -> Vec<Package> {
    let readme = std::fs::read_to_string(corpus.join("README.md")).unwrap();
    let start = readme.find("- venv opt/app/venv").unwrap();
    let rest = &readme[start..];
    let colon = rest.find("): ").unwrap() + 3;
    let end = rest.find("\n- dpkg").unwrap();
    let list = rest[colon..end].replace('\n', " ");
    let mut out = Vec::new();
    for item in list.split(',') {
        let item = item.split('(').next().unwrap().trim();
        let mut parts = item.split_whitespace();
        let (Some(name), Some(version)) = (parts.next(), parts.next()) else {
            continue;
        };
        let purl = format!("pkg:pypi/{name}@{version}");
        out.push(pkg(
            name,
            version,
            PackageType::Python,
            purl,
            "/opt/app/venv/lib/python3.11/site-packages",
            None,
        ));
    }
    assert!(out.len() >= 10, "venv list not found in README: {out:?}");
    // Debian's own PyYAML 6.0 dist-info (owned by python3-yaml).
    out.push(pkg(
        "PyYAML",
        "6.0",
        PackageType::Python,
        "pkg:pypi/pyyaml@6.0".into(),
        "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info/METADATA",
        None,
    ));
    out
}

fn node(image: &Path) -> Vec<Package> {
    let dir = image.join("opt/app/node/node_modules");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path().join("package.json");
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let name = v["name"].as_str().unwrap();
        let version = v["version"].as_str().unwrap();
        let rel = format!("/opt/app/node/node_modules/{name}/package.json");
        out.push(pkg(
            name,
            version,
            PackageType::Npm,
            format!("pkg:npm/{name}@{version}"),
            &rel,
            None,
        ));
    }
    out
}

fn jars(image: &Path) -> Vec<Package> {
    let mut out = Vec::new();
    for (dir, jar) in [
        ("log4j-core", "log4j-core.jar"),
        ("jackson-databind", "jackson-databind.jar"),
    ] {
        let base = image.join("jar-metadata").join(dir).join("META-INF/maven");
        let group_dir = std::fs::read_dir(&base)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let art_dir = std::fs::read_dir(&group_dir)
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let props = std::fs::read_to_string(art_dir.join("pom.properties")).unwrap();
        let get = |k: &str| {
            props
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{k}=")).map(str::to_string))
                .unwrap()
        };
        let (g, a, v) = (get("groupId"), get("artifactId"), get("version"));
        out.push(pkg(
            &a,
            &v,
            PackageType::Java,
            format!("pkg:maven/{g}/{a}@{v}"),
            &format!("/opt/app/lib/{jar}"),
            None,
        ));
    }
    out
}

/// A real `Analysis` of a corpus image, built from its package databases.
pub fn analysis(image: &str) -> Analysis {
    let root = corpus();
    let dir = root.join("images").join(image);
    let distro = os_release(&dir);
    let mut packages = if distro.id == "alpine" {
        apk(&dir)
    } else {
        dpkg(&dir)
    };
    if image == "debian-bookworm-app" {
        packages.extend(venv(&root));
        packages.extend(node(&dir));
        packages.extend(jars(&dir));
    }
    Analysis {
        schema_version: anchorage_catalog::ANALYSIS_SCHEMA_VERSION.into(),
        source: SourceInfo {
            scheme: "dir".into(),
            input: format!("dir:{}", dir.display()),
            reference: None,
            manifest_digest: None,
            config_digest: None,
            index_digest: None,
        },
        image: ImageMetadata::default(),
        distro,
        packages,
        files: Vec::new(),
        relationships: Vec::new(),
        secrets: Vec::new(),
        content_hits: Vec::new(),
        retrieved_files: Vec::new(),
        warnings: Vec::new(),
        malware: Vec::new(),
        analyzed_at: chrono::Utc::now(),
    }
}

/// The corpus feeds as local sources: Debian tracker entries, Alpine secdb per-package
/// files, every OSV record.
pub fn corpus_sources() -> Vec<FeedSource> {
    let c = corpus();
    vec![
        format!(
            "debian-tracker:{}",
            c.join("distro/debian-tracker").display()
        ),
        format!(
            "alpine-secdb:{}",
            c.join("distro/alpine-secdb-json").display()
        ),
        format!("osv:{}", c.join("osv").display()),
    ]
    .into_iter()
    .map(|s| s.parse().unwrap())
    .collect()
}

#[path = "../../../../anchorage-vulndb/tests/support/mod.rs"]
pub mod feeds;

/// A store in `dir` synced over HTTP from a local server that serves the corpus feeds in their
/// upstream layouts (OSV `<eco>/all.zip`, Alpine `<branch>/main.json`; the Debian per-entry
/// files as one zip). Returns the server too (it lives as long as the test process).
pub fn corpus_store(dir: &Path) -> Store {
    let server = feeds::Server::start();
    let mut sources = feeds::serve_osv_exports(&server);
    sources.extend(feeds::serve_alpine(&server));
    sources.push(feeds::serve_debian_entries(&server));
    let mut store = Store::open_dir(dir).unwrap();
    for s in sources {
        let s: FeedSource = s.parse().unwrap();
        let report = sync_source(&mut store, &s, &SyncOptions::default()).unwrap();
        assert!(report.record_count > 0, "{report:?}");
        assert_eq!(report.malformed, 0, "{report:?}");
    }
    store
}

/// A store in `dir` synced from the corpus folders on disk.
pub fn corpus_store_local(dir: &Path) -> Store {
    let mut store = Store::open_dir(dir).unwrap();
    for s in corpus_sources() {
        let report = sync_source(&mut store, &s, &SyncOptions::default()).unwrap();
        assert!(report.record_count > 0, "{report:?}");
        assert_eq!(report.malformed, 0, "{report:?}");
    }
    store
}

/// [`anchorage_vulndb::sync_source`] on a runtime made for the test (the library creates none).
fn sync_source(
    store: &mut anchorage_vulndb::Store,
    source: &anchorage_vulndb::FeedSource,
    options: &anchorage_vulndb::SyncOptions,
) -> Result<anchorage_vulndb::SyncReport, anchorage_vulndb::VulnDbError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anchorage_vulndb::VulnDbError::BadSource(format!("test runtime: {e}")))?
        .block_on(anchorage_vulndb::sync_source(store, source, options))
}
