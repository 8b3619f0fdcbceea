//! JDK / JRE installations from their `release` file (any directory: `/opt/java/openjdk/release`,
//! `/usr/lib/jvm/*/release`, unpacked archives). Pure: text in, package fields out.
//!
//! Version: `JAVA_RUNTIME_VERSION` (`21.0.4+7-LTS`, `1.8.0_411-b25`), else `FULL_VERSION` when
//! its major agrees with `JAVA_VERSION`, else `JAVA_VERSION`. Vendor from `IMPLEMENTOR` (and the
//! path): Azul -> `azul/zulu`; Oracle and Sun -> `jdk`/`jre` (by `IMAGE_TYPE` and a `bin/javac`);
//! everything else (Eclipse Temurin, Amazon Corretto, IBM Semeru, Debian, Microsoft, Red Hat) ->
//! `oracle/openjdk`, as Syft names them, with the builder's own CPE added where NVD has one.

use std::collections::BTreeMap;

use super::util::cpe;

/// Base name the cataloger wants (any directory).
pub(crate) const RELEASE_FILE: &str = "release";

/// Largest release file read (real ones are ~1-2 KiB).
pub(crate) const MAX_RELEASE_BYTES: u64 = 512 * 1024;

/// The fields of a JVM `release` file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct JvmRelease {
    /// Every `KEY="value"` line (quotes removed).
    pub(crate) fields: BTreeMap<String, String>,
}

impl JvmRelease {
    fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

/// Parses a `release` file; `None` when it has neither `JAVA_VERSION` nor `JAVA_RUNTIME_VERSION`
/// (many unrelated files are called `release`).
pub(crate) fn parse_release(text: &str) -> Option<JvmRelease> {
    let mut fields = BTreeMap::new();
    for line in text.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let k = k.trim();
        if k.is_empty()
            || !k
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
        {
            continue;
        }
        fields.insert(k.to_string(), v.trim().trim_matches('"').to_string());
    }
    let r = JvmRelease { fields };
    (r.get("JAVA_VERSION").is_some() || r.get("JAVA_RUNTIME_VERSION").is_some()).then_some(r)
}

/// The package a release file describes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct JvmPackage {
    /// `openjdk`, `jdk`, `jre`, `zulu`.
    pub(crate) name: String,
    /// Version (see module docs).
    pub(crate) version: String,
    /// purl (`pkg:generic/oracle/openjdk@...`).
    pub(crate) purl: String,
    /// CPEs, primary first.
    pub(crate) cpes: Vec<String>,
    /// The `IMPLEMENTOR` value, for evidence.
    pub(crate) implementor: Option<String>,
}

fn version_of(r: &JvmRelease) -> Option<String> {
    if let Some(v) = r.get("JAVA_RUNTIME_VERSION") {
        return Some(v.to_string());
    }
    let java = r.get("JAVA_VERSION");
    if let Some(full) = r.get("FULL_VERSION") {
        let major = |s: &str| s.split('.').next().unwrap_or("").to_string();
        if java.is_none_or(|j| major(j) == major(full)) {
            return Some(full.to_string());
        }
    }
    java.map(str::to_string)
}

/// Splits a JVM version into the CPE version and update: `1.8.0_411-b25` -> (`1.8.0`,
/// `update411`); `21.0.4+7-LTS` -> (`21.0.4`, none).
pub(crate) fn cpe_version_update(version: &str) -> (String, Option<String>) {
    if let Some((short, rest)) = version.split_once('_') {
        let update = rest.split('-').next().unwrap_or("");
        let trimmed = update.trim_start_matches('0');
        let update = if trimmed.is_empty() { "0" } else { trimmed };
        return (short.to_string(), Some(format!("update{update}")));
    }
    if let Some((short, _)) = version.split_once('+') {
        return (short.to_string(), None);
    }
    (version.to_string(), None)
}

fn jvm_cpe(vendor: &str, product: &str, version: &str) -> String {
    let (short, update) = cpe_version_update(version);
    let base = cpe(vendor, product, &short);
    match update {
        // cpe:2.3:a:V:P:VER:UPDATE:*:...
        Some(u) => match base.strip_suffix(":*:*:*:*:*:*:*") {
            Some(head) => format!("{head}:{u}:*:*:*:*:*:*"),
            None => base,
        },
        None => base,
    }
}

/// Maps a parsed release file at `path` to its package; `has_javac` says whether `bin/javac`
/// sits beside it (a JDK rather than a JRE).
pub(crate) fn jvm_package(r: &JvmRelease, path: &str, has_javac: bool) -> Option<JvmPackage> {
    let version = version_of(r)?;
    let implementor = r.get("IMPLEMENTOR").map(str::to_string);
    let imp = implementor
        .as_deref()
        .unwrap_or("")
        .to_ascii_lowercase()
        .replace(' ', "");
    let lower_path = path.to_ascii_lowercase();
    let is_jdk = has_javac
        || r.get("IMAGE_TYPE")
            .is_none_or(|t| !t.to_ascii_lowercase().contains("jre"));
    let enterprise = if is_jdk { "jdk" } else { "jre" };
    let (vendor, product) = if imp.contains("azul") || lower_path.contains("zulu") {
        ("azul", "zulu")
    } else if imp.contains("sun") {
        ("sun", enterprise)
    } else if imp.contains("oracle") || lower_path.contains("oracle") {
        ("oracle", enterprise)
    } else {
        ("oracle", "openjdk")
    };
    let mut cpes = Vec::new();
    match (vendor, product) {
        ("azul", _) => {
            cpes.push(jvm_cpe("azul", "zulu", &version));
            cpes.push(jvm_cpe("oracle", "openjdk", &version));
        }
        ("sun", p) => {
            cpes.push(jvm_cpe("sun", "jre", &version));
            if p == "jdk" {
                cpes.push(jvm_cpe("sun", "jdk", &version));
            }
        }
        ("oracle", "openjdk") => {
            cpes.push(jvm_cpe("oracle", "openjdk", &version));
            // the builders' own NVD products, so their advisories match too
            if imp.contains("adoptium") || imp.contains("temurin") {
                cpes.push(jvm_cpe("eclipse", "temurin", &version));
            } else if imp.contains("amazon") || imp.contains("corretto") {
                cpes.push(jvm_cpe("amazon", "corretto", &version));
            }
        }
        (_, p) => {
            cpes.push(jvm_cpe("oracle", "java_se", &version));
            cpes.push(jvm_cpe("oracle", "jre", &version));
            if p == "jdk" {
                cpes.push(jvm_cpe("oracle", "jdk", &version));
            }
        }
    }
    let repo = r
        .get("SOURCE_REPO")
        .or_else(|| r.get("BUILD_SOURCE_REPO"))
        .unwrap_or("");
    let purl = anchorage_types::purl::for_package(
        "generic",
        Some(vendor),
        product,
        &version,
        &[("repository_url", repo)],
    );
    Some(JvmPackage {
        name: product.to_string(),
        version,
        purl,
        cpes,
        implementor,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(text: &str, path: &str, javac: bool) -> JvmPackage {
        jvm_package(&parse_release(text).unwrap(), path, javac).unwrap()
    }

    #[test]
    fn synthetic_temurin_21() {
        let p = pkg(
            "IMPLEMENTOR=\"Eclipse Adoptium\"\nIMPLEMENTOR_VERSION=\"Temurin-21.0.4+7\"\nJAVA_RUNTIME_VERSION=\"21.0.4+7-LTS\"\nJAVA_VERSION=\"21.0.4\"\nSOURCE_REPO=\"https://github.com/adoptium/jdk21u.git\"\nIMAGE_TYPE=\"JDK\"\n",
            "/opt/java/openjdk/release",
            true,
        );
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("openjdk", "21.0.4+7-LTS")
        );
        assert_eq!(
            p.purl,
            "pkg:generic/oracle/openjdk@21.0.4%2B7-LTS?repository_url=https:%2F%2Fgithub.com%2Fadoptium%2Fjdk21u.git"
        );
        assert_eq!(
            p.cpes,
            vec![
                "cpe:2.3:a:oracle:openjdk:21.0.4:*:*:*:*:*:*:*",
                "cpe:2.3:a:eclipse:temurin:21.0.4:*:*:*:*:*:*:*"
            ]
        );
    }

    #[test]
    fn synthetic_oracle_8_with_update() {
        let p = pkg(
            "IMPLEMENTOR=\"Oracle Corporation\"\nJAVA_VERSION=\"1.8.0_411\"\nJAVA_RUNTIME_VERSION=\"1.8.0_411-b25\"\n",
            "/usr/java/jre1.8.0_411/release",
            false,
        );
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("jdk", "1.8.0_411-b25")
        );
        assert_eq!(
            p.cpes[0],
            "cpe:2.3:a:oracle:java_se:1.8.0:update411:*:*:*:*:*:*"
        );
        assert!(
            p.cpes
                .contains(&"cpe:2.3:a:oracle:jre:1.8.0:update411:*:*:*:*:*:*".to_string())
        );
    }

    #[test]
    fn synthetic_oracle_jre_image_type() {
        let p = pkg(
            "IMPLEMENTOR=\"Oracle Corporation\"\nJAVA_VERSION=\"22.0.2\"\nJAVA_RUNTIME_VERSION=\"22.0.2+9-70\"\nIMAGE_TYPE=\"JRE\"\n",
            "/opt/jre/release",
            false,
        );
        assert_eq!(p.name, "jre");
        assert_eq!(p.purl, "pkg:generic/oracle/jre@22.0.2%2B9-70");
    }

    #[test]
    fn synthetic_corretto_zulu_semeru() {
        let p = pkg(
            "IMPLEMENTOR=\"Amazon.com Inc.\"\nIMPLEMENTOR_VERSION=\"Corretto-17.0.12.7.1\"\nJAVA_RUNTIME_VERSION=\"17.0.12+7-LTS\"\nJAVA_VERSION=\"17.0.12\"\n",
            "/usr/lib/jvm/java-17-amazon-corretto/release",
            true,
        );
        assert_eq!(p.name, "openjdk");
        assert_eq!(p.cpes[1], "cpe:2.3:a:amazon:corretto:17.0.12:*:*:*:*:*:*:*");
        let p = pkg(
            "IMPLEMENTOR=\"Azul Systems, Inc.\"\nJAVA_RUNTIME_VERSION=\"11.0.24+8-LTS\"\nJAVA_VERSION=\"11.0.24\"\n",
            "/usr/lib/jvm/zulu11/release",
            true,
        );
        assert_eq!(p.name, "zulu");
        assert_eq!(p.purl, "pkg:generic/azul/zulu@11.0.24%2B8-LTS");
        let p = pkg(
            "IMPLEMENTOR=\"IBM Corporation\"\nIMPLEMENTOR_VERSION=\"IBM_Semeru_Runtime_Open_Edition-17.0.11+9\"\nJAVA_VERSION=\"17.0.11\"\nFULL_VERSION=\"17.0.11+9\"\n",
            "/opt/java/openjdk/release",
            false,
        );
        assert_eq!(
            (p.name.as_str(), p.version.as_str()),
            ("openjdk", "17.0.11+9")
        );
    }

    #[test]
    fn synthetic_not_a_jvm_release() {
        assert!(parse_release("VERSION=1.2\nNAME=foo\n").is_none());
        assert_eq!(
            cpe_version_update("1.8.0_052-b08").1.as_deref(),
            Some("update52")
        );
    }
}
