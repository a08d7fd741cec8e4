//! Qelos events a plugin subscribes to (`subscribedEvents`), verified and typed.

use std::future::Future;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::manifest::SubscribedEvent;
use crate::verify::PluginRequest;

/// Which events to receive; `*` (the default) matches any.
///
/// # Examples
///
/// ```
/// let f = qelos_plugin::EventFilter::any().source("blueprints").kind("todo");
/// assert_eq!((f.source.as_str(), f.kind.as_str(), f.event_name.as_str()), ("blueprints", "todo", "*"));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventFilter {
    /// Source (`blueprints`, `auth`, …).
    pub source: String,
    /// Kind (a blueprint key, …).
    pub kind: String,
    /// Event name (`create`, `update`, `delete`, …).
    pub event_name: String,
}

impl EventFilter {
    /// Every event.
    pub fn any() -> Self {
        Self {
            source: "*".into(),
            kind: "*".into(),
            event_name: "*".into(),
        }
    }
    /// Only this source.
    #[must_use]
    pub fn source(mut self, source: &str) -> Self {
        self.source = source.into();
        self
    }
    /// Only this kind.
    #[must_use]
    pub fn kind(mut self, kind: &str) -> Self {
        self.kind = kind.into();
        self
    }
    /// Only this event name.
    #[must_use]
    pub fn event_name(mut self, name: &str) -> Self {
        self.event_name = name.into();
        self
    }
}

/// An event Qelos posted to a hook (Qelos's event record).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
#[non_exhaustive]
pub struct QelosEvent {
    /// Tenant.
    pub tenant: String,
    /// The user that caused it, if any (id).
    pub user: Option<String>,
    /// Source.
    pub source: String,
    /// Kind.
    pub kind: String,
    /// Event name.
    pub event_name: String,
    /// Description.
    pub description: String,
    /// Payload (for entity events, the entity).
    pub metadata: Value,
    /// When.
    pub created: Option<String>,
}

/// Receives verified events. Closures `Fn(PluginRequest, QelosEvent) -> impl Future` qualify.
pub trait EventHandler: Send + Sync + 'static {
    /// Handles one event; the hook answers `200` once it returns.
    fn handle(&self, caller: PluginRequest, event: QelosEvent) -> BoxFuture<'static, ()>;
}

impl<F, Fut> EventHandler for F
where
    F: Fn(PluginRequest, QelosEvent) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn handle(&self, caller: PluginRequest, event: QelosEvent) -> BoxFuture<'static, ()> {
        Box::pin(self(caller, event))
    }
}

/// One subscription: its filter, path and handler.
#[derive(Clone)]
pub(crate) struct Hook {
    pub(crate) filter: EventFilter,
    pub(crate) path: String,
    pub(crate) handler: Arc<dyn EventHandler>,
}

impl Hook {
    pub(crate) fn new(filter: EventFilter, handler: Arc<dyn EventHandler>) -> Self {
        let tag = URL_SAFE_NO_PAD.encode(json!(filter).to_string());
        Self {
            path: format!("{}/{tag}", crate::HOOKS_PATH),
            filter,
            handler,
        }
    }

    pub(crate) fn subscribed_event(&self, app_url: &str) -> SubscribedEvent {
        SubscribedEvent {
            source: self.filter.source.clone(),
            kind: self.filter.kind.clone(),
            event_name: self.filter.event_name.clone(),
            hook_url: format!("{app_url}{}", self.path),
        }
    }

    pub(crate) fn matches(&self, event: &QelosEvent) -> bool {
        let f = &self.filter;
        let m = |want: &str, got: &str| want == "*" || want == got;
        m(&f.source, &event.source)
            && m(&f.kind, &event.kind)
            && m(&f.event_name, &event.event_name)
    }
}
