//! An in-memory fake [Qelos](https://qelos.io) server that speaks the Qelos wire protocol:
//! sign-in (cookie and OAuth), single-use refresh rotation, session-cookie rotation, `/api/me`,
//! API tokens, social login, workspaces and blueprint entities with permissions. Tokens are real
//! HS256 JWTs, so expiry is real.
//!
//! It is the upstream of every qelos-rs test and the embedded default of every example. Beside
//! the protocol it has test controls a real Qelos lacks: mint tokens (optionally expired), expire
//! a token, count calls per endpoint, record requests, and inject faults.
//!
//! It is also a plugin gateway: [`MockServer::add_plugin`] (or `POST /__mock/plugins` with a
//! plugin manifest) registers a plugin, and `/api/on/{apiPath}/*` and `/api/{apiPath}/*` are
//! then proxied to it as Qelos does: the caller resolved from its credentials into a plain-JSON
//! `user` header, `Authorization: Bearer <plugin token>`, no cookie, `tenant` and `tenanthost`,
//! the prefix stripped; the token is static or acquired through the plugin's `registerUrl` and
//! `authAcquire.refreshTokenUrl`, and dropped when the plugin answers `407` or
//! `x-q-auth: unauthorized`. `GET /api/plugins/{id}/callback` runs the micro-frontend callback
//! (tried once more after a refusal; then a `302` to the plugin's or the decoded `returnUrl`).
//!
//! It serves the administrator API too (`/api/users`, `/api/roles`, `/api/workspaces/all`,
//! encrypted data, `/api/blueprints`, `/api/configurations`, `/api/plugins`, `/api/lambdas`,
//! `/api/drafts`, `/api/events`, `/api/integration-sources`, `/api/integrations`,
//! `/api/components`, plans, coupons, subscriptions, invoices, checkout and
//! `/api/payments/configuration`) with Qelos's role checks and refusal bodies, and the user side
//! of payments (`/api/plans/public`, `/api/subscriptions/me`, `/api/coupons/validate`), AI
//! agents (`/api/ai/agents`, stored as chat-completion integrations), blueprint charts
//! (`count`, `sum`, `pie`, and `line`/`bar`/... computed from the stored entities) and MCP
//! authorisation (`/api/auth/mcp/authorize|consent|token`, enabled by the `mcp-configuration`
//! configuration). An admin's `x-impersonate-user` / `x-impersonate-workspace` are honoured
//! where Qelos honours them: on every service behind the gateway (also as the
//! `impersonateUser` / `impersonateWorkspace` query; the service sees the impersonated user
//! with their own roles), on the auth service's workspaces, users, roles and invites routes,
//! and on `GET /api/me`. A plugin created with `POST /api/plugins` (a `proxyUrl` and a `token`
//! or `registerUrl`) joins the gateway. Third parties are faked, deterministically (see
//! [`fakes`]): lambdas of `aws` / `cloudflare` sources live in memory (nothing reaches AWS or
//! Cloudflare), integration-source status checks answer `{"ok": true}` when `kind` and
//! `metadata` are there, components are not compiled (`compiledContent.js` echoes the
//! source), the AI model echoes, and the payment provider's checkout page is the mock's own
//! `/__mock/checkout/{subscriptionId}`: opening it (or [`MockServer::complete_checkout`]) pays
//! at once, activates the subscription and issues one `paid` invoice for the plan's price after
//! the coupon.
//!
//! # Example
//!
//! ```no_run
//! use qelos_mock::{Fault, MintRequest, MockServer};
//! # async fn run() -> Result<(), qelos_mock::MockError> {
//! let mock = MockServer::start().await?;
//! let tokens = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
//! println!("Qelos at {} — Bearer token ready ({} chars)", mock.url(), tokens.access.len());
//! mock.set_fault("GET /api/me", Fault::Latency(std::time::Duration::from_secs(2)));
//! assert_eq!(mock.calls("GET /api/me"), 0);
//! # Ok(()) }
//! ```
//!
//! # Feature flags
//!
//! | feature | default | what |
//! |---|---|---|
//! | `bin` | yes | the `qelos-mock` binary (`cargo install qelos-mock`) and its log output (`tracing-subscriber`); a test that only uses the library can turn it off with `default-features = false` |

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
// Route helpers return finished error responses in `Err`; the size does not matter for a fake server.
#![allow(clippy::result_large_err)]

mod config;
mod controls;
pub mod fakes;
mod jwt;
mod routes;
mod state;
mod util;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::Router;
use axum::routing::{delete, get, post};

pub use config::MockConfig;
pub use controls::{Fault, RecordedRequest};
pub use routes::plugins::{PluginAuthAcquire, PluginSpec, PluginSubscribedEvent};

use controls::Controls;
use routes::{auth, charts, entities, plugins, workspaces};
use state::Store;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MockError {
    /// Binding or serving failed.
    #[error("qelos-mock could not listen: {0}")]
    Io(#[from] std::io::Error),
    /// A plugin could not be registered with the gateway (the reason).
    #[error("invalid plugin: {0}")]
    Plugin(String),
    /// The HTTP client of the plugin gateway could not be built.
    #[error("qelos-mock could not build its HTTP client")]
    Client(#[source] reqwest::Error),
}

/// A seeded user.
#[derive(Clone, Debug, Default)]
pub struct SeedUser {
    /// User id.
    pub id: String,
    /// Username (an email).
    pub username: String,
    /// Password.
    pub password: String,
}

/// A seeded workspace.
#[derive(Clone, Debug)]
pub struct SeedWorkspace {
    /// Workspace id.
    pub id: String,
    /// Name.
    pub name: String,
}

/// What the server was seeded with.
#[derive(Clone, Debug, Default)]
pub struct Seed {
    /// `test@test.com` / `admin`, tenant roles `admin`, `user`; admin member of both workspaces.
    pub admin: SeedUser,
    /// `user@test.com` / `user1234`, role `user`; member of "Acme Inc" only.
    pub user: SeedUser,
    /// "Acme Inc" and "Beta Labs".
    pub workspaces: Vec<SeedWorkspace>,
    /// "products" (workspace-scoped; any role may create, read, update, delete) and "audit"
    /// (only role `auditor`: a plain user gets `403 not permitted`).
    pub blueprints: Vec<String>,
}

/// What to mint with [`MockServer::mint_tokens`].
#[derive(Clone, Debug)]
pub struct MintRequest {
    /// The user (username or email).
    pub username: String,
    /// Active workspace id; `None`: the user's first workspace.
    pub workspace: Option<String>,
    /// Mint the access token already expired.
    pub expired: bool,
    /// Access-token lifetime (default: the config's).
    pub access_ttl: Option<Duration>,
    /// Backdate the session cookie's creation by this much (to trigger rotation).
    pub cookie_age: Option<Duration>,
}

impl MintRequest {
    /// A request for `username` with defaults.
    pub fn for_user(username: &str) -> Self {
        Self {
            username: username.to_owned(),
            workspace: None,
            expired: false,
            access_ttl: None,
            cookie_age: None,
        }
    }
}

/// Tokens minted for a user.
#[derive(Clone)]
pub struct MintedTokens {
    /// OAuth access JWT.
    pub access: String,
    /// Registered refresh JWT (single use).
    pub refresh: String,
    /// Registered session-cookie JWT (the value of `qlt_<tenant>`).
    pub cookie: String,
}

impl std::fmt::Debug for MintedTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MintedTokens { .. }")
    }
}

pub(crate) struct MockInner {
    pub(crate) store: Store,
    pub(crate) controls: Controls,
    pub(crate) seed: Seed,
    /// The plugin gateway's registry.
    pub(crate) plugins: routes::plugins::Registry,
    /// Client of the plugin gateway (proxy, register, refresh, callback).
    pub(crate) http: reqwest::Client,
    /// `http://<addr>`: the `appUrl` plugins sign in back to.
    pub(crate) url: String,
    /// The documents of the administrator API.
    pub(crate) admin: routes::admin::Docs,
    /// AI, blocks, configurations, invites, lambdas, payments.
    pub(crate) user_api: routes::UserApi,
}

impl MockInner {
    pub(crate) fn mint(&self, req: &MintRequest) -> Option<MintedTokens> {
        let store = &self.store;
        let mut db = store.db();
        let idx = db
            .users
            .iter()
            .position(|u| u.username == req.username || u.email == req.username)?;
        let user_id = db.users[idx].id.clone();
        let ws = req
            .workspace
            .clone()
            .or_else(|| Store::first_membership(&db, &user_id));
        let claim = ws
            .as_deref()
            .and_then(|w| Store::workspace_claim(&db, &user_id, w, true));
        let user = &mut db.users[idx];
        let access = store.access_jwt(
            user,
            claim.clone(),
            req.access_ttl.unwrap_or(store.config.access_ttl),
            req.expired,
        );
        let refresh = store.refresh_jwt(user, &access, ws);
        let (cookie, _) = store.cookie_jwt(
            user,
            claim,
            req.cookie_age.unwrap_or_default(),
            store.config.cookie_ttl,
            true,
        );
        Some(MintedTokens {
            access,
            refresh,
            cookie,
        })
    }
}

/// A running fake Qelos. Dropping it shuts the server down.
pub struct MockServer {
    inner: Arc<MockInner>,
    addr: SocketAddr,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl std::fmt::Debug for MockServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

/// The whole router for a mock.
fn router(inner: Arc<MockInner>) -> Router {
    let api = Router::new()
        .route("/api/signin", post(auth::signin))
        .route("/api/signup", post(auth::signup))
        .route("/api/token/refresh", post(auth::token_refresh))
        .route("/api/cookie/refresh", post(auth::cookie_refresh))
        .route("/api/logout", post(auth::logout))
        .route("/api/me", get(auth::me).post(auth::update_me))
        .route(
            "/api/me/api-tokens",
            get(auth::list_api_tokens).post(auth::create_api_token),
        )
        .route("/api/me/api-tokens/{id}", delete(auth::delete_api_token))
        .route("/api/auth/callback", post(auth::auth_callback))
        .route("/api/auth/{provider}", get(auth::social_start))
        .route(
            "/api/auth/{provider}/callback",
            get(auth::social_callback).post(auth::social_callback),
        )
        .route(
            "/api/workspaces",
            get(workspaces::list).post(workspaces::create),
        )
        .route(
            "/api/workspaces/{id}",
            get(workspaces::get)
                .put(workspaces::update)
                .delete(workspaces::remove),
        )
        .route("/api/workspaces/{id}/activate", post(workspaces::activate))
        .route(
            "/api/workspaces/{id}/members",
            get(workspaces::members).post(workspaces::add_member),
        )
        .route(
            "/api/workspaces/{id}/members/{user_id}",
            axum::routing::put(workspaces::update_member).delete(workspaces::remove_member),
        )
        .route(
            "/api/blueprints/{key}/entities",
            get(entities::list).post(entities::create),
        )
        .route(
            "/api/blueprints/{key}/entities/{id}",
            get(entities::get)
                .put(entities::update)
                .delete(entities::remove),
        )
        .route("/api/blueprints/{key}/charts/count", get(charts::count))
        .route("/api/blueprints/{key}/charts/sum", get(charts::sum))
        .route("/api/blueprints/{key}/charts/pie", get(charts::pie))
        .route(
            "/api/blueprints/{key}/charts/{chart_type}",
            get(charts::standard),
        )
        .route("/api/plugins/{id}/callback", get(plugins::callback))
        .merge(routes::admin::router())
        .merge(routes::ai::router())
        .merge(routes::agents::router())
        .merge(routes::mcp::router())
        .merge(routes::content::router())
        .merge(routes::invites::router())
        .merge(routes::lambdas::router())
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&inner),
            controls::observe,
        ));
    // The fake payment provider's checkout page (not a test control: checkout links to it).
    let mut app = api.route("/__mock/checkout/{id}", get(routes::admin::checkout::pay));
    if inner.store.config.controls {
        app = app.merge(controls::router());
    }
    // Unknown paths: a registered plugin's `/api/on/{apiPath}/*` or `/api/{apiPath}/*`, else
    // `404 api not found`.
    app.fallback(plugins::gateway)
        .layer(axum::middleware::from_fn(
            routes::impersonation::gateway_layer,
        ))
        .with_state(inner)
}

impl MockServer {
    /// Starts a seeded mock with controls on a free port of `127.0.0.1`.
    ///
    /// # Errors
    ///
    /// [`MockError::Io`] when binding fails.
    pub async fn start() -> Result<MockServer, MockError> {
        Self::start_with(MockConfig::default()).await
    }

    /// Starts a mock with `config`.
    ///
    /// # Errors
    ///
    /// [`MockError::Io`] when binding fails.
    pub async fn start_with(config: MockConfig) -> Result<MockServer, MockError> {
        let listener = tokio::net::TcpListener::bind(config.addr).await?;
        let addr = listener.local_addr()?;
        let seeded = config.seed;
        let store = Store::new(config);
        let seed = if seeded {
            store.seed()
        } else {
            Seed::default()
        };
        let http = reqwest::Client::builder()
            .no_proxy()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(MockError::Client)?;
        let inner = Arc::new(MockInner {
            store,
            controls: Controls::default(),
            seed,
            plugins: routes::plugins::Registry::default(),
            http,
            url: format!("http://{addr}"),
            admin: routes::admin::Docs::default(),
            user_api: routes::UserApi::default(),
        });
        let app = router(Arc::clone(&inner));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            let served = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(err) = served {
                tracing::warn!(error = %err, "qelos-mock stopped");
            }
        });
        Ok(MockServer {
            inner,
            addr,
            shutdown: Some(tx),
        })
    }

    /// `http://<addr>`, no trailing slash.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// What was seeded.
    pub fn seed(&self) -> &Seed {
        &self.inner.seed
    }
    /// Mints an access, refresh and session-cookie JWT for a user, registered as if the user
    /// had signed in.
    ///
    /// # Panics
    ///
    /// Never; an unknown user yields empty strings (which Qelos refuses).
    pub fn mint_tokens(&self, req: &MintRequest) -> MintedTokens {
        self.inner.mint(req).unwrap_or(MintedTokens {
            access: String::new(),
            refresh: String::new(),
            cookie: String::new(),
        })
    }
    /// From now on `token` (access, refresh, cookie or API token) is refused as if expired.
    pub fn expire_token(&self, token: &str) {
        self.inner.store.db().revoked.insert(token.to_owned());
    }
    /// Calls of one endpoint, e.g. `"GET /api/me"` or `"GET /api/blueprints/{key}/entities"`.
    pub fn calls(&self, endpoint: &str) -> u64 {
        self.inner.controls.calls(endpoint)
    }
    /// All `/api` calls.
    pub fn total_calls(&self) -> u64 {
        self.inner.controls.total.load(Ordering::SeqCst)
    }
    /// Resets the counters and the request record.
    pub fn reset_calls(&self) {
        self.inner.controls.reset();
    }
    /// The recorded `/api` requests, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.inner.controls.recorded()
    }
    /// Injects `fault` on `endpoint`.
    pub fn set_fault(&self, endpoint: &str, fault: Fault) {
        self.inner.controls.set_fault(endpoint, fault);
    }
    /// Removes every fault.
    pub fn clear_faults(&self) {
        self.inner.controls.clear_faults();
    }
    /// Registers a plugin with the gateway (replacing one with the same tenant and `apiPath`);
    /// returns its id. Calls to `/api/on/{apiPath}/*` and `/api/{apiPath}/*` are then proxied
    /// to it. With a static `token` it is sent as is; otherwise the gateway registers at
    /// `registerUrl` on the first call and refreshes through `authAcquire`. The gateway counts
    /// `"PLUGIN proxy <apiPath>"`, `"PLUGIN register <apiPath>"` and
    /// `"PLUGIN refresh <apiPath>"` in [`calls`](Self::calls).
    ///
    /// # Errors
    ///
    /// [`MockError::Plugin`] without a name, without a token or `registerUrl`, or with a
    /// relative URL and no `appUrl`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use qelos_mock::{MockServer, PluginSpec};
    /// # async fn run() -> Result<(), qelos_mock::MockError> {
    /// let mock = MockServer::start().await?;
    /// mock.add_plugin(PluginSpec::new("todo", "http://127.0.0.1:1086/api/play")
    ///     .static_token("a static token of 32 bytes......"))?;
    /// // GET {mock}/api/on/todo/items → GET http://127.0.0.1:1086/api/play/items
    /// # Ok(()) }
    /// ```
    pub fn add_plugin(&self, spec: PluginSpec) -> Result<String, MockError> {
        plugins::add(&self.inner, spec).map_err(MockError::Plugin)
    }
    /// Plays the fake payment provider's successful payment of the pending subscription `id`
    /// (what opening the `checkoutUrl` of `POST /api/checkout` does): the subscription becomes
    /// `active`, a coupon is redeemed, and a `paid` invoice is issued. Answers
    /// `{subscription, invoice}`, or `None` when `id` is not a pending subscription.
    pub fn complete_checkout(&self, id: &str) -> Option<serde_json::Value> {
        routes::admin::checkout::complete(&self.inner, id)
    }

    /// The gateway's cached access token for a plugin (`None`: it will refresh or register on
    /// the next call).
    pub fn plugin_token(&self, tenant: &str, api_path: &str) -> Option<String> {
        self.inner.plugins.cached_token(tenant, api_path)
    }
    /// The refresh token the gateway stored for a plugin (the `refresh-token-<tenant>-<apiPath>`
    /// secret), for tests of the plugin's refresh endpoint.
    pub fn plugin_refresh_token(&self, tenant: &str, api_path: &str) -> Option<String> {
        self.inner.plugins.refresh_token(tenant, api_path)
    }
}

impl Drop for MockServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// The code blocks of this crate's `README.md`, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
