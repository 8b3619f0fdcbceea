//! Test support: a tiny HTTP/1.1 file server on 127.0.0.1:0 that honours `If-None-Match` and
//! counts requests, and builders that lay the corpus feeds out in their upstream layouts
//! (`<base>/<ecosystem>/all.zip` for OSV, `<base>/<branch>/main.json` for Alpine secdb).

#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

pub use anchorage_testkit::corpus_dir as corpus;

#[derive(Clone)]
struct Served {
    body: Vec<u8>,
    etag: String,
    /// Announce more bytes than sent, then close (a cut connection).
    truncate: bool,
}

/// A local HTTP server over an in-memory file map.
#[derive(Clone)]
pub struct Server {
    pub base: String,
    files: Arc<Mutex<HashMap<String, Served>>>,
    pub requests: Arc<AtomicUsize>,
    pub not_modified: Arc<AtomicUsize>,
    version: Arc<AtomicUsize>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let server = Server {
            base,
            files: Arc::new(Mutex::new(HashMap::new())),
            requests: Arc::new(AtomicUsize::new(0)),
            not_modified: Arc::new(AtomicUsize::new(0)),
            version: Arc::new(AtomicUsize::new(0)),
        };
        let s = server.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let s = s.clone();
                std::thread::spawn(move || s.handle(stream));
            }
        });
        server
    }

    fn handle(&self, stream: std::net::TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut first = String::new();
        if reader.read_line(&mut first).is_err() {
            return;
        }
        let mut inm = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
            if let Some((k, v)) = line.split_once(':')
                && k.eq_ignore_ascii_case("if-none-match")
            {
                inm = Some(v.trim().to_string());
            }
        }
        self.requests.fetch_add(1, Ordering::SeqCst);
        let path = first.split_whitespace().nth(1).unwrap_or("/").to_string();
        let served = self.files.lock().unwrap().get(&path).cloned();
        let mut out = stream;
        match served {
            None => {
                let _ = out.write_all(
                    b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
            Some(f) if inm.as_deref() == Some(f.etag.as_str()) => {
                self.not_modified.fetch_add(1, Ordering::SeqCst);
                let _ = write!(
                    out,
                    "HTTP/1.1 304 Not Modified\r\nETag: {}\r\nConnection: close\r\n\r\n",
                    f.etag
                );
            }
            Some(f) => {
                let announced = if f.truncate {
                    f.body.len() * 2
                } else {
                    f.body.len()
                };
                let sent = if f.truncate {
                    &f.body[..f.body.len() / 2]
                } else {
                    &f.body[..]
                };
                let _ = write!(
                    out,
                    "HTTP/1.1 200 OK\r\nContent-Length: {announced}\r\nETag: {}\r\n\
                     Last-Modified: Sat, 28 Nov 2026 00:00:00 GMT\r\nConnection: close\r\n\r\n",
                    f.etag
                );
                let _ = out.write_all(sent);
                let _ = out.flush();
            }
        }
    }

    /// Serve `body` at `path` (a new ETag each time it is set).
    pub fn put(&self, path: &str, body: Vec<u8>) {
        self.put_with(path, body, false);
    }

    /// Serve `path` as a connection cut half-way through the body.
    pub fn put_truncated(&self, path: &str, body: Vec<u8>) {
        self.put_with(path, body, true);
    }

    fn put_with(&self, path: &str, body: Vec<u8>, truncate: bool) {
        let v = self.version.fetch_add(1, Ordering::SeqCst);
        let etag = format!("\"v{v}-{}\"", body.len());
        self.files.lock().unwrap().insert(
            path.to_string(),
            Served {
                body,
                etag,
                truncate,
            },
        );
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

/// A zip of (name, bytes) entries.
pub fn zip_of(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        w.start_file(name.as_str(), opts).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The record files of one corpus OSV folder, sorted by name.
pub fn osv_records(folder: &str) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(corpus().join("osv").join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Corpus OSV folders and the export directory name upstream uses for each.
pub const OSV_EXPORTS: &[(&str, &str)] = &[
    ("PyPI", "PyPI"),
    ("Go", "Go"),
    ("crates", "crates.io"),
    ("npm", "npm"),
    ("Maven", "Maven"),
];

/// Serve every corpus OSV folder as `<base>/<ecosystem>/all.zip`; returns the source strings.
pub fn serve_osv_exports(server: &Server) -> Vec<String> {
    OSV_EXPORTS
        .iter()
        .map(|(folder, eco)| {
            let path = format!("/{eco}/all.zip");
            server.put(&path, zip_of(&osv_records(folder)));
            format!("osv:{}", server.url(&path))
        })
        .collect()
}

/// The official per-branch secdb document (`{distroversion, reponame, urlprefix, apkurl, archs,
/// packages: [{pkg: {name, secfixes}}]}`) assembled from the corpus per-package files of a
/// branch (each of which is one `pkg` entry plus the branch fields).
pub fn alpine_branch_document(branch: &str) -> Vec<u8> {
    let dir = corpus()
        .join("distro/alpine-secdb-json")
        .join(branch)
        .join("main");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut packages = Vec::new();
    let mut head = BTreeMap::new();
    for f in files {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        for k in ["apkurl", "archs", "urlprefix", "reponame", "distroversion"] {
            head.insert(k.to_string(), v[k].clone());
        }
        packages.push(serde_json::json!({"pkg": {"name": v["name"], "secfixes": v["secfixes"]}}));
    }
    let mut doc = serde_json::Map::new();
    for (k, v) in head {
        doc.insert(k, v);
    }
    doc.insert("packages".into(), serde_json::Value::Array(packages));
    serde_json::to_vec_pretty(&serde_json::Value::Object(doc)).unwrap()
}

/// Serve the Alpine branches at `<base>/<branch>/main.json`; returns the source strings.
pub fn serve_alpine(server: &Server) -> Vec<String> {
    ["v3.12", "v3.20"]
        .iter()
        .map(|b| {
            let path = format!("/alpine/{b}/main.json");
            server.put(&path, alpine_branch_document(b));
            format!("alpine-secdb:{}", server.url(&path))
        })
        .collect()
}

/// Serve the Debian tracker per-entry files (CVE/YYYY, DSA, DLA) as one zip in that layout
/// (the upstream tracker publishes a single JSON dump; the per-entry files are vuln-list's
/// layout, so this zip is ours); returns the source string.
pub fn serve_debian_entries(server: &Server) -> String {
    let root = corpus().join("distro/debian-tracker");
    let mut entries = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(&root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                entries.push((rel, std::fs::read(&p).unwrap()));
            }
        }
    }
    entries.sort();
    server.put("/debian/tracker.zip", zip_of(&entries));
    format!("debian-tracker:{}", server.url("/debian/tracker.zip"))
}
