//! Queries over [`Analysis::relationships`](super::Analysis::relationships): what a package
//! depends on, and why a package is in the image.

use std::collections::{HashMap, HashSet, VecDeque};

use super::{Relationship, RelationshipKind};

/// The ids of the packages `package_id` depends on, directly.
pub fn depends_on<'a>(relationships: &'a [Relationship], package_id: &str) -> Vec<&'a str> {
    relationships
        .iter()
        .filter(|r| r.from == package_id && r.kind == RelationshipKind::DependsOn)
        .map(|r| r.to.as_str())
        .collect()
}

/// Why `package_id` is in the image: the shortest chain of dependents from a package nothing
/// depends on (a top-level package) down to `package_id` (first element the top, last
/// `package_id`). `None` when nothing depends on the package (it is top-level itself). Breadth
/// first over the reversed edges, so cycles (dpkg has some) terminate.
pub fn dependency_chain(relationships: &[Relationship], package_id: &str) -> Option<Vec<String>> {
    let mut dependents: HashMap<&str, Vec<&str>> = HashMap::new();
    for r in relationships {
        if r.kind == RelationshipKind::DependsOn {
            dependents
                .entry(r.to.as_str())
                .or_default()
                .push(r.from.as_str());
        }
    }
    dependents.get(package_id)?;
    let mut parent: HashMap<&str, &str> = HashMap::new();
    let mut queue = VecDeque::from([package_id]);
    let mut seen: HashSet<&str> = HashSet::from([package_id]);
    let mut last = package_id;
    while let Some(cur) = queue.pop_front() {
        last = cur;
        let Some(ups) = dependents.get(cur) else {
            break; // a package nothing depends on: a top
        };
        for up in ups {
            if seen.insert(up) {
                parent.insert(up, cur);
                queue.push_back(up);
            }
        }
    }
    // `last` is the first top found, or (every ancestor in a cycle) the farthest one reached.
    let mut chain = vec![last.to_string()];
    let mut cur = last;
    while let Some(next) = parent.get(cur) {
        chain.push((*next).to_string());
        cur = next;
    }
    Some(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn synthetic_why_follows_dependents_to_a_top_and_survives_cycles() {
        let rel = |from: &str, to: &str| Relationship {
            from: from.into(),
            to: to.into(),
            kind: RelationshipKind::DependsOn,
        };
        // app -> web -> lib, lib <-> lib2 (cycle)
        let r = vec![
            rel("app", "web"),
            rel("web", "lib"),
            rel("lib", "lib2"),
            rel("lib2", "lib"),
        ];
        assert_eq!(
            dependency_chain(&r, "lib").unwrap(),
            vec!["app", "web", "lib"]
        );
        assert_eq!(dependency_chain(&r, "app"), None);
        // a pure cycle has no top: the chain ends at the farthest ancestor
        let cyc = vec![rel("p", "q"), rel("q", "p")];
        assert_eq!(dependency_chain(&cyc, "p").unwrap(), vec!["q", "p"]);
        assert_eq!(depends_on(&r, "lib"), vec!["lib2"]);
    }
}
