//! Every trigger of the always, vulnerabilities, packages and dockerfile gates: one firing and
//! one non-firing case on real corpus analyses. Where the corpus holds no such data (exposed
//! ports, an actual Dockerfile, sha256 package records), the firing case adds the missing data to the real analysis and its name starts
//! with `synthetic_`.

use anchorage_catalog::{Dockerfile, DockerfileMode, FileDigest, PackageMetadata};
use anchorage_match::Coverage;
use anchorage_policy::Action;
use serde_json::json;

use crate::support::{Scenario, bundle_with};

fn rows(e: &anchorage_policy::Evaluation) -> Vec<&str> {
    e.rows.iter().map(|r| r.check_output.as_str()).collect()
}

// ---- always

#[test]
fn always_fires_with_literal_trigger_id() {
    let e = Scenario::alpine().fire("always", "always", &[]);
    assert_eq!(e.rows.len(), 1);
    assert_eq!(e.rows[0].trigger_id, "always");
    assert_eq!(e.final_action, Action::Stop);
}

#[test]
fn always_absent_from_policy_means_go() {
    let e = Scenario::alpine().eval(&bundle_with(json!([]), json!([])));
    assert!(e.rows.is_empty());
    assert_eq!(e.final_action, Action::Go);
}

// ---- vulnerabilities/package

#[test]
fn vuln_package_fires_for_high_python_findings_with_cve_plus_pkg_ids() {
    let e = Scenario::bookworm_app().fire(
        "vulnerabilities",
        "package",
        &[
            ("package_type", "all"),
            ("severity_comparison", ">="),
            ("severity", "high"),
        ],
    );
    assert!(!e.rows.is_empty());
    // CVE-2023-43804 (urllib3, CVSS 8.1) is High; id is CVE + name-version for python.
    let row = e
        .rows
        .iter()
        .find(|r| r.trigger_id == "CVE-2023-43804+urllib3-1.23")
        .expect("urllib3 row");
    assert!(
        row.check_output.starts_with(
            "HIGH Vulnerability found in non-os package type (python) - /opt/app/venv"
        ),
        "{}",
        row.check_output
    );
    assert!(row.check_output.contains("(fixed in: "));
    assert!(
        row.explanation.reason.contains("severity high >= high"),
        "{}",
        row.explanation.reason
    );
    assert!(row.explanation.subject.contains("urllib3 1.23"));
    assert!(
        e.rows
            .iter()
            .all(|r| !r.trigger_id.starts_with("CVE-2016-2781"))
    );
}

#[test]
fn vuln_package_os_only_ignores_low_debian_findings_at_high() {
    let e = Scenario::bookworm_app().fire(
        "vulnerabilities",
        "package",
        &[
            ("package_type", "os"),
            ("severity_comparison", ">="),
            ("severity", "high"),
        ],
    );
    assert!(e.rows.is_empty(), "{:?}", rows(&e));
}

#[test]
fn vuln_package_os_ids_use_package_name_and_vendor_only_skips_wont_fix() {
    let sc = Scenario::bookworm_app();
    let e = sc.fire(
        "vulnerabilities",
        "package",
        &[
            ("package_type", "os"),
            ("severity_comparison", ">="),
            ("severity", "negligible"),
        ],
    );
    let ids: Vec<&str> = e.rows.iter().map(|r| r.trigger_id.as_str()).collect();
    assert!(ids.contains(&"CVE-2011-3374+apt"), "{ids:?}");
    assert!(ids.contains(&"CVE-2022-0563+libmount1"), "{ids:?}");
    // coreutils CVE-2016-2781 is <ignored> in bookworm: won't fix, skipped by default.
    assert!(
        !ids.iter().any(|i| i.starts_with("CVE-2016-2781")),
        "{ids:?}"
    );
    let e = sc.fire(
        "vulnerabilities",
        "package",
        &[
            ("package_type", "os"),
            ("severity_comparison", ">="),
            ("severity", "negligible"),
            ("vendor_only", "false"),
        ],
    );
    assert!(
        e.rows
            .iter()
            .any(|r| r.trigger_id == "CVE-2016-2781+coreutils")
    );
}

#[test]
fn vuln_package_cvss_and_path_and_fix_and_age_filters() {
    let sc = Scenario::bookworm_app();
    let base = [
        ("package_type", "non-os"),
        ("severity", "unknown"),
        ("severity_comparison", ">="),
    ];
    let all = sc.fire("vulnerabilities", "package", &base).rows.len();
    assert!(all >= 10, "{all}");
    let with = |extra: &[(&str, &str)]| {
        let mut p = base.to_vec();
        p.extend_from_slice(extra);
        sc.fire("vulnerabilities", "package", &p)
    };
    let critical = with(&[("cvss_v3_base_score", "9.0")]);
    assert!(critical.rows.len() < all);
    for r in &critical.rows {
        assert!(
            r.explanation.reason.contains("CVSS v3 base score"),
            "{}",
            r.explanation.reason
        );
    }
    let low_expl = with(&[
        ("cvss_v3_exploitability_score", "1.0"),
        ("cvss_v3_exploitability_score_comparison", "<"),
    ]);
    assert!(low_expl.rows.len() < all);
    assert!(
        with(&[("vendor_cvss_v3_base_score", "0.0")])
            .rows
            .is_empty(),
        "no vendor scores in the corpus records"
    );
    assert!(
        with(&[("package_path_exclude", "/opt/app/venv/.*")])
            .rows
            .is_empty()
    );
    assert_eq!(
        with(&[("fix_available", "true")]).rows.len(),
        all,
        "every PyPI hit has a fixed version"
    );
    assert!(with(&[("fix_available", "false")]).rows.is_empty());
    assert_eq!(
        with(&[("max_days_since_creation", "30")]).rows.len(),
        all,
        "all records are older than 30 days"
    );
    assert!(
        with(&[("max_days_since_creation", "100000")])
            .rows
            .is_empty()
    );
    assert!(
        with(&[("fix_available", "true"), ("max_days_since_fix", "100000")])
            .rows
            .is_empty()
    );
    assert_eq!(
        with(&[("fix_available", "true"), ("max_days_since_fix", "1")])
            .rows
            .len(),
        all
    );
}

#[test]
fn max_days_since_fix_without_a_fix_date_warns_instead_of_ignoring_the_parameter() {
    let mut sc = Scenario::bookworm_app();
    for f in &mut sc.findings {
        f.fix_observed_at = None;
    }
    let params = [
        ("package_type", "non-os"),
        ("fix_available", "true"),
        ("max_days_since_fix", "7"),
    ];
    let e = sc.fire("vulnerabilities", "package", &params);
    assert!(e.rows.is_empty());
    assert_eq!(
        e.evaluation_problems.len(),
        1,
        "{:?}",
        e.evaluation_problems
    );
    let p = &e.evaluation_problems[0];
    assert_eq!(
        (p.problem_type.as_str(), p.severity.as_str()),
        ("EvaluationWarning", "warn")
    );
    assert!(p.details.contains("max_days_since_fix"), "{}", p.details);
    assert!(p.details.contains("urllib3"), "{}", p.details);
    // With the dates known, no warning.
    let e = Scenario::bookworm_app().fire("vulnerabilities", "package", &params);
    assert!(
        e.evaluation_problems.is_empty(),
        "{:?}",
        e.evaluation_problems
    );
}

// ---- vulnerabilities/stale_feed_data, vulnerability_data_unavailable, blacklist

#[test]
fn stale_feed_data_fires_when_group_sync_is_old_or_missing() {
    let mut sc = Scenario::bookworm_app();
    sc.feeds = crate::support::feeds("Debian:12", 5);
    let e = sc.fire(
        "vulnerabilities",
        "stale_feed_data",
        &[("max_days_since_sync", "2")],
    );
    assert_eq!(
        rows(&e),
        ["The vulnerability feed for this image distro is older than MAXAGE (2) days"]
    );
    sc.feeds = crate::support::feeds("Alpine:v3.20", 0);
    assert_eq!(
        sc.fire(
            "vulnerabilities",
            "stale_feed_data",
            &[("max_days_since_sync", "2")]
        )
        .rows
        .len(),
        1
    );
}

#[test]
fn stale_feed_data_silent_for_fresh_group() {
    let mut sc = Scenario::bookworm_app();
    sc.feeds = crate::support::feeds("debian:12", 1);
    assert!(
        sc.fire(
            "vulnerabilities",
            "stale_feed_data",
            &[("max_days_since_sync", "2")]
        )
        .rows
        .is_empty()
    );
}

#[test]
fn data_unavailable_fires_on_coverage_gap_and_missing_group() {
    let mut sc = Scenario::bookworm_app();
    sc.coverage = Coverage::Unavailable {
        groups: vec!["Debian:12".into()],
    };
    let e = sc.fire("vulnerabilities", "vulnerability_data_unavailable", &[]);
    assert_eq!(
        rows(&e),
        ["Feed data unavailable, cannot perform CVE scan for distro: debian:12"]
    );
    let mut sc = Scenario::bookworm_app();
    sc.feeds = crate::support::feeds("Alpine:v3.20", 0);
    assert_eq!(
        sc.fire("vulnerabilities", "vulnerability_data_unavailable", &[])
            .rows
            .len(),
        1
    );
}

#[test]
fn data_unavailable_silent_with_data() {
    let e = Scenario::alpine().fire("vulnerabilities", "vulnerability_data_unavailable", &[]);
    assert!(e.rows.is_empty());
}

#[test]
fn vuln_blacklist_matches_ids_and_aliases() {
    let sc = Scenario::bookworm_app();
    let e = sc.fire(
        "vulnerabilities",
        "blacklist",
        &[("vulnerability_ids", "CVE-2020-14343, PYSEC-2019-217")],
    );
    assert_eq!(
        rows(&e),
        ["Blacklisted vulnerabilities detected: CVE-2020-14343, PYSEC-2019-217"]
    );
    assert!(e.rows[0].explanation.subject.contains("pyyaml"));
    // won't-fix coreutils finding does not count by default
    assert!(
        sc.fire(
            "vulnerabilities",
            "blacklist",
            &[("vulnerability_ids", "CVE-2016-2781")]
        )
        .rows
        .is_empty()
    );
    assert_eq!(
        sc.fire(
            "vulnerabilities",
            "blacklist",
            &[
                ("vulnerability_ids", "CVE-2016-2781"),
                ("vendor_only", "false")
            ]
        )
        .rows
        .len(),
        1
    );
}

#[test]
fn vuln_blacklist_silent_for_absent_ids() {
    let e = Scenario::bookworm_app().fire(
        "vulnerabilities",
        "blacklist",
        &[("vulnerability_ids", "CVE-2014-0160")],
    );
    assert!(e.rows.is_empty());
}

// ---- packages

#[test]
fn required_package_fires_when_absent_or_too_old() {
    let sc = Scenario::bookworm_app();
    assert_eq!(
        rows(&sc.fire(
            "packages",
            "required_package",
            &[("name", "openssh-server")]
        )),
        ["Required package openssh-server not found"]
    );
    let e = sc.fire(
        "packages",
        "required_package",
        &[
            ("name", "bash"),
            ("version", "5.2.99"),
            ("version_match_type", "minimum"),
        ],
    );
    assert_eq!(
        rows(&e),
        ["Required package bash version below minimum 5.2.99"]
    );
    assert!(
        e.rows[0].explanation.reason.contains("5.2.15"),
        "{}",
        e.rows[0].explanation.reason
    );
    let e = sc.fire(
        "packages",
        "required_package",
        &[("name", "bash"), ("version", "5.2")],
    );
    assert_eq!(e.rows.len(), 1);
}

#[test]
fn required_package_minimum_uses_the_apk_ordering() {
    let sc = Scenario::alpine();
    // busybox 1.36.1-r29: an _rc pre-release of the same version is older (apk version -t).
    let min = |v: &str| {
        sc.fire(
            "packages",
            "required_package",
            &[
                ("name", "busybox"),
                ("version", v),
                ("version_match_type", "minimum"),
            ],
        )
        .rows
        .len()
    };
    assert_eq!(min("1.36.1_rc1-r0"), 0);
    assert_eq!(min("1.36.1-r29"), 0);
    assert_eq!(min("1.36.1_p1-r0"), 1, "a _p patch release is newer");
    assert_eq!(min("1.36.2-r0"), 1);
    assert_eq!(
        min("not a version!"),
        1,
        "unparseable minimum cannot be met"
    );
}

#[test]
fn required_package_silent_when_satisfied() {
    let sc = Scenario::bookworm_app();
    let bash = sc
        .analysis
        .packages
        .iter()
        .find(|p| p.name == "bash")
        .unwrap()
        .version
        .clone();
    assert!(
        sc.fire("packages", "required_package", &[("name", "bash")])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire(
            "packages",
            "required_package",
            &[("name", "bash"), ("version", &bash)]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire(
            "packages",
            "required_package",
            &[
                ("name", "bash"),
                ("version", "5.1"),
                ("version_match_type", "minimum")
            ]
        )
        .rows
        .is_empty()
    );
}

#[test]
fn verify_reports_files_removed_by_whiteouts() {
    // Layer 2 of debian-bookworm-app deletes usr/share/doc/debconf and usr/share/man.
    let e = Scenario::bookworm_app().fire(
        "packages",
        "verify",
        &[("only_packages", "debconf"), ("check", "missing")],
    );
    assert!(!e.rows.is_empty());
    for r in &e.rows {
        assert!(
            r.check_output.contains("/usr/share/doc/debconf/")
                || r.check_output.contains("/usr/share/man/"),
            "{}",
            r.check_output
        );
    }
}

#[test]
fn verify_silent_for_intact_directories() {
    let e = Scenario::bookworm_app().fire(
        "packages",
        "verify",
        &[
            ("only_packages", "adduser,debconf"),
            ("only_directories", "/usr/sbin,/usr/bin"),
        ],
    );
    assert!(e.rows.is_empty(), "{:?}", rows(&e));
}

#[test]
fn synthetic_verify_changed_with_sha256_record() {
    let mut sc = Scenario::alpine();
    let busybox = sc
        .analysis
        .packages
        .iter_mut()
        .find(|p| p.name == "busybox")
        .unwrap();
    let PackageMetadata::Apk(m) = &mut busybox.metadata else {
        panic!("apk metadata")
    };
    let f = m
        .files
        .iter_mut()
        .find(|f| f.path == "/bin/busybox")
        .unwrap();
    f.digest = Some(FileDigest {
        algorithm: "sha256".into(),
        value: "00".repeat(32),
    });
    let e = sc.fire("packages", "verify", &[("check", "changed")]);
    assert_eq!(rows(&e), ["Package busybox file /bin/busybox has changed"]);
}

#[test]
fn packages_blacklist_fires_per_installed_match() {
    let e = Scenario::bookworm_app().fire("packages", "blacklist", &[("name", "apt")]);
    assert_eq!(rows(&e), ["Package is blacklisted: apt"]);
}

#[test]
fn packages_blacklist_silent_for_other_version_or_name() {
    let sc = Scenario::bookworm_app();
    assert!(
        sc.fire("packages", "blacklist", &[("name", "telnetd")])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire(
            "packages",
            "blacklist",
            &[("name", "apt"), ("version", "0.1")]
        )
        .rows
        .is_empty()
    );
}

// ---- dockerfile

fn with_dockerfile(mode: DockerfileMode, text: &str) -> Scenario {
    let mut sc = Scenario::bookworm_app();
    sc.analysis.image.dockerfile = Some(Dockerfile {
        mode,
        text: text.into(),
    });
    sc
}

#[test]
fn instruction_checks_on_guessed_dockerfile() {
    let sc = Scenario::bookworm_app();
    let e = sc.fire(
        "dockerfile",
        "instruction",
        &[
            ("instruction", "RUN"),
            ("check", "like"),
            ("value", "apt-get install"),
        ],
    );
    assert_eq!(e.rows.len(), 1);
    assert!(e.rows[0].check_output.starts_with("Dockerfile directive 'RUN' check 'like' matched against 'apt-get install' for line 'apt-get install python3"));
    let e = sc.fire(
        "dockerfile",
        "instruction",
        &[("instruction", "HEALTHCHECK"), ("check", "not_exists")],
    );
    assert_eq!(
        rows(&e),
        ["Dockerfile directive 'HEALTHCHECK' not found, matching condition 'not_exists' check"]
    );
}

#[test]
fn instruction_silent_for_actual_only_or_no_match() {
    let sc = Scenario::bookworm_app();
    assert!(
        sc.fire(
            "dockerfile",
            "instruction",
            &[
                ("instruction", "RUN"),
                ("check", "exists"),
                ("actual_dockerfile_only", "true")
            ]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire(
            "dockerfile",
            "instruction",
            &[("instruction", "FROM"), ("check", "exists")]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire(
            "dockerfile",
            "instruction",
            &[
                ("instruction", "RUN"),
                ("check", "in"),
                ("value", "true,false")
            ]
        )
        .rows
        .is_empty()
    );
    let mut none = Scenario::bookworm_app();
    none.analysis.image.dockerfile = None;
    assert!(
        none.fire(
            "dockerfile",
            "instruction",
            &[("instruction", "HEALTHCHECK"), ("check", "not_exists")]
        )
        .rows
        .is_empty()
    );
}

#[test]
fn effective_user_defaults_to_root() {
    let e = Scenario::bookworm_app().fire(
        "dockerfile",
        "effective_user",
        &[("users", "root"), ("type", "blacklist")],
    );
    assert_eq!(
        rows(&e),
        ["User root found as effective user, which is on the disallowed list"]
    );
}

#[test]
fn effective_user_silent_when_allowed() {
    let e = Scenario::bookworm_app().fire(
        "dockerfile",
        "effective_user",
        &[("users", "root,app"), ("type", "whitelist")],
    );
    assert!(e.rows.is_empty());
}

#[test]
fn synthetic_exposed_ports_from_actual_dockerfile() {
    let sc = with_dockerfile(
        DockerfileMode::Actual,
        "FROM debian:bookworm\nEXPOSE 22/tcp 8080\nUSER app\n",
    );
    let e = sc.fire(
        "dockerfile",
        "exposed_ports",
        &[("ports", "22"), ("type", "blacklist")],
    );
    assert_eq!(
        rows(&e),
        ["Dockerfile exposes port (22) which is in policy file DENIEDPORTS list"]
    );
    let e = sc.fire(
        "dockerfile",
        "exposed_ports",
        &[("ports", "22"), ("type", "whitelist")],
    );
    assert_eq!(
        rows(&e),
        ["Dockerfile exposes port (8080) which is not in policy file ALLOWEDPORTS list"]
    );
    assert_eq!(
        sc.fire(
            "dockerfile",
            "exposed_ports",
            &[("ports", "0"), ("type", "blacklist")]
        )
        .rows
        .len(),
        2
    );
    let e = sc.fire(
        "dockerfile",
        "effective_user",
        &[("users", "root"), ("type", "whitelist")],
    );
    assert_eq!(
        rows(&e),
        ["User app found as effective user, which is not on the allowed list"]
    );
}

#[test]
fn exposed_ports_silent_when_nothing_exposed() {
    let e = Scenario::bookworm_app().fire(
        "dockerfile",
        "exposed_ports",
        &[("ports", "0"), ("type", "blacklist")],
    );
    assert!(e.rows.is_empty());
}

#[test]
fn no_dockerfile_provided_fires_for_guessed() {
    let e = Scenario::bookworm_app().fire("dockerfile", "no_dockerfile_provided", &[]);
    assert_eq!(e.rows.len(), 1);
    assert!(e.rows[0].explanation.reason.contains("guessed"));
}

#[test]
fn synthetic_no_dockerfile_provided_silent_for_actual() {
    let sc = with_dockerfile(DockerfileMode::Actual, "FROM debian:bookworm\n");
    assert!(
        sc.fire("dockerfile", "no_dockerfile_provided", &[])
            .rows
            .is_empty()
    );
}

#[test]
fn npm_feed_triggers_without_a_feed_warn_instead_of_staying_silent() {
    let e = Scenario::bookworm_app().fire("npms", "newer_version_in_feed", &[]);
    assert!(e.rows.is_empty());
    assert_eq!(
        e.evaluation_problems.len(),
        1,
        "{:?}",
        e.evaluation_problems
    );
    assert!(
        e.evaluation_problems[0]
            .details
            .contains("packages feed for npm is not available"),
        "{:?}",
        e.evaluation_problems
    );
}
