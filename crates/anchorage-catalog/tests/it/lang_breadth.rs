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

/// bun 1.1.38's binary `bun.lockb` (see PROVENANCE.md) is not parsed: one warning naming the
/// file, its format version and the text alternatives, and no packages from it.
#[test]
fn bun_lockb_alone_is_reported_unparsed_with_a_warning() {
    let lockb = read("bun-lockb/bun.lockb");
    assert!(lockb.starts_with(b"#!/usr/bin/env bun\nbun-lockfile-format-v0\n"));
    let mut fs = MemFs::new();
    fs.add_file("/app/bun.lockb", lockb.clone());
    let (pkgs, ctx) = run(&fs);
    assert!(pkgs.is_empty(), "{:?}", summarize(&pkgs));
    assert_eq!(ctx.warnings.len(), 1, "{:?}", ctx.warnings);
    let w = &ctx.warnings[0];
    assert_eq!(w.path.as_deref(), Some("/app/bun.lockb"));
    assert!(w.message.contains("format version 2"), "{}", w.message);
    assert!(w.message.contains("bun.lock"), "{}", w.message);
    assert!(w.message.contains("bun install -y"), "{}", w.message);
    // Installed packages are still found from node_modules; the warning stays.
    fs.add_file(
        "/app/node_modules/ms/package.json",
        br#"{"name": "ms", "version": "2.1.2"}"#.to_vec(),
    );
    let (pkgs, ctx) = run(&fs);
    assert_eq!(summarize(&pkgs), ["ms@2.1.2 pkg:npm/ms@2.1.2"]);
    assert_eq!(ctx.warnings.len(), 1);
    // A bun.lockb inside an installed package is not the image's lockfile: no warning.
    let mut fs = MemFs::new();
    fs.add_file("/app/node_modules/x/bun.lockb", lockb);
    assert!(run(&fs).1.warnings.is_empty());
}

/// The yarn.lock that the same bun wrote beside its bun.lockb (`bun install -y`) is read, and
/// the bun.lockb then needs no warning.
#[test]
fn bun_lockb_with_bun_written_yarn_lock_beside_it_reads_the_yarn_lock() {
    let mut fs = MemFs::new();
    fs.add_file("/app/bun.lockb", read("bun-lockb/bun.lockb"));
    fs.add_file("/app/yarn.lock", read("bun-lockb/yarn.lock"));
    assert_eq!(
        summary(&fs),
        [
            "@types/ms@0.7.34 pkg:npm/%40types/ms@0.7.34",
            "debug@4.3.4 pkg:npm/debug@4.3.4",
            "isexe@2.0.0 pkg:npm/isexe@2.0.0",
            "ms@2.1.2 pkg:npm/ms@2.1.2",
        ]
    );
}

#[test]
fn synthetic_bun_lockb_without_magic_and_truncated_warn() {
    let lockb = read("bun-lockb/bun.lockb");
    for (bytes, want) in [
        (b"PK\x03\x04 not a lockfile".to_vec(), "does not start with"),
        (lockb[..44].to_vec(), "format version unknown"),
        (Vec::new(), "does not start with"),
    ] {
        let mut fs = MemFs::new();
        fs.add_file("/srv/bun.lockb", bytes);
        let (pkgs, ctx) = run(&fs);
        assert!(pkgs.is_empty());
        assert_eq!(ctx.warnings.len(), 1, "{:?}", ctx.warnings);
        assert!(ctx.warnings[0].message.contains(want), "{:?}", ctx.warnings);
    }
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
            "@std/path@1.0.0 pkg:npm/%40std/path@1.0.0?repository_url=https:%2F%2Fjsr.io",
            "react-dom@18.2.0 pkg:npm/react-dom@18.2.0",
            "react@18.2.0 pkg:npm/react@18.2.0",
        ]
    );
}

/// deno 2.9.6 locked `jsr:` packages served by a local JSR registry (jsr.io is not reachable
/// here; see PROVENANCE.md) and an npm one: the JSR packages, the direct one and the one it
/// imports, are `pkg:npm` purls qualified with the JSR registry (purl has no `jsr` type;
/// Syft does the same), never confused with the npm package of the same name.
#[test]
fn deno_lock_jsr_packages_written_by_deno() {
    let lock = read("deno-jsr/deno.lock");
    let mut fs = MemFs::new();
    fs.add_file("/app/deno.lock", lock);
    fs.add_file("/app/deno.json", read("deno-jsr/deno.json"));
    // An installed npm package of the same name as a JSR one does not hide the JSR package.
    fs.add_file(
        "/app/node_modules/@anchorage/text/package.json",
        br#"{"name": "@anchorage/text", "version": "0.3.1"}"#.to_vec(),
    );
    assert_eq!(
        summary(&fs),
        [
            "@anchorage/greet@1.2.0 pkg:npm/%40anchorage/greet@1.2.0?repository_url=https:%2F%2Fjsr.io",
            "@anchorage/text@0.3.1 pkg:npm/%40anchorage/text@0.3.1",
            "@anchorage/text@0.3.1 pkg:npm/%40anchorage/text@0.3.1?repository_url=https:%2F%2Fjsr.io",
            "ms@2.1.3 pkg:npm/ms@2.1.3",
        ]
    );
    // deno's JSR integrity is the sha256 of the version's `_meta.json` the registry served.
    let (pkgs, _) = run(&fs);
    let greet = pkgs.iter().find(|p| p.name == "@anchorage/greet").unwrap();
    let PackageMetadata::Npm(m) = &greet.metadata else {
        panic!()
    };
    let meta = read("inputs/jsr-registry/@anchorage/greet/1.2.0_meta.json");
    use sha2::Digest;
    assert_eq!(
        m.integrity.as_deref(),
        Some(hex::encode(sha2::Sha256::digest(&meta)).as_str())
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

#[test]
fn lua_rockspec_is_read_not_run() {
    // lua-cjson 2.1.0's own rockspec, from Debian 12's lua-cjson source (orig tarball)
    let mut fs = MemFs::new();
    fs.add_file(
        "/usr/local/lib/luarocks/rocks-5.1/lua-cjson/2.1.0-1/lua-cjson-2.1.0-1.rockspec",
        read("lua/lua-cjson-2.1.0-1.rockspec"),
    );
    assert_eq!(
        summary(&fs),
        ["lua-cjson@2.1.0-1 pkg:luarocks/lua-cjson@2.1.0-1"]
    );
    let (pkgs, _) = run(&fs);
    assert_eq!(pkgs[0].licenses, ["MIT"]);
    assert_eq!(pkgs[0].package_type, PackageType::LuaRocks);
}

#[test]
fn cabal_project_freeze_written_by_cabal() {
    // cabal-install 3.4.1.0 + GHC 9.0.2 (Debian 12) `cabal freeze` of inputs/haskell, offline
    let mut fs = MemFs::new();
    fs.add_file(
        "/src/app/cabal.project.freeze",
        read("haskell/cabal.project.freeze"),
    );
    let got = summary(&fs);
    assert_eq!(got.len(), 15, "{got:?}");
    assert!(got.contains(&"text@1.2.5.0 pkg:hackage/text@1.2.5.0".to_string()));
    assert!(got.contains(&"base@4.15.1.0 pkg:hackage/base@4.15.1.0".to_string()));
    assert!(got.contains(&"ghc-bignum@1.1 pkg:hackage/ghc-bignum@1.1".to_string()));
}

#[test]
fn synthetic_dart_pubspec_lock() {
    // pub's documented pubspec.lock layout (no Dart SDK nor pub.dev is reachable here)
    let lock = r#"# Generated by pub
# See https://dart.dev/tools/pub/glossary#lockfile
packages:
  async:
    dependency: transitive
    description:
      name: async
      sha256: "947bfcf187f74dbc5e146c9eb9c0f10c9f8b30743e341481c1e2ed3ecc18c20c"
      url: "https://pub.dev"
    source: hosted
    version: "2.11.0"
  flutter:
    dependency: "direct main"
    description: flutter
    source: sdk
    version: "0.0.0"
  lints:
    dependency: "direct dev"
    description:
      name: lints
      sha256: "0a217c6c989d21039f1498c3ed9f3ed71b354e69873f13a8dfc3c9fe76f1b452"
      url: "https://pub.dev"
    source: hosted
    version: "2.1.1"
  private_pkg:
    dependency: "direct main"
    description:
      name: private_pkg
      sha256: "00"
      url: "https://pub.example.com"
    source: hosted
    version: "1.0.0"
  my_git:
    dependency: "direct main"
    description:
      path: "."
      ref: main
      resolved-ref: "9f0e3c1"
      url: "https://github.com/example/my_git.git"
    source: git
    version: "0.1.0"
sdks:
  dart: ">=3.0.0 <4.0.0"
"#;
    let mut fs = MemFs::new();
    fs.add_file("/app/pubspec.lock", lock.as_bytes().to_vec());
    assert_eq!(
        summary(&fs),
        [
            "async@2.11.0 pkg:pub/async@2.11.0",
            "my_git@0.1.0 pkg:pub/my_git@0.1.0?vcs_url=https:%2F%2Fgithub.com%2Fexample%2Fmy_git.git%409f0e3c1",
            "private_pkg@1.0.0 pkg:pub/private_pkg@1.0.0?hosted_url=https:%2F%2Fpub.example.com",
        ],
        "sdk packages and dev dependencies are left out"
    );
}

#[test]
fn synthetic_hex_mix_lock_and_rebar_lock() {
    // mix.lock and rebar.lock in the layouts mix and rebar3 write (hex.pm is not reachable)
    let mix = r#"%{
  "cowboy": {:hex, :cowboy, "2.10.0", "ff9ffeff91dae4ae270dd975642997afe2a1179d94b1887863e43f681a203e26", [:make, :rebar3], [{:cowlib, "2.12.1", [hex: :cowlib, repo: "hexpm", optional: false]}], "hexpm", "3afdccb7183cc6f143cb14d3cf51fa00e53db9ec80cdcd525482f5e99bc41d6b"},
  "cowlib": {:hex, :cowlib, "2.12.1", "a9fa9a625f1d2025fe6b462cb865881329b5caff8f1854d1cbc9f9533f00e1e1", [:make, :rebar3], [], "hexpm", "163b73f6367a7341b33c794c4e88e7dbfe6498ac42dcd69ef44c5bc5507c8db0"},
  "my_fork": {:git, "https://github.com/example/my_fork.git", "0a1b2c3", [branch: "main"]},
}
"#;
    let rebar = r#"{"1.2.0",
[{<<"certifi">>,{pkg,<<"certifi">>,<<"2.9.0">>},1},
 {<<"hackney">>,{pkg,<<"hackney">>,<<"1.18.1">>},0},
 {<<"local">>,{git,"https://github.com/example/local.git",{ref,"abc"}},0}]}.
[
{pkg_hash,[
 {<<"certifi">>, <<"6F2A475689DD47F19FB74334859D460A2DC4E3252A3324BD2111B8F0429E7E21">>}]}
].
"#;
    let mut fs = MemFs::new();
    fs.add_file("/srv/app/mix.lock", mix.as_bytes().to_vec());
    fs.add_file("/srv/erl/rebar.lock", rebar.as_bytes().to_vec());
    assert_eq!(
        summary(&fs),
        [
            "certifi@2.9.0 pkg:hex/certifi@2.9.0",
            "cowboy@2.10.0 pkg:hex/cowboy@2.10.0",
            "cowlib@2.12.1 pkg:hex/cowlib@2.12.1",
            "hackney@1.18.1 pkg:hex/hackney@1.18.1",
        ]
    );
}

#[test]
fn synthetic_swift_package_resolved_v1_v2_v3() {
    // the three Package.resolved layouts SwiftPM writes (no Swift toolchain here)
    let v1 = r#"{"object": {"pins": [
      {"package": "swift-nio", "repositoryURL": "https://github.com/apple/swift-nio.git",
       "state": {"branch": null, "revision": "a5db5b2c6be2d5a4ea9ab7bd2e13c7a0b9d6c1c7", "version": "2.40.0"}}]},
      "version": 1}"#;
    let v2 = r#"{"pins": [
      {"identity": "swift-log", "kind": "remoteSourceControl", "location": "https://github.com/apple/swift-log.git",
       "state": {"revision": "32e8d724467f8fe623624570367e3d50c5638e46", "version": "1.5.2"}},
      {"identity": "experimental", "kind": "remoteSourceControl", "location": "git@github.com:example/experimental.git",
       "state": {"branch": "main", "revision": "5f3a1c0c2a9e0d8c3c1a2b3c4d5e6f708192a3b4"}}],
      "version": 2}"#;
    let v3 = r#"{"originHash": "e1f2", "pins": [
      {"identity": "vapor", "kind": "remoteSourceControl", "location": "https://github.com/vapor/vapor.git",
       "state": {"revision": "0b6ee6f8c3b8d3b8c1f5e6e2e7f2c2f1c1d3a9b0", "version": "4.92.1"}}],
      "version": 3}"#;
    let mut fs = MemFs::new();
    fs.add_file("/a/Package.resolved", v1.as_bytes().to_vec());
    fs.add_file("/b/Package.resolved", v2.as_bytes().to_vec());
    fs.add_file("/c/Package.resolved", v3.as_bytes().to_vec());
    assert_eq!(
        summary(&fs),
        [
            "experimental@5f3a1c0c2a9e0d8c3c1a2b3c4d5e6f708192a3b4 pkg:swift/github.com/example/experimental@5f3a1c0c2a9e0d8c3c1a2b3c4d5e6f708192a3b4",
            "swift-log@1.5.2 pkg:swift/github.com/apple/swift-log@1.5.2",
            "swift-nio@2.40.0 pkg:swift/github.com/apple/swift-nio@2.40.0",
            "vapor@4.92.1 pkg:swift/github.com/vapor/vapor@4.92.1",
        ]
    );
}

#[test]
fn synthetic_cocoapods_podfile_lock() {
    // CocoaPods' documented Podfile.lock layout (no CocoaPods here)
    let lock = r#"PODS:
  - Alamofire (5.4.3)
  - Firebase/CoreOnly (8.0.0):
    - FirebaseCore (= 8.0.0)
  - Firebase/Analytics (8.0.0):
    - Firebase/Core
  - FirebaseCore (8.0.0):
    - GoogleUtilities/Environment (~> 7.4)

DEPENDENCIES:
  - Alamofire (~> 5.4)
  - Firebase/Analytics

SPEC REPOS:
  trunk:
    - Alamofire
    - Firebase
    - FirebaseCore

SPEC CHECKSUMS:
  Alamofire: e447a2774a40c996748296fa2c55112fdbbc42f9
  Firebase: 73c3e3b216ec1ecbc54d2ffdd4670c65c749edb1
  FirebaseCore: 3f09591d51292843e2a46f18358d60bf4e996255

PODFILE CHECKSUM: 7f5bfc2e8e1d5e3e62b1a3d5c6c2a0e1f0b1c2d3

COCOAPODS: 1.10.1
"#;
    let mut fs = MemFs::new();
    fs.add_file("/app/ios/Podfile.lock", lock.as_bytes().to_vec());
    assert_eq!(
        summary(&fs),
        [
            "Alamofire@5.4.3 pkg:cocoapods/Alamofire@5.4.3",
            "Firebase@8.0.0 pkg:cocoapods/Firebase@8.0.0",
            "FirebaseCore@8.0.0 pkg:cocoapods/FirebaseCore@8.0.0",
        ],
        "subspecs are their pod"
    );
}

#[test]
fn synthetic_malformed_lock_files_are_warnings_not_packages() {
    let mut fs = MemFs::new();
    for p in [
        "/a/pubspec.lock",
        "/a/Podfile.lock",
        "/a/Package.resolved",
        "/a/stack.yaml.lock",
        "/a/conan.lock",
        "/a/x.rockspec",
    ] {
        fs.add_file(p, b"{{{ not: [valid".to_vec());
    }
    let (pkgs, ctx) = run(&fs);
    assert!(pkgs.is_empty(), "{pkgs:?}");
    assert_eq!(ctx.warnings.len(), 6, "{:?}", ctx.warnings);
}

/// The slf4j 1.7.32 reactor (Debian 12 source package libslf4j-java): the root pom.xml and two
/// modules, at `dir`.
fn slf4j_source(fs: &mut MemFs, dir: &str) {
    for p in ["pom.xml", "slf4j-log4j12/pom.xml", "slf4j-ext/pom.xml"] {
        fs.add_file(
            &format!("{dir}/{p}"),
            read(&format!("maven/slf4j-1.7.32/{p}")),
        );
    }
}

#[test]
fn maven_pom_parent_by_relative_path_properties_and_managed_versions() {
    let mut fs = MemFs::new();
    slf4j_source(&mut fs, "/src/slf4j");
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let at = |dir: &str| {
        let mut v: Vec<String> = pkgs
            .iter()
            .filter(|p| p.locations[0].path == format!("/src/slf4j/{dir}pom.xml"))
            .map(|p| format!("{}@{} {}", p.name, p.version, p.purl))
            .collect();
        v.sort();
        v
    };
    // Each pom's own project first (as Syft 1.18.1 reports it; the module's group and version
    // come from its parent). slf4j-api: no version in the module, managed by the parent as
    // ${project.version}, which is the module's version inherited from the parent; log4j:
    // ${log4j.version} from the parent's properties
    assert_eq!(
        at("slf4j-log4j12/"),
        [
            "log4j@1.2.17 pkg:maven/log4j/log4j@1.2.17",
            "slf4j-api@1.7.32 pkg:maven/org.slf4j/slf4j-api@1.7.32",
            "slf4j-log4j12@1.7.32 pkg:maven/org.slf4j/slf4j-log4j12@1.7.32",
        ]
    );
    assert_eq!(
        at("slf4j-ext/"),
        [
            "cal10n-api@0.8.1 pkg:maven/ch.qos.cal10n/cal10n-api@0.8.1",
            "commons-lang@2.4 pkg:maven/commons-lang/commons-lang@2.4",
            "javassist@3.4.GA pkg:maven/javassist/javassist@3.4.GA",
            "slf4j-api@1.7.32 pkg:maven/org.slf4j/slf4j-api@1.7.32",
            "slf4j-ext@1.7.32 pkg:maven/org.slf4j/slf4j-ext@1.7.32",
        ]
    );
    // the root declares only junit, test scope
    assert_eq!(
        at(""),
        ["slf4j-parent@1.7.32 pkg:maven/org.slf4j/slf4j-parent@1.7.32"]
    );
    let log4j = pkgs.iter().find(|p| p.name == "log4j").unwrap();
    assert_eq!(log4j.package_type, PackageType::Java);
    assert_eq!(log4j.cpes[0], "cpe:2.3:a:log4j:log4j:1.2.17:*:*:*:*:*:*:*");

    let limits = anchorage_catalog::LangLimits {
        include_dev_dependencies: true,
        ..Default::default()
    };
    let (pkgs, _) = lang_support::run_with(&fs, &limits);
    let ext: Vec<String> = summarize(&pkgs)
        .into_iter()
        .filter(|s| s.contains("junit") || s.contains("slf4j-log4j12"))
        .collect();
    assert!(
        ext.contains(&"junit@4.12 pkg:maven/junit/junit@4.12".to_string()),
        "inherited from the parent, ${{junit.version}}: {ext:?}"
    );
    assert!(
        ext.contains(&"slf4j-log4j12@1.7.32 pkg:maven/org.slf4j/slf4j-log4j12@1.7.32".to_string())
    );
}

#[test]
fn maven_pom_parent_from_the_local_repository() {
    // the module alone; its parent where a Maven build caches it
    let mut fs = MemFs::new();
    fs.add_file(
        "/app/pom.xml",
        read("maven/slf4j-1.7.32/slf4j-log4j12/pom.xml"),
    );
    fs.add_dir("/root/.m2/repository");
    fs.add_file(
        "/root/.m2/repository/org/slf4j/slf4j-parent/1.7.32/slf4j-parent-1.7.32.pom",
        read("maven/slf4j-1.7.32/pom.xml"),
    );
    assert_eq!(
        summary(&fs),
        [
            "log4j@1.2.17 pkg:maven/log4j/log4j@1.2.17",
            "slf4j-api@1.7.32 pkg:maven/org.slf4j/slf4j-api@1.7.32",
            "slf4j-log4j12@1.7.32 pkg:maven/org.slf4j/slf4j-log4j12@1.7.32",
        ]
    );
    // without the parent nothing can be resolved but the literal versions (and the project,
    // whose group and version the <parent> element itself names)
    let mut fs = MemFs::new();
    fs.add_file("/app/pom.xml", read("maven/slf4j-1.7.32/slf4j-ext/pom.xml"));
    assert_eq!(
        summary(&fs),
        [
            "commons-lang@2.4 pkg:maven/commons-lang/commons-lang@2.4",
            "javassist@3.4.GA pkg:maven/javassist/javassist@3.4.GA",
            "slf4j-ext@1.7.32 pkg:maven/org.slf4j/slf4j-ext@1.7.32",
        ]
    );
}

#[test]
fn synthetic_gradle_lockfile() {
    // Gradle's documented gradle.lockfile layout (no Gradle 6+ is installable here)
    let lock = "# This is a Gradle generated file for dependency locking.\n\
# Manual edits can break the build and are not advised.\n\
# This file is expected to be part of source control.\n\
com.fasterxml.jackson.core:jackson-databind:2.14.0=compileClasspath,runtimeClasspath\n\
org.apache.logging.log4j:log4j-core:2.19.0=runtimeClasspath\n\
org.junit.jupiter:junit-jupiter-api:5.9.1=testCompileClasspath,testRuntimeClasspath\n\
empty=annotationProcessor,testAnnotationProcessor\n";
    let mut fs = MemFs::new();
    fs.add_file("/src/app/gradle.lockfile", lock.as_bytes().to_vec());
    assert_eq!(
        summary(&fs),
        [
            "jackson-databind@2.14.0 pkg:maven/com.fasterxml.jackson.core/jackson-databind@2.14.0",
            "log4j-core@2.19.0 pkg:maven/org.apache.logging.log4j/log4j-core@2.19.0",
        ]
    );
}

#[test]
fn synthetic_homebrew_cellar_kegs() {
    // Homebrew's keg layout and receipt fields (no Homebrew here)
    let mut fs = MemFs::new();
    let cellar = "/home/linuxbrew/.linuxbrew/Cellar";
    fs.add_file(
        &format!("{cellar}/jq/1.7.1/INSTALL_RECEIPT.json"),
        br#"{"homebrew_version": "4.2.0", "installed_on_request": true, "source": {"tap": "homebrew/core", "versions": {"stable": "1.7.1"}}}"#.to_vec(),
    );
    fs.add_file(
        &format!("{cellar}/openssl@3/3.2.1_1/INSTALL_RECEIPT.json"),
        br#"{"source": {"tap": "homebrew/core", "versions": {"stable": "3.2.1"}}}"#.to_vec(),
    );
    fs.add_file(
        &format!("{cellar}/mytool/0.1/INSTALL_RECEIPT.json"),
        br#"{"source": {"tap": "acme/tools"}}"#.to_vec(),
    );
    fs.add_file(&format!("{cellar}/jq/1.7.1/bin/jq"), b"\x7fELF".to_vec());
    assert_eq!(
        summary(&fs),
        [
            "jq@1.7.1 pkg:brew/jq@1.7.1",
            "mytool@0.1 pkg:brew/mytool@0.1?tap=acme%2Ftools",
            "openssl@3@3.2.1_1 pkg:brew/openssl%403@3.2.1_1",
        ]
    );
}

#[test]
fn synthetic_nix_store_paths() {
    // store path names in Nix's format (no Nix store here); nothing under them is read
    let mut fs = MemFs::new();
    for p in [
        "0c7c96gikmzv87i7lv3vq5s1cmfjd6zf-python3.11-requests-2.31.0",
        "9rbc6gdmbrkpk3vmw0bm4ll8h13x5kba-openssl-3.0.12-bin",
        "5n0kgg1cl4ma3p0lnyvxbvb9rj5dgj6f-glibc-2.38-27",
        "5n0kgg1cl4ma3p0lnyvxbvb9rj5dgj6f-hello-2.12.1.drv",
        "ax3vdw1jd3p8cm1hxqmmydblcrfwqj2c-source",
    ] {
        fs.add_dir(&format!("/nix/store/{p}"));
    }
    fs.add_file(
        "/nix/store/5n0kgg1cl4ma3p0lnyvxbvb9rj5dgj6f-glibc-2.38-27/lib/libc.so.6",
        b"\x7fELF".to_vec(),
    );
    assert_eq!(
        summary(&fs),
        [
            "glibc@2.38-27 pkg:nix/glibc@2.38-27?outputhash=5n0kgg1cl4ma3p0lnyvxbvb9rj5dgj6f",
            "openssl@3.0.12 pkg:nix/openssl@3.0.12?output=bin&outputhash=9rbc6gdmbrkpk3vmw0bm4ll8h13x5kba",
            "python3.11-requests@2.31.0 pkg:nix/python3.11-requests@2.31.0?outputhash=0c7c96gikmzv87i7lv3vq5s1cmfjd6zf",
        ]
    );
}

#[test]
fn synthetic_vcpkg_status_database_and_manifest_overrides() {
    // vcpkg's status database layout (dpkg control paragraphs, one per port and per feature)
    // and a vcpkg.json with overrides (no vcpkg here)
    let status = "Package: zlib
Version: 1.3.1
Port-Version: 0
Architecture: x64-linux
Multi-Arch: same
Abi: 5a8b3f
Status: install ok installed

Package: curl
Version: 8.6.0
Port-Version: 2
Depends: zlib
Architecture: x64-linux
Multi-Arch: same
Abi: 9c1e22
Status: install ok installed

Package: curl
Feature: ssl
Depends: openssl
Architecture: x64-linux
Multi-Arch: same
Status: install ok installed

Package: fmt
Version: 10.1.1
Architecture: x64-linux
Status: purge ok not-installed
";
    let manifest = r#"{"name": "app", "version": "1.0.0",
      "dependencies": ["zlib", {"name": "fmt", "version>=": "10.1.1"}],
      "overrides": [{"name": "fmt", "version": "10.2.1", "port-version": 1}],
      "builtin-baseline": "a1a1cbc975abf909a6c8985a6a2b8fe20bbd9bd6"}"#;
    let mut fs = MemFs::new();
    fs.add_file(
        "/src/app/vcpkg_installed/vcpkg/status",
        status.as_bytes().to_vec(),
    );
    fs.add_file("/src/app/vcpkg.json", manifest.as_bytes().to_vec());
    assert_eq!(
        summary(&fs),
        [
            "curl@8.6.0#2 pkg:vcpkg/curl@8.6.0%232?arch=x64-linux",
            "fmt@10.2.1#1 pkg:vcpkg/fmt@10.2.1%231",
            "zlib@1.3.1 pkg:vcpkg/zlib@1.3.1?arch=x64-linux",
        ]
    );
}
