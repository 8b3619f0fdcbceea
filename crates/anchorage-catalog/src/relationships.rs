//! Package-to-package dependency edges. Catalogers declare, per package, the names it answers
//! to and the names it requires ([`DependencyDecl`], pushed to
//! [`crate::cataloger::CatalogContext::dependencies`]); after every cataloger ran, [`resolve`]
//! links each requirement to the packages of the same scope (one package database, one lock
//! file) that provide the name. Requirements nothing provides are dropped: a virtual name no
//! installed package provides, a dev dependency a lock file lists but the image lacks.
//!
//! Edges point from the dependent package to its dependency ([`RelationshipKind::DependsOn`]).

use std::collections::{BTreeSet, HashMap, HashSet};

pub use crate::model::{dependency_chain, depends_on};

use crate::model::{Package, Relationship, RelationshipKind};

/// What one package answers to and requires, within one scope.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DependencyDecl {
    /// Id of the declaring package.
    pub package_id: String,
    /// Where names resolve: requirements only match providers of the same scope, e.g.
    /// `dpkg`, `apk`, `rpm`, `npm:/app/package-lock.json`.
    pub scope: String,
    /// The names the package satisfies: its own name, its `Provides`, lock-file keys.
    pub provides: Vec<String>,
    /// What it requires: each entry is a list of alternatives, the first one some package of the
    /// scope provides wins (dpkg's `a | b`; npm's nested `node_modules` lookup).
    pub requires: Vec<Vec<String>>,
}

impl DependencyDecl {
    /// A declaration for `package_id` in `scope` providing `name` (more provides and
    /// requirements are pushed by the caller).
    pub fn new(package_id: &str, scope: impl Into<String>, name: &str) -> Self {
        Self {
            package_id: package_id.to_string(),
            scope: scope.into(),
            provides: vec![name.to_string()],
            requires: Vec::new(),
        }
    }

    /// Adds a requirement with a single name.
    pub fn require(&mut self, name: impl Into<String>) {
        self.requires.push(vec![name.into()]);
    }
}

/// Links the declarations into `DependsOn` edges between the ids of `packages` (declarations of
/// packages not in `packages`, e.g. dropped as owned by an OS package, take no part). A
/// requirement links to every package of the scope providing its first resolvable alternative;
/// self-edges and duplicates are dropped. Runs in time linear in the names declared (names are
/// indexed once per scope). Sorted by (`from`, `to`).
pub fn resolve(decls: &[DependencyDecl], packages: &[Package]) -> Vec<Relationship> {
    let kept: HashSet<&str> = packages.iter().map(|p| p.id.as_str()).collect();
    let decls: Vec<&DependencyDecl> = decls
        .iter()
        .filter(|d| kept.contains(d.package_id.as_str()))
        .collect();
    // (scope, name) -> providing package ids, in declaration order, each id once.
    let mut providers: HashMap<(&str, &str), Vec<&str>> = HashMap::new();
    for d in &decls {
        for name in &d.provides {
            let ids = providers
                .entry((d.scope.as_str(), name.as_str()))
                .or_default();
            if !ids.contains(&d.package_id.as_str()) {
                ids.push(d.package_id.as_str());
            }
        }
    }
    let mut edges: BTreeSet<(&str, &str)> = BTreeSet::new();
    for d in &decls {
        for alternatives in &d.requires {
            let found = alternatives.iter().find_map(|alt| {
                providers
                    .get(&(d.scope.as_str(), alt.as_str()))
                    .filter(|ids| ids.iter().any(|id| *id != d.package_id))
            });
            for to in found.into_iter().flatten() {
                if *to != d.package_id {
                    edges.insert((d.package_id.as_str(), to));
                }
            }
        }
    }
    edges
        .into_iter()
        .map(|(from, to)| Relationship {
            from: from.to_string(),
            to: to.to_string(),
            kind: RelationshipKind::DependsOn,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchorage_types::PackageType;

    fn pkg(id: &str) -> Package {
        Package {
            id: id.into(),
            name: id.into(),
            version: "1".into(),
            package_type: PackageType::Dpkg,
            purl: String::new(),
            cpes: vec![],
            licenses: vec![],
            locations: vec![],
            source_name: None,
            source_version: None,
            arch: None,
            owner: None,
            metadata: crate::model::PackageMetadata::None,
        }
    }

    fn decl(id: &str, scope: &str, provides: &[&str], requires: &[&[&str]]) -> DependencyDecl {
        DependencyDecl {
            package_id: id.into(),
            scope: scope.into(),
            provides: provides.iter().map(|s| s.to_string()).collect(),
            requires: requires
                .iter()
                .map(|alts| alts.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }

    fn pairs(r: &[Relationship]) -> Vec<(&str, &str)> {
        r.iter().map(|r| (r.from.as_str(), r.to.as_str())).collect()
    }

    #[test]
    fn synthetic_alternatives_scopes_self_and_dropped_packages() {
        let packages: Vec<Package> = ["a", "b", "c", "d", "x"].iter().map(|i| pkg(i)).collect();
        let decls = vec![
            // a: `missing | c`, `awk` (virtual, provided by b and d), itself, `x` (other scope)
            decl(
                "a",
                "s",
                &["a"],
                &[&["missing", "c"], &["awk"], &["a"], &["x"]],
            ),
            decl("b", "s", &["b", "awk"], &[]),
            decl("c", "s", &["c"], &[&["a"]]),
            decl("d", "s", &["d", "awk"], &[]),
            decl("x", "other", &["x"], &[]),
            // not among the packages: ignored both ways
            decl("gone", "s", &["c", "gone"], &[&["b"]]),
        ];
        let r = resolve(&decls, &packages);
        assert_eq!(
            pairs(&r),
            vec![("a", "b"), ("a", "c"), ("a", "d"), ("c", "a")]
        );
        assert!(r.iter().all(|r| r.kind == RelationshipKind::DependsOn));
    }

    #[test]
    fn synthetic_resolution_is_linear_in_declared_names() {
        // 200k packages in one ring of requirements: one index lookup per requirement.
        let n = 200_000;
        let packages: Vec<Package> = (0..n).map(|i| pkg(&format!("p{i}"))).collect();
        let decls: Vec<DependencyDecl> = (0..n)
            .map(|i| {
                let me = format!("p{i}");
                let next = format!("p{}", (i + 1) % n);
                decl(&me, "s", &[me.as_str()], &[&[next.as_str()]])
            })
            .collect();
        let started = std::time::Instant::now();
        let r = resolve(&decls, &packages);
        assert_eq!(r.len(), n);
        assert!(started.elapsed() < std::time::Duration::from_secs(20));
    }
}
