//! Catalogers added for analysis breadth (issue 14): NuGet lock and nuspec, Java lock files and
//! poms, Dart, Hex, Swift, CocoaPods, Conan, vcpkg, Haskell, Lua, bun, deno; provenance of each
//! fixture in fixtures/lang/PROVENANCE.md.
#![allow(clippy::unwrap_used)]

use crate::lang_support;

use anchorage_catalog::{Package, PackageMetadata};
use anchorage_image::MemFs;
use anchorage_types::PackageType;
use lang_support::{fixture, run, zip_of};

fn read(name: &str) -> Vec<u8> {
    std::fs::read(fixture(name)).unwrap()
}

/// Runs every language cataloger, fails on warnings, returns `name@version purl` sorted.
fn summary(fs: &MemFs) -> Vec<String> {
    let (pkgs, ctx) = run(fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    summarize(&pkgs)
}

fn summarize(pkgs: &[Package]) -> Vec<String> {
    let mut v: Vec<_> = pkgs
        .iter()
        .map(|p| format!("{}@{} {}", p.name, p.version, p.purl))
        .collect();
    v.sort();
    v
}

#[test]
fn nuget_installed_nuspec_and_debian_nupkg() {
    // Debian 12's nupkg-newtonsoft.json.6.0.8 and nupkg-nunit.2.6.4 ship these nuspecs inside
    // their .nupkg files; the global packages folder holds the extracted nuspec beside the
    // .nupkg, Debian's /usr/share/nupkg only the .nupkg.
    let newtonsoft = read("nuget/Newtonsoft.Json.nuspec");
    let nunit = read("nuget/NUnit.nuspec");
    let nupkg = |nuspec_name: &str, nuspec: &[u8]| {
        zip_of(&[
            ("_rels/.rels", b"<Relationships/>".as_slice()),
            (nuspec_name, nuspec),
            ("lib/net45/x.dll", b"MZ".as_slice()),
        ])
    };
    let mut fs = MemFs::new();
    let dir = "/root/.nuget/packages/newtonsoft.json/6.0.8";
    fs.add_file(&format!("{dir}/newtonsoft.json.nuspec"), newtonsoft.clone());
    fs.add_file(
        &format!("{dir}/newtonsoft.json.6.0.8.nupkg"),
        nupkg("Newtonsoft.Json.nuspec", &newtonsoft),
    );
    fs.add_file(
        "/usr/share/nupkg/NUnit.2.6.4.nupkg",
        nupkg("NUnit.nuspec", &nunit),
    );
    assert_eq!(
        summary(&fs),
        [
            "NUnit@2.6.4 pkg:nuget/NUnit@2.6.4",
            "Newtonsoft.Json@6.0.8 pkg:nuget/Newtonsoft.Json@6.0.8",
        ],
        "the .nupkg beside an extracted .nuspec is the same package"
    );
    let (pkgs, _) = run(&fs);
    let nj = pkgs.iter().find(|p| p.name == "Newtonsoft.Json").unwrap();
    assert_eq!(nj.package_type, PackageType::Nuget);
    assert_eq!(
        nj.locations[0].path,
        format!("{dir}/newtonsoft.json.nuspec")
    );
    assert_eq!(
        nj.licenses,
        ["https://raw.github.com/JamesNK/Newtonsoft.Json/master/LICENSE.md"]
    );
    assert_eq!(
        nj.cpes[0],
        "cpe:2.3:a:newtonsoft.json:newtonsoft.json:6.0.8:*:*:*:*:*:*:*"
    );
}

#[test]
fn synthetic_nuget_packages_lock_json() {
    // Written by us from NuGet's documented packages.lock.json format (no NuGet 4.9+ client
    // or real lock file is reachable here): two target frameworks, one RID-specific section,
    // a project reference and a central transitive pin.
    let lock = br#"{
  "version": 1,
  "dependencies": {
    "net8.0": {
      "Newtonsoft.Json": {
        "type": "Direct",
        "requested": "[13.0.1, )",
        "resolved": "13.0.1",
        "contentHash": "ppPFpBcvxdsfUonNcvITKqLl3bqxWbDCZIzDWHzjpdAHRFfZe0Dw9HmA0+za13IdyrgJwpkDTDA9fHaxOrt20A=="
      },
      "System.Text.Json": {
        "type": "CentralTransitive",
        "requested": "[8.0.4, )",
        "resolved": "8.0.4",
        "contentHash": "bAkhgDJ88XTsqczoxEMliSrpijKZHhbJQldhAmObj/RbrN3sU5dcokuXmWJWsdQAhiMJ9bTayWsL1C9fbbCRhw=="
      },
      "mylib": {
        "type": "Project",
        "dependencies": {"Newtonsoft.Json": "[13.0.1, )"}
      }
    },
    "net8.0/linux-x64": {
      "Newtonsoft.Json": {"type": "Direct", "requested": "[13.0.1, )", "resolved": "13.0.1"},
      "runtime.linux-x64.Microsoft.DotNet.ILCompiler": {
        "type": "Transitive",
        "resolved": "8.0.7",
        "contentHash": "x"
      }
    }
  }
}"#;
    let mut fs = MemFs::new();
    fs.add_file("/src/app/packages.lock.json", lock.to_vec());
    assert_eq!(
        summary(&fs),
        [
            "Newtonsoft.Json@13.0.1 pkg:nuget/Newtonsoft.Json@13.0.1",
            "System.Text.Json@8.0.4 pkg:nuget/System.Text.Json@8.0.4",
            "runtime.linux-x64.Microsoft.DotNet.ILCompiler@8.0.7 pkg:nuget/runtime.linux-x64.Microsoft.DotNet.ILCompiler@8.0.7",
        ]
    );
    let (pkgs, _) = run(&fs);
    let nj = pkgs.iter().find(|p| p.name == "Newtonsoft.Json").unwrap();
    let PackageMetadata::Nuget(m) = &nj.metadata else {
        panic!("{:?}", nj.metadata)
    };
    assert!(m.sha512.as_deref().unwrap().starts_with("ppPFpBcv"));
}

#[test]
fn synthetic_nuget_hostile_inputs_are_warnings() {
    let mut fs = MemFs::new();
    fs.add_file("/a/packages.lock.json", b"{\"version\": 1}".to_vec());
    fs.add_file(
        "/b/x.nuspec",
        b"<package><metadata><id>X</id></metadata>".to_vec(),
    );
    fs.add_file("/c/y.nupkg", b"PK not a zip".to_vec());
    fs.add_file(
        "/d/z.nupkg",
        zip_of(&[("sub/dir.nuspec", b"<package/>".as_slice())]),
    );
    let (pkgs, ctx) = run(&fs);
    assert!(pkgs.is_empty(), "{pkgs:?}");
    let paths: Vec<_> = ctx
        .warnings
        .iter()
        .map(|w| w.path.clone().unwrap())
        .collect();
    assert_eq!(
        paths,
        [
            "/a/packages.lock.json",
            "/b/x.nuspec",
            "/c/y.nupkg",
            "/d/z.nupkg"
        ]
    );
}

#[test]
fn bun_text_lockfile_runtime_and_dev() {
    // bun 1.4.5 (npm package `bun`) `bun install --lockfile-only` of inputs/bun/package.json
    let mut fs = MemFs::new();
    fs.add_file("/app/bun.lock", read("bun/bun.lock"));
    assert_eq!(
        summary(&fs),
        [
            "@types/ms@0.7.34 pkg:npm/%40types/ms@0.7.34",
            "debug@4.3.4 pkg:npm/debug@4.3.4",
            "ms@2.1.2 pkg:npm/ms@2.1.2",
        ],
        "isexe is only a devDependency"
    );
    let limits = anchorage_catalog::LangLimits {
        include_dev_dependencies: true,
        ..Default::default()
    };
    let (pkgs, _) = lang_support::run_with(&fs, &limits);
    assert!(summarize(&pkgs).contains(&"isexe@2.0.0 pkg:npm/isexe@2.0.0".to_string()));
    let debug = pkgs.iter().find(|p| p.name == "debug").unwrap();
    let PackageMetadata::Npm(m) = &debug.metadata else {
        panic!()
    };
    assert!(
        m.integrity
            .as_deref()
            .unwrap()
            .starts_with("sha512-PRWFHuSU")
    );
    assert!(!m.dev);
}

#[test]
fn bun_lock_entries_installed_in_node_modules_are_not_counted_twice() {
    let mut fs = MemFs::new();
    fs.add_file("/app/bun.lock", read("bun/bun.lock"));
    fs.add_file(
        "/app/node_modules/ms/package.json",
        br#"{"name": "ms", "version": "2.1.2"}"#.to_vec(),
    );
    let got = summary(&fs);
    assert_eq!(got.iter().filter(|s| s.starts_with("ms@")).count(), 1);
}

#[test]
fn deno_lock_npm_packages() {
    // deno 2.9.6 (npm package `deno`) `deno add npm:debug@4.3.4 npm:@types/ms@0.7.34`
    let mut fs = MemFs::new();
    fs.add_file("/app/deno.lock", read("deno/deno.lock"));
    fs.add_file("/app/deno.json", read("deno/deno.json"));
    assert_eq!(
        summary(&fs),
        [
            "@types/ms@0.7.34 pkg:npm/%40types/ms@0.7.34",
            "debug@4.3.4 pkg:npm/debug@4.3.4",
            "ms@2.1.2 pkg:npm/ms@2.1.2",
        ]
    );
}

#[test]
fn synthetic_deno_lock_v3_with_peer_suffix_and_jsr() {
    // deno.lock version 3 layout (deno 1.x), written by us: npm under packages, a peer suffix
    let lock =
        br#"{"version": "3", "packages": {"specifiers": {"jsr:@std/path@^1": "jsr:@std/path@1.0.0",
      "npm:react-dom@18": "npm:react-dom@18.2.0_react@18.2.0"},
      "jsr": {"@std/path@1.0.0": {"integrity": "x"}},
      "npm": {"react-dom@18.2.0_react@18.2.0": {"integrity": "sha512-a", "dependencies": {}},
              "react@18.2.0": {"integrity": "sha512-b", "dependencies": {}}}},
      "remote": {"https://deno.land/std@0.200.0/path/mod.ts": "abc"}}"#;
    let mut fs = MemFs::new();
    fs.add_file("/app/deno.lock", lock.to_vec());
    assert_eq!(
        summary(&fs),
        [
            "react-dom@18.2.0 pkg:npm/react-dom@18.2.0",
            "react@18.2.0 pkg:npm/react@18.2.0",
        ]
    );
}

#[test]
fn conan_lock_and_conanfile_txt() {
    // Conan 2.34.0 (PyPI `conan`) `conan lock create conanfile.txt -nr` over locally exported
    // header-only recipes (see PROVENANCE.md)
    let mut fs = MemFs::new();
    fs.add_file("/src/app/conan.lock", read("conan/conan.lock"));
    let runtime = [
        "acme-utils@2.0.0 pkg:conan/acme-utils@2.0.0?channel=stable&user=acme",
        "fmt@10.2.1 pkg:conan/fmt@10.2.1",
        "zlib@1.3.1 pkg:conan/zlib@1.3.1",
    ];
    assert_eq!(summary(&fs), runtime, "cmake is a tool requirement");
    let limits = anchorage_catalog::LangLimits {
        include_dev_dependencies: true,
        ..Default::default()
    };
    let (pkgs, _) = lang_support::run_with(&fs, &limits);
    assert!(summarize(&pkgs).contains(&"cmake@3.28.1 pkg:conan/cmake@3.28.1".to_string()));
    assert!(pkgs.iter().all(|p| p.package_type == PackageType::Conan));

    let mut fs = MemFs::new();
    fs.add_file("/src/app/conanfile.txt", read("conan/conanfile.txt"));
    assert_eq!(summary(&fs), runtime, "the same requirements, declared");
}
