//! Ruby, .NET and PHP catalogers on real files (fixtures/lang/PROVENANCE.md).
#![allow(clippy::unwrap_used)]

use crate::lang_support;

use anchorage_catalog::PackageMetadata;
use anchorage_image::MemFs;
use anchorage_types::PackageType;
use lang_support::{fixture, run};

fn fs_with(path: &str, fixture_name: &str) -> MemFs {
    let mut fs = MemFs::new();
    fs.add_file(path, std::fs::read(fixture(fixture_name)).unwrap());
    fs
}

fn names(fs: &MemFs) -> Vec<String> {
    let (pkgs, ctx) = run(fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut v: Vec<_> = pkgs
        .iter()
        .map(|p| format!("{}@{} {}", p.name, p.version, p.purl))
        .collect();
    v.sort();
    v
}

#[test]
fn installed_gemspec_is_parsed_not_run() {
    // Debian 12's ruby-rack ships this RubyGems-written specification.
    let fs = fs_with(
        "/usr/share/rubygems-integration/all/specifications/rack-2.2.22.gemspec",
        "rack-2.2.22.gemspec",
    );
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    assert_eq!(pkgs.len(), 1);
    let p = &pkgs[0];
    assert_eq!(
        (p.name.as_str(), p.version.as_str(), p.purl.as_str()),
        ("rack", "2.2.22", "pkg:gem/rack@2.2.22")
    );
    let PackageMetadata::Gem(m) = &p.metadata else {
        panic!()
    };
    assert_eq!(m.authors, vec!["Leah Neukirchen".to_string()]);
    assert_eq!(m.homepage.as_deref(), Some("https://github.com/rack/rack"));
}

#[test]
fn gemfile_lock_specs() {
    // Written by Debian's bundler 2.3.15 (`bundle lock --local`), see PROVENANCE.md.
    let got = names(&fs_with("/app/Gemfile.lock", "Gemfile.lock"));
    assert_eq!(
        got,
        [
            "mustermann@3.0.0 pkg:gem/mustermann@3.0.0",
            "rack-test@2.0.2 pkg:gem/rack-test@2.0.2",
            "rack@2.2.22 pkg:gem/rack@2.2.22",
            "rake@13.0.6 pkg:gem/rake@13.0.6",
            "ruby2_keywords@0.0.5 pkg:gem/ruby2_keywords@0.0.5",
        ],
        "dependency lines (`rack (>= 1.3)`) and DEPENDENCIES are not packages"
    );
}

#[test]
fn dotnet_deps_json_project_and_packages() {
    // The deps.json the .NET SDK wrote for Python.Runtime, shipped in the pythonnet 3.2.1 wheel.
    let fs = fs_with(
        "/app/pythonnet/runtime/Python.Runtime.deps.json",
        "Python.Runtime.deps.json",
    );
    let got = names(&fs);
    assert_eq!(got.len(), 10, "{got:?}");
    assert!(got.contains(&"Python.Runtime@3.2.1 pkg:nuget/Python.Runtime@3.2.1".to_string()));
    assert!(got.contains(&"System.Memory@4.6.3 pkg:nuget/System.Memory@4.6.3".to_string()));
    let (pkgs, _) = run(&fs);
    let csharp = pkgs.iter().find(|p| p.name == "Microsoft.CSharp").unwrap();
    assert_eq!(csharp.version, "4.7.0");
    let PackageMetadata::Nuget(m) = &csharp.metadata else {
        panic!()
    };
    assert_eq!(m.path.as_deref(), Some("microsoft.csharp/4.7.0"));
    assert!(m.sha512.as_deref().unwrap().starts_with("sha512-"));
}

#[test]
fn composer_lock_packages_and_dev() {
    // Written by Debian's composer 2.5.5, see PROVENANCE.md; psr/log is in `packages-dev`, left
    // out by default (as Syft 1.18.1 does on this file) and reported when asked for.
    let fs = fs_with("/var/www/composer.lock", "composer.lock");
    let all = [
        "psr/container@1.1.2 pkg:composer/psr/container@1.1.2",
        "psr/log@1.1.4 pkg:composer/psr/log@1.1.4",
        "symfony/console@v5.4.53 pkg:composer/symfony/console@v5.4.53",
        "symfony/string@v5.4.53 pkg:composer/symfony/string@v5.4.53",
    ];
    let got = names(&fs);
    let want: Vec<&str> = all
        .iter()
        .copied()
        .filter(|n| !n.starts_with("psr/log"))
        .collect();
    assert_eq!(got, want);
    let limits = anchorage_catalog::LangLimits {
        include_dev_dependencies: true,
        ..Default::default()
    };
    let (pkgs, _) = lang_support::run_with(&fs, &limits);
    let mut with_dev: Vec<_> = pkgs
        .iter()
        .map(|p| format!("{}@{} {}", p.name, p.version, p.purl))
        .collect();
    with_dev.sort();
    assert_eq!(with_dev, all);
}

fn check_installed_json(body: Vec<u8>) {
    let mut fs = MemFs::new();
    fs.add_file("/var/www/vendor/composer/installed.json", body);
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut got: Vec<_> = pkgs
        .iter()
        .map(|p| format!("{}@{}", p.name, p.version))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "psr/container@1.1.2",
            "psr/log@1.1.4",
            "symfony/console@v5.4.53",
            "symfony/string@v5.4.53"
        ]
    );
    let p = pkgs.iter().find(|p| p.name == "psr/log").unwrap();
    assert_eq!(p.licenses, vec!["MIT".to_string()]);
}

#[test]
fn composer_installed_json_v2_object() {
    // Real: `vendor/composer/installed.json` written by `composer install` (Composer 2 format).
    check_installed_json(std::fs::read(fixture("composer-installed.json")).unwrap());
}

#[test]
fn synthetic_composer_installed_json_v1_array() {
    // Composer 1 wrote a bare array of packages; derived here from the real Composer 2 file
    // (no Composer 1 is installable on this machine).
    let v2: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("composer-installed.json")).unwrap())
            .unwrap();
    check_installed_json(serde_json::to_vec(&v2["packages"]).unwrap());
}

#[test]
fn synthetic_malformed_json_manifests_are_warnings() {
    let mut fs = MemFs::new();
    fs.add_file("/a/x.deps.json", b"{\"libraries\": [1,2".to_vec());
    fs.add_file("/b/composer.lock", b"[{\"name\": 1}".to_vec());
    fs.add_file(
        "/c/specifications/bad.gemspec",
        b"Gem::Specification.new do |s| end".to_vec(),
    );
    let (pkgs, ctx) = run(&fs);
    assert!(pkgs.is_empty());
    assert_eq!(ctx.warnings.len(), 3, "{:?}", ctx.warnings);
}

#[test]
fn ruby_default_gems_of_installed_ruby() {
    // Debian's libruby3.1 installs its default gems' specs under specifications/default
    let dir = "/usr/lib/ruby/gems/3.1.0/specifications/default";
    let Ok(list) = std::fs::read_dir(dir) else {
        assert!(
            !lang_support::ci(),
            "{dir} is required in CI (apt package libruby3.1)"
        );
        eprintln!("note: skipping, {dir} missing; install apt package libruby3.1");
        return;
    };
    let mut fs = MemFs::new();
    let mut expected = Vec::new();
    for e in list {
        let p = e.unwrap().path();
        let file = p.file_name().unwrap().to_string_lossy().to_string();
        let Some(stem) = file.strip_suffix(".gemspec") else {
            continue;
        };
        expected.push(stem.to_string());
        fs.add_file(&format!("{dir}/{file}"), std::fs::read(&p).unwrap());
    }
    expected.sort();
    assert!(expected.len() > 50, "{expected:?}");
    let (pkgs, ctx) = lang_support::run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut got: Vec<String> = pkgs
        .iter()
        .filter(|p| p.package_type == PackageType::Gem)
        .map(|p| format!("{}-{}", p.name, p.version))
        .collect();
    got.sort();
    // every spec file is named NAME-VERSION.gemspec by rubygems
    assert_eq!(got, expected);
    for needle in ["json-", "openssl-", "psych-", "net-http-"] {
        assert!(got.iter().any(|g| g.starts_with(needle)), "{needle}");
    }
    let json = pkgs.iter().find(|p| p.name == "json").unwrap();
    assert_eq!(json.purl, format!("pkg:gem/json@{}", json.version));
}

#[test]
fn pear_registry_matches_pear_list() {
    // Debian's php-pear registry files, and what `pear list` (the real tool) says about them
    let dir = fixture("pear-registry");
    let mut fs = MemFs::new();
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.ends_with(".reg") {
            fs.add_file(
                &format!("/usr/share/php/.registry/{name}"),
                std::fs::read(&p).unwrap(),
            );
        }
    }
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut got: Vec<String> = pkgs
        .iter()
        .filter(|p| p.package_type == PackageType::PhpPear)
        .map(|p| format!("{} {}", p.name, p.version))
        .collect();
    got.sort();
    let list = std::fs::read_to_string(dir.join("pear-list.txt")).unwrap();
    let mut want: Vec<String> = list
        .lines()
        .skip(3)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3).then(|| format!("{} {}", f[0], f[1]))
        })
        .collect();
    want.sort();
    assert_eq!(got.len(), 6);
    assert_eq!(got, want);
    let tar = pkgs.iter().find(|p| p.name == "Archive_Tar").unwrap();
    assert_eq!(tar.purl, "pkg:pear/pear.php.net/Archive_Tar@1.4.14");
    assert!(!tar.licenses.is_empty());
}

/// Adds every file under `fixture(dir)` at `image_root` + its relative path.
fn add_fixture_tree(fs: &mut MemFs, dir: &str, image_root: &str) {
    let root = fixture(dir);
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(&root).unwrap().to_string_lossy().to_string();
                fs.add_file(&format!("{image_root}/{rel}"), std::fs::read(&p).unwrap());
            }
        }
    }
}

#[test]
fn wordpress_plugin_and_core_from_debian_wordpress() {
    // Debian's wordpress 6.1.9+dfsg1 with its bundled Akismet plugin
    let mut fs = MemFs::new();
    add_fixture_tree(&mut fs, "wordpress", "/var/www/html");
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let mut got: Vec<String> = pkgs
        .iter()
        .map(|p| format!("{} {} {} {}", p.package_type, p.name, p.version, p.purl))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            "binary wordpress 6.1.9 pkg:generic/wordpress@6.1.9",
            "wordpress-plugin Akismet Anti-Spam 5.0.2 pkg:generic/wordpress-plugin/akismet@5.0.2",
        ]
    );
    let akismet = pkgs
        .iter()
        .find(|p| p.package_type == PackageType::WordpressPlugin)
        .unwrap();
    assert_eq!(
        akismet.cpes,
        ["cpe:2.3:a:akismet:akismet:5.0.2:*:*:*:*:wordpress:*:*"]
    );
    assert_eq!(akismet.licenses, ["GPLv2 or later"]);
}

#[test]
fn r_packages_from_debian_r_base() {
    // DESCRIPTION files of Debian's r-base-core 4.2.2 (base library) and r-cran-jsonlite 1.8.4
    let mut fs = MemFs::new();
    add_fixture_tree(&mut fs, "r-library", "/usr/lib/R/library");
    let (pkgs, ctx) = run(&fs);
    assert!(ctx.warnings.is_empty(), "{:?}", ctx.warnings);
    let r: Vec<_> = pkgs
        .iter()
        .filter(|p| p.package_type == PackageType::RPackage)
        .collect();
    assert_eq!(r.len(), 16, "{r:?}");
    let json = r.iter().find(|p| p.name == "jsonlite").unwrap();
    assert_eq!(json.purl, "pkg:cran/jsonlite@1.8.4");
    assert!(
        r.iter()
            .filter(|p| p.name != "jsonlite")
            .all(|p| p.version == "4.2.2"),
        "{r:?}"
    );
    assert!(r.iter().any(|p| p.name == "stats"));
}
