//! Dependency relationships on real data: the dpkg and apk edges of the corpus images against
//! Syft 1.18.1's `dependency-of` edges (by name@version), and the graphs of real lock files
//! (the corpus app's package-lock.json, the fixtures' yarn, pnpm, poetry, composer locks, this
//! workspace's Cargo.lock) checked entry by entry against the lock file itself.

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers: a missing corpus file should fail the test loudly"
)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;

use anchorage_catalog::relationships::{dependency_chain, resolve};
use anchorage_catalog::{
    CatalogContext, CatalogOptions, LangLimits, Package, Relationship, catalog_os_packages,
    language_catalogers,
};
use anchorage_image::MemFs;
use anchorage_testkit::corpus_dir as corpus;
use serde_json::Value;

use crate::lang_support::fixture;

type Edges = BTreeSet<(String, String)>;

/// `name@version` pairs of the edges (dependent first).
fn named(packages: &[Package], rels: &[Relationship]) -> Edges {
    let by_id: HashMap<&str, String> = packages
        .iter()
        .map(|p| (p.id.as_str(), format!("{}@{}", p.name, p.version)))
        .collect();
    rels.iter()
        .map(|r| (by_id[r.from.as_str()].clone(), by_id[r.to.as_str()].clone()))
        .collect()
}

fn os_edges(fs: &MemFs) -> (Vec<Package>, Vec<Relationship>) {
    let (packages, ctx) = catalog_os_packages(fs, &CatalogOptions::default());
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let rels = resolve(&ctx.dependencies, &packages);
    (packages, rels)
}

fn lang_edges(fs: &MemFs) -> (Vec<Package>, Vec<Relationship>) {
    let mut ctx = CatalogContext::default();
    let mut packages = Vec::new();
    for c in language_catalogers(&LangLimits::default()) {
        packages.extend(c.catalog(fs, &mut ctx));
    }
    let rels = resolve(&ctx.dependencies, &packages);
    (packages, rels)
}

/// Syft's `dependency-of` edges of a syft JSON document, turned around to dependent first.
fn syft_json_edges(doc: &Value, types: &[&str]) -> Edges {
    let arts: HashMap<&str, (&str, String)> = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["id"].as_str().unwrap(),
                (
                    a["type"].as_str().unwrap(),
                    format!(
                        "{}@{}",
                        a["name"].as_str().unwrap(),
                        a["version"].as_str().unwrap()
                    ),
                ),
            )
        })
        .collect();
    doc["artifactRelationships"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["type"] == "dependency-of")
        .filter_map(|r| {
            let dependency = arts.get(r["parent"].as_str()?)?;
            let dependent = arts.get(r["child"].as_str()?)?;
            (types.contains(&dependency.0) && types.contains(&dependent.0))
                .then(|| (dependent.1.clone(), dependency.1.clone()))
        })
        .collect()
}

fn gunzip(path: &std::path::Path) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(path).unwrap())
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn file_in_tar_gz(tgz: &std::path::Path, wanted: &str) -> Vec<u8> {
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(
        std::fs::File::open(tgz).unwrap(),
    ));
    for entry in archive.entries().unwrap() {
        let mut e = entry.unwrap();
        if e.path().unwrap().to_string_lossy().trim_start_matches("./") == wanted {
            let mut out = Vec::new();
            e.read_to_end(&mut out).unwrap();
            return out;
        }
    }
    panic!("{wanted} not in {}", tgz.display());
}

#[test]
fn alpine_320_apk_edges_equal_syft_dependency_of_edges() {
    let tgz = corpus().join("images/alpine-3.20/alpine-minirootfs-3.20.3-x86_64.tar.gz");
    let mut fs = MemFs::new();
    fs.add_file(
        "/lib/apk/db/installed",
        file_in_tar_gz(&tgz, "lib/apk/db/installed"),
    );
    fs.add_file("/etc/os-release", file_in_tar_gz(&tgz, "etc/os-release"));
    let (packages, rels) = os_edges(&fs);
    assert_eq!(packages.len(), 14);
    let ours = named(&packages, &rels);
    let syft: Value = serde_json::from_slice(
        &std::fs::read(corpus().join("syft/alpine-3.20.syft.json")).unwrap(),
    )
    .unwrap();
    let theirs = syft_json_edges(&syft, &["apk"]);
    assert_eq!(theirs.len(), 19);
    assert_eq!(ours, theirs);
    // apk-tools needs libcrypto3 through `so:libcrypto.so.3`, a `p:` provide
    assert!(ours.contains(&("apk-tools@2.14.4-r0".into(), "libcrypto3@3.3.2-r0".into())));
}

/// A MemFs with the dpkg status and os-release of a corpus image directory.
fn dpkg_fs(image: &str) -> MemFs {
    let base = corpus().join("images").join(image);
    let mut fs = MemFs::new();
    fs.add_file(
        "/var/lib/dpkg/status",
        std::fs::read(base.join("var/lib/dpkg/status")).unwrap(),
    );
    fs.add_file(
        "/etc/os-release",
        std::fs::read(base.join("etc/os-release")).unwrap(),
    );
    fs
}

#[test]
fn debian_bookworm_dpkg_edges_equal_syft_cyclonedx_dependencies() {
    let (packages, rels) = os_edges(&dpkg_fs("debian-bookworm"));
    let ours = named(&packages, &rels);
    // Syft's CycloneDX `dependencies`: ref -> dependsOn, by bom-ref
    let cdx: Value = serde_json::from_slice(
        &std::fs::read(corpus().join("syft/debian-bookworm.cdx.json")).unwrap(),
    )
    .unwrap();
    let refs: HashMap<&str, String> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            Some((
                c["bom-ref"].as_str()?,
                format!("{}@{}", c["name"].as_str()?, c["version"].as_str()?),
            ))
        })
        .collect();
    let mut theirs = Edges::new();
    for d in cdx["dependencies"].as_array().unwrap() {
        for to in d["dependsOn"].as_array().into_iter().flatten() {
            if let (Some(a), Some(b)) = (
                refs.get(d["ref"].as_str().unwrap()),
                refs.get(to.as_str().unwrap()),
            ) {
                theirs.insert((a.clone(), b.clone()));
            }
        }
    }
    assert_eq!(theirs.len(), 216);
    assert_eq!(ours, theirs);
    // apt's status entry: `Depends: adduser, gpgv | gpgv2 | gpgv1, libapt-pkg6.0 (>= 2.6.1), ...`
    let apt: BTreeSet<&str> = ours
        .iter()
        .filter(|(a, _)| a == "apt@2.6.1")
        .map(|(_, b)| b.as_str())
        .collect();
    assert!(apt.contains("libapt-pkg6.0@2.6.1"), "{apt:?}");
    assert!(apt.contains("gpgv@2.2.40-1.1+deb12u2"), "{apt:?}");
}

#[test]
fn debian_bookworm_app_dpkg_edges_equal_syft_json_edges() {
    let (packages, rels) = os_edges(&dpkg_fs("debian-bookworm-app"));
    let ours = named(&packages, &rels);
    let syft: Value = serde_json::from_slice(&gunzip(
        &corpus().join("syft/debian-bookworm-app.syft.json.gz"),
    ))
    .unwrap();
    let theirs = syft_json_edges(&syft, &["deb"]);
    assert_eq!(theirs.len(), 294);
    // The one difference: python3-distutils and python3-lib2to3 depend on `python3:any`. `:any`
    // is an architecture qualifier (any architecture of a `Multi-Arch: allowed` package), so
    // dpkg satisfies it with the installed python3; Syft 1.18.1 keeps `python3:any` as the
    // name, finds no such package and drops both edges.
    let only_ours: Edges = ours.difference(&theirs).cloned().collect();
    let want: Edges = [
        ("python3-distutils@3.11.2-3", "python3@3.11.2-1+b1"),
        ("python3-lib2to3@3.11.2-3", "python3@3.11.2-1+b1"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(only_ours, want);
    assert!(theirs.is_subset(&ours));
}

#[test]
fn synthetic_dpkg_provides_and_alternatives_resolve_to_the_first_installed() {
    let mut fs = MemFs::new();
    fs.add_file(
        "/var/lib/dpkg/status",
        "Package: tool\nStatus: install ok installed\nVersion: 1\n\
         Depends: missing-awk | awk, libc6:any (>= 2.34)\nPre-Depends: dpkg\n\n\
         Package: mawk\nStatus: install ok installed\nVersion: 1.3\nProvides: awk\n\n\
         Package: libc6\nStatus: install ok installed\nVersion: 2.36\n\n\
         Package: dpkg\nStatus: install ok installed\nVersion: 1.21\n\n\
         Package: gone\nStatus: deinstall ok config-files\nVersion: 1\nProvides: awk\n",
    );
    let (packages, rels) = os_edges(&fs);
    let ours = named(&packages, &rels);
    let want: Edges = [
        ("tool@1", "mawk@1.3"),
        ("tool@1", "libc6@2.36"),
        ("tool@1", "dpkg@1.21"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(ours, want);
}

/// The corpus app's node tree: its package.json, package-lock.json (v3) and the three
/// installed node_modules manifests.
fn node_app_fs() -> MemFs {
    let base = corpus().join("images/debian-bookworm-app/opt/app/node");
    let mut fs = MemFs::new();
    for rel in [
        "package.json",
        "package-lock.json",
        "node_modules/express/package.json",
        "node_modules/lodash/package.json",
        "node_modules/minimist/package.json",
    ] {
        fs.add_file(
            &format!("/opt/app/node/{rel}"),
            std::fs::read(base.join(rel)).unwrap(),
        );
    }
    fs
}

#[test]
fn package_lock_graph_of_the_corpus_app() {
    let (packages, rels) = lang_edges(&node_app_fs());
    let ours = named(&packages, &rels);
    let lock: Value = serde_json::from_slice(
        &std::fs::read(corpus().join("images/debian-bookworm-app/opt/app/node/package-lock.json"))
            .unwrap(),
    )
    .unwrap();
    let entries = lock["packages"].as_object().unwrap();
    // every (entry, dependency) of the lock is one edge, to the package of that name installed
    // where node looks first: the entry's own node_modules (send has its own ms 2.1.1), else the
    // project's
    let version_at =
        |key: &str| -> Option<String> { entries.get(key)?["version"].as_str().map(str::to_string) };
    let installed = |key: &str, dep: &str| -> String {
        match version_at(&format!("{key}/node_modules/{dep}")) {
            Some(v) if !key.is_empty() => format!("{dep}@{v}"),
            _ => format!(
                "{dep}@{}",
                version_at(&format!("node_modules/{dep}")).unwrap()
            ),
        }
    };
    let mut want = Edges::new();
    for (key, e) in entries {
        let me = if key.is_empty() {
            "corpus-node-app@1.0.0".to_string()
        } else {
            let name = key.rsplit("node_modules/").next().unwrap();
            format!("{name}@{}", version_at(key).unwrap())
        };
        for dep in e["dependencies"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            want.insert((me.clone(), installed(key, dep)));
        }
    }
    assert!(want.len() > 50, "{}", want.len());
    assert_eq!(ours, want);
    assert!(ours.contains(&("express@4.17.1".into(), "body-parser@1.19.0".into())));
    assert!(ours.contains(&("send@0.17.1".into(), "ms@2.1.1".into())));
    assert!(ours.contains(&("debug@2.6.9".into(), "ms@2.0.0".into())));
    // why is `bytes` there: the app needs express, which needs body-parser, which needs bytes
    let id = |nv: &str| {
        packages
            .iter()
            .find(|p| format!("{}@{}", p.name, p.version) == nv)
            .unwrap()
            .id
            .clone()
    };
    let name_of = |i: &String| {
        let p = packages.iter().find(|p| &p.id == i).unwrap();
        format!("{}@{}", p.name, p.version)
    };
    let chain: Vec<String> = dependency_chain(&rels, &id("bytes@3.1.0"))
        .unwrap()
        .iter()
        .map(name_of)
        .collect();
    assert_eq!(
        chain.first().map(String::as_str),
        Some("corpus-node-app@1.0.0")
    );
    assert_eq!(chain.last().map(String::as_str), Some("bytes@3.1.0"));
    assert_eq!(chain.len(), 4, "{chain:?}"); // app -> express -> body-parser|raw-body -> bytes
}

/// Edges of one lock file alone in an image.
fn lock_edges(image_path: &str, content: Vec<u8>) -> (Vec<Package>, Edges) {
    let mut fs = MemFs::new();
    fs.add_file(image_path, content);
    let (packages, rels) = lang_edges(&fs);
    let named = named(&packages, &rels);
    (packages, named)
}

#[test]
fn yarn_v1_and_berry_lock_graphs() {
    for file in ["yarn-v1.lock", "yarn-berry.lock"] {
        let text = std::fs::read_to_string(fixture(file)).unwrap();
        let (packages, ours) = lock_edges("/app/yarn.lock", text.clone().into_bytes());
        // independently: each entry's `dependencies:` names, each must be an edge to a package
        // of that name (yarn picks the version through the descriptor)
        let mut expected_pairs = 0usize;
        let mut current: Option<String> = None;
        let mut in_deps = false;
        let versions: BTreeMap<String, String> = packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        for line in text.lines() {
            if !line.starts_with(' ') && !line.trim().is_empty() && !line.starts_with('#') {
                let first = line.trim_end_matches(':').split(", ").next().unwrap();
                let first = first.trim_matches('"');
                current = first
                    .get(1..)
                    .and_then(|rest| rest.find('@'))
                    .map(|at| first[..=at].to_string())
                    .filter(|_| !line.contains("@workspace:"));
                in_deps = false;
            } else if line.starts_with("  ") && !line.starts_with("    ") {
                in_deps = matches!(line.trim(), "dependencies:" | "optionalDependencies:");
            } else if line.starts_with("    ") && in_deps {
                let Some(cur) = &current else { continue };
                let dep = line
                    .trim()
                    .split([' ', ':'])
                    .next()
                    .unwrap()
                    .trim_matches('"');
                expected_pairs += 1;
                let from = format!("{cur}@{}", versions[cur]);
                assert!(
                    ours.iter()
                        .any(|(a, b)| *a == from && b.starts_with(&format!("{dep}@"))),
                    "{file}: {from} -> {dep} missing"
                );
            }
        }
        assert!(expected_pairs > 5, "{file}");
        assert_eq!(ours.len(), expected_pairs, "{file}: {ours:?}");
    }
}

#[test]
fn pnpm_v5_and_v6_lock_graphs() {
    let (_, v6) = lock_edges(
        "/app/pnpm-lock.yaml",
        std::fs::read(fixture("pnpm-lock-v6.yaml")).unwrap(),
    );
    for edge in [
        ("@actions/core@1.11.1", "@actions/exec@1.1.1"),
        ("@actions/core@1.11.1", "@actions/http-client@2.2.3"),
        ("@actions/exec@1.1.1", "@actions/io@1.1.3"),
        ("@actions/http-client@2.2.3", "tunnel@0.0.6"),
        ("@actions/http-client@2.2.3", "undici@5.29.0"),
    ] {
        assert!(
            v6.contains(&(edge.0.to_string(), edge.1.to_string())),
            "{edge:?} in {v6:?}"
        );
    }
    let (_, v5) = lock_edges(
        "/app/pnpm-lock.yaml",
        std::fs::read(fixture("pnpm-lock-v5.yaml")).unwrap(),
    );
    // `/acorn-jsx/5.3.2_acorn@8.8.0` depends on `acorn: 8.8.0`
    assert_eq!(
        v5,
        [("acorn-jsx@5.3.2".to_string(), "acorn@8.8.0".to_string())]
            .into_iter()
            .collect()
    );
}

#[test]
fn poetry_lock_graph_matches_its_dependency_tables() {
    let text = std::fs::read_to_string(fixture("python-locks/poetry.lock")).unwrap();
    let (packages, ours) = lock_edges("/app/poetry.lock", text.clone().into_bytes());
    let lock: toml::Table = toml::from_str(&text).unwrap();
    let norm = |n: &str| n.to_ascii_lowercase().replace(['_', '.'], "-");
    let version_of: HashMap<String, String> = packages
        .iter()
        .map(|p| (p.name.clone(), p.version.clone()))
        .collect();
    let mut want = Edges::new();
    for p in lock["package"].as_array().unwrap() {
        let name = norm(p["name"].as_str().unwrap());
        let Some(v) = version_of.get(&name) else {
            continue; // a dev package left out
        };
        for dep in p
            .get("dependencies")
            .and_then(|d| d.as_table())
            .into_iter()
            .flat_map(|t| t.keys())
        {
            if let Some(dv) = version_of.get(&norm(dep)) {
                want.insert((format!("{name}@{v}"), format!("{}@{dv}", norm(dep))));
            }
        }
    }
    assert!(!want.is_empty());
    assert_eq!(ours, want);
}

#[test]
fn composer_lock_graph_follows_require() {
    let (_, ours) = lock_edges(
        "/app/composer.lock",
        std::fs::read(fixture("composer.lock")).unwrap(),
    );
    let lock: Value =
        serde_json::from_slice(&std::fs::read(fixture("composer.lock")).unwrap()).unwrap();
    let mut want = Edges::new();
    // `packages-dev` are left out unless development dependencies are asked for
    let all: Vec<&Value> = lock["packages"].as_array().unwrap().iter().collect();
    let version_of: HashMap<&str, &str> = all
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["version"].as_str().unwrap()))
        .collect();
    for p in &all {
        let me = format!(
            "{}@{}",
            p["name"].as_str().unwrap(),
            p["version"].as_str().unwrap()
        );
        for dep in p["require"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if let Some(v) = version_of.get(dep.as_str()) {
                want.insert((me.clone(), format!("{dep}@{v}")));
            }
        }
    }
    assert!(!want.is_empty());
    assert_eq!(ours, want);
}

#[test]
fn cargo_lock_graph_of_this_workspace() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock");
    let text = std::fs::read_to_string(path).unwrap();
    let (packages, ours) = lock_edges("/src/Cargo.lock", text.clone().into_bytes());
    let lock: toml::Table = toml::from_str(&text).unwrap();
    let crates = lock["package"].as_array().unwrap();
    let versions: BTreeMap<&str, Vec<&str>> = crates.iter().fold(BTreeMap::new(), |mut m, c| {
        m.entry(c["name"].as_str().unwrap())
            .or_default()
            .push(c["version"].as_str().unwrap());
        m
    });
    let mut want = Edges::new();
    for c in crates {
        let me = format!(
            "{}@{}",
            c["name"].as_str().unwrap(),
            c["version"].as_str().unwrap()
        );
        for dep in c
            .get("dependencies")
            .and_then(|d| d.as_array())
            .into_iter()
            .flatten()
        {
            let mut parts = dep.as_str().unwrap().split(' ');
            let name = parts.next().unwrap();
            let version = parts.next().unwrap_or_else(|| {
                let v = &versions[name];
                assert_eq!(v.len(), 1, "{name} written without version yet not unique");
                v[0]
            });
            want.insert((me.clone(), format!("{name}@{version}")));
        }
    }
    assert_eq!(packages.len(), crates.len());
    assert!(want.len() > 500, "{}", want.len());
    assert_eq!(ours, want);
    let catalog = packages
        .iter()
        .find(|p| p.name == "anchorage-catalog")
        .unwrap();
    let edge = (
        format!("anchorage-catalog@{}", catalog.version),
        format!("anchorage-model@{}", catalog.version),
    );
    assert!(ours.contains(&edge), "{edge:?}");
}

#[test]
fn rpm_requires_resolve_by_name_capability_and_file() {
    // the committed rpm 4.18 database: anchorage-hello's script makes rpmbuild add
    // `Requires: /bin/sh`, which no package of that database provides: no edge
    let mut fs = MemFs::new();
    fs.add_file(
        "/var/lib/rpm/rpmdb.sqlite",
        crate::rpmdb_build::gz_fixture("rpm418-sqlite-rpmdb.sqlite.gz"),
    );
    let (packages, rels) = os_edges(&fs);
    assert_eq!(packages.len(), 2);
    assert!(rels.is_empty(), "{rels:?}");
    if !crate::rpmdb_build::have_rpm() {
        return;
    }
    // world-app (spec beside the fixtures) requires world-libs by name and by one of its
    // files, and anchorage-hello by rpm's automatic `anchorage-hello(x86-64)` capability
    let (db, wal) =
        crate::rpmdb_build::rpmbuild_installed_db(&["hello.spec", "world.spec", "world-app.spec"]);
    let mut fs = MemFs::new();
    fs.add_file("/var/lib/rpm/rpmdb.sqlite", db);
    if let Some(wal) = wal {
        fs.add_file("/var/lib/rpm/rpmdb.sqlite-wal", wal);
    }
    let (packages, rels) = os_edges(&fs);
    assert_eq!(packages.len(), 3);
    let want: Edges = [
        ("world-app@1.0-1", "world-libs@0.9-1"),
        ("world-app@1.0-1", "anchorage-hello@2:1.2.3-4.fc40"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(named(&packages, &rels), want);
}

#[test]
fn venv_requires_dist_edges_against_syft() {
    let (packages, rels) = lang_edges(&crate::lang_support::corpus_app_fs());
    let python: Vec<Package> = packages
        .iter()
        .filter(|p| p.package_type == anchorage_types::PackageType::Python)
        .cloned()
        .collect();
    let ours: Edges = named(&packages, &rels)
        .into_iter()
        .filter(|(a, _)| {
            python
                .iter()
                .any(|p| format!("{}@{}", p.name, p.version) == *a)
        })
        .collect();
    let syft: Value = serde_json::from_slice(&gunzip(
        &corpus().join("syft/debian-bookworm-app.syft.json.gz"),
    ))
    .unwrap();
    let all_theirs = syft_json_edges(&syft, &["python"]);
    assert_eq!(all_theirs.len(), 6);
    // the corpus keeps 5 of the venv's distributions (Syft saw the whole image): compare the
    // edges between packages both sides have
    let ours_named: BTreeSet<String> = python
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    let theirs: Edges = all_theirs
        .into_iter()
        .filter(|(a, b)| ours_named.contains(a) && ours_named.contains(b))
        .collect();
    // Syft also follows Requires-Dist lines of extras, which the installed distribution does
    // not need: urllib3 -> certifi (`certifi; extra == 'secure'`; also setuptools -> pip in the
    // whole image). Every other edge is the same.
    let only_theirs: Edges = theirs.difference(&ours).cloned().collect();
    let want: Edges = [("urllib3@1.23", "certifi@2018.4.16")]
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(only_theirs, want, "ours: {ours:?}");
    assert!(ours.is_subset(&theirs), "ours: {ours:?}");
    assert_eq!(ours.len(), 2, "{ours:?}");
}
