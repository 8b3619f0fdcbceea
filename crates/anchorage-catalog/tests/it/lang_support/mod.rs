//! Helpers shared by the `lang_*` integration tests: the corpus image as a MemFs, jars built
//! from real META-INF content, host files for binaries, and running the language catalogers.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::print_stderr)]

use std::io::Write;
use std::path::{Path, PathBuf};

use anchorage_catalog::{CatalogContext, LangLimits, Package, language_catalogers};
use anchorage_image::{ImageFs, LayerRef, MemFs};

/// Diff ids of the two layers of debian-bookworm-app (from its OCI config).
pub const LAYER0: &str = "sha256:1cd417d4d2ac6acc1c873f5c431b4bdcf3b5155b4545eadb6671bd5ec062979b";
/// The application layer.
pub const LAYER1: &str = "sha256:7f291de2c8365fd60241a1fdcd29e57b3601252896e714a76952f9913e155517";

pub use anchorage_testkit::corpus_dir as corpus;

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/lang")
        .join(name)
}

fn add_tree(fs: &mut MemFs, root: &Path, dir: &Path, layer: &dyn Fn(&str) -> usize) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            add_tree(fs, root, &p, layer);
        } else {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            let image_path = format!("/{rel}");
            let l = layer(&image_path);
            fs.add_file_in_layer(&image_path, std::fs::read(&p).unwrap(), 0o644, l);
        }
    }
}

/// Builds a jar (zip) from a directory of real META-INF content.
pub fn jar_from_dir(dir: &Path) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    let mut stack = vec![dir.to_path_buf()];
    let mut files = Vec::new();
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    for p in files {
        let name = p
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        w.start_file(name, opts).unwrap();
        w.write_all(&std::fs::read(&p).unwrap()).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Builds a zip from (name, bytes) pairs.
pub fn zip_of(members: &[(&str, &[u8])]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default();
    for (n, b) in members {
        w.start_file(*n, opts).unwrap();
        w.write_all(b).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// Which layer a corpus path came from: the app layer made /opt, the python3 dist-packages
/// and the Java jars (image history: one apt-get/pip/npm step on top of debootstrap).
fn app_layer(path: &str) -> usize {
    if path.starts_with("/opt/")
        || path.starts_with("/usr/lib/python3/dist-packages/")
        || path.starts_with("/usr/share/java/")
    {
        1
    } else {
        0
    }
}

/// The debian-bookworm-app corpus files at their image paths, plus the two jars rebuilt from
/// the corpus META-INF content at the paths Syft saw them.
pub fn corpus_app_fs() -> MemFs {
    let img = corpus().join("images/debian-bookworm-app");
    let mut fs = MemFs::new();
    fs.set_layers(vec![
        LayerRef {
            digest: None,
            diff_id: Some(LAYER0.parse().unwrap()),
        },
        LayerRef {
            digest: None,
            diff_id: Some(LAYER1.parse().unwrap()),
        },
    ]);
    for top in ["etc", "opt", "usr", "var"] {
        add_tree(&mut fs, &img, &img.join(top), &app_layer);
    }
    let jars = img.join("jar-metadata");
    fs.add_file_in_layer(
        "/usr/share/java/jackson-databind.jar",
        jar_from_dir(&jars.join("jackson-databind")),
        0o644,
        1,
    );
    fs.add_file_in_layer(
        "/opt/app/lib/log4j-core.jar",
        jar_from_dir(&jars.join("log4j-core")),
        0o644,
        1,
    );
    fs
}

/// Runs every language cataloger; returns packages and the context (warnings).
pub fn run(fs: &dyn ImageFs) -> (Vec<Package>, CatalogContext) {
    run_with(fs, &LangLimits::default())
}

pub fn run_with(fs: &dyn ImageFs, limits: &LangLimits) -> (Vec<Package>, CatalogContext) {
    let mut ctx = CatalogContext::default();
    let mut out = Vec::new();
    for c in language_catalogers(limits) {
        out.extend(c.catalog(fs, &mut ctx));
    }
    (out, ctx)
}

/// True when running in CI, where every external input must be present.
pub fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// Reads a host file needed by a test: `None` (with a note) locally when missing, a panic
/// under `CI=true`.
pub fn host_file(path: &str, apt_package: &str) -> Option<Vec<u8>> {
    match std::fs::read(path) {
        Ok(b) => Some(b),
        Err(e) => {
            assert!(
                !ci(),
                "{path} is required in CI (apt package {apt_package}): {e}"
            );
            eprintln!("note: skipping, {path} missing ({e}); install apt package {apt_package}");
            None
        }
    }
}
