//! Encodes analyses built from real corpus data in every format, validates the CycloneDX and
//! SPDX documents against the official schemas, and checks their content against Syft's
//! reference outputs for the same images.

#![allow(clippy::unwrap_used)]

mod support;

use std::collections::BTreeSet;
use std::path::Path;

use anchorage_sbom::{SbomError, SbomFormat, decode_native, encode_to_vec};
use serde_json::Value;

fn schema(name: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/schemas")
        .join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Validates `doc` against the official schema of `format`; returns the error messages.
pub(crate) fn schema_errors(format: SbomFormat, doc: &Value) -> Vec<String> {
    let registry = jsonschema::Registry::new()
        .add(
            "http://cyclonedx.org/schema/spdx.SNAPSHOT.schema.json",
            schema("spdx.schema.json"),
        )
        .unwrap()
        .add(
            "http://cyclonedx.org/schema/jsf-0.82.SNAPSHOT.schema.json",
            schema("jsf-0.82.schema.json"),
        )
        .unwrap()
        .prepare()
        .unwrap();
    let root = match format {
        SbomFormat::CycloneDxJson => schema("bom-1.6.schema.json"),
        SbomFormat::SpdxJson => schema("spdx-2.3.schema.json"),
        other => panic!("no official schema for {other}"),
    };
    let validator = jsonschema::options()
        .with_registry(&registry)
        .should_validate_formats(true)
        .build(&root)
        .unwrap();
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

fn json(analysis: &anchorage_catalog::Analysis, f: SbomFormat) -> Value {
    serde_json::from_slice(&encode_to_vec(analysis, f).unwrap()).unwrap()
}

fn syft(name: &str) -> Value {
    let p = support::corpus().join("syft").join(name);
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

#[test]
fn every_emitted_json_format_validates_against_its_official_schema() {
    for (label, analysis) in [
        ("alpine-3.20", support::alpine_320()),
        ("bookworm-app", support::bookworm_app()),
    ] {
        for f in [SbomFormat::CycloneDxJson, SbomFormat::SpdxJson] {
            let errors = schema_errors(f, &json(&analysis, f));
            assert!(errors.is_empty(), "{label} {f}: {errors:#?}");
        }
    }
}

#[test]
fn schema_validation_rejects_a_broken_document_synthetic() {
    // Guards the validator itself: a document missing required fields must fail.
    let mut doc = json(&support::alpine_320(), SbomFormat::SpdxJson);
    doc.as_object_mut().unwrap().remove("spdxVersion");
    assert!(!schema_errors(SbomFormat::SpdxJson, &doc).is_empty());
    let mut doc = json(&support::alpine_320(), SbomFormat::CycloneDxJson);
    doc["components"][1]["licenses"] = serde_json::json!([]);
    doc["serialNumber"] = Value::String("not-a-uuid".into());
    assert!(!schema_errors(SbomFormat::CycloneDxJson, &doc).is_empty());
}

#[test]
fn cyclonedx_package_identities_match_syft_for_alpine() {
    let ours = json(&support::alpine_320(), SbomFormat::CycloneDxJson);
    let theirs = syft("alpine-3.20.cdx.json");
    let purls = |v: &Value| -> BTreeSet<String> {
        v["components"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|c| c["purl"].as_str().map(str::to_string))
            .collect()
    };
    assert_eq!(purls(&ours), purls(&theirs));
    assert_eq!(ours["specVersion"], "1.6");
    let os = &ours["components"][0];
    assert_eq!(os["type"], "operating-system");
    assert_eq!(os["bom-ref"], "os:alpine@3.20.3");
    // busybox: licence id, CPE, location with layer, and its files nested with their hashes.
    let busybox = ours["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "busybox")
        .unwrap();
    assert_eq!(busybox["licenses"][0]["license"]["id"], "GPL-2.0-only");
    assert_eq!(
        busybox["cpe"],
        "cpe:2.3:a:busybox:busybox:1.36.1-r29:*:*:*:*:*:*:*"
    );
    let props: Vec<(&str, &str)> = busybox["properties"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["name"].as_str().unwrap(), p["value"].as_str().unwrap()))
        .collect();
    assert!(props.contains(&("syft:package:type", "apk")));
    assert!(props.contains(&("syft:location:0:path", "/lib/apk/db/installed")));
    assert!(props.contains(&(
        "syft:location:0:layerID",
        "sha256:6f866a59756ecf8548fec2693f23a361fd14c744fe09cc20f16dac0ded31cca1"
    )));
    let bin = busybox["components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "/bin/busybox")
        .unwrap();
    assert_eq!(bin["type"], "file");
    // The same digests Syft computed for the same file.
    let hashes: BTreeSet<(String, String)> = bin["hashes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["alg"].as_str().unwrap().into(),
                h["content"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(hashes.contains(&(
        "SHA-256".into(),
        "42de297577993675efecf295acf0260e26128458048b3081451e1ac43f611b49".into()
    )));
    assert!(hashes.contains(&(
        "SHA-1".into(),
        "cabb8c59fff147813b4ab4feb08dbce348445909".into()
    )));
    // apk-tools depends on musl (from the apk database's D: line).
    let apk_tools = ours["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["ref"]
                .as_str()
                .unwrap()
                .starts_with("pkg:apk/alpine/apk-tools@")
        })
        .unwrap();
    assert!(
        apk_tools["dependsOn"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("pkg:apk/alpine/musl@"))
    );
}

#[test]
fn spdx_document_describes_the_image_and_its_packages() {
    let analysis = support::alpine_320();
    let doc = json(&analysis, SbomFormat::SpdxJson);
    assert_eq!(doc["spdxVersion"], "SPDX-2.3");
    let rels = doc["relationships"].as_array().unwrap();
    let describes: Vec<&Value> = rels
        .iter()
        .filter(|r| r["relationshipType"] == "DESCRIBES")
        .collect();
    assert_eq!(describes.len(), 1);
    let root = describes[0]["relatedSpdxElement"].as_str().unwrap();
    let packages = doc["packages"].as_array().unwrap();
    let root_pkg = packages.iter().find(|p| p["SPDXID"] == root).unwrap();
    assert_eq!(root_pkg["primaryPackagePurpose"], "CONTAINER");
    // 14 apk packages + image root, like Syft's.
    assert_eq!(packages.len(), 15);
    let contained = rels
        .iter()
        .filter(|r| r["spdxElementId"] == root && r["relationshipType"] == "CONTAINS")
        .count();
    assert_eq!(contained, 14);
    assert_eq!(
        doc["creationInfo"]["comment"],
        "distro: alpine 3.20.3 (Alpine Linux v3.20)"
    );
    // Same purls as Syft's SPDX for the same image.
    let purls = |v: &Value| -> BTreeSet<String> {
        v["packages"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["externalRefs"].as_array().cloned().unwrap_or_default())
            .filter(|r| r["referenceType"] == "purl")
            .map(|r| r["referenceLocator"].as_str().unwrap().to_string())
            .filter(|p| p.starts_with("pkg:apk"))
            .collect()
    };
    assert_eq!(purls(&doc), purls(&syft("alpine-3.20.spdx.json")));
    // Files: every package-owned file with SHA1 (from apk) and SHA256 (from the tree).
    let files = doc["files"].as_array().unwrap();
    let busybox = files
        .iter()
        .find(|f| f["fileName"] == "./bin/busybox")
        .unwrap();
    let algs: BTreeSet<&str> = busybox["checksums"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["algorithm"].as_str().unwrap())
        .collect();
    assert_eq!(algs, BTreeSet::from(["SHA1", "SHA256"]));
    let bb_id = busybox["SPDXID"].as_str().unwrap();
    assert!(rels.iter().any(|r| {
        r["relationshipType"] == "CONTAINS"
            && r["relatedSpdxElement"] == bb_id
            && r["spdxElementId"]
                .as_str()
                .unwrap()
                .starts_with("SPDXRef-Package-apkg-busybox-")
    }));
    assert!(rels.iter().any(|r| r["relationshipType"] == "DEPENDS_ON"));
    // Every relationship points at an element that exists.
    let ids: BTreeSet<&str> = packages
        .iter()
        .chain(files)
        .map(|e| e["SPDXID"].as_str().unwrap())
        .chain(["SPDXRef-DOCUMENT"])
        .collect();
    for r in rels {
        assert!(ids.contains(r["spdxElementId"].as_str().unwrap()), "{r}");
        assert!(
            ids.contains(r["relatedSpdxElement"].as_str().unwrap()),
            "{r}"
        );
    }
}

#[test]
fn spdx_licenses_that_are_not_expressions_become_license_refs() {
    let doc = json(&support::bookworm_app(), SbomFormat::SpdxJson);
    let packages = doc["packages"].as_array().unwrap();
    let by_name = |n: &str| packages.iter().find(|p| p["name"] == n).unwrap();
    // requests declares "Apache 2.0": not an SPDX id, so a LicenseRef with its text.
    assert_eq!(
        by_name("requests")["licenseDeclared"],
        "LicenseRef-Apache-2.0"
    );
    assert_eq!(by_name("certifi")["licenseDeclared"], "MPL-2.0");
    assert_eq!(by_name("lodash")["licenseDeclared"], "MIT");
    assert_eq!(by_name("adduser")["licenseDeclared"], "NOASSERTION");
    assert_eq!(by_name("adduser")["licenseConcluded"], "NOASSERTION");
    let extracted = doc["hasExtractedLicensingInfos"].as_array().unwrap();
    assert!(
        extracted.iter().any(
            |e| e["licenseId"] == "LicenseRef-Apache-2.0" && e["extractedText"] == "Apache 2.0"
        )
    );
    // Every LicenseRef used is declared.
    let declared: BTreeSet<&str> = extracted
        .iter()
        .map(|e| e["licenseId"].as_str().unwrap())
        .collect();
    for p in packages {
        for token in p["licenseDeclared"]
            .as_str()
            .unwrap()
            .split([' ', '(', ')'])
        {
            if token.starts_with("LicenseRef-") {
                assert!(declared.contains(token), "{token}");
            }
        }
    }
    // dpkg purls carry arch and distro like Syft's.
    let adduser = by_name("adduser");
    let purl = adduser["externalRefs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["referenceType"] == "purl")
        .unwrap();
    assert_eq!(
        purl["referenceLocator"],
        "pkg:deb/debian/adduser@3.134?arch=all&distro=debian-12"
    );
    assert_eq!(
        adduser["supplier"],
        "Person: Debian Adduser Developers (adduser@packages.debian.org)"
    );
}

#[test]
fn cyclonedx_licenses_use_ids_names_or_a_single_expression() {
    let doc = json(&support::bookworm_app(), SbomFormat::CycloneDxJson);
    let comps = doc["components"].as_array().unwrap();
    let by_name = |n: &str| comps.iter().find(|c| c["name"] == n).unwrap();
    assert_eq!(
        by_name("requests")["licenses"][0]["license"]["name"],
        "Apache 2.0"
    );
    assert_eq!(
        by_name("certifi")["licenses"][0]["license"]["id"],
        "MPL-2.0"
    );
    assert!(by_name("adduser").get("licenses").is_none());
    // dpkg Depends resolved to installed packages: apt depends on libc6.
    let apt = doc["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| {
            d["ref"]
                .as_str()
                .unwrap()
                .starts_with("pkg:deb/debian/apt@")
        })
        .unwrap();
    assert!(
        apt["dependsOn"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r.as_str().unwrap().starts_with("pkg:deb/debian/libc6@"))
    );
}

#[test]
fn native_json_round_trips_and_is_versioned() {
    for analysis in [support::alpine_320(), support::bookworm_app()] {
        let bytes = encode_to_vec(&analysis, SbomFormat::Json).unwrap();
        let back = decode_native(&mut bytes.as_slice()).unwrap();
        assert_eq!(back, analysis);
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            v["schema_version"],
            anchorage_catalog::ANALYSIS_SCHEMA_VERSION
        );
    }
}

#[test]
fn native_json_of_another_major_version_is_refused_synthetic() {
    let mut v = json(&support::alpine_320(), SbomFormat::Json);
    v["schema_version"] = Value::String("99.0.0".into());
    let bytes = serde_json::to_vec(&v).unwrap();
    let err = decode_native(&mut bytes.as_slice()).unwrap_err();
    assert!(
        matches!(err, SbomError::UnsupportedSchemaVersion { .. }),
        "{err}"
    );
    v.as_object_mut().unwrap().remove("schema_version");
    let bytes = serde_json::to_vec(&v).unwrap();
    assert!(matches!(
        decode_native(&mut bytes.as_slice()).unwrap_err(),
        SbomError::MissingSchemaVersion
    ));
    assert!(decode_native(&mut &b"{not json"[..]).is_err());
}

#[test]
fn documents_are_deterministic_and_serials_follow_the_analysis() {
    let a = support::alpine_320();
    for f in SbomFormat::ALL {
        assert_eq!(
            encode_to_vec(&a, f).unwrap(),
            encode_to_vec(&a, f).unwrap(),
            "{f}"
        );
    }
    let mut b = a.clone();
    b.analyzed_at += chrono::Duration::seconds(1);
    let serial = |x: &anchorage_catalog::Analysis| {
        json(x, SbomFormat::CycloneDxJson)["serialNumber"].clone()
    };
    assert_ne!(serial(&a), serial(&b));
    let ns = |x: &anchorage_catalog::Analysis| {
        json(x, SbomFormat::SpdxJson)["documentNamespace"].clone()
    };
    assert_ne!(ns(&a), ns(&b));
}

fn filters() -> Vec<(&'static str, &'static str)> {
    vec![
        (r"urn:uuid:[0-9a-f-]{36}", "urn:uuid:[UUID]"),
        (
            r"-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            "-[UUID]",
        ),
        (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "[TIMESTAMP]"),
        (r"anchorage-\d+\.\d+\.\d+", "anchorage-[VERSION]"),
    ]
}

#[test]
fn table_snapshots() {
    for (name, analysis) in [
        ("alpine-3.20", support::alpine_320()),
        ("bookworm-app", support::bookworm_app()),
    ] {
        let table =
            String::from_utf8(encode_to_vec(&analysis, SbomFormat::Table).unwrap()).unwrap();
        insta::assert_snapshot!(format!("table-{name}"), table);
    }
}

#[test]
fn json_format_snapshots() {
    let analysis = support::alpine_320();
    insta::with_settings!({ filters => filters() }, {
        for f in [SbomFormat::CycloneDxJson, SbomFormat::SpdxJson] {
            let text = String::from_utf8(encode_to_vec(&analysis, f).unwrap()).unwrap();
            insta::assert_snapshot!(format!("alpine-3.20-{f}"), text);
        }
    });
}

#[test]
fn apk_virtual_dependencies_resolve_through_owned_files() {
    // Syft links 19 dependency edges in Alpine 3.20 (through `p:` provides); we resolve `so:`,
    // `cmd:` and path dependencies through the files each package owns, and get the same edges.
    fn edges(doc: &Value, kind: &str, reverse: bool) -> BTreeSet<(String, String)> {
        let names: std::collections::BTreeMap<&str, &str> = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p["SPDXID"].as_str().unwrap(), p["name"].as_str().unwrap()))
            .collect();
        doc["relationships"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["relationshipType"] == kind)
            .map(|r| {
                let a = names[r["spdxElementId"].as_str().unwrap()].to_string();
                let b = names[r["relatedSpdxElement"].as_str().unwrap()].to_string();
                if reverse { (b, a) } else { (a, b) }
            })
            .collect()
    }
    let ours = edges(
        &json(&support::alpine_320(), SbomFormat::SpdxJson),
        "DEPENDS_ON",
        false,
    );
    // Syft's DEPENDENCY_OF points the other way.
    let theirs = edges(&syft("alpine-3.20.spdx.json"), "DEPENDENCY_OF", true);
    assert_eq!(theirs.len(), 19);
    assert_eq!(ours, theirs);
}

#[test]
fn synthetic_empty_dir_analysis_still_validates() {
    let mut a = support::alpine_320();
    a.packages.clear();
    a.files.clear();
    a.distro = anchorage_catalog::Distro::unknown();
    a.source = anchorage_catalog::SourceInfo {
        scheme: "dir".into(),
        input: "dir:/srv/empty root".into(),
        reference: None,
        manifest_digest: None,
        config_digest: None,
        index_digest: None,
    };
    for f in [SbomFormat::CycloneDxJson, SbomFormat::SpdxJson] {
        let doc = json(&a, f);
        let errors = schema_errors(f, &doc);
        assert!(errors.is_empty(), "{f}: {errors:#?}");
    }
    assert_eq!(
        json(&a, SbomFormat::CycloneDxJson)["metadata"]["component"]["type"],
        "file"
    );
}

#[test]
fn spdx_verification_codes_match_syft_for_alpine() {
    let ours = json(&support::alpine_320(), SbomFormat::SpdxJson);
    let theirs = syft("alpine-3.20.spdx.json");
    let codes = |doc: &Value| -> std::collections::BTreeMap<String, String> {
        doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| {
                let code = p["packageVerificationCode"]["packageVerificationCodeValue"].as_str()?;
                Some((p["name"].as_str().unwrap().to_string(), code.to_string()))
            })
            .collect()
    };
    let (mut ours, mut theirs) = (codes(&ours), codes(&theirs));
    // Syft also counts symlinks whose target it could digest (/bin/sh of busybox-binsh,
    // /etc/os-release of alpine-baselayout-data); we count regular files only, so those two
    // packages differ (busybox-binsh owns no regular file and has no code). All others agree.
    assert!(!ours.contains_key("busybox-binsh"));
    theirs.remove("busybox-binsh");
    assert_ne!(ours.remove("alpine-baselayout-data"), None);
    theirs.remove("alpine-baselayout-data");
    assert_eq!(ours.len(), 12);
    assert_eq!(ours, theirs);
}

/// `FileRecordScope::Related` (what `anchorage sbom -o cyclonedx-json|spdx-json` asks the
/// catalog for) keeps only the root and the records of paths a package declares, owns or was
/// found at; the CycloneDX and SPDX documents must not change when the other records are gone
/// (except the document identity, a hash of the whole analysis: it differs per analysis anyway,
/// as `analyzedAt` is part of it).
#[test]
fn cyclonedx_and_spdx_need_only_the_related_file_records() {
    use anchorage_catalog::PackageMetadata;
    let mut dropped = 0;
    for analysis in [support::alpine_320(), support::bookworm_app()] {
        let mut related: BTreeSet<String> = BTreeSet::from(["/".to_string()]);
        for p in &analysis.packages {
            let declared = match &p.metadata {
                PackageMetadata::Dpkg(m) => &m.files,
                PackageMetadata::Apk(m) => &m.files,
                PackageMetadata::Rpm(m) => &m.files,
                PackageMetadata::Python(m) => &m.files,
                _ => &Vec::new(),
            };
            related.extend(declared.iter().map(|f| f.path.clone()));
            related.extend(p.locations.iter().map(|l| l.path.clone()));
        }
        let mut trimmed = analysis.clone();
        trimmed
            .files
            .retain(|f| f.owner.is_some() || related.contains(&f.path));
        dropped += analysis.files.len() - trimmed.files.len();
        let without_identity = |a: &anchorage_catalog::Analysis, f: SbomFormat| {
            let mut v = json(a, f);
            let doc = v.as_object_mut().unwrap();
            assert!(
                doc.remove("serialNumber").is_some() || doc.remove("documentNamespace").is_some()
            );
            v
        };
        for f in [SbomFormat::CycloneDxJson, SbomFormat::SpdxJson] {
            assert!(
                without_identity(&analysis, f) == without_identity(&trimmed, f),
                "{f:?} of {}",
                analysis.source.input
            );
        }
    }
    assert!(
        dropped > 0,
        "the corpus analyses hold unrelated file records"
    );
}

/// The SPDX project's own validator (`pyspdxtools -i`, PyPI `spdx-tools` 0.8.x, installed by
/// scripts/setup.sh into /opt/anchorage-venv) checks what the JSON schema cannot, e.g. that a
/// package with `filesAnalyzed: false` CONTAINS no files.
fn pyspdxtools() -> Option<std::path::PathBuf> {
    let venv = Path::new("/opt/anchorage-venv/bin/pyspdxtools");
    if venv.exists() {
        return Some(venv.to_path_buf());
    }
    let on_path = std::process::Command::new("pyspdxtools")
        .arg("--help")
        .output()
        .is_ok_and(|o| o.status.success());
    if on_path {
        return Some("pyspdxtools".into());
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "pyspdxtools (PyPI spdx-tools 0.8) is required in CI: run scripts/setup.sh"
    );
    None
}

#[test]
#[allow(clippy::print_stderr)] // a skipped local run says why
fn spdx_output_passes_the_spdx_projects_validator() {
    let Some(tool) = pyspdxtools() else {
        eprintln!("note: skipping, pyspdxtools missing (run scripts/setup.sh)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    for (label, analysis) in [
        ("alpine-3.20", support::alpine_320()),
        ("bookworm-app", support::bookworm_app()),
    ] {
        let path = dir.path().join(format!("{label}.spdx.json"));
        std::fs::write(
            &path,
            encode_to_vec(&analysis, SbomFormat::SpdxJson).unwrap(),
        )
        .unwrap();
        let out = std::process::Command::new(&tool)
            .arg("-i")
            .arg(&path)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "{label}: pyspdxtools failed:\n{text}");
        assert!(
            !text.contains("did not pass") && !text.contains("ValidationMessage"),
            "{label}: {text}"
        );
    }
}

/// (dependent, dependency) name pairs of the analysis' relationships.
fn relationship_names(a: &anchorage_catalog::Analysis) -> BTreeSet<(String, String)> {
    let name = |id: &str| {
        let p = a.packages.iter().find(|p| p.id == id).unwrap();
        format!("{}@{}", p.name, p.version)
    };
    a.relationships
        .iter()
        .map(|r| (name(&r.from), name(&r.to)))
        .collect()
}

#[test]
fn dependency_edges_are_the_analysis_relationships_in_every_format() {
    // bookworm-app: the 296 dpkg edges the catalog resolves from the real status file
    let a = support::bookworm_app();
    let want = relationship_names(&a);
    assert_eq!(want.len(), 296);
    assert!(want.contains(&("apt@2.6.1".into(), "libapt-pkg6.0@2.6.1".into())));
    // native JSON carries them as `relationships`
    let native = json(&a, SbomFormat::Json);
    assert_eq!(native["relationships"].as_array().unwrap().len(), 296);
    assert_eq!(native["relationships"][0]["kind"], "depends-on");
    // CycloneDX `dependencies`: ref -> dependsOn, by bom-ref
    let cdx = json(&a, SbomFormat::CycloneDxJson);
    let names: std::collections::HashMap<&str, String> = cdx["components"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| {
            Some((
                c["bom-ref"].as_str()?,
                format!("{}@{}", c["name"].as_str()?, c["version"].as_str()?),
            ))
        })
        .collect();
    let mut got = BTreeSet::new();
    for d in cdx["dependencies"].as_array().unwrap() {
        for to in d["dependsOn"].as_array().unwrap() {
            got.insert((
                names[d["ref"].as_str().unwrap()].clone(),
                names[to.as_str().unwrap()].clone(),
            ));
        }
    }
    assert_eq!(got, want);
    // SPDX DEPENDS_ON, beside DESCRIBES / CONTAINS
    let spdx = json(&a, SbomFormat::SpdxJson);
    let ids: std::collections::HashMap<&str, String> = spdx["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| {
            Some((
                p["SPDXID"].as_str()?,
                format!("{}@{}", p["name"].as_str()?, p["versionInfo"].as_str()?),
            ))
        })
        .collect();
    let rels = spdx["relationships"].as_array().unwrap();
    let got: BTreeSet<(String, String)> = rels
        .iter()
        .filter(|r| r["relationshipType"] == "DEPENDS_ON")
        .map(|r| {
            (
                ids[r["spdxElementId"].as_str().unwrap()].clone(),
                ids[r["relatedSpdxElement"].as_str().unwrap()].clone(),
            )
        })
        .collect();
    assert_eq!(got, want);
    for kind in ["DESCRIBES", "CONTAINS"] {
        assert!(rels.iter().any(|r| r["relationshipType"] == kind), "{kind}");
    }
}

#[test]
fn relationships_whose_ends_are_not_packages_are_skipped_synthetic() {
    let mut a = support::alpine_320();
    let real = a.relationships.len();
    let first = a.packages[0].id.clone();
    a.relationships.push(anchorage_catalog::Relationship {
        from: first,
        to: "no-such-package".into(),
        kind: anchorage_catalog::RelationshipKind::DependsOn,
    });
    let cdx = json(&a, SbomFormat::CycloneDxJson);
    let edges: usize = cdx["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["dependsOn"].as_array().unwrap().len())
        .sum();
    assert_eq!(edges, real);
    assert!(schema_errors(SbomFormat::CycloneDxJson, &cdx).is_empty());
}

#[test]
fn a_stored_1_0_document_without_relationships_still_has_its_dependencies() {
    // what an analysis stored before schema 1.1.0 looks like: no `relationships` field
    let current = support::alpine_320();
    let mut v = json(&current, SbomFormat::Json);
    v.as_object_mut().unwrap().remove("relationships");
    v["schema_version"] = Value::String("1.0.0".into());
    let bytes = serde_json::to_vec(&v).unwrap();
    let old = decode_native(&mut bytes.as_slice()).unwrap();
    assert!(old.relationships.is_empty());
    // its SBOM edges are derived from the apk metadata as before: the same 19 edges
    let deps = |a: &anchorage_catalog::Analysis| {
        let mut d = json(a, SbomFormat::CycloneDxJson)["dependencies"].clone();
        d.as_array_mut().unwrap().iter_mut().for_each(|x| {
            x["dependsOn"]
                .as_array_mut()
                .unwrap()
                .sort_by_key(|v| v.to_string())
        });
        d
    };
    assert_eq!(current.relationships.len(), 19);
    assert_eq!(deps(&old), deps(&current));
}
