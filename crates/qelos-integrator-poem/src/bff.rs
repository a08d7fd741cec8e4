//! The same-origin front (core's route table): the login, logout and social-login routes and
//! the `/api/**` proxy, mounted as poem endpoints.

use poem::http::uri::Scheme;
use poem::{Body, Endpoint, EndpointExt as _, Request, Response, Route, RouteMethod};
use qelos_integrator_core::RequestState;
use qelos_integrator_core::adapter::{AUTH_ROUTES, Front, FrontEndpoint, FrontRequest};
use qelos_integrator_core::adapter::{Inbound, Proxy, body_stream};

use crate::QelosMiddleware;

/// An endpoint that answers `endpoint` with `front`.
fn serve(front: Front, endpoint: FrontEndpoint) -> impl Endpoint<Output = Response> {
    poem::endpoint::make(move |mut req: Request| {
        let front = front.clone();
        async move {
            let inbound = Inbound::new(
                req.remote_addr().as_socket_addr().map(|a| a.ip()),
                req.scheme() == &Scheme::HTTPS,
            );
            let state = req.extensions().get::<RequestState>().cloned();
            let body = req.take_body().into_bytes_stream();
            let (mut head, ()) = poem::http::Request::new(()).into_parts();
            head.method = req.method().clone();
            head.uri = req.uri().clone();
            head.headers = std::mem::take(req.headers_mut());
            let request = FrontRequest::new(head, body).inbound(inbound).state(state);
            let (head, body) = front.serve(endpoint, request).await.into_parts();
            let mut response = Response::builder()
                .status(head.status)
                .body(Body::from_bytes_stream(body_stream(body)));
            *response.headers_mut() = head.headers;
            response
        }
    })
}

/// An endpoint that forwards every request to Qelos (`/api/...` path, query, method, streamed
/// bodies, `X-Forwarded-*`, cookie `Domain` rewritten to the inbound host).
///
/// Mount it at `/api/*path` *inside* the routes wrapped by [`QelosMiddleware`], next to the
/// app's own `/api/...` routes: poem matches literal paths before the wildcard, so the app's
/// routes win; with [`api_proxy(true)`](crate::core::QelosConfigBuilder::api_proxy) in the
/// config the middleware leaves `/api/**` unresolved until a handler asks, so forwarded
/// traffic is never probed.
///
/// # Examples
///
/// ```
/// use poem::{EndpointExt, Route, get, handler};
/// use qelos_integrator_poem::{QelosConfig, QelosMiddleware, api_proxy, core::adapter::Proxy};
///
/// #[handler]
/// fn health() -> &'static str { "ours" }
///
/// # fn app() -> Result<(), qelos_integrator_poem::ConfigError> {
/// let config = QelosConfig::builder("http://localhost:3000").api_proxy(true).build()?;
/// let proxy = Proxy::new(&config).body_limit(8 << 20);
/// let app = Route::new()
///     .at("/api/health", get(health))
///     .at("/api/*path", api_proxy(proxy))
///     .with(QelosMiddleware::new(config));
/// # let _ = app; Ok(()) }
/// ```
pub fn api_proxy(proxy: Proxy) -> impl Endpoint<Output = Response> {
    serve(Front::proxy_only(proxy), FrontEndpoint::Proxy)
}

impl QelosMiddleware {
    /// Adds the auth routes (`POST /login`, `POST /logout`, `GET /auth/:provider`,
    /// `GET /auth/callback`), bound to this middleware's integrator, to `route`: the route the
    /// middleware wraps (logout signs out the context the middleware resolved). They are added
    /// as paths of `route` itself rather than nested at `/`, which in poem would shadow the
    /// app's own `/`.
    ///
    /// # Examples
    ///
    /// ```
    /// use poem::{EndpointExt, Route, get, handler};
    /// use qelos_integrator_poem::{QelosConfig, QelosMiddleware};
    ///
    /// #[handler]
    /// fn index() -> &'static str { "home" }
    ///
    /// # fn app() -> Result<(), qelos_integrator_poem::ConfigError> {
    /// let qelos = QelosMiddleware::new(QelosConfig::builder("http://localhost:3000").build()?);
    /// let app = qelos.auth_routes(Route::new().at("/", get(index))).with(qelos);
    /// # let _ = app; Ok(()) }
    /// ```
    pub fn auth_routes(&self, route: Route) -> Route {
        let front = Front::new(self.integrator());
        AUTH_ROUTES.iter().fold(route, |route, r| {
            let path = r.path(|p| format!(":{p}"), |r| format!("*{r}"));
            let endpoint = serve(front.clone(), r.endpoint).boxed();
            match r.method.clone() {
                Some(method) => route.at(path, RouteMethod::new().method(method, endpoint)),
                None => route.at(path, endpoint),
            }
        })
    }

    /// [`api_proxy`] to this middleware's Qelos (or the `QELOS_PROXY_TARGET` environment
    /// override), with the config's body limit and timeout, signed in as the caller when the
    /// request carries the integrator's cookies ([`Proxy::for_integrator`]).
    pub fn api_proxy(&self) -> impl Endpoint<Output = Response> + use<> {
        serve(Front::new(self.integrator()), FrontEndpoint::Proxy)
    }
}
