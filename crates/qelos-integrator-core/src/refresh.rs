//! Process-wide single-flight token refresh (contract step 6).
//!
//! Qelos rotates refresh tokens: each one works once. When N requests carrying the same refresh
//! token arrive together, exactly one of them refreshes and all N get the new pair. The result
//! is remembered for a grace window so a late request with the just-rotated token still works.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use qelos_sdk::{QelosSdk, TokenPair};
use tokio::sync::OnceCell;
use tracing::Instrument as _;

use crate::token_key::TokenKey;

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
pub struct RefreshCoordinator {
    flights: Mutex<HashMap<TokenKey, Arc<Flight>>>,
    grace: Duration,
}

impl std::fmt::Debug for RefreshCoordinator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RefreshCoordinator")
            .field("grace", &self.grace)
            .field("entries", &self.lock().len())
            .finish()
    }
}

impl RefreshCoordinator {
    /// A coordinator remembering finished refreshes for `grace`.
    pub fn new(grace: Duration) -> Self {
        Self {
            flights: Mutex::default(),
            grace,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TokenKey, Arc<Flight>>> {
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The key a pair is coalesced under: its refresh token, else its access token.
    pub fn key_for(tokens: &TokenPair) -> Option<TokenKey> {
        match (&tokens.refresh, &tokens.access) {
            (Some(refresh), _) => Some(TokenKey::new("refresh", refresh.expose())),
            (None, Some(access)) => Some(TokenKey::new("cookie-refresh", access.expose())),
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
                async move {
                    let outcome = sdk.exchange_tokens(current).await;
                    match outcome {
                        Ok(pair) => {
                            tracing::debug!("token refresh succeeded");
                            Ok(pair)
                        }
                        Err(err) if err.is_unavailable() => {
                            tracing::warn!(error = %err, "token refresh failed: Qelos unavailable");
                            Err(RefreshError::Unavailable(err.to_string()))
                        }
                        Err(err) => {
                            tracing::debug!(error = %err, "token refresh rejected");
                            Err(RefreshError::Rejected)
                        }
                    }
                }
                .instrument(tracing::debug_span!("qelos.refresh"))
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
}
