//! Mutation smoke test of every OS parser, run in the normal test suite (cargo-fuzz targets in
//! `fuzz/` go deeper but stay out of CI): real inputs with bytes flipped, inserted and cut
//! must never panic.

use std::path::Path;

use crate::rpmdb_build;

use anchorage_catalog::parsers::{
    BdbFormat, NdbFormat, RpmDbFormat, SqliteFormat, parse_copyright, parse_header,
    parse_installed, parse_list, parse_md5sums, parse_status, read_database,
};

struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }
}

fn mutate(rng: &mut XorShift, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..=rng.below(8) {
        match rng.below(4) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] = rng.next() as u8;
            }
            1 => {
                let i = rng.below(out.len() + 1);
                out.insert(i, [0u8, 0xff, b'\n', b':', 0x80][rng.below(5)]);
            }
            2 if !out.is_empty() => {
                let at = rng.below(out.len());
                out.truncate(at.max(out.len() / 2));
            }
            _ if out.len() >= 4 => {
                // Big-endian / little-endian "large number" plants hit size fields.
                let i = rng.below(out.len() - 3);
                out[i..i + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0x7f]);
            }
            _ => {}
        }
    }
    out
}

#[test]
fn synthetic_mutated_text_databases_never_panic() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/images");
    let status = std::fs::read(corpus.join("debian-bookworm/var/lib/dpkg/status")).unwrap();
    let installed = std::fs::read(corpus.join("alpine-3.20/lib/apk/db/installed")).unwrap();
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    for _ in 0..300 {
        let s = mutate(&mut rng, &status);
        let _ = parse_status(&s);
        let _ = parse_list(&s);
        let _ = parse_md5sums(&s);
        let _ = parse_copyright(&s);
        let _ = parse_installed(&mutate(&mut rng, &installed));
    }
}

#[test]
fn synthetic_mutated_rpm_databases_never_panic() {
    // Real rpm 4.18 headers (the committed SQLite fixture) stored as Berkeley DB (written by
    // db_load, when installed; required under CI=true) and in the NDB layout.
    let sqlite = rpmdb_build::gz_fixture("rpm418-sqlite-rpmdb.sqlite.gz");
    let blobs = rpmdb_build::sqlite_fixture_blobs();
    let (bdb, btree) = rpmdb_build::db_load()
        .map(|tool| {
            let records = rpmdb_build::rpm_bdb_records(&blobs, false);
            (
                rpmdb_build::bdb_hash(tool, &records, 512, false),
                rpmdb_build::bdb_file(tool, "btree", &records, 512, false),
            )
        })
        .unwrap_or_default();
    let packages: Vec<(u32, &[u8])> = (1..).zip(blobs.iter().map(Vec::as_slice)).collect();
    let ndb = rpmdb_build::ndb_layout(&packages, 1, false);
    let real_ndb = rpmdb_build::gz_fixture("rpm418-ndb-Packages.db.gz");
    let blob = blobs[0].clone();
    assert!(parse_header(&blob).is_ok());
    let mut rng = XorShift(0x2545_f491_4f6c_dd1d);
    for _ in 0..400 {
        let _ = parse_header(&mutate(&mut rng, &blob));
        let _ = read_database(&BdbFormat, &mutate(&mut rng, &bdb), None);
        let _ = read_database(&BdbFormat, &mutate(&mut rng, &btree), None);
    }
    for _ in 0..40 {
        let _ = read_database(&NdbFormat, &mutate(&mut rng, &ndb), None);
        let _ = read_database(&NdbFormat, &mutate(&mut rng, &real_ndb), None);
    }
    let sqlite_format: &dyn RpmDbFormat = &SqliteFormat;
    for _ in 0..15 {
        let _ = read_database(sqlite_format, &mutate(&mut rng, &sqlite), None);
    }
}
