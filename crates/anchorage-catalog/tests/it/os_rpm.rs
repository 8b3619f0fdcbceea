//! rpm: real databases in all three formats (see tests/fixtures/rpm/PROVENANCE.md), the
//! cataloger over a MemFs, and hostile inputs. SQLite databases are written by rpm 4.18,
//! Berkeley DB databases (hash and btree) by Berkeley DB's `db_load` from rpm 4.18 headers and
//! checked against rpm's own read-only BDB backend; the NDB fixture is written by rpm 4.18
//! built with NDB, and edge-case NDB files are laid out by `rpmdb_build::ndb_layout`.

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers: a missing corpus file should fail the test loudly"
)]

use crate::rpmdb_build;

use std::path::Path;

use anchorage_catalog::parsers::{
    BdbFormat, NdbFormat, RpmDbFormat, RpmHeader, RpmLimits, SqliteFormat, SqliteLimits,
    parse_header, read_database, read_database_with_limits,
};
use anchorage_catalog::{CatalogOptions, PackageMetadata, catalog_os_packages};
use anchorage_image::MemFs;
use rpmdb_build::{
    bdb_file, bdb_hash, built_blobs, db_load, fixtures_dir, gz_fixture as fixture, have_rpm,
    ndb_layout, rpm_bdb_records, rpm_bdb_ro_qa, sqlite_fixture_blobs,
};

#[test]
fn sqlite_rpmdb_written_by_rpm_4_18() {
    let db = fixture("rpm418-sqlite-rpmdb.sqlite.gz");
    let parsed = read_database(&SqliteFormat, &db, None);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.packages.len(), 2);
    let hello = parsed
        .packages
        .iter()
        .find(|h| h.name == "anchorage-hello")
        .unwrap();
    assert_eq!(hello.epoch, Some(2));
    assert_eq!(
        (hello.version.as_str(), hello.release.as_str()),
        ("1.2.3", "4.fc40")
    );
    assert_eq!(hello.arch.as_deref(), Some("x86_64"));
    assert_eq!(hello.license.as_deref(), Some("MIT AND Apache-2.0"));
    assert_eq!(hello.vendor.as_deref(), Some("Anchorage Test"));
    assert_eq!(
        hello.source_rpm.as_deref(),
        Some("anchorage-hello-1.2.3-4.fc40.src.rpm")
    );
    assert_eq!(hello.digest_algorithm, "sha256");
    let bin = hello
        .files
        .iter()
        .find(|f| f.path == "/usr/bin/hello")
        .unwrap();
    // printf '#!/bin/sh\necho hi\n' | sha256sum
    assert_eq!(
        bin.digest.as_deref(),
        Some("299001868fb8c02fd431c336c6d058f5558c5dff5b5af5e6fe04b870a6a9cbba")
    );
    assert_eq!(bin.mode.map(|m| m & 0o7777), Some(0o4755));
    let link = hello
        .files
        .iter()
        .find(|f| f.path == "/usr/bin/hi")
        .unwrap();
    assert_eq!(link.digest, None);
    assert!(hello.files.iter().any(|f| f.path == "/etc/hello.conf"));
}

#[test]
fn cataloger_reads_rpmdb_at_its_image_path_with_purls() {
    let mut fs = MemFs::new();
    fs.add_file(
        "/etc/os-release",
        "ID=\"rocky\"\nVERSION_ID=\"9.3\"\nID_LIKE=\"rhel centos fedora\"\n",
    );
    fs.add_file(
        "/usr/lib/sysimage/rpm/rpmdb.sqlite",
        fixture("rpm418-sqlite-rpmdb.sqlite.gz"),
    );
    fs.add_symlink("/var/lib/rpm", "../../usr/lib/sysimage/rpm");
    let (packages, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    assert_eq!(
        packages.len(),
        2,
        "read once despite the /var/lib/rpm symlink"
    );
    let hello = packages
        .iter()
        .find(|p| p.name == "anchorage-hello")
        .unwrap();
    assert_eq!(hello.version, "2:1.2.3-4.fc40");
    assert_eq!(
        hello.purl,
        "pkg:rpm/rocky/anchorage-hello@1.2.3-4.fc40?arch=x86_64&distro=rocky-9.3&epoch=2&upstream=anchorage-hello-1.2.3-4.fc40.src.rpm"
    );
    assert_eq!(hello.source_name.as_deref(), Some("anchorage-hello"));
    assert_eq!(hello.source_version, None);
    assert_eq!(
        hello.locations[0].path,
        "/usr/lib/sysimage/rpm/rpmdb.sqlite"
    );
    let PackageMetadata::Rpm(m) = &hello.metadata else {
        panic!()
    };
    assert_eq!(m.epoch, Some(2));
    // `%config /etc/hello.conf` in hello.spec: the rpm file flag marks it (packages/verify
    // skips configuration files); the binaries are not.
    let config: Vec<&str> = m
        .files
        .iter()
        .filter(|f| f.config)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(config, ["/etc/hello.conf"]);
    assert!(
        m.files
            .iter()
            .all(|f| f.digest.as_ref().is_none_or(|d| d.algorithm == "sha256"))
    );
    let world = packages.iter().find(|p| p.name == "world-libs").unwrap();
    assert_eq!(world.arch.as_deref(), Some("noarch"));
    assert_eq!(world.licenses, vec!["GPL-2.0-or-later".to_string()]);
}

/// The real rpm 4.18 headers the BDB and NDB tests store: the two of the committed SQLite
/// fixture, plus (when rpm/rpmbuild are installed; required under CI=true) `anchorage-many-files`
/// (a ~45 KB header) and `rocky-release` built from the specs beside the fixtures.
fn real_blobs() -> Vec<Vec<u8>> {
    let mut blobs = sqlite_fixture_blobs();
    if let Some(built) = built_blobs() {
        blobs.extend(built.iter().cloned());
    }
    blobs
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

fn find<'a>(headers: &'a [RpmHeader], name: &str) -> &'a RpmHeader {
    headers.iter().find(|h| h.name == name).unwrap()
}

/// Checks the headers every test database holds.
fn assert_real_headers(headers: &[RpmHeader]) {
    let hello = find(headers, "anchorage-hello");
    assert_eq!(hello.epoch, Some(2));
    assert_eq!(
        hello.source_rpm.as_deref(),
        Some("anchorage-hello-1.2.3-4.fc40.src.rpm")
    );
    assert!(hello.files.iter().any(|f| f.path == "/usr/bin/hello"));
    assert_eq!(find(headers, "world-libs").arch.as_deref(), Some("noarch"));
    if built_blobs().is_some() {
        let many = find(headers, "anchorage-many-files");
        assert_eq!((many.version.as_str(), many.release.as_str()), ("3.1", "7"));
        assert_eq!(many.files.len(), 301, "the directory and its 300 files");
        let first = many
            .files
            .iter()
            .find(|f| f.path == "/usr/share/anchorage-many-files/data-file-number-001.txt")
            .unwrap();
        // printf 'file 001\n' | sha256sum
        assert_eq!(
            first.digest.as_deref(),
            Some("8d44b89e8e94a4e7f1ec4cdcb5f3eac3c561285b8380dc01d4e54b7a012acf16")
        );
        assert_eq!(find(headers, "rocky-release").version, "9.3");
    }
}

/// Berkeley DB hash `Packages` files written by Berkeley DB 5.3's own `db_load` (rpm's key 0
/// counter record and one record per header instance), in every page size from 512 B to
/// 64 KiB and both byte orders: small headers inline, the 45 KB one on overflow pages.
#[test]
fn bdb_hash_packages_written_by_berkeley_db_with_rpm_4_18_headers() {
    let Some(db_load) = db_load() else {
        return;
    };
    let blobs = real_blobs();
    for big_endian in [false, true] {
        let records = rpm_bdb_records(&blobs, big_endian);
        let want = sorted(records.iter().map(|r| r.1.clone()).collect());
        for page_size in [512u32, 1024, 4096, 8192, 16384, 32768, 65536] {
            let db = bdb_hash(db_load, &records, page_size, big_endian);
            let ctx = format!("page size {page_size}, big-endian {big_endian}");
            let raw = BdbFormat.header_blobs(&db, None);
            assert!(raw.warnings.is_empty(), "{ctx}: {:?}", raw.warnings);
            assert_eq!(
                sorted(raw.packages),
                want,
                "{ctx}: values read back exactly"
            );
            let parsed = read_database(&BdbFormat, &db, None);
            assert!(parsed.warnings.is_empty(), "{ctx}: {:?}", parsed.warnings);
            assert_eq!(parsed.packages.len(), blobs.len(), "{ctx}");
            assert_real_headers(&parsed.packages);
        }
    }
    if built_blobs().is_some() {
        assert!(
            blobs.iter().any(|b| b.len() > 65536 / 2),
            "one header is larger than half the largest page, so it goes off-page"
        );
    }
}

/// Many records (the real headers under 300 instance numbers, as rpm's key 0 counter hands
/// them out) make Berkeley DB split the hash table over many buckets and pages.
#[test]
fn bdb_hash_with_many_records_spans_many_buckets() {
    let Some(db_load) = db_load() else {
        return;
    };
    let fixture_blobs = sqlite_fixture_blobs();
    let blobs: Vec<Vec<u8>> = (0..300)
        .map(|i| fixture_blobs[i % fixture_blobs.len()].clone())
        .collect();
    let db = bdb_hash(db_load, &rpm_bdb_records(&blobs, false), 4096, false);
    assert!(db.len() > 100 * 4096, "{} bytes", db.len());
    let parsed = read_database(&BdbFormat, &db, None);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.packages.len(), 300);
    assert_eq!(
        parsed
            .packages
            .iter()
            .filter(|h| h.name == "world-libs")
            .count(),
        150
    );
}

/// The cataloger reads `/var/lib/rpm/Packages` (BDB) of an image without release files and
/// takes the distro from the `rocky-release` package in it.
#[test]
fn cataloger_reads_bdb_packages_and_takes_distro_from_release_package() {
    let Some(db_load) = db_load() else {
        return;
    };
    if built_blobs().is_none() {
        return;
    }
    let db = bdb_hash(db_load, &rpm_bdb_records(&real_blobs(), false), 4096, false);
    let mut fs = MemFs::new();
    fs.add_file("/var/lib/rpm/Packages", db);
    let (packages, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    assert_eq!(
        (ctx.distro.id.as_str(), ctx.distro.version_id.as_deref()),
        ("rocky", Some("9.3"))
    );
    assert_eq!(packages.len(), 4);
    let hello = packages
        .iter()
        .find(|p| p.name == "anchorage-hello")
        .unwrap();
    assert_eq!(
        hello.purl,
        "pkg:rpm/rocky/anchorage-hello@1.2.3-4.fc40?arch=x86_64&distro=rocky-9.3&epoch=2&upstream=anchorage-hello-1.2.3-4.fc40.src.rpm"
    );
    assert_eq!(hello.locations[0].path, "/var/lib/rpm/Packages");
    let many = packages
        .iter()
        .find(|p| p.name == "anchorage-many-files")
        .unwrap();
    let PackageMetadata::Rpm(m) = &many.metadata else {
        panic!()
    };
    assert_eq!(m.files.len(), 301);
}

/// Our reading of `headers` in `rpmdb_build::QA_FORMAT`, lines sorted, to compare with rpm's.
fn qa_lines(headers: &[RpmHeader]) -> Vec<String> {
    let mut lines: Vec<String> = headers
        .iter()
        .map(|h| {
            format!(
                "{}\t{}\t{}-{}\t{}\t{}",
                h.name,
                h.epoch
                    .map_or_else(|| "(none)".to_owned(), |e| e.to_string()),
                h.version,
                h.release,
                h.arch.as_deref().unwrap_or("(none)"),
                h.source_rpm.as_deref().unwrap_or("(none)"),
            )
        })
        .collect();
    lines.sort();
    lines
}

/// Berkeley DB `Packages` files of both access methods rpm has used (hash, and btree), written
/// by Berkeley DB 5.3's own `db_load` in every page size from 512 B to 64 KiB and both byte
/// orders, hold exactly the packages that rpm 4.18's own read-only BDB backend lists.
#[test]
fn bdb_hash_and_btree_packages_match_rpm_bdb_ro_listing() {
    let Some(db_load) = db_load() else {
        return;
    };
    let blobs = real_blobs();
    let mut compared_with_rpm = 0;
    for access in ["btree", "hash"] {
        for big_endian in [false, true] {
            let records = rpm_bdb_records(&blobs, big_endian);
            let want = sorted(records.iter().map(|r| r.1.clone()).collect());
            for page_size in [512u32, 1024, 4096, 8192, 16384, 32768, 65536] {
                let db = bdb_file(db_load, access, &records, page_size, big_endian);
                let ctx = format!("{access}, page size {page_size}, big-endian {big_endian}");
                // The magic number in the metadata page is stored in the file's byte order.
                let magic: u32 = if access == "btree" {
                    0x0005_3162
                } else {
                    0x0006_1561
                };
                let want_magic = if big_endian {
                    magic.to_be_bytes()
                } else {
                    magic.to_le_bytes()
                };
                assert_eq!(db[12..16], want_magic, "{ctx}");
                let raw = BdbFormat.header_blobs(&db, None);
                assert!(raw.warnings.is_empty(), "{ctx}: {:?}", raw.warnings);
                assert_eq!(
                    sorted(raw.packages),
                    want,
                    "{ctx}: values read back exactly"
                );
                let parsed = read_database(&BdbFormat, &db, None);
                assert!(parsed.warnings.is_empty(), "{ctx}: {:?}", parsed.warnings);
                assert_eq!(parsed.packages.len(), blobs.len(), "{ctx}");
                assert_real_headers(&parsed.packages);
                if let Some(rpm_says) = rpm_bdb_ro_qa(&db) {
                    assert_eq!(qa_lines(&parsed.packages), rpm_says, "{ctx}");
                    compared_with_rpm += 1;
                }
            }
        }
    }
    if have_rpm() {
        assert_eq!(compared_with_rpm, 28);
    }
}

/// Btree page types (libdb's `db_page.h`).
const P_IBTREE: u8 = 3;
const P_LBTREE: u8 = 5;
const P_OVERFLOW: u8 = 7;

fn pages_of_type(db: &[u8], page_size: usize, kind: u8) -> Vec<usize> {
    (1..db.len() / page_size)
        .filter(|p| db[p * page_size + 25] == kind)
        .collect()
}

/// 1000 records in 512-byte pages make Berkeley DB build a btree of three levels (about 20
/// key/value pairs fit a leaf, about 27 children an internal page): the walk goes through
/// internal pages to every leaf and follows each value's overflow chain.
fn many_record_btree(db_load: &str) -> Vec<u8> {
    let fixture_blobs = sqlite_fixture_blobs();
    let blobs: Vec<Vec<u8>> = (0..1000)
        .map(|i| fixture_blobs[i % fixture_blobs.len()].clone())
        .collect();
    bdb_file(
        db_load,
        "btree",
        &rpm_bdb_records(&blobs, false),
        512,
        false,
    )
}

#[test]
fn bdb_btree_with_many_records_has_internal_pages_and_matches_rpm() {
    let Some(db_load) = db_load() else {
        return;
    };
    let db = many_record_btree(db_load);
    let internal = pages_of_type(&db, 512, P_IBTREE);
    let leaves = pages_of_type(&db, 512, P_LBTREE);
    assert!(internal.len() >= 3, "internal pages {internal:?}");
    let root_level = internal.iter().map(|p| db[p * 512 + 24]).max().unwrap();
    assert!(root_level >= 3, "a tree of {root_level} levels");
    assert!(leaves.len() >= 40, "{} leaves", leaves.len());
    let parsed = read_database(&BdbFormat, &db, None);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.packages.len(), 1000);
    assert_eq!(
        parsed
            .packages
            .iter()
            .filter(|h| h.name == "world-libs")
            .count(),
        500
    );
    if let Some(rpm_says) = rpm_bdb_ro_qa(&db) {
        assert_eq!(rpm_says.len(), 1000);
        assert_eq!(qa_lines(&parsed.packages), rpm_says);
    }
}

/// The cataloger reads a btree `/var/lib/rpm/Packages` like a hash one.
#[test]
fn cataloger_reads_bdb_btree_packages() {
    let Some(db_load) = db_load() else {
        return;
    };
    let records = rpm_bdb_records(&sqlite_fixture_blobs(), true);
    let mut fs = MemFs::new();
    fs.add_file("/etc/os-release", "ID=\"centos\"\nVERSION_ID=\"7\"\n");
    fs.add_file(
        "/var/lib/rpm/Packages",
        bdb_file(db_load, "btree", &records, 4096, true),
    );
    let (packages, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, ["anchorage-hello", "world-libs"]);
    let world = packages.iter().find(|p| p.name == "world-libs").unwrap();
    assert_eq!(
        world.purl,
        "pkg:rpm/centos/world-libs@0.9-1?arch=noarch&distro=centos-7&upstream=world-libs-0.9-1.src.rpm"
    );
}

/// Hostile btree files, made by breaking a real one: loops and out-of-range page numbers in
/// the tree and in overflow chains become warnings naming the page; nothing panics or hangs.
#[test]
fn synthetic_btree_loops_and_bad_page_numbers_warn_not_hang() {
    let Some(db_load) = db_load() else {
        return;
    };
    let good = many_record_btree(db_load);
    let pages = good.len() / 512;
    let le = |v: u32| v.to_le_bytes();
    let root = u32::from_le_bytes([good[88], good[89], good[90], good[91]]) as usize;
    let read = |db: &[u8]| {
        let started = std::time::Instant::now();
        let p = read_database(&BdbFormat, db, None);
        assert!(started.elapsed().as_secs() < 5, "bounded");
        p
    };
    let has = |p: &anchorage_catalog::Parsed<RpmHeader>, what: &str| {
        p.warnings.iter().any(|w| w.contains(what))
    };

    // An overflow page whose next pointer points back at itself.
    let chained: Vec<usize> = pages_of_type(&good, 512, P_OVERFLOW)
        .into_iter()
        .filter(|p| good[p * 512 + 16..p * 512 + 20] != [0, 0, 0, 0])
        .collect();
    let victim = chained[chained.len() / 2];
    let mut db = good.clone();
    db[victim * 512 + 16..victim * 512 + 20].copy_from_slice(&le(u32::try_from(victim).unwrap()));
    let p = read(&db);
    assert!(has(&p, "overflow chain loops back"), "{:?}", p.warnings);
    assert_eq!(
        p.packages.len(),
        999,
        "only the value on the broken chain is lost"
    );

    // An overflow page whose next pointer is far beyond the file.
    let mut db = good.clone();
    db[victim * 512 + 16..victim * 512 + 20].copy_from_slice(&le(0x00ff_ff00));
    let p = read(&db);
    assert!(has(&p, "beyond end of file"), "{:?}", p.warnings);
    assert_eq!(p.packages.len(), 999);

    // An internal page whose first child is the root: a loop in the tree.
    let mut db = good.clone();
    let inp0 = usize::from(u16::from_le_bytes([
        db[root * 512 + 26],
        db[root * 512 + 27],
    ]));
    let at = root * 512 + inp0 + 4;
    db[at..at + 4].copy_from_slice(&le(u32::try_from(root).unwrap()));
    let p = read(&db);
    assert!(has(&p, "reached twice"), "{:?}", p.warnings);
    assert!(p.packages.len() < 1000);

    // A child page number beyond the file, and a root beyond the file.
    db[at..at + 4].copy_from_slice(&le(u32::MAX));
    let p = read(&db);
    assert!(has(&p, "outside the file"), "{:?}", p.warnings);
    let mut db = good.clone();
    db[88..92].copy_from_slice(&le(u32::try_from(pages + 10).unwrap()));
    let p = read(&db);
    assert!(p.packages.is_empty());
    assert!(has(&p, "outside the file"), "{:?}", p.warnings);

    // An overflow item claiming a value larger than the file (the first value of the last
    // leaf: key 0's short record sorts first, into the first leaf, and is stored inline).
    let leaf = *pages_of_type(&good, 512, P_LBTREE).last().unwrap();
    let mut db = good.clone();
    let inp1 = usize::from(u16::from_le_bytes([
        db[leaf * 512 + 28],
        db[leaf * 512 + 29],
    ]));
    let item = leaf * 512 + inp1;
    assert_eq!(db[item + 2], 3, "B_OVERFLOW value");
    db[item + 8..item + 12].copy_from_slice(&le(u32::MAX));
    let p = read(&db);
    assert!(has(&p, "exceeds the limit"), "{:?}", p.warnings);
    db[item + 8..item + 12].copy_from_slice(&le(u32::try_from(good.len() + 1).unwrap()));
    let p = read(&db);
    assert!(has(&p, "larger than the"), "{:?}", p.warnings);
    assert_eq!(p.packages.len(), 999);

    // Cut anywhere: warnings, never a panic.
    for cut in [0, 100, 511, 512, 600, good.len() / 3, good.len() - 1] {
        let p = read(&good[..cut]);
        assert!(!p.warnings.is_empty(), "cut {cut}");
    }
}

#[test]
fn synthetic_broken_bdb_pages_warn_and_keep_going() {
    let Some(db_load) = db_load() else {
        return;
    };
    // 512-byte pages: both fixture headers (~2 KB) live on overflow chains.
    let records = rpm_bdb_records(&sqlite_fixture_blobs(), false);
    let mut db = bdb_hash(db_load, &records, 512, false);
    assert_eq!(read_database(&BdbFormat, &db, None).packages.len(), 2);
    let overflow_pages: Vec<usize> = (1..db.len() / 512)
        .filter(|p| db[p * 512 + 25] == 7)
        .collect();
    assert!(overflow_pages.len() >= 6, "{overflow_pages:?}");
    // Break the chain of one value: the other header and the key 0 record are still read.
    let victim = overflow_pages[overflow_pages.len() / 2];
    db[victim * 512 + 25] = 0xee;
    let raw = BdbFormat.header_blobs(&db, None);
    assert!(
        raw.warnings
            .iter()
            .any(|w| w.contains("not an overflow page")),
        "{:?}",
        raw.warnings
    );
    assert_eq!(raw.packages.len(), 2, "key 0 record and one header");
    assert_eq!(read_database(&BdbFormat, &db, None).packages.len(), 1);
    // Cut: the metadata page promises more pages than the file holds.
    db.truncate(db.len() / 3);
    let parsed = read_database(&BdbFormat, &db, None);
    assert!(!parsed.warnings.is_empty());
    // Bad magic and a lying page size.
    let mut bad = bdb_hash(db_load, &records, 4096, false);
    bad[20..24].copy_from_slice(&1000u32.to_le_bytes());
    assert!(!read_database(&BdbFormat, &bad, None).warnings.is_empty());
    bad[12] ^= 0xff;
    let parsed = read_database(&BdbFormat, &bad, None);
    assert!(parsed.packages.is_empty());
    assert!(
        parsed.warnings[0].contains("bad magic"),
        "{:?}",
        parsed.warnings
    );
}

/// The committed NDB `Packages.db`, written by rpm 4.18 itself (built from Debian's source
/// with NDB enabled; see PROVENANCE.md), after installs, an erase and a reinstall: our reader
/// lists exactly what that rpm's `rpm -qa` listed.
#[test]
fn ndb_packages_db_written_by_rpm_4_18_matches_its_listing() {
    let db = fixture("rpm418-ndb-Packages.db.gz");
    let raw = NdbFormat.header_blobs(&db, None);
    assert!(raw.warnings.is_empty(), "{:?}", raw.warnings);
    let parsed = read_database(&NdbFormat, &db, None);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    let rpm_said = std::fs::read_to_string(fixtures_dir().join("rpm418-ndb-qa.tsv")).unwrap();
    let mut rpm_said: Vec<String> = rpm_said.lines().map(str::to_owned).collect();
    rpm_said.sort();
    assert_eq!(rpm_said.len(), 4);
    assert_eq!(qa_lines(&parsed.packages), rpm_said);
    let many = find(&parsed.packages, "anchorage-many-files");
    assert_eq!(many.files.len(), 301, "the ~45 KB header is read whole");
    let hello = find(&parsed.packages, "anchorage-hello");
    assert!(hello.files.iter().any(|f| f.path == "/usr/bin/hello"));
}

/// The cataloger reads the real NDB database at SUSE's path.
#[test]
fn cataloger_reads_real_ndb_packages_db_at_suse_path() {
    let mut fs = MemFs::new();
    fs.add_file(
        "/etc/os-release",
        "ID=\"sles\"\nVERSION_ID=\"15.5\"\nID_LIKE=\"suse\"\n",
    );
    fs.add_file(
        "/usr/lib/sysimage/rpm/Packages.db",
        fixture("rpm418-ndb-Packages.db.gz"),
    );
    let (found, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    assert_eq!(found.len(), 4);
    let hello = found.iter().find(|p| p.name == "anchorage-hello").unwrap();
    assert_eq!(
        hello.purl,
        "pkg:rpm/sles/anchorage-hello@1.2.3-4.fc40?arch=x86_64&distro=sles-15.5&epoch=2&upstream=anchorage-hello-1.2.3-4.fc40.src.rpm"
    );
}

/// NDB `Packages.db` laid out by the test (no available tool writes NDB) around real rpm
/// 4.18 headers; a free slot comes first, as after an erase, and one or three slot pages.
#[test]
fn synthetic_ndb_layout_with_real_headers_from_rpm_4_18() {
    let blobs = real_blobs();
    let packages: Vec<(u32, &[u8])> = (1..).zip(blobs.iter().map(Vec::as_slice)).collect();
    for (slot_pages, free_first) in [(1, true), (3, false)] {
        let db = ndb_layout(&packages, slot_pages, free_first);
        let raw = NdbFormat.header_blobs(&db, None);
        assert!(raw.warnings.is_empty(), "{:?}", raw.warnings);
        assert_eq!(sorted(raw.packages), sorted(blobs.clone()));
        let parsed = read_database(&NdbFormat, &db, None);
        assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
        assert_eq!(parsed.packages.len(), blobs.len());
        assert_real_headers(&parsed.packages);
    }
}

/// The cataloger finds `Packages.db` under `/usr/lib/sysimage/rpm` (SUSE's path).
#[test]
fn synthetic_ndb_layout_with_real_headers_cataloged_at_suse_path() {
    let blobs = sqlite_fixture_blobs();
    let packages: Vec<(u32, &[u8])> = (1..).zip(blobs.iter().map(Vec::as_slice)).collect();
    let mut fs = MemFs::new();
    fs.add_file(
        "/etc/os-release",
        "ID=\"sles\"\nVERSION_ID=\"15.5\"\nID_LIKE=\"suse\"\n",
    );
    fs.add_file(
        "/usr/lib/sysimage/rpm/Packages.db",
        ndb_layout(&packages, 1, false),
    );
    fs.add_symlink("/var/lib/rpm", "../../usr/lib/sysimage/rpm");
    let (found, ctx) = catalog_os_packages(&fs, &CatalogOptions::default());
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    assert_eq!(found.len(), 2, "read once despite the /var/lib/rpm symlink");
    let world = found.iter().find(|p| p.name == "world-libs").unwrap();
    assert_eq!(
        world.purl,
        "pkg:rpm/sles/world-libs@0.9-1?arch=noarch&distro=sles-15.5&upstream=world-libs-0.9-1.src.rpm"
    );
    assert_eq!(world.locations[0].path, "/usr/lib/sysimage/rpm/Packages.db");
}

#[test]
fn synthetic_ndb_bad_slots_and_blobs_warn_and_keep_going() {
    let blobs = sqlite_fixture_blobs();
    let packages: Vec<(u32, &[u8])> = (1..).zip(blobs.iter().map(Vec::as_slice)).collect();
    let good = ndb_layout(&packages, 1, false);
    // Slot 0's blob names another package: skipped with a warning, slot 1 still read.
    let mut db = good.clone();
    let blob0 = u32::from_le_bytes([db[40], db[41], db[42], db[43]]) as usize * 16;
    db[blob0 + 4] = 9;
    let parsed = read_database(&NdbFormat, &db, None);
    assert_eq!(parsed.packages.len(), 1);
    assert!(
        parsed.warnings[0].contains("bad blob header"),
        "{:?}",
        parsed.warnings
    );
    // Slot 0 points past the end of the file.
    let mut db = good.clone();
    db[40..44].copy_from_slice(&0x00ff_ffffu32.to_le_bytes());
    let parsed = read_database(&NdbFormat, &db, None);
    assert_eq!(parsed.packages.len(), 1);
    assert!(!parsed.warnings.is_empty());
    // A blob length beyond the end of the file.
    let mut db = good.clone();
    db[blob0 + 12..blob0 + 16].copy_from_slice(&u32::MAX.to_le_bytes());
    let parsed = read_database(&NdbFormat, &db, None);
    assert_eq!(parsed.packages.len(), 1);
    assert!(!parsed.warnings.is_empty());
    // A broken slot magic stops the slot scan.
    let mut db = good.clone();
    db[32 + 16] = b'X';
    let parsed = read_database(&NdbFormat, &db, None);
    assert_eq!(parsed.packages.len(), 1);
    assert!(
        parsed.warnings[0].contains("bad slot magic"),
        "{:?}",
        parsed.warnings
    );
    // Bad database magic, absurd slot page count.
    let mut db = good.clone();
    db[12..16].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(read_database(&NdbFormat, &db, None).packages.is_empty());
    db[0] = b'X';
    let parsed = read_database(&NdbFormat, &db, None);
    assert!(
        parsed.warnings[0].contains("bad magic"),
        "{:?}",
        parsed.warnings
    );
}

#[test]
fn synthetic_truncated_ndb_and_header_blobs_never_panic() {
    let blobs = sqlite_fixture_blobs();
    let packages: Vec<(u32, &[u8])> = (1..).zip(blobs.iter().map(Vec::as_slice)).collect();
    let db = ndb_layout(&packages, 1, false);
    for cut in [0, 8, 31, 100, 4095, 4096, 4200, db.len() / 2, db.len() - 40] {
        let parsed = read_database(&NdbFormat, &db[..cut], None);
        assert!(!parsed.warnings.is_empty(), "cut {cut}");
    }
    let blob = &blobs[0];
    assert!(parse_header(blob).is_ok());
    for cut in (0..blob.len()).step_by(7) {
        assert!(parse_header(&blob[..cut]).is_err(), "cut {cut}");
    }
    let formats: [&dyn RpmDbFormat; 3] = [&SqliteFormat, &BdbFormat, &NdbFormat];
    for f in formats {
        assert!(!read_database(f, &[0u8; 8192], None).warnings.is_empty());
    }
}

/// Builds a database with the machine's own rpm 4.18 when it is installed (the fixture above
/// was made this way). Fails under CI=true when rpm/rpmbuild are missing.
#[test]
fn live_rpm_tool_database_is_read() {
    if !have_rpm() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let top = dir.path().join("build");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/rpm/world.spec");
    let out = std::process::Command::new("rpmbuild")
        .arg("--define")
        .arg(format!("_topdir {}", top.display()))
        .args(["--define", "_build_id_links none", "--quiet", "-bb"])
        .arg(&spec)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rpm = top.join("RPMS/noarch/world-libs-0.9-1.noarch.rpm");
    let root = dir.path().join("root");
    let dbpath = "/var/lib/rpm";
    for args in [
        vec!["--initdb"],
        vec![
            "-i",
            "--nodeps",
            "--justdb",
            "--noscripts",
            rpm.to_str().unwrap(),
        ],
    ] {
        let out = std::process::Command::new("rpm")
            .arg("--root")
            .arg(&root)
            .args(["--dbpath", dbpath, "--define", "_db_backend sqlite"])
            .args(&args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let db = std::fs::read(root.join("var/lib/rpm/rpmdb.sqlite")).unwrap();
    let wal = std::fs::read(root.join("var/lib/rpm/rpmdb.sqlite-wal")).ok();
    let parsed = read_database(&SqliteFormat, &db, wal.as_deref());
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.packages.len(), 1);
    assert_eq!(parsed.packages[0].name, "world-libs");
    assert_eq!(
        parsed.packages[0].files[0].path,
        "/usr/share/world/data.txt"
    );
}

/// Writes a SQLite database with `sql` (built by rusqlite here: hostile schemas no tool of
/// rpm's would write) and returns its bytes.
fn hostile_sqlite(sql: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rpmdb.sqlite");
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(sql).unwrap();
    drop(conn);
    std::fs::read(&path).unwrap()
}

fn real_header_blob() -> Vec<u8> {
    let db = fixture("rpm418-sqlite-rpmdb.sqlite.gz");
    SqliteFormat.header_blobs(&db, None).packages.remove(0)
}

#[test]
fn hostile_sqlite_packages_view_of_endless_rows_is_refused() {
    // A view over a recursive CTE: before, `SELECT blob FROM Packages` never ended and its
    // rows filled memory.
    let db = hostile_sqlite(
        "CREATE VIEW Packages AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) \
         SELECT zeroblob(1000) AS blob FROM c;",
    );
    let started = std::time::Instant::now();
    let parsed = read_database(&SqliteFormat, &db, None);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(parsed.packages.is_empty());
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.contains("not an ordinary table")),
        "{:?}",
        parsed.warnings
    );
}

#[test]
fn hostile_sqlite_virtual_table_and_missing_table_are_refused() {
    let db = hostile_sqlite("CREATE VIRTUAL TABLE Packages USING fts5(blob);");
    let parsed = read_database(&SqliteFormat, &db, None);
    assert!(
        parsed.warnings.iter().any(|w| w.contains("virtual table")),
        "{:?}",
        parsed.warnings
    );
    let db = hostile_sqlite("CREATE TABLE Other (blob BLOB);");
    let parsed = read_database(&SqliteFormat, &db, None);
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.contains("no `Packages` table")),
        "{:?}",
        parsed.warnings
    );
}

#[test]
fn hostile_sqlite_rows_bytes_and_time_are_bounded() {
    let blob = hex::encode(real_header_blob());
    let db = hostile_sqlite(&format!(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL); \
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300) \
         INSERT INTO Packages (blob) SELECT X'{blob}' FROM c;"
    ));
    assert_eq!(read_database(&SqliteFormat, &db, None).packages.len(), 300);

    let rows = RpmLimits {
        sqlite: SqliteLimits {
            max_rows: 100,
            ..SqliteLimits::default()
        },
        ..RpmLimits::default()
    };
    let parsed = read_database_with_limits(&SqliteFormat, &db, None, &rows);
    assert_eq!(parsed.packages.len(), 100);
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.contains("more than 100 rows")),
        "{:?}",
        parsed.warnings
    );

    let per_blob = u64::try_from(blob.len() / 2).unwrap();
    let bytes = RpmLimits {
        sqlite: SqliteLimits {
            max_bytes: per_blob * 10 + 1,
            ..SqliteLimits::default()
        },
        ..RpmLimits::default()
    };
    let parsed = read_database_with_limits(&SqliteFormat, &db, None, &bytes);
    assert_eq!(parsed.packages.len(), 10);
    assert!(
        parsed.warnings.iter().any(|w| w.contains("more than")),
        "{:?}",
        parsed.warnings
    );

    let time = RpmLimits {
        sqlite: SqliteLimits {
            max_time: std::time::Duration::ZERO,
            ..SqliteLimits::default()
        },
        ..RpmLimits::default()
    };
    let many = hostile_sqlite(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL); \
         WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 20000) \
         INSERT INTO Packages (blob) SELECT zeroblob(16) FROM c;",
    );
    let parsed = read_database_with_limits(&SqliteFormat, &many, None, &time);
    assert!(
        parsed.warnings.iter().any(|w| w.contains("time limit")),
        "{:?}",
        parsed.warnings
    );
}

#[test]
fn hostile_sqlite_generated_column_cannot_ask_for_huge_values() {
    // An ordinary table whose `blob` is computed: 20 MB per row from a few bytes of schema.
    let db = hostile_sqlite(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, \
         blob BLOB GENERATED ALWAYS AS (zeroblob(20000000)) VIRTUAL); \
         INSERT INTO Packages (hnum) VALUES (1), (2), (3);",
    );
    let limits = RpmLimits {
        sqlite: SqliteLimits {
            max_bytes: 1 << 20,
            ..SqliteLimits::default()
        },
        ..RpmLimits::default()
    };
    let parsed = read_database_with_limits(&SqliteFormat, &db, None, &limits);
    assert!(parsed.packages.is_empty());
    assert!(!parsed.warnings.is_empty());
}

#[test]
fn hostile_sqlite_triggers_do_not_run_and_the_copy_is_read_only() {
    // Reading must not write: a trigger cannot fire on a read, and the connection is
    // read-only, so the real blob comes back unchanged.
    let blob = hex::encode(real_header_blob());
    let db = hostile_sqlite(&format!(
        "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB NOT NULL); \
         INSERT INTO Packages (blob) VALUES (X'{blob}'); \
         CREATE TABLE Log (x); \
         CREATE TRIGGER t AFTER INSERT ON Packages BEGIN INSERT INTO Log VALUES (1); END;"
    ));
    let parsed = read_database(&SqliteFormat, &db, None);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(parsed.packages.len(), 1);
    assert_eq!(parsed.packages[0].name, "anchorage-hello");
}
