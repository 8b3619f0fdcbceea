//! Running external tools.

use std::process::Command;

/// Why a test-support step failed.
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    /// A tool could not be started.
    #[error("cannot run {tool}: {source}")]
    Spawn {
        /// The tool.
        tool: String,
        /// Underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A tool exited with an error.
    #[error("{command} failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        command: String,
        /// Exit status.
        status: String,
        /// Its stderr.
        stderr: String,
    },
    /// Filesystem or socket error.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// Something else.
    #[error("{0}")]
    Other(String),
}

/// Runs a command, returning its stdout; an error carries its stderr.
pub fn run(cmd: &mut Command) -> Result<String, TestkitError> {
    let tool = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|source| TestkitError::Spawn {
        tool: tool.clone(),
        source,
    })?;
    if !out.status.success() {
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        return Err(TestkitError::Failed {
            command: format!("{tool} {}", args.join(" ")),
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn on_path(tool: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(tool).is_file()))
}

/// Returns true when every tool is on `PATH`. When one is missing: panics if `CI=true`
/// (a CI run must not silently skip), else prints a note and returns false (skip the test).
#[allow(clippy::panic)]
pub fn require_tools(test: &str, tools: &[&str]) -> bool {
    let missing: Vec<&str> = tools.iter().copied().filter(|t| !on_path(t)).collect();
    if missing.is_empty() {
        return true;
    }
    let msg = format!(
        "{test}: missing tools {missing:?} (apt-get install docker-registry skopeo umoci apache2-utils openssl)"
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED {msg}");
    false
}
