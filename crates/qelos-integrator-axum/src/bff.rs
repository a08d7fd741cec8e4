//! The same-origin front (core's route table): the login, logout and social-login routes and
//! the `/api/**` proxy, mounted as axum routes.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request};
use axum::routing::{MethodFilter, any, on};
use qelos_integrator_core::adapter::{
    AUTH_ROUTES, Front, FrontRoute, Inbound, PROXY_ROUTES, Proxy,
};

/// `routes` mounted in axum's path syntax, each answered by `front`.
fn mount<S: Clone + Send + Sync + 'static>(front: &Front, routes: &[FrontRoute]) -> Router<S> {
    routes.iter().fold(Router::new(), |router, route| {
        let (front, endpoint) = (front.clone(), route.endpoint);
        let handler = move |request: Request| async move {
            let peer = request.extensions().get::<ConnectInfo<SocketAddr>>();
            let inbound = Inbound::new(peer.map(|c| c.0.ip()), false);
            let response = front.serve_http(endpoint, request, inbound).await;
            response.map(Body::new)
        };
        let path = route.path(|p| format!("{{{p}}}"), |r| format!("{{*{r}}}"));
        let filter = route.method.clone().map(MethodFilter::try_from);
        match filter {
            None => router.route(&path, any(handler)),
            Some(Ok(filter)) => router.route(&path, on(filter, handler)),
            Some(Err(_)) => router,
        }
    })
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
    mount(&Front::proxy_only(proxy), &PROXY_ROUTES)
}

/// The same-origin routes of a [`QelosLayer`](crate::QelosLayer), as axum routers (import
/// this trait to call them on the layer).
pub trait QelosRoutes {
    /// The auth routes (`POST /login`, `POST /logout`, `GET /auth/{provider}`,
    /// `GET /auth/callback`) bound to this layer's integrator. Merge them before `.layer(..)`
    /// (logout signs out the context the layer resolved).
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
    fn auth_routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S>;
    /// [`api_proxy`] to this layer's Qelos (or the `QELOS_PROXY_TARGET` environment override),
    /// with the config's body limit and timeout, signed in as the caller when the request
    /// carries the integrator's cookies ([`Proxy::for_integrator`]). Merge it after
    /// `.layer(..)`.
    fn api_proxy<S: Clone + Send + Sync + 'static>(&self) -> Router<S>;
}

impl QelosRoutes for crate::QelosLayer {
    fn auth_routes<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        mount(&Front::new(self.integrator()), &AUTH_ROUTES)
    }

    fn api_proxy<S: Clone + Send + Sync + 'static>(&self) -> Router<S> {
        mount(&Front::new(self.integrator()), &PROXY_ROUTES)
    }
}
