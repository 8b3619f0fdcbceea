//! Builds analyses from real corpus data (the Alpine 3.20 minirootfs with its apk database, and
//! the debian-bookworm-app dpkg status, venv metadata and node_modules manifests), so the SBOM
//! encoders are exercised on real package data independently of the full pipeline.

#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::Read;

use anchorage_catalog::*;
use anchorage_types::{Digest, Location, PackageType};
use sha2::Digest as _;

pub(crate) use anchorage_testkit::corpus_dir as corpus;

fn short(s: &str) -> String {
    hex::encode(&sha2::Sha256::digest(s.as_bytes())[..8])
}

fn image_meta(dir: &str) -> (SourceInfo, ImageMetadata) {
    let base = corpus().join("images").join(dir).join("oci");
    let manifest = std::fs::read(base.join("manifest.json")).unwrap();
    let config = std::fs::read(base.join("config.json")).unwrap();
    let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
    let c: serde_json::Value = serde_json::from_slice(&config).unwrap();
    let diff_ids: Vec<Digest> = c["rootfs"]["diff_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap().parse().unwrap())
        .collect();
    let layers: Vec<LayerInfo> = m["layers"]
        .as_array()
        .unwrap()
        .iter()
        .zip(&diff_ids)
        .map(|(l, d)| LayerInfo {
            digest: Some(l["digest"].as_str().unwrap().parse().unwrap()),
            diff_id: Some(d.clone()),
            size: l["size"].as_u64().unwrap(),
            media_type: l["mediaType"].as_str().unwrap().to_string(),
            created_by: None,
        })
        .collect();
    let source = SourceInfo {
        scheme: "oci-archive".into(),
        input: format!("oci-archive:{dir}.oci.tar"),
        reference: Some(format!("docker.io/corpus/{dir}:latest")),
        manifest_digest: Some(
            Digest::sha256_hex(&hex::encode(sha2::Sha256::digest(&manifest))).unwrap(),
        ),
        config_digest: Some(
            Digest::sha256_hex(&hex::encode(sha2::Sha256::digest(&config))).unwrap(),
        ),
        index_digest: None,
    };
    let image = ImageMetadata {
        os: c["os"].as_str().unwrap_or_default().into(),
        architecture: c["architecture"].as_str().unwrap_or_default().into(),
        image_size: layers.iter().map(|l| l.size).sum(),
        layer_count: layers.len(),
        layers,
        ..ImageMetadata::default()
    };
    (source, image)
}

fn os_release(text: &str) -> Distro {
    let mut kv = BTreeMap::new();
    for line in text.lines() {
        if let Some((k, v)) = line.split_once('=') {
            kv.insert(k.to_string(), v.trim_matches('"').to_string());
        }
    }
    Distro {
        id: kv.get("ID").cloned().unwrap_or_default(),
        version_id: kv.get("VERSION_ID").cloned(),
        codename: kv.get("VERSION_CODENAME").cloned(),
        id_like: vec![],
        pretty_name: kv.get("PRETTY_NAME").cloned(),
        evidence: Some("/etc/os-release".into()),
    }
}

fn package(
    t: PackageType,
    name: &str,
    version: &str,
    purl: String,
    licenses: Vec<String>,
    location: Location,
    metadata: PackageMetadata,
) -> Package {
    Package {
        id: short(&format!("{t}/{name}/{version}/{}", location.path)),
        name: name.into(),
        version: version.into(),
        package_type: t,
        purl,
        cpes: vec![anchorage_catalog::cpe::format_cpe(name, name, version)],
        licenses,
        locations: vec![location],
        source_name: None,
        source_version: None,
        arch: None,
        owner: None,
        metadata,
    }
}

/// The dependency edges the real OS catalogers and resolver find in these database files,
/// mapped onto the ids of `packages` (this module's ids) by type, name and version.
fn os_relationships(files: &[(&str, &str)], packages: &[Package]) -> Vec<Relationship> {
    let mut fs = anchorage_image::MemFs::new();
    for (path, content) in files {
        fs.add_file(path, content.as_bytes().to_vec());
    }
    let (found, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    let key = |p: &Package| (p.package_type, p.name.clone(), p.version.clone());
    let found_keys: std::collections::HashMap<&str, (PackageType, String, String)> =
        found.iter().map(|p| (p.id.as_str(), key(p))).collect();
    let ours: std::collections::HashMap<(PackageType, String, String), &str> =
        packages.iter().map(|p| (key(p), p.id.as_str())).collect();
    let mut out: Vec<Relationship> = relationships::resolve(&ctx.dependencies, &found)
        .into_iter()
        .filter_map(|r| {
            let from = ours.get(found_keys.get(r.from.as_str())?)?;
            let to = ours.get(found_keys.get(r.to.as_str())?)?;
            Some(Relationship {
                from: (*from).to_string(),
                to: (*to).to_string(),
                kind: r.kind,
            })
        })
        .collect();
    out.sort();
    out
}

fn analyzed_at() -> chrono::DateTime<chrono::Utc> {
    "2026-11-28T00:00:00Z".parse().unwrap()
}

/// The Alpine 3.20.3 minirootfs: every file from the official tarball (with its sha256) and the
/// 14 packages of its apk database, files owned per the database.
pub(crate) fn alpine_320() -> Analysis {
    let (source, image) = image_meta("alpine-3.20");
    let layer = image.layers[0].diff_id.clone();
    let tgz = corpus().join("images/alpine-3.20/alpine-minirootfs-3.20.3-x86_64.tar.gz");
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(tgz).unwrap(),
    ));
    let mut files = Vec::new();
    let mut installed = String::new();
    let mut os_rel = String::new();
    for entry in archive.entries().unwrap() {
        let mut e = entry.unwrap();
        let raw = e.path().unwrap().to_string_lossy().into_owned();
        let path = format!("/{}", raw.trim_start_matches("./").trim_end_matches('/'));
        if path == "/" {
            continue;
        }
        let h = e.header().clone();
        let kind = match h.entry_type() {
            tar::EntryType::Regular => "file",
            tar::EntryType::Directory => "dir",
            tar::EntryType::Symlink => "slink",
            tar::EntryType::Link => "hlink",
            _ => "other",
        };
        let mut content = Vec::new();
        e.read_to_end(&mut content).unwrap();
        if path == "/lib/apk/db/installed" {
            installed = String::from_utf8(content.clone()).unwrap();
        }
        if path == "/etc/os-release" || path == "/usr/lib/os-release" {
            os_rel = String::from_utf8(content.clone()).unwrap();
        }
        files.push(FileRecord {
            path,
            file_type: kind.into(),
            size: content.len() as u64,
            mode: h.mode().unwrap(),
            uid: h.uid().unwrap(),
            gid: h.gid().unwrap(),
            link_target: e
                .link_name()
                .unwrap()
                .map(|l| l.to_string_lossy().into_owned()),
            sha256: (kind == "file").then(|| hex::encode(sha2::Sha256::digest(&content))),
            sha1: (kind == "file").then(|| hex::encode(sha1::Sha1::digest(&content))),
            md5: None,
            layer: layer.clone(),
            owner: None,
        });
    }
    let distro = os_release(&os_rel);
    let distro_q = format!("alpine-{}", distro.version_id.clone().unwrap());
    let mut packages = Vec::new();
    for block in installed.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let mut f: BTreeMap<char, String> = BTreeMap::new();
        let mut meta = ApkMetadata::default();
        let mut dir = String::new();
        for line in block.lines() {
            let Some((k, v)) = line.split_once(':') else {
                continue;
            };
            let k = k.chars().next().unwrap();
            match k {
                'F' => dir = v.to_string(),
                'R' => meta.files.push(PackageFile {
                    path: format!("/{dir}/{v}"),
                    digest: None,
                    config: false,
                }),
                'Z' => {
                    // `Q1` + base64(sha1): real apk checksums, re-encoded as hex.
                    if let (Some(last), Some(b64)) = (meta.files.last_mut(), v.strip_prefix("Q1")) {
                        let raw =
                            base64::Engine::decode(&base64::engine::general_purpose::STANDARD, b64)
                                .unwrap();
                        last.digest = Some(FileDigest {
                            algorithm: "sha1".into(),
                            value: hex::encode(raw),
                        });
                    }
                }
                'D' => meta.depends = v.split_whitespace().map(str::to_string).collect(),
                _ => {
                    f.insert(k, v.to_string());
                }
            }
        }
        let name = f[&'P'].clone();
        let version = f[&'V'].clone();
        let arch = f.get(&'A').cloned().unwrap_or_default();
        let origin = f.get(&'o').cloned();
        meta.maintainer = f.get(&'m').cloned();
        meta.url = f.get(&'U').cloned();
        meta.commit = f.get(&'c').cloned();
        meta.installed_size = f.get(&'I').and_then(|s| s.parse().ok());
        let mut q = format!("arch={arch}&distro={distro_q}");
        if let Some(o) = origin.as_ref().filter(|o| **o != name) {
            q.push_str(&format!("&upstream={o}"));
        }
        let purl = format!("pkg:apk/alpine/{name}@{version}?{q}");
        let licenses = f.get(&'L').map(|l| vec![l.clone()]).unwrap_or_default();
        let mut p = package(
            PackageType::Apk,
            &name,
            &version,
            purl,
            licenses,
            Location::new("/lib/apk/db/installed", layer.clone()),
            PackageMetadata::None,
        );
        p.arch = Some(arch);
        p.source_name = origin;
        p.metadata = PackageMetadata::Apk(meta);
        packages.push(p);
    }
    for p in &packages {
        if let PackageMetadata::Apk(m) = &p.metadata {
            for pf in &m.files {
                if let Some(fr) = files.iter_mut().find(|fr| fr.path == pf.path) {
                    fr.owner = Some(p.id.clone());
                }
            }
        }
    }
    packages.sort_by(|a, b| {
        (a.package_type, &a.name, &a.version).cmp(&(b.package_type, &b.name, &b.version))
    });
    let relationships = os_relationships(
        &[
            ("/lib/apk/db/installed", &installed),
            ("/etc/os-release", &os_rel),
        ],
        &packages,
    );
    Analysis {
        schema_version: ANALYSIS_SCHEMA_VERSION.into(),
        source,
        image,
        distro,
        packages,
        files,
        relationships,
        secrets: vec![],
        content_hits: vec![],
        retrieved_files: vec![],
        warnings: vec![],
        malware: Vec::new(),
        analyzed_at: analyzed_at(),
    }
}

fn rfc822(block: &str) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut last = String::new();
    for line in block.lines() {
        if line.starts_with(' ') || line.starts_with('\t') {
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            last = k.to_string();
            out.entry(last.clone())
                .or_insert_with(|| v.trim().to_string());
        }
    }
    let _ = last;
    out
}

/// debian-bookworm-app: the 123 dpkg packages of its status file (with Depends and source
/// packages), the venv's Python distributions and the three node_modules manifests.
pub(crate) fn bookworm_app() -> Analysis {
    let (source, image) = image_meta("debian-bookworm-app");
    let base = corpus().join("images/debian-bookworm-app");
    let top = image.layers.last().and_then(|l| l.diff_id.clone());
    let os_release_text = std::fs::read_to_string(base.join("etc/os-release")).unwrap();
    let distro = os_release(&os_release_text);
    let distro_q = format!("debian-{}", distro.version_id.clone().unwrap());
    let status = std::fs::read_to_string(base.join("var/lib/dpkg/status")).unwrap();
    let mut packages = Vec::new();
    for block in status.split("\n\n").filter(|b| !b.trim().is_empty()) {
        let f = rfc822(block);
        if !f.get("Status").is_some_and(|s| s.ends_with("installed")) {
            continue;
        }
        let name = &f["Package"];
        let version = &f["Version"];
        let arch = f.get("Architecture").cloned().unwrap_or_default();
        let (src, src_ver) = match f.get("Source") {
            Some(s) => match s.split_once(" (") {
                Some((n, v)) => (
                    Some(n.to_string()),
                    Some(v.trim_end_matches(')').to_string()),
                ),
                None => (Some(s.clone()), None),
            },
            None => (None, None),
        };
        let mut q = format!("arch={arch}&distro={distro_q}");
        if let Some(s) = &src {
            match &src_ver {
                Some(v) => q.push_str(&format!("&upstream={s}%40{v}")),
                None => q.push_str(&format!("&upstream={s}")),
            }
        }
        let purl = format!("pkg:deb/debian/{name}@{}?{q}", version.replace('+', "%2B"));
        let mut p = package(
            PackageType::Dpkg,
            name,
            version,
            purl,
            vec![],
            Location::new("/var/lib/dpkg/status", top.clone()),
            PackageMetadata::Dpkg(DpkgMetadata {
                maintainer: f.get("Maintainer").cloned(),
                installed_size_kib: f.get("Installed-Size").and_then(|s| s.parse().ok()),
                files: vec![],
                depends: f.get("Depends").cloned(),
            }),
        );
        p.arch = Some(arch);
        p.source_name = src;
        p.source_version = src_ver;
        packages.push(p);
    }
    let site = base.join("opt/app/venv/lib/python3.11/site-packages");
    for dir in std::fs::read_dir(&site).unwrap() {
        let dir = dir.unwrap().path();
        let meta = ["METADATA", "PKG-INFO"]
            .iter()
            .map(|m| dir.join(m))
            .find(|p| p.exists());
        let Some(meta) = meta else { continue };
        let f = rfc822(&std::fs::read_to_string(&meta).unwrap());
        let name = f["Name"].to_lowercase();
        let version = &f["Version"];
        let image_path = format!(
            "/opt/app/venv/lib/python3.11/site-packages/{}/{}",
            dir.file_name().unwrap().to_string_lossy(),
            meta.file_name().unwrap().to_string_lossy()
        );
        let author = match (f.get("Author"), f.get("Author-email")) {
            (Some(a), Some(e)) => Some(format!("{a} <{e}>")),
            (Some(a), None) => Some(a.clone()),
            _ => None,
        };
        packages.push(package(
            PackageType::Python,
            &name,
            version,
            format!("pkg:pypi/{name}@{version}"),
            f.get("License")
                .map(|l| vec![l.clone()])
                .unwrap_or_default(),
            Location::new(image_path, top.clone()),
            PackageMetadata::Python(PythonMetadata {
                author,
                home_page: f.get("Home-page").cloned(),
                ..PythonMetadata::default()
            }),
        ));
    }
    let nm = base.join("opt/app/node/node_modules");
    for dir in std::fs::read_dir(&nm).unwrap() {
        let dir = dir.unwrap().path();
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("package.json")).unwrap()).unwrap();
        let name = v["name"].as_str().unwrap();
        let version = v["version"].as_str().unwrap();
        packages.push(package(
            PackageType::Npm,
            name,
            version,
            format!("pkg:npm/{name}@{version}"),
            v["license"]
                .as_str()
                .map(|l| vec![l.to_string()])
                .unwrap_or_default(),
            Location::new(
                format!("/opt/app/node/node_modules/{name}/package.json"),
                top.clone(),
            ),
            PackageMetadata::Npm(NpmMetadata {
                homepage: v["homepage"].as_str().map(str::to_string),
                ..NpmMetadata::default()
            }),
        ));
    }
    packages.sort_by(|a, b| {
        (a.package_type, &a.name, &a.version).cmp(&(b.package_type, &b.name, &b.version))
    });
    let relationships = os_relationships(
        &[
            ("/var/lib/dpkg/status", &status),
            ("/etc/os-release", &os_release_text),
        ],
        &packages,
    );
    Analysis {
        schema_version: ANALYSIS_SCHEMA_VERSION.into(),
        source,
        image,
        distro,
        packages,
        relationships,
        files: vec![],
        secrets: vec![],
        content_hits: vec![],
        retrieved_files: vec![],
        warnings: vec![],
        malware: Vec::new(),
        analyzed_at: analyzed_at(),
    }
}
