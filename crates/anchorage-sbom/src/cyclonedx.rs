//! CycloneDX 1.6 JSON. Our own serde model of the subset we emit (the `cyclonedx-bom` crate
//! stops at spec 1.5); every emitted document is validated against the official schema in tests.
//!
//! Layout: `metadata.component` is the image (type `container`, or `file` for `dir:` sources);
//! `components` holds the operating system and one `library` per package, each package with its
//! owned files nested as `file` components (CycloneDX's containment); `dependencies` carries the
//! package-to-package edges of the analysis' `relationships`. Property names for package
//! type, CPEs and locations follow Syft's `syft:` taxonomy, which Grype reads; ours use
//! `anchorage:`.

use std::collections::HashSet;
use std::io::Write;
use std::sync::OnceLock;

use anchorage_model::{Analysis, Package, PackageMetadata};
use serde::Deserialize;

use crate::SbomError;
use crate::common::{
    self, Checksum, LicenseTerm, OwnedFile, classify_license, is_url, source_name, syft_type,
};

mod model;

pub use model::{
    AffectedVersion, Affects, Bom, Component, Dependency, ExternalReference, Hash, License,
    LicenseChoice, Metadata, Property, Rating, ToolComponent, Tools, Vulnerability,
    VulnerabilityReference, VulnerabilitySource, package_bom_ref,
};

/// Writes `analysis` as a CycloneDX 1.6 JSON document.
pub(crate) fn encode(analysis: &Analysis, w: &mut dyn Write) -> Result<(), SbomError> {
    let bom = build(analysis);
    serde_json::to_writer_pretty(&mut *w, &bom)?;
    w.write_all(b"\n")?;
    Ok(())
}

fn build(analysis: &Analysis) -> Bom<'_> {
    let refs: Vec<String> = analysis.packages.iter().map(package_ref).collect();
    let files = common::owned_files(analysis);
    let mut components = Vec::with_capacity(analysis.packages.len() + 1);
    if let Some(os) = os_component(analysis) {
        components.push(os);
    }
    for ((p, r), owned) in analysis.packages.iter().zip(&refs).zip(&files) {
        components.push(package_component(p, r.clone(), owned));
    }
    let dependencies = common::dependencies(analysis)
        .into_iter()
        .enumerate()
        .filter(|(_, d)| !d.is_empty())
        .map(|(i, d)| Dependency {
            reference: refs[i].clone(),
            depends_on: d.into_iter().map(|j| refs[j].clone()).collect(),
        })
        .collect();
    let mut bom = Bom::new(
        Metadata::new(
            analysis
                .analyzed_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            image_component(analysis),
            vec![Property::new(
                "anchorage:analysis:schemaVersion",
                analysis.schema_version.clone(),
            )],
        ),
        components,
    );
    bom.serial_number = Some(format!("urn:uuid:{}", common::document_uuid(analysis)));
    bom.dependencies = dependencies;
    bom
}

fn package_ref(p: &Package) -> String {
    package_bom_ref(&p.purl, &p.id)
}

fn image_component(analysis: &Analysis) -> Component<'static> {
    let src = &analysis.source;
    let digest = src.manifest_digest.as_ref().map(ToString::to_string);
    let mut properties = vec![
        Property::new("anchorage:source:scheme", src.scheme.clone()),
        Property::new("anchorage:source:input", src.input.clone()),
    ];
    if let Some(c) = &src.config_digest {
        properties.push(Property::new("anchorage:image:configDigest", c.to_string()));
    }
    if let Some(i) = &src.index_digest {
        properties.push(Property::new("anchorage:image:indexDigest", i.to_string()));
    }
    let img = &analysis.image;
    if !img.os.is_empty() {
        properties.push(Property::new("anchorage:image:os", img.os.clone()));
    }
    if !img.architecture.is_empty() {
        properties.push(Property::new(
            "anchorage:image:architecture",
            img.architecture.clone(),
        ));
    }
    for (i, layer) in img.layers.iter().enumerate() {
        if let Some(d) = &layer.digest {
            properties.push(Property::new(
                format!("anchorage:image:layer:{i}:digest"),
                d.to_string(),
            ));
        }
        if let Some(d) = &layer.diff_id {
            properties.push(Property::new(
                format!("anchorage:image:layer:{i}:diffID"),
                d.to_string(),
            ));
        }
    }
    let mut c = Component::image(
        source_name(analysis).to_string(),
        &src.scheme,
        &src.input,
        digest,
    );
    c.purl = common::image_purl(analysis);
    c.properties = properties;
    c
}

fn os_component(analysis: &Analysis) -> Option<Component<'static>> {
    let d = &analysis.distro;
    if d.is_unknown() {
        return None;
    }
    let version = d.version_id.clone().filter(|v| !v.is_empty());
    let mut properties = vec![Property::new("syft:distro:id", d.id.clone())];
    if let Some(p) = &d.pretty_name {
        properties.push(Property::new("syft:distro:prettyName", p.clone()));
    }
    if let Some(c) = &d.codename {
        properties.push(Property::new("syft:distro:versionCodename", c.clone()));
    }
    if let Some(v) = &version {
        properties.push(Property::new("syft:distro:versionID", v.clone()));
    }
    for like in &d.id_like {
        properties.push(Property::new("syft:distro:idLike", like.clone()));
    }
    Some(Component {
        bom_ref: format!("os:{}@{}", d.id, version.as_deref().unwrap_or("unknown")),
        kind: "operating-system",
        name: d.id.clone(),
        version,
        description: d.pretty_name.clone(),
        properties,
        ..Component::default()
    })
}

fn hash(c: &Checksum) -> Hash {
    Hash::from_checksum(c)
}

/// The licence ids CycloneDX 1.6 accepts: the enumeration of its `spdx.schema.json` (an older
/// SPDX licence list than the `spdx` crate's). Newer ids are written as licence names so the
/// document stays valid.
fn cdx_license_ids() -> &'static HashSet<String> {
    static IDS: OnceLock<HashSet<String>> = OnceLock::new();
    IDS.get_or_init(|| {
        #[derive(Deserialize)]
        struct Enumeration {
            #[serde(rename = "enum")]
            ids: Vec<String>,
        }
        serde_json::from_str::<Enumeration>(include_str!("../tests/schemas/spdx.schema.json"))
            .map(|e| e.ids.into_iter().collect())
            .unwrap_or_default()
    })
}

fn licenses(p: &Package) -> Vec<LicenseChoice> {
    let terms: Vec<LicenseTerm> = p
        .licenses
        .iter()
        .filter_map(|l| classify_license(l))
        .collect();
    // The schema allows either a list of licences or exactly one expression.
    if let [LicenseTerm::Expression(e)] = terms.as_slice() {
        return vec![LicenseChoice::Expression {
            expression: e.clone(),
        }];
    }
    let mut out: Vec<LicenseChoice> = Vec::with_capacity(terms.len());
    let mut seen = std::collections::HashSet::new();
    for t in terms {
        let license = match t {
            LicenseTerm::Id(id) if cdx_license_ids().contains(id) => License::Id { id },
            LicenseTerm::Id(id) => License::Name {
                name: id.to_string(),
            },
            LicenseTerm::Expression(e) | LicenseTerm::Other(e) => License::Name { name: e },
        };
        let key = match &license {
            License::Id { id } => (*id).to_string(),
            License::Name { name } => name.clone(),
        };
        if seen.insert(key) {
            out.push(LicenseChoice::License { license });
        }
    }
    out
}

fn package_component<'a>(
    p: &'a Package,
    bom_ref: String,
    owned: &[OwnedFile<'a>],
) -> Component<'a> {
    let mut properties = vec![
        Property::new("syft:package:type", syft_type(p.package_type)),
        Property::new("anchorage:package:type", p.package_type.as_str()),
        Property::new("anchorage:package:id", p.id.clone()),
    ];
    for cpe in p.cpes.iter().skip(1) {
        properties.push(Property::new("syft:cpe23", cpe.clone()));
    }
    for (i, loc) in p.locations.iter().enumerate() {
        if let Some(layer) = &loc.layer {
            properties.push(Property::new(
                format!("syft:location:{i}:layerID"),
                layer.to_string(),
            ));
        }
        properties.push(Property::new(
            format!("syft:location:{i}:path"),
            loc.path.clone(),
        ));
    }
    if let Some(s) = &p.source_name {
        properties.push(Property::new("anchorage:package:sourceName", s.clone()));
    }
    if let Some(s) = &p.source_version {
        properties.push(Property::new("anchorage:package:sourceVersion", s.clone()));
    }
    if let Some(a) = &p.arch {
        properties.push(Property::new("anchorage:package:architecture", a.clone()));
    }
    if let Some(o) = &p.owner {
        properties.push(Property::new("anchorage:package:ownerID", o.clone()));
    }
    let mut c = Component {
        bom_ref,
        licenses: licenses(p),
        cpe: p.cpes.first().map(String::as_str),
        properties,
        ..Component::package(p.package_type, &p.id, &p.name, &p.version, &p.purl)
    };
    let mut website: Option<&str> = None;
    match &p.metadata {
        PackageMetadata::Dpkg(m) => c.publisher = m.maintainer.as_deref(),
        PackageMetadata::Apk(m) => {
            c.publisher = m.maintainer.as_deref();
            website = m.url.as_deref();
        }
        PackageMetadata::Rpm(m) => c.publisher = m.vendor.as_deref(),
        PackageMetadata::Python(m) => {
            c.author = m.author.clone();
            website = m.home_page.as_deref();
        }
        PackageMetadata::Npm(m) => {
            c.author = m.author.clone();
            website = m.homepage.as_deref();
        }
        PackageMetadata::Gem(m) => {
            c.author = (!m.authors.is_empty()).then(|| m.authors.join(", "));
            website = m.homepage.as_deref();
        }
        PackageMetadata::Java(m) => {
            c.group = m.group_id.as_deref();
            if let Some(h) = m.sha1.as_deref().and_then(|v| Checksum::new("sha1", v)) {
                c.hashes.push(hash(&h));
            }
            if let Some(v) = &m.virtual_path {
                c.properties
                    .push(Property::new("syft:metadata:virtualPath", v.clone()));
            }
        }
        PackageMetadata::Go(m) => {
            if let Some(v) = &m.go_version {
                c.properties
                    .push(Property::new("syft:metadata:goCompiledVersion", v.clone()));
            }
            if let Some(v) = &m.main_module {
                c.properties
                    .push(Property::new("syft:metadata:mainModule", v.clone()));
            }
        }
        PackageMetadata::Nuget(m) => {
            if let Some(h) = m.sha512.as_deref().and_then(|v| Checksum::new("sha512", v)) {
                c.hashes.push(hash(&h));
            }
        }
        _ => {}
    }
    if let Some(url) = website.filter(|u| is_url(u)) {
        c.external_references.push(ExternalReference {
            url: url.to_string(),
            kind: "website",
        });
    }
    c.components = owned
        .iter()
        .map(|f| {
            let mut properties = vec![Property::new("anchorage:file:path", f.path)];
            if let Some(layer) = f.record.and_then(|r| r.layer.as_ref()) {
                properties.push(Property::new("anchorage:file:layerID", layer.to_string()));
            }
            Component {
                bom_ref: format!("{}:file:{}", p.id, f.path),
                kind: "file",
                name: f.path.to_string(),
                hashes: f.checksums.iter().map(hash).collect(),
                properties,
                ..Component::default()
            }
        })
        .collect();
    c
}

#[cfg(test)]
mod tests {
    use super::*;
    use anchorage_types::PackageType;

    #[test]
    fn spdx_ids_unknown_to_cyclonedx_1_6_become_names() {
        assert!(cdx_license_ids().contains("MIT"));
        assert!(!cdx_license_ids().contains("Bugroff"));
        let p = Package {
            id: "x".into(),
            name: "exim4".into(),
            version: "1".into(),
            package_type: PackageType::Dpkg,
            purl: String::new(),
            cpes: vec![],
            licenses: vec!["Bugroff".into(), "MIT".into()],
            locations: vec![],
            source_name: None,
            source_version: None,
            arch: None,
            owner: None,
            metadata: PackageMetadata::None,
        };
        let v = serde_json::to_value(licenses(&p)).unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"license": {"name": "Bugroff"}}, {"license": {"id": "MIT"}}])
        );
    }
}
