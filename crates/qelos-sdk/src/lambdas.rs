//! Lambdas: `/api/webhooks/:integration` (`sdk.lambdas` in the official SDK). The answer is
//! whatever the lambda returns, decoded as `T`.
//!
//! ```no_run
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! let out: serde_json::Value = sdk.lambdas().post("integration-id", &serde_json::json!({"n": 1})).await?;
//! # let _ = out; Ok(()) }
//! ```

use reqwest::Method;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::auth::segment;
use crate::client::QelosSdk;
use crate::error::Error;

/// The lambdas API of one [`QelosSdk`].
#[derive(Clone, Debug)]
pub struct Lambdas {
    sdk: QelosSdk,
}

impl QelosSdk {
    /// The lambdas API.
    pub fn lambdas(&self) -> Lambdas {
        Lambdas { sdk: self.clone() }
    }
}

impl Lambdas {
    fn path(integration: &str) -> String {
        format!("/api/webhooks/{}", segment(integration))
    }
    /// Any method, with query pairs and an optional JSON body (the official `execute`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 unknown integration, 401 signed out, or the lambda's own refusal.
    pub async fn execute<T: DeserializeOwned>(
        &self,
        method: Method,
        integration: &str,
        query: &[(&str, &str)],
        body: Option<&serde_json::Value>,
    ) -> Result<T, Error> {
        let mut request = self
            .sdk
            .request(method, Self::path(integration))
            .query(&query);
        if let Some(body) = body {
            request = request.json(body);
        }
        request.send().await
    }
    /// `GET`.
    ///
    /// # Errors
    ///
    /// As [`execute`](Self::execute).
    pub async fn get<T: DeserializeOwned>(&self, integration: &str) -> Result<T, Error> {
        self.execute(Method::GET, integration, &[], None).await
    }
    /// `POST` with a JSON body.
    ///
    /// # Errors
    ///
    /// As [`execute`](Self::execute).
    pub async fn post<T: DeserializeOwned>(
        &self,
        integration: &str,
        body: &impl Serialize,
    ) -> Result<T, Error> {
        let body = serde_json::to_value(body).map_err(|e| Error::encode(&e))?;
        self.execute(Method::POST, integration, &[], Some(&body))
            .await
    }
    /// `PUT` with a JSON body.
    ///
    /// # Errors
    ///
    /// As [`execute`](Self::execute).
    pub async fn put<T: DeserializeOwned>(
        &self,
        integration: &str,
        body: &impl Serialize,
    ) -> Result<T, Error> {
        let body = serde_json::to_value(body).map_err(|e| Error::encode(&e))?;
        self.execute(Method::PUT, integration, &[], Some(&body))
            .await
    }
    /// `DELETE`.
    ///
    /// # Errors
    ///
    /// As [`execute`](Self::execute).
    pub async fn delete<T: DeserializeOwned>(&self, integration: &str) -> Result<T, Error> {
        self.execute(Method::DELETE, integration, &[], None).await
    }
}
