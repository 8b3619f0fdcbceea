//! Java archives (jar, war, ear, par, sar, nar, jpi, hpi) and the archives nested in them.
//!
//! Identity comes from `META-INF/maven/**/pom.properties` (or `pom.xml` when no properties file
//! sits beside it), then `META-INF/MANIFEST.MF` (Implementation-, Specification-, Bundle-
//! fields), then the file name. Archives are read into memory under a size cap, and every zip
//! member read is capped by its size, the total inflated budget and the compression ratio.

use std::collections::BTreeMap;
use std::io::{Cursor, Read};

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::{Location, PackageType};
use quick_xml::events::Event;
use sha1::{Digest as _, Sha1};

use super::util::{base_name, cpe, is_file, purl, read_entry, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{JavaMetadata, Package, PackageMetadata};

const STAGE: &str = "java";

/// Archive extensions handled, lower case.
const EXTENSIONS: &[&str] = &["jar", "war", "ear", "par", "sar", "nar", "jpi", "hpi"];

/// Finds Java archives.
pub(crate) struct JavaCataloger {
    limits: LangLimits,
}

impl JavaCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

fn archive_ext(name: &str) -> Option<&'static str> {
    let (_, ext) = name.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    EXTENSIONS.iter().copied().find(|e| *e == ext)
}

fn le16(b: &[u8], at: usize) -> Option<u64> {
    let v = b.get(at..at.checked_add(2)?)?;
    Some(u64::from(u16::from_le_bytes([v[0], v[1]])))
}

fn le32(b: &[u8], at: usize) -> Option<u64> {
    let v = b.get(at..at.checked_add(4)?)?;
    Some(u64::from(u32::from_le_bytes([v[0], v[1], v[2], v[3]])))
}

fn le64(b: &[u8], at: usize) -> Option<u64> {
    let v: [u8; 8] = b.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(v))
}

const EOCD_SIGNATURE: &[u8] = b"PK\x05\x06";
const ZIP64_LOCATOR_SIGNATURE: &[u8] = b"PK\x06\x07";
const ZIP64_EOCD_SIGNATURE: &[u8] = b"PK\x06\x06";

/// Refuses a zip whose central directory declares more entries or bytes than `limits` allow,
/// before `zip::ZipArchive::new` reads (and allocates for) the whole directory.
///
/// Hand-written because the zip crate has no such bound: it reads every central directory
/// entry up front. Every end-of-central-directory record in the last 64 KiB + 22 bytes is
/// looked at, as the zip crate may try each of them: a classic record counts when its
/// directory fits before it (others are not plausible and the zip crate rejects them), a zip64
/// record (found through its locator) always counts. An archive without any record passes;
/// the zip crate then reports it as unreadable.
pub(crate) fn check_central_directory(bytes: &[u8], limits: &LangLimits) -> Result<(), String> {
    let max_entries = u64::try_from(limits.max_archive_entries).unwrap_or(u64::MAX);
    let max_bytes = limits.max_central_directory_bytes;
    let check = |entries: u64, size: u64| -> Result<(), String> {
        if entries > max_entries {
            return Err(format!(
                "central directory declares {entries} entries, above the limit of {max_entries}"
            ));
        }
        if size > max_bytes {
            return Err(format!(
                "central directory of {size} bytes is above the limit of {max_bytes}"
            ));
        }
        Ok(())
    };
    let window_start = bytes.len().saturating_sub(22 + 0xffff);
    let window = &bytes[window_start..];
    for found in memchr::memmem::rfind_iter(window, EOCD_SIGNATURE) {
        let at = window_start + found;
        let (Some(entries), Some(size)) = (le16(bytes, at + 10), le32(bytes, at + 12)) else {
            continue;
        };
        if size <= at as u64 {
            check(entries, size)?;
        }
        // zip64: a locator right before the classic record points at the zip64 record
        let Some(locator) = at.checked_sub(20) else {
            continue;
        };
        if bytes.get(locator..locator + 4) != Some(ZIP64_LOCATOR_SIGNATURE) {
            continue;
        }
        let Some(record) = le64(bytes, locator + 8).and_then(|r| usize::try_from(r).ok()) else {
            continue;
        };
        if bytes.get(record..record.saturating_add(4)) != Some(ZIP64_EOCD_SIGNATURE) {
            continue;
        }
        if let (Some(entries), Some(size)) = (le64(bytes, record + 32), le64(bytes, record + 40)) {
            check(entries, size)?;
        }
    }
    Ok(())
}

/// Reads one member of a zip held in memory, capped at `limit` bytes; `Ok(None)` when absent.
pub(crate) fn zip_member(
    bytes: &[u8],
    name: &str,
    limit: u64,
    limits: &LangLimits,
) -> Result<Option<Vec<u8>>, String> {
    check_central_directory(bytes, limits)?;
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| format!("not a readable zip: {e}"))?;
    let mut file = match archive.by_name(name) {
        Ok(f) => f,
        Err(zip::result::ZipError::FileNotFound) => return Ok(None),
        Err(e) => return Err(format!("{name}: {e}")),
    };
    if file.size() > limit {
        return Err(format!(
            "{name}: {} bytes exceeds the limit of {limit}",
            file.size()
        ));
    }
    let mut buf = Vec::new();
    file.by_ref()
        .take(limit + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("{name}: {e}"))?;
    if buf.len() as u64 > limit {
        return Err(format!("{name}: more than {limit} bytes inflated"));
    }
    Ok(Some(buf))
}

/// Main-section attributes of a MANIFEST.MF (continuation lines joined).
pub(crate) fn parse_manifest(input: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut last: Option<String> = None;
    for line in input.lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            break;
        }
        if let Some(cont) = line.strip_prefix(' ') {
            if let Some(k) = &last
                && let Some(v) = out.get_mut(k)
            {
                let v: &mut String = v;
                v.push_str(cont);
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            let k = k.trim().to_string();
            out.insert(k.clone(), v.trim().to_string());
            last = Some(k);
        }
    }
    out
}

/// Maven coordinates from pom.properties or pom.xml.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct PomCoords {
    pub(crate) group_id: String,
    pub(crate) artifact_id: String,
    pub(crate) version: String,
    pub(crate) name: Option<String>,
}

/// Parses a Java properties file for groupId / artifactId / version.
pub(crate) fn parse_pom_properties(input: &str) -> Option<PomCoords> {
    let mut c = PomCoords::default();
    for line in input.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with('!') {
            continue;
        }
        let Some(idx) = line.find(['=', ':']) else {
            continue;
        };
        let (k, v) = (line[..idx].trim(), line[idx + 1..].trim());
        match k {
            "groupId" => c.group_id = v.to_string(),
            "artifactId" => c.artifact_id = v.to_string(),
            "version" => c.version = v.to_string(),
            _ => {}
        }
    }
    (!c.artifact_id.is_empty()).then_some(c)
}

/// Parses a pom.xml for the project's coordinates (parent groupId/version as fallback).
pub(crate) fn parse_pom_xml(input: &str) -> Option<PomCoords> {
    let mut reader = quick_xml::Reader::from_str(input);
    let mut stack: Vec<String> = Vec::new();
    let mut c = PomCoords::default();
    let (mut parent_group, mut parent_version) = (String::new(), String::new());
    let mut events = 0usize;
    loop {
        events += 1;
        if events > 1_000_000 {
            break;
        }
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                stack.push(e.local_name().into_inner().to_string());
                if stack.len() > 64 {
                    return None;
                }
            }
            Ok(Event::End(_)) => {
                stack.pop();
            }
            Ok(Event::Text(t)) => {
                let v = t.trim().to_string();
                let path: Vec<&str> = stack.iter().map(String::as_str).collect();
                match path.as_slice() {
                    ["project", "groupId"] => c.group_id = v,
                    ["project", "artifactId"] => c.artifact_id = v,
                    ["project", "version"] => c.version = v,
                    ["project", "name"] => c.name = Some(v),
                    ["project", "parent", "groupId"] => parent_group = v,
                    ["project", "parent", "version"] => parent_version = v,
                    _ => {}
                }
            }
            Ok(Event::Eof) | Err(_) => break,
            Ok(_) => {}
        }
    }
    if c.group_id.is_empty() {
        c.group_id = parent_group;
    }
    if c.version.is_empty() {
        c.version = parent_version;
    }
    (!c.artifact_id.is_empty()).then_some(c)
}

/// Splits `name-1.2.3.jar` into (`name`, `1.2.3`); the version starts at the first `-digit`.
pub(crate) fn name_version_from_file(file: &str) -> (String, String) {
    let stem = file.rsplit_once('.').map(|(s, _)| s).unwrap_or(file);
    let bytes = stem.as_bytes();
    for i in 0..bytes.len().saturating_sub(1) {
        if bytes[i] == b'-' && bytes[i + 1].is_ascii_digit() {
            return (stem[..i].to_string(), stem[i + 1..].to_string());
        }
    }
    (stem.to_string(), String::new())
}

/// What one archive walk found before packages are built.
#[derive(Default)]
struct ArchiveContents {
    manifest: Option<BTreeMap<String, String>>,
    poms: Vec<PomCoords>,
}

/// One archive walk: shared budget and the warnings and packages it produced.
struct Walk<'a> {
    limits: &'a LangLimits,
    inflated: u64,
    location: Location,
    warnings: Vec<(String, String)>,
    packages: Vec<Package>,
}

impl Walk<'_> {
    fn warn(&mut self, vpath: &str, msg: impl Into<String>) {
        self.warnings.push((vpath.to_string(), msg.into()));
    }

    /// Reads member `i` under the per-entry, ratio and total budgets.
    fn read_member<R: Read + std::io::Seek>(
        &mut self,
        archive: &mut zip::ZipArchive<R>,
        i: usize,
        vpath: &str,
        limit: u64,
    ) -> Option<Vec<u8>> {
        let mut f = match archive.by_index(i) {
            Ok(f) => f,
            Err(e) => {
                self.warn(vpath, format!("unreadable zip entry: {e}"));
                return None;
            }
        };
        let size = f.size();
        let csize = f.compressed_size().max(1);
        if size > limit {
            self.warn(
                vpath,
                format!("entry of {size} bytes exceeds the limit of {limit}"),
            );
            return None;
        }
        if size > 1024 * 1024 && size / csize > self.limits.max_compression_ratio {
            self.warn(
                vpath,
                format!("compression ratio {} looks like a zip bomb", size / csize),
            );
            return None;
        }
        let remaining = self.limits.max_inflated_bytes.saturating_sub(self.inflated);
        let cap = limit.min(remaining);
        let mut buf = Vec::new();
        match f.by_ref().take(cap + 1).read_to_end(&mut buf) {
            Ok(_) => {}
            Err(e) => {
                self.warn(vpath, format!("inflate failed: {e}"));
                return None;
            }
        }
        self.inflated += buf.len() as u64;
        if buf.len() as u64 > cap {
            self.warn(vpath, "inflated size exceeds the archive budget");
            return None;
        }
        Some(buf)
    }

    /// Walks one archive (`vpath` names it, `file_name` is its own base name).
    fn walk(&mut self, bytes: &[u8], vpath: &str, file_name: &str, depth: usize) {
        if let Err(e) = check_central_directory(bytes, self.limits) {
            self.warn(vpath, format!("{e}; archive not read"));
            return;
        }
        let mut archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
            Ok(a) => a,
            Err(e) => {
                self.warn(vpath, format!("not a readable zip archive: {e}"));
                return;
            }
        };
        let n = archive.len();
        if n > self.limits.max_archive_entries {
            self.warn(
                vpath,
                format!(
                    "{n} entries; only the first {} read",
                    self.limits.max_archive_entries
                ),
            );
        }
        let mut contents = ArchiveContents::default();
        let mut pom_xml: Vec<(String, PomCoords)> = Vec::new();
        let mut props_dirs: Vec<String> = Vec::new();
        let mut nested: Vec<(usize, String)> = Vec::new();
        let names: Vec<(usize, String)> = (0..n.min(self.limits.max_archive_entries))
            .filter_map(|i| {
                archive
                    .name_for_index(i)
                    .and_then(Result::ok)
                    .map(|s| (i, s.to_string()))
            })
            .collect();
        let manifest_limit = 4 * 1024 * 1024;
        for (i, name) in names {
            if name.split(['/', '\\']).any(|c| c == "..") || name.starts_with('/') {
                self.warn(
                    vpath,
                    format!("entry {name:?} escapes the archive root; skipped"),
                );
                continue;
            }
            if name.eq_ignore_ascii_case("META-INF/MANIFEST.MF") {
                if let Some(b) =
                    self.read_member(&mut archive, i, &format!("{vpath}:{name}"), manifest_limit)
                {
                    contents.manifest = Some(parse_manifest(&text(&b)));
                }
            } else if name.starts_with("META-INF/maven/") && name.ends_with("/pom.properties") {
                if let Some(b) =
                    self.read_member(&mut archive, i, &format!("{vpath}:{name}"), manifest_limit)
                    && let Some(c) = parse_pom_properties(&text(&b))
                {
                    contents.poms.push(c);
                    props_dirs.push(name.trim_end_matches("pom.properties").to_string());
                }
            } else if name.starts_with("META-INF/maven/") && name.ends_with("/pom.xml") {
                if let Some(b) =
                    self.read_member(&mut archive, i, &format!("{vpath}:{name}"), manifest_limit)
                    && let Some(c) = parse_pom_xml(&text(&b))
                {
                    pom_xml.push((name.trim_end_matches("pom.xml").to_string(), c));
                }
            } else if archive_ext(&name).is_some() {
                nested.push((i, name));
            }
        }
        for (dir, c) in pom_xml {
            if !props_dirs.contains(&dir) {
                contents.poms.push(c);
            }
        }
        self.emit(bytes, vpath, file_name, depth, contents);
        for (i, name) in nested {
            let child = format!("{vpath}:{name}");
            if depth + 1 > self.limits.max_archive_depth {
                self.warn(
                    &child,
                    format!(
                        "nested deeper than {} archives; skipped",
                        self.limits.max_archive_depth
                    ),
                );
                continue;
            }
            if let Some(b) =
                self.read_member(&mut archive, i, &child, self.limits.max_archive_bytes)
            {
                self.walk(&b, &child, base_name(&name), depth + 1);
            }
        }
    }

    fn emit(
        &mut self,
        bytes: &[u8],
        vpath: &str,
        file_name: &str,
        depth: usize,
        c: ArchiveContents,
    ) {
        let ext = archive_ext(file_name).unwrap_or("jar");
        let archive_type = format!("JAVA-{}", ext.to_ascii_uppercase());
        let (file_name_name, file_name_version) = name_version_from_file(file_name);
        let manifest = c.manifest.unwrap_or_default();
        let sha1 = {
            let mut h = Sha1::new();
            h.update(bytes);
            h.finalize()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        };
        // The archive's own pom: the one whose artifactId is the file name, else the only one.
        let main_idx = c
            .poms
            .iter()
            .position(|p| p.artifact_id == file_name_name)
            .or_else(|| (c.poms.len() == 1).then_some(0));
        let get = |k: &str| manifest.get(k).filter(|v| !v.is_empty()).cloned();
        let main_pom = main_idx.and_then(|i| c.poms.get(i));
        let name = main_pom
            .map(|p| p.artifact_id.clone())
            .or_else(|| (!file_name_name.is_empty()).then(|| file_name_name.clone()))
            .or_else(|| get("Implementation-Title"))
            .or_else(|| get("Bundle-SymbolicName"))
            .unwrap_or_default();
        let version = main_pom
            .map(|p| p.version.clone())
            .filter(|v| !v.is_empty())
            .or_else(|| get("Implementation-Version"))
            // the file name's version beats the OSGi-normalized Bundle-Version (31.1.0.jre)
            .or_else(|| (!file_name_version.is_empty()).then(|| file_name_version.clone()))
            .or_else(|| get("Specification-Version"))
            .or_else(|| get("Bundle-Version"))
            .unwrap_or_default();
        let group = main_pom
            .map(|p| p.group_id.clone())
            .filter(|g| !g.is_empty())
            .or_else(|| get("Implementation-Vendor-Id"))
            .or_else(|| {
                get("Bundle-SymbolicName").and_then(|s| {
                    s.split(';')
                        .next()
                        .and_then(|s| s.rsplit_once('.'))
                        .map(|(g, _)| g.to_string())
                })
            });
        let licenses: Vec<String> = get("Bundle-License").into_iter().collect();
        let virtual_path = (depth > 0).then(|| vpath.to_string());
        if !name.is_empty() {
            let meta = JavaMetadata {
                archive_type: archive_type.clone(),
                group_id: group.clone(),
                artifact_id: main_pom.map(|p| p.artifact_id.clone()),
                maven_version: main_pom.map(|p| p.version.clone()),
                specification_version: get("Specification-Version"),
                implementation_version: get("Implementation-Version"),
                manifest: manifest.clone(),
                virtual_path: virtual_path.clone(),
                sha1: Some(sha1.clone()),
            };
            self.push(vpath, name, version, group, licenses.clone(), meta);
        }
        for (i, p) in c.poms.iter().enumerate() {
            if Some(i) == main_idx || p.version.is_empty() {
                continue;
            }
            let meta = JavaMetadata {
                archive_type: archive_type.clone(),
                group_id: Some(p.group_id.clone()),
                artifact_id: Some(p.artifact_id.clone()),
                maven_version: Some(p.version.clone()),
                virtual_path: Some(format!("{vpath}:{}:{}", p.group_id, p.artifact_id)),
                ..JavaMetadata::default()
            };
            self.push(
                vpath,
                p.artifact_id.clone(),
                p.version.clone(),
                Some(p.group_id.clone()),
                Vec::new(),
                meta,
            );
        }
    }

    /// Records one package found in the archive at `vpath`: the image path for a top-level
    /// archive, `outer.war:WEB-INF/lib/inner.jar` for a nested one (Anchore's form, so the
    /// `vulnerabilities/package` trigger id names the inner jar).
    fn push(
        &mut self,
        vpath: &str,
        name: String,
        version: String,
        group: Option<String>,
        licenses: Vec<String>,
        meta: JavaMetadata,
    ) {
        let ns = group
            .clone()
            .filter(|g| !g.is_empty())
            .unwrap_or_else(|| name.clone());
        let mut d = PackageDraft::new(
            PackageType::Java,
            name.clone(),
            version.clone(),
            purl("maven", Some(&ns), &name, &version),
            Location::new(vpath, self.location.layer.clone()),
        );
        if !version.is_empty() {
            d.cpes = maven_cpes(group.as_deref(), &name, &version);
        }
        d.licenses = licenses;
        d.metadata = PackageMetadata::Java(meta);
        self.packages.push(d.build());
    }
}

/// CPEs of a Maven artifact: the vendor taken from the groupId (`org.apache.logging.log4j` ->
/// `apache`, `com.fasterxml.jackson.core` -> `fasterxml`), then `name:name`.
pub(crate) fn maven_cpes(group: Option<&str>, name: &str, version: &str) -> Vec<String> {
    let mut cpes = Vec::new();
    if let Some(g) = group {
        let parts: Vec<&str> = g.split('.').collect();
        let vendor = match parts.as_slice() {
            [tld, v, ..] if ["org", "com", "net", "io", "de"].contains(tld) => *v,
            [v, ..] => *v,
            [] => name,
        };
        cpes.push(cpe(vendor, name, version));
    }
    let plain = cpe(name, name, version);
    if !cpes.contains(&plain) {
        cpes.push(plain);
    }
    cpes
}

/// Walks one archive held in memory; returns packages and `(virtual path, message)` warnings.
pub(crate) fn scan_archive(
    bytes: &[u8],
    path: &str,
    location: Location,
    limits: &LangLimits,
) -> (Vec<Package>, Vec<(String, String)>) {
    let mut walk = Walk {
        limits,
        inflated: 0,
        location,
        warnings: Vec::new(),
        packages: Vec::new(),
    };
    walk.walk(bytes, path, base_name(path), 0);
    (walk.packages, walk.warnings)
}

impl Cataloger for JavaCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e) && archive_ext(base_name(&e.path)).is_some()
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        for entry in files {
            let Some(bytes) = read_entry(fs, entry, self.limits.max_archive_bytes, ctx, STAGE)
            else {
                continue;
            };
            let (pkgs, warnings) =
                scan_archive(&bytes, &entry.path, location_of(fs, entry), &self.limits);
            for (p, m) in warnings {
                ctx.warn(STAGE, Some(&p), m);
            }
            out.extend(pkgs);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zip_with(count: usize) -> Vec<u8> {
        use std::io::Write as _;
        let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for i in 0..count {
            w.start_file(format!("f{i}"), zip::write::SimpleFileOptions::default())
                .unwrap();
            w.write_all(b"x").unwrap();
        }
        w.finish().unwrap().into_inner()
    }

    /// Only end records: a zip64 record claiming `entries` entries and `size` bytes of central
    /// directory, its locator, and a classic record pointing to zip64.
    fn hostile_zip64_end(entries: u64, size: u64) -> Vec<u8> {
        let mut z = Vec::new();
        z.extend_from_slice(ZIP64_EOCD_SIGNATURE);
        z.extend(44u64.to_le_bytes()); // size of the rest of the record
        z.extend(45u16.to_le_bytes());
        z.extend(45u16.to_le_bytes());
        z.extend(0u32.to_le_bytes());
        z.extend(0u32.to_le_bytes());
        z.extend(entries.to_le_bytes());
        z.extend(entries.to_le_bytes());
        z.extend(size.to_le_bytes());
        z.extend(0u64.to_le_bytes());
        z.extend_from_slice(ZIP64_LOCATOR_SIGNATURE);
        z.extend(0u32.to_le_bytes());
        z.extend(0u64.to_le_bytes()); // the zip64 record is at offset 0
        z.extend(1u32.to_le_bytes());
        z.extend_from_slice(EOCD_SIGNATURE);
        z.extend([0u8; 4]);
        z.extend([0xff; 4]);
        z.extend([0xff; 8]);
        z.extend(0u16.to_le_bytes());
        z
    }

    #[test]
    fn hostile_zip64_directory_claims_are_refused_before_reading() {
        let limits = LangLimits::default();
        let err = check_central_directory(&hostile_zip64_end(1_000_000_000_000, 46), &limits)
            .unwrap_err();
        assert!(err.contains("declares 1000000000000 entries"), "{err}");
        let err = check_central_directory(&hostile_zip64_end(10, 1 << 40), &limits).unwrap_err();
        assert!(err.contains("1099511627776 bytes"), "{err}");
        let (packages, warnings) = scan_archive(
            &hostile_zip64_end(1_000_000_000_000, 46),
            "/x.jar",
            Location::new("/x.jar", None),
            &limits,
        );
        assert!(packages.is_empty());
        assert!(
            warnings.iter().any(|(_, w)| w.contains("archive not read")),
            "{warnings:?}"
        );
    }

    #[test]
    fn synthetic_entry_count_limit_applies_before_the_directory_is_read() {
        let zip = zip_with(20);
        assert!(check_central_directory(&zip, &LangLimits::default()).is_ok());
        let tight = LangLimits {
            max_archive_entries: 10,
            ..LangLimits::default()
        };
        let err = check_central_directory(&zip, &tight).unwrap_err();
        assert!(err.contains("declares 20 entries"), "{err}");
        let tight = LangLimits {
            max_central_directory_bytes: 100,
            ..LangLimits::default()
        };
        assert!(check_central_directory(&zip, &tight).is_err());
        assert!(zip_member(&zip, "f1", 10, &tight).is_err());
        assert_eq!(
            zip_member(&zip, "f1", 10, &LangLimits::default()).unwrap(),
            Some(b"x".to_vec())
        );
    }

    #[test]
    fn file_names() {
        assert_eq!(
            name_version_from_file("guava-31.1-jre.jar"),
            ("guava".into(), "31.1-jre".into())
        );
        assert_eq!(
            name_version_from_file("log4j-core.jar"),
            ("log4j-core".into(), String::new())
        );
    }

    #[test]
    fn pom_xml_with_parent() {
        let c = parse_pom_xml(
            "<project><parent><groupId>g</groupId><version>1</version></parent>\
             <artifactId>a</artifactId><dependencies><dependency><version>9</version>\
             </dependency></dependencies></project>",
        )
        .unwrap();
        assert_eq!(
            (
                c.group_id.as_str(),
                c.artifact_id.as_str(),
                c.version.as_str()
            ),
            ("g", "a", "1")
        );
    }
}
