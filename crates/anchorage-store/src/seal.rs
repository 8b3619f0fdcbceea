//! Secrets at rest: registry passwords are sealed with ChaCha20-Poly1305 under a 32-byte key
//! given by the operator (`ANCHORAGE_SECRET_KEY`) or kept in a key file beside the embedded
//! database (created once with mode 0600). A sealed value is `nonce (12 bytes) || ciphertext`.

use std::io::Write as _;
use std::path::Path;

use chacha20poly1305::aead::{Aead as _, KeyInit as _};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use secrecy::{ExposeSecret as _, SecretString};

use crate::StoreError;

/// Seals and opens secrets with one key.
#[derive(Clone)]
pub struct Sealer {
    cipher: ChaCha20Poly1305,
}

impl std::fmt::Debug for Sealer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Sealer([key redacted])")
    }
}

fn bad_key(reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what: "secret key".into(),
        reason: reason.into(),
    }
}

impl Sealer {
    /// A sealer from a key written as 64 hex digits.
    pub fn from_hex(key: &SecretString) -> Result<Self, StoreError> {
        let bytes = hex::decode(key.expose_secret().trim())
            .map_err(|_| bad_key("the key is not hex (expected 64 hex digits)"))?;
        let len = bytes.len();
        let key: [u8; 32] = bytes.try_into().map_err(|_| {
            bad_key(format!(
                "the key has {len} bytes (expected 32: 64 hex digits)"
            ))
        })?;
        Ok(Self {
            cipher: ChaCha20Poly1305::new(&Key::from(key)),
        })
    }

    /// The key in `path`, created (random, mode 0600) when the file does not exist.
    pub fn from_key_file(path: &Path) -> Result<Self, StoreError> {
        let io = |e: std::io::Error| bad_key(format!("{}: {e}", path.display()));
        if !path.exists() {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(io)?;
            }
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| bad_key(format!("no randomness: {e}")))?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
            let mut file = options.open(path).map_err(io)?;
            file.write_all(hex::encode(key).as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
        }
        let text = std::fs::read_to_string(path).map_err(io)?;
        Self::from_hex(&SecretString::from(text))
    }

    /// Seals a secret.
    pub fn seal(&self, secret: &SecretString) -> Result<Vec<u8>, StoreError> {
        let mut nonce = [0u8; 12];
        getrandom::fill(&mut nonce).map_err(|e| bad_key(format!("no randomness: {e}")))?;
        let sealed = self
            .cipher
            .encrypt(&Nonce::from(nonce), secret.expose_secret().as_bytes())
            .map_err(|_| bad_key("encryption failed"))?;
        let mut out = nonce.to_vec();
        out.extend(sealed);
        Ok(out)
    }

    /// Opens a sealed secret; an error when it was sealed under another key or damaged.
    pub fn open(&self, sealed: &[u8]) -> Result<SecretString, StoreError> {
        if sealed.len() < 12 {
            return Err(bad_key("sealed value too short"));
        }
        let (nonce, body) = sealed.split_at(12);
        let nonce: [u8; 12] = nonce
            .try_into()
            .map_err(|_| bad_key("sealed value too short"))?;
        let clear = self
            .cipher
            .decrypt(&Nonce::from(nonce), body)
            .map_err(|_| {
                bad_key("a stored secret does not open with this key (was the key changed?)")
            })?;
        String::from_utf8(clear)
            .map(SecretString::from)
            .map_err(|_| bad_key("a stored secret is not text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_their_key() {
        let a = Sealer::from_hex(&SecretString::from("11".repeat(32))).ok();
        let b = Sealer::from_hex(&SecretString::from("22".repeat(32))).ok();
        let (Some(a), Some(b)) = (a, b) else {
            panic!("keys")
        };
        let sealed = a.seal(&SecretString::from("hunter2".to_string())).ok();
        let Some(sealed) = sealed else { panic!("seal") };
        assert!(!sealed.windows(7).any(|w| w == b"hunter2"));
        assert_eq!(
            a.open(&sealed).ok().map(|s| s.expose_secret().to_string()),
            Some("hunter2".to_string())
        );
        assert!(b.open(&sealed).is_err());
        assert!(Sealer::from_hex(&SecretString::from("abc".to_string())).is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = tempfile::tempdir().ok();
        let Some(dir) = dir else { panic!("tempdir") };
        let path = dir.path().join("k").join("secret.key");
        let a = Sealer::from_key_file(&path).ok();
        let b = Sealer::from_key_file(&path).ok();
        let (Some(a), Some(b)) = (a, b) else {
            panic!("key file")
        };
        let sealed = a.seal(&SecretString::from("pw".to_string())).ok();
        assert!(sealed.and_then(|s| b.open(&s).ok()).is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(&path)
                .map(|m| m.permissions().mode() & 0o777)
                .ok();
            assert_eq!(mode, Some(0o600));
        }
    }
}
