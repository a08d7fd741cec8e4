//! The qelos-rs quickstart: one small server-rendered axum app behind Qelos.
//!
//! * anonymous visitors get a sign-in form that posts to the integrator's ready-made `POST /login`;
//! * signed-in users see their name, the active workspace, a workspace switcher, the entities of
//!   the [`BLUEPRINT`] blueprint with a form to create one (through the request's SDK, so with
//!   the user's permissions), and a sign-out button (`POST /logout`).
//!
//! Token expiry, refresh and cookie rotation are the `QelosLayer`'s job: the handlers only use
//! the `Qelos` extractor.
//!
//! ```no_run
//! # async fn run() -> Result<(), quickstart::Error> {
//! let (config, mock) = quickstart::with_embedded_mock().await?;
//! let running = quickstart::start(config, "127.0.0.1:0").await?;
//! println!("open {} and sign in as {} / {}", running.url(), mock.seed().admin.username, mock.seed().admin.password);
//! # Ok(()) }
//! ```

#![forbid(unsafe_code)]

pub mod html;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Form, Query};
use axum::http::header::CACHE_CONTROL;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use qelos_integrator_axum::core::cookies;
use qelos_integrator_axum::qelos_sdk::{EntityQuery, User, Workspace};
use qelos_integrator_axum::{Qelos, QelosConfig, QelosLayer, QelosRoutes, RequestHead};
use serde::Deserialize;
use serde_json::{Value, json};

pub use qelos_integrator_axum::ConfigError;
pub use qelos_mock::MockServer;

use html::{ProductRow, SignedInPage};

/// The blueprint whose entities the page lists and creates (seeded by `qelos-mock`; against a
/// real Qelos, create a blueprint with this key and a `name` string and `price` number).
pub const BLUEPRINT: &str = "products";

/// The app's own cookie remembering the workspace picked in the switcher when Qelos cannot
/// switch it for the session (see [`app`]).
pub const WORKSPACE_COOKIE: &str = "qs_workspace";

/// Why the quickstart could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The Qelos configuration is invalid (e.g. a bad `QELOS_APP_URL`).
    #[error("invalid Qelos configuration: {0}")]
    Config(#[from] ConfigError),
    /// The embedded qelos-mock could not start.
    #[error(transparent)]
    Mock(#[from] qelos_mock::MockError),
    /// Binding or serving the app failed.
    #[error("the quickstart could not listen: {0}")]
    Io(#[from] std::io::Error),
}

/// The quickstart app for `config`: the page, the workspace switcher, entity creation, and the
/// integrator's auth routes, all under one `QelosLayer`.
///
/// Routes:
///
/// | route | what |
/// |---|---|
/// | `GET /` | the page (sign-in form, or the signed-in view); `?error=CODE` shows a message |
/// | `POST /login`, `POST /logout`, `GET /auth/{provider}`, `GET /auth/callback` | the integrator's auth routes |
/// | `POST /workspace` (form `id`) | switches the workspace, then `303 /` |
/// | `POST /entities` (form `name`, optional `price`) | creates a [`BLUEPRINT`] entity, then `303 /` |
///
/// The switcher calls `POST /api/workspaces/{id}/activate` through the request SDK. Qelos only
/// activates workspaces for its own cookie sessions (social login); for token sessions (the
/// sign-in form) it answers 500, and the app then remembers the choice in its own
/// [`WORKSPACE_COOKIE`], which the layer's workspace resolver honours (only for workspaces of
/// the user). Entities stay scoped by Qelos to the workspace of the session's token.
pub fn app(config: QelosConfig) -> Router {
    let qelos = QelosLayer::new(config).resolve_workspace(chosen_workspace);
    Router::new()
        .route("/", get(home))
        .route("/workspace", post(switch_workspace))
        .route("/entities", post(create_entity))
        .merge(qelos.auth_routes())
        .layer(qelos)
}

/// The workspace named by [`WORKSPACE_COOKIE`] when it is one of the user's, else the one Qelos
/// reports as active, else the first.
fn chosen_workspace(req: &RequestHead, user: &User, workspaces: &[Workspace]) -> Option<Workspace> {
    req.header_str("cookie")
        .and_then(|header| cookies::find([header], WORKSPACE_COOKIE))
        .and_then(|id| workspaces.iter().find(|w| w.id == id).cloned())
        .or_else(|| qelos_integrator_axum::core::workspace::active_or_first(user, workspaces))
}

/// The `?error=` of the page.
#[derive(Debug, Default, Deserialize)]
struct PageQuery {
    error: Option<String>,
}

fn no_store(page: String) -> Response {
    ([(CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

async fn home(q: Qelos, Query(query): Query<PageQuery>) -> Response {
    let error = query.error.as_deref();
    let Some(user) = q.user() else {
        return no_store(html::login_page(error));
    };
    let products = q
        .sdk()
        .entities::<Value>(BLUEPRINT)
        .list(&EntityQuery::new().limit(50))
        .await
        .map(|list| {
            list.into_iter()
                .map(|e| ProductRow {
                    name: e
                        .data
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned(),
                    price: e.data.get("price").and_then(Value::as_f64),
                    id: e.id,
                })
                .collect()
        })
        .map_err(|e| e.to_string());
    // The workspace of the session's credentials, named as in the user's list.
    let session_workspace = user.workspace.as_ref().map(|claimed| {
        q.workspaces()
            .iter()
            .find(|w| w.id == claimed.id)
            .unwrap_or(claimed)
    });
    no_store(html::signed_in_page(&SignedInPage {
        session_workspace,
        user,
        workspace: q.workspace(),
        workspaces: q.workspaces(),
        blueprint: BLUEPRINT,
        products,
        error,
    }))
}

fn back_with_error(code: &str) -> Response {
    Redirect::to(&format!("/?error={code}")).into_response()
}

/// The switcher's form.
#[derive(Debug, Deserialize)]
struct SwitchForm {
    id: String,
}

async fn switch_workspace(q: Qelos, Form(form): Form<SwitchForm>) -> Response {
    if q.user().is_none() {
        return back_with_error("SIGN_IN_REQUIRED");
    }
    if !q.workspaces().iter().any(|w| w.id == form.id) {
        return back_with_error("UNKNOWN_WORKSPACE");
    }
    match q.sdk().workspaces().activate(&form.id).await {
        Ok(_) => {}
        // Qelos refuses to activate a workspace for token sessions: remember the choice here.
        Err(err) if err.status() == Some(500) => {
            tracing::debug!(error = %err, "Qelos did not activate the workspace; keeping the choice in the app cookie");
        }
        Err(err) => {
            tracing::debug!(error = %err, "workspace switch failed");
            return back_with_error("WORKSPACE_NOT_SWITCHED");
        }
    }
    // The id is one of the user's workspace ids, as Qelos sent it: a cookie-safe token in
    // practice; anything else is not written.
    if form
        .id
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        q.response_cookies().push(format!(
            "{WORKSPACE_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax",
            form.id
        ));
    }
    Redirect::to("/").into_response()
}

/// The create form.
#[derive(Debug, Deserialize)]
struct CreateForm {
    name: String,
    #[serde(default)]
    price: String,
}

async fn create_entity(q: Qelos, Form(form): Form<CreateForm>) -> Response {
    if q.user().is_none() {
        return back_with_error("SIGN_IN_REQUIRED");
    }
    let name = form.name.trim();
    if name.is_empty() {
        return back_with_error("NAME_REQUIRED");
    }
    let mut body = json!({ "name": name });
    let price = form.price.trim();
    if !price.is_empty() {
        match price.parse::<f64>() {
            Ok(p) if p.is_finite() => body["price"] = json!(p),
            _ => return back_with_error("BAD_PRICE"),
        }
    }
    match q.sdk().entities::<Value>(BLUEPRINT).create(&body).await {
        Ok(_) => Redirect::to("/").into_response(),
        Err(err) => {
            tracing::debug!(error = %err, "entity creation failed");
            back_with_error("CREATE_FAILED")
        }
    }
}

/// The configuration from `QELOS_APP_URL` (and `QELOS_API_TOKEN`, `QELOS_*`): the quickstart
/// against a real Qelos.
///
/// # Errors
///
/// [`Error::Config`] when a variable is missing or invalid.
pub fn config_from_env() -> Result<QelosConfig, Error> {
    Ok(QelosConfig::from_env()?)
}

/// Starts a seeded `qelos-mock` on a free local port and returns a configuration pointing at it,
/// with the mock (keep it: dropping it stops the mock). Its seeded login is
/// `mock.seed().admin`.
///
/// # Errors
///
/// [`Error::Mock`] when the mock cannot listen, [`Error::Config`] never in practice.
pub async fn with_embedded_mock() -> Result<(QelosConfig, MockServer), Error> {
    let mock = MockServer::start().await?;
    let config = QelosConfig::builder(mock.url()).build()?;
    Ok((config, mock))
}

/// The port to listen on: `PORT`, default 8080.
pub fn port_from_env() -> u16 {
    std::env::var("PORT")
        .ok()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or(8080)
}

/// A running quickstart. Dropping it stops the server.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Running {
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// `http://<addr>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Binds `addr` (port 0: a free port) and serves [`app`] in a background task of the current
/// tokio runtime, until the returned [`Running`] is dropped.
///
/// # Errors
///
/// [`Error::Io`] when binding fails.
pub async fn start(
    config: QelosConfig,
    addr: impl tokio::net::ToSocketAddrs,
) -> Result<Running, Error> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let router = app(config);
    tokio::spawn(async move {
        let served = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = rx.await;
            })
            .await;
        if let Err(err) = served {
            tracing::warn!(error = %err, "the quickstart stopped");
        }
    });
    Ok(Running {
        addr,
        shutdown: Some(tx),
    })
}
