//! OS package databases added for analysis breadth (issue 14): the Azure Linux / CBL-Mariner
//! distroless rpm manifest and opkg (OpenWrt, Yocto).
#![allow(clippy::unwrap_used)]

use std::path::Path;

use anchorage_catalog::parsers::parse_container_manifest;
use anchorage_catalog::{CatalogOptions, PackageMetadata, catalog_os_packages};
use anchorage_image::MemFs;
use anchorage_types::PackageType;

fn rpm_fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/rpm")
            .join(name),
    )
    .unwrap()
}

#[test]
fn mariner_distroless_container_manifest() {
    // written by rpm 4.18 with the query format Azure Linux documents (fixtures/rpm)
    let manifest = rpm_fixture("container-manifest-2");
    let parsed = parse_container_manifest(&manifest);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.packages.len(), 2);

    let mut fs = MemFs::new();
    // os-release of a CBL-Mariner 2.0 distroless image (its ID and VERSION_ID lines)
    fs.add_file("/etc/os-release", b"NAME=\"Common Base Linux Mariner\"\nVERSION=\"2.0.20240123\"\nID=mariner\nVERSION_ID=\"2.0\"\n".to_vec());
    fs.add_file("/var/lib/rpmmanifest/container-manifest-2", manifest);
    let (pkgs, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let got: Vec<String> = pkgs
        .iter()
        .map(|p| format!("{} {} {}", p.name, p.version, p.purl))
        .collect();
    assert_eq!(
        got,
        [
            "anchorage-hello 2:1.2.3-4.fc40 pkg:rpm/mariner/anchorage-hello@1.2.3-4.fc40?arch=x86_64&distro=mariner-2.0&epoch=2&upstream=anchorage-hello-1.2.3-4.fc40.src.rpm",
            "world-libs 0.9-1 pkg:rpm/mariner/world-libs@0.9-1?arch=noarch&distro=mariner-2.0&upstream=world-libs-0.9-1.src.rpm",
        ]
    );
    assert!(pkgs.iter().all(|p| p.package_type == PackageType::Rpm));
    let PackageMetadata::Rpm(m) = &pkgs[0].metadata else {
        panic!()
    };
    assert_eq!(m.vendor.as_deref(), Some("Anchorage Test"));
    assert_eq!(m.size, Some(28));
}

#[test]
fn rpm_database_wins_over_the_manifest() {
    let mut fs = MemFs::new();
    fs.add_file(
        "/var/lib/rpmmanifest/container-manifest-2",
        rpm_fixture("container-manifest-2"),
    );
    let mut db = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&rpm_fixture("rpm418-sqlite-rpmdb.sqlite.gz")[..]),
        &mut db,
    )
    .unwrap();
    fs.add_file("/var/lib/rpm/rpmdb.sqlite", db);
    let (pkgs, _) = catalog_os_packages(&fs, &CatalogOptions::default());
    assert_eq!(pkgs.len(), 2, "the same two packages, once");
    assert!(
        pkgs.iter()
            .all(|p| p.locations[0].path == "/var/lib/rpm/rpmdb.sqlite")
    );
}

/// OpenWrt's status file layout (opkg's dpkg-style control paragraphs); written by us, no
/// OpenWrt image or opkg is reachable here.
const OPENWRT_STATUS: &str = "Package: busybox
Version: 1.36.1-1
Depends: libc
Status: install user installed
Architecture: x86_64
Installed-Time: 1710000000

Package: libc
Version: 1.2.4-4
Depends: libgcc1
Status: install hold installed
Architecture: x86_64
Installed-Time: 1710000000

Package: old-removed
Version: 1.0-1
Status: deinstall user not-installed
Architecture: x86_64
";

#[test]
fn synthetic_openwrt_opkg_status_and_file_lists() {
    let mut fs = MemFs::new();
    fs.add_file(
        "/etc/os-release",
        b"NAME=\"OpenWrt\"\nVERSION=\"23.05.3\"\nID=\"openwrt\"\nVERSION_ID=\"23.05.3\"\n".to_vec(),
    );
    fs.add_file("/usr/lib/opkg/status", OPENWRT_STATUS.as_bytes().to_vec());
    fs.add_file(
        "/usr/lib/opkg/info/busybox.list",
        b"/bin/busybox\n/bin/sh\n".to_vec(),
    );
    fs.add_symlink("/var/lib/opkg", "/usr/lib/opkg");
    let (pkgs, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let got: Vec<String> = pkgs
        .iter()
        .map(|p| format!("{} {} {}", p.name, p.version, p.purl))
        .collect();
    assert_eq!(
        got,
        [
            "busybox 1.36.1-1 pkg:opkg/openwrt/busybox@1.36.1-1?arch=x86_64&distro=openwrt-23.05.3",
            "libc 1.2.4-4 pkg:opkg/openwrt/libc@1.2.4-4?arch=x86_64&distro=openwrt-23.05.3",
        ],
        "read once through the /var/lib/opkg symlink; removed packages left out"
    );
    assert!(pkgs.iter().all(|p| p.package_type == PackageType::Opkg));
    assert!(PackageType::Opkg.is_os());
    let PackageMetadata::Dpkg(m) = &pkgs[0].metadata else {
        panic!()
    };
    let files: Vec<&str> = m.files.iter().map(|f| f.path.as_str()).collect();
    assert_eq!(files, ["/bin/busybox", "/bin/sh"]);
}
