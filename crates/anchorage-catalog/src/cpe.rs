//! CPE 2.3 candidates for packages, generated the way Syft does for OS packages: the first CPE
//! is `vendor=name, product=name`; further candidates swap `-` for `_` and use every `-`-prefix
//! of the name as vendor. Hand-written: the format is one line and the `cpe` crate adds nothing.

/// Escapes a CPE 2.3 formatted-string component: every byte other than `A-Z a-z 0-9 . _ -`
/// gets a backslash; an empty value becomes `*`.
pub fn escape_component(value: &str) -> String {
    if value.is_empty() {
        return "*".to_string();
    }
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// One CPE 2.3 application string.
pub fn format_cpe(vendor: &str, product: &str, version: &str) -> String {
    format!(
        "cpe:2.3:a:{}:{}:{}:*:*:*:*:*:*:*",
        escape_component(vendor),
        escape_component(product),
        escape_component(version)
    )
}

/// CPE candidates for a package: the `name:name` CPE first, then the other vendor/product
/// combinations (underscored forms, `-`-prefixes of the name as vendor), without duplicates.
pub fn candidates(name: &str, version: &str) -> Vec<String> {
    if name.is_empty() {
        return Vec::new();
    }
    let underscored = name.replace('-', "_");
    let products: Vec<&str> = if underscored == name {
        vec![name]
    } else {
        vec![name, underscored.as_str()]
    };
    let mut vendors: Vec<String> = vec![name.to_string(), underscored.clone()];
    let mut prefix = name;
    while let Some(i) = prefix.rfind('-') {
        prefix = &prefix[..i];
        if prefix.is_empty() {
            break;
        }
        vendors.push(prefix.to_string());
        vendors.push(prefix.replace('-', "_"));
    }
    let mut out: Vec<String> = Vec::new();
    for vendor in &vendors {
        for product in &products {
            let cpe = format_cpe(vendor, product, version);
            if !out.contains(&cpe) {
                out.push(cpe);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_cpe_escapes_like_syft() {
        let c = candidates("libstdc++6", "12.2.0-14+deb12u1");
        assert_eq!(
            c[0],
            r"cpe:2.3:a:libstdc\+\+6:libstdc\+\+6:12.2.0-14\+deb12u1:*:*:*:*:*:*:*"
        );
        let c = candidates("gcc-12-base", "1:2");
        assert_eq!(
            c[0],
            r"cpe:2.3:a:gcc-12-base:gcc-12-base:1\:2:*:*:*:*:*:*:*"
        );
        assert_eq!(c.len(), 10);
        assert!(c.contains(&r"cpe:2.3:a:gcc:gcc_12_base:1\:2:*:*:*:*:*:*:*".to_string()));
    }
}
