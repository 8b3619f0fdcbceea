//! Trigger ids of packages inside nested archives (anchore-v1 §4.5): a jar inside a war is
//! located at `outer.war:WEB-INF/lib/inner.jar` and its `vulnerabilities/package` trigger id
//! names the inner jar, so a whitelist item for one nested jar does not suppress the same
//! CVE in its siblings.

use std::path::Path;
use std::process::Command;

use anchorage_catalog::{CatalogContext, LangLimits, PackageMetadata, language_catalogers};
use anchorage_image::MemFs;
use anchorage_match::{Coverage, Evidence, Finding, FixState};
use anchorage_policy::Action;
use anchorage_types::Severity;
use serde_json::json;

use crate::support::{Scenario, bundle_with, matched, rule};

/// Debian's libguava-java and libcommons-io-java (installed by scripts/setup.sh).
const JARS: [&str; 2] = [
    "/usr/share/java/guava-31.1-jre.jar",
    "/usr/share/java/commons-io-2.11.0.jar",
];

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A war built by the JDK's `jar` tool around the real Debian jars; `None` (or a panic under
/// `CI=true`) when the jars or the tool are missing.
#[allow(clippy::print_stderr)] // a skipped local run says why
fn real_war() -> Option<Vec<u8>> {
    let missing: Vec<&str> = JARS
        .iter()
        .copied()
        .filter(|j| !Path::new(j).exists())
        .collect();
    if !missing.is_empty() {
        assert!(!ci(), "{missing:?} are required in CI (scripts/setup.sh)");
        eprintln!("note: skipping, {missing:?} missing");
        return None;
    }
    let dir = tempfile::tempdir().unwrap();
    let lib = dir.path().join("WEB-INF/lib");
    std::fs::create_dir_all(&lib).unwrap();
    for j in JARS {
        let name = Path::new(j).file_name().unwrap();
        std::fs::copy(j, lib.join(name)).unwrap();
    }
    std::fs::write(dir.path().join("WEB-INF/web.xml"), "<web-app/>").unwrap();
    let war = dir.path().join("app-1.2.war");
    match Command::new("jar")
        .arg("cf")
        .arg(&war)
        .arg("-C")
        .arg(dir.path())
        .arg("WEB-INF")
        .status()
    {
        Ok(s) if s.success() => Some(std::fs::read(&war).unwrap()),
        other => {
            assert!(
                !ci(),
                "`jar` (openjdk-17-jdk-headless) is required in CI: {other:?}"
            );
            eprintln!("note: skipping, `jar` failed: {other:?}");
            None
        }
    }
}

#[test]
fn nested_jar_trigger_ids_name_the_inner_jar() {
    let Some(war) = real_war() else {
        return;
    };
    let mut fs = MemFs::new();
    fs.add_file("/srv/app-1.2.war", war);
    let mut ctx = CatalogContext::default();
    let packages: Vec<_> = language_catalogers(&LangLimits::default())
        .iter()
        .flat_map(|c| c.catalog(&fs, &mut ctx))
        .collect();
    let find = |name: &str| packages.iter().find(|p| p.name == name).unwrap();
    let guava = find("guava");
    let commons_io = find("commons-io");
    assert!(matches!(guava.metadata, PackageMetadata::Java(_)));
    // Real advisories of these versions: guava < 32.0.0 (CVE-2023-2976) and commons-io
    // < 2.14.0 (CVE-2024-47554); the same id on both jars shows the ids differ per jar.
    let finding = |vuln: &str, p: &anchorage_catalog::Package| Finding {
        vuln: vuln.into(),
        aliases: Vec::new(),
        severity: Severity::High,
        package: matched(p, p.locations[0].path.clone()),
        fix: FixState::NotFixed,
        feed: "vulnerabilities".into(),
        feed_group: "github:java".into(),
        url: String::new(),
        nvd_data: Vec::new(),
        vendor_data: Vec::new(),
        published: None,
        fix_observed_at: None,
        evidence: vec![Evidence {
            record_id: vuln.into(),
            source: "osv".into(),
            matched_on: p.purl.clone(),
            constraint: String::new(),
            version_scheme: "maven".into(),
            installed_version: p.version.clone(),
            fix_versions: Vec::new(),
        }],
    };
    let mut sc = Scenario::bookworm_app();
    sc.analysis.packages = packages.clone();
    sc.findings = vec![
        finding("CVE-2023-2976", guava),
        finding("CVE-2023-2976", commons_io),
        finding("CVE-2024-47554", commons_io),
    ];
    sc.coverage = Coverage::Complete;
    let params = [("package_type", "non-os"), ("severity", "medium")];
    let b = bundle_with(
        rule("vulnerabilities", "package", "STOP", &params),
        json!([{"id": "wl-guava", "gate": "vulnerabilities",
                "trigger_id": "CVE-2023-2976+guava-31.1-jre.jar"}]),
    );
    let e = sc.eval(&b);
    let mut ids: Vec<(&str, bool)> = e
        .rows
        .iter()
        .map(|r| (r.trigger_id.as_str(), r.whitelisted.is_some()))
        .collect();
    ids.sort();
    assert_eq!(
        ids,
        vec![
            ("CVE-2023-2976+commons-io-2.11.0.jar", false),
            ("CVE-2023-2976+guava-31.1-jre.jar", true),
            ("CVE-2024-47554+commons-io-2.11.0.jar", false),
        ]
    );
    assert_eq!(e.final_action, Action::Stop);
}
