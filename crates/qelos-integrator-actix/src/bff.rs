//! The same-origin front: the `/api/**` proxy and the login, logout and social-login routes.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, HttpResponseBuilder, web};
use futures_util::StreamExt;
use qelos_integrator_core::Integrator;
use qelos_integrator_core::adapter::{AuthReply, EndpointRequest};
use qelos_integrator_core::adapter::{Inbound, Proxy, body_channel, body_stream};

use crate::{Qelos, QelosMiddleware};

/// Chunks of a request body in flight between actix's payload and the proxy.
const BODY_CHUNKS_IN_FLIGHT: usize = 8;

/// An `http` 1.x response head as an actix response builder (actix uses `http` 0.2).
fn builder(head: &http::response::Parts) -> HttpResponseBuilder {
    let status =
        StatusCode::from_u16(head.status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut builder = HttpResponse::build(status);
    for (name, value) in &head.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_str().as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            builder.append_header((name, value));
        }
    }
    builder
}

fn respond(reply: AuthReply) -> HttpResponse {
    let (head, body) = reply.into_response::<String>().into_parts();
    builder(&head).body(body)
}

fn endpoint(req: &HttpRequest) -> EndpointRequest<'_> {
    EndpointRequest::from_lookup(req.uri().query(), |name| {
        req.headers().get(name).and_then(|v| v.to_str().ok())
    })
}

async fn forward(proxy: &Proxy, req: HttpRequest, mut payload: web::Payload) -> HttpResponse {
    let inbound = Inbound {
        peer: req.peer_addr().map(|a| a.ip()),
        https: req.app_config().secure(),
    };
    // actix's payload is not `Send`: a local task pumps it into a bounded channel that the
    // proxy streams upstream (backpressure keeps memory flat).
    let (sender, body) = body_channel(BODY_CHUNKS_IN_FLIGHT);
    actix_web::rt::spawn(async move {
        while let Some(chunk) = payload.next().await {
            if !sender.send(chunk.map_err(std::io::Error::other)).await {
                break;
            }
        }
    });
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path(), |pq| pq.as_str());
    let headers = req
        .headers()
        .iter()
        .map(|(name, value)| (name.as_str(), value.as_bytes()));
    let response = proxy
        .forward_raw(
            req.method().as_str(),
            path_and_query,
            headers,
            body,
            inbound,
        )
        .await;
    let (head, body) = response.into_parts();
    builder(&head).streaming(body_stream(body))
}

/// A scope that forwards `/api` and `/api/**` to Qelos (path, query, method, streamed bodies,
/// `X-Forwarded-*`, cookie `Domain` rewritten to the inbound host).
///
/// Register it *after* the app's own `/api/...` routes: actix tries services in registration
/// order, so the app's routes win. With
/// [`api_proxy(true)`](crate::core::QelosConfigBuilder::api_proxy) in the config, the middleware
/// leaves `/api/**` unresolved until a handler asks, so forwarded traffic is never probed.
///
/// # Examples
///
/// ```
/// use actix_web::{App, web};
/// use qelos_integrator_actix::{QelosConfig, QelosMiddleware, api_proxy, core::adapter::Proxy};
///
/// # fn app() -> Result<(), qelos_integrator_actix::ConfigError> {
/// let config = QelosConfig::builder("http://localhost:3000").api_proxy(true).build()?;
/// let proxy = Proxy::new(&config).body_limit(8 << 20);
/// let app = App::new()
///     .route("/api/health", web::get().to(|| async { "ours" }))
///     .service(api_proxy(proxy))
///     .wrap(QelosMiddleware::new(config));
/// # let _ = app; Ok(()) }
/// ```
pub fn api_proxy(proxy: Proxy) -> actix_web::Scope {
    web::scope("/api").default_service(web::to(move |req: HttpRequest, payload: web::Payload| {
        let proxy = proxy.clone();
        async move { forward(&proxy, req, payload).await }
    }))
}

impl QelosMiddleware {
    /// The auth routes (`POST /login`, `POST /logout`, `GET /auth/{provider}`,
    /// `GET /auth/callback`) bound to this middleware's integrator, for
    /// [`App::configure`](actix_web::App::configure). Register them where the middleware wraps
    /// them (logout reads the caller's context).
    ///
    /// # Examples
    ///
    /// ```
    /// use actix_web::App;
    /// use qelos_integrator_actix::{QelosConfig, QelosMiddleware};
    /// # fn app() -> Result<(), qelos_integrator_actix::ConfigError> {
    /// let qelos = QelosMiddleware::new(QelosConfig::builder("http://localhost:3000").build()?);
    /// let app = App::new().configure(qelos.auth_routes()).wrap(qelos);
    /// # let _ = app; Ok(()) }
    /// ```
    pub fn auth_routes(&self) -> impl FnOnce(&mut web::ServiceConfig) + use<> {
        let integrator = self.integrator().clone();
        move |cfg| {
            let login = integrator.clone();
            let logout = integrator.clone();
            let callback = integrator.clone();
            let social = integrator;
            cfg.route(
                "/login",
                web::post().to(move |req: HttpRequest, body: web::Bytes| {
                    let integrator: Integrator = login.clone();
                    async move { respond(integrator.login_endpoint(&endpoint(&req), &body).await) }
                }),
            )
            .route(
                "/logout",
                web::post().to(move |req: HttpRequest, q: Qelos| {
                    let integrator = logout.clone();
                    async move { respond(integrator.logout_endpoint(&q, &endpoint(&req)).await) }
                }),
            )
            .route(
                "/auth/callback",
                web::get().to(move |req: HttpRequest| {
                    let integrator = callback.clone();
                    async move { respond(integrator.callback_endpoint(&endpoint(&req)).await) }
                }),
            )
            .route(
                "/auth/{provider}",
                web::get().to(move |req: HttpRequest, provider: web::Path<String>| {
                    let integrator = social.clone();
                    async move {
                        respond(integrator.social_redirect_endpoint(&provider, &endpoint(&req)))
                    }
                }),
            );
        }
    }

    /// [`api_proxy`] to this middleware's Qelos (or the `QELOS_PROXY_TARGET` environment
    /// override), with the config's body limit and timeout, signed in as the caller when the
    /// request carries the integrator's cookies ([`Proxy::for_integrator`]).
    pub fn api_proxy(&self) -> actix_web::Scope {
        api_proxy(Proxy::for_integrator(self.integrator()))
    }
}
