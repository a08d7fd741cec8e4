//! `events`: platform events (`/api/events`). Listing and reading are for admins;
//! dispatching for admins and plugins.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdminSdk, segment, to_body};
use crate::error::Error;

/// A platform event. Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QelosEvent {
    /// `_id` (set by Qelos).
    #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// Who emitted it (`plugin:` prefixed for plugins).
    #[serde(default)]
    pub source: String,
    /// Kind.
    #[serde(default)]
    pub kind: String,
    /// Name.
    #[serde(default)]
    pub event_name: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// User id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Workspace id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Free data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Other fields (`tenant`, `created`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One page of [`Events::get_list`]: Qelos answers `{events, total, page, limit,
/// totalPages}`.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventPage {
    /// The events, newest first.
    #[serde(default)]
    pub events: Vec<QelosEvent>,
    /// How many match (capped by Qelos).
    #[serde(default)]
    pub total: u64,
    /// Page number (from 0).
    #[serde(default)]
    pub page: u64,
    /// Page size.
    #[serde(default)]
    pub limit: u64,
    /// Pages.
    #[serde(default)]
    pub total_pages: u64,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Filters of [`Events::get_list`]; every field is optional.
#[derive(Clone, Debug, Default)]
pub struct EventFilters {
    /// Page (from 0).
    pub page: Option<u32>,
    /// Page size.
    pub limit: Option<u32>,
    /// Kind.
    pub kind: Option<String>,
    /// Event name.
    pub event_name: Option<String>,
    /// Source.
    pub source: Option<String>,
    /// User id.
    pub user: Option<String>,
    /// Workspace id.
    pub workspace: Option<String>,
    /// Free-text search.
    pub search: Option<String>,
    /// Period (`last-week`, ...).
    pub period: Option<String>,
    /// From (ISO date).
    pub from: Option<String>,
    /// To (ISO date).
    pub to: Option<String>,
}

/// The `events` area.
#[derive(Clone, Debug)]
pub struct Events {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `events`.
    pub fn events(&self) -> Events {
        Events {
            admin: self.clone(),
        }
    }
}

impl Events {
    /// `GET /api/events`: one page. (The TypeScript client types the answer as an array; Qelos
    /// answers the page object, which the Python client unwraps. This returns the page.)
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn get_list(&self, filters: &EventFilters) -> Result<EventPage, Error> {
        let f = filters;
        let query = super::pairs([
            ("page", f.page.map(|v| v.to_string())),
            ("limit", f.limit.map(|v| v.to_string())),
            ("kind", f.kind.clone()),
            ("eventName", f.event_name.clone()),
            ("source", f.source.clone()),
            ("user", f.user.clone()),
            ("workspace", f.workspace.clone()),
            ("search", f.search.clone()),
            ("period", f.period.clone()),
            ("from", f.from.clone()),
            ("to", f.to.clone()),
        ]);
        self.admin
            .json(Method::GET, "/api/events", query, None)
            .await
    }
    /// `GET /api/events/:id`; `None` when there is none.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn get_event(&self, event_id: &str) -> Result<Option<QelosEvent>, Error> {
        let path = format!("/api/events/{}", segment(event_id));
        self.admin.json(Method::GET, &path, Vec::new(), None).await
    }
    /// `POST /api/events`. Qelos answers `200` before it stores the event.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for callers that are neither admins nor plugins.
    pub async fn dispatch(&self, event: &QelosEvent) -> Result<(), Error> {
        self.admin
            .unit(Method::POST, "/api/events", to_body(event)?)
            .await
    }
}
