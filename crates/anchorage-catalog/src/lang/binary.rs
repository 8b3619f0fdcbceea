//! The binary cataloger: runtimes and servers whose version is only inside a file, found by the
//! data-driven rules of `classifiers.toml` (see [`super::classify`]), plus JDK/JRE installations
//! found by their `release` file (see [`super::jdk`]). Files are chosen by name first, then
//! streamed in bounded chunks; the matched text is kept as evidence.

use std::collections::HashSet;

use anchorage_image::{EntryKind, FileEntry, ImageFs};
use anchorage_types::PackageType;

use super::classify::{Hit, classify, wants};
use super::jdk::{MAX_RELEASE_BYTES, RELEASE_FILE, jvm_package, parse_release};
use super::util::{base_name, is_file, parent_dir, read_entry, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{BinaryMetadata, Package, PackageMetadata};

const STAGE: &str = "binary";

/// Finds runtimes by classifying binaries and JVM release files.
pub(crate) struct BinaryCataloger {
    limits: LangLimits,
}

impl BinaryCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }

    /// The one place that says which files this cataloger reads: any file some classifier rule
    /// accepts by name and path, and every file called `release`.
    pub(crate) fn wants_path(path: &str) -> bool {
        base_name(path) == RELEASE_FILE || wants(path)
    }
}

fn package(fs: &dyn ImageFs, entry: &FileEntry, hit: Hit) -> Package {
    let mut d = PackageDraft::new(
        PackageType::Binary,
        hit.package,
        hit.version,
        hit.purl,
        location_of(fs, entry),
    );
    d.cpes = hit.cpes;
    d.metadata = PackageMetadata::Binary(BinaryMetadata {
        classifier: hit.class,
        matched: hit.matched,
    });
    d.build()
}

/// The JVM home a launcher belongs to (`/x/bin/java` and `/x/jre/bin/java` -> `/x`).
fn jvm_home_of_launcher(path: &str) -> Option<&str> {
    let bin = parent_dir(path);
    let home = bin.strip_suffix("/bin")?;
    Some(home.strip_suffix("/jre").unwrap_or(home))
}

impl BinaryCataloger {
    fn jvm_releases(
        &self,
        fs: &dyn ImageFs,
        entries: &[&FileEntry],
        ctx: &mut CatalogContext,
        out: &mut Vec<Package>,
    ) -> HashSet<String> {
        let mut homes = HashSet::new();
        for entry in entries
            .iter()
            .filter(|e| base_name(&e.path) == RELEASE_FILE)
        {
            if entry.size > MAX_RELEASE_BYTES {
                continue;
            }
            let Some(bytes) = read_entry(fs, entry, MAX_RELEASE_BYTES, ctx, STAGE) else {
                continue;
            };
            let Some(release) = parse_release(&text(&bytes)) else {
                continue;
            };
            let home = parent_dir(&entry.path).to_string();
            let has_javac = fs.entry(&format!("{home}/bin/javac")).is_some();
            let Some(jvm) = jvm_package(&release, &entry.path, has_javac) else {
                continue;
            };
            let matched = format!(
                "IMPLEMENTOR={} JAVA_VERSION={}",
                jvm.implementor.as_deref().unwrap_or(""),
                jvm.version
            );
            out.push(package(
                fs,
                entry,
                Hit {
                    class: "java-release".into(),
                    package: jvm.name,
                    version: jvm.version,
                    matched,
                    purl: jvm.purl,
                    cpes: jvm.cpes,
                },
            ));
            homes.insert(home);
        }
        homes
    }
}

impl Cataloger for BinaryCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e) && Self::wants_path(&e.path)
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        let entries: Vec<&FileEntry> = files.iter().collect();
        let jvm_homes = self.jvm_releases(fs, &entries, ctx, &mut out);
        // one package per content: a hard link to an already classified file is the same binary
        let mut seen: HashSet<String> = HashSet::new();
        for entry in entries {
            if base_name(&entry.path) == RELEASE_FILE && !wants(&entry.path) {
                continue;
            }
            // a JVM already reported from its release file is not reported again by its launcher
            if matches!(base_name(&entry.path), "java" | "jdb")
                && jvm_home_of_launcher(&entry.path).is_some_and(|h| jvm_homes.contains(h))
            {
                continue;
            }
            let identity = match (&entry.kind, &entry.link_target) {
                (EntryKind::Hardlink, Some(t)) => t.clone(),
                _ => entry.path.clone(),
            };
            if seen.contains(&identity) {
                continue;
            }
            let reader = match fs.open_entry(entry) {
                Ok(r) => r,
                Err(e) => {
                    ctx.warn(STAGE, Some(&entry.path), e.to_string());
                    continue;
                }
            };
            match classify(&entry.path, reader, self.limits.max_classifier_scan_bytes) {
                Ok(Some(hit)) => {
                    seen.insert(identity);
                    out.push(package(fs, entry, hit));
                }
                Ok(None) => {}
                Err(e) => ctx.warn(STAGE, Some(&entry.path), format!("read failed: {e}")),
            }
        }
        out
    }
}
