//! `drafts`: the caller's drafts, keyed by `contextType` and `contextId` (any signed-in user).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdminSdk, to_body};
use crate::error::Error;

/// A draft. Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    /// What the draft is of (e.g. `blueprint`).
    pub context_type: String,
    /// Which one (`None`: a new one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// The drafted data.
    #[serde(default)]
    pub context_data: Value,
    /// Display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_display_name: Option<String>,
    /// Route parameters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_route_params: Option<Value>,
    /// Owner (set by Qelos).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `drafts` area.
#[derive(Clone, Debug)]
pub struct Drafts {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `drafts`.
    pub fn drafts(&self) -> Drafts {
        Drafts {
            admin: self.clone(),
        }
    }
}

fn context(context_type: &str, context_id: &str) -> Vec<(String, String)> {
    let mut q = Vec::new();
    if !context_type.is_empty() {
        q.push(("contextType".to_owned(), context_type.to_owned()));
    }
    if !context_id.is_empty() {
        q.push(("contextId".to_owned(), context_id.to_owned()));
    }
    q
}

impl Drafts {
    /// `GET /api/drafts/all`: the caller's drafts. (The official `getList()` calls
    /// `GET /api/drafts` without a context, which Qelos answers `404 draft not found`; this
    /// calls the list route.)
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when not signed in.
    pub async fn get_list(&self) -> Result<Vec<Draft>, Error> {
        self.admin
            .json(Method::GET, "/api/drafts/all", Vec::new(), None)
            .await
    }
    /// `GET /api/drafts?contextType=&contextId=`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `draft not found`.
    pub async fn get_draft(&self, context_type: &str, context_id: &str) -> Result<Draft, Error> {
        self.admin
            .json(
                Method::GET,
                "/api/drafts",
                context(context_type, context_id),
                None,
            )
            .await
    }
    /// `PUT /api/drafts`: creates or replaces.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 500 `error mutating draft`; 401.
    pub async fn set_draft(&self, draft: &Draft) -> Result<Draft, Error> {
        self.admin
            .json(Method::PUT, "/api/drafts", Vec::new(), to_body(draft)?)
            .await
    }
    /// `DELETE /api/drafts?contextType=&contextId=`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401.
    pub async fn remove(&self, context_type: &str, context_id: &str) -> Result<(), Error> {
        self.admin
            .raw(
                Method::DELETE,
                "/api/drafts",
                context(context_type, context_id),
                None,
                Vec::new(),
            )
            .await?
            .ok()?;
        Ok(())
    }
}
