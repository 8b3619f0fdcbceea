//! Java archives: real jars from the host (Debian's libguava-java and libcommons-io-java),
//! jars rebuilt from the corpus META-INF content, nested archives and hostile zips.
#![allow(clippy::unwrap_used)]

use crate::lang_support;

use std::io::Write;

use anchorage_catalog::{LangLimits, PackageMetadata};
use anchorage_image::MemFs;
use anchorage_types::PackageType;
use lang_support::{corpus, corpus_app_fs, host_file, jar_from_dir, run, run_with, zip_of};
use sha1::{Digest, Sha1};

const GUAVA: &str = "/usr/share/java/guava-31.1-jre.jar";
const COMMONS_IO: &str = "/usr/share/java/commons-io-2.11.0.jar";

#[test]
fn corpus_log4j_core_fields_of_the_java_content_row() {
    let (pkgs, _) = run(&corpus_app_fs());
    let p = pkgs.iter().find(|p| p.name == "log4j-core").unwrap();
    assert_eq!(p.version, "2.19.0");
    assert_eq!(
        p.purl,
        "pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0"
    );
    assert!(
        p.cpes
            .contains(&"cpe:2.3:a:apache:log4j-core:2.19.0:*:*:*:*:*:*:*".to_string())
    );
    let PackageMetadata::Java(m) = &p.metadata else {
        panic!()
    };
    assert_eq!(m.archive_type, "JAVA-JAR");
    assert_eq!(m.maven_version.as_deref(), Some("2.19.0"));
    assert_eq!(m.implementation_version.as_deref(), Some("2.19.0"));
    assert_eq!(m.specification_version.as_deref(), Some("2.19.0"));
    assert_eq!(m.group_id.as_deref(), Some("org.apache.logging.log4j"));
    assert_eq!(
        m.manifest.get("Bundle-SymbolicName").map(String::as_str),
        Some("org.apache.logging.log4j.core")
    );
    let jd = pkgs.iter().find(|p| p.name == "jackson-databind").unwrap();
    let PackageMetadata::Java(m) = &jd.metadata else {
        panic!()
    };
    // continuation lines of the manifest are joined
    assert!(m.manifest["Class-Path"].ends_with("/usr/share/java/jackson-core.jar"));
}

#[test]
fn real_host_jar_guava() {
    let Some(bytes) = host_file(GUAVA, "libguava-java") else {
        return;
    };
    let mut fs = MemFs::new();
    fs.add_file(GUAVA, bytes.clone());
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    assert_eq!(pkgs.len(), 1);
    let p = &pkgs[0];
    assert_eq!((p.name.as_str(), p.version.as_str()), ("guava", "31.1-jre"));
    assert_eq!(p.purl, "pkg:maven/com.google.guava/guava@31.1-jre");
    let PackageMetadata::Java(m) = &p.metadata else {
        panic!()
    };
    let sha1: String = Sha1::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(m.sha1.as_deref(), Some(sha1.as_str()));
}

#[test]
fn war_with_real_nested_jars_reports_each_with_its_virtual_path() {
    let Some(guava) = host_file(GUAVA, "libguava-java") else {
        return;
    };
    let Some(cio) = host_file(COMMONS_IO, "libcommons-io-java") else {
        return;
    };
    // A real-content container: the two Debian jars under WEB-INF/lib of a war.
    let war = zip_of(&[
        ("WEB-INF/lib/guava-31.1-jre.jar", &guava),
        ("WEB-INF/lib/commons-io-2.11.0.jar", &cio),
        ("WEB-INF/web.xml", b"<web-app/>"),
    ]);
    let mut fs = MemFs::new();
    fs.add_file("/srv/app-1.2.war", war);
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut got: Vec<_> = pkgs
        .iter()
        .map(|p| {
            let PackageMetadata::Java(m) = &p.metadata else {
                panic!()
            };
            (
                p.name.clone(),
                p.version.clone(),
                m.archive_type.clone(),
                m.virtual_path.clone(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            ("app".into(), "1.2".into(), "JAVA-WAR".into(), None),
            (
                "commons-io".into(),
                "2.11.0".into(),
                "JAVA-JAR".into(),
                Some("/srv/app-1.2.war:WEB-INF/lib/commons-io-2.11.0.jar".into())
            ),
            (
                "guava".into(),
                "31.1-jre".into(),
                "JAVA-JAR".into(),
                Some("/srv/app-1.2.war:WEB-INF/lib/guava-31.1-jre.jar".into())
            ),
        ]
    );
    // Each package is located in its own archive, nested ones as `outer.war:inner.jar`
    // (Anchore's form, used by the `vulnerabilities/package` trigger id).
    let mut locations: Vec<_> = pkgs
        .iter()
        .map(|p| (p.name.as_str(), p.locations[0].path.as_str()))
        .collect();
    locations.sort();
    assert_eq!(
        locations,
        vec![
            ("app", "/srv/app-1.2.war"),
            (
                "commons-io",
                "/srv/app-1.2.war:WEB-INF/lib/commons-io-2.11.0.jar"
            ),
            ("guava", "/srv/app-1.2.war:WEB-INF/lib/guava-31.1-jre.jar"),
        ]
    );
}

#[test]
fn manifest_only_jar_uses_manifest_and_file_name() {
    let Some(b) = host_file(
        "/usr/share/maven-repo/javax/inject/javax.inject/1/javax.inject-1.jar",
        "libatinject-jsr330-api-java",
    ) else {
        return;
    };
    let mut fs = MemFs::new();
    fs.add_file("/lib/javax.inject-1.jar", b);
    let (pkgs, _) = run(&fs);
    assert_eq!(pkgs.len(), 1);
    assert_eq!(
        (pkgs[0].name.as_str(), pkgs[0].version.as_str()),
        ("javax.inject", "1")
    );
}

#[test]
fn python_egg_zip_from_real_pkg_info() {
    let pkg_info = std::fs::read(
        corpus().join("images/debian-bookworm-app/opt/app/venv/lib/python3.11/site-packages/PyYAML-5.3.1.egg-info/PKG-INFO"),
    )
    .unwrap();
    let egg = zip_of(&[("EGG-INFO/PKG-INFO", &pkg_info), ("yaml/__init__.py", b"")]);
    let mut fs = MemFs::new();
    fs.add_file(
        "/usr/lib/python3/site-packages/PyYAML-5.3.1-py3.11.egg",
        egg,
    );
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    assert_eq!(pkgs.len(), 1);
    assert_eq!(
        (pkgs[0].package_type, pkgs[0].name.as_str()),
        (PackageType::Python, "pyyaml")
    );
}

fn deflated(name: &str, data_len: usize) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .large_file(true);
    w.start_file(name, opts).unwrap();
    let chunk = vec![0u8; 1 << 20];
    let mut left = data_len;
    while left > 0 {
        let n = left.min(chunk.len());
        w.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    w.finish().unwrap().into_inner()
}

#[test]
fn synthetic_zip_bomb_is_refused_with_a_warning() {
    // 300 MiB of zeros deflate to ~300 KiB: ratio ~1000.
    let bomb = deflated("META-INF/maven/g/a/pom.properties", 300 << 20);
    let jar = zip_of(&[("lib/inner.jar", &bomb)]);
    let mut fs = MemFs::new();
    fs.add_file("/a/bomb.jar", bomb);
    fs.add_file("/a/outer.jar", jar);
    let start = std::time::Instant::now();
    let (_, ctx) = run(&fs);
    assert!(start.elapsed().as_secs() < 30);
    let msgs: Vec<_> = ctx
        .warnings
        .iter()
        .map(|w| format!("{:?} {}", w.path, w.message))
        .collect();
    assert!(
        msgs.iter()
            .filter(|m| m.contains("zip bomb") || m.contains("exceeds"))
            .count()
            >= 2,
        "{msgs:?}"
    );
}

#[test]
fn synthetic_dot_dot_names_and_garbage_are_warnings() {
    let evil = zip_of(&[
        ("../../etc/passwd.jar", b"x"),
        (
            "META-INF/MANIFEST.MF",
            b"Implementation-Title: evil\nImplementation-Version: 1\n",
        ),
    ]);
    let mut fs = MemFs::new();
    fs.add_file("/x/evil-1.0.jar", evil);
    fs.add_file("/x/garbage.jar", b"PK\x03\x04 this is not a zip".to_vec());
    let (pkgs, ctx) = run(&fs);
    assert!(
        ctx.warnings
            .iter()
            .any(|w| w.message.contains("escapes the archive root")),
        "{:?}",
        ctx.warnings
    );
    assert!(
        ctx.warnings
            .iter()
            .any(|w| w.path.as_deref() == Some("/x/garbage.jar"))
    );
    assert_eq!(pkgs.len(), 1, "the evil jar itself is still reported");
}

#[test]
fn synthetic_deep_nesting_stops_at_the_depth_limit() {
    let mut inner =
        jar_from_dir(&corpus().join("images/debian-bookworm-app/jar-metadata/log4j-core"));
    for i in 0..8 {
        inner = zip_of(&[(&format!("lib/level{i}.jar"), &inner)]);
    }
    let mut fs = MemFs::new();
    fs.add_file("/deep/outer.jar", inner);
    let limits = LangLimits {
        max_archive_depth: 3,
        ..LangLimits::default()
    };
    let (pkgs, ctx) = run_with(&fs, &limits);
    assert!(
        ctx.warnings
            .iter()
            .any(|w| w.message.contains("nested deeper than 3")),
        "{:?}",
        ctx.warnings
    );
    assert_eq!(pkgs.len(), 4, "outer + 3 nested levels");
    assert!(!pkgs.iter().any(|p| p.name == "log4j-core"));
}

#[test]
fn truncated_real_jar_is_a_warning() {
    let Some(b) = host_file(GUAVA, "libguava-java") else {
        return;
    };
    let mut fs = MemFs::new();
    fs.add_file("/t/guava-31.1-jre.jar", b[..b.len() / 2].to_vec());
    let (pkgs, ctx) = run(&fs);
    assert!(pkgs.is_empty());
    assert_eq!(ctx.warnings.len(), 1, "{:?}", ctx.warnings);
}
