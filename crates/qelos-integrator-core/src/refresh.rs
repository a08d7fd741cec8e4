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
use tokio::sync::watch;
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
/// How long a refusal from Qelos waits for a pair another instance may still publish before
/// it counts: that instance may have used the token while it could not reach the store, and
/// offers its pair again every [`REPUBLISH_EVERY`] until the store takes it (a Redis that
/// failed is left alone for a second by [`RedisStore`](crate::store::redis::RedisStore)).
/// Only a refusal with the lock held on a store other processes share waits: a dead session.
const REFUSAL_WAIT: Duration = Duration::from_millis(1500);
/// How many call timeouts a flight waits for Qelos's answer to a refresh (see [`exchange`]).
const ANSWER_TIMEOUT_FACTOR: u32 = 2;
/// How often a pair the store did not take is offered again, within the grace window.
const REPUBLISH_EVERY: Duration = Duration::from_millis(100);

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

/// One refresh of one token: its result, once there is one.
struct Flight {
    result: watch::Receiver<Option<Result<TokenPair, RefreshError>>>,
    started: Instant,
}

impl Flight {
    fn finished(&self) -> bool {
        self.result.borrow().is_some()
    }
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
    /// When the store's failure, and an unreadable record, were last logged at `warn`.
    warnings: Arc<Warnings>,
}

/// The rate limits of the coordinator's warnings (once per outage, not once per refresh).
struct Warnings {
    store: Throttle,
    record: Throttle,
    /// "refresh failed: Qelos unavailable".
    outages: Throttle,
}

impl Default for Warnings {
    fn default() -> Self {
        Self {
            store: Throttle::new(observe::OUTAGE_WARN_INTERVAL),
            record: Throttle::new(observe::OUTAGE_WARN_INTERVAL),
            outages: Throttle::new(observe::OUTAGE_WARN_INTERVAL),
        }
    }
}

/// What a flight needs, owned, so it can run as a task of its own.
#[derive(Clone)]
struct Runner {
    store: Arc<dyn SharedStore>,
    grace: Duration,
    lock_ttl: Duration,
    warnings: Arc<Warnings>,
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
            warnings: Arc::default(),
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
        let (flight, start) = {
            let mut flights = self.lock();
            let grace = self.grace;
            flights.retain(|_, f| f.started.elapsed() < grace || !f.finished());
            match flights.get(&key) {
                Some(f) => (Arc::clone(f), None),
                None => {
                    let (tx, rx) = watch::channel(None);
                    let f = Arc::new(Flight {
                        result: rx,
                        started: Instant::now(),
                    });
                    flights.insert(key, Arc::clone(&f));
                    (f, Some(tx))
                }
            }
        };
        if let Some(tx) = start {
            // The flight runs as a task of its own: when the request that started it reaches
            // its deadline, an answer Qelos sends later (a token it has already rotated) is
            // still kept for the grace window and published, instead of being lost with the
            // request (found by the fault suite: Qelos slow and restarting).
            let runner = Runner {
                store: Arc::clone(&self.store),
                grace: self.grace,
                lock_ttl: self.lock_ttl,
                warnings: Arc::clone(&self.warnings),
            };
            let (sdk, current) = (sdk.clone(), current.clone());
            let work = async move {
                let result = runner.coordinated(&sdk, &current, key).await;
                let _ = tx.send(Some(result));
            }
            .instrument(tracing::debug_span!("qelos.refresh", key = ?key));
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => {
                    handle.spawn(work);
                }
                Err(_) => work.await,
            }
        }
        let mut rx = flight.result.clone();
        let result = match rx.wait_for(Option::is_some).await {
            Ok(done) => done.clone().unwrap_or(Err(RefreshError::NoRefreshToken)),
            Err(_) => Err(RefreshError::Unavailable(
                "the refresh was cancelled".into(),
            )),
        };
        if matches!(result, Err(RefreshError::Unavailable(_))) {
            let mut flights = self.lock();
            if flights.get(&key).is_some_and(|f| Arc::ptr_eq(f, &flight)) {
                flights.remove(&key);
            }
        }
        result
    }
}

impl Runner {
    /// One flight: agree with the other instances through the store, or refresh in-process
    /// when the store fails.
    async fn coordinated(
        &self,
        sdk: &QelosSdk,
        current: &TokenPair,
        key: TokenKey,
    ) -> Result<TokenPair, RefreshError> {
        let Some((kind, token)) = RefreshCoordinator::credential(current) else {
            return Err(RefreshError::NoRefreshToken);
        };
        let shared = Shared {
            store: Arc::clone(&self.store),
            record_warned: &self.warnings.record,
            sealer: Sealer::new(&format!("{kind}-pair"), token.expose()),
            pair_key: format!("refresh:pair:{}", key.to_hex()),
            lock_key: format!("refresh:lock:{}", key.to_hex()),
        };
        match self.through_store(&shared, sdk, current).await {
            Ok(result) => result,
            Err(err) => {
                self.warn_store(&err);
                self.in_process(&shared, sdk, current).await
            }
        }
    }

    /// Logs that the store failed and refreshes go in-process: at `warn` once per
    /// interval, at `debug` otherwise (an outage is one event, not one per
    /// refresh).
    fn warn_store(&self, err: &StoreError) {
        outage_warn!(self.warnings.store, error = %err, "shared store unavailable; refreshing in-process");
    }

    /// A refresh without the store's lock: another instance may refresh the same token at the
    /// same moment, and Qelos then refuses one of the two. So a pair got here is still offered
    /// to the store (the other instance looks for it when refused), and a refusal here is
    /// not taken as the end of the session (that would log the user out while the other
    /// instance hands them the new pair) unless the store can say so: it is
    /// [`RefreshError::Unavailable`] (no cookie is expired; the next request tries again).
    async fn in_process(
        &self,
        shared: &Shared<'_>,
        sdk: &QelosSdk,
        current: &TokenPair,
    ) -> Result<TokenPair, RefreshError> {
        let result = exchange(sdk, current, &self.warnings.outages).await;
        match result {
            Ok(_) => {
                // The store just failed, so this often fails too (already logged): the pair is
                // then offered again until the store takes it, so that an instance refused
                // this token meanwhile finds it instead of ending the session.
                shared.publish(&result, self.grace).await;
                result
            }
            Err(RefreshError::Rejected) => match shared.published().await {
                Ok(Some(found)) => {
                    tracing::debug!(refused = found.is_err(), "refused in-process; using the result another instance published");
                    found
                }
                _ => Err(RefreshError::Unavailable(
                    "Qelos refused a refresh made without the shared store; another instance may have used the token".into(),
                )),
            },
            other => other,
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
        let mut errors = 0;
        // Whether another holder of the lock was seen: then a refusal from Qelos most likely
        // means that holder used the token, and its own answer hands the browser the new pair.
        let mut contended = false;
        // Whether the store failed or was slow on this flight's last look.
        let mut troubled = false;
        loop {
            if Instant::now() >= give_up && troubled {
                // A store that keeps failing (timeouts are not counted as errors one by one)
                // must not keep this flight polling forever: it goes in-process.
                return Err(StoreError::Timeout);
            }
            match shared.published().await {
                Ok(Some(result)) => {
                    tracing::debug!(
                        refused = result.is_err(),
                        "using the result another instance published"
                    );
                    observe::metrics::refresh("shared");
                    return Ok(result);
                }
                Ok(None) => troubled = false,
                Err(err) => {
                    troubled = true;
                    transient(&mut errors, err)?;
                    tokio::time::sleep(pause).await;
                    continue;
                }
            }
            match shared.try_lock(&owner, self.lock_ttl).await {
                Ok(true) => {
                    // The winner may have published and unlocked between our two looks.
                    if let Ok(Some(result)) = shared.published().await {
                        shared.unlock(&owner).await;
                        return Ok(result);
                    }
                    let mut result = exchange(sdk, current, &self.warnings.outages).await;
                    if result == Err(RefreshError::Rejected) && self.store.is_shared() {
                        // A lock that expired under a slow winner, or an instance that could
                        // not reach the store and refreshed in-process: its pair may be there
                        // now, or in a moment.
                        result = match shared.pair_within(REFUSAL_WAIT).await {
                            Look::Found(pair) => Ok(pair),
                            Look::Blind => Err(RefreshError::Unavailable(
                                "Qelos refused the token and the shared store could not say whether another instance has its pair".into(),
                            )),
                            Look::Nothing if contended => Err(taken_over_refusal()),
                            Look::Nothing => {
                                tracing::debug!("refused with the lock held and no pair published: the session is over");
                                Err(RefreshError::Rejected)
                            }
                        };
                    }
                    shared.publish(&result, self.grace).await;
                    shared.unlock(&owner).await;
                    return Ok(result);
                }
                Ok(false) => contended = true,
                Err(err) => {
                    troubled = true;
                    transient(&mut errors, err)?;
                    tokio::time::sleep(pause).await;
                    continue;
                }
            }
            if Instant::now() >= give_up {
                tracing::warn!("another instance holds the refresh lock too long; refreshing here");
                let result = exchange(sdk, current, &self.warnings.outages).await;
                return Ok(match result {
                    Err(RefreshError::Rejected) => Err(taken_over_refusal()),
                    other => other,
                });
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(POLL_MAX);
        }
    }
}

/// A refusal after another holder of the lock vanished or overran it: that holder probably
/// used the token (and its answer carries the new pair to the browser, or it died with it).
/// Not the end of the session on this evidence alone: the request is anonymous (`503` where a
/// user is required) and no cookie is expired; the browser's next request settles it.
fn taken_over_refusal() -> RefreshError {
    RefreshError::Unavailable(
        "Qelos refused a token another instance was refreshing; its answer has the new pair".into(),
    )
}

/// Store errors one flight lets pass (a slow answer under load) before it goes in-process.
const TRANSIENT_STORE_ERRORS: u32 = 1;

/// Counts a store error of a flight; the error itself once there were too many. A timeout is
/// not counted: under load a slow answer is not an outage (the store itself reports one, fast,
/// once it has had no success for a while), and the wait stays bounded by the lock TTL and
/// the request's deadline.
fn transient(errors: &mut u32, err: StoreError) -> Result<(), StoreError> {
    if err == StoreError::Timeout {
        tracing::debug!(error = %err, "shared store slow; asking again");
        return Ok(());
    }
    *errors += 1;
    if *errors > TRANSIENT_STORE_ERRORS {
        Err(err)
    } else {
        tracing::debug!(error = %err, "shared store error; asking again");
        Ok(())
    }
}

/// What one flight needs from the store.
struct Shared<'a> {
    store: Arc<dyn SharedStore>,
    record_warned: &'a Throttle,
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

/// What looking for another instance's pair found.
enum Look {
    Found(TokenPair),
    /// Every look succeeded and found no pair.
    Nothing,
    /// Some look failed: a pair may be there that this instance could not see.
    Blind,
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
            outage_warn!(
                self.record_warned,
                "unreadable refresh record in the shared store; ignoring it"
            );
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

    /// A published pair (not a refusal) that appears within `wait`.
    async fn pair_within(&self, wait: Duration) -> Look {
        let until = Instant::now() + wait;
        let mut blind = false;
        loop {
            match self.published().await {
                Ok(Some(Ok(pair))) => return Look::Found(pair),
                Ok(_) => {}
                Err(_) => blind = true,
            }
            if Instant::now() >= until {
                return if blind { Look::Blind } else { Look::Nothing };
            }
            tokio::time::sleep(POLL_MAX / 2).await;
        }
    }

    async fn try_lock(&self, owner: &str, ttl: Duration) -> Result<bool, StoreError> {
        bounded(self.store.try_lock(&self.lock_key, owner, ttl)).await
    }

    async fn unlock(&self, owner: &str) {
        if let Err(err) = bounded(self.store.unlock(&self.lock_key, owner)).await {
            tracing::warn!(error = %err, "could not release the refresh lock; it expires by itself");
        }
    }

    /// Publishes a pair or a refusal for the grace window; an outage is not remembered. A pair
    /// the store does not take now is offered again, every [`REPUBLISH_EVERY`], until it does
    /// or the grace window is over: Qelos has rotated the token, and an instance that is
    /// refused it meanwhile looks for this pair before it ends the session.
    async fn publish(&self, result: &Result<TokenPair, RefreshError>, grace: Duration) {
        let Some(sealed) = self.sealed(result) else {
            return;
        };
        let Err(err) = bounded(self.store.set(&self.pair_key, sealed.clone(), grace)).await else {
            return;
        };
        if result.is_err() || !self.store.is_shared() {
            tracing::debug!(error = %err, "could not publish the refusal to the shared store");
            return;
        }
        tracing::debug!(error = %err, "could not publish the refreshed pair yet; offering it again");
        let (store, key) = (Arc::clone(&self.store), self.pair_key.clone());
        let until = Instant::now() + grace;
        let again = async move {
            loop {
                tokio::time::sleep(REPUBLISH_EVERY).await;
                let Some(left) = until.checked_duration_since(Instant::now()) else {
                    tracing::debug!("the grace window ended before the store took the pair");
                    return;
                };
                if bounded(store.set(&key, sealed.clone(), left)).await.is_ok() {
                    tracing::debug!("published the refreshed pair after the store came back");
                    return;
                }
            }
        }
        .instrument(tracing::debug_span!("qelos.republish"));
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(again);
        }
    }

    /// The sealed record of a pair or a refusal; `None` for an outage (never remembered) or
    /// when sealing failed (logged).
    fn sealed(&self, result: &Result<TokenPair, RefreshError>) -> Option<Vec<u8>> {
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
            Err(_) => return None,
        };
        let sealed = serde_json::to_vec(&record)
            .ok()
            .and_then(|plain| self.sealer.seal(&self.pair_key, &plain));
        if sealed.is_none() {
            tracing::warn!("could not seal the refreshed pair; other instances will refresh");
        }
        sealed
    }
}

/// The upstream refresh itself.
async fn exchange(
    sdk: &QelosSdk,
    current: &TokenPair,
    outages: &Throttle,
) -> Result<TokenPair, RefreshError> {
    // Qelos rotates the token as soon as it reads the request, so its answer is the only copy
    // of the new pair: the flight (a task of its own, not bound by the request's deadline)
    // waits for it twice as long as a call would. A late answer is then kept for the grace
    // window and handed to the browser's next request, instead of ending the session (found
    // by the fault suite: Qelos frozen, then unreachable, answering after the request gave up).
    let limit = sdk.timeout().saturating_mul(ANSWER_TIMEOUT_FACTOR);
    let call = qelos_sdk::with_deadline(limit, sdk.exchange_tokens(current));
    let answer = observe::metrics::timed("refresh", async {
        call.await.unwrap_or(Err(qelos_sdk::Error::Timeout))
    })
    .await;
    match answer {
        Ok(pair) => {
            tracing::debug!("token refresh succeeded");
            observe::metrics::refresh("ok");
            Ok(pair)
        }
        // Qelos refuses a dead, unknown or already used refresh token with `401` and nothing
        // else; any other answer (a `404` from a gateway or a router mid-restart, a `429`, a
        // `400`, a 5xx) says nothing about the token, and must not end the session.
        Err(
            err @ (qelos_sdk::Error::Api { status: 401, .. } | qelos_sdk::Error::NoRefreshToken),
        ) => {
            tracing::debug!(error = %err, "token refresh rejected");
            observe::metrics::refresh("rejected");
            Err(RefreshError::Rejected)
        }
        Err(err) => {
            outage_warn!(outages, error = %err, "token refresh failed: Qelos unavailable");
            observe::metrics::refresh("unavailable");
            Err(RefreshError::Unavailable(err.to_string()))
        }
    }
}
