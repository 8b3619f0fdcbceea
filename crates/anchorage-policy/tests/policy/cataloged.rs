//! The same gates over packages found by Anchorage's own OS catalogers (run on a `MemFs`
//! loaded with the corpus package databases), cross-checked with Syft's catalog.

use anchorage_catalog::{CatalogOptions, catalog_os_packages};
use anchorage_image::MemFs;
use anchorage_policy::Action;
use anchorage_types::PackageType;
use serde_json::json;

use crate::support::{Scenario, bundle_with, corpus, rule};

fn cataloged(image: &str, files: &[&str]) -> Scenario {
    let mut fs = MemFs::new();
    for f in files {
        let bytes = std::fs::read(corpus().join("images").join(image).join(f)).unwrap();
        fs.add_file(&format!("/{f}"), bytes);
    }
    let (packages, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    let mut sc = if image.starts_with("alpine") {
        Scenario::alpine()
    } else {
        Scenario::bookworm_app()
    };
    sc.analysis.packages = packages;
    sc.analysis.distro = ctx.distro;
    sc
}

#[test]
fn cataloged_bookworm_packages_drive_package_gates() {
    let sc = cataloged(
        "debian-bookworm",
        &["etc/os-release", "var/lib/dpkg/status"],
    );
    assert_eq!(sc.analysis.distro.id, "debian");
    let dpkg = sc
        .analysis
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Dpkg)
        .count();
    assert_eq!(dpkg, 88, "corpus README: 88 packages in debian-bookworm");
    assert_eq!(
        sc.fire("packages", "blacklist", &[("name", "apt")])
            .rows
            .len(),
        1
    );
    assert!(
        sc.fire(
            "packages",
            "required_package",
            &[
                ("name", "bash"),
                ("version", "5.0"),
                ("version_match_type", "minimum")
            ]
        )
        .rows
        .is_empty()
    );
    assert_eq!(
        sc.fire("packages", "required_package", &[("name", "python3")])
            .rows
            .len(),
        1
    );
    let e = sc.fire(
        "metadata",
        "attribute",
        &[
            ("attribute", "distro_version"),
            ("check", "="),
            ("value", "12"),
        ],
    );
    assert_eq!(e.rows.len(), 1);
}

#[test]
fn cataloged_alpine_licenses_match_syft() {
    let syft = Scenario::alpine();
    let sc = cataloged("alpine-3.20", &["etc/os-release", "lib/apk/db/installed"]);
    assert_eq!(sc.analysis.packages.len(), 14);
    for lic in ["GPL-2.0-only", "MIT", "Zlib"] {
        let ours = sc.fire("licenses", "blacklist_exact_match", &[("licenses", lic)]);
        let theirs = syft.fire("licenses", "blacklist_exact_match", &[("licenses", lic)]);
        assert_eq!(ours.rows.len(), theirs.rows.len(), "{lic}");
        assert_eq!(
            ours.rows.first().map(|r| &r.check_output),
            theirs.rows.first().map(|r| &r.check_output),
            "{lic}"
        );
    }
    let e = sc.eval(&bundle_with(
        rule("packages", "blacklist", "STOP", &[("name", "musl")]),
        json!([]),
    ));
    assert_eq!(e.final_action, Action::Stop);
}

/// `packages/verify` on the real Alpine apk database (sha1 from `Z:Q1`) against the real file
/// digests (Syft's analysis of the same image): intact files pass, a changed one fires.
#[test]
fn verify_changed_compares_apk_sha1_records() {
    let mut sc = cataloged("alpine-3.20", &["lib/apk/db/installed", "etc/os-release"]);
    assert!(
        sc.analysis
            .files
            .iter()
            .any(|f| f.path == "/bin/busybox" && f.sha1.is_some())
    );
    let params = [("only_packages", "busybox"), ("check", "changed")];
    let e = sc.fire("packages", "verify", &params);
    assert!(e.rows.is_empty(), "{:?}", e.rows);
    let f = sc
        .analysis
        .files
        .iter_mut()
        .find(|f| f.path == "/bin/busybox")
        .unwrap();
    f.sha1 = Some("0".repeat(40));
    let e = sc.fire("packages", "verify", &params);
    let rows: Vec<&str> = e.rows.iter().map(|r| r.check_output.as_str()).collect();
    assert_eq!(rows, ["Package busybox file /bin/busybox has changed"]);
    assert!(e.rows[0].explanation.reason.starts_with("recorded sha1 "));
}

/// Issue 13 item 4: `packages/verify` skips configuration files. On the real bookworm dpkg
/// status, `/etc/adduser.conf` is one of adduser's `Conffiles` (md5 recorded): an edited copy
/// is not reported, while the same edit on a file that is not a conffile is.
#[test]
fn verify_skips_dpkg_conffiles() {
    let mut sc = cataloged(
        "debian-bookworm",
        &["etc/os-release", "var/lib/dpkg/status"],
    );
    let adduser = sc
        .analysis
        .packages
        .iter()
        .find(|p| p.name == "adduser")
        .unwrap();
    let conf = match &adduser.metadata {
        anchorage_catalog::PackageMetadata::Dpkg(m) => m
            .files
            .iter()
            .find(|f| f.path == "/etc/adduser.conf")
            .unwrap()
            .clone(),
        other => panic!("{other:?}"),
    };
    assert!(conf.config, "{conf:?}");
    assert_eq!(
        conf.digest.as_ref().unwrap().value,
        "cc3493ecd2d09837ffdcc3e25fdfff18"
    );
    // The image's copy was edited by the administrator (a different md5).
    let mut edited = sc.analysis.files[0].clone();
    edited.path = "/etc/adduser.conf".into();
    edited.file_type = "file".into();
    edited.md5 = Some("0".repeat(32));
    sc.analysis.files.push(edited);
    let params = [("only_packages", "adduser"), ("check", "changed")];
    let e = sc.fire("packages", "verify", &params);
    assert!(e.rows.is_empty(), "{:?}", e.rows);
    // Control: were it not a conffile, the same edit fires.
    for p in &mut sc.analysis.packages {
        if let anchorage_catalog::PackageMetadata::Dpkg(m) = &mut p.metadata {
            for f in &mut m.files {
                f.config = false;
            }
        }
    }
    let e = sc.fire("packages", "verify", &params);
    let rows: Vec<&str> = e.rows.iter().map(|r| r.check_output.as_str()).collect();
    assert_eq!(rows, ["Package adduser file /etc/adduser.conf has changed"]);
}
