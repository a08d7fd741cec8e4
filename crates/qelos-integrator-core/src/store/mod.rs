//! Shared state for running several instances of an app: the backend behind refresh
//! coordination and the shared identity cache.
//!
//! A [`SharedStore`] is a small key-value store with locks and TTLs. The integrator uses it
//! for two things:
//!
//! * **Refresh coordination.** Before refreshing a token, an instance takes a lock keyed by a
//!   hash of the refresh token, refreshes, and publishes the new pair (encrypted, for the grace
//!   window) under a key derived from the same token; other instances holding the same token
//!   wait for the pair instead of refreshing a second time (which Qelos's single-use refresh
//!   tokens would turn into a logout). See [`RefreshCoordinator`](crate::RefreshCoordinator).
//! * **Shared identity cache** (opt-in with
//!   [`QelosConfigBuilder::shared_identity_cache`](crate::QelosConfigBuilder::shared_identity_cache)):
//!   user and workspaces, encrypted, keyed by a hash of the credential.
//!
//! The default is [`MemoryStore`]: one process, the behaviour of a single instance. With the
//! `redis` feature, `store::redis::RedisStore` shares the state across instances.
//!
//! Keys handed to a store hold only SHA-256 hashes of tokens, values are sealed with
//! AES-256-GCM under a key only holders of the token can derive, and any store error or
//! timeout makes the integrator fall back to in-process behaviour (with a `warn!`): a request
//! never fails because the store did.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;

#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;

/// Why a shared-store operation failed. The integrator never fails a request over one: it
/// logs a warning and carries on in-process.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::StoreError;
/// let err = StoreError::Unavailable("connection refused".into());
/// assert_eq!(err.to_string(), "shared store unavailable: connection refused");
/// ```
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The store could not be reached or answered with an error.
    #[error("shared store unavailable: {0}")]
    Unavailable(String),
    /// The operation did not finish in time.
    #[error("shared store operation timed out")]
    Timeout,
    /// The store's configuration (for example its URL) is invalid.
    #[error("invalid shared store configuration: {0}")]
    Config(String),
}

/// A key-value store with TTLs and owner-checked locks, shared by the instances of an app.
///
/// Keys are short ASCII strings built by the integrator (`refresh:lock:<hex>`,
/// `refresh:pair:<hex>`, `identity:<hex>`), never containing a raw token; values are opaque,
/// already-encrypted bytes. Implementations should answer quickly (the integrator also bounds
/// each call with a short timeout) and may add their own key prefix.
///
/// # Examples
///
/// The in-process default, used directly:
///
/// ```
/// use std::time::Duration;
/// use qelos_integrator_core::store::{MemoryStore, SharedStore};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), qelos_integrator_core::store::StoreError> {
/// let store = MemoryStore::new();
/// let ttl = Duration::from_secs(5);
/// assert!(store.try_lock("refresh:lock:ab", "owner-1", ttl).await?);
/// assert!(!store.try_lock("refresh:lock:ab", "owner-2", ttl).await?, "held");
/// store.unlock("refresh:lock:ab", "owner-2").await?; // not the owner: no effect
/// assert!(!store.try_lock("refresh:lock:ab", "owner-2", ttl).await?);
/// store.unlock("refresh:lock:ab", "owner-1").await?;
/// assert!(store.try_lock("refresh:lock:ab", "owner-2", ttl).await?);
///
/// store.set("refresh:pair:ab", b"sealed".to_vec(), ttl).await?;
/// assert_eq!(store.get("refresh:pair:ab").await?.as_deref(), Some(&b"sealed"[..]));
/// # Ok(())
/// # }
/// ```
pub trait SharedStore: Send + Sync + std::fmt::Debug + 'static {
    /// Takes the lock `key` for `owner` unless someone holds it (`SET key owner NX PX ttl`).
    /// `Ok(true)` when taken. The lock expires by itself after `ttl`.
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>>;

    /// Releases the lock `key` if `owner` still holds it (a lock that expired and was taken by
    /// someone else is left alone).
    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), StoreError>>;

    /// The value stored under `key`, if any and not expired.
    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>>;

    /// Stores `value` under `key` for `ttl`, replacing what was there.
    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>>;

    /// Whether other processes see what this store holds (default `true`).
    ///
    /// Only then can a refresh token be used by someone this process does not know about, so
    /// only then does a refusal from Qelos wait a moment for the pair another instance may
    /// still publish, and does a pair that could not be published get offered again.
    fn is_shared(&self) -> bool {
        true
    }
}

/// Upper bound on entries in a [`MemoryStore`]; past it, expired entries are pruned and, if it
/// is still full, new values are not stored (locks are always granted so nobody waits on a
/// full store).
const MAX_ENTRIES: usize = 50_000;

enum Entry {
    Lock(String),
    Value(Vec<u8>),
}

/// The in-process [`SharedStore`]: what a single instance needs, and the default.
///
/// Expired entries are swept as the store grows (amortised: each sweep happens after the
/// number of entries has doubled since the previous one), so memory follows live entries.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use qelos_integrator_core::QelosConfig;
/// use qelos_integrator_core::store::MemoryStore;
///
/// let config = QelosConfig::builder("http://localhost:3000")
///     .shared_store(Arc::new(MemoryStore::new())) // the same as not calling it
///     .build()?;
/// # Ok::<(), qelos_integrator_core::ConfigError>(())
/// ```
#[derive(Default)]
pub struct MemoryStore {
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    map: HashMap<String, (Instant, Entry)>,
    /// Sweep expired entries when the map reaches this size.
    sweep_at: usize,
}

/// Smallest size at which the store sweeps expired entries.
const SWEEP_MIN: usize = 1024;

impl std::fmt::Debug for MemoryStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryStore")
            .field("entries", &self.lock().map.len())
            .finish()
    }
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Entries {
    fn live(&self, key: &str, now: Instant) -> Option<&Entry> {
        self.map
            .get(key)
            .filter(|(expires, _)| *expires > now)
            .map(|(_, e)| e)
    }

    /// Sweeps expired entries when due; `false` when the store is full even so.
    fn make_room(&mut self, now: Instant) -> bool {
        if self.map.len() >= self.sweep_at.max(SWEEP_MIN) || self.map.len() >= MAX_ENTRIES {
            self.map.retain(|_, (expires, _)| *expires > now);
            self.sweep_at = self.map.len().saturating_mul(2);
        }
        self.map.len() < MAX_ENTRIES
    }

    fn insert(&mut self, key: &str, expires: Instant, entry: Entry, now: Instant) {
        if self.map.contains_key(key) || self.make_room(now) {
            self.map.insert(key.to_owned(), (expires, entry));
        }
    }
}

impl SharedStore for MemoryStore {
    fn try_lock<'a>(
        &'a self,
        key: &'a str,
        owner: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, StoreError>> {
        let now = Instant::now();
        let mut entries = self.lock();
        let taken = if entries.live(key, now).is_some() {
            false
        } else {
            // A full store still grants the lock (unrecorded): nobody waits on it.
            entries.insert(key, now + ttl, Entry::Lock(owner.to_owned()), now);
            true
        };
        Box::pin(std::future::ready(Ok(taken)))
    }

    fn unlock<'a>(&'a self, key: &'a str, owner: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        let mut entries = self.lock();
        if matches!(entries.map.get(key), Some((_, Entry::Lock(o))) if o == owner) {
            entries.map.remove(key);
        }
        Box::pin(std::future::ready(Ok(())))
    }

    fn get<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<Option<Vec<u8>>, StoreError>> {
        let entries = self.lock();
        let value = match entries.live(key, Instant::now()) {
            Some(Entry::Value(v)) => Some(v.clone()),
            _ => None,
        };
        Box::pin(std::future::ready(Ok(value)))
    }

    fn set<'a>(
        &'a self,
        key: &'a str,
        value: Vec<u8>,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<(), StoreError>> {
        let now = Instant::now();
        self.lock().insert(key, now + ttl, Entry::Value(value), now);
        Box::pin(std::future::ready(Ok(())))
    }

    /// One process's memory: nobody else refreshes through it.
    fn is_shared(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[tokio::test]
    async fn memory_store_locks_expire_and_values_expire() {
        let store = MemoryStore::new();
        let short = Duration::from_millis(1);
        assert!(store.try_lock("l", "a", short).await.unwrap());
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert!(
            store
                .try_lock("l", "b", Duration::from_secs(5))
                .await
                .unwrap(),
            "an expired lock can be taken"
        );
        store.unlock("l", "a").await.unwrap();
        assert!(
            !store
                .try_lock("l", "c", Duration::from_secs(5))
                .await
                .unwrap(),
            "the old owner cannot release the new owner's lock"
        );
        store.set("v", vec![1], short).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
        assert_eq!(store.get("v").await.unwrap(), None);
        assert_eq!(store.get("l").await.unwrap(), None, "a lock is not a value");
    }

    #[tokio::test]
    async fn memory_store_sweeps_expired_entries_as_it_grows() {
        let store = MemoryStore::new();
        for i in 0..SWEEP_MIN {
            store
                .set(&format!("old{i}"), vec![0], Duration::from_millis(1))
                .await
                .unwrap();
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
        store
            .set("new", vec![1], Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(store.lock().map.len(), 1, "expired entries were swept");
    }
}
