//! JavaScript packages: installed `package.json` files (anywhere, including `node_modules`),
//! `package-lock.json` v1-v3, `npm-shrinkwrap.json`, `yarn.lock` (v1 and berry),
//! `pnpm-lock.yaml`, bun's text `bun.lock` and the `npm` and `jsr` packages of a `deno.lock`
//! (v3-v5).
//! bun's binary `bun.lockb` is recognised but not parsed (see [`bun_lockb_warning`]).
//!
//! In an image the installed `package.json` is the truth; a lockfile entry whose installed
//! `package.json` is present is left to the installed cataloger, so nothing is counted twice.

use std::collections::{BTreeSet, HashMap};

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;
use serde_json::Value;

use super::util::{base_name, is_file, join, npm_purl, parent_dir, read_entry, strip_jsonc, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{NpmMetadata, Package, PackageMetadata};
use crate::relationships::DependencyDecl;

const STAGE: &str = "javascript";

/// Finds npm packages.
pub(crate) struct JavascriptCataloger {
    limits: LangLimits,
}

impl JavascriptCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

/// One package read from a manifest or lockfile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct NpmEntry {
    pub(crate) name: String,
    pub(crate) version: String,
    /// Install path relative to the lockfile directory (`node_modules/a/node_modules/b`), when
    /// the format records it.
    pub(crate) install_path: Option<String>,
    pub(crate) license: Option<String>,
    pub(crate) resolved: Option<String>,
    pub(crate) integrity: Option<String>,
    pub(crate) dev: bool,
    /// The lockfile's root project (package-lock key `""`): not a package itself, it carries the
    /// project's direct dependencies.
    pub(crate) root: bool,
    /// What the entry requires, in the lockfile's own terms: dependency names (package-lock,
    /// resolved through the `node_modules` nesting), `name@range` descriptors (yarn) or
    /// `name@version` (pnpm).
    pub(crate) dependencies: Vec<String>,
    /// The descriptors the entry answers to (yarn's header line, pnpm's `name@version`).
    pub(crate) provides: Vec<String>,
    /// A JSR package (`jsr:` in a `deno.lock`), not an npm one.
    pub(crate) jsr: bool,
}

/// The dependency names of a package-lock (v2/v3 `packages` or v1 `requires`) entry:
/// `dependencies`, `optionalDependencies` and `peerDependencies` (npm 7+ installs peers), plus
/// `devDependencies` for the root project.
fn lock_dependency_names(p: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .filter_map(|k| p.get(*k).and_then(Value::as_object))
        .flat_map(|o| o.keys().cloned())
        .collect()
}

/// Where npm looks for dependency `dep` of the package installed at lockfile key `key`: its own
/// `node_modules`, then each enclosing package's, then the project's (`""` is the root).
pub(crate) fn npm_candidates(key: &str, dep: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = key;
    loop {
        out.push(if cur.is_empty() {
            format!("node_modules/{dep}")
        } else {
            format!("{cur}/node_modules/{dep}")
        });
        if cur.is_empty() {
            break;
        }
        cur = cur.rfind("/node_modules/").map_or("", |i| &cur[..i]);
    }
    out
}

fn str_field(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn license_of(v: &Value) -> Option<String> {
    match v.get("license") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => o.get("type").and_then(Value::as_str).map(str::to_string),
        _ => match v.get("licenses") {
            Some(Value::Array(a)) => {
                let parts: Vec<String> = a
                    .iter()
                    .filter_map(|l| match l {
                        Value::String(s) => Some(s.clone()),
                        Value::Object(o) => {
                            o.get("type").and_then(Value::as_str).map(str::to_string)
                        }
                        _ => None,
                    })
                    .collect();
                (!parts.is_empty()).then(|| parts.join(" OR "))
            }
            _ => None,
        },
    }
}

fn author_of(v: &Value) -> Option<String> {
    match v.get("author") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Object(o)) => {
            let name = o.get("name").and_then(Value::as_str).unwrap_or("");
            let email = o.get("email").and_then(Value::as_str);
            Some(match email {
                Some(e) => format!("{name} <{e}>"),
                None => name.to_string(),
            })
        }
        _ => None,
    }
}

/// Parses a package-lock.json / npm-shrinkwrap.json (lockfileVersion 1, 2 or 3).
pub(crate) fn parse_package_lock(input: &str) -> Result<Vec<NpmEntry>, String> {
    let v: Value = serde_json::from_str(input).map_err(|e| format!("invalid JSON: {e}"))?;
    let mut out = Vec::new();
    if let Some(packages) = v.get("packages").and_then(Value::as_object) {
        for (key, p) in packages {
            if key.is_empty() {
                out.push(NpmEntry {
                    install_path: Some(String::new()),
                    root: true,
                    dependencies: lock_dependency_names(
                        p,
                        &[
                            "dependencies",
                            "optionalDependencies",
                            "peerDependencies",
                            "devDependencies",
                        ],
                    ),
                    ..NpmEntry::default()
                });
                continue;
            }
            if p.get("link").and_then(Value::as_bool) == Some(true) {
                continue;
            }
            let Some(idx) = key.rfind("node_modules/") else {
                continue; // workspace folder, not an installed dependency
            };
            let name = str_field(p, "name").unwrap_or_else(|| key[idx + 13..].to_string());
            let Some(version) = str_field(p, "version") else {
                continue;
            };
            out.push(NpmEntry {
                name,
                version,
                install_path: Some(key.clone()),
                license: license_of(p),
                resolved: str_field(p, "resolved"),
                integrity: str_field(p, "integrity"),
                dev: p.get("dev").and_then(Value::as_bool).unwrap_or(false),
                dependencies: lock_dependency_names(
                    p,
                    &["dependencies", "optionalDependencies", "peerDependencies"],
                ),
                ..NpmEntry::default()
            });
        }
        return Ok(out);
    }
    // lockfileVersion 1: nested "dependencies"; depth bounded by an explicit stack.
    let mut stack: Vec<(String, &Value, usize)> = vec![(String::new(), &v, 0)];
    while let Some((prefix, node, depth)) = stack.pop() {
        let Some(deps) = node.get("dependencies").and_then(Value::as_object) else {
            continue;
        };
        if depth > 64 {
            return Err("dependencies nested deeper than 64 levels".into());
        }
        for (name, d) in deps {
            let path = if prefix.is_empty() {
                format!("node_modules/{name}")
            } else {
                format!("{prefix}/node_modules/{name}")
            };
            if let Some(version) = str_field(d, "version")
                && !version.starts_with("file:")
                && !version.starts_with("link:")
            {
                // an alias (`"my-case": {"version": "npm:case@1.6.3"}`) is the real package
                let (real, version) = match npm_alias(&version) {
                    Some((n, v)) => (n, v),
                    None => (name.clone(), version),
                };
                out.push(NpmEntry {
                    name: real,
                    version,
                    install_path: Some(path.clone()),
                    license: None,
                    resolved: str_field(d, "resolved"),
                    integrity: str_field(d, "integrity"),
                    dev: d.get("dev").and_then(Value::as_bool).unwrap_or(false),
                    dependencies: lock_dependency_names(d, &["requires"]),
                    ..NpmEntry::default()
                });
            }
            stack.push((path, d, depth + 1));
        }
    }
    Ok(out)
}

/// `npm:NAME@VERSION` (an npm alias) split into the real name and version.
fn npm_alias(spec: &str) -> Option<(String, String)> {
    let rest = spec.strip_prefix("npm:")?;
    let at = at_after_first(rest)?;
    let (n, v) = (&rest[..at], &rest[at + 1..]);
    (!n.is_empty() && !v.is_empty()).then(|| (n.to_string(), v.to_string()))
}

/// The package name in a registry tarball URL (`.../@scope/name/-/name-1.0.0.tgz`); forks and
/// aliases installed under another name resolve to it.
fn name_from_tarball_url(url: &str) -> Option<String> {
    let path = url.split(['#', '?']).next().unwrap_or(url);
    let (before, file) = path.rsplit_once("/-/")?;
    if !file.ends_with(".tgz") {
        return None;
    }
    let mut parts = before.rsplit('/');
    let last = parts.next()?;
    let last = last.replace("%2f", "/").replace("%2F", "/");
    if last.starts_with('@') && last.contains('/') {
        return Some(last);
    }
    let prev = parts.next().unwrap_or("");
    let name = if prev.starts_with('@') {
        format!("{prev}/{last}")
    } else {
        last.clone()
    };
    // the tarball file is named after the unscoped name
    let unscoped = name.rsplit('/').next().unwrap_or(&name);
    file.starts_with(&format!("{unscoped}-")).then_some(name)
}

/// Byte index of the first `@` after the first byte (`@scope/name@1` splits at the second).
/// `@` is ASCII, so the index is always a char boundary.
fn at_after_first(s: &str) -> Option<usize> {
    s.bytes().skip(1).position(|b| b == b'@').map(|i| i + 1)
}

/// The package name of a yarn descriptor like `@scope/name@^1.0.0` or `name@npm:1.0.0`.
fn descriptor_name(desc: &str) -> Option<&str> {
    let d = desc.trim().trim_matches('"');
    let at = at_after_first(d)?;
    Some(&d[..at])
}

/// Parses yarn.lock, classic (v1) or berry (YAML-shaped); line based so both work.
pub(crate) fn parse_yarn_lock(input: &str) -> Vec<NpmEntry> {
    let mut out: Vec<NpmEntry> = Vec::new();
    let mut current: Option<NpmEntry> = None;
    let mut skip = false;
    // inside an entry's `dependencies:` / `optionalDependencies:` map
    let mut in_deps = false;
    let flush = |cur: &mut Option<NpmEntry>, out: &mut Vec<NpmEntry>| {
        if let Some(mut e) = cur.take() {
            // yarn v1 aliases and forks: the registry tarball names the real package
            if let Some(n) = e.resolved.as_deref().and_then(name_from_tarball_url) {
                e.name = n;
            }
            *cur = Some(e);
        }
        if let Some(e) = cur.take()
            && !e.name.is_empty()
            && !e.version.is_empty()
            && !out.contains(&e)
        {
            out.push(e);
        }
    };
    for line in input.lines() {
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        if !line.starts_with(' ') {
            flush(&mut current, &mut out);
            let header = line.trim_end_matches(':');
            let first = header.split(", ").next().unwrap_or("");
            skip = header.starts_with("__metadata")
                || header.contains("@workspace:")
                || header.contains("@link:")
                || header.contains("@portal:");
            in_deps = false;
            let descriptors: Vec<String> = header
                .split(", ")
                .map(|d| d.trim().trim_matches('"').to_string())
                .filter(|d| !d.is_empty())
                .collect();
            current = descriptor_name(first).map(|n| NpmEntry {
                provides: descriptors,
                // `alias@npm:real@^1` (v1) names the real package after `npm:`
                name: first
                    .trim()
                    .trim_matches('"')
                    .get(n.len() + 1..)
                    .and_then(|spec| npm_alias(spec.trim_end_matches('"')))
                    .map_or_else(|| n.to_string(), |(real, _)| real),
                ..NpmEntry::default()
            });
            continue;
        }
        if skip {
            continue;
        }
        let Some(cur) = current.as_mut() else {
            continue;
        };
        let indent = line.len() - line.trim_start().len();
        let t = line.trim();
        if indent == 2 {
            in_deps = matches!(t, "dependencies:" | "optionalDependencies:");
        } else if indent == 4 && in_deps {
            // `name "range"` (v1) or `name: "npm:range"` (berry): the descriptor `name@range`
            if let Some((k, v)) = t.split_once(": ").or_else(|| t.split_once(' ')) {
                let (k, v) = (k.trim().trim_matches('"'), v.trim().trim_matches('"'));
                cur.dependencies.push(format!("{k}@{v}"));
            }
            continue;
        }
        if indent != 2 {
            continue; // other nested maps (peerDependencies, dependenciesMeta, ...)
        }
        let (k, v) = match t.split_once(": ") {
            Some((k, v)) => (k, v),
            None => match t.split_once(' ') {
                Some((k, v)) => (k, v),
                None => continue,
            },
        };
        let v = v.trim().trim_matches('"').to_string();
        match k.trim_matches('"') {
            "version" => cur.version = v,
            "resolved" => cur.resolved = Some(v),
            "integrity" | "checksum" => cur.integrity = Some(v),
            _ => {}
        }
    }
    flush(&mut current, &mut out);
    out
}

/// Splits a pnpm package key: v5 `/name/1.0.0` with peer suffixes (`/acorn-jsx/5.3.2_acorn@8.8.0`
/// is acorn-jsx 5.3.2), v6 `/name@1.0.0`, v9 `name@1.0.0(peer@1)`; scoped names alike.
fn pnpm_key(key: &str) -> Option<(String, String)> {
    let k = key.split('(').next().unwrap_or(key);
    let k = k.strip_prefix('/').unwrap_or(k);
    // the name ends at the first `/` or `@` after its scope
    let name_start = if k.starts_with('@') {
        k.find('/')? + 1
    } else {
        0
    };
    let sep = k[name_start..].find(['/', '@'])? + name_start;
    let (name, rest) = (&k[..sep], &k[sep + 1..]);
    let version = if k.as_bytes().get(sep) == Some(&b'/') {
        // v5: peers follow the version after `_`
        rest.split('_').next().unwrap_or(rest)
    } else {
        rest
    };
    (!name.is_empty() && !version.is_empty() && !version.contains('/'))
        .then(|| (name.to_string(), version.to_string()))
}

/// Parses pnpm-lock.yaml (any lockfileVersion).
pub(crate) fn parse_pnpm_lock(input: &str) -> Result<Vec<NpmEntry>, String> {
    // pnpm 9+ may write several YAML documents (an environment lockfile first): read them all
    let mut docs = Vec::new();
    for d in serde_yaml_ng::Deserializer::from_str(input) {
        let v = <serde_yaml_ng::Value as serde::Deserialize>::deserialize(d)
            .map_err(|e| format!("invalid YAML: {e}"))?;
        docs.push(v);
    }
    let mut out = Vec::new();
    for v in &docs {
        parse_pnpm_document(v, &mut out);
    }
    Ok(out)
}

/// Adds the packages of one pnpm-lock YAML document.
fn parse_pnpm_document(v: &serde_yaml_ng::Value, out: &mut Vec<NpmEntry>) {
    let Some(pkgs) = v.get("packages").and_then(|p| p.as_mapping()) else {
        return;
    };
    // pnpm 9 keeps the dependency lists in `snapshots` (keyed with peer suffixes)
    let mut snapshot_deps: std::collections::HashMap<(String, String), Vec<String>> =
        std::collections::HashMap::new();
    for (k, snap) in v
        .get("snapshots")
        .and_then(|s| s.as_mapping())
        .into_iter()
        .flatten()
    {
        if let Some(id) = k.as_str().and_then(pnpm_key) {
            snapshot_deps
                .entry(id)
                .or_default()
                .extend(pnpm_dependencies(snap));
        }
    }
    for (k, p) in pkgs {
        let Some(key) = k.as_str() else { continue };
        let Some((mut name, mut version)) = pnpm_key(key) else {
            continue;
        };
        let provides = vec![format!("{name}@{version}")];
        let mut dependencies = pnpm_dependencies(p);
        if let Some(more) = snapshot_deps.get(&(name.clone(), version.clone())) {
            dependencies.extend(more.iter().cloned());
        }
        if let Some(n) = p.get("name").and_then(|n| n.as_str()) {
            name = n.to_string();
        }
        if let Some(ver) = p.get("version").and_then(|n| n.as_str()) {
            version = ver.to_string();
        }
        out.push(NpmEntry {
            name,
            version,
            integrity: p
                .get("resolution")
                .and_then(|r| r.get("integrity"))
                .and_then(|i| i.as_str())
                .map(str::to_string),
            dev: p.get("dev").and_then(|d| d.as_bool()).unwrap_or(false),
            dependencies,
            provides,
            ..NpmEntry::default()
        });
    }
}

/// The `name@version` of every `dependencies` / `optionalDependencies` entry of a pnpm package
/// or snapshot, peer suffixes (`1.0.0(react@18)`, v5 `1.0.0_react@18`) removed.
fn pnpm_dependencies(p: &serde_yaml_ng::Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["dependencies", "optionalDependencies"] {
        for (name, version) in p
            .get(key)
            .and_then(|d| d.as_mapping())
            .into_iter()
            .flatten()
        {
            if let (Some(name), Some(version)) = (name.as_str(), version.as_str()) {
                let version = version.split('(').next().unwrap_or(version);
                let version = version.split('_').next().unwrap_or(version);
                out.push(format!("{name}@{version}"));
            }
        }
    }
    out
}

/// Splits `name@version` (`@types/ms@0.7.34`); `None` without a version.
fn split_ident(ident: &str) -> Option<(String, String)> {
    let at = ident.get(1..)?.find('@')? + 1;
    let (name, version) = (&ident[..at], &ident[at + 1..]);
    (!name.is_empty() && !version.is_empty()).then(|| (name.to_string(), version.to_string()))
}

/// Dependency names listed by a bun package entry or workspace (`dependencies`,
/// `optionalDependencies`, `peerDependencies`).
fn bun_dep_names(info: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .filter_map(|k| info.get(*k).and_then(Value::as_object))
        .flat_map(|m| m.keys().cloned())
        .collect()
}

/// Parses bun's text lockfile (`bun.lock`, JSON with trailing commas): every `packages` entry
/// whose identifier is `name@version` from a registry (workspace, git, file and link entries
/// are not registry packages). A package is development-only when no production dependency
/// of a workspace reaches it.
pub(crate) fn parse_bun_lock(input: &str) -> Result<Vec<NpmEntry>, String> {
    let v: Value =
        serde_json::from_str(&strip_jsonc(input)).map_err(|e| format!("invalid JSON: {e}"))?;
    let Some(packages) = v.get("packages").and_then(Value::as_object) else {
        return Err("no packages object".into());
    };
    const PROD: &[&str] = &["dependencies", "optionalDependencies", "peerDependencies"];
    // keys reachable from the workspaces' production dependencies
    let mut queue: Vec<String> = v
        .get("workspaces")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|w| w.values())
        .flat_map(|ws| bun_dep_names(ws, PROD))
        .collect();
    let mut prod: BTreeSet<String> = BTreeSet::new();
    while let Some(key) = queue.pop() {
        if !packages.contains_key(&key) || !prod.insert(key.clone()) {
            continue;
        }
        let info = packages
            .get(&key)
            .and_then(Value::as_array)
            .and_then(|a| a.iter().find(|x| x.is_object()));
        for dep in info.map(|i| bun_dep_names(i, PROD)).unwrap_or_default() {
            // a nested copy (`parent/dep`) wins over the hoisted one
            let nested = format!("{key}/{dep}");
            queue.push(if packages.contains_key(&nested) {
                nested
            } else {
                dep
            });
        }
    }
    let mut out = Vec::new();
    for (key, entry) in packages {
        let Some(arr) = entry.as_array() else {
            continue;
        };
        let Some((name, version)) = arr.first().and_then(Value::as_str).and_then(split_ident)
        else {
            continue;
        };
        if version.contains(':') || version.contains('/') {
            continue; // workspace:, github:, file:, link: ...
        }
        let integrity = arr
            .last()
            .and_then(Value::as_str)
            .filter(|s| s.contains('-') && arr.len() >= 4)
            .map(str::to_string);
        let resolved = arr
            .get(1)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string);
        out.push(NpmEntry {
            name,
            version,
            resolved,
            integrity,
            dev: !prod.contains(key),
            ..NpmEntry::default()
        });
    }
    Ok(out)
}

/// The purl qualifier of JSR packages. purl has no registered `jsr` type; like Syft, JSR
/// packages are `pkg:npm` purls (JSR's names are npm-shaped `@scope/name`) qualified with the
/// JSR registry, so that they never collide with the npm package of the same name.
const JSR_REPOSITORY: &str = "https://jsr.io";

/// Parses the npm and JSR packages of a `deno.lock`: `npm` and `jsr` (versions 4 and 5) or
/// `packages.npm` and `packages.jsr` (version 3), keyed `name@version`, npm keys with an
/// optional `_peer@x` suffix. Remote (URL) modules have no package identity and are not
/// reported.
pub(crate) fn parse_deno_lock(input: &str) -> Result<Vec<NpmEntry>, String> {
    let v: Value = serde_json::from_str(input).map_err(|e| format!("invalid JSON: {e}"))?;
    if v.get("version").is_none() {
        return Err("no lockfile version".into());
    }
    let section = |name: &str| {
        v.get(name)
            .or_else(|| v.get("packages").and_then(|p| p.get(name)))
            .and_then(Value::as_object)
    };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (jsr, table) in [(false, section("npm")), (true, section("jsr"))] {
        for (key, info) in table.into_iter().flatten() {
            let Some((name, version)) = split_ident(key) else {
                continue;
            };
            let version = version.split('_').next().unwrap_or_default().to_string();
            if version.is_empty() || !seen.insert((jsr, name.clone(), version.clone())) {
                continue;
            }
            out.push(NpmEntry {
                name,
                version,
                integrity: info
                    .get("integrity")
                    .and_then(Value::as_str)
                    .map(str::to_string),
                jsr,
                ..NpmEntry::default()
            });
        }
    }
    Ok(out)
}

/// The dependency declaration of lockfile entry `e` in `scope` (one lockfile), its package id
/// left for the caller: package-lock entries answer to their install path and look their
/// dependencies up through the `node_modules` nesting; yarn and pnpm entries answer to their
/// descriptors.
fn lock_decl(scope: &str, e: &NpmEntry) -> DependencyDecl {
    let mut d = DependencyDecl {
        package_id: String::new(),
        scope: scope.to_string(),
        provides: e.provides.clone(),
        requires: Vec::new(),
    };
    match &e.install_path {
        Some(key) => {
            d.provides.push(key.clone());
            d.requires = e
                .dependencies
                .iter()
                .map(|dep| npm_candidates(key, dep))
                .collect();
        }
        None => d.requires = e.dependencies.iter().map(|dep| vec![dep.clone()]).collect(),
    }
    d
}

/// The first bytes of every `bun.lockb`: a shebang line, then the format name.
const BUN_LOCKB_MAGIC: &[u8] = b"#!/usr/bin/env bun\nbun-lockfile-format-v0\n";

/// What to tell about a `bun.lockb` (bun's binary lockfile, the default of bun before 1.2).
///
/// Not parsed, on purpose: the file is bun's in-memory lockfile structures written out as
/// arrays of fixed-layout records whose layout follows bun's source and changes between bun
/// releases (the format version after the magic has changed several times within bun 1.x); it
/// is not documented, and bun's own answer for reading it is to convert it (`bun install -y`
/// writes a yarn v1 `yarn.lock`; bun >= 1.1.39 `--save-text-lockfile` writes the text
/// `bun.lock`, the default from bun 1.2). Syft does not read it either. So: no packages, and
/// a warning naming the file, unless a `bun.lock` or `yarn.lock` beside it (read on their
/// own) already says what it locks. Installed packages under `node_modules` are found from
/// their `package.json` files either way.
fn bun_lockb_warning(
    fs: &dyn ImageFs,
    entry: &FileEntry,
    lim: u64,
    ctx: &mut CatalogContext,
) -> Option<String> {
    let dir = parent_dir(&entry.path);
    if ["bun.lock", "yarn.lock"]
        .iter()
        .any(|f| fs.entry(&join(dir, f)).is_some())
    {
        return None;
    }
    let b = read_entry(fs, entry, lim, ctx, STAGE)?;
    let Some(rest) = b.strip_prefix(BUN_LOCKB_MAGIC) else {
        return Some(
            "named bun.lockb but does not start with bun's lockfile magic; not read".into(),
        );
    };
    let format = rest
        .get(..4)
        .map(|v| u32::from_le_bytes([v[0], v[1], v[2], v[3]]));
    Some(format!(
        "bun binary lockfile (format version {}) is not parsed: its layout is bun's internal, \
         undocumented and release-specific; the packages it locks are not reported unless \
         installed under node_modules. Commit a text bun.lock instead (`bun install \
         --save-text-lockfile`, the default from bun 1.2) or a yarn.lock (`bun install -y`)",
        format.map_or_else(|| "unknown".to_owned(), |f| f.to_string())
    ))
}

fn make_package(
    e: NpmEntry,
    location: anchorage_types::Location,
    author: Option<String>,
    homepage: Option<String>,
) -> Package {
    let purl = if e.jsr {
        let (scope, name) = match e.name.split_once('/') {
            Some((scope, n)) if scope.starts_with('@') => (Some(scope), n),
            _ => (None, e.name.as_str()),
        };
        anchorage_types::purl::for_package(
            "npm",
            scope,
            name,
            &e.version,
            &[("repository_url", JSR_REPOSITORY)],
        )
    } else {
        npm_purl(&e.name, &e.version)
    };
    let mut d = PackageDraft::new(
        PackageType::Npm,
        e.name.clone(),
        e.version.clone(),
        purl,
        location,
    );
    d.licenses = e.license.into_iter().collect();
    d.metadata = PackageMetadata::Npm(NpmMetadata {
        author,
        homepage,
        resolved: e.resolved,
        integrity: e.integrity,
        dev: e.dev,
    });
    d.build()
}

impl Cataloger for JavascriptCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e)
            && matches!(
                base_name(&e.path),
                "package.json"
                    | "package-lock.json"
                    | "npm-shrinkwrap.json"
                    | "yarn.lock"
                    | "pnpm-lock.yaml"
                    | "bun.lock"
                    | "bun.lockb"
                    | "deno.lock"
            )
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        let lim = self.limits.max_manifest_bytes;
        let entries = files;
        let mut installed: BTreeSet<(String, String, String)> = BTreeSet::new();
        // package directory -> id of the package its package.json made
        let mut manifest_ids: HashMap<String, String> = HashMap::new();
        for entry in entries
            .iter()
            .filter(|e| base_name(&e.path) == "package.json")
        {
            let Some(b) = read_entry(fs, entry, lim, ctx, STAGE) else {
                continue;
            };
            let v: Value = match serde_json::from_slice(&b) {
                Ok(v) => v,
                Err(e) => {
                    ctx.warn(STAGE, Some(&entry.path), format!("invalid JSON: {e}"));
                    continue;
                }
            };
            let (Some(name), Some(version)) = (str_field(&v, "name"), str_field(&v, "version"))
            else {
                continue;
            };
            installed.insert((
                parent_dir(&entry.path).to_string(),
                name.clone(),
                version.clone(),
            ));
            let e = NpmEntry {
                name,
                version,
                license: license_of(&v),
                ..NpmEntry::default()
            };
            let p = make_package(
                e,
                location_of(fs, entry),
                author_of(&v),
                str_field(&v, "homepage"),
            );
            manifest_ids
                .entry(parent_dir(&entry.path).to_string())
                .or_insert_with(|| p.id.clone());
            out.push(p);
        }
        let is_installed = |dir: &str, e: &NpmEntry| -> bool {
            match &e.install_path {
                Some(p) => fs
                    .entry(&format!("{}/package.json", join(dir, p)))
                    .is_some(),
                None => installed.contains(&(
                    join(dir, &format!("node_modules/{}", e.name)),
                    e.name.clone(),
                    e.version.clone(),
                )),
            }
        };
        for entry in entries {
            let base = base_name(&entry.path);
            if base == "bun.lockb" && !entry.path.contains("/node_modules/") {
                if let Some(w) = bun_lockb_warning(fs, entry, lim, ctx) {
                    ctx.warn(STAGE, Some(&entry.path), w);
                }
                continue;
            }
            if !matches!(
                base,
                "package-lock.json"
                    | "npm-shrinkwrap.json"
                    | "yarn.lock"
                    | "pnpm-lock.yaml"
                    | "bun.lock"
                    | "deno.lock"
            ) {
                continue;
            }
            if entry.path.contains("/node_modules/") {
                continue; // lockfiles shipped inside installed packages are not installs
            }
            let Some(b) = read_entry(fs, entry, lim, ctx, STAGE) else {
                continue;
            };
            let t = text(&b);
            let parsed = match base {
                "yarn.lock" => Ok(parse_yarn_lock(&t)),
                "pnpm-lock.yaml" => parse_pnpm_lock(&t),
                "bun.lock" => parse_bun_lock(&t),
                "deno.lock" => parse_deno_lock(&t),
                _ => parse_package_lock(&t),
            };
            let list = match parsed {
                Ok(l) => l,
                Err(e) => {
                    ctx.warn(STAGE, Some(&entry.path), e);
                    continue;
                }
            };
            let dir = parent_dir(&entry.path);
            let scope = format!("npm:{}", entry.path);
            for e in list {
                let mut decl = lock_decl(&scope, &e);
                let id = if e.root || (!e.jsr && is_installed(dir, &e)) {
                    // the project and installed entries are the packages of their package.json
                    e.install_path
                        .as_deref()
                        .and_then(|p| manifest_ids.get(&join(dir, p)).cloned())
                } else if e.dev && !self.limits.include_dev_dependencies {
                    None
                } else {
                    let p = make_package(e, location_of(fs, entry), None, None);
                    let id = p.id.clone();
                    out.push(p);
                    Some(id)
                };
                if let Some(id) = id {
                    decl.package_id = id;
                    ctx.dependencies.push(decl);
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pnpm_keys() {
        assert_eq!(
            pnpm_key("/lodash/4.17.21"),
            Some(("lodash".into(), "4.17.21".into()))
        );
        assert_eq!(
            pnpm_key("/@babel/core@7.1.0"),
            Some(("@babel/core".into(), "7.1.0".into()))
        );
        assert_eq!(
            pnpm_key("@a/b@1.0.0(react@18.0.0)"),
            Some(("@a/b".into(), "1.0.0".into()))
        );
        assert_eq!(
            pnpm_key("/@scope/x/2.0.0_peer"),
            Some(("@scope/x".into(), "2.0.0".into()))
        );
        assert_eq!(
            pnpm_key("/acorn-jsx/5.3.2_acorn@8.8.0"),
            Some(("acorn-jsx".into(), "5.3.2".into()))
        );
        assert_eq!(
            pnpm_key("/@typescript-eslint/utils/5.40.0_eslint@8.25.0+typescript@4.8.4"),
            Some(("@typescript-eslint/utils".into(), "5.40.0".into()))
        );
        assert_eq!(
            pnpm_key("/@babel/core@7.1.0(supports-color@5.5.0)"),
            Some(("@babel/core".into(), "7.1.0".into()))
        );
    }

    #[test]
    fn synthetic_aliases_and_tarball_names() {
        assert_eq!(
            npm_alias("npm:case@1.6.3"),
            Some(("case".into(), "1.6.3".into()))
        );
        assert_eq!(
            npm_alias("npm:@scope/real@2.0.0"),
            Some(("@scope/real".into(), "2.0.0".into()))
        );
        assert_eq!(
            name_from_tarball_url(
                "https://registry.yarnpkg.com/@babel/code-frame/-/code-frame-7.0.0.tgz#abc"
            ),
            Some("@babel/code-frame".into())
        );
        assert_eq!(
            name_from_tarball_url("https://registry.npmjs.org/case/-/case-1.6.3.tgz"),
            Some("case".into())
        );
        assert_eq!(
            name_from_tarball_url("https://codeload.github.com/u/r/tar.gz/abc"),
            None
        );
    }
}
