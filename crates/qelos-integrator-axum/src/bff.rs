//! The same-origin front: the `/api/**` proxy and the login, logout and social-login routes.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Request};
use axum::routing::{any, get, post};
use qelos_integrator_core::Integrator;
use qelos_integrator_core::adapter::{EndpointRequest, Inbound, Proxy};

use crate::Qelos;

/// Largest login body read (a form or JSON with a username and password).
const LOGIN_BODY_LIMIT: usize = 16 * 1024;

fn endpoint_request(request: &Request) -> EndpointRequest<'_> {
    EndpointRequest::from_parts(request.uri(), request.headers())
}

/// `POST /login`, `POST /logout`, `GET /auth/{provider}` and `GET /auth/callback`, answered by
/// the integrator's ready-made endpoints. Merge them *before* `.layer(QelosLayer)` (logout
/// reads the caller's context).
pub(crate) fn auth_routes<S: Clone + Send + Sync + 'static>(integrator: &Integrator) -> Router<S> {
    let login = integrator.clone();
    let logout = integrator.clone();
    let social = integrator.clone();
    let callback = integrator.clone();
    Router::new()
        .route(
            "/login",
            post(move |request: Request| async move {
                let (head, body) = request.into_parts();
                let body = axum::body::to_bytes(body, LOGIN_BODY_LIMIT)
                    .await
                    .unwrap_or_default();
                let req = EndpointRequest::from_parts(&head.uri, &head.headers);
                let reply = login.login_endpoint(&req, &body).await;
                reply.into_response::<Body>()
            }),
        )
        .route(
            "/logout",
            post(move |qelos: Qelos, request: Request| async move {
                let reply = logout
                    .logout_endpoint(&qelos, &endpoint_request(&request))
                    .await;
                reply.into_response::<Body>()
            }),
        )
        .route(
            "/auth/callback",
            get(move |request: Request| async move {
                let reply = callback
                    .callback_endpoint(&endpoint_request(&request))
                    .await;
                reply.into_response::<Body>()
            }),
        )
        .route(
            "/auth/{provider}",
            get(
                move |Path(provider): Path<String>, request: Request| async move {
                    social
                        .social_redirect_endpoint(&provider, &endpoint_request(&request))
                        .into_response::<Body>()
                },
            ),
        )
}

/// `/api` and `/api/**` forwarded to Qelos by `proxy`. Merge this *after* `.layer(QelosLayer)`:
/// the layer then never sees forwarded traffic, and the app's own `/api/...` routes still win
/// (a literal route beats the wildcard).
///
/// # Examples
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use qelos_integrator_axum::{QelosConfig, QelosLayer, api_proxy, core::adapter::Proxy};
/// # fn app() -> Result<Router, qelos_integrator_axum::ConfigError> {
/// let config = QelosConfig::builder("http://localhost:3000").api_proxy(true).build()?;
/// let proxy = Proxy::new(&config).body_limit(8 << 20);
/// let app = Router::new()
///     .route("/api/health", get(|| async { "ours" }))
///     .layer(QelosLayer::new(config))
///     .merge(api_proxy(proxy));
/// # Ok(app) }
/// ```
pub fn api_proxy<S: Clone + Send + Sync + 'static>(proxy: Proxy) -> Router<S> {
    let handler = any(move |request: Request| {
        let proxy = proxy.clone();
        async move {
            let inbound = Inbound {
                peer: request
                    .extensions()
                    .get::<ConnectInfo<SocketAddr>>()
                    .map(|c| c.0.ip()),
                https: false,
            };
            let response = proxy.forward(request, inbound).await;
            response.map(Body::new)
        }
    });
    Router::new()
        .route("/api", handler.clone())
        .route("/api/{*rest}", handler)
}

/// The same-origin routes of a [`QelosLayer`](crate::QelosLayer), as axum routers (import
/// this trait to call them on the layer).
pub trait QelosRoutes {
    /// The auth routes (`POST /login`, `POST /logout`, `GET /auth/{provider}`,
    /// `GET /auth/callback`) bound to this layer's integrator. Merge them before `.layer(..)`.
    fn auth_routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S>;
    /// [`api_proxy`] to this layer's Qelos, signed in as the caller when the request carries
    /// the integrator's cookies. Merge it after `.layer(..)`.
    fn api_proxy<S: Clone + Send + Sync + 'static>(&self) -> Router<S>;
}

impl QelosRoutes for crate::QelosLayer {
    /// The auth routes (`POST /login`, `POST /logout`, `GET /auth/{provider}`,
    /// `GET /auth/callback`) bound to this layer's integrator. Merge them before `.layer(..)`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use axum::Router;
    /// use qelos_integrator_axum::{QelosConfig, QelosLayer, QelosRoutes};
    /// # fn app() -> Result<Router, qelos_integrator_axum::ConfigError> {
    /// let qelos = QelosLayer::new(QelosConfig::from_env()?);
    /// let app = Router::new().merge(qelos.auth_routes()).layer(qelos);
    /// # Ok(app) }
    /// ```
    fn auth_routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        auth_routes(self.integrator())
    }

    /// [`api_proxy`] to this layer's Qelos (or the `QELOS_PROXY_TARGET` environment override),
    /// with the config's body limit and timeout, signed in as the caller when the request
    /// carries the integrator's cookies ([`Proxy::for_integrator`]).
    fn api_proxy<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        api_proxy(Proxy::for_integrator(self.integrator()))
    }
}
