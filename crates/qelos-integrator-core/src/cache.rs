//! Optional in-memory identity cache: user and workspaces keyed by a hash of the credential.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use qelos_sdk::{User, Workspace};

use crate::token_key::TokenKey;

/// What the cache remembers for a credential.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Identity {
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
pub struct IdentityCache {
    ttl: Duration,
    entries: Mutex<HashMap<TokenKey, (Instant, Arc<Identity>)>>,
}

impl IdentityCache {
    /// A cache whose entries live for `ttl`.
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: Mutex::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, (Instant, Arc<Identity>)>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The identity remembered for `key`, if it has not expired.
    pub fn get(&self, key: &TokenKey) -> Option<Arc<Identity>> {
        let entries = self.lock();
        let (at, identity) = entries.get(key)?;
        (at.elapsed() < self.ttl).then(|| Arc::clone(identity))
    }

    /// Remembers `identity` for `key`.
    pub fn insert(&self, key: TokenKey, identity: Arc<Identity>) {
        let mut entries = self.lock();
        if entries.len() >= MAX_ENTRIES {
            let ttl = self.ttl;
            entries.retain(|_, (at, _)| at.elapsed() < ttl);
            if entries.len() >= MAX_ENTRIES {
                return;
            }
        }
        entries.insert(key, (Instant::now(), identity));
    }

    /// Number of entries (expired ones included until pruned).
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// `true` when empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}
