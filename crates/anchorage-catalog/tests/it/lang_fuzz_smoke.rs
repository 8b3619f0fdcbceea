//! Runs the fuzz entry points (`fuzz/fuzz_targets/lang_*`) over real seeds and deterministic
//! mutations of them (bit flips, truncations, splices): every input must return, never panic.
#![allow(clippy::unwrap_used)]

use crate::lang_support;

use anchorage_catalog::lang_fuzzing::{fuzz_go_buildinfo, fuzz_lockfiles, fuzz_zip_walker};
use lang_support::{corpus, fixture, jar_from_dir, zip_of};

/// Small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % (n.max(1) as u64)) as usize
    }
}

fn mutations(seed: &[u8], n: usize, rng: &mut Rng) -> Vec<Vec<u8>> {
    let mut out = vec![seed.to_vec(), Vec::new()];
    for _ in 0..n {
        let mut m = seed.to_vec();
        match rng.below(3) {
            0 => {
                for _ in 0..1 + rng.below(8) {
                    let i = rng.below(m.len());
                    if let Some(b) = m.get_mut(i) {
                        *b ^= 1 << rng.below(8);
                    }
                }
            }
            1 => m.truncate(rng.below(m.len())),
            _ => {
                let a = rng.below(m.len());
                let b = rng.below(m.len());
                let chunk = m[a.min(b)..a.max(b)].to_vec();
                let at = rng.below(m.len());
                m.splice(at..at, chunk);
            }
        }
        out.push(m);
    }
    out
}

#[test]
fn zip_walker_survives_mutated_real_jars() {
    let jar = jar_from_dir(&corpus().join("images/debian-bookworm-app/jar-metadata/log4j-core"));
    let war = zip_of(&[("WEB-INF/lib/log4j-core-2.19.0.jar", &jar)]);
    let mut rng = Rng(0x5eed_1234);
    for seed in [jar, war] {
        for m in mutations(&seed, 400, &mut rng) {
            fuzz_zip_walker(&m);
        }
    }
}

#[test]
fn go_buildinfo_survives_mutations() {
    let blob = std::fs::read(fixture("go-buildinfo-shfmt.bin")).unwrap();
    let mut rng = Rng(0x60_60);
    for m in mutations(&blob, 300, &mut rng) {
        fuzz_go_buildinfo(&m);
    }
    if let Ok(bin) = std::fs::read("/usr/bin/umoci") {
        // Header and section table damage on a real ELF (only the head is mutated: speed).
        let mut rng = Rng(0xe1f);
        for _ in 0..20 {
            let mut m = bin.clone();
            for _ in 0..16 {
                let i = rng.below(4096);
                m[i] ^= 1 << rng.below(8);
            }
            fuzz_go_buildinfo(&m);
        }
    }
}

#[test]
fn lockfile_parsers_survive_mutated_real_files() {
    let mut rng = Rng(0x10c4);
    let mut seeds: Vec<Vec<u8>> = [
        "yarn-v1.lock",
        "yarn-berry.lock",
        "pnpm-lock-v6.yaml",
        "Gemfile.lock",
        "composer.lock",
        "composer-installed.json",
        "Python.Runtime.deps.json",
        "rack-2.2.22.gemspec",
    ]
    .iter()
    .map(|f| std::fs::read(fixture(f)).unwrap())
    .collect();
    seeds.push(
        std::fs::read(corpus().join("images/debian-bookworm-app/opt/app/node/package-lock.json"))
            .unwrap(),
    );
    seeds.push(
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap()[..20_000]
            .to_vec(),
    );
    for seed in seeds {
        for m in mutations(&seed, 200, &mut rng) {
            fuzz_lockfiles(&m);
        }
    }
}
