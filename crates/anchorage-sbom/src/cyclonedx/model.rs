//! The CycloneDX 1.6 serde model: the subset of the specification we emit, shared by the SBOM
//! writer of this crate and by anchorage-match's vulnerability document (the same document
//! extended with `vulnerabilities`). Field order follows the schema; empty optional parts are
//! left out. The bom-ref rules for images and packages live here too, so a vulnerability's
//! `affects.ref` names the same component as the SBOM of the same analysis.

use anchorage_types::PackageType;
use serde::Serialize;

use crate::common::{Checksum, TOOL_NAME, TOOL_VERSION};

/// A CycloneDX 1.6 document.
#[derive(Debug, Clone, Serialize)]
pub struct Bom<'a> {
    /// The JSON schema URL.
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    /// Always `CycloneDX`.
    #[serde(rename = "bomFormat")]
    pub bom_format: &'static str,
    /// Always `1.6`.
    #[serde(rename = "specVersion")]
    pub spec_version: &'static str,
    /// `urn:uuid:...`, when the document has a stable identity.
    #[serde(rename = "serialNumber", skip_serializing_if = "Option::is_none")]
    pub serial_number: Option<String>,
    /// Document version (1).
    pub version: u32,
    /// Document metadata.
    pub metadata: Metadata<'a>,
    /// The components.
    pub components: Vec<Component<'a>>,
    /// Component-to-component edges.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<Dependency>,
    /// Vulnerabilities affecting the components.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub vulnerabilities: Vec<Vulnerability>,
}

impl<'a> Bom<'a> {
    /// A version-1 CycloneDX 1.6 document without serial number, dependencies or vulnerabilities.
    pub fn new(metadata: Metadata<'a>, components: Vec<Component<'a>>) -> Self {
        Self {
            schema: "http://cyclonedx.org/schema/bom-1.6.schema.json",
            bom_format: "CycloneDX",
            spec_version: "1.6",
            serial_number: None,
            version: 1,
            metadata,
            components,
            dependencies: Vec::new(),
            vulnerabilities: Vec::new(),
        }
    }
}

/// `metadata` of a document.
#[derive(Debug, Clone, Serialize)]
pub struct Metadata<'a> {
    /// RFC 3339 timestamp.
    pub timestamp: String,
    /// The tools that wrote the document.
    pub tools: Tools,
    /// What the document describes (the image).
    pub component: Component<'a>,
    /// Document-level properties.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

impl<'a> Metadata<'a> {
    /// Metadata naming anchorage as the tool.
    pub fn new(timestamp: String, component: Component<'a>, properties: Vec<Property>) -> Self {
        Self {
            timestamp,
            tools: Tools {
                components: vec![ToolComponent {
                    kind: "application",
                    name: TOOL_NAME,
                    version: TOOL_VERSION,
                }],
            },
            component,
            properties,
        }
    }
}

/// `metadata.tools`.
#[derive(Debug, Clone, Serialize)]
pub struct Tools {
    /// The tools, as components.
    pub components: Vec<ToolComponent>,
}

/// One tool.
#[derive(Debug, Clone, Serialize)]
pub struct ToolComponent {
    /// Component type (`application`).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Tool name.
    pub name: &'static str,
    /// Tool version.
    pub version: &'static str,
}

/// A component (image, operating system, package or file).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Component<'a> {
    /// Unique reference within the document.
    #[serde(rename = "bom-ref")]
    pub bom_ref: String,
    /// Component type (`container`, `file`, `library`, `application`, `operating-system`).
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Publisher (package maintainer or vendor).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub publisher: Option<&'a str>,
    /// Author.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    /// Group (Maven group id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<&'a str>,
    /// Name.
    pub name: String,
    /// Version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Description.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Digests.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub hashes: Vec<Hash>,
    /// Licences.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<LicenseChoice>,
    /// First CPE.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpe: Option<&'a str>,
    /// Package URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// Links.
    #[serde(rename = "externalReferences", skip_serializing_if = "Vec::is_empty")]
    pub external_references: Vec<ExternalReference>,
    /// Properties.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
    /// Nested components (a package's files).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component<'a>>,
}

impl Component<'_> {
    /// The component describing a scanned image or directory: bom-ref
    /// `anchorage:image:<digest or input>`, type `file` for `dir` sources and `container`
    /// otherwise, the manifest digest as version and hash. `scheme` is the source scheme.
    pub fn image(name: String, scheme: &str, input: &str, digest: Option<String>) -> Self {
        let hashes = digest
            .as_deref()
            .and_then(|d| d.split_once(':'))
            .and_then(|(alg, hex)| Checksum::new(alg, hex))
            .map(|c| vec![Hash::from_checksum(&c)])
            .unwrap_or_default();
        Self {
            bom_ref: format!("anchorage:image:{}", digest.as_deref().unwrap_or(input)),
            kind: if scheme == "dir" { "file" } else { "container" },
            name,
            version: digest,
            hashes,
            ..Self::default()
        }
    }

    /// The component of a package: type `application` for binaries and `library` otherwise,
    /// bom-ref from [`package_bom_ref`], empty version and purl left out.
    pub fn package(
        package_type: PackageType,
        id: &str,
        name: &str,
        version: &str,
        purl: &str,
    ) -> Self {
        Self {
            bom_ref: package_bom_ref(purl, id),
            kind: if package_type == PackageType::Binary {
                "application"
            } else {
                "library"
            },
            name: name.to_string(),
            version: Some(version.to_string()).filter(|v| !v.is_empty()),
            purl: Some(purl.to_string()).filter(|s| !s.is_empty()),
            ..Self::default()
        }
    }
}

/// The bom-ref of a package: its purl with a `package-id` qualifier (unique even when two
/// packages share a purl), or `anchorage:package:ID` without a purl.
pub fn package_bom_ref(purl: &str, id: &str) -> String {
    if purl.is_empty() {
        format!("anchorage:package:{id}")
    } else {
        let sep = if purl.contains('?') { '&' } else { '?' };
        format!("{purl}{sep}package-id={id}")
    }
}

/// A digest of a component.
#[derive(Debug, Clone, Serialize)]
pub struct Hash {
    /// `MD5`, `SHA-1`, `SHA-256`, `SHA-512`.
    pub alg: &'static str,
    /// Lower-case hex value.
    pub content: String,
}

impl Hash {
    pub(crate) fn from_checksum(c: &Checksum) -> Self {
        Self {
            alg: match c.algorithm {
                "md5" => "MD5",
                "sha1" => "SHA-1",
                "sha512" => "SHA-512",
                _ => "SHA-256",
            },
            content: c.value.clone(),
        }
    }
}

/// One entry of `licenses`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum LicenseChoice {
    /// A licence by id or name.
    License {
        /// The licence.
        license: License,
    },
    /// An SPDX expression (the only entry when present).
    Expression {
        /// The expression.
        expression: String,
    },
}

/// A licence by SPDX id or by name.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum License {
    /// An id from CycloneDX's SPDX enumeration.
    Id {
        /// The id.
        id: &'static str,
    },
    /// Any other licence.
    Name {
        /// The name.
        name: String,
    },
}

/// A link.
#[derive(Debug, Clone, Serialize)]
pub struct ExternalReference {
    /// URL.
    pub url: String,
    /// Link type (`website`).
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// A name/value property.
#[derive(Debug, Clone, Serialize)]
pub struct Property {
    /// Name (`anchorage:...`, `syft:...`).
    pub name: String,
    /// Value.
    pub value: String,
}

impl Property {
    /// A property.
    pub fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
        }
    }
}

/// The components one component depends on.
#[derive(Debug, Clone, Serialize)]
pub struct Dependency {
    /// The depending component's bom-ref.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The bom-refs it depends on.
    #[serde(rename = "dependsOn")]
    pub depends_on: Vec<String>,
}

/// One entry of `vulnerabilities`.
#[derive(Debug, Clone, Serialize)]
pub struct Vulnerability {
    /// Unique reference within the document.
    #[serde(rename = "bom-ref")]
    pub bom_ref: String,
    /// Vulnerability id (CVE, GHSA, ...).
    pub id: String,
    /// Where the record comes from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<VulnerabilitySource>,
    /// The same vulnerability under other ids.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<VulnerabilityReference>,
    /// Severities and scores.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ratings: Vec<Rating>,
    /// What to do about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<String>,
    /// RFC 3339 publication time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<String>,
    /// The affected components.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub affects: Vec<Affects>,
    /// Properties.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<Property>,
}

/// The source of a vulnerability record or rating.
#[derive(Debug, Clone, Serialize)]
pub struct VulnerabilitySource {
    /// Source name (feed, `NVD`).
    pub name: String,
    /// Link to the record.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

/// Another id of the same vulnerability.
#[derive(Debug, Clone, Serialize)]
pub struct VulnerabilityReference {
    /// The id.
    pub id: String,
    /// Where that id comes from.
    pub source: VulnerabilitySource,
}

/// A severity and/or score.
#[derive(Debug, Clone, Serialize)]
pub struct Rating {
    /// Who rated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<VulnerabilitySource>,
    /// Numeric score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// `critical`, `high`, `medium`, `low`, `info`, `none`, `unknown`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub severity: Option<&'static str>,
    /// `CVSSv2`, `CVSSv3`, `CVSSv31`, `CVSSv4`, `other`.
    pub method: &'static str,
    /// Score vector.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vector: Option<String>,
}

/// A component affected by a vulnerability.
#[derive(Debug, Clone, Serialize)]
pub struct Affects {
    /// The component's bom-ref.
    #[serde(rename = "ref")]
    pub reference: String,
    /// The affected versions.
    pub versions: Vec<AffectedVersion>,
}

/// One affected version.
#[derive(Debug, Clone, Serialize)]
pub struct AffectedVersion {
    /// The version.
    pub version: String,
    /// `affected`, `unaffected`, `unknown`.
    pub status: &'static str,
}
