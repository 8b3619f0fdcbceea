//! Exit statuses of the binary, and how an error chain is printed.

use std::process::ExitCode;

/// How `anchorage` exits. The numbers are part of the CLI contract (CI jobs test them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ExitStatus {
    /// 0: done; no finding at/above `--fail-on`, policy GO or WARN, bundle valid, tests pass.
    Ok,
    /// 1: the verdict is negative: policy STOP, a finding at/above `--fail-on` (or `--fail-on`
    /// with vulnerability data unavailable), bundle validation problems, a failed bundle test.
    PolicyStop,
    /// 1: the engine API refused a request (a non-2xx answer other than 401 and 500, as
    /// anchore-cli exits).
    Refused,
    /// 2: an error stopped the command (unreadable input, unreachable registry, a feed source
    /// that failed to sync).
    Error,
}

impl ExitStatus {
    /// The process exit code.
    pub(crate) fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::PolicyStop | ExitStatus::Refused => 1,
            ExitStatus::Error => 2,
        }
    }

    /// [`ExitStatus::PolicyStop`] when `failed`, else [`ExitStatus::Ok`].
    pub(crate) fn fail_if(failed: bool) -> Self {
        if failed {
            ExitStatus::PolicyStop
        } else {
            ExitStatus::Ok
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(s: ExitStatus) -> Self {
        ExitCode::from(s.code())
    }
}

/// The error and its causes joined by `: `, skipping a cause whose text the line already
/// holds (a library error that names its cause in its own message as well as in `source()`
/// would otherwise print it twice).
pub(crate) fn error_chain(err: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if text.is_empty() || out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_documented_ones() {
        assert_eq!(ExitStatus::Ok.code(), 0);
        assert_eq!(ExitStatus::PolicyStop.code(), 1);
        assert_eq!(ExitStatus::Refused.code(), 1);
        assert_eq!(ExitStatus::Error.code(), 2);
        assert_eq!(ExitStatus::fail_if(true), ExitStatus::PolicyStop);
        assert_eq!(ExitStatus::fail_if(false), ExitStatus::Ok);
    }

    #[test]
    fn synthetic_chain_prints_each_cause_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file or directory");
        let err = anyhow::Error::new(io)
            .context("/missing.tar: No such file or directory")
            .context("acquiring docker-archive:/missing.tar");
        assert_eq!(
            error_chain(&err),
            "acquiring docker-archive:/missing.tar: /missing.tar: No such file or directory"
        );
    }
}
