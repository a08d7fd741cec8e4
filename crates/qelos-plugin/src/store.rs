//! Tenant registrations and where they are kept.
//!
//! A store only ever sees [`StoredRegistration`]s: the credentials and Qelos tokens inside are
//! sealed with AES-256-GCM under the plugin's encryption key, and the refresh identifier is
//! kept as a SHA-256 digest. Every write is a compare-and-swap on the record's `revision`, so
//! refresh rotation stays single-use across plugin processes that share a store.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use qelos_sdk::{Secret, TokenPair};
use serde::{Deserialize, Serialize};

/// One Qelos tenant that registered with the plugin through `registerUrl`, decrypted.
///
/// `Debug` redacts the password and the Qelos tokens.
#[derive(Clone)]
#[non_exhaustive]
pub struct Registration {
    /// The plugin-side id of this registration: the `sub` of every token minted for it.
    pub id: String,
    /// The Qelos tenant (`x-tenant` of the register call).
    pub tenant: String,
    /// The tenant's Qelos URL (`appUrl` of the register call).
    pub app_url: String,
    /// The plugin's service user in that tenant.
    pub username: String,
    /// Its password (proved by signing in).
    pub password: Secret,
    /// The service user's current Qelos token pair (rotated by
    /// [`Plugin::sdk_for_tenant`](crate::Plugin::sdk_for_tenant)).
    pub qelos_tokens: TokenPair,
    /// The generation access tokens must carry; bumping it revokes every issued access token.
    pub access_epoch: u64,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("app_url", &self.app_url)
            .field("username", &self.username)
            .field("access_epoch", &self.access_epoch)
            .finish_non_exhaustive()
    }
}

/// A registration as a store keeps it: ids and counters in clear, everything secret sealed.
///
/// # Examples
///
/// ```
/// use qelos_plugin::StoredRegistration;
/// let json = serde_json::json!({"id": "r1", "tenant": "0", "revision": 1, "accessEpoch": 0,
///     "refreshIdentifier": "9f…", "sealed": "AQ…"});
/// let rec: StoredRegistration = serde_json::from_value(json)?;
/// assert_eq!(rec.revision, 1);
/// # Ok::<(), serde_json::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StoredRegistration {
    /// Registration id.
    pub id: String,
    /// Qelos tenant.
    pub tenant: String,
    /// Bumped by every write; the compare-and-swap token.
    pub revision: u64,
    /// See [`Registration::access_epoch`].
    pub access_epoch: u64,
    /// SHA-256 hex of the identifier the current refresh token carries.
    pub refresh_identifier: String,
    /// base64 AES-256-GCM of the app URL, username, password and Qelos tokens.
    pub sealed: String,
}

/// A registration store failed (its own message; never a token).
#[derive(Debug, thiserror::Error)]
#[error("registration store failed: {0}")]
pub struct StoreError(pub String);

/// Where registrations live. [`MemoryStore`] is the default; `RedisStore` (feature `redis`)
/// shares them between plugin processes; implement this for a database.
///
/// # Examples
///
/// ```
/// use qelos_plugin::{MemoryStore, RegistrationStore};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
/// # }
/// let store: std::sync::Arc<dyn RegistrationStore> = std::sync::Arc::new(MemoryStore::default());
/// assert!(block_on(store.load("nope"))?.is_none());
/// # Ok::<(), qelos_plugin::StoreError>(())
/// ```
pub trait RegistrationStore: Send + Sync + 'static {
    /// The registration with this id.
    fn load<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredRegistration>, StoreError>>;
    /// The registration of a tenant (at most one per tenant: the last one written).
    fn find_tenant<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredRegistration>, StoreError>>;
    /// Writes `record` only if the stored record with its id has revision `expected` (`None`:
    /// no record yet), atomically, and points its tenant at it. `Ok(false)` when another
    /// writer got there first.
    fn compare_and_swap(
        &self,
        expected: Option<u64>,
        record: StoredRegistration,
    ) -> BoxFuture<'_, Result<bool, StoreError>>;
}

/// An in-memory [`RegistrationStore`] (lost on restart: tenants then re-register).
///
/// # Examples
///
/// ```
/// use qelos_plugin::{MemoryStore, RegistrationStore, StoredRegistration};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
/// # }
/// let store = MemoryStore::default();
/// let rec = StoredRegistration { id: "r1".into(), tenant: "0".into(), revision: 1,
///     access_epoch: 0, refresh_identifier: "h".into(), sealed: "s".into() };
/// assert!(block_on(store.compare_and_swap(None, rec.clone()))?);
/// assert!(!block_on(store.compare_and_swap(None, rec))?, "revision 1 is already there");
/// let found = block_on(store.find_tenant("0"))?.map(|r| r.id);
/// assert_eq!(found.as_deref(), Some("r1"));
/// # Ok::<(), qelos_plugin::StoreError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    inner: Arc<Mutex<Maps>>,
}

#[derive(Debug, Default)]
struct Maps {
    by_id: HashMap<String, StoredRegistration>,
    by_tenant: HashMap<String, String>,
}

impl MemoryStore {
    fn with<T>(&self, f: impl FnOnce(&mut Maps) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl RegistrationStore for MemoryStore {
    fn load<'a>(
        &'a self,
        id: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredRegistration>, StoreError>> {
        let found = self.with(|m| m.by_id.get(id).cloned());
        Box::pin(async move { Ok(found) })
    }

    fn find_tenant<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Option<StoredRegistration>, StoreError>> {
        let found = self.with(|m| {
            m.by_tenant
                .get(tenant)
                .and_then(|id| m.by_id.get(id))
                .cloned()
        });
        Box::pin(async move { Ok(found) })
    }

    fn compare_and_swap(
        &self,
        expected: Option<u64>,
        record: StoredRegistration,
    ) -> BoxFuture<'_, Result<bool, StoreError>> {
        let swapped = self.with(|m| {
            if m.by_id.get(&record.id).map(|r| r.revision) != expected {
                return false;
            }
            m.by_tenant.insert(record.tenant.clone(), record.id.clone());
            m.by_id.insert(record.id.clone(), record);
            true
        });
        Box::pin(async move { Ok(swapped) })
    }
}
