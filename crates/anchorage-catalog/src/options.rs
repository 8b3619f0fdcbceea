//! Analysis options: which extra scans run and with which limits.

/// Secret scanning settings.
#[derive(Debug, Clone, PartialEq)]
pub struct SecretsOptions {
    /// Whether the secret scan runs.
    pub enabled: bool,
    /// Named regexes `(rule name, pattern)`; a hit records the rule name and line, never the text.
    pub rules: Vec<(String, String)>,
    /// Files larger than this many bytes are skipped.
    pub max_file_size: u64,
}

impl Default for SecretsOptions {
    fn default() -> Self {
        Self {
            enabled: true,
            rules: default_secret_rules(),
            max_file_size: 10 * 1024 * 1024,
        }
    }
}

/// Anchore's default secret rules, adapted to the `regex` crate (no look-around: the
/// "not preceded/followed by `[A-Z0-9]`" conditions are expressed with explicit
/// non-alphanumeric-or-boundary groups).
pub fn default_secret_rules() -> Vec<(String, String)> {
    [
        (
            "AWS_ACCESS_KEY",
            r"(?i)aws_access_key_id( *=+ *).*(?:^|[^A-Z0-9])[A-Z0-9]{20}(?:[^A-Z0-9]|$)",
        ),
        (
            "AWS_SECRET_KEY",
            r"(?i)aws_secret_access_key( *=+ *).*(?:^|[^A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?:[^A-Za-z0-9/+=]|$)",
        ),
        ("PRIV_KEY", r"(?i)-+BEGIN(.*)PRIVATE KEY-+"),
        (
            "DOCKER_AUTH",
            r#"(?i)"auths"\s*:\s*\{\s*"[^"]*"\s*:\s*\{\s*"auth"\s*:\s*"[^"]+""#,
        ),
        (
            "API_KEY",
            r#"(?i)api(-|_)key( *=+ *)["']?[0-9a-z_-]{16,}"#,
        ),
    ]
    .into_iter()
    .map(|(n, p)| (n.to_string(), p.to_string()))
    .collect()
}

/// Which file records an analysis keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum FileRecordScope {
    /// Every path of the tree (the stored analysis document, native JSON).
    #[default]
    All,
    /// Only the records CycloneDX and SPDX encoders use: paths a package declares, owns or was
    /// found at, plus the root. Their output is the same as with `All`; memory no longer grows
    /// with the number of unrelated files (millions in monorepo and ML images).
    Related,
}

/// Options for one analysis. `Default` gives Anchore's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogOptions {
    /// Secret scan settings.
    pub secrets: SecretsOptions,
    /// User-configured content-search regexes `(name, pattern)`; empty by default.
    pub content_search: Vec<(String, String)>,
    /// Files whose content is kept for policy gates (default `/etc/passwd`).
    pub retrieve_files: Vec<String>,
    /// Largest retrieved file in bytes (default 1000 KB).
    pub retrieve_max_bytes: u64,
    /// Compute sha256 of every regular file (default true).
    pub file_digests: bool,
    /// Dockerfile supplied by the user (`Actual` mode); `None` means `Guessed` from history.
    pub dockerfile: Option<String>,
    /// Keep language packages whose files an OS package owns, attributed to that package through
    /// [`crate::Package::owner`] (default true, as Syft 1.18.1 reports them with an
    /// ownership-by-file-overlap relationship). Matching skips owned packages by default so a
    /// vulnerability is not counted twice; `false` drops them from the analysis altogether.
    pub report_owned_language_packages: bool,
    /// Largest package database read (status, installed, rpmdb), bytes.
    pub max_database_size: u64,
    /// Largest metadata file read by catalogers (copyright, `*.list`, `*.md5sums`), bytes.
    pub max_metadata_file_size: u64,
    /// Bounds on rpm header blobs and on reading `rpmdb.sqlite`.
    pub rpm: crate::os::rpm::RpmLimits,
    /// Limits of the language and binary catalogers.
    pub language: crate::lang::LangLimits,
    /// Which file records are kept (default all).
    pub file_records: FileRecordScope,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        Self {
            secrets: SecretsOptions::default(),
            content_search: Vec::new(),
            retrieve_files: vec!["/etc/passwd".to_string()],
            retrieve_max_bytes: 1000 * 1024,
            file_digests: true,
            dockerfile: None,
            report_owned_language_packages: true,
            max_database_size: 512 * 1024 * 1024,
            max_metadata_file_size: 16 * 1024 * 1024,
            rpm: crate::os::rpm::RpmLimits::default(),
            language: crate::lang::LangLimits::default(),
            file_records: FileRecordScope::All,
        }
    }
}
