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
}
