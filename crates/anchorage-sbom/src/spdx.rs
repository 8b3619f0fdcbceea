//! SPDX 2.3 JSON. Our own serde model (the Rust SPDX crates model 2.2 or are thin); every
//! emitted document is validated against the official 2.3 schema in tests.
//!
//! Layout: the document DESCRIBES one root package for the image (purpose `CONTAINER`, or
//! `FILE` for `dir:` sources), which CONTAINS every package;
//! each package CONTAINS the regular files it owns (with their checksums), DEPENDS_ON the
//! packages its database names, and is OTHER ("evident-by") related to the files it was found
//! in. Declared licences that are not valid SPDX expressions become `LicenseRef-...`
//! identifiers with their text in `hasExtractedLicensingInfos`. The distribution is carried by
//! the purls' `distro` qualifier and the creation comment, not by an operating-system package:
//! SBOM readers such as Syft and Grype turn such a package into an untyped package of its own.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;

use anchorage_model::{Analysis, Package, PackageMetadata};
use serde::Serialize;

use crate::SbomError;
use crate::common::{
    self, Checksum, LicenseTerm, OwnedFile, TOOL_NAME, TOOL_VERSION, classify_license, is_url,
    sanitize_id, short_hash, source_name,
};

const NOASSERTION: &str = "NOASSERTION";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    files: Vec<SpdxFile>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    has_extracted_licensing_infos: Vec<ExtractedLicense>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreationInfo {
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
    license_list_version: String,
    creators: Vec<String>,
    created: String,
}

#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage<'a> {
    name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version_info: Option<String>,
    supplier: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    originator: Option<String>,
    download_location: &'a str,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    package_verification_code: Option<VerificationCode>,
    #[serde(skip_serializing_if = "Option::is_none")]
    homepage: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<SpdxChecksum>,
    license_concluded: &'static str,
    license_declared: String,
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    primary_package_purpose: Option<&'static str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerificationCode {
    package_verification_code_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxFile {
    file_name: String,
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    checksums: Vec<SpdxChecksum>,
    license_concluded: &'static str,
    license_info_in_files: [&'static str; 1],
    copyright_text: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxChecksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExtractedLicense {
    license_id: String,
    extracted_text: String,
    name: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    related_spdx_element: String,
    relationship_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'static str>,
}

fn rel(a: &str, b: &str, kind: &'static str) -> Relationship {
    Relationship {
        spdx_element_id: a.to_string(),
        related_spdx_element: b.to_string(),
        relationship_type: kind,
        comment: None,
    }
}

/// Writes `analysis` as an SPDX 2.3 JSON document.
pub(crate) fn encode(analysis: &Analysis, w: &mut dyn Write) -> Result<(), SbomError> {
    let doc = build(analysis);
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    w.write_all(b"\n")?;
    Ok(())
}

/// Turns declared licences into one SPDX expression, registering `LicenseRef-` ids for text
/// that is not a valid expression.
#[derive(Default)]
struct Licenses {
    /// licence text -> LicenseRef id
    refs: BTreeMap<String, String>,
    used_ids: HashMap<String, usize>,
}

impl Licenses {
    fn reference(&mut self, text: &str) -> String {
        if let Some(id) = self.refs.get(text) {
            return id.clone();
        }
        let base = format!("LicenseRef-{}", sanitize_id(text));
        let n = self.used_ids.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}-{n}") };
        self.refs.insert(text.to_string(), id.clone());
        id
    }

    fn declared(&mut self, p: &Package) -> String {
        let mut terms: Vec<String> = Vec::new();
        for l in &p.licenses {
            let term = match classify_license(l) {
                None => continue,
                Some(LicenseTerm::Id(id)) => id.to_string(),
                Some(LicenseTerm::Expression(e)) => {
                    // A LicenseRef inside a valid expression needs extracted text as well.
                    for token in e.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
                        if token.starts_with("LicenseRef-")
                            && !self.refs.values().any(|v| v == token)
                        {
                            self.refs.insert(token.to_string(), token.to_string());
                        }
                    }
                    if e.contains(' ') { format!("({e})") } else { e }
                }
                Some(LicenseTerm::Other(t)) => self.reference(&t),
            };
            if !terms.contains(&term) {
                terms.push(term);
            }
        }
        if terms.is_empty() {
            NOASSERTION.to_string()
        } else {
            terms.join(" AND ")
        }
    }

    fn into_infos(self) -> Vec<ExtractedLicense> {
        let mut out: Vec<ExtractedLicense> = self
            .refs
            .into_iter()
            .map(|(text, id)| ExtractedLicense {
                license_id: id,
                name: text.clone(),
                extracted_text: text,
            })
            .collect();
        out.sort_by(|a, b| a.license_id.cmp(&b.license_id));
        out
    }
}

fn checksum(c: &Checksum) -> SpdxChecksum {
    SpdxChecksum {
        algorithm: match c.algorithm {
            "md5" => "MD5",
            "sha1" => "SHA1",
            "sha512" => "SHA512",
            _ => "SHA256",
        },
        checksum_value: c.value.clone(),
    }
}

/// `Name <mail>` -> `Person: Name (mail)`, the SPDX agent syntax.
fn agent(who: &str) -> Option<String> {
    let who = who.trim();
    if who.is_empty() {
        return None;
    }
    Some(match who.split_once('<') {
        Some((name, rest)) => {
            let mail = rest.trim_end_matches('>').trim();
            format!("Person: {} ({mail})", name.trim())
        }
        None => format!("Person: {who}"),
    })
}

fn file_id(path: &str) -> String {
    let trimmed = path.trim_start_matches('/');
    // Long paths are cut to keep ids readable; the hash keeps them unique.
    let readable: String = trimmed
        .chars()
        .rev()
        .take(60)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!(
        "SPDXRef-File-{}-{}",
        sanitize_id(&readable),
        short_hash(path)
    )
}

fn build(analysis: &Analysis) -> Document<'_> {
    let name = source_name(analysis).to_string();
    let uuid = common::document_uuid(analysis);
    let root_id = format!("SPDXRef-DocumentRoot-{}", sanitize_id(&name));
    let mut licenses = Licenses::default();
    let mut packages = Vec::with_capacity(analysis.packages.len() + 2);
    let mut relationships = vec![rel("SPDXRef-DOCUMENT", &root_id, "DESCRIBES")];
    packages.push(root_package(analysis, root_id.clone(), name.clone()));

    let ids: Vec<String> = analysis
        .packages
        .iter()
        .map(|p| {
            format!(
                "SPDXRef-Package-{}-{}-{}",
                p.package_type.as_str(),
                sanitize_id(&p.name),
                sanitize_id(&p.id)
            )
        })
        .collect();
    let owned = common::owned_files(analysis);
    let mut files: BTreeMap<&str, SpdxFile> = BTreeMap::new();
    let mut evidence: Vec<Relationship> = Vec::new();
    let mut contains: Vec<Relationship> = Vec::new();
    let file_layer: HashMap<&str, &anchorage_model::FileRecord> = analysis
        .files
        .iter()
        .map(|f| (f.path.as_str(), f))
        .collect();

    for ((p, id), owned) in analysis.packages.iter().zip(&ids).zip(&owned) {
        let mut spdx_package = package(p, id.clone(), &mut licenses);
        if let Some(code) = verification_code(owned) {
            spdx_package.files_analyzed = true;
            spdx_package.package_verification_code = Some(VerificationCode {
                package_verification_code_value: code,
            });
        }
        // SPDX: a package with `filesAnalyzed: false` must not CONTAIN files.
        let files_analyzed = spdx_package.files_analyzed;
        packages.push(spdx_package);
        relationships.push(rel(&root_id, id, "CONTAINS"));
        for f in owned.iter().filter(|_| files_analyzed) {
            if let Some(entry) = file_entry(f) {
                let fid = entry.spdx_id.clone();
                files.entry(f.path).or_insert(entry);
                contains.push(rel(id, &fid, "CONTAINS"));
            }
        }
        for loc in &p.locations {
            let Some(record) = file_layer.get(loc.path.as_str()) else {
                continue;
            };
            let f = OwnedFile {
                path: record.path.as_str(),
                record: Some(record),
                checksums: [("sha1", &record.sha1), ("sha256", &record.sha256)]
                    .into_iter()
                    .filter_map(|(alg, v)| v.as_deref().and_then(|v| Checksum::new(alg, v)))
                    .collect(),
            };
            if let Some(entry) = file_entry(&f) {
                let fid = entry.spdx_id.clone();
                files.entry(record.path.as_str()).or_insert(entry);
                evidence.push(Relationship {
                    comment: Some(
                        "evident-by: the package's existence is evident by the given file",
                    ),
                    ..rel(id, &fid, "OTHER")
                });
            }
        }
    }
    for (i, deps) in common::dependencies(analysis).into_iter().enumerate() {
        for j in deps {
            relationships.push(rel(&ids[i], &ids[j], "DEPENDS_ON"));
        }
    }
    relationships.extend(contains);
    relationships.extend(evidence);

    Document {
        spdx_version: "SPDX-2.3",
        data_license: "CC0-1.0",
        spdx_id: "SPDXRef-DOCUMENT",
        document_namespace: format!(
            "https://anchorage.dev/spdx/{}/{}-{uuid}",
            sanitize_id(&analysis.source.scheme),
            sanitize_id(&name)
        ),
        name,
        creation_info: CreationInfo {
            comment: distro_comment(analysis),
            license_list_version: common::license_list_version()
                .splitn(3, '.')
                .take(2)
                .collect::<Vec<_>>()
                .join("."),
            creators: vec![format!("Tool: {TOOL_NAME}-{TOOL_VERSION}")],
            created: analysis
                .analyzed_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        },
        packages,
        files: files.into_values().collect(),
        has_extracted_licensing_infos: licenses.into_infos(),
        relationships,
    }
}

/// The SPDX package verification code (spec 7.9): SHA-1 over the sorted, concatenated SHA-1
/// values of the package's files. Only when every owned file has a SHA-1 (apk and rpm
/// databases record them; dpkg records MD5 only); otherwise the package is reported with
/// `filesAnalyzed: false`.
fn verification_code(owned: &[OwnedFile<'_>]) -> Option<String> {
    use sha1::Digest as _;
    if owned.is_empty() {
        return None;
    }
    let mut sums: Vec<&str> = owned
        .iter()
        .map(|f| {
            f.checksums
                .iter()
                .find(|c| c.algorithm == "sha1")
                .map(|c| c.value.as_str())
        })
        .collect::<Option<_>>()?;
    sums.sort_unstable();
    let mut sha = sha1::Sha1::new();
    for s in sums {
        sha.update(s.as_bytes());
    }
    Some(hex::encode(sha.finalize()))
}

fn file_entry(f: &OwnedFile<'_>) -> Option<SpdxFile> {
    // SPDX 2.3 requires a SHA1 checksum on every file (the SPDX tools reject others).
    if !f.checksums.iter().any(|c| c.algorithm == "sha1") {
        return None;
    }
    Some(SpdxFile {
        // SPDX file names are relative to the package root: `./usr/bin/x`.
        file_name: if f.path.starts_with('/') {
            format!(".{}", f.path)
        } else {
            format!("./{}", f.path)
        },
        spdx_id: file_id(f.path),
        checksums: f.checksums.iter().map(checksum).collect(),
        license_concluded: NOASSERTION,
        license_info_in_files: [NOASSERTION],
        copyright_text: NOASSERTION,
        comment: f
            .record
            .and_then(|r| r.layer.as_ref())
            .map(|l| format!("layerID: {l}")),
    })
}

fn root_package<'a>(analysis: &Analysis, spdx_id: String, name: String) -> SpdxPackage<'a> {
    let digest = analysis
        .source
        .manifest_digest
        .as_ref()
        .map(ToString::to_string);
    let checksums = digest
        .as_deref()
        .and_then(|d| d.split_once(':'))
        .and_then(|(a, h)| Checksum::new(a, h))
        .map(|c| vec![checksum(&c)])
        .unwrap_or_default();
    let external_refs = common::image_purl(analysis)
        .map(|p| {
            vec![ExternalRef {
                reference_category: "PACKAGE-MANAGER",
                reference_type: "purl",
                reference_locator: p,
            }]
        })
        .unwrap_or_default();
    SpdxPackage {
        name,
        spdx_id,
        version_info: digest,
        supplier: NOASSERTION.into(),
        download_location: NOASSERTION,
        checksums,
        license_concluded: NOASSERTION,
        license_declared: NOASSERTION.into(),
        copyright_text: NOASSERTION,
        external_refs,
        primary_package_purpose: Some(if analysis.source.scheme == "dir" {
            "FILE"
        } else {
            "CONTAINER"
        }),
        ..SpdxPackage::default()
    }
}

fn package<'a>(p: &'a Package, spdx_id: String, licenses: &mut Licenses) -> SpdxPackage<'a> {
    let mut external_refs: Vec<ExternalRef> = p
        .cpes
        .iter()
        .map(|c| ExternalRef {
            reference_category: "SECURITY",
            reference_type: "cpe23Type",
            reference_locator: c.clone(),
        })
        .collect();
    if !p.purl.is_empty() {
        external_refs.push(ExternalRef {
            reference_category: "PACKAGE-MANAGER",
            reference_type: "purl",
            reference_locator: p.purl.clone(),
        });
    }
    let (supplier, homepage, checksums) = match &p.metadata {
        PackageMetadata::Dpkg(m) => (m.maintainer.as_deref().and_then(agent), None, vec![]),
        PackageMetadata::Apk(m) => (
            m.maintainer.as_deref().and_then(agent),
            m.url.as_deref(),
            vec![],
        ),
        PackageMetadata::Rpm(m) => (
            m.vendor.as_deref().map(|v| format!("Organization: {v}")),
            None,
            vec![],
        ),
        PackageMetadata::Python(m) => (
            m.author.as_deref().and_then(agent),
            m.home_page.as_deref(),
            vec![],
        ),
        PackageMetadata::Npm(m) => (
            m.author.as_deref().and_then(agent),
            m.homepage.as_deref(),
            vec![],
        ),
        PackageMetadata::Java(m) => (
            None,
            None,
            m.sha1
                .as_deref()
                .and_then(|v| Checksum::new("sha1", v))
                .map(|c| vec![checksum(&c)])
                .unwrap_or_default(),
        ),
        _ => (None, None, vec![]),
    };
    let locations: Vec<&str> = p.locations.iter().map(|l| l.path.as_str()).collect();
    SpdxPackage {
        name: p.name.clone(),
        spdx_id,
        version_info: Some(p.version.clone()).filter(|v| !v.is_empty()),
        originator: supplier.clone(),
        supplier: supplier.unwrap_or_else(|| NOASSERTION.into()),
        download_location: NOASSERTION,
        homepage: homepage.filter(|h| is_url(h)),
        source_info: (!locations.is_empty()).then(|| {
            format!(
                "acquired package info from {} package data: {}",
                p.package_type.as_str(),
                locations.join(", ")
            )
        }),
        checksums,
        license_concluded: NOASSERTION,
        license_declared: licenses.declared(p),
        copyright_text: NOASSERTION,
        external_refs,
        ..SpdxPackage::default()
    }
}

/// `distro: debian 12 (Debian GNU/Linux 12 (bookworm))`, when the distribution is known.
fn distro_comment(analysis: &Analysis) -> Option<String> {
    let d = &analysis.distro;
    if d.is_unknown() {
        return None;
    }
    let mut out = format!("distro: {}", d.id);
    if let Some(v) = &d.version_id {
        out.push(' ');
        out.push_str(v);
    }
    if let Some(p) = &d.pretty_name {
        out.push_str(&format!(" ({p})"));
    }
    Some(out)
}
