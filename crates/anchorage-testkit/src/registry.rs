//! A loopback `docker-registry` (distribution 2.x) with optional htpasswd or token auth,
//! killed on drop.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::token::{ISSUER, SERVICE, TokenServer};
use crate::tools::{TestkitError, run};

/// How the registry authenticates clients.
#[derive(Debug, Clone)]
pub enum Auth {
    /// Anonymous pull and push.
    None,
    /// htpasswd (bcrypt) basic auth.
    Basic {
        /// User name.
        username: String,
        /// Password.
        password: String,
    },
    /// Bearer tokens from a [`TokenServer`]; the token endpoint checks these basic credentials
    /// when given, else issues tokens to anyone.
    Token {
        /// Credentials the token endpoint requires.
        credentials: Option<(String, String)>,
    },
}

/// A running loopback registry.
pub struct Registry {
    child: Child,
    port: u16,
    auth: Auth,
    token: Option<TokenServer>,
    dir: tempfile::TempDir,
}

impl Registry {
    /// Starts `docker-registry serve` on 127.0.0.1 with a free port and waits until it answers.
    pub fn start(auth: Auth) -> Result<Self, TestkitError> {
        let dir = tempfile::tempdir()?;
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let root = dir.path();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n",
            root.join("data").display()
        );
        let mut token = None;
        match &auth {
            Auth::None => {}
            Auth::Basic { username, password } => {
                let line = run(Command::new("htpasswd").args(["-Bbn", username, password]))?;
                let htpasswd = root.join("htpasswd");
                std::fs::write(&htpasswd, line.trim_end().to_string() + "\n")?;
                let _ = write!(
                    config,
                    "auth:\n  htpasswd:\n    realm: anchorage-test\n    path: {}\n",
                    htpasswd.display()
                );
            }
            Auth::Token { credentials } => {
                let t = TokenServer::start(root, credentials.clone())?;
                let _ = write!(
                    config,
                    "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
                    t.realm(),
                    t.cert_path().display()
                );
                token = Some(t);
            }
        }
        let config_path = root.join("config.yml");
        std::fs::write(&config_path, config)?;
        let log = std::fs::File::create(root.join("registry.log"))?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .map_err(|source| TestkitError::Spawn {
                tool: "docker-registry".into(),
                source,
            })?;
        let mut registry = Self {
            child,
            port,
            auth,
            token,
            dir,
        };
        registry.wait_ready()?;
        Ok(registry)
    }

    fn wait_ready(&mut self) -> Result<(), TestkitError> {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let log = std::fs::read_to_string(self.dir.path().join("registry.log"))
                    .unwrap_or_default();
                return Err(TestkitError::Other(format!(
                    "docker-registry exited ({status}): {log}"
                )));
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 12];
                if s.write_all(b"GET /v2/ HTTP/1.0\r\n\r\n").is_ok()
                    && s.read_exact(&mut buf).is_ok()
                    && buf.starts_with(b"HTTP/1.")
                {
                    return Ok(());
                }
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err(TestkitError::Other(
            "docker-registry did not become ready within 30 s".into(),
        ))
    }

    /// `127.0.0.1:PORT`, the registry part of references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// How clients authenticate.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The token endpoint, for token auth.
    pub fn token_server(&self) -> Option<&TokenServer> {
        self.token.as_ref()
    }

    /// The registry's scratch directory (config, data, log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// skopeo destination arguments for pushing `repository` to this registry.
    pub(crate) fn skopeo_dest_args(&self, repository: &str) -> Result<Vec<String>, TestkitError> {
        let mut args = vec!["--dest-tls-verify=false".to_string()];
        match &self.auth {
            Auth::None => {}
            Auth::Basic { username, password } => {
                args.push(format!("--dest-creds={username}:{password}"));
            }
            Auth::Token { .. } => {
                let t = self
                    .token
                    .as_ref()
                    .ok_or_else(|| TestkitError::Other("token server missing".into()))?;
                args.push(format!("--dest-registry-token={}", t.issue(&[repository])?));
            }
        }
        Ok(args)
    }

    /// The registry log so far (for test failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("registry.log")).unwrap_or_default()
    }

    /// Path of the storage root.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
