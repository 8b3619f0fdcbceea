//! Source strings, following Syft's convention: `registry:REF`, `docker-archive:PATH`,
//! `oci-archive:PATH`, `oci-dir:PATH[:TAG|@DIGEST]`, `dir:PATH`; a bare `name[:tag|@digest]`
//! is a registry reference.

use anchorage_types::ErrorKind;
use std::path::PathBuf;

use anchorage_types::{Digest, ImageReference, ReferenceError};

/// Why a source string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The scheme prefix was followed by nothing.
    #[error("source {0:?} has an empty path or reference")]
    Empty(String),
    /// The registry reference is invalid.
    #[error("source {input:?}: {source}")]
    Reference {
        /// The whole source string.
        input: String,
        /// Why the reference was rejected.
        #[source]
        source: ReferenceError,
    },
    /// An `oci-dir` selector digest is invalid.
    #[error("source {input:?}: invalid digest selector {selector:?}")]
    Selector {
        /// The whole source string.
        input: String,
        /// The selector at fault.
        selector: String,
    },
}

impl SourceError {
    /// What went wrong, for HTTP status and failure-reason mapping (see [`ErrorKind`]).
    pub fn kind(&self) -> ErrorKind {
        match self {
            SourceError::Empty(_)
            | SourceError::Reference { .. }
            | SourceError::Selector { .. } => ErrorKind::InvalidInput,
        }
    }
}

/// Which manifest of an OCI layout to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayoutSelector {
    /// The only manifest (error when there are several).
    Default,
    /// The manifest whose `org.opencontainers.image.ref.name` annotation equals this (or ends
    /// with `:` + this).
    Tag(String),
    /// The manifest (or index) with this digest.
    Digest(Digest),
}

/// A parsed image source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A registry reference.
    Registry(ImageReference),
    /// A `docker save` tarball.
    DockerArchive(PathBuf),
    /// An OCI image layout packed in a tar file.
    OciArchive(PathBuf, LayoutSelector),
    /// An OCI image layout directory.
    OciDir(PathBuf, LayoutSelector),
    /// A plain root filesystem directory.
    Dir(PathBuf),
}

impl Source {
    /// Parses a source string.
    pub fn parse(input: &str) -> Result<Self, SourceError> {
        let empty = || SourceError::Empty(input.to_string());
        let non_empty = |s: &str| {
            if s.is_empty() {
                Err(empty())
            } else {
                Ok(s.to_string())
            }
        };
        if let Some(rest) = input.strip_prefix("registry:") {
            non_empty(rest)?;
            return parse_reference(input, rest).map(Self::Registry);
        }
        if let Some(rest) = input.strip_prefix("docker-archive:") {
            return Ok(Self::DockerArchive(non_empty(rest)?.into()));
        }
        if let Some(rest) = input.strip_prefix("oci-archive:") {
            let (path, sel) = split_selector(input, &non_empty(rest)?)?;
            return Ok(Self::OciArchive(path, sel));
        }
        if let Some(rest) = input.strip_prefix("oci-dir:") {
            let (path, sel) = split_selector(input, &non_empty(rest)?)?;
            return Ok(Self::OciDir(path, sel));
        }
        if let Some(rest) = input.strip_prefix("dir:") {
            return Ok(Self::Dir(non_empty(rest)?.into()));
        }
        non_empty(input)?;
        parse_reference(input, input).map(Self::Registry)
    }

    /// The scheme name used in [`crate::AcquiredImage::scheme`].
    pub fn scheme(&self) -> &'static str {
        match self {
            Self::Registry(_) => "registry",
            Self::DockerArchive(_) => "docker-archive",
            Self::OciArchive(..) => "oci-archive",
            Self::OciDir(..) => "oci-dir",
            Self::Dir(_) => "dir",
        }
    }
}

fn parse_reference(input: &str, r: &str) -> Result<ImageReference, SourceError> {
    ImageReference::parse(r).map_err(|source| SourceError::Reference {
        input: input.to_string(),
        source,
    })
}

/// Splits `PATH[:TAG|@DIGEST]`. A path that exists as written is never split.
fn split_selector(input: &str, rest: &str) -> Result<(PathBuf, LayoutSelector), SourceError> {
    if std::path::Path::new(rest).exists() {
        return Ok((rest.into(), LayoutSelector::Default));
    }
    if let Some((path, sel)) = rest.rsplit_once('@')
        && !path.is_empty()
    {
        let digest = sel.parse::<Digest>().map_err(|_| SourceError::Selector {
            input: input.to_string(),
            selector: sel.to_string(),
        })?;
        return Ok((path.into(), LayoutSelector::Digest(digest)));
    }
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    if let Some(i) = rest[last_slash..].rfind(':') {
        let at = last_slash + i;
        let (path, tag) = (&rest[..at], &rest[at + 1..]);
        if !path.is_empty() && !tag.is_empty() {
            return Ok((path.into(), LayoutSelector::Tag(tag.to_string())));
        }
    }
    Ok((rest.into(), LayoutSelector::Default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_scheme() {
        assert_eq!(
            Source::parse("alpine:3.20").unwrap(),
            Source::Registry(ImageReference::parse("alpine:3.20").unwrap())
        );
        assert_eq!(
            Source::parse("registry:localhost:5000/a").unwrap().scheme(),
            "registry"
        );
        assert_eq!(
            Source::parse("docker-archive:/x/a.tar").unwrap(),
            Source::DockerArchive("/x/a.tar".into())
        );
        assert_eq!(
            Source::parse("oci-dir:/nonexistent/layout:alpine-3.20").unwrap(),
            Source::OciDir(
                "/nonexistent/layout".into(),
                LayoutSelector::Tag("alpine-3.20".into())
            )
        );
        let d = "sha256:d4e6fd67dcf75e40c451560ac7265166c2b72a0f38ddc9aae756a7de3d1efa0c";
        assert_eq!(
            Source::parse(&format!("oci-archive:/n/a.tar@{d}")).unwrap(),
            Source::OciArchive(
                "/n/a.tar".into(),
                LayoutSelector::Digest(d.parse().unwrap())
            )
        );
        assert_eq!(Source::parse("dir:/").unwrap(), Source::Dir("/".into()));
        assert!(Source::parse("dir:").is_err());
        assert!(Source::parse("").is_err());
        assert!(Source::parse("registry:UPPER").is_err());
        assert!(Source::parse("oci-dir:/n/x@sha256:zz").is_err());
    }
}
