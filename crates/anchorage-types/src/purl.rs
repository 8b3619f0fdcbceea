//! The one package-URL encoder of the workspace (catalogers and SBOM encoders use it).
//! Package URLs, encoded the way Syft (packageurl-go) encodes them, so our purls compare equal
//! to Syft's: every byte outside `A-Z a-z 0-9 - . _ ~ :` is percent-encoded (so `+` becomes `%2B`
//! and `@` in a qualifier value becomes `%40`, while an epoch colon stays as written).
//! Hand-written rather than the `packageurl` crate because that crate's escaping of `:` and `+`
//! differs from Syft's output, which our accuracy tests compare against byte for byte.

use std::fmt::Write as _;

/// Percent-encodes one purl component (namespace segment, name, version or qualifier value).
pub fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b':') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Builds `pkg:TYPE/NAMESPACE/NAME@VERSION?k=v&...`. Qualifiers with empty values are dropped and
/// the rest are sorted by key, as the purl specification requires. `namespace` may hold several
/// `/`-separated segments; each is encoded on its own.
pub fn for_package(
    purl_type: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> String {
    let mut out = format!("pkg:{}/", purl_type.to_ascii_lowercase());
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        for segment in ns.split('/').filter(|s| !s.is_empty()) {
            out.push_str(&encode_component(segment));
            out.push('/');
        }
    }
    out.push_str(&encode_component(name));
    if !version.is_empty() {
        out.push('@');
        out.push_str(&encode_component(version));
    }
    let mut qs: Vec<(&str, &str)> = qualifiers
        .iter()
        .copied()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    qs.sort_by(|a, b| a.0.cmp(b.0));
    for (i, (k, v)) in qs.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(&k.to_ascii_lowercase());
        out.push('=');
        out.push_str(&encode_component(v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_syft_forms() {
        assert_eq!(
            for_package(
                "deb",
                Some("debian"),
                "bsdutils",
                "1:2.38.1-5+deb12u3",
                &[
                    ("distro", "debian-12"),
                    ("arch", "amd64"),
                    ("upstream", "util-linux@2.38.1-5+deb12u3")
                ]
            ),
            "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64&distro=debian-12&upstream=util-linux%402.38.1-5%2Bdeb12u3"
        );
        assert_eq!(
            for_package(
                "deb",
                Some("debian"),
                "libstdc++6",
                "1",
                &[("upstream", "")]
            ),
            "pkg:deb/debian/libstdc%2B%2B6@1"
        );
    }

    /// Purls copied from Syft 1.x's output for the corpus images
    /// (`corpus/syft/debian-bookworm-app.syft.json.gz`, `corpus/syft/alpine-3.20.syft.json`),
    /// rebuilt from their components.
    #[test]
    fn rebuilds_corpus_syft_purls() {
        let cases: &[(&str, String)] = &[
            (
                "pkg:deb/debian/base-files@12.4%2Bdeb12u15?arch=amd64&distro=debian-12",
                for_package(
                    "deb",
                    Some("debian"),
                    "base-files",
                    "12.4+deb12u15",
                    &[("distro", "debian-12"), ("arch", "amd64")],
                ),
            ),
            (
                "pkg:deb/debian/bash@5.2.15-2%2Bb13?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2",
                for_package(
                    "deb",
                    Some("debian"),
                    "bash",
                    "5.2.15-2+b13",
                    &[
                        ("upstream", "bash@5.2.15-2"),
                        ("distro", "debian-12"),
                        ("arch", "amd64"),
                    ],
                ),
            ),
            (
                "pkg:apk/alpine/alpine-baselayout-data@3.6.5-r0?arch=x86_64&distro=alpine-3.20.3&upstream=alpine-baselayout",
                for_package(
                    "apk",
                    Some("alpine"),
                    "alpine-baselayout-data",
                    "3.6.5-r0",
                    &[
                        ("arch", "x86_64"),
                        ("upstream", "alpine-baselayout"),
                        ("distro", "alpine-3.20.3"),
                    ],
                ),
            ),
            (
                "pkg:npm/utils-merge@1.0.1",
                for_package("npm", None, "utils-merge", "1.0.1", &[]),
            ),
            (
                "pkg:pypi/certifi@2018.4.16",
                for_package("pypi", None, "certifi", "2018.4.16", &[]),
            ),
        ];
        for (want, got) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn synthetic_language_purls_use_the_same_rules() {
        assert_eq!(
            for_package("npm", Some("@types"), "node", "1.0.0", &[]),
            "pkg:npm/%40types/node@1.0.0"
        );
        assert_eq!(
            for_package(
                "golang",
                Some("github.com/docker"),
                "docker",
                "v24.0.7+incompatible",
                &[]
            ),
            "pkg:golang/github.com/docker/docker@v24.0.7%2Bincompatible"
        );
        assert_eq!(for_package("gem", None, "rake", "", &[]), "pkg:gem/rake");
    }
}
