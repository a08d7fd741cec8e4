//! `permissions` (Python `qelos-sdk` 4.0 only): `GET /api/permissions/check` and
//! `GET /api/permissions`. No Qelos service routes these paths today (Qelos answers `404`);
//! the methods exist so code written against the Python client has a counterpart.

use reqwest::Method;
use serde_json::Value;

use crate::client::{Call, QelosSdk};
use crate::error::Error;

/// The `permissions` area of one [`QelosSdk`].
#[derive(Clone, Debug)]
pub struct Permissions {
    sdk: QelosSdk,
}

impl QelosSdk {
    /// `permissions` (Python client).
    pub fn permissions(&self) -> Permissions {
        Permissions { sdk: self.clone() }
    }
}

impl Permissions {
    /// `GET /api/permissions/check?permission=`: whether the caller has `permission`. Reads a
    /// boolean answer, or `allowed` / `ok` / `permitted` / `hasPermission` of an object, as the
    /// Python client does.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] as Qelos answers (404 today); [`Error::Decode`] for another answer shape.
    pub async fn check(&self, permission: &str) -> Result<bool, Error> {
        let call = Call::new(Method::GET, "/api/permissions/check")
            .query(vec![("permission".into(), permission.into())]);
        let raw = self.sdk.send(call).await?;
        let status = raw.status.as_u16();
        let answer: Value = raw.json()?;
        let verdict = match &answer {
            Value::Bool(b) => Some(*b),
            Value::Object(m) => ["allowed", "ok", "permitted", "hasPermission"]
                .iter()
                .find_map(|k| m.get(*k))
                .map(|v| v.as_bool().unwrap_or(!v.is_null())),
            _ => None,
        };
        verdict.ok_or_else(|| Error::Decode {
            status,
            detail: "unexpected permissions check answer".into(),
        })
    }
    /// `GET /api/permissions`: the caller's permission descriptors (shape not fixed by Qelos).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] as Qelos answers (404 today).
    pub async fn get_user_permissions(&self) -> Result<Value, Error> {
        self.sdk.get_json("/api/permissions").await
    }
}
