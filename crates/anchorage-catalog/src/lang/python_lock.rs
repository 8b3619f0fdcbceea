//! Python lock and manifest files: `*requirements*.txt` (pins with hashes and markers),
//! `Pipfile.lock`, `poetry.lock`, `pdm.lock`, `uv.lock`, and `setup.py` / `setup.cfg` read as
//! text (never run). Only exact pins (`==` / `===`) give packages: a range says nothing about
//! what is installed. Development-only packages are left out unless asked for.
//!
//! The parse functions are pure (`text -> packages + warnings`); [`PythonLockCataloger`] is the
//! thin walk over the image that declares its file patterns in [`PATTERNS`].

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use anchorage_image::{FileEntry, ImageFs};
use anchorage_types::PackageType;

use super::python::{normalize_name, requirement_name};
use super::util::{base_name, is_file, purl, read_entry, text};
use super::{LangLimits, PackageDraft, location_of};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::{Package, PackageMetadata, PythonMetadata};
use crate::relationships::DependencyDecl;

const STAGE: &str = "python-lock";

/// Base-name globs this cataloger reads (the one place that says which files it wants).
pub(crate) const PATTERNS: &[&str] = &[
    "*requirements*.txt",
    "Pipfile.lock",
    "poetry.lock",
    "pdm.lock",
    "uv.lock",
    "setup.py",
    "setup.cfg",
];

/// Which kind of file a base name is, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LockKind {
    /// `*requirements*.txt`.
    Requirements,
    /// `Pipfile.lock` (pipenv).
    Pipfile,
    /// `poetry.lock`.
    Poetry,
    /// `pdm.lock`.
    Pdm,
    /// `uv.lock`.
    Uv,
    /// `setup.py`.
    SetupPy,
    /// `setup.cfg`.
    SetupCfg,
}

impl LockKind {
    /// The kind of `path`, by base name.
    pub(crate) fn of(path: &str) -> Option<Self> {
        let name = base_name(path);
        Some(match name {
            "Pipfile.lock" => Self::Pipfile,
            "poetry.lock" => Self::Poetry,
            "pdm.lock" => Self::Pdm,
            "uv.lock" => Self::Uv,
            "setup.py" => Self::SetupPy,
            "setup.cfg" => Self::SetupCfg,
            n if n.ends_with(".txt") && n.contains("requirements") => Self::Requirements,
            _ => return None,
        })
    }

    fn label(self) -> &'static str {
        match self {
            Self::Requirements => "requirements.txt",
            Self::Pipfile => "Pipfile.lock",
            Self::Poetry => "poetry.lock",
            Self::Pdm => "pdm.lock",
            Self::Uv => "uv.lock",
            Self::SetupPy => "setup.py",
            Self::SetupCfg => "setup.cfg",
        }
    }
}

/// One pinned package of a lock or manifest file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Pinned {
    /// Name as written.
    pub(crate) name: String,
    /// Exact version.
    pub(crate) version: String,
    /// True when only development groups need it.
    pub(crate) dev: bool,
    /// Normalized names of the packages it depends on, where the lock file records them
    /// (poetry, PDM, uv).
    pub(crate) dependencies: Vec<String>,
}

/// A file that could not be read as its kind.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LockError {
    /// Invalid JSON.
    #[error("invalid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// Invalid TOML.
    #[error("invalid TOML: {0}")]
    Toml(#[from] toml::de::Error),
}

/// Parses `input` as a file of `kind`.
pub(crate) fn parse(kind: LockKind, input: &str) -> Result<Vec<Pinned>, LockError> {
    Ok(match kind {
        LockKind::Requirements => parse_requirements(input),
        LockKind::Pipfile => parse_pipfile_lock(input)?,
        LockKind::Poetry => parse_poetry_lock(input)?,
        LockKind::Pdm => parse_pdm_lock(input)?,
        LockKind::Uv => parse_uv_lock(input)?,
        LockKind::SetupPy => parse_setup_py(input),
        LockKind::SetupCfg => parse_setup_cfg(input),
    })
}

/// A PEP 508 requirement pinned with `==` / `===` to one version: `(name, version)`. Extras,
/// markers (`; python_version < "3.8"`) and per-requirement options (`--hash=...`) are dropped.
pub(crate) fn exact_pin(requirement: &str) -> Option<(String, String)> {
    let mut r = requirement.trim();
    // per-requirement options start at the first ` -`/` --`
    if let Some(i) = r.find(" -") {
        r = &r[..i];
    }
    if let Some(i) = r.find(';') {
        r = &r[..i];
    }
    let r = r.trim();
    let name_end = r
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .map_or(r.len(), |(i, _)| i);
    let name = &r[..name_end];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    let mut rest = r[name_end..].trim_start();
    if rest.starts_with('[') {
        let close = rest.find(']')?;
        rest = rest[close + 1..].trim_start();
    }
    let spec = rest
        .strip_prefix("===")
        .or_else(|| rest.strip_prefix("=="))?
        .trim();
    if spec.is_empty()
        || !spec
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '!' | '+'))
    {
        // `==1.*`, `==1.0,<2` and URLs are not one installed version
        return None;
    }
    Some((name.to_string(), spec.to_string()))
}

/// `*requirements*.txt`: one requirement per logical line (`\` continues a line), comments
/// after `#`, options (`-r`, `--index-url`, `-e`) skipped.
pub(crate) fn parse_requirements(input: &str) -> Vec<Pinned> {
    let mut out = Vec::new();
    let mut logical = String::new();
    for raw in input.lines() {
        let line = raw.trim_end_matches('\r');
        if let Some(cont) = line.strip_suffix('\\') {
            logical.push_str(cont);
            logical.push(' ');
            continue;
        }
        logical.push_str(line);
        let mut l = std::mem::take(&mut logical);
        if let Some(i) = l.find(" #") {
            l.truncate(i);
        }
        let l = l.trim();
        if l.is_empty() || l.starts_with('#') || l.starts_with('-') {
            continue;
        }
        if let Some((name, version)) = exact_pin(l) {
            out.push(Pinned {
                name,
                version,
                dev: false,
                dependencies: Vec::new(),
            });
        }
    }
    out
}

/// `Pipfile.lock`: `default` (runtime) and `develop` (dev) sections of `{"version": "==X"}`.
pub(crate) fn parse_pipfile_lock(input: &str) -> Result<Vec<Pinned>, LockError> {
    let v: serde_json::Value = serde_json::from_str(input)?;
    let mut out = Vec::new();
    for (section, dev) in [("default", false), ("develop", true)] {
        let Some(map) = v.get(section).and_then(|s| s.as_object()) else {
            continue;
        };
        for (name, entry) in map {
            let Some(version) = entry
                .get("version")
                .and_then(|v| v.as_str())
                .and_then(|v| v.strip_prefix("=="))
            else {
                continue; // git / path requirements carry no version
            };
            out.push(Pinned {
                name: name.clone(),
                version: version.trim_start_matches('=').to_string(),
                dev,
                dependencies: Vec::new(),
            });
        }
    }
    Ok(out)
}

fn toml_packages(input: &str) -> Result<Vec<toml::Table>, LockError> {
    let v: toml::Table = toml::from_str(input)?;
    Ok(v.get("package")
        .and_then(|p| p.as_array())
        .map(|a| a.iter().filter_map(|p| p.as_table().cloned()).collect())
        .unwrap_or_default())
}

fn str_field<'a>(t: &'a toml::Table, key: &str) -> Option<&'a str> {
    t.get(key)
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
}

fn groups(t: &toml::Table) -> Vec<&str> {
    t.get("groups")
        .and_then(|g| g.as_array())
        .map(|a| a.iter().filter_map(|g| g.as_str()).collect())
        .unwrap_or_default()
}

/// `poetry.lock`: `[[package]]` name and version; development packages are those whose
/// `groups` (Poetry 2) lack `main`, or whose `category` (Poetry < 1.5) is `dev`. Lock files of
/// Poetry 1.5-1.8 say neither, so all their packages are reported.
pub(crate) fn parse_poetry_lock(input: &str) -> Result<Vec<Pinned>, LockError> {
    Ok(toml_packages(input)?
        .iter()
        .filter_map(|p| {
            let g = groups(p);
            Some(Pinned {
                name: str_field(p, "name")?.to_string(),
                version: str_field(p, "version")?.to_string(),
                dev: str_field(p, "category") == Some("dev")
                    || (!g.is_empty() && !g.contains(&"main")),
                dependencies: p
                    .get("dependencies")
                    .and_then(|d| d.as_table())
                    .map(|t| t.keys().map(|k| normalize_name(k)).collect())
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// `pdm.lock`: `[[package]]` with `groups`; a package outside the `default` group is dev.
pub(crate) fn parse_pdm_lock(input: &str) -> Result<Vec<Pinned>, LockError> {
    Ok(toml_packages(input)?
        .iter()
        .filter_map(|p| {
            let g = groups(p);
            Some(Pinned {
                name: str_field(p, "name")?.to_string(),
                version: str_field(p, "version")?.to_string(),
                dev: !g.is_empty() && !g.contains(&"default"),
                dependencies: p
                    .get("dependencies")
                    .and_then(|d| d.as_array())
                    .map(|a| {
                        a.iter()
                            .filter_map(|r| r.as_str())
                            .filter_map(requirement_name)
                            .collect()
                    })
                    .unwrap_or_default(),
            })
        })
        .collect())
}

fn dep_names(t: &toml::Table, key: &str) -> Vec<String> {
    t.get(key)
        .and_then(|d| d.as_array())
        .map(|a| {
            a.iter()
                .filter_map(|d| d.get("name").and_then(|n| n.as_str()))
                .map(normalize_name)
                .collect()
        })
        .unwrap_or_default()
}

/// `uv.lock`: `[[package]]` from a registry, git or URL; the project itself (an `editable` or
/// `virtual` source) is not reported. Packages reachable from the project only through its
/// `dev-dependencies` are dev.
pub(crate) fn parse_uv_lock(input: &str) -> Result<Vec<Pinned>, LockError> {
    let packages = toml_packages(input)?;
    let is_project = |p: &toml::Table| {
        p.get("source")
            .and_then(|s| s.as_table())
            .is_some_and(|s| s.contains_key("editable") || s.contains_key("virtual"))
    };
    let mut graph: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut roots: Vec<String> = Vec::new();
    let mut has_project = false;
    for p in &packages {
        let Some(name) = str_field(p, "name") else {
            continue;
        };
        let key = normalize_name(name);
        let mut deps = dep_names(p, "dependencies");
        if let Some(opt) = p.get("optional-dependencies").and_then(|o| o.as_table()) {
            for list in opt.values().filter_map(|l| l.as_array()) {
                deps.extend(
                    list.iter()
                        .filter_map(|d| d.get("name").and_then(|n| n.as_str()))
                        .map(normalize_name),
                );
            }
        }
        if is_project(p) {
            has_project = true;
            roots.extend(deps.iter().cloned());
        }
        graph.entry(key).or_default().extend(deps);
    }
    // runtime closure of the project(s)
    let mut runtime: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = roots.into();
    while let Some(n) = queue.pop_front() {
        if runtime.insert(n.clone())
            && let Some(next) = graph.get(&n)
        {
            queue.extend(next.iter().cloned());
        }
    }
    Ok(packages
        .iter()
        .filter(|p| !is_project(p))
        .filter_map(|p| {
            let name = str_field(p, "name")?;
            Some(Pinned {
                name: name.to_string(),
                version: str_field(p, "version")?.to_string(),
                dev: has_project && !runtime.contains(&normalize_name(name)),
                dependencies: graph
                    .get(&normalize_name(name))
                    .cloned()
                    .unwrap_or_default(),
            })
        })
        .collect())
}

/// `setup.py` read as text: every quoted `name==version` requirement string.
pub(crate) fn parse_setup_py(input: &str) -> Vec<Pinned> {
    let mut out = Vec::new();
    for quote in ['"', '\''] {
        for (i, piece) in input.split(quote).enumerate() {
            // odd pieces are inside quotes
            if i % 2 == 1
                && piece.contains("==")
                && !piece.contains('\n')
                && let Some((name, version)) = exact_pin(piece)
            {
                out.push(Pinned {
                    name,
                    version,
                    dev: false,
                    dependencies: Vec::new(),
                });
            }
        }
    }
    out
}

/// `setup.cfg`: the requirement lines of `install_requires` and of `[options.extras_require]`.
pub(crate) fn parse_setup_cfg(input: &str) -> Vec<Pinned> {
    let mut out = Vec::new();
    let mut section = String::new();
    let mut in_requires = false;
    for raw in input.lines() {
        let line = raw.trim_end_matches('\r');
        let t = line.trim();
        if t.starts_with('[') && t.ends_with(']') {
            section = t[1..t.len() - 1].trim().to_string();
            in_requires = false;
            continue;
        }
        if t.is_empty() || t.starts_with('#') || t.starts_with(';') {
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        let value = if indented {
            if !in_requires {
                continue;
            }
            t
        } else if let Some((k, v)) = t.split_once('=') {
            let k = k.trim();
            in_requires = (section == "options" && k == "install_requires")
                || section == "options.extras_require";
            if !in_requires {
                continue;
            }
            v.trim()
        } else {
            in_requires = false;
            continue;
        };
        if let Some((name, version)) = exact_pin(value) {
            out.push(Pinned {
                name,
                version,
                dev: false,
                dependencies: Vec::new(),
            });
        }
    }
    out
}

/// Finds pinned Python packages in lock and manifest files.
pub(crate) struct PythonLockCataloger {
    limits: LangLimits,
    wanted: globset::GlobSet,
}

impl PythonLockCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        let mut b = globset::GlobSetBuilder::new();
        for p in PATTERNS {
            // literal patterns; one that failed to compile would fail the fixture tests
            if let Ok(g) = globset::Glob::new(p) {
                b.add(g);
            }
        }
        Self {
            limits,
            wanted: b.build().unwrap_or_else(|_| globset::GlobSet::empty()),
        }
    }

    /// True when `path`'s base name matches one of [`PATTERNS`].
    pub(crate) fn wants_path(&self, path: &str) -> bool {
        self.wanted.is_match(base_name(path))
    }
}

impl Cataloger for PythonLockCataloger {
    fn name(&self) -> &'static str {
        STAGE
    }

    fn wants(&self, e: &FileEntry) -> bool {
        is_file(e) && self.wants_path(&e.path)
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut out = Vec::new();
        for entry in files {
            let Some(kind) = LockKind::of(&entry.path) else {
                continue;
            };
            let Some(bytes) = read_entry(fs, entry, self.limits.max_manifest_bytes, ctx, STAGE)
            else {
                continue;
            };
            let pins = match parse(kind, &text(&bytes)) {
                Ok(p) => p,
                Err(e) => {
                    ctx.warn(STAGE, Some(&entry.path), e.to_string());
                    continue;
                }
            };
            let mut seen = BTreeSet::new();
            let scope = format!("python:{}", entry.path);
            for pin in pins {
                if pin.dev && !self.limits.include_dev_dependencies {
                    continue;
                }
                let name = normalize_name(&pin.name);
                if !seen.insert((name.clone(), pin.version.clone())) {
                    continue;
                }
                let mut d = PackageDraft::new(
                    PackageType::Python,
                    name.clone(),
                    pin.version.clone(),
                    purl("pypi", None, &name, &pin.version),
                    location_of(fs, entry),
                );
                d.metadata = PackageMetadata::Python(PythonMetadata {
                    format: Some(kind.label().to_string()),
                    ..PythonMetadata::default()
                });
                let p = d.build();
                // names are unique within a lock file of these formats: resolve by name
                let mut decl = DependencyDecl::new(&p.id, scope.clone(), &name);
                for dep in pin.dependencies {
                    decl.require(dep);
                }
                ctx.dependencies.push(decl);
                out.push(p);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_exact_pins_only() {
        assert_eq!(
            exact_pin("Requests[socks] == 2.31.0 ; python_version >= \"3.7\" --hash=sha256:ab"),
            Some(("Requests".into(), "2.31.0".into()))
        );
        assert_eq!(exact_pin("flask>=2"), None);
        assert_eq!(exact_pin("django==4.*"), None);
        assert_eq!(exact_pin("pkg @ https://x/y.whl"), None);
        assert_eq!(
            exact_pin("a===1.0+local"),
            Some(("a".into(), "1.0+local".into()))
        );
    }

    #[test]
    fn synthetic_setup_cfg_and_py() {
        let cfg = "[metadata]\nname = x\n[options]\ninstall_requires =\n    requests==2.31.0\n    click>=8\npython_requires = >=3.8\n[options.extras_require]\ntest = pytest==7.4.0\n";
        let got: Vec<_> = parse_setup_cfg(cfg)
            .into_iter()
            .map(|p| format!("{}={}", p.name, p.version))
            .collect();
        assert_eq!(got, vec!["requests=2.31.0", "pytest=7.4.0"]);
        let py = "setup(name='x', install_requires=['urllib3==1.26.18', \"idna==3.6\", 'six'])";
        let got: Vec<_> = parse_setup_py(py)
            .into_iter()
            .map(|p| format!("{}={}", p.name, p.version))
            .collect();
        assert_eq!(got, vec!["idna=3.6", "urllib3=1.26.18"]);
    }

    #[test]
    fn hostile_malformed_locks_are_errors() {
        assert!(parse(LockKind::Pipfile, "{not json").is_err());
        assert!(parse(LockKind::Poetry, "[[package]\nname=").is_err());
        assert!(parse(LockKind::Uv, "").unwrap().is_empty());
    }
}
