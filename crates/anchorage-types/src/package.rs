//! Package vocabulary shared by catalogers, matching and policy.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Digest;

/// The kind of package, named as Anchore's API names it (`dpkg`, `apkg`, `rpm`, `python`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PackageType {
    /// Debian package (dpkg).
    Dpkg,
    /// Alpine package (apk). Anchore calls it `APKG`.
    #[serde(rename = "apkg", alias = "apk")]
    Apk,
    /// RPM package.
    Rpm,
    /// Python distribution (PyPI).
    Python,
    /// npm package.
    Npm,
    /// Ruby gem.
    Gem,
    /// Java archive (jar/war/ear/...).
    Java,
    /// Go module.
    Go,
    /// Rust crate.
    Rust,
    /// .NET (NuGet) package.
    Nuget,
    /// PHP composer package.
    Composer,
    /// A runtime identified from a binary by a classifier.
    Binary,
    /// PEAR / PECL package from a PHP registry file (Syft's `php-pear`).
    PhpPear,
    /// WordPress plugin (Syft's `wordpress-plugin`).
    WordpressPlugin,
    /// R package from its `DESCRIPTION` file (Syft's `R-package`).
    RPackage,
    /// GitHub Action referenced by a workflow (Syft's `github-action`).
    GithubAction,
    /// Dart package from `pubspec.lock` (Syft's `dart-pub`).
    #[serde(rename = "dart-pub")]
    DartPub,
    /// Erlang / Elixir package from Hex (`mix.lock`, `rebar.lock`; Syft's `hex`).
    Hex,
    /// Swift package from `Package.resolved` (Syft's `swift`).
    Swift,
    /// CocoaPods pod from `Podfile.lock` (Syft's `pod`).
    Pod,
    /// C/C++ package from Conan (`conan.lock`, `conanfile.txt`; Syft's `conan`).
    Conan,
    /// C/C++ port from a vcpkg manifest (`vcpkg.json`).
    Vcpkg,
    /// Haskell package from Hackage (`stack.yaml.lock`, `cabal.project.freeze`; Syft's `hackage`).
    Hackage,
    /// Lua rock from a `*.rockspec` (Syft's `lua-rocks`).
    #[serde(rename = "lua-rocks")]
    LuaRocks,
    /// OpenWrt / Yocto package from the opkg status database.
    Opkg,
    /// Homebrew formula installed in a Cellar (Syft's `homebrew`).
    Homebrew,
    /// Nix store package (Syft's `nix`).
    Nix,
}

impl PackageType {
    /// Anchore's lower-case type string (`dpkg`, `apkg`, `rpm`, `python`, `npm`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            PackageType::Dpkg => "dpkg",
            PackageType::Apk => "apkg",
            PackageType::Rpm => "rpm",
            PackageType::Python => "python",
            PackageType::Npm => "npm",
            PackageType::Gem => "gem",
            PackageType::Java => "java",
            PackageType::Go => "go",
            PackageType::Rust => "rust",
            PackageType::Nuget => "nuget",
            PackageType::Composer => "composer",
            PackageType::Binary => "binary",
            PackageType::PhpPear => "php-pear",
            PackageType::WordpressPlugin => "wordpress-plugin",
            PackageType::RPackage => "r-package",
            PackageType::GithubAction => "github-action",
            PackageType::DartPub => "dart-pub",
            PackageType::Hex => "hex",
            PackageType::Swift => "swift",
            PackageType::Pod => "pod",
            PackageType::Conan => "conan",
            PackageType::Vcpkg => "vcpkg",
            PackageType::Hackage => "hackage",
            PackageType::LuaRocks => "lua-rocks",
            PackageType::Opkg => "opkg",
            PackageType::Homebrew => "homebrew",
            PackageType::Nix => "nix",
        }
    }

    /// True for packages managed by the distribution (dpkg, apk, rpm, opkg).
    pub fn is_os(self) -> bool {
        matches!(
            self,
            PackageType::Dpkg | PackageType::Apk | PackageType::Rpm | PackageType::Opkg
        )
    }
}

impl fmt::Display for PackageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An unknown package type string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown package type {0:?}")]
pub struct PackageTypeError(pub String);

impl FromStr for PackageType {
    type Err = PackageTypeError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_lowercase().as_str() {
            "dpkg" | "deb" => PackageType::Dpkg,
            "apkg" | "apk" => PackageType::Apk,
            "rpm" => PackageType::Rpm,
            "python" | "pypi" => PackageType::Python,
            "npm" | "js" => PackageType::Npm,
            "gem" | "ruby" => PackageType::Gem,
            "java" | "maven" | "java-archive" => PackageType::Java,
            "go" | "go-module" | "golang" => PackageType::Go,
            "rust" | "cargo" | "rust-crate" => PackageType::Rust,
            "nuget" | "dotnet" => PackageType::Nuget,
            "composer" | "php" | "php-composer" => PackageType::Composer,
            "binary" => PackageType::Binary,
            "php-pear" | "pear" | "php-pecl" | "pecl" => PackageType::PhpPear,
            "wordpress-plugin" | "wordpress" => PackageType::WordpressPlugin,
            "r-package" | "r" | "cran" => PackageType::RPackage,
            "github-action" | "github-action-workflow" => PackageType::GithubAction,
            "dart-pub" | "dart" | "pub" => PackageType::DartPub,
            "hex" | "erlang" | "elixir" => PackageType::Hex,
            "swift" | "swifturl" => PackageType::Swift,
            "pod" | "cocoapods" => PackageType::Pod,
            "conan" => PackageType::Conan,
            "vcpkg" => PackageType::Vcpkg,
            "hackage" | "haskell" => PackageType::Hackage,
            "lua-rocks" | "luarocks" | "lua" => PackageType::LuaRocks,
            "opkg" | "ipk" => PackageType::Opkg,
            "homebrew" | "brew" => PackageType::Homebrew,
            "nix" => PackageType::Nix,
            _ => return Err(PackageTypeError(s.to_string())),
        })
    }
}

/// PEP 503 name normalization for Python distributions: lower case, and every run of `-`, `_`
/// and `.` becomes one `-` (`Foo__Bar-.baz` -> `foo-bar-baz`).
pub fn pep503_normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
        } else {
            if separator && !out.is_empty() {
                out.push('-');
            }
            separator = false;
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Where something was found in an image: a path inside the image and the layer that provided it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Absolute path inside the image, e.g. `/var/lib/dpkg/status`.
    pub path: String,
    /// Digest of the layer (its diff_id, the uncompressed digest) the file came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<Digest>,
}

impl Location {
    /// A location with a path and its layer.
    pub fn new(path: impl Into<String>, layer: Option<Digest>) -> Self {
        Self {
            path: path.into(),
            layer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pep503_examples() {
        assert_eq!(pep503_normalize("Jinja2"), "jinja2");
        assert_eq!(pep503_normalize("zope.interface"), "zope-interface");
        assert_eq!(pep503_normalize("Foo__Bar-.baz"), "foo-bar-baz");
        assert_eq!(pep503_normalize(" PyYAML "), "pyyaml");
    }
}
