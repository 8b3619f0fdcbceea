//! Java dependencies declared by build files: Gradle lock files and Maven `pom.xml`.
//!
//! - `gradle.lockfile` (Gradle 6+: `group:name:version=conf1,conf2`) and the per-configuration
//!   `gradle/dependency-locks/<conf>.lockfile` of Gradle 4.8-5 (`group:name:version`). A
//!   dependency locked only for test configurations is development-only.
//! - `pom.xml`: the dependencies of the project, with the project's inherited model applied
//!   as Maven does it: parent poms (by `relativePath`, default `../pom.xml`, then in Maven
//!   repositories in the image: `~/.m2/repository` of any user and Debian's
//!   `/usr/share/maven-repo`), `${property}` interpolation from `<properties>` of the pom and
//!   its parents and the `project.*` built-ins, versions from `<dependencyManagement>`
//!   (including imported BOMs found in the same repositories), and dependencies inherited from
//!   parents. A dependency whose version stays unresolved is not reported. Test scope is
//!   development-only. Nothing is downloaded: what the image does not hold stays unresolved.

use std::collections::{BTreeMap, BTreeSet};

use anchorage_image::{EntryKind, FileEntry, ImageFs};
use anchorage_types::PackageType;

use super::java::maven_cpes;
use super::util::{base_name, is_file, join, parent_dir, purl, read_optional, text};
use super::{Found, LangLimits, PackageDraft, TextCataloger, location_of, xml};
use crate::cataloger::{CatalogContext, Cataloger};
use crate::model::Package;

const GRADLE_STAGE: &str = "gradle";
const POM_STAGE: &str = "maven-pom";

/// Most XML elements read from one pom.
const MAX_POM_NODES: usize = 200_000;
/// Most parents followed from one pom (and BOM imports followed from one model).
const MAX_PARENT_DEPTH: usize = 16;
/// Most rounds of `${...}` interpolation of one value.
const MAX_INTERPOLATION_ROUNDS: usize = 10;
/// Debian's system Maven repository.
const DEBIAN_MAVEN_REPO: &str = "/usr/share/maven-repo";

// ---------------------------------------------------------------- Gradle

/// `gradle.lockfile`, `buildscript-gradle.lockfile`, and `*.lockfile` directly in a
/// `gradle/dependency-locks` directory.
pub(crate) fn gradle_wants(path: &str) -> bool {
    let name = base_name(path);
    name == "gradle.lockfile"
        || name == "buildscript-gradle.lockfile"
        || (name.ends_with(".lockfile") && parent_dir(path).ends_with("/gradle/dependency-locks"))
}

fn is_test_configuration(conf: &str) -> bool {
    conf.trim().starts_with("test")
}

fn maven_found(group: &str, name: &str, version: &str, dev: bool) -> Found {
    Found {
        cpes: maven_cpes(Some(group), name, version),
        dev,
        ..Found::new(name, version, purl("maven", Some(group), name, version))
    }
}

/// Parses a Gradle lock file.
pub(crate) fn parse_gradle_lock(path: &str, input: &str) -> Result<Vec<Found>, String> {
    let legacy_conf = parent_dir(path)
        .ends_with("/gradle/dependency-locks")
        .then(|| base_name(path).trim_end_matches(".lockfile"));
    let buildscript = base_name(path) == "buildscript-gradle.lockfile";
    let mut out = Vec::new();
    for line in input.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with("empty=") {
            continue;
        }
        let (coords, confs) = match line.split_once('=') {
            Some((c, confs)) => (c, Some(confs)),
            None => (line, None),
        };
        let mut parts = coords.split(':');
        let (Some(group), Some(name), Some(version)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        if group.is_empty() || name.is_empty() || version.is_empty() {
            continue;
        }
        let dev = buildscript
            || match (confs, legacy_conf) {
                (Some(c), _) => c.split(',').all(is_test_configuration),
                (None, Some(conf)) => is_test_configuration(conf),
                (None, None) => false,
            };
        out.push(maven_found(group, name, version, dev));
    }
    if out.is_empty() && !input.lines().any(|l| l.trim_start().starts_with('#')) {
        return Err("no locked dependencies".into());
    }
    Ok(out)
}

/// The Gradle lock file cataloger.
pub(crate) fn gradle_cataloger(limits: LangLimits) -> TextCataloger {
    TextCataloger::new(
        GRADLE_STAGE,
        PackageType::Java,
        limits,
        gradle_wants,
        parse_gradle_lock,
    )
}

// ---------------------------------------------------------------- Maven pom.xml

/// A `<dependency>` as written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Dependency {
    pub(crate) group_id: String,
    pub(crate) artifact_id: String,
    pub(crate) version: Option<String>,
    pub(crate) scope: Option<String>,
    pub(crate) kind: Option<String>,
}

/// A `<parent>` reference.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ParentRef {
    pub(crate) group_id: String,
    pub(crate) artifact_id: String,
    pub(crate) version: String,
    pub(crate) relative_path: Option<String>,
}

/// What a pom says, before inheritance and interpolation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Pom {
    pub(crate) group_id: Option<String>,
    pub(crate) artifact_id: String,
    pub(crate) version: Option<String>,
    pub(crate) parent: Option<ParentRef>,
    pub(crate) properties: BTreeMap<String, String>,
    pub(crate) managed: Vec<Dependency>,
    pub(crate) dependencies: Vec<Dependency>,
}

fn dependencies_of(list: Option<&xml::Node>) -> Vec<Dependency> {
    let mut out = Vec::new();
    for d in list
        .into_iter()
        .flat_map(|l| l.children.iter())
        .filter(|c| c.name == "dependency")
    {
        let (Some(g), Some(a)) = (d.child_text("groupId"), d.child_text("artifactId")) else {
            continue;
        };
        out.push(Dependency {
            group_id: g.to_string(),
            artifact_id: a.to_string(),
            version: d.child_text("version").map(str::to_string),
            scope: d.child_text("scope").map(str::to_string),
            kind: d.child_text("type").map(str::to_string),
        });
    }
    out
}

/// Parses a pom.
pub(crate) fn parse_pom(input: &str) -> Result<Pom, String> {
    let root = xml::parse(input, MAX_POM_NODES)?;
    if root.name != "project" {
        return Err(format!("root element is {:?}, not project", root.name));
    }
    let artifact_id = root
        .child_text("artifactId")
        .ok_or("no artifactId")?
        .to_string();
    let parent = root.child("parent").and_then(|p| {
        Some(ParentRef {
            group_id: p.child_text("groupId")?.to_string(),
            artifact_id: p.child_text("artifactId")?.to_string(),
            version: p.child_text("version")?.to_string(),
            // an empty <relativePath/> turns the file lookup off
            relative_path: p.child("relativePath").map(|r| r.text.clone()),
        })
    });
    let properties = root
        .child("properties")
        .map(|p| {
            p.children
                .iter()
                .map(|c| (c.name.clone(), c.text.clone()))
                .collect()
        })
        .unwrap_or_default();
    Ok(Pom {
        group_id: root.child_text("groupId").map(str::to_string),
        artifact_id,
        version: root.child_text("version").map(str::to_string),
        parent,
        properties,
        managed: dependencies_of(
            root.child("dependencyManagement")
                .and_then(|m| m.child("dependencies")),
        ),
        dependencies: dependencies_of(root.child("dependencies")),
    })
}

/// A pom with its ancestors, nearest first (`chain[0]` is the pom itself).
struct Model {
    chain: Vec<Pom>,
    properties: BTreeMap<String, String>,
}

impl Model {
    fn new(chain: Vec<Pom>) -> Self {
        let mut properties = BTreeMap::new();
        for pom in chain.iter().rev() {
            for (k, v) in &pom.properties {
                properties.insert(k.clone(), v.clone());
            }
        }
        let me = chain.first();
        let parent = me.and_then(|p| p.parent.as_ref());
        let group = me
            .and_then(|p| p.group_id.clone())
            .or_else(|| parent.map(|p| p.group_id.clone()));
        let version = me
            .and_then(|p| p.version.clone())
            .or_else(|| parent.map(|p| p.version.clone()));
        let mut builtin = |keys: &[&str], value: Option<String>| {
            if let Some(v) = value {
                for k in keys {
                    properties.insert((*k).to_string(), v.clone());
                }
            }
        };
        builtin(&["project.groupId", "pom.groupId", "groupId"], group);
        builtin(
            &["project.artifactId", "pom.artifactId", "artifactId"],
            me.map(|p| p.artifact_id.clone()),
        );
        builtin(&["project.version", "pom.version", "version"], version);
        builtin(
            &["project.parent.groupId", "parent.groupId"],
            parent.map(|p| p.group_id.clone()),
        );
        builtin(
            &["project.parent.artifactId", "parent.artifactId"],
            parent.map(|p| p.artifact_id.clone()),
        );
        builtin(
            &["project.parent.version", "parent.version"],
            parent.map(|p| p.version.clone()),
        );
        Self { chain, properties }
    }

    /// The project's own coordinates (group, artifact, version), interpolated; `None` when one
    /// of them is missing or still holds an unresolved `${...}`.
    fn project(&self) -> Option<(String, String, String)> {
        let me = self.chain.first()?;
        let parent = me.parent.as_ref();
        let group = me
            .group_id
            .clone()
            .or_else(|| parent.map(|p| p.group_id.clone()))?;
        let version = me
            .version
            .clone()
            .or_else(|| parent.map(|p| p.version.clone()))?;
        let (group, name, version) = (
            self.interpolate(&group),
            self.interpolate(&me.artifact_id),
            self.interpolate(&version),
        );
        let resolved = |v: &str| !v.is_empty() && !v.contains("${");
        (resolved(&group) && resolved(&name) && usable_version(&version))
            .then_some((group, name, version))
    }

    /// `value` with every known `${name}` replaced, repeatedly (properties naming properties).
    fn interpolate(&self, value: &str) -> String {
        let mut s = value.to_string();
        for _ in 0..MAX_INTERPOLATION_ROUNDS {
            if !s.contains("${") {
                break;
            }
            let mut out = String::with_capacity(s.len());
            let mut rest = s.as_str();
            let mut changed = false;
            while let Some(start) = rest.find("${") {
                out.push_str(&rest[..start]);
                let after = &rest[start + 2..];
                match after.find('}') {
                    Some(end) => {
                        let key = &after[..end];
                        match self.properties.get(key) {
                            Some(v) => {
                                out.push_str(v);
                                changed = true;
                            }
                            None => {
                                out.push_str("${");
                                out.push_str(key);
                                out.push('}');
                            }
                        }
                        rest = &after[end + 1..];
                    }
                    None => {
                        out.push_str(&rest[start..]);
                        rest = "";
                    }
                }
            }
            out.push_str(rest);
            s = out;
            if !changed {
                break;
            }
        }
        s
    }

    fn resolve(&self, d: &Dependency) -> Dependency {
        Dependency {
            group_id: self.interpolate(&d.group_id),
            artifact_id: self.interpolate(&d.artifact_id),
            version: d.version.as_deref().map(|v| self.interpolate(v)),
            scope: d.scope.as_deref().map(|v| self.interpolate(v)),
            kind: d.kind.clone(),
        }
    }
}

fn usable_version(v: &str) -> bool {
    !v.is_empty() && !v.contains("${") && !v.starts_with(['[', '('])
}

/// Finds the Maven artifacts the catalogers read: poms on disk and in repositories.
struct PomResolver<'a> {
    fs: &'a dyn ImageFs,
    repositories: Vec<String>,
    limit: u64,
}

impl PomResolver<'_> {
    fn read(&self, path: &str, ctx: &mut CatalogContext) -> Option<Pom> {
        let bytes = read_optional(self.fs, path, self.limit, ctx, POM_STAGE)?;
        match parse_pom(&text(&bytes)) {
            Ok(p) => Some(p),
            Err(e) => {
                ctx.warn(POM_STAGE, Some(path), e);
                None
            }
        }
    }

    fn in_repositories(
        &self,
        group: &str,
        artifact: &str,
        version: &str,
        ctx: &mut CatalogContext,
    ) -> Option<(String, Pom)> {
        if [group, artifact, version]
            .iter()
            .any(|s| s.is_empty() || s.contains(['/', '$']) || s.contains(".."))
        {
            return None;
        }
        for repo in &self.repositories {
            let path = format!(
                "{repo}/{}/{artifact}/{version}/{artifact}-{version}.pom",
                group.replace('.', "/")
            );
            if self.fs.entry(&path).is_some()
                && let Some(p) = self.read(&path, ctx)
            {
                return Some((path, p));
            }
        }
        None
    }

    /// The parent of the pom at `path`: by relative path when its coordinates match, else from
    /// a repository.
    fn parent(
        &self,
        path: &str,
        parent: &ParentRef,
        ctx: &mut CatalogContext,
    ) -> Option<(String, Pom)> {
        let rel = parent.relative_path.as_deref().unwrap_or("../pom.xml");
        if !rel.is_empty() {
            let mut candidate = join(parent_dir(path), rel);
            if self
                .fs
                .entry(&candidate)
                .is_some_and(|e| e.kind == EntryKind::Dir)
            {
                candidate = format!("{}/pom.xml", candidate.trim_end_matches('/'));
            }
            if candidate != path
                && self.fs.entry(&candidate).is_some()
                && let Some(p) = self.read(&candidate, ctx)
            {
                let group = p
                    .group_id
                    .clone()
                    .or_else(|| p.parent.as_ref().map(|pp| pp.group_id.clone()));
                let version = p
                    .version
                    .clone()
                    .or_else(|| p.parent.as_ref().map(|pp| pp.version.clone()));
                if p.artifact_id == parent.artifact_id
                    && group.as_deref() == Some(parent.group_id.as_str())
                    && version.as_deref() == Some(parent.version.as_str())
                {
                    return Some((candidate, p));
                }
            }
        }
        self.in_repositories(&parent.group_id, &parent.artifact_id, &parent.version, ctx)
    }

    /// The pom at `path` with its ancestors.
    fn model(&self, path: &str, pom: Pom, ctx: &mut CatalogContext) -> Model {
        let mut chain = vec![pom];
        let mut seen: BTreeSet<String> = BTreeSet::from([path.to_string()]);
        let mut current = path.to_string();
        while chain.len() <= MAX_PARENT_DEPTH {
            let Some(parent) = chain.last().and_then(|p| p.parent.clone()) else {
                break;
            };
            let Some((ppath, p)) = self.parent(&current, &parent, ctx) else {
                break;
            };
            if !seen.insert(ppath.clone()) {
                break; // a cycle of parents
            }
            chain.push(p);
            current = ppath;
        }
        Model::new(chain)
    }

    /// `groupId:artifactId` -> managed (version, scope) of a model, imported BOMs included.
    fn managed(
        &self,
        model: &Model,
        depth: usize,
        ctx: &mut CatalogContext,
    ) -> BTreeMap<(String, String), (Option<String>, Option<String>)> {
        let mut out = BTreeMap::new();
        // the nearest declaration wins: walk the chain from the root-most ancestor down
        for pom in model.chain.iter().rev() {
            for d in &pom.managed {
                let r = model.resolve(d);
                if r.scope.as_deref() == Some("import") && r.kind.as_deref() == Some("pom") {
                    if depth >= MAX_PARENT_DEPTH {
                        continue;
                    }
                    let Some(version) = r.version.as_deref().filter(|v| usable_version(v)) else {
                        continue;
                    };
                    if let Some((bpath, bom)) =
                        self.in_repositories(&r.group_id, &r.artifact_id, version, ctx)
                    {
                        let bom_model = self.model(&bpath, bom, ctx);
                        for (k, v) in self.managed(&bom_model, depth + 1, ctx) {
                            out.entry(k).or_insert(v);
                        }
                    }
                    continue;
                }
                out.insert((r.group_id, r.artifact_id), (r.version, r.scope));
            }
        }
        out
    }
}

/// Finds the dependencies declared by `pom.xml` files.
pub(crate) struct PomCataloger {
    limits: LangLimits,
}

impl PomCataloger {
    pub(crate) fn new(limits: LangLimits) -> Self {
        Self { limits }
    }
}

impl Cataloger for PomCataloger {
    fn name(&self) -> &'static str {
        POM_STAGE
    }

    /// `pom.xml` files, and `.m2/repository` directories (Maven repositories to resolve
    /// parents from).
    fn wants(&self, e: &FileEntry) -> bool {
        (is_file(e) && base_name(&e.path) == "pom.xml")
            || (e.kind == EntryKind::Dir && e.path.ends_with("/.m2/repository"))
    }

    fn catalog_files(
        &self,
        fs: &dyn ImageFs,
        files: &[FileEntry],
        ctx: &mut CatalogContext,
    ) -> Vec<Package> {
        let mut repositories: Vec<String> = files
            .iter()
            .filter(|e| e.kind == EntryKind::Dir)
            .map(|e| e.path.clone())
            .collect();
        repositories.push(DEBIAN_MAVEN_REPO.to_string());
        let resolver = PomResolver {
            fs,
            repositories,
            limit: self.limits.max_manifest_bytes,
        };
        let mut out = Vec::new();
        for entry in files.iter().filter(|e| is_file(e)) {
            let Some(pom) = resolver.read(&entry.path, ctx) else {
                continue;
            };
            let model = resolver.model(&entry.path, pom, ctx);
            let managed = resolver.managed(&model, 0, ctx);
            let mut seen = BTreeSet::new();
            // The project the pom describes, as Syft 1.18.1 reports it (a module's group and
            // version may come from its parent).
            if let Some((group, name, version)) = model.project() {
                out.push(maven_package(fs, entry, &group, &name, &version));
                seen.insert((group, name, version));
            }
            // the pom's own dependencies, then those inherited from its parents
            for d in model.chain.iter().flat_map(|p| p.dependencies.iter()) {
                let r = model.resolve(d);
                let key = (r.group_id.clone(), r.artifact_id.clone());
                let m = managed.get(&key);
                let Some(version) = r
                    .version
                    .clone()
                    .or_else(|| m.and_then(|(v, _)| v.clone()))
                    .filter(|v| usable_version(v))
                else {
                    continue;
                };
                let scope = r
                    .scope
                    .clone()
                    .or_else(|| m.and_then(|(_, s)| s.clone()))
                    .unwrap_or_else(|| "compile".into());
                if !seen.insert((key.0.clone(), key.1.clone(), version.clone())) {
                    continue;
                }
                if scope == "test" && !self.limits.include_dev_dependencies {
                    continue;
                }
                out.push(maven_package(fs, entry, &key.0, &key.1, &version));
            }
        }
        out
    }
}

/// A Maven package declared by (or described by) the pom at `entry`.
fn maven_package(
    fs: &dyn ImageFs,
    entry: &FileEntry,
    group: &str,
    name: &str,
    version: &str,
) -> Package {
    let mut draft = PackageDraft::new(
        PackageType::Java,
        name.to_string(),
        version.to_string(),
        purl("maven", Some(group), name, version),
        location_of(fs, entry),
    );
    draft.cpes = maven_cpes(Some(group), name, version);
    draft.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_interpolation_nests_and_stops() {
        let mut pom = Pom {
            artifact_id: "a".into(),
            version: Some("1.0".into()),
            ..Pom::default()
        };
        pom.properties.insert("x".into(), "${y}-x".into());
        pom.properties
            .insert("y".into(), "${project.version}".into());
        pom.properties.insert("loop".into(), "${loop}".into());
        let m = Model::new(vec![pom]);
        assert_eq!(m.interpolate("${x}"), "1.0-x");
        assert_eq!(m.interpolate("${unknown}.${version}"), "${unknown}.1.0");
        assert_eq!(m.interpolate("${loop}"), "${loop}");
        assert_eq!(m.interpolate("${unterminated"), "${unterminated");
    }

    #[test]
    fn synthetic_gradle_lock_lines() {
        let got = parse_gradle_lock(
            "/p/gradle.lockfile",
            "# This is a Gradle generated file for dependency locking.\n\
             com.google.guava:guava:31.1-jre=compileClasspath,runtimeClasspath\n\
             junit:junit:4.13.2=testCompileClasspath,testRuntimeClasspath\n\
             empty=annotationProcessor\n",
        )
        .unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].purl, "pkg:maven/com.google.guava/guava@31.1-jre");
        assert!(!got[0].dev);
        assert!(got[1].dev, "test configurations only");
        let legacy = parse_gradle_lock(
            "/p/gradle/dependency-locks/testRuntimeClasspath.lockfile",
            "# comment\norg.mockito:mockito-core:4.0.0\n",
        )
        .unwrap();
        assert!(legacy[0].dev);
        assert!(parse_gradle_lock("/p/gradle.lockfile", "garbage").is_err());
    }
}
