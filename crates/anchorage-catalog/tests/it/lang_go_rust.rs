//! Go build info from real Debian Go binaries (umoci, skopeo, docker-registry: GOPATH builds
//! of go1.19.8), go.mod/go.sum, and Rust Cargo.lock / cargo-auditable data.
#![allow(clippy::unwrap_used)]

use crate::lang_support;

use anchorage_catalog::PackageMetadata;
use anchorage_image::MemFs;
use anchorage_types::PackageType;
use lang_support::{host_file, run};

fn go_binary(path: &str, apt: &str, main: &str) {
    let Some(bytes) = host_file(path, apt) else {
        return;
    };
    let mut fs = MemFs::new();
    fs.add_file(path, bytes);
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let go: Vec<_> = pkgs
        .iter()
        .filter(|p| p.package_type == PackageType::Go)
        .collect();
    // Debian builds these in GOPATH mode: no `mod`/`dep` lines, so only the stdlib is known.
    assert_eq!(go.len(), 1, "{go:?}");
    let p = go[0];
    assert_eq!(
        (p.name.as_str(), p.version.as_str()),
        ("stdlib", "go1.19.8")
    );
    assert_eq!(p.purl, "pkg:golang/stdlib@1.19.8");
    let PackageMetadata::Go(m) = &p.metadata else {
        panic!()
    };
    assert_eq!(m.main_module.as_deref(), Some(main));
    assert_eq!(
        m.build_settings.get("GOOS").map(String::as_str),
        Some("linux")
    );
    assert_eq!(
        m.build_settings.get("-compiler").map(String::as_str),
        Some("gc")
    );
}

#[test]
fn real_go_binary_umoci() {
    go_binary(
        "/usr/bin/umoci",
        "umoci",
        "github.com/opencontainers/umoci/cmd/umoci",
    );
}

#[test]
fn real_go_binary_skopeo() {
    go_binary(
        "/usr/bin/skopeo",
        "skopeo",
        "github.com/containers/skopeo/cmd/skopeo",
    );
}

#[test]
fn real_go_binary_docker_registry() {
    go_binary(
        "/usr/bin/docker-registry",
        "docker-registry",
        "github.com/docker/distribution/cmd/registry",
    );
}

#[test]
fn synthetic_corrupt_go_binary_is_a_warning_not_a_crash() {
    let Some(mut bytes) = host_file("/usr/bin/umoci", "umoci") else {
        return;
    };
    // Smash the ELF section header table offset and cut the file: the magic is still present.
    bytes[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
    let magic = bytes
        .windows(14)
        .position(|w| w == b"\xff Go buildinf:")
        .unwrap();
    bytes.truncate(magic + 40);
    let mut fs = MemFs::new();
    fs.add_file("/bin/broken", bytes);
    let (pkgs, ctx) = run(&fs);
    assert!(pkgs.is_empty());
    assert_eq!(ctx.warnings.len(), 1, "{:?}", ctx.warnings);
    assert_eq!(ctx.warnings[0].path.as_deref(), Some("/bin/broken"));
}

#[test]
fn go_mod_and_go_sum() {
    // Synthetic: no real go.mod/go.sum pair is in the corpus.
    let mut fs = MemFs::new();
    fs.add_file(
        "/src/app/go.mod",
        b"module example.com/app\n\ngo 1.21\n\nrequire (\n\tgithub.com/pkg/errors v0.9.1\n\tgolang.org/x/sys v0.15.0 // indirect\n)\n".to_vec(),
    );
    fs.add_file(
        "/src/app/go.sum",
        b"github.com/pkg/errors v0.9.1 h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=\ngithub.com/pkg/errors v0.9.1/go.mod h1:bwawxfHBFNV+L2hUp1rHADufV3IMtnDRdf1r5NINEl0=\n".to_vec(),
    );
    let (pkgs, _) = run(&fs);
    let mut got: Vec<_> = pkgs
        .iter()
        .map(|p| (p.name.as_str(), p.version.as_str(), p.purl.as_str()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            (
                "github.com/pkg/errors",
                "v0.9.1",
                "pkg:golang/github.com/pkg/errors@v0.9.1"
            ),
            (
                "golang.org/x/sys",
                "v0.15.0",
                "pkg:golang/golang.org/x/sys@v0.15.0"
            )
        ]
    );
    let e = pkgs
        .iter()
        .find(|p| p.name == "github.com/pkg/errors")
        .unwrap();
    let PackageMetadata::Go(m) = &e.metadata else {
        panic!()
    };
    assert_eq!(
        m.sum.as_deref(),
        Some("h1:FEBLx1zS214owpjy7qsBeixbURkuhQAwrK5UwLGTwt4=")
    );
}

#[test]
fn real_cargo_lock_of_this_workspace() {
    let lock = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock")).unwrap();
    let text = String::from_utf8(lock.clone()).unwrap();
    let expected = text.matches("[[package]]").count();
    let mut fs = MemFs::new();
    fs.add_file("/build/Cargo.lock", lock);
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty());
    assert_eq!(pkgs.len(), expected);
    let serde = pkgs.iter().find(|p| p.name == "serde").unwrap();
    assert!(serde.purl.starts_with("pkg:cargo/serde@1."));
    let PackageMetadata::Rust(m) = &serde.metadata else {
        panic!()
    };
    assert_eq!(
        m.source.as_deref(),
        Some("registry+https://github.com/rust-lang/crates.io-index")
    );
    assert_eq!(m.checksum.as_ref().map(String::len), Some(64));
}

#[test]
fn synthetic_malformed_cargo_lock_is_a_warning() {
    let mut fs = MemFs::new();
    fs.add_file(
        "/x/Cargo.lock",
        b"[[package]]\nname = \"a\"\nversion = 1\n[[[".to_vec(),
    );
    let (pkgs, ctx) = run(&fs);
    assert!(pkgs.is_empty());
    assert_eq!(ctx.warnings.len(), 1);
}

#[test]
fn synthetic_cargo_auditable_section_in_a_real_elf() {
    // Real ELF (coreutils `true`) + a `.dep-v0` section whose JSON we wrote (PROVENANCE.md).
    let mut fs = MemFs::new();
    fs.add_file(
        "/usr/local/bin/demo",
        std::fs::read(lang_support::fixture("true-with-dep-v0.elf")).unwrap(),
    );
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut got: Vec<_> = pkgs
        .iter()
        .filter(|p| p.package_type == PackageType::Rust)
        .map(|p| p.name.as_str())
        .collect();
    got.sort_unstable();
    // `cc` is a build dependency and is left out.
    assert_eq!(
        got,
        [
            "h5-auditable-demo",
            "itoa",
            "memchr",
            "ryu",
            "serde",
            "serde_json"
        ]
    );
    let serde = pkgs.iter().find(|p| p.name == "serde").unwrap();
    assert_eq!(serde.locations[0].path, "/usr/local/bin/demo");
    assert!(serde.purl.starts_with("pkg:cargo/serde@1.0."));
}

#[test]
fn real_module_mode_go_binary_with_a_replace() {
    // Built here by Debian's go1.19.8 in module mode (tests/fixtures/lang/PROVENANCE.md).
    let mut fs = MemFs::new();
    fs.add_file(
        "/usr/local/bin/go-fixture",
        std::fs::read(lang_support::fixture("go-modules-replace.elf")).unwrap(),
    );
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut got: Vec<_> = pkgs
        .iter()
        .map(|p| format!("{} {} {}", p.name, p.version, p.purl))
        .collect();
    got.sort();
    // `dep example.org/greet v1.2.3` is followed by `=> ../greet (devel)`: the replacement wins
    // (as in Syft), so the module is not reported as `example.org/greet@v1.2.3`.
    assert_eq!(
        got,
        [
            "../greet (devel) pkg:golang/../greet@%28devel%29",
            "example.org/anchorage-fixture (devel) pkg:golang/example.org/anchorage-fixture@%28devel%29",
            "stdlib go1.19.8 pkg:golang/stdlib@1.19.8",
        ]
    );
    let std = pkgs.iter().find(|p| p.name == "stdlib").unwrap();
    let PackageMetadata::Go(m) = &std.metadata else {
        panic!()
    };
    assert_eq!(
        m.main_module.as_deref(),
        Some("example.org/anchorage-fixture")
    );
    assert_eq!(
        m.build_settings.get("CGO_ENABLED").map(String::as_str),
        Some("0")
    );
    assert_eq!(
        m.build_settings.get("-trimpath").map(String::as_str),
        Some("true")
    );
}
