//! Tenant registrations and where they are kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::BoxFuture;
use qelos_sdk::{Secret, TokenPair};

/// One Qelos tenant that registered with the plugin through `registerUrl`.
///
/// `Debug` redacts the password, the Qelos tokens and the refresh identifier.
#[derive(Clone)]
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
    /// The Qelos token pair of the service user, from the proving sign-in.
    pub qelos_tokens: TokenPair,
    /// The identifier the current refresh token carries. Rotated on every refresh, so a refresh
    /// token works once.
    pub refresh_identifier: Secret,
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

/// A registration store failed (its own message; never a token).
#[derive(Debug, thiserror::Error)]
#[error("registration store failed: {0}")]
pub struct StoreError(pub String);

/// Where registrations live. [`MemoryStore`] is the default; implement this for a database.
///
/// Refresh rotation and revocation read a registration, change it and save it back under one
/// process-wide lock, so a store shared by several plugin processes should make `save` a
/// compare-and-swap on `refresh_identifier` if single-use refresh must hold across processes.
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
    fn load<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Registration>, StoreError>>;
    /// The registration of a tenant (at most one per tenant).
    fn find_tenant<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Option<Registration>, StoreError>>;
    /// Inserts or replaces (by id) a registration.
    fn save(&self, registration: Registration) -> BoxFuture<'_, Result<(), StoreError>>;
}

/// An in-memory [`RegistrationStore`] (lost on restart: tenants then re-register).
///
/// # Examples
///
/// ```
/// use qelos_plugin::{MemoryStore, Registration, RegistrationStore, Secret};
/// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
/// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
/// # }
/// let store = MemoryStore::default();
/// block_on(store.save(Registration {
///     id: "r1".into(),
///     tenant: "0".into(),
///     app_url: "https://tenant.example.com".into(),
///     username: "p.0@tenant.example.com".into(),
///     password: Secret::new("pw"),
///     qelos_tokens: Default::default(),
///     refresh_identifier: Secret::new("id"),
///     access_epoch: 0,
/// }))?;
/// let found = block_on(store.find_tenant("0"))?.map(|r| r.id);
/// assert_eq!(found.as_deref(), Some("r1"));
/// # Ok::<(), qelos_plugin::StoreError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct MemoryStore {
    map: Arc<Mutex<HashMap<String, Registration>>>,
}

impl MemoryStore {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Registration>) -> T) -> T {
        f(&mut self.map.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl RegistrationStore for MemoryStore {
    fn load<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<Option<Registration>, StoreError>> {
        let found = self.with(|m| m.get(id).cloned());
        Box::pin(async move { Ok(found) })
    }

    fn find_tenant<'a>(
        &'a self,
        tenant: &'a str,
    ) -> BoxFuture<'a, Result<Option<Registration>, StoreError>> {
        let found = self.with(|m| m.values().find(|r| r.tenant == tenant).cloned());
        Box::pin(async move { Ok(found) })
    }

    fn save(&self, registration: Registration) -> BoxFuture<'_, Result<(), StoreError>> {
        self.with(|m| m.insert(registration.id.clone(), registration));
        Box::pin(async { Ok(()) })
    }
}
