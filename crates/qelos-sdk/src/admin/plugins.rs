//! `managePlugins`: `/api/plugins` (list for anyone, limited fields for non-admins; read for
//! admins and plugins; write for admins).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdminSdk, segment, to_body};
use crate::error::Error;

/// A plugin (never with its token). Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Plugin {
    /// `_id`.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The gateway path (`/api/on/{apiPath}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_path: Option<String>,
    /// Where the gateway proxies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy_url: Option<String>,
    /// Manifest URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_url: Option<String>,
    /// Micro-frontends.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub micro_frontends: Vec<Value>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `managePlugins` area.
#[derive(Clone, Debug)]
pub struct ManagePlugins {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `managePlugins`.
    pub fn manage_plugins(&self) -> ManagePlugins {
        ManagePlugins {
            admin: self.clone(),
        }
    }
}

fn path(id: &str) -> String {
    format!("/api/plugins/{}", segment(id))
}

impl ManagePlugins {
    /// `POST /api/plugins`: the plugin data (a JSON object: `name`, `apiPath`, `proxyUrl`,
    /// `manifestUrl`, `token`, `registerUrl`, `callbackUrl`, `authAcquire`, `microFrontends`, ...).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 `api path already taken by another plugin. choose another path.`;
    /// 401 for non-admins.
    pub async fn create(&self, plugin: &impl Serialize) -> Result<Plugin, Error> {
        self.admin
            .json(Method::POST, "/api/plugins", Vec::new(), to_body(plugin)?)
            .await
    }
    /// `PUT /api/plugins/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 500 `could not update plugin` for an unknown plugin; 401 for non-admins.
    pub async fn update(&self, plugin_id: &str, changes: &impl Serialize) -> Result<Plugin, Error> {
        self.admin
            .json(Method::PUT, &path(plugin_id), Vec::new(), to_body(changes)?)
            .await
    }
    /// `DELETE /api/plugins/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `could not find plugin`; 401 for non-admins.
    pub async fn remove(&self, plugin_id: &str) -> Result<(), Error> {
        self.admin
            .unit(Method::DELETE, &path(plugin_id), None)
            .await
    }
    /// `GET /api/plugins`.
    ///
    /// # Errors
    ///
    /// Network, timeout, decode errors.
    pub async fn get_list(&self) -> Result<Vec<Plugin>, Error> {
        self.admin
            .json(Method::GET, "/api/plugins", Vec::new(), None)
            .await
    }
    /// `GET /api/plugins/:id`; `None` when there is none (Qelos answers `null`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for callers that are neither admins nor plugins.
    pub async fn get_by_id(&self, plugin_id: &str) -> Result<Option<Plugin>, Error> {
        self.admin
            .json(Method::GET, &path(plugin_id), Vec::new(), None)
            .await
    }
}
