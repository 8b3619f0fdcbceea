//! Every trigger of the content gates (files, passwd_file, licenses, metadata, npms, ruby_gems,
//! secret_scans, malware, retrieved_files): one firing and one non-firing case on real corpus
//! analyses. Where the corpus holds no such data (secrets, malware, gems, package feeds), the
//! firing case adds the missing data to the real analysis and its name starts
//! with `synthetic_`.

use anchorage_catalog::{ContentHit, Package};
use anchorage_policy::{
    EvaluationInput, FeedPackage, MalwareFinding, MalwareScan, PackageFeeds, evaluate,
};
use anchorage_types::{FeedGroupStatus, PackageType};
use serde_json::json;

use crate::support::{Scenario, bundle_with, now, rule, valid};

fn rows(e: &anchorage_policy::Evaluation) -> Vec<&str> {
    e.rows.iter().map(|r| r.check_output.as_str()).collect()
}

// ---- files

#[test]
fn content_regex_match_fires_per_real_hit() {
    let sc = Scenario::bookworm_app();
    let e = sc.fire("files", "content_regex_match", &[]);
    assert!(!e.rows.is_empty());
    let e = sc.fire(
        "files",
        "content_regex_match",
        &[("regex_name", "SHA512_INTEGRITY")],
    );
    assert_eq!(
        rows(&e),
        [
            "File content analyzer found regexp match in container: file=/opt/app/node/package-lock.json regexp=SHA512_INTEGRITY"
        ]
    );
}

/// Anchore's `regex_name` matches a hit by its configured name or by its regex text (bare
/// regexes in the analyzer config have no other name).
#[test]
fn content_regex_match_selects_by_regex_text_too() {
    let sc = Scenario::bookworm_app();
    let e = sc.fire(
        "files",
        "content_regex_match",
        &[("regex_name", r#""integrity": "sha512-"#)],
    );
    assert_eq!(e.rows.len(), 1, "{:?}", rows(&e));
    let e = sc.fire(
        "files",
        "content_regex_match",
        &[("regex_name", r#""integrity": "sha1-"#)],
    );
    assert!(e.rows.is_empty(), "{:?}", rows(&e));
}

#[test]
fn content_regex_match_silent_without_hits() {
    assert!(
        Scenario::alpine()
            .fire("files", "content_regex_match", &[])
            .rows
            .is_empty()
    );
    assert!(
        Scenario::bookworm_app()
            .fire(
                "files",
                "content_regex_match",
                &[("regex_name", "AWS_ACCESS_KEY")]
            )
            .rows
            .is_empty()
    );
}

#[test]
fn name_match_fires_on_real_paths() {
    let e = Scenario::bookworm_app().fire("files", "name_match", &[("regex", "/usr/bin/passwd$")]);
    assert_eq!(
        rows(&e),
        [
            "Application of regex matched file found in container: file=/usr/bin/passwd regexp=/usr/bin/passwd$"
        ]
    );
    // setuptools ships Windows launchers in the venv
    let e = Scenario::bookworm_app().fire("files", "name_match", &[("regex", r".*\.exe$")]);
    assert!(
        e.rows
            .iter()
            .any(|r| r.explanation.subject.ends_with("setuptools/cli-64.exe"))
    );
}

#[test]
fn name_match_silent_without_match() {
    let sc = Scenario::bookworm_app();
    assert!(
        sc.fire("files", "name_match", &[("regex", r".*\.pem$")])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire("files", "name_match", &[("regex", r".*id_rsa$")])
            .rows
            .is_empty()
    );
}

#[test]
fn attribute_match_on_real_checksum_and_mode() {
    let sc = Scenario::bookworm_app();
    let sum = "5d656693d00291eed4628062028f301b635833014f09b3f553f544674613df70";
    let e = sc.fire(
        "files",
        "attribute_match",
        &[
            ("filename", "/usr/share/doc/adduser/TODO"),
            ("checksum_algorithm", "sha256"),
            ("checksum", sum),
            ("mode", "00644"),
        ],
    );
    assert_eq!(e.rows.len(), 1);
    assert!(e.rows[0].check_output.contains("mode equals 00644"));
    let e = sc.fire(
        "files",
        "attribute_match",
        &[("filename", "/etc/missing.conf"), ("skip_missing", "false")],
    );
    assert_eq!(
        rows(&e),
        ["Specified filename /etc/missing.conf not found in image"]
    );
}

#[test]
fn attribute_match_silent_when_a_check_fails_or_file_missing() {
    let sc = Scenario::bookworm_app();
    let sum = "5d656693d00291eed4628062028f301b635833014f09b3f553f544674613df70";
    assert!(
        sc.fire(
            "files",
            "attribute_match",
            &[
                ("filename", "/usr/share/doc/adduser/TODO"),
                ("checksum", sum),
                ("checksum_match", "not_equals")
            ]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire(
            "files",
            "attribute_match",
            &[
                ("filename", "/usr/share/doc/adduser/TODO"),
                ("mode", "00755")
            ]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire(
            "files",
            "attribute_match",
            &[("filename", "/etc/missing.conf")]
        )
        .rows
        .is_empty()
    );
}

#[test]
fn suid_fires_for_real_setuid_binaries() {
    let e = Scenario::bookworm_app().fire("files", "suid_or_guid_set", &[]);
    let out = rows(&e);
    assert!(
        out.contains(&"SUID or SGID found set on file /usr/bin/passwd. Mode: 04755"),
        "{out:?}"
    );
    assert!(
        out.contains(&"SUID or SGID found set on file /usr/bin/chage. Mode: 02755"),
        "{out:?}"
    );
}

#[test]
fn suid_silent_on_alpine_catalog() {
    let e = Scenario::alpine().fire("files", "suid_or_guid_set", &[]);
    assert!(e.rows.is_empty(), "{:?}", rows(&e));
}

// ---- passwd_file

#[test]
fn passwd_blacklists_fire_on_real_alpine_passwd() {
    let sc = Scenario::alpine();
    let e = sc.fire(
        "passwd_file",
        "blacklist_usernames",
        &[("user_names", "ftp,nobody")],
    );
    assert_eq!(e.rows.len(), 2, "{:?}", rows(&e));
    let e = sc.fire("passwd_file", "blacklist_userids", &[("user_ids", "0")]);
    assert_eq!(
        rows(&e),
        ["Blacklisted uid '0' found in image's /etc/passwd: entry=root:x:0:0:root:/root:/bin/sh"]
    );
    assert!(
        !sc.fire("passwd_file", "blacklist_groupids", &[("group_ids", "0")])
            .rows
            .is_empty()
    );
    assert!(
        !sc.fire("passwd_file", "blacklist_shells", &[("shells", "/bin/sh")])
            .rows
            .is_empty()
    );
    let e = sc.fire(
        "passwd_file",
        "blacklist_full_entry",
        &[("entry", "root:x:0:0:root:/root:/bin/sh")],
    );
    assert_eq!(e.rows.len(), 1);
    // alias from older bundles
    assert_eq!(
        sc.fire(
            "passwd_file",
            "blacklist_usernames",
            &[("usernameblacklist", "root")]
        )
        .rows
        .len(),
        1
    );
    let mut none = Scenario::alpine();
    none.analysis.retrieved_files.clear();
    assert_eq!(
        none.fire("passwd_file", "content_not_available", &[])
            .rows
            .len(),
        1
    );
}

#[test]
fn passwd_triggers_silent_without_match() {
    let sc = Scenario::alpine();
    assert!(
        sc.fire("passwd_file", "content_not_available", &[])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire(
            "passwd_file",
            "blacklist_usernames",
            &[("user_names", "mallory")]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire("passwd_file", "blacklist_userids", &[("user_ids", "4242")])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire(
            "passwd_file",
            "blacklist_groupids",
            &[("group_ids", "4242")]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire("passwd_file", "blacklist_shells", &[("shells", "/bin/zsh")])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire(
            "passwd_file",
            "blacklist_full_entry",
            &[("entry", "root:x:0:0:root:/root:/bin/bash")]
        )
        .rows
        .is_empty()
    );
}

// ---- licenses

#[test]
fn licenses_fire_on_real_alpine_licenses() {
    let sc = Scenario::alpine();
    let e = sc.fire(
        "licenses",
        "blacklist_exact_match",
        &[("licenses", "GPL-2.0-only")],
    );
    assert_eq!(e.rows.len(), 1);
    assert!(
        e.rows[0].check_output.contains("busybox(GPL-2.0-only)"),
        "{}",
        e.rows[0].check_output
    );
    assert_eq!(
        sc.fire(
            "licenses",
            "blacklist_partial_match",
            &[("licenses", "GPL")]
        )
        .rows
        .len(),
        1
    );
}

#[test]
fn licenses_silent_without_match() {
    let sc = Scenario::alpine();
    assert!(
        sc.fire("licenses", "blacklist_exact_match", &[("licenses", "GPL")])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire(
            "licenses",
            "blacklist_partial_match",
            &[("licenses", "AGPL")]
        )
        .rows
        .is_empty()
    );
}

// ---- metadata

#[test]
fn metadata_attribute_fires_on_real_values() {
    let sc = Scenario::bookworm_app();
    let e = sc.fire(
        "metadata",
        "attribute",
        &[("attribute", "distro"), ("check", "="), ("value", "debian")],
    );
    assert_eq!(
        rows(&e),
        [
            "Attribute check for attribute: 'distro' check: '=' check_value: 'debian' matched image value: 'debian'"
        ]
    );
    assert_eq!(
        sc.fire(
            "metadata",
            "attribute",
            &[
                ("attribute", "layer_count"),
                ("check", ">="),
                ("value", "2")
            ]
        )
        .rows
        .len(),
        1
    );
    assert_eq!(
        sc.fire(
            "metadata",
            "attribute",
            &[("attribute", "size"), ("check", ">"), ("value", "1mb")]
        )
        .rows
        .len(),
        1
    );
    assert_eq!(
        sc.fire(
            "metadata",
            "attribute",
            &[
                ("attribute", "architecture"),
                ("check", "in"),
                ("value", "arm64,amd64")
            ]
        )
        .rows
        .len(),
        1
    );
    assert_eq!(
        sc.fire(
            "metadata",
            "attribute",
            &[
                ("attribute", "distro_version"),
                ("check", "like"),
                ("value", "1[0-9]")
            ]
        )
        .rows
        .len(),
        1
    );
}

#[test]
fn metadata_attribute_silent_when_false() {
    let sc = Scenario::bookworm_app();
    assert!(
        sc.fire(
            "metadata",
            "attribute",
            &[("attribute", "distro"), ("check", "="), ("value", "alpine")]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire(
            "metadata",
            "attribute",
            &[("attribute", "size"), ("check", ">"), ("value", "10gb")]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire(
            "metadata",
            "attribute",
            &[("attribute", "os_type"), ("check", "not_exists")]
        )
        .rows
        .is_empty()
    );
}

// ---- npms / ruby_gems

#[test]
fn npm_blacklist_fires_on_real_lodash() {
    let e = Scenario::bookworm_app().fire(
        "npms",
        "blacklisted_name_version",
        &[("name", "lodash"), ("version", "4.17.4")],
    );
    assert_eq!(rows(&e), ["NPM Package is blacklisted: lodash-4.17.4"]);
}

#[test]
fn npm_blacklist_silent_for_other_version() {
    let e = Scenario::bookworm_app().fire(
        "npms",
        "blacklisted_name_version",
        &[("name", "lodash"), ("version", "4.17.21")],
    );
    assert!(e.rows.is_empty());
}

#[test]
fn feed_data_unavailable_fires_without_packages_feed_and_not_with_it() {
    let mut sc = Scenario::bookworm_app();
    assert_eq!(sc.fire("npms", "feed_data_unavailable", &[]).rows.len(), 1);
    assert_eq!(
        sc.fire("ruby_gems", "feed_data_unavailable", &[])
            .rows
            .len(),
        1
    );
    for group in ["npm", "gem"] {
        sc.feeds.push(FeedGroupStatus {
            feed: "packages".into(),
            group: group.into(),
            record_count: 10,
            last_sync: Some(now()),
            last_error: None,
        });
    }
    assert!(
        sc.fire("npms", "feed_data_unavailable", &[])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire("ruby_gems", "feed_data_unavailable", &[])
            .rows
            .is_empty()
    );
}

fn eval_with_feed(sc: &Scenario, gate: &str, trigger: &str, feeds: &PackageFeeds) -> usize {
    let b = valid(&bundle_with(rule(gate, trigger, "WARN", &[]), json!([])));
    let mut input: EvaluationInput<'_> = sc.input();
    input.package_feeds = Some(feeds);
    evaluate(&b, &input).rows.len()
}

#[test]
fn synthetic_npm_feed_triggers() {
    let sc = Scenario::bookworm_app();
    let mut feeds = PackageFeeds::default();
    feeds.npm.insert(
        "lodash".into(),
        FeedPackage {
            latest: "4.17.21".into(),
            versions: vec!["4.17.4".into(), "4.17.21".into()],
        },
    );
    feeds.npm.insert(
        "minimist".into(),
        FeedPackage {
            latest: "0.0.8".into(),
            versions: vec!["1.2.8".into()],
        },
    );
    let npm_count = sc
        .analysis
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Npm)
        .count();
    assert_eq!(
        eval_with_feed(&sc, "npms", "newer_version_in_feed", &feeds),
        1
    );
    assert_eq!(
        eval_with_feed(&sc, "npms", "version_not_in_feeds", &feeds),
        1
    );
    assert_eq!(
        eval_with_feed(&sc, "npms", "unknown_in_feeds", &feeds),
        npm_count - 2
    );
    // no packages feed: silent
    assert!(
        sc.fire("npms", "newer_version_in_feed", &[])
            .rows
            .is_empty()
    );
    assert!(sc.fire("npms", "unknown_in_feeds", &[]).rows.is_empty());
    assert!(sc.fire("npms", "version_not_in_feeds", &[]).rows.is_empty());
}

fn with_gem() -> Scenario {
    let mut sc = Scenario::bookworm_app();
    let mut gem: Package = sc
        .analysis
        .packages
        .iter()
        .find(|p| p.package_type == PackageType::Npm)
        .unwrap()
        .clone();
    gem.name = "rack".into();
    gem.version = "2.2.3".into();
    gem.package_type = PackageType::Gem;
    gem.purl = "pkg:gem/rack@2.2.3".into();
    gem.locations[0].path = "/usr/lib/ruby/gems/3.1.0/specifications/rack-2.2.3.gemspec".into();
    sc.analysis.packages.push(gem);
    sc
}

#[test]
fn synthetic_gem_triggers() {
    let sc = with_gem();
    assert_eq!(
        rows(&sc.fire("ruby_gems", "blacklist", &[("name", "rack")])),
        ["Gem is blacklisted: rack"]
    );
    assert!(
        sc.fire(
            "ruby_gems",
            "blacklist",
            &[("name", "rack"), ("version", "3.0.0")]
        )
        .rows
        .is_empty()
    );
    let mut feeds = PackageFeeds::default();
    feeds.gem.insert(
        "rack".into(),
        FeedPackage {
            latest: "3.0.0".into(),
            versions: vec!["3.0.0".into()],
        },
    );
    assert_eq!(
        eval_with_feed(&sc, "ruby_gems", "newer_version_found_in_feed", &feeds),
        1
    );
    assert_eq!(
        eval_with_feed(&sc, "ruby_gems", "version_not_found_in_feed", &feeds),
        1
    );
    assert_eq!(
        eval_with_feed(&sc, "ruby_gems", "not_found_in_feed", &feeds),
        0
    );
    feeds.gem.clear();
    feeds.gem.insert(
        "rails".into(),
        FeedPackage {
            latest: "7.0.0".into(),
            versions: vec![],
        },
    );
    assert_eq!(
        eval_with_feed(&sc, "ruby_gems", "not_found_in_feed", &feeds),
        1
    );
}

#[test]
fn gem_triggers_silent_on_real_images_without_gems() {
    let sc = Scenario::bookworm_app();
    assert!(
        sc.fire("ruby_gems", "blacklist", &[("name", "rack")])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire("ruby_gems", "newer_version_found_in_feed", &[])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire("ruby_gems", "not_found_in_feed", &[])
            .rows
            .is_empty()
    );
    assert!(
        sc.fire("ruby_gems", "version_not_found_in_feed", &[])
            .rows
            .is_empty()
    );
}

// ---- secret_scans

#[test]
fn synthetic_secret_scan_hits() {
    let mut sc = Scenario::bookworm_app();
    sc.analysis.secrets.push(ContentHit {
        path: "/opt/app/.env".into(),
        rule: "AWS_ACCESS_KEY".into(),
        regex: None,
        lines: vec![3],
    });
    let e = sc.fire("secret_scans", "content_regex_checks", &[]);
    assert_eq!(
        rows(&e),
        [
            "Secret search analyzer found regexp match in container: file=/opt/app/.env regexp=AWS_ACCESS_KEY"
        ]
    );
    assert!(
        sc.fire(
            "secret_scans",
            "content_regex_checks",
            &[("content_regex_name", "PRIV_KEY")]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire(
            "secret_scans",
            "content_regex_checks",
            &[("filename_regex", "/etc/.*")]
        )
        .rows
        .is_empty()
    );
    assert_eq!(
        sc.fire(
            "secret_scans",
            "content_regex_checks",
            &[("filename_regex", "/opt/.*")]
        )
        .rows
        .len(),
        1
    );
}

#[test]
fn secret_scans_on_real_image_without_secrets() {
    let sc = Scenario::bookworm_app();
    assert!(
        sc.fire("secret_scans", "content_regex_checks", &[])
            .rows
            .is_empty()
    );
    assert_eq!(
        sc.fire(
            "secret_scans",
            "content_regex_checks",
            &[("match_type", "notfound")]
        )
        .rows
        .len(),
        1
    );
}

// ---- malware

#[test]
fn scan_not_run_fires_without_results() {
    assert_eq!(
        Scenario::alpine()
            .fire("malware", "scan_not_run", &[])
            .rows
            .len(),
        1
    );
    assert!(
        Scenario::alpine()
            .fire("malware", "scans", &[])
            .rows
            .is_empty()
    );
}

#[test]
fn synthetic_malware_scan_findings() {
    let sc = Scenario::alpine();
    let scans = [MalwareScan {
        scanner: "clamav".into(),
        findings: vec![MalwareFinding {
            path: "/tmp/eicar.com".into(),
            signature: "Win.Test.EICAR_HDB-1".into(),
        }],
        ..MalwareScan::default()
    }];
    for (trigger, want) in [("scans", 1), ("scan_not_run", 0)] {
        let b = valid(&bundle_with(
            rule("malware", trigger, "STOP", &[]),
            json!([]),
        ));
        let mut input = sc.input();
        input.malware = Some(&scans);
        let e = evaluate(&b, &input);
        assert_eq!(e.rows.len(), want, "{trigger}");
        if want == 1 {
            // <scanner>+<signature>+<md5 of path>
            assert!(
                e.rows[0]
                    .trigger_id
                    .starts_with("clamav+Win.Test.EICAR_HDB-1+")
            );
            assert_eq!(
                e.rows[0].trigger_id.len(),
                "clamav+Win.Test.EICAR_HDB-1+".len() + 32
            );
        }
    }
}

// ---- retrieved_files

#[test]
fn retrieved_files_fire_on_real_passwd() {
    let sc = Scenario::alpine();
    assert_eq!(
        rows(&sc.fire(
            "retrieved_files",
            "content_not_available",
            &[("path", "/etc/shadow")]
        )),
        ["Cannot locate /etc/shadow content from analysis"]
    );
    let e = sc.fire(
        "retrieved_files",
        "content_regex",
        &[
            ("path", "/etc/passwd"),
            ("regex", "root:"),
            ("check", "match"),
        ],
    );
    assert_eq!(e.rows.len(), 1);
    assert_eq!(
        e.rows[0].trigger_id,
        "retrieved_files-content_regex+file:///etc/passwd"
    );
    assert_eq!(
        sc.fire(
            "retrieved_files",
            "content_regex",
            &[
                ("path", "/etc/passwd"),
                ("regex", "mallory:"),
                ("check", "no_match")
            ]
        )
        .rows
        .len(),
        1
    );
}

#[test]
fn retrieved_files_silent_when_present_or_no_match() {
    let sc = Scenario::alpine();
    assert!(
        sc.fire(
            "retrieved_files",
            "content_not_available",
            &[("path", "etc/passwd")]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire(
            "retrieved_files",
            "content_regex",
            &[
                ("path", "/etc/passwd"),
                ("regex", "mallory:"),
                ("check", "match")
            ]
        )
        .rows
        .is_empty()
    );
    assert!(
        sc.fire(
            "retrieved_files",
            "content_regex",
            &[
                ("path", "/etc/passwd"),
                ("regex", "root:"),
                ("check", "no_match")
            ]
        )
        .rows
        .is_empty()
    );
}
