//! [`Plugin::sdk_for_tenant`]: a `QelosSdk` signed in as a tenant's plugin user
//! (plugin-play's `getSdkForTenant`).

use std::sync::Arc;

use futures_util::future::BoxFuture;
use qelos_sdk::{Auth, Credentials, QelosSdk, SessionHooks, TokenPair};
use tracing::Instrument as _;

use crate::Plugin;
use crate::store::StoreError;
use crate::verify::PluginRequest;

/// Why [`Plugin::sdk_for_tenant`] could not give an SDK.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TenantSdkError {
    /// The request has no tenant, or the tenant never registered.
    #[error("the tenant is not registered with this plugin")]
    NotRegistered,
    /// The registration store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The SDK could not be built (bad `appUrl`).
    #[error("the tenant's Qelos SDK could not be built")]
    Sdk(#[source] qelos_sdk::Error),
}

/// Refresh and persistence for one tenant's SDK.
struct TenantHooks {
    plugin: Plugin,
    registration: String,
}

impl TenantHooks {
    /// Stores `tokens` unless the stored pair already moved on.
    async fn persist(&self, tokens: &TokenPair) -> Result<(), qelos_sdk::Error> {
        let saved = self
            .plugin
            .update_registration(&self.registration, |reg, _| {
                reg.qelos_tokens = tokens.clone();
                Some(())
            })
            .await;
        if let Err(e) = saved {
            // The SDK keeps working with the new pair; the next process re-signs in if needed.
            tracing::warn!(error = %e, registration = %self.registration, "could not persist rotated qelos tokens");
        }
        Ok(())
    }

    async fn refresh_or_signin(
        &self,
        sdk: &QelosSdk,
        current: &TokenPair,
    ) -> Result<TokenPair, qelos_sdk::Error> {
        let stored = self
            .plugin
            .inner
            .store
            .load(&self.registration)
            .await
            .ok()
            .flatten()
            .and_then(|rec| self.plugin.open_registration(&rec).ok());
        // Another process (or SDK instance) already rotated the pair: use its tokens.
        if let Some(tokens) = stored
            .as_ref()
            .map(|reg| reg.qelos_tokens.clone())
            .filter(|t| !t.is_empty() && t != current)
        {
            tracing::debug!("using the qelos tokens another instance stored");
            return Ok(tokens);
        }
        let refreshed = match sdk.exchange_tokens(current).await {
            Ok(pair) => pair,
            Err(e) if e.is_unavailable() => return Err(e),
            Err(e) => {
                let Some(reg) = stored else { return Err(e) };
                tracing::info!(registration = %self.registration, "qelos refresh token refused; signing in again with the stored credentials");
                let anonymous = sdk.with_auth(Auth::None, None);
                anonymous
                    .oauth_signin(&Credentials::new(&reg.username, reg.password.expose()))
                    .await?
                    .tokens
            }
        };
        self.persist(&refreshed).await?;
        Ok(refreshed)
    }
}

impl SessionHooks for TenantHooks {
    fn refresh<'a>(
        &'a self,
        sdk: &'a QelosSdk,
        current: &'a TokenPair,
    ) -> BoxFuture<'a, Result<TokenPair, qelos_sdk::Error>> {
        let span =
            tracing::info_span!("qelos_plugin.tenant_refresh", registration = %self.registration);
        Box::pin(self.refresh_or_signin(sdk, current).instrument(span))
    }
}

impl Plugin {
    /// A [`QelosSdk`] signed in as `tenant`'s plugin user, on the tenant's `appUrl` with the
    /// `tenant` header: call Qelos back as the tenant. On a `401` it refreshes the stored Qelos
    /// pair; when the refresh token is dead it signs in again with the stored credentials; the
    /// new pair is saved (encrypted) to the registration store, where other processes find it.
    /// Shares the plugin's connection pool.
    ///
    /// # Errors
    ///
    /// [`TenantSdkError::NotRegistered`], [`TenantSdkError::Store`], [`TenantSdkError::Sdk`].
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_plugin::{Plugin, TenantSdkError};
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
    /// # }
    /// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
    ///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
    ///     .build()?;
    /// let missing = block_on(plugin.sdk_for_tenant("never-registered"));
    /// assert!(matches!(missing, Err(TenantSdkError::NotRegistered)));
    /// # Ok::<(), qelos_plugin::ConfigError>(())
    /// ```
    pub async fn sdk_for_tenant(&self, tenant: &str) -> Result<QelosSdk, TenantSdkError> {
        let reg = self
            .registration(tenant)
            .await?
            .ok_or(TenantSdkError::NotRegistered)?;
        let hooks = Arc::new(TenantHooks {
            plugin: self.clone(),
            registration: reg.id.clone(),
        });
        QelosSdk::builder(&reg.app_url)
            .client(self.inner.http.clone())
            .timeout(self.inner.signin_timeout)
            .header("tenant", &reg.tenant)
            .auth(Auth::OAuth(reg.qelos_tokens.clone()))
            .hooks(hooks)
            .build()
            .map_err(TenantSdkError::Sdk)
    }

    /// [`sdk_for_tenant`](Self::sdk_for_tenant) for the tenant of a verified request.
    ///
    /// # Errors
    ///
    /// As [`sdk_for_tenant`](Self::sdk_for_tenant).
    pub async fn sdk_for(&self, req: &PluginRequest) -> Result<QelosSdk, TenantSdkError> {
        let tenant = req.tenant.as_deref().ok_or(TenantSdkError::NotRegistered)?;
        self.sdk_for_tenant(tenant).await
    }
}
