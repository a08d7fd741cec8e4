//! The same-origin front: the `/api/**` proxy and the login, logout and social-login routes.

use poem::http::uri::Scheme;
use poem::web::Path;
use poem::{Body, Endpoint, Request, Response, Route, get, handler, post};
use qelos_integrator_core::Integrator;
use qelos_integrator_core::adapter::{AuthReply, EndpointRequest};
use qelos_integrator_core::adapter::{Inbound, Proxy, body_stream};

use crate::{Qelos, QelosMiddleware};

/// Largest login body read (a form or JSON with a username and password).
const LOGIN_BODY_LIMIT: usize = 16 * 1024;

fn endpoint_request(req: &Request) -> EndpointRequest<'_> {
    EndpointRequest::from_parts(req.uri(), req.headers())
}

fn reply(reply: AuthReply) -> Response {
    let (head, body) = reply.into_response::<Body>().into_parts();
    let mut response = Response::builder().status(head.status).body(body);
    *response.headers_mut() = head.headers;
    response
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
    poem::endpoint::make(move |mut req: Request| {
        let proxy = proxy.clone();
        async move {
            let inbound = Inbound {
                peer: req.remote_addr().as_socket_addr().map(|a| a.ip()),
                https: req.scheme() == &Scheme::HTTPS,
            };
            let body = req.take_body().into_bytes_stream();
            let (mut parts, ()) = poem::http::Request::new(()).into_parts();
            parts.method = req.method().clone();
            parts.uri = req.uri().clone();
            parts.headers = std::mem::take(req.headers_mut());
            let (head, body) = proxy
                .forward_stream(parts, body, inbound)
                .await
                .into_parts();
            let mut response = Response::builder()
                .status(head.status)
                .body(Body::from_bytes_stream(body_stream(body)));
            *response.headers_mut() = head.headers;
            response
        }
    })
}

#[handler]
async fn login(req: &Request, body: Body, integrator: poem::web::Data<&Integrator>) -> Response {
    let body = body
        .into_bytes_limit(LOGIN_BODY_LIMIT)
        .await
        .unwrap_or_default();
    reply(
        integrator
            .login_endpoint(&endpoint_request(req), &body)
            .await,
    )
}

#[handler]
async fn logout(req: &Request, q: Qelos, integrator: poem::web::Data<&Integrator>) -> Response {
    reply(integrator.logout_endpoint(&q, &endpoint_request(req)).await)
}

#[handler]
async fn social(
    req: &Request,
    Path(provider): Path<String>,
    integrator: poem::web::Data<&Integrator>,
) -> Response {
    reply(integrator.social_redirect_endpoint(&provider, &endpoint_request(req)))
}

#[handler]
async fn callback(req: &Request, integrator: poem::web::Data<&Integrator>) -> Response {
    reply(integrator.callback_endpoint(&endpoint_request(req)).await)
}

impl QelosMiddleware {
    /// Adds the auth routes (`POST /login`, `POST /logout`, `GET /auth/:provider`,
    /// `GET /auth/callback`), bound to this middleware's integrator, to `route`: the route the
    /// middleware wraps (logout reads the caller's context). They are added as paths of
    /// `route` itself rather than nested at `/`, which in poem would shadow the app's own `/`.
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
        use poem::EndpointExt;
        let integrator = self.integrator();
        route
            .at("/login", post(login).data(integrator.clone()))
            .at("/logout", post(logout).data(integrator.clone()))
            .at("/auth/callback", get(callback).data(integrator.clone()))
            .at("/auth/:provider", get(social).data(integrator.clone()))
    }

    /// [`api_proxy`] to this middleware's Qelos (or the `QELOS_PROXY_TARGET` environment
    /// override), with the config's body limit and timeout, signed in as the caller when the
    /// request carries the integrator's cookies ([`Proxy::for_integrator`]).
    pub fn api_proxy(&self) -> impl Endpoint<Output = Response> + use<> {
        api_proxy(Proxy::for_integrator(self.integrator()))
    }
}
