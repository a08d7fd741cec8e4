//! The same-origin front (core's route table): the login, logout and social-login routes and
//! the `/api/**` proxy, as actix routes; and `http` 1.x responses as actix responses.

use actix_web::http::StatusCode;
use actix_web::http::header::{HeaderMap, HeaderName, HeaderValue};
use actix_web::{HttpMessage as _, HttpRequest, HttpResponse, HttpResponseBuilder, web};
use qelos_integrator_core::RequestState;
use qelos_integrator_core::adapter::{AUTH_ROUTES, Front, FrontEndpoint, FrontRequest};
use qelos_integrator_core::adapter::{Inbound, Proxy, body_channel, body_stream};

use crate::QelosMiddleware;

/// `http` 1.x headers as actix's (`http` 0.2).
pub(crate) fn actix_headers(
    headers: &http::HeaderMap,
) -> impl Iterator<Item = (HeaderName, HeaderValue)> + '_ {
    headers.iter().filter_map(|(name, value)| {
        let name = HeaderName::from_bytes(name.as_str().as_bytes()).ok()?;
        Some((name, HeaderValue::from_bytes(value.as_bytes()).ok()?))
    })
}

/// An `http` 1.x response head as an actix response builder.
pub(crate) fn builder(head: &http::response::Parts) -> HttpResponseBuilder {
    let status = StatusCode::from_u16(head.status.as_u16());
    let mut builder = HttpResponse::build(status.unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for header in actix_headers(&head.headers) {
        builder.append_header(header);
    }
    builder
}

/// actix's headers as name and raw value.
pub(crate) fn pairs(headers: &HeaderMap) -> impl Iterator<Item = (&str, &[u8])> {
    headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes()))
}

/// A route answered by `front`'s `endpoint`.
fn route(front: Front, endpoint: FrontEndpoint) -> actix_web::Route {
    web::to(move |req: HttpRequest, payload: web::Payload| {
        let front = front.clone();
        async move {
            let inbound = Inbound::new(req.peer_addr().map(|a| a.ip()), req.app_config().secure());
            // actix's payload is not `Send`: a local task pumps it into a bounded channel that
            // the core reads (backpressure keeps memory flat).
            let (sender, body) = body_channel();
            actix_web::rt::spawn(sender.pump(payload));
            let (method, uri) = (req.method().as_str(), req.uri().to_string());
            let request = FrontRequest::from_raw(method, &uri, pairs(req.headers()), body)
                .inbound(inbound)
                .state(req.extensions().get::<RequestState>().cloned());
            let (head, body) = front.serve(endpoint, request).await.into_parts();
            builder(&head).streaming(body_stream(body))
        }
    })
}

/// A scope that forwards `/api` and `/api/**` to Qelos (path, query, method, streamed bodies,
/// `X-Forwarded-*`, cookie `Domain` rewritten to the inbound host).
///
/// Register it *after* the app's own `/api/...` routes: actix tries services in registration
/// order, so the app's routes win. With
/// [`api_proxy(true)`](crate::core::QelosConfigBuilder::api_proxy) in the config, the
/// middleware leaves `/api/**` unresolved until a handler asks, so forwarded traffic is never
/// probed.
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
    proxy_scope(Front::proxy_only(proxy))
}

/// `/api/**` answered by `front`'s proxy.
fn proxy_scope(front: Front) -> actix_web::Scope {
    web::scope("/api").default_service(route(front, FrontEndpoint::Proxy))
}

impl QelosMiddleware {
    /// The auth routes (`POST /login`, `POST /logout`, `GET /auth/{provider}`,
    /// `GET /auth/callback`) bound to this middleware's integrator, for
    /// [`App::configure`](actix_web::App::configure). Register them where the middleware wraps
    /// them (logout signs out the context the middleware resolved).
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
        let front = Front::new(self.integrator());
        move |cfg| {
            for r in &AUTH_ROUTES {
                let path = r.path(|p| format!("{{{p}}}"), |r| format!("{{{r}:.*}}"));
                let method = r.method.as_ref().map(|m| m.as_str().as_bytes());
                let method = method.and_then(|m| actix_web::http::Method::from_bytes(m).ok());
                let route = route(front.clone(), r.endpoint);
                cfg.route(
                    &path,
                    method.into_iter().fold(route, actix_web::Route::method),
                );
            }
        }
    }

    /// [`api_proxy`] to this middleware's Qelos (or the `QELOS_PROXY_TARGET` environment
    /// override), with the config's body limit and timeout, signed in as the caller when the
    /// request carries the integrator's cookies ([`Proxy::for_integrator`]).
    pub fn api_proxy(&self) -> actix_web::Scope {
        proxy_scope(Front::new(self.integrator()))
    }
}
