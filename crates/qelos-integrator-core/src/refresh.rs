//! Process-wide single-flight token refresh (contract step 6).
//!
//! Qelos rotates refresh tokens: each one works once. When N requests carrying the same refresh
//! token arrive together, exactly one of them refreshes and all N get the new pair. The result
//! is remembered for a grace window so a late request with the just-rotated token still works.
//!
//! Across instances the same happens through a [`SharedStore`]: the one flight of each
//! instance competes for a lock in the store, the winner refreshes and publishes the new pair
//! (encrypted) for the grace window, and the others wait for it. With the default
//! [`MemoryStore`] this is the single-process behaviour.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use qelos_sdk::{QelosSdk, Secret, TokenPair};
use tokio::sync::OnceCell;
use tracing::Instrument as _;

use crate::observe::{self, Throttle, outage_warn};
use crate::seal::{Sealer, random_id};
use crate::store::{MemoryStore, SharedStore, StoreError};
use crate::token_key::TokenKey;

/// Default time a refresh lock in a shared store lives before it expires by itself (so an
/// instance that crashed mid-refresh blocks the others for at most this long).
pub const DEFAULT_REFRESH_LOCK_TTL: Duration = Duration::from_secs(5);
/// Each shared-store call is bounded by this; past it the integrator carries on in-process.
pub const STORE_TIMEOUT: Duration = Duration::from_millis(250);
/// First and longest pause between two looks at the store while another instance refreshes.
const POLL_MIN: Duration = Duration::from_millis(5);
const POLL_MAX: Duration = Duration::from_millis(50);

/// Why a refresh produced no tokens.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RefreshError {
    /// There was no refresh token (and no access token for a cookie refresh).
    #[error("no refresh token to refresh with")]
    NoRefreshToken,
    /// Qelos refused the refresh token: the session is over.
    #[error("Qelos refused the refresh token")]
    Rejected,
    /// Qelos could not be reached, timed out, or answered garbage or a 5xx.
    #[error("Qelos was unavailable for the refresh: {0}")]
    Unavailable(String),
}

struct Flight {
    result: OnceCell<Result<TokenPair, RefreshError>>,
    started: Instant,
}

/// Coalesces concurrent refreshes of the same token across the whole process.
///
/// Keys are SHA-256 hashes of the refresh token (or, for a cookie refresh, of the access token);
/// the map never holds a raw token as a key.
///
/// Concurrent refreshes in one process share one flight; each flight then goes through the
/// [`SharedStore`] (default [`MemoryStore`]), which coordinates it with other instances.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use qelos_integrator_core::RefreshCoordinator;
/// use qelos_integrator_core::store::MemoryStore;
///
/// let coordinator = RefreshCoordinator::new(Duration::from_secs(30))
///     .with_store(Arc::new(MemoryStore::new()))
///     .with_lock_ttl(Duration::from_secs(3));
/// assert!(format!("{coordinator:?}").contains("MemoryStore"));
/// ```
pub struct RefreshCoordinator {
    flights: Mutex<HashMap<TokenKey, Arc<Flight>>>,
    grace: Duration,
    store: Arc<dyn SharedStore>,
    lock_ttl: Duration,
    /// One "refresh failed: Qelos unavailable" warning per interval.
    outages: Throttle,
}

impl std::fmt::Debug for RefreshCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshCoordinator")
            .field("grace", &self.grace)
            .field("entries", &self.lock().len())
            .field("store", &self.store)
            .field("lock_ttl", &self.lock_ttl)
            .finish()
    }
}

impl RefreshCoordinator {
    /// A coordinator remembering finished refreshes for `grace`, in-process
    /// ([`MemoryStore`]).
    pub fn new(grace: Duration) -> Self {
        Self {
            flights: Mutex::default(),
            grace,
            store: Arc::new(MemoryStore::new()),
            lock_ttl: DEFAULT_REFRESH_LOCK_TTL,
            outages: Throttle::new(observe::OUTAGE_WARN_INTERVAL),
        }
    }

    /// Coordinates through `store` (for example Redis, shared by every instance).
    #[must_use]
    pub fn with_store(mut self, store: Arc<dyn SharedStore>) -> Self {
        self.store = store;
        self
    }

    /// How long a refresh lock lives in the store (default [`DEFAULT_REFRESH_LOCK_TTL`]). Keep it
    /// above the time Qelos takes to refresh; an instance that dies mid-refresh delays the
    /// others by at most this long.
    #[must_use]
    pub fn with_lock_ttl(mut self, ttl: Duration) -> Self {
        self.lock_ttl = ttl;
        self
    }

    /// The store refreshes are coordinated through.
    pub fn store(&self) -> &Arc<dyn SharedStore> {
        &self.store
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, Arc<Flight>>> {
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key a pair is coalesced under: its refresh token, else its access token.
    pub fn key_for(tokens: &TokenPair) -> Option<TokenKey> {
        Self::credential(tokens).map(|(kind, token)| TokenKey::new(kind, token.expose()))
    }

    fn credential(tokens: &TokenPair) -> Option<(&'static str, &Secret)> {
        match (&tokens.refresh, &tokens.access) {
            (Some(refresh), _) => Some(("refresh", refresh)),
            (None, Some(access)) => Some(("cookie-refresh", access)),
            (None, None) => None,
        }
    }

    /// Refreshes `current` through `sdk`, or joins a refresh of the same token already running
    /// or finished within the grace window.
    ///
    /// # Errors
    ///
    /// [`RefreshError::Rejected`] when Qelos refuses the token (also remembered for the grace
    /// window), [`RefreshError::Unavailable`] on an outage (not remembered: the next request
    /// tries again), [`RefreshError::NoRefreshToken`] for an empty pair.
    pub async fn refresh(
        &self,
        sdk: &QelosSdk,
        current: &TokenPair,
    ) -> Result<TokenPair, RefreshError> {
        let key = Self::key_for(current).ok_or(RefreshError::NoRefreshToken)?;
        let flight = {
            let mut flights = self.lock();
            let grace = self.grace;
            flights.retain(|_, f| f.started.elapsed() < grace || !f.result.initialized());
            Arc::clone(flights.entry(key).or_insert_with(|| {
                Arc::new(Flight {
                    result: OnceCell::new(),
                    started: Instant::now(),
                })
            }))
        };
        let result = flight
            .result
            .get_or_init(|| {
                self.coordinated(sdk, current, key)
                    .instrument(tracing::debug_span!("qelos.refresh", key = ?key))
            })
            .await
            .clone();
        if matches!(result, Err(RefreshError::Unavailable(_))) {
            let mut flights = self.lock();
            if flights.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                flights.remove(&key);
            }
        }
        result
    }

    /// One flight: agree with the other instances through the store, or refresh in-process
    /// when the store fails.
    async fn coordinated(
        &self,
        sdk: &QelosSdk,
        current: &TokenPair,
        key: TokenKey,
    ) -> Result<TokenPair, RefreshError> {
        let Some((kind, token)) = Self::credential(current) else {
            return Err(RefreshError::NoRefreshToken);
        };
        let shared = Shared {
            store: self.store.as_ref(),
            sealer: Sealer::new(&format!("{kind}-pair"), token.expose()),
            pair_key: format!("refresh:pair:{}", key.to_hex()),
            lock_key: format!("refresh:lock:{}", key.to_hex()),
        };
        match self.through_store(&shared, sdk, current).await {
            Ok(result) => result,
            Err(err) => {
                outage_warn!(self.outages, error = %err, "shared store unavailable; refreshing in-process");
                exchange(sdk, current, &self.outages).await
            }
        }
    }

    async fn through_store(
        &self,
        shared: &Shared<'_>,
        sdk: &QelosSdk,
        current: &TokenPair,
    ) -> Result<Result<TokenPair, RefreshError>, StoreError> {
        let owner = random_id().ok_or_else(|| StoreError::Unavailable("no randomness".into()))?;
        // Waiting is bounded: a winner that died releases its lock by expiry within
        // `lock_ttl`, after which one of the waiters takes over.
        let give_up = Instant::now() + self.lock_ttl + self.lock_ttl / 2;
        let mut pause = POLL_MIN;
        loop {
            if let Some(result) = shared.published().await? {
                tracing::debug!("using the pair another instance published");
                observe::metrics::refresh("shared");
                return Ok(result);
            }
            if shared.try_lock(&owner, self.lock_ttl).await? {
                // The winner may have published and unlocked between our two looks.
                if let Some(result) = shared.published().await? {
                    shared.unlock(&owner).await;
                    return Ok(result);
                }
                let mut result = exchange(sdk, current, &self.outages).await;
                if result == Err(RefreshError::Rejected) {
                    // A lock that expired under a slow winner: its pair may be there now.
                    if let Ok(Some(Ok(pair))) = shared.published().await {
                        result = Ok(pair);
                    }
                }
                shared.publish(&result, self.grace).await;
                shared.unlock(&owner).await;
                return Ok(result);
            }
            if Instant::now() >= give_up {
                tracing::warn!("another instance holds the refresh lock too long; refreshing here");
                return Ok(exchange(sdk, current, &self.outages).await);
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX);
        }
    }
}

/// What one flight needs from the store.
struct Shared<'a> {
    store: &'a dyn SharedStore,
    sealer: Sealer,
    pair_key: String,
    lock_key: String,
}

/// The sealed record under `refresh:pair:…`: the new pair, or the news that Qelos refused
/// the token.
#[derive(serde::Serialize, serde::Deserialize)]
struct PublishedPair {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    access: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    refresh: Option<String>,
    #[serde(default)]
    rejected: bool,
}

async fn bounded<T>(
    op: impl std::future::Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    tokio::time::timeout(STORE_TIMEOUT, op)
        .await
        .unwrap_or(Err(StoreError::Timeout))
}

impl Shared<'_> {
    async fn published(&self) -> Result<Option<Result<TokenPair, RefreshError>>, StoreError> {
        let Some(sealed) = bounded(self.store.get(&self.pair_key)).await? else {
            return Ok(None);
        };
        let record = self
            .sealer
            .open(&self.pair_key, &sealed)
            .and_then(|plain| serde_json::from_slice::<PublishedPair>(&plain).ok());
        let Some(record) = record else {
            // Only a holder of the same token can seal under this key; treat a bad record
            // as absent rather than trusting it.
            tracing::warn!("unreadable refresh record in the shared store; ignoring it");
            return Ok(None);
        };
        Ok(Some(if record.rejected {
            Err(RefreshError::Rejected)
        } else {
            Ok(TokenPair::new(
                record.access.map(Secret::new),
                record.refresh.map(Secret::new),
            ))
        }))
    }

    async fn try_lock(&self, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        bounded(self.store.try_lock(&self.lock_key, owner, ttl)).await
    }

    async fn unlock(&self, owner: &str) {
        if let Err(err) = bounded(self.store.unlock(&self.lock_key, owner)).await {
            tracing::warn!(error = %err, "could not release the refresh lock; it expires by itself");
        }
    }

    /// Publishes a pair or a refusal for the grace window; an outage is not remembered.
    async fn publish(&self, result: &Result<TokenPair, RefreshError>, grace: Duration) {
        let record = match result {
            Ok(pair) => PublishedPair {
                access: pair.access.as_ref().map(|s| s.expose().to_owned()),
                refresh: pair.refresh.as_ref().map(|s| s.expose().to_owned()),
                rejected: false,
            },
            Err(RefreshError::Rejected) => PublishedPair {
                access: None,
                refresh: None,
                rejected: true,
            },
            Err(_) => return,
        };
        let sealed = serde_json::to_vec(&record)
            .ok()
            .and_then(|plain| self.sealer.seal(&self.pair_key, &plain));
        let Some(sealed) = sealed else {
            tracing::warn!("could not seal the refreshed pair; other instances will refresh");
            return;
        };
        if let Err(err) = bounded(self.store.set(&self.pair_key, sealed, grace)).await {
            tracing::warn!(error = %err, "could not publish the refreshed pair to the shared store");
        }
    }
}

/// The upstream refresh itself.
async fn exchange(
    sdk: &QelosSdk,
    current: &TokenPair,
    outages: &Throttle,
) -> Result<TokenPair, RefreshError> {
    match observe::metrics::timed("refresh", sdk.exchange_tokens(current)).await {
        Ok(pair) => {
            tracing::debug!("token refresh succeeded");
            observe::metrics::refresh("ok");
            Ok(pair)
        }
        Err(err) if err.is_unavailable() => {
            outage_warn!(outages, error = %err, "token refresh failed: Qelos unavailable");
            observe::metrics::refresh("unavailable");
            Err(RefreshError::Unavailable(err.to_string()))
        }
        Err(err) => {
            tracing::debug!(error = %err, "token refresh rejected");
            observe::metrics::refresh("rejected");
            Err(RefreshError::Rejected)
        }
    }
}
