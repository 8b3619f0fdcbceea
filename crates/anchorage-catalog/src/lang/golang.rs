//! Go modules: build information embedded in ELF, Mach-O and PE executables (main module,
//! dependencies with versions and sums, Go version, build settings), and `go.mod` / `go.sum`.
//!
//! Go's build info is hand-parsed (no Rust crate reads it; Go's `debug/buildinfo` is the
//! reference): a 32-byte header starting `\xff Go buildinf:`, then either two varint-prefixed
//! strings (Go 1.18+, flag bit 2) or two pointers to Go string headers that are followed
//! through the section table (Go 1.13-1.17).

use std::collections::BTreeMap;

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use object::{Object, ObjectSection};

use super::util::{base_name, is_file, parent_dir, purl, read_entry, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{GoMetadata, Package, PackageMetadata};

const STAGE: &str = "go";
const MAGIC: &[u8] = b"\xff Go buildinf:";

/// Finds Go modules in `go.mod` files (binaries: see `executable.rs`).
pub(crate) struct GoCataloger {
    limits: LangLimits,
}

impl GoCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

/// One module from build info or go.mod.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct GoModule {
    pub(crate) path: String,
    pub(crate) version: String,
    pub(crate) sum: Option<String>,
}

/// Decoded build info of one binary.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct BuildInfo {
    pub(crate) go_version: String,
    pub(crate) path: Option<String>,
    pub(crate) main: Option<GoModule>,
    pub(crate) deps: Vec<GoModule>,
    pub(crate) settings: BTreeMap<String, String>,
}

/// True when `head` starts like an ELF, Mach-O (thin or fat) or PE file.
pub(crate) fn is_executable_magic(head: &[u8]) -> bool {
    head.starts_with(b"\x7fELF")
        || head.starts_with(b"MZ")
        || matches!(
            head.get(..4),
            Some(
                [0xfe, 0xed, 0xfa, 0xce | 0xcf]
                    | [0xce | 0xcf, 0xfa, 0xed, 0xfe]
                    | [0xca, 0xfe, 0xba, 0xbe]
            )
        )
}

fn uvarint(b: &[u8]) -> Option<(u64, usize)> {
    let mut x: u64 = 0;
    for (i, &byte) in b.iter().enumerate().take(10) {
        x |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some((x, i + 1));
        }
    }
    None
}

fn varint_string(b: &[u8]) -> Option<(&[u8], usize)> {
    let (n, used) = uvarint(b)?;
    let n = usize::try_from(n).ok()?;
    let s = b.get(used..used.checked_add(n)?)?;
    Some((s, used + n))
}

/// Strips the 16-byte sentinels Go wraps the modinfo string in.
fn strip_sentinels(s: &[u8]) -> &[u8] {
    if s.len() >= 33 && s[s.len() - 17] == b'\n' {
        &s[16..s.len() - 16]
    } else {
        s
    }
}

/// Reads a pointer-sized, endian-aware word.
fn word(b: &[u8], ptr_size: usize, big: bool) -> Option<u64> {
    let s = b.get(..ptr_size)?;
    Some(match (ptr_size, big) {
        (4, false) => u64::from(u32::from_le_bytes(s.try_into().ok()?)),
        (4, true) => u64::from(u32::from_be_bytes(s.try_into().ok()?)),
        (8, false) => u64::from_le_bytes(s.try_into().ok()?),
        (8, true) => u64::from_be_bytes(s.try_into().ok()?),
        _ => return None,
    })
}

/// Parses the build-info blob (starting at the magic); `read_at(addr, len)` maps virtual
/// addresses to bytes for the pre-1.18 pointer format.
pub(crate) fn parse_buildinfo_blob(
    blob: &[u8],
    read_at: &dyn Fn(u64, u64) -> Option<Vec<u8>>,
) -> Result<(String, String), String> {
    if blob.len() < 32 || !blob.starts_with(MAGIC) {
        return Err("no Go build info header".into());
    }
    let ptr_size = usize::from(blob[14]);
    let flags = blob[15];
    if flags & 2 != 0 {
        let rest = &blob[32..];
        let (vers, used) = varint_string(rest).ok_or("truncated Go version string")?;
        let (modinfo, _) = varint_string(&rest[used..]).ok_or("truncated module info string")?;
        return Ok((
            String::from_utf8_lossy(vers).into_owned(),
            String::from_utf8_lossy(strip_sentinels(modinfo)).into_owned(),
        ));
    }
    if ptr_size != 4 && ptr_size != 8 {
        return Err(format!("invalid pointer size {ptr_size}"));
    }
    let big = flags & 1 != 0;
    let read_string = |ptr_field: &[u8]| -> Option<Vec<u8>> {
        let hdr_addr = word(ptr_field, ptr_size, big)?;
        let hdr = read_at(hdr_addr, 2 * ptr_size as u64)?;
        let data = word(&hdr, ptr_size, big)?;
        let len = word(hdr.get(ptr_size..)?, ptr_size, big)?;
        if len > 16 * 1024 * 1024 {
            return None;
        }
        read_at(data, len)
    };
    let vers = read_string(&blob[16..]).ok_or("unreadable Go version pointer")?;
    let modinfo = read_string(&blob[16 + ptr_size..]).unwrap_or_default();
    Ok((
        String::from_utf8_lossy(&vers).into_owned(),
        String::from_utf8_lossy(strip_sentinels(&modinfo)).into_owned(),
    ))
}

/// Parses the modinfo text (`path`, `mod`, `dep`, `=>`, `build` lines).
pub(crate) fn parse_modinfo(go_version: &str, modinfo: &str) -> BuildInfo {
    let mut bi = BuildInfo {
        go_version: go_version.to_string(),
        ..BuildInfo::default()
    };
    let module = |f: &[&str]| GoModule {
        path: f.first().copied().unwrap_or("").to_string(),
        version: f.get(1).copied().unwrap_or("").to_string(),
        sum: f.get(2).filter(|s| !s.is_empty()).map(|s| s.to_string()),
    };
    for line in modinfo.lines() {
        let mut parts = line.splitn(2, '\t');
        let (kind, rest) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
        let f: Vec<&str> = rest.split('\t').collect();
        match kind {
            "path" => bi.path = Some(rest.to_string()),
            "mod" => bi.main = Some(module(&f)),
            "dep" => bi.deps.push(module(&f)),
            "=>" => {
                let replacement = module(&f);
                if let Some(last) = bi.deps.last_mut() {
                    *last = replacement;
                } else if let Some(m) = bi.main.as_mut() {
                    *m = replacement;
                }
            }
            "build" => {
                if let Some((k, v)) = rest.split_once('=') {
                    bi.settings
                        .insert(k.to_string(), v.trim_matches('"').to_string());
                }
            }
            _ => {}
        }
    }
    bi
}

/// Finds and decodes Go build info in an executable image.
pub(crate) fn read_buildinfo(data: &[u8]) -> Result<Option<BuildInfo>, String> {
    let file = object::File::parse(data).map_err(|e| format!("unreadable executable: {e}"))?;
    let mut blob_off: Option<usize> = None;
    for name in [".go.buildinfo", "__go_buildinfo"] {
        if let Some(sec) = file.section_by_name(name)
            && let Some((off, size)) = sec.file_range()
            && let (Ok(off), Ok(size)) = (usize::try_from(off), usize::try_from(size))
            && let Some(s) = data.get(off..off.saturating_add(size))
        {
            blob_off = memchr::memmem::find(s, MAGIC).map(|i| off + i);
        }
        if blob_off.is_some() {
            break;
        }
    }
    if blob_off.is_none() {
        // PE and stripped binaries: the header sits 16-byte aligned in a writable data section.
        for sec in file.sections() {
            let Some((off, size)) = sec.file_range() else {
                continue;
            };
            let (Ok(off), Ok(size)) = (usize::try_from(off), usize::try_from(size)) else {
                continue;
            };
            let Some(s) = data.get(off..off.saturating_add(size)) else {
                continue;
            };
            // In bounds: `s` is a slice of `data`, so offsets inside it add without overflow.
            let mut start = 0;
            while let Some(i) = s
                .get(start..)
                .and_then(|rest| memchr::memmem::find(rest, MAGIC))
            {
                if (start + i) % 16 == 0 {
                    blob_off = Some(off + start + i);
                    break;
                }
                start += i + 1;
            }
            if blob_off.is_some() {
                break;
            }
        }
    }
    let Some(off) = blob_off else {
        return Ok(None);
    };
    let blob = data
        .get(off..data.len().min(off.saturating_add(64 * 1024)))
        .ok_or("Go build info header outside the file")?;
    // Section addresses, sizes and file offsets come from the (untrusted) file: all arithmetic
    // is checked, and a section whose numbers overflow is skipped.
    let read_at = |addr: u64, len: u64| -> Option<Vec<u8>> {
        let end_addr = addr.checked_add(len)?;
        for sec in file.sections() {
            let start = sec.address();
            let Some(sec_end) = start.checked_add(sec.size()) else {
                continue;
            };
            if addr < start || end_addr > sec_end {
                continue;
            }
            let (foff, _) = sec.file_range()?;
            let begin = usize::try_from(foff.checked_add(addr - start)?).ok()?;
            let end = begin.checked_add(usize::try_from(len).ok()?)?;
            return data.get(begin..end).map(<[u8]>::to_vec);
        }
        None
    };
    let (vers, modinfo) = parse_buildinfo_blob(blob, &read_at)?;
    Ok(Some(parse_modinfo(&vers, &modinfo)))
}

/// go.mod `require` entries (single and block form), `replace` rewrites (a local-path target
/// keeps the module path with no version) and `exclude` (excluded versions are dropped).
pub(crate) fn parse_go_mod(input: &str) -> (Option<String>, Vec<GoModule>) {
    let mut module = None;
    let mut reqs: Vec<GoModule> = Vec::new();
    let mut replaces: Vec<(String, Option<String>, GoModule)> = Vec::new();
    let mut excludes: Vec<(String, String)> = Vec::new();
    let mut block: Option<&str> = None;
    for raw in input.lines() {
        let line = raw.split("//").next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        if line == ")" {
            block = None;
            continue;
        }
        let (kind, rest) = match block {
            Some(k) => (k, line),
            None => {
                let (k, r) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
                let r = r.trim();
                if r == "(" {
                    block = match k {
                        "require" => Some("require"),
                        "replace" => Some("replace"),
                        "exclude" => Some("exclude"),
                        _ => Some("other"),
                    };
                    continue;
                }
                (k, r)
            }
        };
        let f: Vec<&str> = rest.split_whitespace().collect();
        match kind {
            "module" => module = f.first().map(|s| s.trim_matches('"').to_string()),
            "require" if f.len() >= 2 => reqs.push(GoModule {
                path: f[0].trim_matches('"').to_string(),
                version: f[1].to_string(),
                sum: None,
            }),
            "exclude" if f.len() >= 2 => {
                excludes.push((f[0].trim_matches('"').to_string(), f[1].to_string()));
            }
            "replace" => {
                if let Some(arrow) = f.iter().position(|s| *s == "=>") {
                    let old = f.first().map(|s| s.to_string()).unwrap_or_default();
                    let old_v = (arrow == 2).then(|| f[1].to_string());
                    let new_path = f.get(arrow + 1).map(|s| s.to_string()).unwrap_or_default();
                    let new_v = f.get(arrow + 2).map(|s| s.to_string()).unwrap_or_default();
                    replaces.push((
                        old,
                        old_v,
                        GoModule {
                            path: new_path,
                            version: new_v,
                            sum: None,
                        },
                    ));
                }
            }
            _ => {}
        }
    }
    reqs.retain(|r| {
        !excludes
            .iter()
            .any(|(p, v)| *p == r.path && *v == r.version)
    });
    for r in &mut reqs {
        if let Some((_, _, new)) = replaces
            .iter()
            .find(|(p, v, _)| *p == r.path && v.as_ref().is_none_or(|v| *v == r.version))
        {
            if !new.version.is_empty() {
                *r = new.clone();
            } else if new.path.starts_with("./")
                || new.path.starts_with("../")
                || new.path.starts_with('/')
            {
                // a local directory: the code is not the required version of any release
                r.version.clear();
            }
        }
    }
    (module, reqs)
}

/// go.sum `module version h1:...` lines (the `/go.mod` lines are skipped).
pub(crate) fn parse_go_sum(input: &str) -> BTreeMap<(String, String), String> {
    let mut out = BTreeMap::new();
    for line in input.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 3 && !f[1].ends_with("/go.mod") {
            out.insert((f[0].to_string(), f[1].to_string()), f[2].to_string());
        }
    }
    out
}

fn go_package(m: &GoModule, location: anchorage_types::Location, meta: GoMetadata) -> Package {
    let (ns, name) = match m.path.rsplit_once('/') {
        Some((ns, n)) => (Some(ns), n),
        None => (None, m.path.as_str()),
    };
    let mut d = PackageDraft::new(
        PackageType::Go,
        m.path.clone(),
        m.version.clone(),
        purl("golang", ns, name, &m.version),
        location,
    );
    d.metadata = PackageMetadata::Go(meta);
    d.build()
}

impl Cataloger for GoCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e) && base_name(&e.path) == "go.mod"
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        for entry in files {
            if base_name(&entry.path) == "go.mod" {
                out.extend(self.go_mod(fs, entry, ctx));
                continue;
            }
        }
        out
    }
}

/// Packages from the Go build info of an executable already in memory (`Ok(empty)` when it
/// has none): the main module, the standard library and every dependency.
pub(crate) fn packages_from_executable(
    data: &[u8],
    loc: &anchorage_types::Location,
) -> Result<Vec<Package>, String> {
    let mut out = Vec::new();
    if memchr::memmem::find(data, MAGIC).is_none() {
        return Ok(out);
    }
    let Some(bi) = read_buildinfo(data)? else {
        return Ok(out);
    };
    {
        {
            let main_path = bi.main.as_ref().map(|m| m.path.clone()).or(bi.path.clone());
            if let Some(m) = &bi.main {
                let meta = GoMetadata {
                    go_version: Some(bi.go_version.clone()),
                    sum: m.sum.clone(),
                    main_module: main_path.clone(),
                    build_settings: bi.settings.clone(),
                };
                out.push(go_package(m, loc.clone(), meta));
            }
            if let Some(v) = bi.go_version.strip_prefix("go").filter(|v| !v.is_empty()) {
                // The standard library the binary was built with, as Syft reports it.
                let version = v.split([' ', '+']).next().unwrap_or(v);
                let mut d = PackageDraft::new(
                    PackageType::Go,
                    "stdlib",
                    bi.go_version.clone(),
                    purl("golang", None, "stdlib", version),
                    loc.clone(),
                );
                d.cpes = vec![super::util::cpe("golang", "go", version)];
                d.metadata = PackageMetadata::Go(GoMetadata {
                    go_version: Some(bi.go_version.clone()),
                    main_module: main_path.clone(),
                    build_settings: bi.settings.clone(),
                    ..GoMetadata::default()
                });
                out.push(d.build());
            }
            for dep in &bi.deps {
                let meta = GoMetadata {
                    go_version: Some(bi.go_version.clone()),
                    sum: dep.sum.clone(),
                    main_module: main_path.clone(),
                    build_settings: BTreeMap::new(),
                };
                out.push(go_package(dep, loc.clone(), meta));
            }
        }
    }
    Ok(out)
}

impl GoCataloger {
    fn go_mod(
        &self,
        fs: &dyn ImageFs,
        entry: &anchorage_image::FileEntry,
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let lim = self.limits.max_manifest_bytes;
        let Some(b) = read_entry(fs, entry, lim, ctx, STAGE) else {
            return Vec::new();
        };
        let (module, reqs) = parse_go_mod(&text(&b));
        let sum_path = format!("{}/go.sum", parent_dir(&entry.path));
        let sums = super::util::read_optional(fs, &sum_path, lim, ctx, STAGE)
            .map(|b| parse_go_sum(&text(&b)))
            .unwrap_or_default();
        let loc = location_of(fs, entry);
        reqs.into_iter()
            .map(|mut m| {
                m.sum = sums.get(&(m.path.clone(), m.version.clone())).cloned();
                let meta = GoMetadata {
                    sum: m.sum.clone(),
                    main_module: module.clone(),
                    ..GoMetadata::default()
                };
                go_package(&m, loc.clone(), meta)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian ELF64 file with a `.go.buildinfo` section holding a pre-1.18 pointer
    /// header whose version pointer lands in a `.data` section at file offset `data_offset`.
    fn elf_with_pointer_buildinfo(data_offset: u64) -> Vec<u8> {
        let mut f = vec![0u8; 256];
        f[..4].copy_from_slice(b"\x7fELF");
        f[4] = 2; // 64-bit
        f[5] = 1; // little endian
        f[6] = 1;
        f[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
        f[18..20].copy_from_slice(&62u16.to_le_bytes()); // x86-64
        f[20..24].copy_from_slice(&1u32.to_le_bytes());
        f[40..48].copy_from_slice(&256u64.to_le_bytes()); // e_shoff
        f[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
        f[58..60].copy_from_slice(&64u16.to_le_bytes()); // e_shentsize
        f[60..62].copy_from_slice(&4u16.to_le_bytes()); // e_shnum
        f[62..64].copy_from_slice(&1u16.to_le_bytes()); // e_shstrndx
        let names = b"\0.shstrtab\0.go.buildinfo\0.data\0";
        f[64..64 + names.len()].copy_from_slice(names);
        let mut blob = MAGIC.to_vec();
        blob.extend([8u8, 0]);
        blob.extend(0x2020u64.to_le_bytes()); // version string header, inside .data
        blob.extend(0x2030u64.to_le_bytes());
        f[128..128 + blob.len()].copy_from_slice(&blob);
        let section = |name: u32, kind: u32, addr: u64, offset: u64, size: u64| {
            let mut h = Vec::with_capacity(64);
            h.extend(name.to_le_bytes());
            h.extend(kind.to_le_bytes());
            h.extend(0u64.to_le_bytes());
            h.extend(addr.to_le_bytes());
            h.extend(offset.to_le_bytes());
            h.extend(size.to_le_bytes());
            h.extend([0u8; 24]);
            h
        };
        f.extend(section(0, 0, 0, 0, 0));
        f.extend(section(1, 3, 0, 64, u64::try_from(names.len()).unwrap()));
        f.extend(section(11, 1, 0x1000, 128, 32));
        f.extend(section(25, 1, 0x2000, data_offset, 0x100));
        f
    }

    #[test]
    fn hostile_buildinfo_pointer_into_a_section_at_an_overflowing_offset() {
        // .data claims a file offset near u64::MAX: offset + (address - section start)
        // overflowed (a panic in debug builds) before the arithmetic was checked.
        let elf = elf_with_pointer_buildinfo(u64::MAX - 0x10);
        let err = read_buildinfo(&elf).unwrap_err();
        assert!(err.contains("Go version pointer"), "{err}");
        // the same file with an in-bounds (but short) section is read without panicking
        let elf = elf_with_pointer_buildinfo(0);
        assert!(read_buildinfo(&elf).is_err());
    }

    #[test]
    fn synthetic_inline_buildinfo() {
        let mut blob = MAGIC.to_vec();
        blob.extend([8u8, 2]);
        blob.resize(32, 0);
        let vers = b"go1.21.0";
        blob.push(vers.len() as u8);
        blob.extend(vers);
        let mut mi = vec![b'x'; 16];
        mi.extend(b"path\texample.com/app\nmod\texample.com/app\t(devel)\t\ndep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n=>\t../sys\t\t\nbuild\tGOOS=linux\n");
        mi.extend(vec![b'y'; 16]);
        let n = mi.len();
        mi[n - 17] = b'\n';
        blob.push((n & 0x7f) as u8 | 0x80);
        blob.push((n >> 7) as u8);
        blob.extend(&mi);
        let (v, m) = parse_buildinfo_blob(&blob, &|_, _| None).unwrap();
        let bi = parse_modinfo(&v, &m);
        assert_eq!(bi.go_version, "go1.21.0");
        assert_eq!(bi.main.unwrap().path, "example.com/app");
        assert_eq!(bi.deps[0].path, "../sys");
        assert_eq!(bi.settings.get("GOOS").map(String::as_str), Some("linux"));
    }

    #[test]
    fn real_shfmt_buildinfo_section() {
        // The `.go.buildinfo` section of the official shfmt v3.14.1 linux/amd64 release binary
        // (go1.27.1, from the shfmt-py 4.2.0 PyPI wheel), dumped verbatim with objcopy (see
        // tests/fixtures/lang/PROVENANCE.md).
        let blob = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/lang/go-buildinfo-shfmt.bin"
        ))
        .unwrap();
        let (v, m) = parse_buildinfo_blob(&blob, &|_, _| None).unwrap();
        let bi = parse_modinfo(&v, &m);
        assert_eq!(bi.go_version, "go1.27.1");
        assert_eq!(bi.path.as_deref(), Some("mvdan.cc/sh/v3/cmd/shfmt"));
        let main = bi.main.unwrap();
        assert_eq!(
            (main.path.as_str(), main.version.as_str()),
            ("mvdan.cc/sh/v3", "v3.14.1")
        );
        assert_eq!(bi.deps.len(), 5);
        let first = &bi.deps[0];
        assert_eq!(
            (
                first.path.as_str(),
                first.version.as_str(),
                first.sum.as_deref()
            ),
            (
                "github.com/google/renameio/v2",
                "v2.0.2",
                Some("h1:qKZs+tfn+arruZZhQ7TKC/ergJunuJicWS6gLDt/dGw=")
            )
        );
        assert_eq!(
            bi.settings.get("CGO_ENABLED").map(String::as_str),
            Some("0")
        );
        assert_eq!(
            bi.settings.get("vcs.revision").map(String::as_str),
            Some("a3f0c75d21d918756fa38de8b5d3429efde7948b")
        );
        // truncated copies never panic
        for cut in [0, 10, 31, 33, 40, 500, blob.len() - 1] {
            let _ = parse_buildinfo_blob(&blob[..cut], &|_, _| None);
        }
    }

    #[test]
    fn synthetic_pre_118_pointer_format() {
        // Go 1.13-1.17: header holds pointers to string headers {data, len} (little endian, 8).
        let mut blob = MAGIC.to_vec();
        blob.extend([8u8, 0]);
        blob.extend(0x1000u64.to_le_bytes()); // -> version string header
        blob.extend(0x1010u64.to_le_bytes()); // -> modinfo string header
        let mut mem = vec![0u8; 0x200];
        mem[0..8].copy_from_slice(&0x1100u64.to_le_bytes());
        mem[8..16].copy_from_slice(&8u64.to_le_bytes());
        mem[0x10..0x18].copy_from_slice(&0x1120u64.to_le_bytes());
        let mi = b"0123456789abcdefpath\tx\nmod\tx\tv1.0.0\t\n0123456789abcdef";
        mem[0x18..0x20].copy_from_slice(&(mi.len() as u64).to_le_bytes());
        mem[0x100..0x108].copy_from_slice(b"go1.16.3");
        mem[0x120..0x120 + mi.len()].copy_from_slice(mi);
        let read_at = |addr: u64, len: u64| -> Option<Vec<u8>> {
            let start = usize::try_from(addr.checked_sub(0x1000)?).ok()?;
            mem.get(start..start + usize::try_from(len).ok()?)
                .map(<[u8]>::to_vec)
        };
        let (v, m) = parse_buildinfo_blob(&blob, &read_at).unwrap();
        assert_eq!(v, "go1.16.3");
        let bi = parse_modinfo(&v, &m);
        assert_eq!(bi.main.unwrap().version, "v1.0.0");
    }

    #[test]
    fn go_mod_blocks_and_replace() {
        let (m, r) = parse_go_mod(
            "module example.com/x\n\ngo 1.21\n\nrequire (\n\tgithub.com/a/b v1.2.3 // indirect\n\tgithub.com/c/d v0.1.0\n)\nrequire golang.org/x/text v0.3.0\nreplace github.com/c/d => github.com/e/d v0.2.0\n",
        );
        assert_eq!(m.as_deref(), Some("example.com/x"));
        assert_eq!(r.len(), 3);
        assert_eq!(r[1].path, "github.com/e/d");
        assert_eq!(r[2].version, "v0.3.0");
    }

    #[test]
    fn synthetic_go_mod_exclude_and_local_replace() {
        let (_, r) = parse_go_mod(
            "module x
require (
	github.com/a/b v1.2.3
	example.org/greet v1.2.3
)
exclude github.com/a/b v1.2.3
exclude (
	github.com/z/z v0.0.1
)
replace example.org/greet => ../greet
",
        );
        assert_eq!(r.len(), 1);
        assert_eq!(
            (r[0].path.as_str(), r[0].version.as_str()),
            ("example.org/greet", "")
        );
    }
}
