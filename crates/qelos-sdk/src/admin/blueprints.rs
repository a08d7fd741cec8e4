//! `manageBlueprints`: `/api/blueprints` (reading is open to every signed-in user; Qelos
//! shows non-admins the viewer fields only; writing is for admins).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdminSdk, segment, to_body};
use crate::error::Error;

/// A blueprint. Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Blueprint {
    /// `_id`.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The key used in entity paths.
    #[serde(default)]
    pub identifier: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// `user`, `workspace` or `tenant` (admins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permission_scope: Option<String>,
    /// Permission rules (admins only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<Value>>,
    /// Property descriptors by name (`title`, `type`, `required`, ...).
    #[serde(default)]
    pub properties: Map<String, Value>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `manageBlueprints` area.
#[derive(Clone, Debug)]
pub struct ManageBlueprints {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `manageBlueprints`.
    pub fn manage_blueprints(&self) -> ManageBlueprints {
        ManageBlueprints {
            admin: self.clone(),
        }
    }
}

fn path(key: &str) -> String {
    format!("/api/blueprints/{}", segment(key))
}

impl ManageBlueprints {
    /// `GET /api/blueprints/:key`; `None` when there is none (Qelos answers `null`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when not signed in.
    pub async fn get_blueprint(&self, key: &str) -> Result<Option<Blueprint>, Error> {
        self.admin
            .json(Method::GET, &path(key), Vec::new(), None)
            .await
    }
    /// `GET /api/blueprints`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when not signed in.
    pub async fn get_list(&self) -> Result<Vec<Blueprint>, Error> {
        self.admin
            .json(Method::GET, "/api/blueprints", Vec::new(), None)
            .await
    }
    /// `DELETE /api/blueprints/:key`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `cannot remove blueprint with existing entities`; 401 for non-admins.
    pub async fn remove(&self, key: &str) -> Result<(), Error> {
        self.admin.unit(Method::DELETE, &path(key), None).await
    }
    /// `PUT /api/blueprints/:key` with the fields to change.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `blueprint not found`; 401 for non-admins.
    pub async fn update(&self, key: &str, changes: &impl Serialize) -> Result<Blueprint, Error> {
        self.admin
            .json(Method::PUT, &path(key), Vec::new(), to_body(changes)?)
            .await
    }
    /// `POST /api/blueprints` (a [`Blueprint`] or any JSON object with `identifier`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `failed to create a blueprint` (no or taken identifier); 401.
    pub async fn create(&self, blueprint: &impl Serialize) -> Result<Blueprint, Error> {
        self.admin
            .json(
                Method::POST,
                "/api/blueprints",
                Vec::new(),
                to_body(blueprint)?,
            )
            .await
    }
}
