//! Optional in-memory identity cache: user and workspaces keyed by a hash of the credential.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use qelos_sdk::{User, Workspace};

use crate::token_key::TokenKey;

/// What the cache remembers for a credential.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub(crate) struct Identity {
    /// The user from `/api/me`.
    pub user: User,
    /// The workspaces from `/api/workspaces`.
    pub workspaces: Vec<Workspace>,
}

/// Upper bound on remembered identities; past it, expired entries are dropped and, if the
/// cache is still full, new identities are simply not remembered.
const MAX_ENTRIES: usize = 50_000;

/// A TTL cache of identities. Off by default; turn it on with
/// [`QelosConfigBuilder::identity_cache`](crate::QelosConfigBuilder::identity_cache).
///
/// A cached identity outlives a logout by at most the TTL: keep it short.
#[derive(Debug)]
pub(crate) struct IdentityCache {
    ttl: Duration,
    entries: Mutex<HashMap<TokenKey, Entry>>,
}

/// One remembered identity: when it was stored, when its credential expires (seconds since the
/// epoch, for a JWT), and the identity.
type Entry = (Instant, Option<u64>, Arc<Identity>);

impl IdentityCache {
    /// A cache whose entries live for `ttl`.
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The identity remembered for `key`, unless its TTL has passed or the credential it was
    /// stored for has expired (its JWT `exp`, when it had one, is at or before `now`, in seconds
    /// since the epoch).
    ///
    /// Because the entry knows when its credential expires, a hit needs no look at the token
    /// itself: that is what makes a cached request cheap.
    pub(crate) fn get(&self, key: &TokenKey, now: u64) -> Option<Arc<Identity>> {
        let entries = self.lock();
        let (at, exp, identity) = entries.get(key)?;
        let live = at.elapsed() < self.ttl && exp.is_none_or(|exp| exp > now);
        live.then(|| Arc::clone(identity))
    }

    /// Remembers `identity` for `key`, whose credential expires at `credential_exp` (seconds
    /// since the epoch; `None` for credentials without a known expiry, such as API tokens).
    pub(crate) fn insert(
        &self,
        key: TokenKey,
        identity: Arc<Identity>,
        credential_exp: Option<u64>,
    ) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (at, _, _)| at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        entries.insert(key, (Instant::now(), credential_exp, identity));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(name: &str) -> Arc<Identity> {
        Arc::new(Identity {
            user: User {
                username: name.to_owned(),
                ..User::default()
            },
            workspaces: Vec::new(),
        })
    }

    #[test]
    fn an_entry_is_not_served_once_its_credential_has_expired() {
        let cache = IdentityCache::new(Duration::from_secs(60));
        let key = TokenKey::new("access", "a.b.c");
        cache.insert(key, identity("u"), Some(1_000));
        assert!(cache.get(&key, 999).is_some(), "before exp");
        assert!(cache.get(&key, 1_000).is_none(), "at exp");
        assert!(cache.get(&key, 5_000).is_none(), "after exp");
    }

    #[test]
    fn an_entry_without_a_known_expiry_lives_for_the_ttl() {
        let cache = IdentityCache::new(Duration::from_secs(60));
        let key = TokenKey::new("api-token", "ql_x");
        cache.insert(key, identity("u"), None);
        assert!(cache.get(&key, u64::MAX).is_some());
        let gone = IdentityCache::new(Duration::ZERO);
        gone.insert(key, identity("u"), None);
        assert!(gone.get(&key, 0).is_none(), "a zero TTL keeps nothing");
    }
}
