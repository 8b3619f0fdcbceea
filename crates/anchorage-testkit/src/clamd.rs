//! A private ClamAV daemon for malware-scan tests: Debian's `clamd` started on a unix socket
//! (and a loopback TCP port) in a temporary directory, with a signature database made here
//! (the public signature mirror is not reachable): an EICAR body signature and MD5 hash
//! signatures of chosen files. Stopped when dropped.

use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::tools::{TestkitError, run};

/// Name clamd reports for the EICAR test file (signatures outside the official databases get
/// the `.UNOFFICIAL` suffix).
pub const EICAR_SIGNATURE: &str = "Anchorage.Test.EICAR.UNOFFICIAL";

/// The 68-byte EICAR anti-virus test file, built from two halves so this source file itself
/// does not match a scanner's EICAR signature.
pub fn eicar() -> Vec<u8> {
    let mut v = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR".to_vec();
    v.extend_from_slice(b"-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*");
    v
}

/// The `clamd` binary: on `PATH`, else Debian's `/usr/sbin/clamd`.
fn clamd_binary() -> Option<PathBuf> {
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("clamd"))
            .find(|p| p.is_file())
    });
    on_path.or_else(|| {
        let p = PathBuf::from("/usr/sbin/clamd");
        p.is_file().then_some(p)
    })
}

/// Returns true when `clamd` and `sigtool` are installed. When not: panics if `CI=true` (CI
/// installs them with scripts/setup.sh), else prints a loud note and returns false.
#[allow(clippy::panic)]
pub fn require_clamd(test: &str) -> bool {
    let sigtool = Path::new("/usr/bin/sigtool").is_file()
        || std::env::var_os("PATH").is_some_and(|paths| {
            std::env::split_paths(&paths).any(|d| d.join("sigtool").is_file())
        });
    if clamd_binary().is_some() && sigtool {
        return true;
    }
    let msg = format!(
        "{test}: clamd/sigtool missing (apt-get install --no-install-recommends clamav-daemon \
         clamav; scripts/setup.sh does)"
    );
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("{msg}");
    }
    eprintln!("SKIPPED !!! {msg}");
    false
}

/// A running clamd (killed and waited for on drop).
#[derive(Debug)]
pub struct ClamdServer {
    child: Child,
    socket: PathBuf,
    port: u16,
    dir: PathBuf,
}

impl ClamdServer {
    /// Starts clamd in `dir` with a database of the EICAR signature and one MD5 hash signature
    /// per `(file, name)` (made with `sigtool --md5`), `StreamMaxLength` of
    /// `stream_max_length` bytes, listening on `dir/clamd.sock` and a free loopback TCP port;
    /// waits until it answers `PING`.
    pub fn start(
        dir: &Path,
        hash_signatures: &[(&Path, &str)],
        stream_max_length: u64,
    ) -> Result<Self, TestkitError> {
        let binary =
            clamd_binary().ok_or_else(|| TestkitError::Other("clamd is not installed".into()))?;
        let db = dir.join("db");
        std::fs::create_dir_all(&db)?;
        std::fs::create_dir_all(dir.join("tmp"))?;
        // Body signature (.ndb): name, any target type, at offset 0, the hex of the content.
        std::fs::write(
            db.join("anchorage-test.ndb"),
            format!("Anchorage.Test.EICAR:0:0:{}\n", hex::encode(eicar())),
        )?;
        let mut hdb = String::new();
        for (file, name) in hash_signatures {
            // `sigtool --md5 FILE` prints `MD5:SIZE:FILENAME`; the name is ours.
            let line = run(Command::new("sigtool").arg("--md5").arg(file))?;
            let mut parts = line.trim().splitn(3, ':');
            let (Some(md5), Some(size)) = (parts.next(), parts.next()) else {
                return Err(TestkitError::Other(format!(
                    "sigtool --md5 printed {line:?}"
                )));
            };
            hdb.push_str(&format!("{md5}:{size}:{name}\n"));
        }
        if !hdb.is_empty() {
            std::fs::write(db.join("anchorage-test.hdb"), hdb)?;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let socket = dir.join("clamd.sock");
        let conf = dir.join("clamd.conf");
        std::fs::write(
            &conf,
            format!(
                "Foreground yes\nDatabaseDirectory {}\nLocalSocket {}\nTCPAddr 127.0.0.1\n\
                 TCPSocket {port}\nStreamMaxLength {stream_max_length}\nLogFile {}\n\
                 TemporaryDirectory {}\nMaxThreads 4\n",
                db.display(),
                socket.display(),
                dir.join("clamd.log").display(),
                dir.join("tmp").display(),
            ),
        )?;
        let child = Command::new(binary)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|source| TestkitError::Spawn {
                tool: "clamd".into(),
                source,
            })?;
        let mut server = Self {
            child,
            socket,
            port,
            dir: dir.to_path_buf(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if server.ping() {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(TestkitError::Other(format!(
                    "clamd exited ({status}) before answering: {}",
                    server.log()
                )));
            }
            if Instant::now() > deadline {
                return Err(TestkitError::Other(format!(
                    "clamd did not answer PING within 60 s: {}",
                    server.log()
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn ping(&self) -> bool {
        let Ok(mut s) = UnixStream::connect(&self.socket) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_secs(5)));
        let mut reply = String::new();
        s.write_all(b"PING\n").is_ok()
            && s.read_to_string(&mut reply).is_ok()
            && reply.trim() == "PONG"
    }

    /// clamd's unix socket.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// clamd's TCP address, `127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// clamd's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("clamd.log")).unwrap_or_default()
    }
}

impl Drop for ClamdServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
