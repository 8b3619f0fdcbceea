//! The gate table itself (anchore-v1.md §5), in registry order.

use super::{Check, GateDef, ParamDef, State, TriggerDef};

const fn p(
    name: &'static str,
    description: &'static str,
    example: Option<&'static str>,
    required: bool,
    check: Check,
) -> ParamDef {
    ParamDef {
        name,
        aliases: &[],
        description,
        example,
        required,
        check,
    }
}

const fn t(
    name: &'static str,
    description: &'static str,
    params: &'static [ParamDef],
) -> TriggerDef {
    TriggerDef {
        name,
        description,
        state: State::Active,
        params,
    }
}

const fn eol(name: &'static str, superceded_by: Option<&'static str>) -> GateDef {
    GateDef {
        name,
        description: "End-of-life gate: rejected in new bundles, its triggers never fire",
        state: State::Eol,
        superceded_by,
        triggers: &[],
    }
}

const COMPARISONS: &[&str] = &["=", "!=", "<", ">", "<=", ">="];
const SEVERITIES: &[&str] = &["unknown", "negligible", "low", "medium", "high", "critical"];
pub(crate) const INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "COPY",
    "CMD",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "USER",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "VOLUME",
    "WORKDIR",
];
const METADATA_ATTRIBUTES: &[&str] = &[
    "size",
    "architecture",
    "os_type",
    "distro",
    "distro_version",
    "like_distro",
    "layer_count",
];

macro_rules! score_params {
    ($($name:literal, $cmp:literal, $what:literal);* $(;)?) => {
        [$(
            p($cmp, concat!("The type of comparison to perform for ", $what, "."), Some(">"), false, Check::Enum(COMPARISONS)),
            p($name, concat!($what, " to compare against; only applied when set."), Some("5.0"), false, Check::Float),
        )*]
    };
}

const VULN_SCORES: [ParamDef; 12] = score_params!(
    "cvss_v3_base_score", "cvss_v3_base_score_comparison", "NVD CVSS v3 base score";
    "cvss_v3_exploitability_score", "cvss_v3_exploitability_score_comparison", "NVD CVSS v3 exploitability sub-score";
    "cvss_v3_impact_score", "cvss_v3_impact_score_comparison", "NVD CVSS v3 impact sub-score";
    "vendor_cvss_v3_base_score", "vendor_cvss_v3_base_score_comparison", "Vendor CVSS v3 base score";
    "vendor_cvss_v3_exploitability_score", "vendor_cvss_v3_exploitability_score_comparison", "Vendor CVSS v3 exploitability sub-score";
    "vendor_cvss_v3_impact_score", "vendor_cvss_v3_impact_score_comparison", "Vendor CVSS v3 impact sub-score";
);

const VULN_PACKAGE_PARAMS: [ParamDef; 20] = {
    let [a, b, c, d, e, f, g, h, i, j, k, l] = VULN_SCORES;
    [
        p(
            "package_type",
            "Only trigger for specific package type: all, os (distro packages) or non-os (language packages).",
            Some("all"),
            true,
            Check::Enum(&["all", "os", "non-os"]),
        ),
        p(
            "severity_comparison",
            "The type of comparison to perform for severity evaluation (default >).",
            Some(">"),
            false,
            Check::Enum(COMPARISONS),
        ),
        p(
            "severity",
            "Severity to compare against (default unknown).",
            Some("high"),
            false,
            Check::Enum(SEVERITIES),
        ),
        a,
        b,
        c,
        d,
        e,
        f,
        g,
        h,
        i,
        j,
        k,
        l,
        p(
            "fix_available",
            "If present, fire only when fix availability for the vulnerability equals this value.",
            Some("true"),
            false,
            Check::Bool,
        ),
        p(
            "vendor_only",
            "If true (default), skip vulnerabilities the vendor marked as won't-fix.",
            Some("true"),
            false,
            Check::Bool,
        ),
        p(
            "max_days_since_creation",
            "Fire only if the vulnerability has been known for more than this many days.",
            Some("7"),
            false,
            Check::Int,
        ),
        p(
            "max_days_since_fix",
            "Fire only if a fix has been available for more than this many days (only with fix_available=true).",
            Some("30"),
            false,
            Check::Int,
        ),
        p(
            "package_path_exclude",
            "Regex; skip non-os packages whose location matches it (anchored at start).",
            Some(".*test\\.jar"),
            false,
            Check::Regex,
        ),
    ]
};

/// Every gate, in registry order.
pub(crate) static GATES: &[GateDef] = &[
    GateDef {
        name: "always",
        description: "Triggers that fire unconditionally if present in policy, useful for things like testing and blacklisting.",
        state: State::Active,
        superceded_by: None,
        triggers: &[t(
            "always",
            "Fires if present in a policy being evaluated. Useful for things like blacklisting images or testing mappings and whitelists by using this trigger in combination with policy mapping rules.",
            &[],
        )],
    },
    GateDef {
        name: "vulnerabilities",
        description: "CVE/Vulnerability checks.",
        state: State::Active,
        superceded_by: None,
        triggers: &[
            t(
                "package",
                "Triggers if a found vulnerability in an image meets the comparison criteria.",
                &VULN_PACKAGE_PARAMS,
            ),
            t(
                "stale_feed_data",
                "Triggers if the CVE data is older than the window specified by the parameter MAXAGE (unit is number of days).",
                &[p(
                    "max_days_since_sync",
                    "If the CVE data is older than this many days, the trigger fires.",
                    Some("10"),
                    true,
                    Check::Int,
                )],
            ),
            t(
                "vulnerability_data_unavailable",
                "Triggers if vulnerability data is unavailable for the image's distro packages such as rpms or dpkg. Non-OS packages are not evaluated by this trigger.",
                &[],
            ),
            t(
                "blacklist",
                "Triggers if any of a list of specified vulnerabilities has been detected in the image.",
                &[
                    p(
                        "vulnerability_ids",
                        "List of vulnerability IDs, will cause the trigger to fire if any are detected.",
                        Some("CVE-2019-1234"),
                        true,
                        Check::List,
                    ),
                    p(
                        "vendor_only",
                        "If true (default), a vulnerability the vendor will not fix does not count.",
                        Some("true"),
                        false,
                        Check::Bool,
                    ),
                ],
            ),
        ],
    },
    GateDef {
        name: "packages",
        description: "Distro Package checks.",
        state: State::Active,
        superceded_by: None,
        triggers: &[
            t(
                "required_package",
                "Triggers if the specified package and optionally a specific version is not found in the image.",
                &[
                    p(
                        "name",
                        "Name of package that must be found installed in image.",
                        Some("libssl"),
                        true,
                        Check::Text,
                    ),
                    p(
                        "version",
                        "Optional version of package for exact version match.",
                        Some("1.10.3rc3"),
                        false,
                        Check::Text,
                    ),
                    p(
                        "version_match_type",
                        "The type of comparison to use for version if a version is provided (default exact).",
                        Some("exact"),
                        false,
                        Check::Enum(&["exact", "minimum"]),
                    ),
                ],
            ),
            t(
                "verify",
                "Check package integrity against package db in the image. Triggers for changes or removal or content in all or the selected \"dirs\" parameter if provided, and can filter type of check with the \"check_only\" parameter.",
                &[
                    p(
                        "only_packages",
                        "List of package names to limit verification.",
                        Some("libssl,openssl"),
                        false,
                        Check::List,
                    ),
                    p(
                        "only_directories",
                        "List of directories to limit checks so as to avoid checks on all dir.",
                        Some("/usr,/var/lib"),
                        false,
                        Check::List,
                    ),
                    p(
                        "check",
                        "Check to perform instead of all.",
                        Some("changed"),
                        false,
                        Check::Enum(&["changed", "missing"]),
                    ),
                ],
            ),
            t(
                "blacklist",
                "Triggers if the evaluated image has a package installed that matches the named package optionally with a specific version as well.",
                &[
                    p(
                        "name",
                        "Package name to blacklist.",
                        Some("openssh-server"),
                        true,
                        Check::Text,
                    ),
                    p(
                        "version",
                        "Specific version of package to blacklist.",
                        Some("1.0.1"),
                        false,
                        Check::Text,
                    ),
                ],
            ),
        ],
    },
    GateDef {
        name: "dockerfile",
        description: "Checks against the content of a dockerfile if provided, or a guessed dockerfile based on docker layer history if the dockerfile is not provided.",
        state: State::Active,
        superceded_by: None,
        triggers: &[
            t(
                "instruction",
                "Triggers if any directives in the list are found to match the described condition in the dockerfile.",
                &[
                    p(
                        "instruction",
                        "The Dockerfile instruction to check.",
                        Some("FROM"),
                        true,
                        Check::Enum(INSTRUCTIONS),
                    ),
                    p(
                        "check",
                        "The type of check to perform.",
                        Some("="),
                        true,
                        Check::Enum(&[
                            "=",
                            "!=",
                            "exists",
                            "not_exists",
                            "like",
                            "not_like",
                            "in",
                            "not_in",
                        ]),
                    ),
                    p(
                        "value",
                        "The value to check the dockerfile instruction against (a regex for like/not_like, a comma list for in/not_in).",
                        Some("scratch"),
                        false,
                        Check::Text,
                    ),
                    p(
                        "actual_dockerfile_only",
                        "Only evaluate against a user-provided dockerfile, skip evaluation on inferred/guessed dockerfiles.",
                        Some("true"),
                        false,
                        Check::Bool,
                    ),
                ],
            ),
            t(
                "effective_user",
                "Checks if the effective user matches the provided user names, either as a whitelist or blacklist depending on the type parameter setting.",
                &[
                    p(
                        "users",
                        "User names to check against as the effective user (last user entry) in the images history.",
                        Some("root,docker"),
                        true,
                        Check::List,
                    ),
                    p(
                        "type",
                        "How to treat the provided user names.",
                        Some("blacklist"),
                        true,
                        Check::Enum(&["whitelist", "blacklist"]),
                    ),
                ],
            ),
            t(
                "exposed_ports",
                "Evaluates the set of ports exposed. Allows configuring whitelist or blacklist behavior. If type=whitelist, then any ports found exposed that are not in the list will cause the trigger to fire. If type=blacklist, then any ports exposed that are in the list will cause the trigger to fire.",
                &[
                    p(
                        "ports",
                        "List of port numbers (0 means any exposure).",
                        Some("80,8080,8088"),
                        true,
                        Check::IntList,
                    ),
                    p(
                        "type",
                        "Whether to use port list as a whitelist or blacklist.",
                        Some("blacklist"),
                        true,
                        Check::Enum(&["whitelist", "blacklist"]),
                    ),
                    p(
                        "actual_dockerfile_only",
                        "Only evaluate against a user-provided dockerfile, skip evaluation on inferred/guessed dockerfiles.",
                        Some("false"),
                        false,
                        Check::Bool,
                    ),
                ],
            ),
            t(
                "no_dockerfile_provided",
                "Triggers if anchore analysis was performed without supplying the actual image Dockerfile.",
                &[],
            ),
        ],
    },
    GateDef {
        name: "files",
        description: "Checks against files in the analyzed image including file content, file names, and filesystem attributes.",
        state: State::Active,
        superceded_by: None,
        triggers: &[
            t(
                "content_regex_match",
                "Triggers for each file where the content search analyzer has found a match using configured regexes in the analyzer_config.yaml \"content_search\" section. If the parameter is set, the trigger will only fire for files that matched the named regex.",
                &[p(
                    "regex_name",
                    "Regex string that also appears in the FILECHECK_CONTENTREGEX analyzer parameter in analyzer configuration, to limit the check to. If set, will only fire trigger when the specific named regex was found in a file.",
                    Some(".*password.*"),
                    false,
                    Check::Text,
                )],
            ),
            t(
                "name_match",
                "Triggers if a file exists in the container that has a filename that matches the provided regex.",
                &[p(
                    "regex",
                    "Regex to apply to file names for match.",
                    Some(".*\\.pem"),
                    true,
                    Check::Regex,
                )],
            ),
            t(
                "attribute_match",
                "Triggers if a filename exists in the container that has attributes that match those which are provided.",
                &[
                    p(
                        "filename",
                        "Filename to check against provided checksum.",
                        Some("/etc/passwd"),
                        true,
                        Check::Text,
                    ),
                    p(
                        "checksum_algorithm",
                        "Checksum algorithm.",
                        Some("sha256"),
                        false,
                        Check::Enum(&["sha256"]),
                    ),
                    p(
                        "checksum",
                        "Checksum of file.",
                        Some("832cd0f75b227d13aac82b1f70b7f90191a4186c151f9db50851d209c45ede11"),
                        false,
                        Check::Text,
                    ),
                    p(
                        "checksum_match",
                        "Checksum operation to perform.",
                        Some("equals"),
                        false,
                        Check::Enum(&["equals", "not_equals"]),
                    ),
                    p(
                        "mode",
                        "File mode of file.",
                        Some("00644"),
                        false,
                        Check::Octal,
                    ),
                    p(
                        "mode_op",
                        "File mode operation to perform.",
                        Some("equals"),
                        false,
                        Check::Enum(&["equals", "not_equals"]),
                    ),
                    p(
                        "skip_missing",
                        "If set to true, do not fire this trigger if the file is not present. If set to false, fire this trigger ignoring the other parameter settings.",
                        Some("true"),
                        false,
                        Check::Bool,
                    ),
                ],
            ),
            t(
                "suid_or_guid_set",
                "Fires for each file found to have suid or sgid bit set.",
                &[],
            ),
        ],
    },
    GateDef {
        name: "passwd_file",
        description: "Content checks for /etc/passwd for things like usernames, group ids, shells, or full entries.",
        state: State::Active,
        superceded_by: None,
        triggers: &[
            t(
                "content_not_available",
                "Triggers if the /etc/passwd file is not present/stored in the evaluated image.",
                &[],
            ),
            t(
                "blacklist_usernames",
                "Triggers if specified username is found in the /etc/passwd file.",
                &[ParamDef {
                    name: "user_names",
                    aliases: &["usernameblacklist"],
                    description: "List of usernames that will cause the trigger to fire if found in /etc/passwd.",
                    example: Some("daemon,ftp"),
                    required: true,
                    check: Check::List,
                }],
            ),
            t(
                "blacklist_userids",
                "Triggers if specified user id is found in the /etc/passwd file.",
                &[ParamDef {
                    name: "user_ids",
                    aliases: &["useridblacklist"],
                    description: "List of userids (numeric) that will cause the trigger to fire if found in /etc/passwd.",
                    example: Some("0,1"),
                    required: true,
                    check: Check::IntList,
                }],
            ),
            t(
                "blacklist_groupids",
                "Triggers if specified group id is found in the /etc/passwd file.",
                &[p(
                    "group_ids",
                    "List of groupids (numeric) that will cause the trigger ot fire if found in /etc/passwd.",
                    Some("999,20"),
                    true,
                    Check::IntList,
                )],
            ),
            t(
                "blacklist_shells",
                "Triggers if specified login shell for any user is found in the /etc/passwd file.",
                &[p(
                    "shells",
                    "List of shell commands to blacklist.",
                    Some("/bin/bash,/bin/zsh"),
                    true,
                    Check::List,
                )],
            ),
            t(
                "blacklist_full_entry",
                "Triggers if entire specified passwd entry is found in the /etc/passwd file.",
                &[p(
                    "entry",
                    "Full entry to match in /etc/passwd.",
                    Some("ftp:x:14:50:FTP User:/var/ftp:/sbin/nologin"),
                    true,
                    Check::Text,
                )],
            ),
        ],
    },
    GateDef {
        name: "licenses",
        description: "License checks against found software licenses in the container image.",
        state: State::Active,
        superceded_by: None,
        triggers: &[
            t(
                "blacklist_exact_match",
                "Triggers if the evaluated image has a package installed with software distributed under the specified (exact match) license(s).",
                &[p(
                    "licenses",
                    "List of license names to blacklist exactly.",
                    Some("GPLv2+,GPL-3+,BSD-2-clause"),
                    true,
                    Check::List,
                )],
            ),
            t(
                "blacklist_partial_match",
                "Triggers if the evaluated image has a package installed with software distributed under the specified (substring match) license(s).",
                &[p(
                    "licenses",
                    "List of strings to do substring match for blacklist.",
                    Some("LGPL,BSD"),
                    true,
                    Check::List,
                )],
            ),
        ],
    },
    GateDef {
        name: "metadata",
        description: "Checks against image metadata, such as size, OS, distro, architecture, etc.",
        state: State::Active,
        superceded_by: None,
        triggers: &[t(
            "attribute",
            "Triggers if a named image metadata value matches the given condition.",
            &[
                p(
                    "attribute",
                    "Attribute name to be checked.",
                    Some("size"),
                    true,
                    Check::Enum(METADATA_ATTRIBUTES),
                ),
                p(
                    "check",
                    "The operation to perform the evaluation.",
                    Some(">"),
                    true,
                    Check::Enum(&[
                        "=",
                        "!=",
                        ">",
                        "<",
                        ">=",
                        "<=",
                        "exists",
                        "not_exists",
                        "like",
                        "not_like",
                        "in",
                        "not_in",
                    ]),
                ),
                p(
                    "value",
                    "Value used in comparison (size accepts a kb/mb/gb/tb suffix).",
                    Some("1073741824"),
                    false,
                    Check::Text,
                ),
            ],
        )],
    },
    GateDef {
        name: "npms",
        description: "NPM Checks.",
        state: State::Active,
        superceded_by: None,
        triggers: &[
            t(
                "newer_version_in_feed",
                "Triggers if an installed NPM is not the latest version according to NPM data feed.",
                &[],
            ),
            t(
                "unknown_in_feeds",
                "Triggers if an installed NPM is not in the official NPM database, according to NPM data feed.",
                &[],
            ),
            t(
                "version_not_in_feeds",
                "Triggers if an installed NPM version is not listed in the official NPM feed as a valid version.",
                &[],
            ),
            t(
                "blacklisted_name_version",
                "Triggers if the evaluated image has an NPM package installed that matches the name and optionally a version specified in the parameters.",
                &[
                    p(
                        "name",
                        "Npm package name to blacklist.",
                        Some("time_check"),
                        true,
                        Check::Text,
                    ),
                    p(
                        "version",
                        "Npm package version to blacklist specifically.",
                        Some("0.0.1"),
                        false,
                        Check::Text,
                    ),
                ],
            ),
            t(
                "feed_data_unavailable",
                "Triggers if the engine does not have access to the NPM data feed.",
                &[],
            ),
        ],
    },
    GateDef {
        name: "ruby_gems",
        description: "Ruby Gem Checks.",
        state: State::Active,
        superceded_by: None,
        triggers: &[
            t(
                "newer_version_found_in_feed",
                "Triggers if an installed GEM is not the latest version according to GEM data feed.",
                &[],
            ),
            t(
                "not_found_in_feed",
                "Triggers if an installed GEM is not in the official GEM database, according to GEM data feed.",
                &[],
            ),
            t(
                "version_not_found_in_feed",
                "Triggers if an installed GEM version is not listed in the official GEM feed as a valid version.",
                &[],
            ),
            t(
                "blacklist",
                "Triggers if the evaluated image has a GEM package installed that matches the specified name and version.",
                &[
                    p(
                        "name",
                        "Gem name to blacklist.",
                        Some("time_check"),
                        true,
                        Check::Text,
                    ),
                    p(
                        "version",
                        "Optional version to blacklist specifically.",
                        Some("0.0.1"),
                        false,
                        Check::Text,
                    ),
                ],
            ),
            t(
                "feed_data_unavailable",
                "Triggers if the engine does not have access to the GEM data feed.",
                &[],
            ),
        ],
    },
    GateDef {
        name: "secret_scans",
        description: "Checks for secrets found in the container.",
        state: State::Active,
        superceded_by: None,
        triggers: &[t(
            "content_regex_checks",
            "Triggers if the secret content search analyzer has found any matches with the configured and named regexes. Checks can be configured to trigger if a match is found or is not found (selected using match_type parameter). Matches are filtered by the content_regex_name and filename_regex if they are set.",
            &[
                p(
                    "content_regex_name",
                    "Name of content regexps configured in the analyzer that match if found in the image, instead of matching all. Names available by default are: ['AWS_ACCESS_KEY', 'AWS_SECRET_KEY', 'PRIV_KEY', 'DOCKER_AUTH', 'API_KEY'].",
                    Some("AWS_ACCESS_KEY"),
                    false,
                    Check::Text,
                ),
                p(
                    "filename_regex",
                    "Regexp to filter the content matched files by.",
                    Some("/etc/.*"),
                    false,
                    Check::Regex,
                ),
                p(
                    "match_type",
                    "Set to define the type of match - trigger if match is found (default) or not found.",
                    Some("found"),
                    false,
                    Check::Enum(&["notfound", "found"]),
                ),
            ],
        )],
    },
    GateDef {
        name: "malware",
        description: "Checks for malware scan findings in the image.",
        state: State::Active,
        superceded_by: None,
        triggers: &[
            t(
                "scans",
                "Triggers if the malware scanner found any matches in the image.",
                &[],
            ),
            t(
                "scan_not_run",
                "Triggers if no scan was found for the image.",
                &[],
            ),
        ],
    },
    GateDef {
        name: "retrieved_files",
        description: "Checks against content and/or presence of files retrieved at analysis time from an image.",
        state: State::Active,
        superceded_by: None,
        triggers: &[
            t(
                "content_not_available",
                "Triggers if the specified file is not present/stored in the evaluated image.",
                &[p(
                    "path",
                    "The path of the file to verify has been retrieved during analysis.",
                    Some("/etc/httpd.conf"),
                    true,
                    Check::Text,
                )],
            ),
            t(
                "content_regex",
                "Evaluation of regex on retrieved file content.",
                &[
                    p(
                        "path",
                        "The path of the file to verify has been retrieved during analysis.",
                        Some("/etc/httpd.conf"),
                        true,
                        Check::Text,
                    ),
                    p(
                        "check",
                        "The type of check to perform with the regex.",
                        Some("match"),
                        true,
                        Check::Enum(&["match", "no_match"]),
                    ),
                    p(
                        "regex",
                        "The regex to evaluate against the content of the file.",
                        Some(".*SSlEnabled.*"),
                        true,
                        Check::Regex,
                    ),
                ],
            ),
        ],
    },
    eol("anchoresec", Some("vulnerabilities")),
    eol("pkgcheck", Some("packages")),
    eol("pkgblacklist", Some("packages")),
    eol("dockerfilecheck", Some("dockerfile")),
    eol("filecheck", Some("files")),
    eol("fileparse_passwd", Some("passwd_file")),
    eol("gemcheck", Some("ruby_gems")),
    eol("npmcheck", Some("npms")),
    eol("metadatacheck", Some("metadata")),
    eol("licblacklist", Some("licenses")),
    eol("secretcheck", Some("secret_scans")),
    eol("suiddiff", None),
    eol("imagecheck", None),
    eol("pkgdiff", None),
];
