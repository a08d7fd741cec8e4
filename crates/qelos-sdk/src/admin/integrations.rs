//! `integrationSources` (`/api/integration-sources`) and `integrations`
//! (`/api/integrations`): admins and plugins.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdminSdk, segment, to_body};
use crate::error::Error;

/// An integration source (a third-party connection). Qelos never answers its
/// `authentication`. Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IntegrationSource {
    /// `_id`.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Kind (`openai`, `aws`, `cloudflare`, `http`, ...).
    #[serde(default)]
    pub kind: String,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<String>,
    /// Non-secret settings.
    #[serde(default)]
    pub metadata: Value,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The answer of a status check. Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct SourceStatus {
    /// Whether the source works.
    #[serde(default)]
    pub ok: bool,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An integration (trigger → target). Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Integration {
    /// `_id`.
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Whether it runs.
    #[serde(default)]
    pub active: bool,
    /// What starts it (`source`, `operation`, `details`).
    #[serde(default)]
    pub trigger: Value,
    /// What it calls.
    #[serde(default)]
    pub target: Value,
    /// Other fields (`dataManipulation`, `kind`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `integrationSources` area.
#[derive(Clone, Debug)]
pub struct IntegrationSources {
    admin: AdminSdk,
}

/// The `integrations` area.
#[derive(Clone, Debug)]
pub struct Integrations {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `integrationSources`.
    pub fn integration_sources(&self) -> IntegrationSources {
        IntegrationSources {
            admin: self.clone(),
        }
    }
    /// `integrations`.
    pub fn integrations(&self) -> Integrations {
        Integrations {
            admin: self.clone(),
        }
    }
}

fn source_path(id: &str) -> String {
    format!("/api/integration-sources/{}", segment(id))
}

fn integration_path(id: &str) -> String {
    format!("/api/integrations/{}", segment(id))
}

impl IntegrationSources {
    /// `GET /api/integration-sources/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401 for callers that are neither admins nor plugins.
    pub async fn get_integration_source(
        &self,
        source_id: &str,
    ) -> Result<IntegrationSource, Error> {
        self.admin
            .json(Method::GET, &source_path(source_id), Vec::new(), None)
            .await
    }
    /// `GET /api/integration-sources?kind=`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401.
    pub async fn get_list(&self, kind: Option<&str>) -> Result<Vec<IntegrationSource>, Error> {
        let query = super::pairs([("kind", kind.map(str::to_owned))]);
        self.admin
            .json(Method::GET, "/api/integration-sources", query, None)
            .await
    }
    /// `DELETE /api/integration-sources/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401.
    pub async fn remove(&self, source_id: &str) -> Result<(), Error> {
        self.admin
            .unit(Method::DELETE, &source_path(source_id), None)
            .await
    }
    /// `PUT /api/integration-sources/:id` (`name`, `labels`, `metadata`, `authentication`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401.
    pub async fn update(
        &self,
        source_id: &str,
        changes: &impl Serialize,
    ) -> Result<IntegrationSource, Error> {
        self.admin
            .json(
                Method::PUT,
                &source_path(source_id),
                Vec::new(),
                to_body(changes)?,
            )
            .await
    }
    /// `POST /api/integration-sources` (`name`, `kind`, `labels`, `metadata`, `authentication`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 for invalid metadata or authentication; 401.
    pub async fn create(&self, source: &impl Serialize) -> Result<IntegrationSource, Error> {
        self.admin
            .json(
                Method::POST,
                "/api/integration-sources",
                Vec::new(),
                to_body(source)?,
            )
            .await
    }
    /// `POST /api/integration-sources/:id/status` with optional `metadata` / `authentication`
    /// overrides (`None`: `{}`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `integration source not found`; 400; 401.
    pub async fn check_status(
        &self,
        source_id: &str,
        overrides: Option<&Value>,
    ) -> Result<SourceStatus, Error> {
        let path = format!("{}/status", source_path(source_id));
        let body = overrides
            .cloned()
            .unwrap_or_else(|| Value::Object(Map::new()));
        self.admin
            .json(Method::POST, &path, Vec::new(), Some(body))
            .await
    }
    /// `POST /api/integration-sources/status`: checks an unsaved source (`kind`, `metadata`,
    /// `authentication`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `kind is required` / `metadata is required`; 401.
    pub async fn check_draft_status(&self, source: &impl Serialize) -> Result<SourceStatus, Error> {
        self.admin
            .json(
                Method::POST,
                "/api/integration-sources/status",
                Vec::new(),
                to_body(source)?,
            )
            .await
    }
}

impl Integrations {
    /// `GET /api/integrations/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `integration not found`; 401.
    pub async fn get_integration(&self, integration_id: &str) -> Result<Integration, Error> {
        self.admin
            .json(
                Method::GET,
                &integration_path(integration_id),
                Vec::new(),
                None,
            )
            .await
    }
    /// `GET /api/integrations` filtered by query pairs (`plugin`, `trigger.source`,
    /// `target.kind`, `active`, ...).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401.
    pub async fn get_list(&self, query: &[(&str, &str)]) -> Result<Vec<Integration>, Error> {
        let query = query
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        self.admin
            .json(Method::GET, "/api/integrations", query, None)
            .await
    }
    /// `DELETE /api/integrations/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401.
    pub async fn remove(&self, integration_id: &str) -> Result<(), Error> {
        self.admin
            .unit(Method::DELETE, &integration_path(integration_id), None)
            .await
    }
    /// `PUT /api/integrations/:id` (`active`, `trigger`, `target`, `dataManipulation`, ...).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `integration not found`; 401.
    pub async fn update(
        &self,
        integration_id: &str,
        changes: &impl Serialize,
    ) -> Result<Integration, Error> {
        self.admin
            .json(
                Method::PUT,
                &integration_path(integration_id),
                Vec::new(),
                to_body(changes)?,
            )
            .await
    }
    /// `POST /api/integrations`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `trigger and target are required`; 401.
    pub async fn create(&self, integration: &Integration) -> Result<Integration, Error> {
        self.admin
            .json(
                Method::POST,
                "/api/integrations",
                Vec::new(),
                to_body(integration)?,
            )
            .await
    }
}
