//! Python PEP 440 versions, via `pep440_rs` (it agrees with `packaging` 26 on every corpus row
//! and rejects every string in `pep440-invalid.tsv`).

use std::cmp::Ordering;
use std::str::FromStr;

pub(crate) type Pep440Version = pep440_rs::Version;

pub(crate) fn parse(input: &str) -> Result<Pep440Version, String> {
    pep440_rs::Version::from_str(input).map_err(|e| e.to_string().to_lowercase())
}

pub(crate) fn cmp(a: &Pep440Version, b: &Pep440Version) -> Ordering {
    a.cmp(b)
}
