//! The administrator API: the Rust side of `QelosAdministratorSDK` (TypeScript `@qelos/sdk`,
//! Python `qelos-sdk`), behind the same client.
//!
//! [`QelosSdk::admin`] returns an [`AdminSdk`] view over the same instance: the same HTTP
//! client, credentials, refresh-on-401, per-call timeout, error types and `qelos.request`
//! spans. Each area is one accessor (`admin.users()`, `admin.manage_blueprints()`, ...).
//! Like the official clients, every admin call carries `?bypassAdmin=true`.
//!
//! ```no_run
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! let admin = sdk.admin();
//! for user in admin.users().get_list(&qelos_sdk::admin::UserFilters::default()).await? {
//!     println!("{} {:?}", user.username, user.roles);
//! }
//! let roles = admin.roles().get_existing_roles().await?;
//! // Act as another user on the admin API (x-impersonate-user / x-impersonate-workspace):
//! let as_user = admin.impersonate_user("64f0c0ffee0000000000beef", None)?;
//! let drafts = as_user.drafts().get_list().await?;
//! # let _ = (roles, drafts); Ok(()) }
//! ```

use reqwest::Method;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::client::{Call, QelosSdk};
use crate::error::Error;

pub mod blueprints;
pub mod components;
pub mod configurations;
pub mod drafts;
pub mod events;
pub mod integrations;
pub mod lambdas;
pub mod payments;
pub mod permissions;
pub mod plugins;
pub mod users;
pub mod workspaces;

pub use blueprints::{Blueprint, ManageBlueprints};
pub use components::{BulkComponentResult, BulkComponents, Component, Components};
pub use configurations::{Configuration, ManageConfigurations};
pub use drafts::{Draft, Drafts};
pub use events::{EventFilters, EventPage, Events, QelosEvent};
pub use integrations::{
    Integration, IntegrationSource, IntegrationSources, Integrations, SourceStatus,
};
pub use lambdas::{LambdaFunction, ManageLambdas};
pub use payments::{
    CheckoutAnswer, Coupon, Invoice, ManagePayments, PaymentsConfiguration, Plan, Subscription,
};
pub use permissions::Permissions;
pub use plugins::{ManagePlugins, Plugin};
pub use users::{ManagedUser, Roles, UserFilters, Users};
pub use workspaces::{AdminWorkspaces, WorkspaceFilters};

/// The administrator API of one [`QelosSdk`]. Cheap to clone.
#[derive(Clone, Debug)]
pub struct AdminSdk {
    sdk: QelosSdk,
    /// `x-impersonate-user` / `x-impersonate-workspace`, sent on every admin call.
    impersonation: Vec<(HeaderName, HeaderValue)>,
}

impl QelosSdk {
    /// The administrator API over this instance (its credentials must be an admin's for most
    /// calls: Qelos refuses others with `401`).
    pub fn admin(&self) -> AdminSdk {
        AdminSdk::from(self.clone())
    }
}

impl From<QelosSdk> for AdminSdk {
    fn from(sdk: QelosSdk) -> Self {
        Self {
            sdk,
            impersonation: Vec::new(),
        }
    }
}

/// `Content-Type`-free JSON body of a call, or none.
pub(crate) type Body = Option<serde_json::Value>;

pub(crate) fn to_body(value: &impl Serialize) -> Result<Body, Error> {
    serde_json::to_value(value)
        .map(Some)
        .map_err(|e| Error::encode(&e))
}

pub(crate) use crate::auth::segment;

impl AdminSdk {
    /// The underlying instance.
    pub fn sdk(&self) -> &QelosSdk {
        &self.sdk
    }

    /// A view whose admin calls act as `user_id` (and, when given, in `workspace_id`): the
    /// `impersonateUser` of the official clients. Qelos answers `404 Impersonated user not
    /// found` for an unknown user. Unlike the official clients this does not change `self`
    /// (nor calls made through [`QelosSdk`]); drop the view to stop (`clearImpersonation`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHeader`] when an id cannot be sent in a header.
    pub fn impersonate_user(
        &self,
        user_id: &str,
        workspace_id: Option<&str>,
    ) -> Result<AdminSdk, Error> {
        let value = |v: &str| {
            HeaderValue::from_str(v).map_err(|_| {
                Error::InvalidHeader(
                    "an impersonation id holds characters a header cannot carry".into(),
                )
            })
        };
        let mut impersonation = vec![(
            HeaderName::from_static("x-impersonate-user"),
            value(user_id)?,
        )];
        if let Some(ws) = workspace_id {
            impersonation.push((
                HeaderName::from_static("x-impersonate-workspace"),
                value(ws)?,
            ));
        }
        Ok(AdminSdk {
            sdk: self.sdk.clone(),
            impersonation,
        })
    }

    /// This view without impersonation (`clearImpersonation`).
    pub fn clear_impersonation(&self) -> AdminSdk {
        AdminSdk::from(self.sdk.clone())
    }

    /// Whether this view impersonates someone.
    pub fn is_impersonating(&self) -> bool {
        !self.impersonation.is_empty()
    }

    /// One admin call: `bypassAdmin=true`, the impersonation headers, `extra` headers.
    pub(crate) async fn raw(
        &self,
        method: Method,
        path: &str,
        mut query: Vec<(String, String)>,
        body: Body,
        extra: Vec<(HeaderName, HeaderValue)>,
    ) -> Result<crate::client::Raw, Error> {
        query.push(("bypassAdmin".into(), "true".into()));
        let mut call = Call::new(method, path).query(query);
        if !self.impersonation.is_empty() || !extra.is_empty() {
            let mut headers = HeaderMap::new();
            for (name, value) in self.impersonation.iter().cloned().chain(extra) {
                headers.insert(name, value);
            }
            call.headers = Some(Box::new(headers));
        }
        if let Some(b) = body {
            call = call.json(b);
        }
        self.sdk.send(call).await
    }

    /// An admin call answered with JSON.
    pub(crate) async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        query: Vec<(String, String)>,
        body: Body,
    ) -> Result<T, Error> {
        self.raw(method, path, query, body, Vec::new())
            .await?
            .json()
    }

    /// An admin call whose answer body is not read (only its status).
    pub(crate) async fn unit(&self, method: Method, path: &str, body: Body) -> Result<(), Error> {
        self.raw(method, path, Vec::new(), body, Vec::new())
            .await?
            .ok()?;
        Ok(())
    }
}

/// Query pairs from optional values.
pub(crate) fn pairs<'a>(
    items: impl IntoIterator<Item = (&'a str, Option<String>)>,
) -> Vec<(String, String)> {
    items
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_owned(), v)))
        .collect()
}
