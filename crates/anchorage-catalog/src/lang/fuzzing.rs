//! Entry points for the fuzz targets in `fuzz/` (not a stable API). Each runs one parser on
//! arbitrary bytes; any panic or hang is a bug.

use super::LangLimits;

/// Walks arbitrary bytes as a Java archive with small limits.
pub fn fuzz_zip_walker(data: &[u8]) {
    let limits = LangLimits {
        max_archive_bytes: 1 << 20,
        max_inflated_bytes: 4 << 20,
        max_archive_entries: 1000,
        ..LangLimits::default()
    };
    let _ = super::java::scan_archive(
        data,
        "/fuzz.jar",
        anchorage_types::Location::new("/fuzz.jar", None),
        &limits,
    );
}

/// Reads Go build info from arbitrary executable bytes.
pub fn fuzz_go_buildinfo(data: &[u8]) {
    let _ = super::golang::read_buildinfo(data);
    let _ = super::golang::parse_buildinfo_blob(data, &|_, _| None);
}

/// Runs every lockfile and manifest parser on arbitrary text.
pub fn fuzz_lockfiles(data: &[u8]) {
    let t = String::from_utf8_lossy(data);
    let _ = super::javascript::parse_package_lock(&t);
    let _ = super::javascript::parse_yarn_lock(&t);
    let _ = super::javascript::parse_pnpm_lock(&t);
    let _ = super::rust::parse_cargo_lock(&t);
    let _ = super::rust::parse_auditable(data, 1 << 20);
    let _ = super::golang::parse_go_mod(&t);
    let _ = super::golang::parse_go_sum(&t);
    let _ = super::ruby::parse_gemfile_lock(&t);
    let _ = super::dotnet::parse_deps_json(data);
    let _ = super::php::parse_composer(data);
    let _ = super::python::parse_core_metadata(&t);
    let _ = super::python::parse_record(&t, "/sp");
    let _ = super::java::parse_manifest(&t);
    let _ = super::java::parse_pom_properties(&t);
    let _ = super::java::parse_pom_xml(&t);
}
