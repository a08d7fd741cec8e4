//! Sealing registrations for the store, opening them, and compare-and-swap updates.

use qelos_sdk::{Secret, TokenPair};
use serde::{Deserialize, Serialize};

use crate::Plugin;
use crate::store::{Registration, StoreError, StoredRegistration};

/// How many times an update re-reads and retries after losing a compare-and-swap.
const CAS_ATTEMPTS: usize = 8;

/// What is sealed: everything secret about a registration.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Sealed {
    app_url: String,
    username: String,
    password: String,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

impl Plugin {
    /// Decrypts a stored registration. A record sealed under another key reads as a store error
    /// (the configuration's `encryption_key` differs between processes).
    ///
    /// # Errors
    ///
    /// [`StoreError`] when the record does not open.
    pub fn open_registration(&self, rec: &StoredRegistration) -> Result<Registration, StoreError> {
        let plain = self
            .inner
            .sealer
            .open(&rec.id, &rec.sealed)
            .ok_or_else(|| {
                StoreError("a registration did not decrypt (wrong encryption key?)".into())
            })?;
        let s: Sealed = serde_json::from_slice(&plain)
            .map_err(|_| StoreError("a sealed registration is not readable".into()))?;
        Ok(Registration {
            id: rec.id.clone(),
            tenant: rec.tenant.clone(),
            app_url: s.app_url,
            username: s.username,
            password: Secret::new(s.password),
            qelos_tokens: TokenPair::new(
                s.access_token.map(Secret::new),
                s.refresh_token.map(Secret::new),
            ),
            access_epoch: rec.access_epoch,
        })
    }

    pub(crate) fn seal_registration(
        &self,
        reg: &Registration,
        revision: u64,
        refresh_identifier: String,
    ) -> Result<StoredRegistration, StoreError> {
        let sealed = Sealed {
            app_url: reg.app_url.clone(),
            username: reg.username.clone(),
            password: reg.password.expose().to_owned(),
            access_token: reg
                .qelos_tokens
                .access
                .as_ref()
                .map(|s| s.expose().to_owned()),
            refresh_token: reg
                .qelos_tokens
                .refresh
                .as_ref()
                .map(|s| s.expose().to_owned()),
        };
        let plain = serde_json::to_vec(&sealed)
            .map_err(|_| StoreError("a registration could not be serialized".into()))?;
        let sealed = self
            .inner
            .sealer
            .seal(&reg.id, &plain)
            .ok_or_else(|| StoreError("a registration could not be encrypted".into()))?;
        Ok(StoredRegistration {
            id: reg.id.clone(),
            tenant: reg.tenant.clone(),
            revision,
            access_epoch: reg.access_epoch,
            refresh_identifier,
            sealed,
        })
    }

    /// The decrypted registration of `tenant`, if it registered.
    ///
    /// # Errors
    ///
    /// [`StoreError`] from the store or a record that does not decrypt.
    pub async fn registration(&self, tenant: &str) -> Result<Option<Registration>, StoreError> {
        match self.inner.store.find_tenant(tenant).await? {
            Some(rec) => self.open_registration(&rec).map(Some),
            None => Ok(None),
        }
    }

    /// Re-reads the record `id` and applies `change` until a compare-and-swap wins. `change`
    /// sees the decrypted registration and the stored record; it returns `None` to give up
    /// (nothing written). Returns what the winning `change` returned.
    pub(crate) async fn update_registration<T>(
        &self,
        id: &str,
        mut change: impl FnMut(&mut Registration, &mut StoredRegistration) -> Option<T>,
    ) -> Result<Option<T>, StoreError> {
        for _ in 0..CAS_ATTEMPTS {
            let Some(mut rec) = self.inner.store.load(id).await? else {
                return Ok(None);
            };
            let mut reg = self.open_registration(&rec)?;
            let expected = rec.revision;
            let Some(out) = change(&mut reg, &mut rec) else {
                return Ok(None);
            };
            let next =
                self.seal_registration(&reg, expected + 1, rec.refresh_identifier.clone())?;
            if self
                .inner
                .store
                .compare_and_swap(Some(expected), next)
                .await?
            {
                return Ok(Some(out));
            }
            tracing::debug!(registration = %id, "registration changed meanwhile; retrying");
        }
        Err(StoreError("the registration kept changing; gave up".into()))
    }
}
