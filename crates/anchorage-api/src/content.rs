//! Content rows of an analysis (Anchore §3.4), one shape per content type.

use anchorage_engine::Analysis;
use anchorage_model::{Package, PackageMetadata};
use serde_json::{Value, json};

fn origin(p: &Package) -> Value {
    let o = match &p.metadata {
        PackageMetadata::Dpkg(m) => m.maintainer.clone(),
        PackageMetadata::Apk(m) => m.maintainer.clone(),
        PackageMetadata::Rpm(m) => m.vendor.clone(),
        PackageMetadata::Python(m) => m.author.clone(),
        PackageMetadata::Npm(m) => m.author.clone(),
        PackageMetadata::Gem(m) => (!m.authors.is_empty()).then(|| m.authors.join(", ")),
        _ => None,
    };
    json!(o.unwrap_or_else(|| "N/A".to_string()))
}

fn size(p: &Package) -> Value {
    let s = match &p.metadata {
        PackageMetadata::Dpkg(m) => m.installed_size_kib.map(|k| k * 1024),
        PackageMetadata::Apk(m) => m.installed_size,
        PackageMetadata::Rpm(m) => m.size,
        _ => None,
    };
    json!(s.map_or_else(|| "N/A".to_string(), |s| s.to_string()))
}

fn location(p: &Package) -> String {
    p.locations
        .first()
        .map(|l| l.path.clone())
        .unwrap_or_default()
}

fn license(p: &Package) -> Value {
    json!(if p.licenses.is_empty() {
        "Unknown".to_string()
    } else {
        p.licenses.join(" ")
    })
}

fn generic(p: &Package, kind: &str) -> Value {
    json!({
        "package": p.name,
        "version": p.version,
        "location": location(p),
        "type": kind.to_ascii_uppercase(),
        "origin": origin(p),
        "license": license(p),
        "licenses": p.licenses,
        "cpes": p.cpes,
    })
}

/// The rows of content type `ctype` (one of the list types; `manifest` etc. are handled by
/// the caller).
fn of<'a>(a: &'a Analysis, kind: &'a str) -> impl Iterator<Item = &'a Package> {
    a.packages
        .iter()
        .filter(move |p| p.package_type.as_str() == kind)
}

pub(crate) fn rows(a: &Analysis, ctype: &str) -> Value {
    let rows: Vec<Value> = match ctype {
        "os" => a
            .packages
            .iter()
            .filter(|p| p.package_type.is_os())
            .map(|p| {
                json!({
                    "package": p.name,
                    "version": p.version,
                    "size": size(p),
                    "type": p.package_type.as_str().to_ascii_uppercase(),
                    "origin": origin(p),
                    "license": license(p),
                    "licenses": p.licenses,
                    "cpes": p.cpes,
                })
            })
            .collect(),
        "files" => a
            .files
            .iter()
            .map(|f| {
                let kind = match f.file_type.as_str() {
                    "regular" | "file" => "file",
                    "directory" | "dir" => "dir",
                    "symlink" | "slink" => "slink",
                    "hardlink" => "file",
                    other => other,
                };
                json!({
                    "filename": format!("/{}", f.path.trim_start_matches('/')),
                    "size": f.size,
                    "mode": format!("{:05o}", f.mode & 0o7777),
                    "sha256": f.sha256,
                    "type": kind,
                    "uid": f.uid,
                    "gid": f.gid,
                    "linkdest": f.link_target,
                })
            })
            .collect(),
        "java" => of(a, "java")
            .map(|p| {
                let (spec, imp, maven, archive) = match &p.metadata {
                    PackageMetadata::Java(m) => (
                        m.specification_version.clone(),
                        m.implementation_version.clone(),
                        m.maven_version.clone().or_else(|| Some(p.version.clone())),
                        m.archive_type.clone(),
                    ),
                    _ => (None, None, Some(p.version.clone()), "jar".to_string()),
                };
                let na = |v: Option<String>| v.unwrap_or_else(|| "N/A".to_string());
                json!({
                    "package": p.name,
                    "specification-version": na(spec),
                    "implementation-version": na(imp),
                    "maven-version": na(maven),
                    "location": location(p),
                    "type": format!("JAVA-{}", archive.to_ascii_uppercase()),
                    "origin": origin(p),
                    "cpes": p.cpes,
                })
            })
            .collect(),
        // Anchore's shape; empty when no scanner ran (or it could not be reached).
        "malware" => a
            .malware
            .iter()
            .map(|scan| {
                json!({
                    "scanner": scan.scanner,
                    "enabled": scan.enabled,
                    "metadata": {
                        "db_version": {
                            "daily": scan.metadata.db_version.daily,
                            "main": scan.metadata.db_version.main,
                            "bytecode": scan.metadata.db_version.bytecode,
                        }
                    },
                    "findings": scan
                        .findings
                        .iter()
                        .map(|f| json!({"path": f.path, "signature": f.signature}))
                        .collect::<Vec<_>>(),
                })
            })
            .collect(),
        kind => of(a, kind).map(|p| generic(p, kind)).collect(),
    };
    Value::Array(rows)
}
