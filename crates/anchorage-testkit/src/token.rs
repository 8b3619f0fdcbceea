//! A tiny token endpoint for the registry's token auth: issues RS256 JWTs signed with a key and
//! self-signed certificate made by `openssl` at start (the registry trusts that certificate).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

use crate::http::{FakeResponse, FakeServer, Request};
use crate::tools::{TestkitError, run};

/// Issuer name in tokens and in the registry config.
pub(crate) const ISSUER: &str = "anchorage-test-issuer";
/// Service name in tokens and in the registry config.
pub(crate) const SERVICE: &str = "anchorage-test-registry";

#[derive(Clone)]
struct Signer {
    key: PathBuf,
    cert_der_b64: String,
}

impl Signer {
    fn jwt(&self, subject: &str, access: &[(String, Vec<String>)]) -> Result<String, TestkitError> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [self.cert_der_b64]});
        let access: Vec<serde_json::Value> = access
            .iter()
            .map(|(name, actions)| serde_json::json!({"type": "repository", "name": name, "actions": actions}))
            .collect();
        let claims = serde_json::json!({
            "iss": ISSUER, "aud": SERVICE, "sub": subject,
            "exp": now + 300, "nbf": now.saturating_sub(30), "iat": now,
            "jti": format!("{now}-{}", std::process::id()),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut child = Command::new("openssl")
            .args(["dgst", "-sha256", "-sign"])
            .arg(&self.key)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| TestkitError::Spawn {
                tool: "openssl".into(),
                source,
            })?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(signing_input.as_bytes())?;
        }
        let out = child.wait_with_output()?;
        if !out.status.success() {
            return Err(TestkitError::Other(format!(
                "openssl dgst -sign failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(out.stdout)
        ))
    }
}

/// The running token endpoint (`GET /token?service=..&scope=..`).
pub struct TokenServer {
    server: FakeServer,
    signer: Signer,
    cert: PathBuf,
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let hex = |c: u8| (c as char).to_digit(16);
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && let (Some(h), Some(l)) = (
                b.get(i + 1).and_then(|c| hex(*c)),
                b.get(i + 2).and_then(|c| hex(*c)),
            )
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `repository:NAME:ACTIONS` scopes of a token request.
fn scopes(req: &Request) -> Vec<(String, Vec<String>)> {
    let query = req.path.split_once('?').map_or("", |(_, q)| q);
    query
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .filter(|(k, _)| *k == "scope")
        .flat_map(|(_, v)| {
            percent_decode(v)
                .split(' ')
                .filter_map(|scope| {
                    let rest = scope.strip_prefix("repository:")?;
                    let (name, actions) = rest.rsplit_once(':')?;
                    Some((
                        name.to_string(),
                        actions.split(',').map(str::to_string).collect(),
                    ))
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

impl TokenServer {
    /// Makes a key and certificate in `dir` and starts serving. With `credentials`, requests
    /// must carry matching basic auth (else 401); without, tokens are issued anonymously.
    pub fn start(dir: &Path, credentials: Option<(String, String)>) -> Result<Self, TestkitError> {
        let key = dir.join("token.key");
        let cert = dir.join("token.crt");
        let der = dir.join("token.der");
        run(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "2",
                "-subj",
                "/CN=anchorage-test-token-issuer",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert))?;
        run(Command::new("openssl")
            .args(["x509", "-outform", "DER", "-in"])
            .arg(&cert)
            .arg("-out")
            .arg(&der))?;
        let signer = Signer {
            key,
            cert_der_b64: STANDARD.encode(std::fs::read(&der)?),
        };
        let expected =
            credentials.map(|(u, p)| format!("Basic {}", STANDARD.encode(format!("{u}:{p}"))));
        let s = Arc::new(signer.clone());
        let server = FakeServer::start(move |req| {
            if !req.path.starts_with("/token") {
                return FakeResponse::new(404, "not found");
            }
            if let Some(exp) = &expected
                && req.header("authorization") != Some(exp.as_str())
            {
                return FakeResponse::new(401, r#"{"errors":[{"code":"UNAUTHORIZED"}]}"#);
            }
            match s.jwt("anchorage-test", &scopes(req)) {
                Ok(t) => FakeResponse::new(
                    200,
                    serde_json::json!({"token": t, "expires_in": 300}).to_string(),
                )
                .header("Content-Type", "application/json"),
                Err(e) => FakeResponse::new(500, e.to_string()),
            }
        })?;
        Ok(Self {
            server,
            signer,
            cert,
        })
    }

    /// The realm URL for the registry config.
    pub fn realm(&self) -> String {
        format!("http://{}/token", self.server.host())
    }

    /// The certificate the registry must trust.
    pub fn cert_path(&self) -> &Path {
        &self.cert
    }

    /// Issues a token with pull and push on `repositories` (for pushing test images).
    pub fn issue(&self, repositories: &[&str]) -> Result<String, TestkitError> {
        let access: Vec<(String, Vec<String>)> = repositories
            .iter()
            .map(|r| {
                (
                    (*r).to_string(),
                    vec!["pull".to_string(), "push".to_string()],
                )
            })
            .collect();
        self.signer.jwt("anchorage-test-pusher", &access)
    }

    /// Token requests received so far.
    pub fn requests(&self) -> Vec<Request> {
        self.server.requests()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_scopes() {
        let req = Request {
            method: "GET".into(),
            path: "/token?scope=repository%3Acorpus%2Falpine%3Apull%2Cpush&service=x".into(),
            headers: vec![],
        };
        assert_eq!(
            scopes(&req),
            vec![(
                "corpus/alpine".to_string(),
                vec!["pull".to_string(), "push".to_string()]
            )]
        );
        assert_eq!(percent_decode("a%2"), "a%2");
    }
}
