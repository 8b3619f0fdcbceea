//! Bearer tokens: fetched from the challenge's realm with a scope, cached until they expire.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use secrecy::SecretString;
use serde::Deserialize;

/// Tokens are considered expired this long before the server's expiry.
const EXPIRY_MARGIN: Duration = Duration::from_secs(5);
/// Lifetime assumed when the server gives none (the distribution spec's default).
const DEFAULT_LIFETIME: Duration = Duration::from_secs(60);

/// The token endpoint's answer.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl TokenResponse {
    /// The token (either field name) and how long it lives.
    pub(crate) fn into_token(self) -> Option<(SecretString, Duration)> {
        let token = self.token.or(self.access_token).filter(|t| !t.is_empty())?;
        let lifetime = self
            .expires_in
            .filter(|s| *s > 0)
            .map_or(DEFAULT_LIFETIME, Duration::from_secs);
        Some((SecretString::from(token), lifetime))
    }
}

/// Cache key: realm, service and scope.
pub(crate) type TokenKey = (String, String, String);

/// Tokens by (realm, service, scope), valid until their expiry.
#[derive(Default)]
pub(crate) struct TokenCache {
    tokens: Mutex<HashMap<TokenKey, (SecretString, Instant)>>,
}

impl TokenCache {
    /// A still-valid cached token.
    pub(crate) fn get(&self, key: &TokenKey) -> Option<SecretString> {
        let map = self.tokens.lock().ok()?;
        let (token, until) = map.get(key)?;
        (Instant::now() < *until).then(|| token.clone())
    }

    /// Stores a token living `lifetime` from now.
    pub(crate) fn put(&self, key: TokenKey, token: SecretString, lifetime: Duration) {
        let until = Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN);
        if let Ok(mut map) = self.tokens.lock() {
            map.insert(key, (token, until));
        }
    }

    /// Forgets a token the registry refused.
    pub(crate) fn remove(&self, key: &TokenKey) {
        if let Ok(mut map) = self.tokens.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn caches_until_expiry() {
        let c = TokenCache::default();
        let k: TokenKey = ("r".into(), "s".into(), "repository:a:pull".into());
        c.put(k.clone(), SecretString::from("t1"), Duration::from_secs(60));
        assert_eq!(c.get(&k).unwrap().expose_secret(), "t1");
        c.put(k.clone(), SecretString::from("t2"), Duration::from_secs(1));
        assert!(
            c.get(&k).is_none(),
            "a token inside the expiry margin is stale"
        );
        c.remove(&k);
        assert!(c.get(&k).is_none());
        let r: TokenResponse =
            serde_json::from_str(r#"{"access_token":"x","expires_in":300}"#).unwrap();
        let (t, life) = r.into_token().unwrap();
        assert_eq!((t.expose_secret(), life), ("x", Duration::from_secs(300)));
        let r: TokenResponse = serde_json::from_str(r#"{"token":""}"#).unwrap();
        assert!(r.into_token().is_none());
    }
}
