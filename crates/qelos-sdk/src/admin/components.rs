//! `components`: micro-frontend components (`/api/components`, admins).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdminSdk, segment, to_body};
use crate::error::Error;

/// A component. Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Component {
    /// `_id`.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Unique key.
    #[serde(default)]
    pub identifier: String,
    /// Component name.
    #[serde(default)]
    pub component_name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Source (Vue SFC).
    #[serde(default)]
    pub content: String,
    /// Other fields (`requiredProps`, `compiledContent`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One result of [`Components::bulk_create_or_update`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct BulkComponentResult {
    /// Which component.
    #[serde(default)]
    pub identifier: String,
    /// Whether it was stored.
    #[serde(default)]
    pub success: bool,
    /// The stored component.
    #[serde(default)]
    pub component: Option<Component>,
    /// Why not.
    #[serde(default)]
    pub error: Option<String>,
}

/// The answer of [`Components::bulk_create_or_update`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct BulkComponents {
    /// Components sent.
    #[serde(default)]
    pub total: u64,
    /// Stored.
    #[serde(default)]
    pub succeeded: u64,
    /// Refused.
    #[serde(default)]
    pub failed: u64,
    /// Per component.
    #[serde(default)]
    pub results: Vec<BulkComponentResult>,
}

/// The `components` area.
#[derive(Clone, Debug)]
pub struct Components {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `components`.
    pub fn components(&self) -> Components {
        Components {
            admin: self.clone(),
        }
    }
}

fn path(id: &str) -> String {
    format!("/api/components/{}", segment(id))
}

impl Components {
    /// `GET /api/components/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `component not found`; 401 for non-admins.
    pub async fn get_component(&self, component_id: &str) -> Result<Component, Error> {
        self.admin
            .json(Method::GET, &path(component_id), Vec::new(), None)
            .await
    }
    /// `GET /api/components`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn get_list(&self) -> Result<Vec<Component>, Error> {
        self.admin
            .json(Method::GET, "/api/components", Vec::new(), None)
            .await
    }
    /// `DELETE /api/components/:id`: the removed component.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401.
    pub async fn remove(&self, component_id: &str) -> Result<Component, Error> {
        self.admin
            .json(Method::DELETE, &path(component_id), Vec::new(), None)
            .await
    }
    /// `PUT /api/components/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401.
    pub async fn update(
        &self,
        component_id: &str,
        changes: &impl Serialize,
    ) -> Result<Component, Error> {
        self.admin
            .json(
                Method::PUT,
                &path(component_id),
                Vec::new(),
                to_body(changes)?,
            )
            .await
    }
    /// `POST /api/components`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `failed to create a component`; 401.
    pub async fn create(&self, component: &Component) -> Result<Component, Error> {
        self.admin
            .json(
                Method::POST,
                "/api/components",
                Vec::new(),
                to_body(component)?,
            )
            .await
    }
    /// `POST /api/components/bulk` `{components}`: creates or updates each by `identifier`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `components array is required`; 401.
    pub async fn bulk_create_or_update(
        &self,
        components: &[Component],
    ) -> Result<BulkComponents, Error> {
        let body = serde_json::json!({ "components": components });
        self.admin
            .json(Method::POST, "/api/components/bulk", Vec::new(), Some(body))
            .await
    }
}
