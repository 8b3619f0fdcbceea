//! The registry client: ping and auth, manifests with platform selection, verified blob
//! streaming into the cache, tag listing.

use std::collections::HashMap;
use std::path::PathBuf;

use anchorage_types::{Digest, ImageReference};
use base64::Engine as _;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Client, RequestBuilder, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use tokio::io::AsyncWriteExt;
use tokio::sync::Mutex;

use super::auth::{Challenge, parse_challenge};
use super::docker_config::{DockerConfig, HelperLookup};
use super::retry::{RetryPolicy, retry_after, retryable_error, retryable_status};
use super::token::{TokenCache, TokenKey, TokenResponse};
use crate::cache::{BlobCache, CacheError, Verifier};
use crate::error::AcquireError;
use crate::manifest::{Descriptor, MANIFEST_ACCEPT};
use crate::options::{AcquireOptions, AcquireRequest, ProgressEvent, RegistryCredential};

/// How one registry host is reached.
#[derive(Debug, Clone)]
pub(super) struct Host {
    /// `https://host[:port]` or `http://host[:port]`.
    pub(super) base: String,
    /// Registry name as in the reference (for errors and credentials).
    pub(super) registry: String,
    insecure: bool,
    challenge: Challenge,
}

/// A registry client meant to live as long as the process: it holds the HTTP connection pools,
/// the credentials, the bearer-token cache and the per-host states, shared by every
/// acquisition, digest resolution and tag listing made through it.
pub struct RegistryClient {
    secure: Client,
    insecure: Client,
    pub(super) options: AcquireOptions,
    /// Explicit credentials (they win over the Docker config).
    credentials: Vec<RegistryCredential>,
    /// The Docker config file, consulted per registry when no explicit credential matches.
    docker: Option<DockerConfig>,
    helper: HelperLookup,
    /// Docker config credentials already resolved (helpers run at most once per registry).
    resolved: Mutex<HashMap<String, Option<RegistryCredential>>>,
    hosts: Mutex<HashMap<String, Host>>,
    tokens: TokenCache,
    retry: RetryPolicy,
}

impl RegistryClient {
    /// Builds HTTP clients and loads credentials (explicit first, then the Docker config).
    pub fn new(options: &AcquireOptions) -> Result<Self, AcquireError> {
        let build = |insecure: bool| {
            Client::builder()
                .connect_timeout(options.connect_timeout)
                .read_timeout(options.read_timeout)
                .user_agent(concat!("anchorage/", env!("CARGO_PKG_VERSION")))
                .tls_danger_accept_invalid_certs(insecure)
                .build()
                .map_err(|e| AcquireError::Unsupported(format!("cannot build HTTP client: {e}")))
        };
        let mut docker = None;
        if options.use_docker_config
            && let Some(path) = &options.docker_config_path
        {
            match DockerConfig::read(path) {
                Ok(found) => docker = found,
                // The message names the file only, never its content.
                Err(msg) => tracing::warn!("ignoring {msg}"),
            }
        }
        Ok(Self {
            secure: build(false)?,
            insecure: build(true)?,
            options: options.clone(),
            credentials: options.credentials.clone(),
            docker,
            helper: HelperLookup {
                path: options.credential_helper_path.clone(),
                timeout: options.credential_helper_timeout,
            },
            resolved: Mutex::new(HashMap::new()),
            hosts: Mutex::new(HashMap::new()),
            tokens: TokenCache::default(),
            retry: RetryPolicy {
                retries: options.retries,
                base: options.retry_base_delay,
                max: options.retry_max_delay,
            },
        })
    }

    fn is_insecure(&self, registry: &str) -> bool {
        self.options.insecure_registries.iter().any(|entry| {
            let entry = entry.trim().trim_end_matches('/');
            entry == registry || (!entry.contains(':') && registry.split(':').next() == Some(entry))
        })
    }

    fn client(&self, host: &Host) -> &Client {
        if host.insecure {
            &self.insecure
        } else {
            &self.secure
        }
    }

    /// The credential for `registry`: explicit ones first, then the Docker config (its helpers
    /// run only when a registry asks for authentication, once per registry).
    async fn credential(&self, registry: &str) -> Option<RegistryCredential> {
        if let Some(c) = self.credentials.iter().find(|c| c.registry == registry) {
            return Some(c.clone());
        }
        let docker = self.docker.as_ref()?;
        let mut resolved = self.resolved.lock().await;
        if let Some(c) = resolved.get(registry) {
            return c.clone();
        }
        let found = docker.credential(registry, &self.helper).await;
        resolved.insert(registry.to_string(), found.clone());
        found
    }

    /// Sends with retries on 429, 5xx and transport errors.
    async fn send(
        &self,
        registry: &str,
        what: &str,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, AcquireError> {
        let mut attempt = 0;
        loop {
            match make().send().await {
                Ok(resp) if retryable_status(resp.status()) && attempt < self.retry.retries => {
                    let delay = self.retry.delay(attempt, retry_after(resp.headers()));
                    tracing::debug!(registry, what, status = %resp.status(), ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                }
                Ok(resp) => return Ok(resp),
                Err(e) if retryable_error(&e) && attempt < self.retry.retries => {
                    let delay = self.retry.delay(attempt, None);
                    tracing::debug!(registry, what, error = %e, ?delay, "retrying");
                    tokio::time::sleep(delay).await;
                }
                Err(e) => {
                    return Err(AcquireError::Registry {
                        registry: registry.to_string(),
                        reason: format!("{what}: {}", error_chain(&e)),
                    });
                }
            }
            attempt += 1;
        }
    }

    /// Finds how to talk to `registry`: scheme (HTTPS unless opted in) and auth challenge.
    pub(super) async fn host(&self, reference: &ImageReference) -> Result<Host, AcquireError> {
        let registry = reference.registry().to_string();
        let mut hosts = self.hosts.lock().await;
        if let Some(h) = hosts.get(&registry) {
            return Ok(h.clone());
        }
        let api = reference.api_host();
        let insecure = self.is_insecure(&registry);
        let mut candidates = vec![format!("https://{api}")];
        if insecure {
            candidates.push(format!("http://{api}"));
        }
        let mut last_err = None;
        for base in candidates {
            let client = if insecure {
                &self.insecure
            } else {
                &self.secure
            };
            let url = format!("{base}/v2/");
            let result = if insecure {
                // No retries while probing the scheme: a plain-HTTP registry fails the TLS
                // handshake at once, and we then try HTTP.
                client
                    .get(&url)
                    .send()
                    .await
                    .map_err(|e| AcquireError::Registry {
                        registry: registry.clone(),
                        reason: format!("GET {url}: {}", error_chain(&e)),
                    })
            } else {
                self.send(&registry, &format!("GET {url}"), || client.get(&url))
                    .await
            };
            match result {
                Ok(resp) => {
                    let challenge = if resp.status() == StatusCode::UNAUTHORIZED {
                        resp.headers()
                            .get(WWW_AUTHENTICATE)
                            .and_then(|v| v.to_str().ok())
                            .and_then(parse_challenge)
                            .unwrap_or(Challenge::Basic)
                    } else {
                        Challenge::None
                    };
                    let host = Host {
                        base,
                        registry: registry.clone(),
                        insecure,
                        challenge,
                    };
                    hosts.insert(registry, host.clone());
                    return Ok(host);
                }
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| AcquireError::Registry {
            registry,
            reason: "no way to reach the registry".into(),
        }))
    }

    /// The `Authorization` header for `repository` on `host`, fetching a token if needed.
    async fn authorization(
        &self,
        host: &Host,
        repository: &str,
        challenge: &Challenge,
    ) -> Result<Option<HeaderValue>, AcquireError> {
        let value = match challenge {
            Challenge::None => return Ok(None),
            Challenge::Basic => match self.credential(&host.registry).await {
                Some(c) => SecretString::from(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(format!(
                        "{}:{}",
                        c.username,
                        c.password.expose_secret()
                    ))
                )),
                None => return Ok(None),
            },
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let scope = scope
                    .clone()
                    .unwrap_or_else(|| format!("repository:{repository}:pull"));
                let key: TokenKey = (realm.clone(), service.clone().unwrap_or_default(), scope);
                let token = match self.tokens.get(&key) {
                    Some(t) => t,
                    None => self.fetch_token(host, repository, &key).await?,
                };
                SecretString::from(format!("Bearer {}", token.expose_secret()))
            }
        };
        let mut header = HeaderValue::from_str(value.expose_secret()).map_err(|_| {
            AcquireError::Unauthorized {
                registry: host.registry.clone(),
                repository: repository.to_string(),
                reason: "credentials contain characters not allowed in an HTTP header".into(),
            }
        })?;
        header.set_sensitive(true);
        Ok(Some(header))
    }

    async fn fetch_token(
        &self,
        host: &Host,
        repository: &str,
        key: &TokenKey,
    ) -> Result<SecretString, AcquireError> {
        let (realm, service, scope) = key;
        let denied = |reason: String| AcquireError::Unauthorized {
            registry: host.registry.clone(),
            repository: repository.to_string(),
            reason,
        };
        if !(realm.starts_with("https://") || (host.insecure && realm.starts_with("http://"))) {
            return Err(denied(format!(
                "token realm {realm:?} is not HTTPS (allowed only for registries in --insecure-registry)"
            )));
        }
        let mut query: Vec<(&str, &str)> = vec![("scope", scope.as_str())];
        if !service.is_empty() {
            query.push(("service", service.as_str()));
        }
        let url = reqwest::Url::parse_with_params(realm, &query)
            .map_err(|e| denied(format!("token realm {realm:?} is not a URL: {e}")))?;
        let cred = self.credential(&host.registry).await;
        let client = self.client(host);
        let resp = self
            .send(&host.registry, &format!("token request to {realm}"), || {
                let req = client.get(url.clone());
                match &cred {
                    Some(c) => req.basic_auth(&c.username, Some(c.password.expose_secret())),
                    None => req,
                }
            })
            .await?;
        if !resp.status().is_success() {
            return Err(denied(format!(
                "token endpoint {realm} answered HTTP {}{}",
                resp.status(),
                if cred.is_none() {
                    " (no credentials configured)"
                } else {
                    ""
                }
            )));
        }
        let limit = self.options.max_token_response_size;
        let bytes = self
            .read_capped(host, &format!("token response from {realm}"), resp, limit)
            .await
            .map_err(|e| denied(e.to_string()))?;
        let body: TokenResponse = serde_json::from_slice(&bytes)
            .map_err(|e| denied(format!("token endpoint {realm} sent invalid JSON: {e}")))?;
        let (token, lifetime) = body
            .into_token()
            .ok_or_else(|| denied(format!("token endpoint {realm} sent no token")))?;
        self.tokens.put(key.clone(), token.clone(), lifetime);
        Ok(token)
    }

    /// An authorized GET; on a 401 with a (new) bearer challenge the token is refreshed once.
    pub(super) async fn get(
        &self,
        host: &Host,
        repository: &str,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Response, AcquireError> {
        self.request(reqwest::Method::GET, host, repository, url, accept)
            .await
    }

    /// An authorized request (`GET` or `HEAD`); on a 401 with a (new) bearer challenge the
    /// token is refreshed once.
    pub(super) async fn request(
        &self,
        method: reqwest::Method,
        host: &Host,
        repository: &str,
        url: &str,
        accept: Option<&str>,
    ) -> Result<Response, AcquireError> {
        let mut challenge = host.challenge.clone();
        for round in 0..2 {
            let auth = self.authorization(host, repository, &challenge).await?;
            let client = self.client(host);
            let resp = self
                .send(&host.registry, &format!("{method} {url}"), || {
                    let mut req = client.request(method.clone(), url);
                    if let Some(a) = accept {
                        req = req.header(ACCEPT, a);
                    }
                    if let Some(h) = &auth {
                        req = req.header(AUTHORIZATION, h.clone());
                    }
                    req
                })
                .await?;
            if resp.status() != StatusCode::UNAUTHORIZED {
                return Ok(resp);
            }
            let fresh = resp
                .headers()
                .get(WWW_AUTHENTICATE)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_challenge);
            if let Challenge::Bearer {
                realm,
                service,
                scope,
            } = &challenge
            {
                let scope = scope
                    .clone()
                    .unwrap_or_else(|| format!("repository:{repository}:pull"));
                self.tokens
                    .remove(&(realm.clone(), service.clone().unwrap_or_default(), scope));
            }
            match fresh {
                // A registry whose `/v2/` is open may still challenge per repository; a bearer
                // challenge is also how an expired or too narrow token is refused.
                Some(c)
                    if round == 0 && !(c == Challenge::Basic && challenge == Challenge::Basic) =>
                {
                    challenge = c;
                }
                _ => {
                    let has_cred = self.credential(&host.registry).await.is_some();
                    return Err(AcquireError::Unauthorized {
                        registry: host.registry.clone(),
                        repository: repository.to_string(),
                        reason: if has_cred {
                            "credentials were rejected (HTTP 401)".into()
                        } else {
                            "authentication required and no credentials configured (HTTP 401)"
                                .into()
                        },
                    });
                }
            }
        }
        Err(AcquireError::Unauthorized {
            registry: host.registry.clone(),
            repository: repository.to_string(),
            reason: "token was rejected (HTTP 401)".into(),
        })
    }

    pub(super) fn status_error(host: &Host, what: &str, resp: &Response) -> AcquireError {
        match resp.status() {
            StatusCode::NOT_FOUND => AcquireError::NotFound {
                registry: host.registry.clone(),
                what: what.to_string(),
            },
            s => AcquireError::Registry {
                registry: host.registry.clone(),
                reason: format!("{what}: unexpected HTTP {s}"),
            },
        }
    }

    /// Reads a small body (manifest, config) with the manifest size limit.
    pub(super) async fn read_limited(
        &self,
        host: &Host,
        what: &str,
        resp: Response,
    ) -> Result<Vec<u8>, AcquireError> {
        self.read_capped(host, what, resp, self.options.max_manifest_size)
            .await
    }

    /// Reads a whole response body of at most `limit` bytes, chunk by chunk (a larger body is
    /// refused as soon as it passes the limit, never buffered whole).
    async fn read_capped(
        &self,
        host: &Host,
        what: &str,
        mut resp: Response,
        limit: u64,
    ) -> Result<Vec<u8>, AcquireError> {
        let mut body = Vec::new();
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > limit {
                        return Err(AcquireError::InvalidManifest {
                            image: what.to_string(),
                            reason: format!("response body larger than the limit of {limit} bytes"),
                        });
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(e) => {
                    return Err(AcquireError::Registry {
                        registry: host.registry.clone(),
                        reason: format!("reading {what}: {}", error_chain(&e)),
                    });
                }
            }
        }
    }

    /// Fetches a manifest or index; verifies it against `expected` when given.
    pub(super) async fn fetch_manifest(
        &self,
        host: &Host,
        repository: &str,
        reference: &str,
        expected: Option<&Digest>,
        what: &str,
    ) -> Result<(Vec<u8>, Option<String>, Digest), AcquireError> {
        let url = format!("{}/v2/{repository}/manifests/{reference}", host.base);
        let resp = self
            .get(host, repository, &url, Some(MANIFEST_ACCEPT))
            .await?;
        if !resp.status().is_success() {
            return Err(Self::status_error(host, &format!("manifest {what}"), &resp));
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = self.read_limited(host, what, resp).await?;
        let digest = match expected {
            Some(d) => {
                let mut v = Verifier::new(d, None, u64::MAX);
                v.update(&body)?;
                v.finish().map_err(|source| AcquireError::Blob {
                    image: what.to_string(),
                    source,
                })?;
                d.clone()
            }
            None => crate::cache::sha256_digest(&body),
        };
        Ok((body, content_type, digest))
    }

    /// Streams blob `desc` into the cache, verifying size and digest; retries interrupted and
    /// truncated transfers. Returns the blob path.
    pub(super) async fn fetch_blob(
        &self,
        host: &Host,
        repository: &str,
        desc: &Descriptor,
        cache: &BlobCache,
        what: &str,
        request: &AcquireRequest,
    ) -> Result<PathBuf, AcquireError> {
        let digest = &desc.digest;
        if cache.contains(digest, Some(desc.size)) {
            request.report(ProgressEvent::BlobDone {
                digest: digest.clone(),
                cached: true,
            });
            return Ok(cache.path_for(digest));
        }
        if desc.size > self.options.max_blob_size {
            return Err(AcquireError::Blob {
                image: what.to_string(),
                source: CacheError::TooLarge {
                    digest: digest.clone(),
                    limit: self.options.max_blob_size,
                },
            });
        }
        let url = format!("{}/v2/{repository}/blobs/{digest}", host.base);
        let mut attempt = 0;
        loop {
            request.report(ProgressEvent::BlobStarted {
                digest: digest.clone(),
                size: desc.size,
            });
            let resp = self.get(host, repository, &url, None).await?;
            if !resp.status().is_success() {
                return Err(Self::status_error(
                    host,
                    &format!("blob {digest} of {what}"),
                    &resp,
                ));
            }
            match self.stream_to_cache(resp, desc, cache, request).await {
                Ok(path) => {
                    request.report(ProgressEvent::BlobDone {
                        digest: digest.clone(),
                        cached: false,
                    });
                    return Ok(path);
                }
                Err(StreamError::Transfer(reason)) if attempt < self.retry.retries => {
                    tracing::debug!(%digest, reason, "blob transfer interrupted, retrying");
                }
                Err(StreamError::Cache(CacheError::SizeMismatch {
                    actual, expected, ..
                })) if actual < expected && attempt < self.retry.retries => {
                    tracing::debug!(%digest, actual, expected, "blob truncated, retrying");
                }
                Err(StreamError::Transfer(reason)) => {
                    return Err(AcquireError::Registry {
                        registry: host.registry.clone(),
                        reason: format!("blob {digest} of {what}: transfer failed: {reason}"),
                    });
                }
                Err(StreamError::Cache(source)) => {
                    return Err(AcquireError::Blob {
                        image: what.to_string(),
                        source,
                    });
                }
            }
            tokio::time::sleep(self.retry.delay(attempt, None)).await;
            attempt += 1;
        }
    }

    async fn stream_to_cache(
        &self,
        mut resp: Response,
        desc: &Descriptor,
        cache: &BlobCache,
        request: &AcquireRequest,
    ) -> Result<PathBuf, StreamError> {
        let temp = cache.temp_file()?;
        let io_err = |source: std::io::Error| {
            StreamError::Cache(CacheError::Io {
                path: temp.path().to_path_buf(),
                source,
            })
        };
        let mut file = tokio::fs::File::from_std(temp.as_file().try_clone().map_err(io_err)?);
        let mut verifier = Verifier::new(&desc.digest, Some(desc.size), self.options.max_blob_size);
        loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    verifier.update(&chunk)?;
                    file.write_all(&chunk).await.map_err(io_err)?;
                    request.report(ProgressEvent::BlobBytes {
                        digest: desc.digest.clone(),
                        bytes: chunk.len() as u64,
                    });
                }
                Ok(None) => break,
                Err(e) => return Err(StreamError::Transfer(error_chain(&e))),
            }
        }
        file.flush().await.map_err(io_err)?;
        drop(file);
        // Dropping `temp` on error deletes the partial blob.
        verifier.finish()?;
        Ok(cache.commit(temp, &desc.digest)?)
    }
}

/// Why streaming a blob failed.
enum StreamError {
    /// The connection broke (retryable).
    Transfer(String),
    /// Verification or storage failed.
    Cache(CacheError),
}

impl From<CacheError> for StreamError {
    fn from(e: CacheError) -> Self {
        Self::Cache(e)
    }
}

/// The error and its sources on one line (reqwest hides the useful part in the source).
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(inner) = cur {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        cur = inner.source();
    }
    s
}
