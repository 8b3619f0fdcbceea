//! The language catalogers merged from the `breadth` branch (PEAR, WordPress, R, GitHub Actions,
//! Python lock files, the binary classifier table) under the single-walk interface: the walk
//! offers each entry to `wants`, and `catalog_files` must find its packages in the files it is
//! given, never by walking the tree again. Inputs are the real fixtures of the per-ecosystem
//! tests (fixtures/lang/PROVENANCE.md), laid out as one image.
#![allow(clippy::unwrap_used)]

use crate::lang_support;

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use anchorage_catalog::{CatalogContext, LangLimits, language_catalogers};
use anchorage_image::{FileEntry, FsError, ImageFs, LayerRef, MemFs};
use anchorage_types::PackageType;
use lang_support::fixture;

/// An [`ImageFs`] that counts tree walks (`entries`, `entries_under`).
struct CountingFs {
    inner: MemFs,
    walks: AtomicUsize,
}

impl ImageFs for CountingFs {
    fn layers(&self) -> &[LayerRef] {
        self.inner.layers()
    }

    fn entry(&self, path: &str) -> Option<FileEntry> {
        self.inner.entry(path)
    }

    fn entries(&self) -> Box<dyn Iterator<Item = FileEntry> + '_> {
        self.walks.fetch_add(1, Ordering::SeqCst);
        self.inner.entries()
    }

    fn entries_under(&self, dir: &str) -> Box<dyn Iterator<Item = FileEntry> + '_> {
        self.walks.fetch_add(1, Ordering::SeqCst);
        self.inner.entries_under(dir)
    }

    fn open_entry(&self, entry: &FileEntry) -> Result<Box<dyn Read + Send + '_>, FsError> {
        self.inner.open_entry(entry)
    }
}

/// Adds every file under `dir` at `image_root` + its relative path.
fn add_tree(fs: &mut MemFs, dir: &Path, image_root: &str) {
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_string_lossy().to_string();
                fs.add_file(&format!("{image_root}/{rel}"), std::fs::read(&p).unwrap());
            }
        }
    }
}

fn breadth_image() -> MemFs {
    let mut fs = MemFs::new();
    for e in std::fs::read_dir(fixture("pear-registry")).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".reg") {
            fs.add_file(
                &format!("/usr/share/php/.registry/{name}"),
                std::fs::read(&p).unwrap(),
            );
        }
    }
    add_tree(&mut fs, &fixture("wordpress"), "/var/www/html");
    add_tree(&mut fs, &fixture("r-library"), "/usr/lib/R/library");
    add_tree(
        &mut fs,
        &fixture("gha-attrs-23.2.0"),
        "/src/attrs/.github/workflows",
    );
    fs.add_file(
        "/srv/app/uv.lock",
        std::fs::read(fixture("python-locks/uv.lock")).unwrap(),
    );
    fs
}

#[test]
fn breadth_catalogers_find_packages_without_walking_in_catalog_files() {
    let fs = CountingFs {
        inner: breadth_image(),
        walks: AtomicUsize::new(0),
    };
    let catalogers = language_catalogers(&LangLimits::default());
    // the one walk
    let mut wanted: Vec<Vec<FileEntry>> = vec![Vec::new(); catalogers.len()];
    for entry in fs.entries() {
        for (i, c) in catalogers.iter().enumerate() {
            if c.wants(&entry) {
                wanted[i].push(entry.clone());
            }
        }
    }
    assert_eq!(fs.walks.load(Ordering::SeqCst), 1);

    let mut ctx = CatalogContext::default();
    let mut by_type: BTreeMap<PackageType, usize> = BTreeMap::new();
    for (c, files) in catalogers.iter().zip(&wanted) {
        let before = fs.walks.load(Ordering::SeqCst);
        for p in c.catalog_files(&fs, files, &mut ctx) {
            *by_type.entry(p.package_type).or_default() += 1;
        }
        assert_eq!(
            fs.walks.load(Ordering::SeqCst),
            before,
            "cataloger {} walked the tree inside catalog_files",
            c.name()
        );
    }
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    // the counts the per-ecosystem tests establish for the same fixtures
    assert_eq!(by_type.get(&PackageType::PhpPear), Some(&6), "{by_type:?}");
    assert_eq!(
        by_type.get(&PackageType::RPackage),
        Some(&16),
        "{by_type:?}"
    );
    assert_eq!(
        by_type.get(&PackageType::WordpressPlugin),
        Some(&1),
        "{by_type:?}"
    );
    assert_eq!(by_type.get(&PackageType::Binary), Some(&1), "{by_type:?}");
    assert!(
        by_type
            .get(&PackageType::GithubAction)
            .is_some_and(|n| *n > 0),
        "{by_type:?}"
    );
    assert!(
        by_type.get(&PackageType::Python).is_some_and(|n| *n > 0),
        "{by_type:?}"
    );
}
