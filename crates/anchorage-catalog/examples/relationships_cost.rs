//! Measures what dependency resolution adds to an analysis: for each directory given (a root
//! file system, read through `DirFs`), runs the OS and language catalogers, then times
//! `relationships::resolve` alone and reports the declarations kept until then and the edges
//! per package type.
//!
//! `cargo run --release -p anchorage-catalog --example relationships_cost -- DIR...`

#![allow(
    clippy::print_stdout,
    reason = "a measuring tool: its output is the point"
)]

use std::collections::BTreeMap;
use std::time::Instant;

use anchorage_catalog::relationships::resolve;
use anchorage_catalog::{CatalogOptions, catalog_os_packages, language_catalogers};
use anchorage_image::{DirFs, Limits};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for dir in std::env::args().skip(1) {
        let fs = DirFs::open(std::path::Path::new(&dir), &Limits::default())?;
        let options = CatalogOptions::default();
        let started = Instant::now();
        let (mut packages, mut ctx) = catalog_os_packages(&fs, &options);
        for c in language_catalogers(&options.language) {
            packages.extend(c.catalog(&fs, &mut ctx));
        }
        let cataloged = started.elapsed();
        let decl_bytes: usize = ctx
            .dependencies
            .iter()
            .map(|d| {
                d.package_id.len()
                    + d.scope.len()
                    + d.provides.iter().map(String::len).sum::<usize>()
                    + d.requires.iter().flatten().map(String::len).sum::<usize>()
            })
            .sum();
        let started = Instant::now();
        let rels = resolve(&ctx.dependencies, &packages);
        let resolved = started.elapsed();
        let types: BTreeMap<&str, &str> = packages
            .iter()
            .map(|p| (p.id.as_str(), p.package_type.as_str()))
            .collect();
        let mut per_type: BTreeMap<&str, usize> = BTreeMap::new();
        for r in &rels {
            *per_type.entry(types[r.from.as_str()]).or_default() += 1;
        }
        println!(
            "{dir}: {} packages, {} declarations ({} KiB of strings), catalogers {:.1} ms, \
             resolve {:.2} ms, {} edges {per_type:?}",
            packages.len(),
            ctx.dependencies.len(),
            decl_bytes / 1024,
            cataloged.as_secs_f64() * 1e3,
            resolved.as_secs_f64() * 1e3,
            rels.len(),
        );
    }
    Ok(())
}
