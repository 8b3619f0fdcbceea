//! Test-only loaders: real `Analysis` values from Syft 1.18.1's outputs of the corpus images,
//! real `/etc/passwd` from the Alpine minirootfs, and real findings from the corpus expected
//! verdicts and OSV records.

use std::collections::BTreeMap;
use std::io::Read;
use std::str::FromStr;
use std::sync::OnceLock;

use anchorage_catalog::{
    Analysis, ApkMetadata, ContentHit, Distro, Dockerfile, DockerfileMode, DpkgMetadata,
    FileDigest, FileRecord, HistoryEntry, ImageMetadata, LayerInfo, Package, PackageFile,
    PackageMetadata, RetrievedFile, RuntimeConfig, SourceInfo,
};
use anchorage_match::{
    Coverage, CvssData, CvssScores, Evidence, Finding, FixState, MatchedPackage,
};
use anchorage_policy::{Evaluation, EvaluationInput, ValidBundle, evaluate, validate};
use anchorage_types::{FeedGroupStatus, Location, PackageType, Severity};
use base64::Engine as _;
use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::{Value, json};

pub(crate) use anchorage_testkit::corpus_dir as corpus;

/// Fixed evaluation time for deterministic tests.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
}

fn read_syft(name: &str) -> Value {
    let path = corpus().join("syft").join(name);
    let bytes = std::fs::read(&path).unwrap();
    if name.ends_with(".gz") {
        let mut s = String::new();
        flate2::read::GzDecoder::new(&bytes[..])
            .read_to_string(&mut s)
            .unwrap();
        serde_json::from_str(&s).unwrap()
    } else {
        serde_json::from_slice(&bytes).unwrap()
    }
}

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// Go `os.FileMode` printed in octal by Syft (e.g. `40000755` for setuid) -> unix mode bits.
fn go_mode(v: &Value) -> u32 {
    let raw = v.as_u64().unwrap_or(0).to_string();
    let go = u64::from_str_radix(&raw, 8).unwrap_or(0);
    let mut mode = (go & 0o777) as u32;
    if go & (1 << 23) != 0 {
        mode |= 0o4000;
    }
    if go & (1 << 22) != 0 {
        mode |= 0o2000;
    }
    if go & (1 << 20) != 0 {
        mode |= 0o1000;
    }
    mode
}

fn package_files(meta: &Value) -> Vec<PackageFile> {
    meta["files"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| PackageFile {
            path: s(&f["path"]),
            digest: f.get("digest").map(|d| FileDigest {
                algorithm: s(&d["algorithm"]),
                value: s(&d["value"]),
            }),
            config: f.get("config").and_then(|c| c.as_bool()).unwrap_or(false),
        })
        .collect()
}

fn analysis_from_syft(doc: &Value) -> Analysis {
    let md = &doc["source"]["metadata"];
    let config: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(s(&md["config"]))
            .unwrap(),
    )
    .unwrap();
    let history: Vec<HistoryEntry> = config["history"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|h| HistoryEntry {
            created: h["created"].as_str().map(str::to_string),
            created_by: h["created_by"].as_str().map(str::to_string),
            empty_layer: h["empty_layer"].as_bool().unwrap_or(false),
            comment: None,
        })
        .collect();
    let guessed = history
        .iter()
        .filter_map(|h| h.created_by.clone())
        .collect::<Vec<_>>()
        .join("\n");
    let layers: Vec<LayerInfo> = md["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| LayerInfo {
            digest: s(&l["digest"]).parse().ok(),
            diff_id: None,
            size: l["size"].as_u64().unwrap_or(0),
            media_type: s(&l["mediaType"]),
            created_by: None,
        })
        .collect();
    let packages = doc["artifacts"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| {
            let package_type = match a["type"].as_str()? {
                "deb" => PackageType::Dpkg,
                "apk" => PackageType::Apk,
                "npm" => PackageType::Npm,
                "python" => PackageType::Python,
                "java-archive" => PackageType::Java,
                "gem" => PackageType::Gem,
                _ => return None,
            };
            let metadata = match package_type {
                PackageType::Dpkg => PackageMetadata::Dpkg(DpkgMetadata {
                    files: package_files(&a["metadata"]),
                    ..DpkgMetadata::default()
                }),
                PackageType::Apk => PackageMetadata::Apk(ApkMetadata {
                    files: package_files(&a["metadata"]),
                    ..ApkMetadata::default()
                }),
                _ => PackageMetadata::None,
            };
            Some(Package {
                id: s(&a["id"]),
                name: s(&a["name"]),
                version: s(&a["version"]),
                package_type,
                purl: s(&a["purl"]),
                cpes: Vec::new(),
                licenses: a["licenses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| s(&l["value"]))
                    .collect(),
                locations: a["locations"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| Location::new(s(&l["path"]), None))
                    .collect(),
                source_name: None,
                source_version: None,
                arch: None,
                owner: None,
                metadata,
            })
        })
        .collect();
    let files = doc["files"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| FileRecord {
            path: s(&f["location"]["path"]),
            file_type: match f["metadata"]["type"].as_str() {
                Some("Directory") => "dir",
                Some("SymbolicLink") => "slink",
                _ => "file",
            }
            .to_string(),
            size: f["metadata"]["size"].as_u64().unwrap_or(0),
            mode: go_mode(&f["metadata"]["mode"]),
            uid: f["metadata"]["userID"].as_u64().unwrap_or(0),
            gid: f["metadata"]["groupID"].as_u64().unwrap_or(0),
            link_target: None,
            sha256: f["digests"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|d| d["algorithm"] == "sha256")
                .map(|d| s(&d["value"])),
            sha1: f["digests"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|d| d["algorithm"] == "sha1")
                .map(|d| s(&d["value"])),
            md5: None,
            layer: None,
            owner: None,
        })
        .collect();
    let distro = &doc["distro"];
    Analysis {
        schema_version: anchorage_catalog::ANALYSIS_SCHEMA_VERSION.to_string(),
        source: SourceInfo {
            scheme: "oci-archive".into(),
            input: s(&md["userInput"]),
            reference: None,
            manifest_digest: s(&md["manifestDigest"]).parse().ok(),
            config_digest: s(&md["imageID"]).parse().ok(),
            index_digest: None,
        },
        image: ImageMetadata {
            os: s(&config["os"]),
            architecture: s(&config["architecture"]),
            variant: None,
            created: None,
            author: config["author"].as_str().map(str::to_string),
            layer_count: layers.len(),
            layers,
            image_size: md["imageSize"].as_u64().unwrap_or(0),
            config: RuntimeConfig {
                env: config["config"]["Env"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(s)
                    .collect(),
                cmd: config["config"]["Cmd"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(s)
                    .collect(),
                working_dir: config["config"]["WorkingDir"].as_str().map(str::to_string),
                ..RuntimeConfig::default()
            },
            history,
            dockerfile: Some(Dockerfile {
                mode: DockerfileMode::Guessed,
                text: guessed,
            }),
            manifest_json: None,
            config_json: None,
        },
        distro: Distro {
            id: s(&distro["id"]),
            version_id: distro["versionID"].as_str().map(str::to_string),
            codename: distro["versionCodename"].as_str().map(str::to_string),
            id_like: distro["idLike"]
                .as_array()
                .into_iter()
                .flatten()
                .map(s)
                .collect(),
            pretty_name: distro["prettyName"].as_str().map(str::to_string),
            evidence: Some("/etc/os-release".into()),
        },
        packages,
        files,
        relationships: Vec::new(),
        secrets: Vec::new(),
        content_hits: Vec::new(),
        retrieved_files: Vec::new(),
        warnings: Vec::new(),
        malware: Vec::new(),
        analyzed_at: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
    }
}

/// `etc/passwd` from the official Alpine 3.20.3 minirootfs tarball.
pub(crate) fn alpine_passwd() -> String {
    let path = corpus().join("images/alpine-3.20/alpine-minirootfs-3.20.3-x86_64.tar.gz");
    let file = std::fs::File::open(path).unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let p = entry.path().unwrap().to_string_lossy().into_owned();
        if p.trim_start_matches("./") == "etc/passwd" {
            let mut text = String::new();
            entry.read_to_string(&mut text).unwrap();
            return text;
        }
    }
    panic!("etc/passwd not in minirootfs");
}

/// Alpine 3.20 (Syft's catalog of the real image) with its real `/etc/passwd` retrieved.
pub(crate) fn alpine() -> &'static Analysis {
    static A: OnceLock<Analysis> = OnceLock::new();
    A.get_or_init(|| {
        let mut a = analysis_from_syft(&read_syft("alpine-3.20.syft.json"));
        a.retrieved_files.push(RetrievedFile {
            path: "/etc/passwd".into(),
            content_b64: base64::engine::general_purpose::STANDARD.encode(alpine_passwd()),
        });
        a
    })
}

/// debian-bookworm-app (Syft's catalog of the real image), with content-search hits computed
/// from the real package-lock.json of the image.
pub(crate) fn bookworm_app() -> &'static Analysis {
    static A: OnceLock<Analysis> = OnceLock::new();
    A.get_or_init(|| {
        let mut a = analysis_from_syft(&read_syft("debian-bookworm-app.syft.json.gz"));
        let lock = std::fs::read_to_string(
            corpus().join("images/debian-bookworm-app/opt/app/node/package-lock.json"),
        )
        .unwrap();
        let re = regex::Regex::new(r#""integrity": "sha512-"#).unwrap();
        let lines: Vec<u64> = lock
            .lines()
            .enumerate()
            .filter(|(_, l)| re.is_match(l))
            .map(|(i, _)| i as u64 + 1)
            .collect();
        assert!(!lines.is_empty());
        a.content_hits.push(ContentHit {
            path: "/opt/app/node/package-lock.json".into(),
            rule: "SHA512_INTEGRITY".into(),
            regex: Some(re.as_str().to_string()),
            lines,
        });
        a
    })
}

fn tsv(path: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(corpus().join(path)).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t'))
                .map(|(h, v)| ((*h).to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

fn os_package<'a>(a: &'a Analysis, name: &str) -> Option<&'a Package> {
    a.packages
        .iter()
        .find(|p| p.package_type.is_os() && p.name == name)
}

pub(crate) fn matched(p: &Package, path: String) -> MatchedPackage {
    MatchedPackage {
        id: p.id.clone(),
        name: p.name.clone(),
        version: p.version.clone(),
        package_type: p.package_type,
        purl: p.purl.clone(),
        path,
        cpe: None,
    }
}

/// Real findings of debian-bookworm-app: the Debian tracker verdicts marked `affected` in
/// `osv/expected/debian-bookworm-app.tsv` (severity from the tracker entry) and the PyPI
/// records that hit the venv (`osv/PyPI-bookworm-app-matches.tsv`, severity and scores from
/// the record's CVSS v3 vector).
pub(crate) fn bookworm_app_findings() -> &'static [Finding] {
    static F: OnceLock<Vec<Finding>> = OnceLock::new();
    F.get_or_init(|| {
        let a = bookworm_app();
        let mut out = Vec::new();
        for row in tsv("osv/expected/debian-bookworm-app.tsv") {
            if row["verdict"] != "affected" {
                continue;
            }
            let id = &row["advisory_id"];
            let year = &id[4..8];
            let entry: Value = serde_json::from_str(
                &std::fs::read_to_string(
                    corpus().join(format!("distro/debian-tracker/CVE/{year}/{id}.json")),
                )
                .unwrap(),
            )
            .unwrap();
            let sev_text = entry
                .to_string()
                .split("\"Severity\":\"")
                .nth(1)
                .and_then(|r| r.split('"').next())
                .unwrap_or("unknown")
                .to_string();
            let severity = Severity::from_str(&sev_text).unwrap_or(Severity::Unknown);
            let fix = if row["reason"].contains("<ignored>") {
                FixState::WontFix
            } else {
                FixState::NotFixed
            };
            for bin in row["installed_binary_packages"].split(',') {
                let p = os_package(a, bin).unwrap();
                out.push(Finding {
                    vuln: id.clone(),
                    aliases: Vec::new(),
                    severity,
                    package: matched(p, "pkgdb".into()),
                    fix: fix.clone(),
                    feed: "vulnerabilities".into(),
                    feed_group: "debian:12".into(),
                    url: format!("https://security-tracker.debian.org/tracker/{id}"),
                    nvd_data: Vec::new(),
                    vendor_data: Vec::new(),
                    published: None,
                    fix_observed_at: None,
                    evidence: vec![Evidence {
                        record_id: id.clone(),
                        source: "debian-tracker".into(),
                        matched_on: format!("source package {} (Debian:12)", row["source_package"]),
                        constraint: row["reason"].clone(),
                        version_scheme: "dpkg".into(),
                        installed_version: row["installed_version"].clone(),
                        fix_versions: Vec::new(),
                    }],
                });
            }
        }
        for row in tsv("osv/PyPI-bookworm-app-matches.tsv") {
            if row["in_ecosystem_range"] != "1" && row["in_versions_list"] != "1" {
                continue;
            }
            let rec: Value = serde_yaml_ng::from_str(
                &std::fs::read_to_string(corpus().join("osv/PyPI").join(&row["record"])).unwrap(),
            )
            .unwrap();
            let aliases: Vec<String> = rec["aliases"]
                .as_array()
                .into_iter()
                .flatten()
                .map(s)
                .collect();
            let vuln = aliases
                .iter()
                .find(|a| a.starts_with("CVE-"))
                .cloned()
                .unwrap_or_else(|| s(&rec["id"]));
            let scores = rec["severity"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|x| x["type"] == "CVSS_V3")
                .map(|x| cvss::v3::Vector::from_str(&s(&x["score"])).unwrap());
            let severity = scores.as_ref().map_or(Severity::Unknown, |v| {
                Severity::from_cvss_score(v.score().value())
            });
            let fixed: Vec<String> = rec["affected"][0]["ranges"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|r| r["type"] == "ECOSYSTEM")
                .flat_map(|r| r["events"].as_array().cloned().unwrap_or_default())
                .filter_map(|e| e["fixed"].as_str().map(str::to_string))
                .collect();
            let p = a
                .packages
                .iter()
                .find(|p| {
                    p.package_type == PackageType::Python
                        && p.name.eq_ignore_ascii_case(&row["package"])
                })
                .unwrap();
            let published = rec["published"]
                .as_str()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|d| d.with_timezone(&Utc));
            out.push(Finding {
                vuln: vuln.clone(),
                aliases: std::iter::once(s(&rec["id"])).chain(aliases).collect(),
                severity,
                package: matched(p, p.locations[0].path.clone()),
                fix: if fixed.is_empty() {
                    FixState::NotFixed
                } else {
                    FixState::Fixed(fixed)
                },
                feed: "vulnerabilities".into(),
                feed_group: "github:python".into(),
                url: format!("https://osv.dev/vulnerability/{}", s(&rec["id"])),
                nvd_data: scores
                    .iter()
                    .map(|v| CvssData {
                        id: vuln.clone(),
                        cvss_v2: None,
                        cvss_v3: Some(CvssScores {
                            base_score: v.score().value(),
                            exploitability_score: v.exploitability().value(),
                            impact_score: v.impact().value(),
                            vector: Some(v.to_string()),
                        }),
                        cvss_v4: None,
                    })
                    .collect(),
                vendor_data: Vec::new(),
                published,
                fix_observed_at: published,
                evidence: vec![Evidence {
                    record_id: s(&rec["id"]),
                    source: "osv".into(),
                    matched_on: format!("PyPI {}", row["package"]),
                    constraint: "ECOSYSTEM range".into(),
                    version_scheme: "pep440".into(),
                    installed_version: row["installed_version"].clone(),
                    fix_versions: Vec::new(),
                }],
            });
        }
        out
    })
}

/// Feed state: the image's distro group synced `days_ago` days before [`now`].
pub(crate) fn feeds(group: &str, days_ago: i64) -> Vec<FeedGroupStatus> {
    vec![FeedGroupStatus {
        feed: "osv".into(),
        group: group.into(),
        record_count: 1000,
        last_sync: Some(now() - Duration::days(days_ago)),
        last_error: None,
    }]
}

/// A bundle with one policy holding `rules`, one mapping for everything, and `whitelist`.
pub(crate) fn bundle_with(rules: Value, whitelist_items: Value) -> Value {
    json!({
        "id": "test-bundle", "name": "test", "version": "1_0",
        "policies": [{"id": "p1", "name": "p1", "version": "1_0", "rules": rules}],
        "whitelists": [{"id": "wl1", "name": "wl one", "version": "1_0", "items": whitelist_items}],
        "mappings": [{"name": "all", "registry": "*", "repository": "*", "image": {"type": "tag", "value": "*"},
                      "policy_id": "p1", "whitelist_ids": ["wl1"]}],
        "whitelisted_images": [], "blacklisted_images": []
    })
}

/// One rule with `params` given as (name, value) pairs.
pub(crate) fn rule(gate: &str, trigger: &str, action: &str, params: &[(&str, &str)]) -> Value {
    json!([{"id": format!("{gate}-{trigger}"), "gate": gate, "trigger": trigger, "action": action,
            "params": params.iter().map(|(n, v)| json!({"name": n, "value": v})).collect::<Vec<_>>()}])
}

pub(crate) fn valid(b: &Value) -> ValidBundle {
    match validate(b) {
        Ok(v) => v,
        Err(p) => panic!("bundle should validate: {p:#?}"),
    }
}

/// Inputs for one evaluation; fields are public so tests adjust them.
pub(crate) struct Scenario {
    pub(crate) analysis: Analysis,
    pub(crate) findings: Vec<Finding>,
    pub(crate) coverage: Coverage,
    pub(crate) feeds: Vec<FeedGroupStatus>,
    pub(crate) tag: String,
}

impl Scenario {
    pub(crate) fn bookworm_app() -> Self {
        Self {
            analysis: bookworm_app().clone(),
            findings: bookworm_app_findings().to_vec(),
            coverage: Coverage::Complete,
            feeds: feeds("Debian:12", 0),
            tag: "docker.io/corpus/debian-bookworm-app:latest".into(),
        }
    }

    pub(crate) fn alpine() -> Self {
        Self {
            analysis: alpine().clone(),
            findings: Vec::new(),
            coverage: Coverage::Complete,
            feeds: feeds("Alpine:v3.20", 0),
            tag: "docker.io/alpine:3.20".into(),
        }
    }

    pub(crate) fn input(&self) -> EvaluationInput<'_> {
        EvaluationInput::new(
            &self.analysis,
            &self.findings,
            &self.coverage,
            &self.feeds,
            &self.tag,
            now(),
        )
    }

    pub(crate) fn eval(&self, bundle: &Value) -> Evaluation {
        evaluate(&valid(bundle), &self.input())
    }

    /// Rows fired by a single-rule bundle.
    pub(crate) fn fire(&self, gate: &str, trigger: &str, params: &[(&str, &str)]) -> Evaluation {
        self.eval(&bundle_with(rule(gate, trigger, "STOP", params), json!([])))
    }
}
