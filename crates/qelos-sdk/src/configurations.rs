//! The application's configuration (`sdk.appConfigurations` in the official SDK).
//!
//! ```no_run
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! let config = sdk.app_configurations().get().await?;
//! println!("{:?}", config.metadata.get("name"));
//! # Ok(()) }
//! ```

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::{Call, QelosSdk};
use crate::error::Error;

const PATH: &str = "/api/configurations/app-configuration";

/// The app configuration document: its `metadata` (name, logo, language, colors, ...) and the
/// rest of the document in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AppConfiguration {
    /// The configuration itself (`IAppConfiguration`).
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// Every other field (`key`, `public`, `tenant`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The app-configuration API of one [`QelosSdk`].
#[derive(Clone, Debug)]
pub struct AppConfigurations {
    sdk: QelosSdk,
}

impl QelosSdk {
    /// The app-configuration API.
    pub fn app_configurations(&self) -> AppConfigurations {
        AppConfigurations { sdk: self.clone() }
    }
}

impl AppConfigurations {
    /// `GET /api/configurations/app-configuration` (public).
    ///
    /// # Errors
    ///
    /// Network, timeout, decode errors.
    pub async fn get(&self) -> Result<AppConfiguration, Error> {
        self.sdk.get_json(PATH).await
    }
    /// `PUT /api/configurations/app-configuration` with `{metadata: changes}` (admins).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 `you are not authorized` for non-admins.
    pub async fn update(&self, changes: &impl Serialize) -> Result<AppConfiguration, Error> {
        let changes = serde_json::to_value(changes).map_err(|e| Error::encode(&e))?;
        let body = serde_json::json!({ "metadata": changes });
        self.sdk
            .send(Call::new(Method::PUT, PATH).json(body))
            .await?
            .json()
    }
}
