//! `manageConfigurations`: `/api/configurations` (admins; a `public` configuration is
//! readable by anyone).

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdminSdk, segment, to_body};
use crate::error::Error;

/// A custom configuration; `T` is its `metadata`. Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Configuration<T = Value> {
    /// The key.
    pub key: String,
    /// Readable without credentials.
    #[serde(default)]
    pub public: bool,
    /// Kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The data.
    pub metadata: T,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `manageConfigurations` area.
#[derive(Clone, Debug)]
pub struct ManageConfigurations {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `manageConfigurations`.
    pub fn manage_configurations(&self) -> ManageConfigurations {
        ManageConfigurations {
            admin: self.clone(),
        }
    }
}

fn path(key: &str) -> String {
    format!("/api/configurations/{}", segment(key))
}

impl ManageConfigurations {
    /// `GET /api/configurations`. (The official `getList(key)` ignores its argument; this
    /// takes none.)
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 `you are not authorized` for non-admins.
    pub async fn get_list(&self) -> Result<Vec<Configuration>, Error> {
        self.admin
            .json(Method::GET, "/api/configurations", Vec::new(), None)
            .await
    }
    /// `GET /api/configurations/:key`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `configuration not exists` (also for a private one and a non-admin).
    pub async fn get_configuration<T: DeserializeOwned>(
        &self,
        key: &str,
    ) -> Result<Configuration<T>, Error> {
        self.admin
            .json(Method::GET, &path(key), Vec::new(), None)
            .await
    }
    /// `POST /api/configurations`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 409 when the key exists; 400 without a key; 401 for non-admins.
    pub async fn create<T: Serialize + DeserializeOwned>(
        &self,
        config: &Configuration<T>,
    ) -> Result<Configuration<T>, Error> {
        self.admin
            .json(
                Method::POST,
                "/api/configurations",
                Vec::new(),
                to_body(config)?,
            )
            .await
    }
    /// `PUT /api/configurations/:key` with the fields to change.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `configuration not exists`; 401 for non-admins.
    pub async fn update<T: DeserializeOwned>(
        &self,
        key: &str,
        changes: &impl Serialize,
    ) -> Result<Configuration<T>, Error> {
        self.admin
            .json(Method::PUT, &path(key), Vec::new(), to_body(changes)?)
            .await
    }
    /// `DELETE /api/configurations/:key`: the removed configuration.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 for `app-configuration`; 404; 401 for non-admins.
    pub async fn remove(&self, key: &str) -> Result<Configuration, Error> {
        self.admin
            .json(Method::DELETE, &path(key), Vec::new(), None)
            .await
    }
}
