//! The whole analysis over a real root file system (the official Alpine 3.20.3 minirootfs from
//! the corpus) and hostile inputs: files, secrets, retrieved files, image metadata, Dockerfile,
//! ownership dedup and warnings.

#![expect(
    clippy::unwrap_used,
    reason = "fixture helpers: a missing corpus file should fail the test loudly"
)]

use std::io::Read;

use anchorage_catalog::{
    Analysis, CatalogOptions, DockerfileMode, PackageMetadata, catalog, reconstruct_dockerfile,
};
use anchorage_image::{AcquiredImage, LayerRef, MemFs};
use anchorage_types::{Digest, PackageType, Platform};
use base64::Engine as _;
use serde_json::Value;

const ALPINE_DIFF_ID: &str =
    "sha256:6f866a59756ecf8548fec2693f23a361fd14c744fe09cc20f16dac0ded31cca1";

use anchorage_testkit::corpus_dir as corpus;

/// The real minirootfs tarball loaded into a MemFs as one layer with its real diff_id.
fn alpine_rootfs() -> MemFs {
    let gz =
        std::fs::read(corpus().join("images/alpine-3.20/alpine-minirootfs-3.20.3-x86_64.tar.gz"))
            .unwrap();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&gz[..]));
    let mut fs = MemFs::new();
    fs.set_layers(vec![LayerRef {
        digest: None,
        diff_id: Some(ALPINE_DIFF_ID.parse().unwrap()),
    }]);
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = format!("/{}", entry.path().unwrap().display());
        let mode = entry.header().mode().unwrap();
        match entry.header().entry_type() {
            tar::EntryType::Regular => {
                let mut content = Vec::new();
                entry.read_to_end(&mut content).unwrap();
                fs.add_file_in_layer(&path, content, mode, 0);
            }
            tar::EntryType::Directory => {
                fs.add_dir(&path);
            }
            tar::EntryType::Symlink => {
                let target = entry.link_name().unwrap().unwrap().display().to_string();
                fs.add_symlink(&path, &target);
            }
            other => panic!("unexpected entry type {other:?} in minirootfs"),
        }
    }
    fs
}

fn alpine_image() -> AcquiredImage {
    let dir = corpus().join("images/alpine-3.20/oci");
    let manifest = std::fs::read_to_string(dir.join("manifest.json")).unwrap();
    let config = std::fs::read_to_string(dir.join("config.json")).unwrap();
    AcquiredImage {
        scheme: "oci-dir".into(),
        input: "oci-dir:corpus/alpine-3.20".into(),
        reference: None,
        manifest_digest: None,
        index_digest: None,
        manifest_json: Some(manifest),
        config_digest: None,
        config_json: Some(config),
        platform: Platform::linux_amd64(),
        layers: Vec::new(),
        root_dir: None,
    }
}

fn analyze(fs: &MemFs, options: &CatalogOptions) -> Analysis {
    catalog(fs, &alpine_image(), options)
}

#[test]
fn alpine_minirootfs_full_analysis() {
    let fs = alpine_rootfs();
    let a = analyze(&fs, &CatalogOptions::default());
    assert!(a.warnings.is_empty(), "{:?}", a.warnings);
    assert_eq!(a.distro.id, "alpine");
    assert_eq!(a.distro.version_id.as_deref(), Some("3.20.3"));
    let apk: Vec<_> = a
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Apk)
        .collect();
    assert_eq!(apk.len(), 14);
    // busybox and libcrypto are recognised by the binary classifiers too, but apk owns those
    // files: the binary hits are dropped (as Syft does), so the same software is listed once.
    let binaries: Vec<_> = a
        .packages
        .iter()
        .filter(|p| p.package_type == PackageType::Binary)
        .map(|p| (&p.name, &p.locations[0].path))
        .collect();
    assert!(binaries.is_empty(), "{binaries:?}");
    assert_eq!(
        apk[0].locations[0].layer.as_ref().unwrap().to_string(),
        ALPINE_DIFF_ID
    );
    // Image metadata from the real OCI manifest and config.
    assert_eq!(
        (a.image.os.as_str(), a.image.architecture.as_str()),
        ("linux", "amd64")
    );
    assert_eq!(a.image.layer_count, 1);
    assert_eq!(a.image.image_size, 3_731_865);
    assert_eq!(a.image.config.cmd, vec!["/bin/sh"]);
    assert_eq!(
        a.image.layers[0]
            .diff_id
            .as_ref()
            .map(Digest::to_string)
            .as_deref(),
        Some(ALPINE_DIFF_ID)
    );
    assert_eq!(
        a.image.layers[0].created_by.as_deref(),
        Some("ADD alpine-minirootfs-3.20 x86_64")
    );
    let dockerfile = a.image.dockerfile.as_ref().unwrap();
    assert_eq!(dockerfile.mode, DockerfileMode::Guessed);
    assert_eq!(
        dockerfile.text,
        "FROM scratch\n# umoci config\nADD alpine-minirootfs-3.20 x86_64\n"
    );
    // Retrieved /etc/passwd is the real file.
    let passwd = a
        .retrieved_files
        .iter()
        .find(|r| r.path == "/etc/passwd")
        .unwrap();
    let content = base64::engine::general_purpose::STANDARD
        .decode(&passwd.content_b64)
        .unwrap();
    assert!(content.starts_with(b"root:x:0:0:"));
    assert!(a.secrets.is_empty(), "{:?}", a.secrets);
}

#[test]
fn file_records_equal_syft_for_every_package_owned_file() {
    let fs = alpine_rootfs();
    let a = analyze(&fs, &CatalogOptions::default());
    let bytes = std::fs::read(corpus().join("syft/alpine-3.20.syft.json")).unwrap();
    let doc: Value = serde_json::from_slice(&bytes).unwrap();
    let syft_files = doc["files"].as_array().unwrap();
    assert_eq!(syft_files.len(), 77);
    for f in syft_files {
        let path = f["location"]["path"].as_str().unwrap();
        let ours = a
            .files
            .iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("{path} missing"));
        let sha = f["digests"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["algorithm"] == "sha256")
            .unwrap();
        assert_eq!(ours.sha256.as_deref(), sha["value"].as_str(), "{path}");
        assert_eq!(ours.size, f["metadata"]["size"].as_u64().unwrap(), "{path}");
        // Syft prints the octal mode digits as a decimal number.
        assert_eq!(
            format!("{:o}", ours.mode & 0o7777),
            f["metadata"]["mode"].to_string(),
            "{path}"
        );
        assert_eq!(ours.file_type, "file");
        assert_eq!(
            ours.layer.as_ref().map(Digest::to_string).as_deref(),
            f["location"]["layerID"].as_str()
        );
        // Syft lists the package database too (as evidence of every package); no package
        // declares it as its own file, so it has no owner in our records.
        if path == "/lib/apk/db/installed" {
            assert_eq!(ours.owner, None);
        } else {
            assert!(ours.owner.is_some(), "{path} has no owning package");
        }
    }
    let busybox = a.packages.iter().find(|p| p.name == "busybox").unwrap();
    let rec = a.files.iter().find(|r| r.path == "/bin/busybox").unwrap();
    assert_eq!(rec.owner.as_deref(), Some(busybox.id.as_str()));
    let link = a.files.iter().find(|r| r.path == "/bin/sh").unwrap();
    assert_eq!(
        (link.file_type.as_str(), link.link_target.as_deref()),
        ("slink", Some("/bin/busybox"))
    );
    assert!(
        a.files
            .iter()
            .any(|r| r.path == "/etc" && r.file_type == "dir")
    );
}

#[test]
fn synthetic_secrets_record_rule_and_line_never_text() {
    let mut fs = alpine_rootfs();
    fs.add_file("/root/.aws/credentials", "[default]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\n");
    fs.add_file(
        "/app/id_rsa",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\n",
    );
    fs.add_file(
        "/root/.docker/config.json",
        "{\"auths\": {\"registry.example\": {\"auth\": \"dXNlcjpwYXNz\"}}}",
    );
    fs.add_file(
        "/app/settings.py",
        "x = 1\nAPI_KEY = 'abcd1234abcd1234abcd'\n",
    );
    let mut binary = b"\0\x7fELF".to_vec();
    binary.extend_from_slice(b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE\n");
    fs.add_file("/app/binary", binary);
    let mut big = vec![b'x'; 2048];
    big.extend_from_slice(b"\n-----BEGIN PRIVATE KEY-----\n");
    fs.add_file("/app/big.txt", big);
    let mut options = CatalogOptions::default();
    options.secrets.max_file_size = 1024;
    options.content_search = vec![
        ("EXAMPLE".into(), "EXAMPLE".into()),
        ("bad".into(), "(".into()),
    ];
    let a = analyze(&fs, &options);
    let rules = |path: &str| {
        let mut r: Vec<(String, Vec<u64>)> = a
            .secrets
            .iter()
            .filter(|h| h.path == path)
            .map(|h| (h.rule.clone(), h.lines.clone()))
            .collect();
        r.sort();
        r
    };
    assert_eq!(
        rules("/root/.aws/credentials"),
        vec![
            ("AWS_ACCESS_KEY".into(), vec![2]),
            ("AWS_SECRET_KEY".into(), vec![3])
        ]
    );
    assert_eq!(rules("/app/id_rsa"), vec![("PRIV_KEY".into(), vec![1])]);
    assert_eq!(
        rules("/root/.docker/config.json"),
        vec![("DOCKER_AUTH".into(), vec![1])]
    );
    assert_eq!(rules("/app/settings.py"), vec![("API_KEY".into(), vec![2])]);
    assert!(rules("/app/binary").is_empty(), "binary files are skipped");
    assert!(
        rules("/app/big.txt").is_empty(),
        "oversized files are skipped"
    );
    let content: Vec<_> = a
        .content_hits
        .iter()
        .map(|h| (h.path.as_str(), h.lines.clone()))
        .collect();
    assert!(content.contains(&("/root/.aws/credentials", vec![2, 3])));
    assert!(
        a.warnings
            .iter()
            .any(|w| w.stage == "secrets" && w.message.contains("rule bad"))
    );
    let json = serde_json::to_string(&a.secrets).unwrap();
    assert!(!json.contains("AKIA") && !json.contains("wJalr") && !json.contains("dXNlcjpwYXNz"));
}

#[test]
fn synthetic_malformed_databases_warn_and_analysis_goes_on() {
    let mut fs = alpine_rootfs();
    fs.add_file("/var/lib/dpkg/status", b"Package: ok-pkg\nVersion: 1.0\nArchitecture: all\n\nPackage: \xff\xfebad\n\nnot a field line\n\xc3\x28 broken\n".to_vec());
    fs.add_file("/var/lib/rpm/Packages", vec![0u8; 4096]);
    fs.add_file(
        "/var/lib/rpm/rpmdb.sqlite",
        b"SQLite format 3\0 truncated".to_vec(),
    );
    let mut options = CatalogOptions::default();
    options.retrieve_files.push("/bin/busybox".into());
    options.retrieve_max_bytes = 4096;
    let a = analyze(&fs, &options);
    assert_eq!(
        a.packages
            .iter()
            .filter(|p| p.package_type == PackageType::Apk)
            .count(),
        14
    );
    assert!(a.packages.iter().any(|p| p.name == "ok-pkg"));
    let stages: Vec<(&str, Option<&str>)> = a
        .warnings
        .iter()
        .map(|w| (w.stage.as_str(), w.path.as_deref()))
        .collect();
    assert!(
        stages.contains(&("dpkg", Some("/var/lib/dpkg/status"))),
        "{stages:?}"
    );
    assert!(
        a.warnings
            .iter()
            .any(|w| w.message.contains("invalid UTF-8"))
    );
    assert!(
        stages.contains(&("rpm", Some("/var/lib/rpm/Packages"))),
        "{stages:?}"
    );
    assert!(
        stages.contains(&("rpm", Some("/var/lib/rpm/rpmdb.sqlite"))),
        "{stages:?}"
    );
    assert!(
        stages.contains(&("retrieve_files", Some("/bin/busybox"))),
        "{stages:?}"
    );
    assert!(a.retrieved_files.iter().any(|r| r.path == "/etc/passwd"));
}

#[test]
fn actual_dockerfile_is_kept_and_history_forms_are_reconstructed() {
    let fs = alpine_rootfs();
    let mut options = CatalogOptions {
        dockerfile: Some("FROM alpine:3.20\nRUN true\n".into()),
        file_digests: false,
        ..CatalogOptions::default()
    };
    options.secrets.enabled = false;
    let a = analyze(&fs, &options);
    let d = a.image.dockerfile.as_ref().unwrap();
    assert_eq!(d.mode, DockerfileMode::Actual);
    assert_eq!(d.text, "FROM alpine:3.20\nRUN true\n");
    assert!(a.files.iter().all(|f| f.sha256.is_none()));
    // The history of the bookworm-app corpus image.
    let config: Value = serde_json::from_str(
        &std::fs::read_to_string(corpus().join("images/debian-bookworm-app/oci/config.json"))
            .unwrap(),
    )
    .unwrap();
    let history: Vec<anchorage_catalog::HistoryEntry> =
        serde_json::from_value(config["history"].clone()).unwrap();
    let text = reconstruct_dockerfile(&history);
    assert_eq!(
        text.lines().collect::<Vec<_>>(),
        vec![
            "FROM scratch",
            "# umoci config",
            "RUN debootstrap --variant=minbase bookworm",
            "RUN apt-get install python3 python3-venv python3-yaml libjackson2-databind-java; venv pip install; npm install; copy log4j jars; rm usr/share/man usr/share/doc/debconf",
            "# umoci config",
        ]
    );
}

#[test]
fn dpkg_owned_python_package_is_kept_with_its_owner_unless_dropping_is_asked_for() {
    // Real bookworm-app files; the python3-yaml file list is synthetic (the corpus has no
    // info/*.list) and names the dist-info files as Debian's real list does.
    let root = corpus().join("images/debian-bookworm-app");
    let mut fs = MemFs::new();
    let dist_info = "/usr/lib/python3/dist-packages/PyYAML-6.0.dist-info";
    for rel in ["etc/os-release", "var/lib/dpkg/status"] {
        fs.add_file(&format!("/{rel}"), std::fs::read(root.join(rel)).unwrap());
    }
    fs.add_file(
        &format!("{dist_info}/METADATA"),
        std::fs::read(root.join(&dist_info[1..]).join("METADATA")).unwrap(),
    );
    fs.add_file(
        "/var/lib/dpkg/info/python3-yaml.list",
        format!("/.\n/usr\n/usr/lib/python3/dist-packages\n{dist_info}\n{dist_info}/METADATA\n"),
    );
    let image = AcquiredImage {
        config_json: None,
        manifest_json: None,
        ..alpine_image()
    };
    let options = CatalogOptions {
        report_owned_language_packages: false,
        ..CatalogOptions::default()
    };
    let dropped = catalog(&fs, &image, &options);
    let pyyaml = |a: &Analysis| {
        a.packages
            .iter()
            .find(|p| {
                p.package_type == PackageType::Python && p.name.eq_ignore_ascii_case("pyyaml")
            })
            .cloned()
    };
    assert!(pyyaml(&dropped).is_none());
    // The default keeps owned packages, attributed to their owner (as Syft 1.18.1 does).
    let kept = catalog(&fs, &image, &CatalogOptions::default());
    let p = pyyaml(&kept).expect("python cataloger reports PyYAML when owned packages are kept");
    let owner = kept
        .packages
        .iter()
        .find(|o| o.name == "python3-yaml")
        .unwrap();
    assert_eq!(p.owner.as_deref(), Some(owner.id.as_str()));
    let PackageMetadata::Dpkg(m) = &owner.metadata else {
        panic!()
    };
    assert!(m.files.iter().any(|f| f.path.ends_with("METADATA")));
}

#[test]
fn merged_usr_files_are_owned_through_the_bin_symlink() {
    // This machine's real Debian 12 data: bash.list names /bin/bash, the tree (merged /usr)
    // holds /usr/bin/bash under a /bin -> usr/bin symlink.
    let mut fs = MemFs::new();
    fs.add_file("/etc/os-release", std::fs::read("/etc/os-release").unwrap());
    fs.add_file(
        "/var/lib/dpkg/status",
        std::fs::read("/var/lib/dpkg/status").unwrap(),
    );
    fs.add_file(
        "/var/lib/dpkg/info/bash.list",
        std::fs::read("/var/lib/dpkg/info/bash.list").unwrap(),
    );
    fs.add_symlink("/bin", "usr/bin");
    fs.add_file_in_layer(
        "/usr/bin/bash",
        std::fs::read("/usr/bin/bash").unwrap(),
        0o755,
        0,
    );
    let image = AcquiredImage {
        config_json: None,
        manifest_json: None,
        ..alpine_image()
    };
    let options = CatalogOptions {
        secrets: anchorage_catalog::SecretsOptions {
            enabled: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let a = catalog(&fs, &image, &options);
    let bash = a
        .packages
        .iter()
        .find(|p| p.name == "bash" && p.package_type == PackageType::Dpkg)
        .unwrap();
    let rec = a.files.iter().find(|f| f.path == "/usr/bin/bash").unwrap();
    assert_eq!(rec.owner.as_deref(), Some(bash.id.as_str()));
    assert_eq!(rec.mode, 0o755);
    let link = a.files.iter().find(|f| f.path == "/bin").unwrap();
    assert_eq!(link.file_type, "slink");
}

#[test]
fn merged_usr_binary_owned_through_a_symlinked_dir_is_listed_once() {
    // This machine's real bash: its dpkg stanza and file list (which names `/bin/bash`) and the
    // binary itself at `/usr/bin/bash`, with Debian's merged-/usr `/bin -> usr/bin` symlink.
    // Syft 1.18.1 lists bash once (the deb) on the rebuilt debian-bookworm image; the binary
    // classifier's hit on `/usr/bin/bash` is the same software and must be dropped.
    let (Ok(status), Ok(list), Ok(bash)) = (
        std::fs::read_to_string("/var/lib/dpkg/status"),
        std::fs::read_to_string("/var/lib/dpkg/info/bash.list"),
        std::fs::read("/usr/bin/bash"),
    ) else {
        assert!(
            std::env::var("CI").is_err(),
            "the host's bash and dpkg database are required in CI"
        );
        return;
    };
    let stanza = status
        .split("\n\n")
        .find(|p| p.lines().any(|l| l == "Package: bash"))
        .unwrap();
    assert!(
        list.lines().any(|l| l == "/bin/bash"),
        "bash.list names /bin/bash"
    );
    let build = |merged: bool| {
        let mut fs = MemFs::new();
        fs.add_file("/var/lib/dpkg/status", format!("{stanza}\n"));
        fs.add_file("/var/lib/dpkg/info/bash.list", list.clone());
        fs.add_file("/usr/bin/bash", bash.clone());
        if merged {
            fs.add_symlink("/bin", "usr/bin");
        }
        fs
    };
    let image = AcquiredImage {
        config_json: None,
        manifest_json: None,
        ..alpine_image()
    };
    let kinds = |fs: &MemFs| {
        let a = catalog(fs, &image, &CatalogOptions::default());
        let mut v: Vec<(PackageType, String)> = a
            .packages
            .iter()
            .filter(|p| p.name == "bash")
            .map(|p| (p.package_type, p.name.clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(
        kinds(&build(true)),
        vec![(PackageType::Dpkg, "bash".into())]
    );
    // Without the symlink nothing in the tree is `/bin/bash`: the binary is not dpkg's file as
    // far as the tree shows, and the classifier's hit stays.
    assert_eq!(
        kinds(&build(false)),
        vec![
            (PackageType::Dpkg, "bash".into()),
            (PackageType::Binary, "bash".into())
        ]
    );
}
