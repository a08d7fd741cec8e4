//! The same-origin front: the `/api/**` proxy and the login, logout and social-login routes.

use std::io::Cursor;

use bytes::BytesMut;
use qelos_integrator_core::Integrator;
use qelos_integrator_core::adapter::{AuthReply, EndpointRequest};
use qelos_integrator_core::adapter::{Inbound, Proxy, ProxyBody, body_channel, body_stream};
use rocket::data::{ByteUnit, ToByteUnit};
use rocket::http::{Method, Status};
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request, Response};
use tokio::io::AsyncReadExt;

use crate::{Qelos, QelosFairing};

/// Rank of the proxy routes: after every route of the application (Rocket's default ranks are
/// negative to -1 for paths without a query), so the app's own `/api/...` routes win.
const PROXY_RANK: isize = 100;

/// Chunks of a request body in flight between Rocket's data stream and the proxy.
const BODY_CHUNKS_IN_FLIGHT: usize = 8;

/// Largest login body read (a form or JSON with a username and password).
const LOGIN_BODY_LIMIT: u64 = 16 * 1024;

/// Methods the proxy forwards.
const METHODS: [Method; 7] = [
    Method::Get,
    Method::Head,
    Method::Post,
    Method::Put,
    Method::Patch,
    Method::Delete,
    Method::Options,
];

/// An `http` 1.x response as a Rocket response with `body`.
fn response<'r>(head: http::response::Parts, body: impl FnOnce(&mut Response<'r>)) -> Response<'r> {
    let mut response = Response::new();
    response.set_status(Status::new(head.status.as_u16()));
    for (name, value) in &head.headers {
        if let Ok(value) = value.to_str() {
            response.adjoin_raw_header(name.as_str().to_owned(), value.to_owned());
        }
    }
    body(&mut response);
    response
}

fn respond<'r>(reply: AuthReply) -> Outcome<'r> {
    let (head, body) = reply.into_response::<String>().into_parts();
    Outcome::Success(response(head, |r| {
        r.set_sized_body(body.len(), Cursor::new(body))
    }))
}

fn streamed<'r>(head: http::response::Parts, body: ProxyBody) -> Response<'r> {
    response(head, |r| {
        r.set_streamed_body(tokio_util::io::StreamReader::new(body_stream(body)));
    })
}

/// The `/api/**` proxy as Rocket routes: mount them at `/` (see [`QelosFairing::api_proxy`]).
#[derive(Clone, Debug)]
struct ProxyHandler(Proxy);

#[rocket::async_trait]
impl Handler for ProxyHandler {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let inbound = Inbound {
            peer: req.remote().map(|a| a.ip()),
            https: false,
        };
        // Rocket's data borrows the request: it is pumped into a bounded channel that the
        // proxy streams upstream, both in this future (backpressure keeps memory flat).
        let (sender, body) = body_channel(BODY_CHUNKS_IN_FLIGHT);
        let mut stream = data.open(ByteUnit::max_value());
        let pump = async move {
            loop {
                let mut chunk = BytesMut::with_capacity(64 * 1024);
                match stream.read_buf(&mut chunk).await {
                    Ok(0) => break,
                    Ok(_) => {
                        if !sender.send(Ok(chunk.freeze())).await {
                            break;
                        }
                    }
                    Err(err) => {
                        sender.send(Err(err)).await;
                        break;
                    }
                }
            }
        };
        let uri = req.uri().to_string();
        let headers: Vec<(String, String)> = req
            .headers()
            .iter()
            .map(|h| (h.name().as_str().to_owned(), h.value().to_owned()))
            .collect();
        let forward = self.0.forward_raw(
            req.method().as_str(),
            &uri,
            headers.iter().map(|(n, v)| (n.as_str(), v.as_bytes())),
            body,
            inbound,
        );
        let (response, ()) = tokio::join!(forward, pump);
        let (head, body) = response.into_parts();
        Outcome::Success(streamed(head, body))
    }
}

/// The auth endpoints, one handler per route.
#[derive(Clone, Debug)]
enum AuthHandler {
    Login(Integrator),
    Logout(Integrator),
    Callback(Integrator),
    Social(Integrator),
}

fn endpoint<'a>(req: &'a Request<'_>) -> EndpointRequest<'a> {
    EndpointRequest::from_lookup(req.uri().query().map(|q| q.as_str()), |name| {
        req.headers().get_one(name)
    })
}

#[rocket::async_trait]
impl Handler for AuthHandler {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        match self {
            Self::Login(integrator) => {
                let body = match data.open(LOGIN_BODY_LIMIT.bytes()).into_bytes().await {
                    Ok(body) if body.is_complete() => body.into_inner(),
                    _ => Vec::new(),
                };
                respond(integrator.login_endpoint(&endpoint(req), &body).await)
            }
            Self::Logout(integrator) => match req.guard::<&Qelos>().await {
                rocket::outcome::Outcome::Success(q) => {
                    respond(integrator.logout_endpoint(q, &endpoint(req)).await)
                }
                rocket::outcome::Outcome::Error((status, _)) => Outcome::Error(status),
                rocket::outcome::Outcome::Forward(status) => Outcome::Error(status),
            },
            Self::Callback(integrator) => {
                respond(integrator.callback_endpoint(&endpoint(req)).await)
            }
            Self::Social(integrator) => {
                let provider = req.param::<&str>(1).and_then(Result::ok).unwrap_or("");
                respond(integrator.social_redirect_endpoint(provider, &endpoint(req)))
            }
        }
    }
}

/// Routes that forward `/api` and `/api/**` to Qelos (path, query, method, streamed bodies,
/// `X-Forwarded-*`, cookie `Domain` rewritten to the inbound host). Mount them at `/`.
///
/// They are ranked after the application's routes, so the app's own `/api/...` routes win.
/// With [`api_proxy(true)`](crate::core::QelosConfigBuilder::api_proxy) in the config, the
/// fairing leaves `/api/**` unresolved until a guard asks, so forwarded traffic is never
/// probed.
///
/// # Examples
///
/// ```no_run
/// use qelos_integrator_rocket::{QelosConfig, QelosFairing, api_proxy, core::adapter::Proxy};
///
/// #[rocket::get("/api/health")]
/// fn health() -> &'static str { "ours" }
///
/// # fn build() -> Result<rocket::Rocket<rocket::Build>, qelos_integrator_rocket::ConfigError> {
/// let config = QelosConfig::builder("http://localhost:3000").api_proxy(true).build()?;
/// let proxy = Proxy::new(&config).body_limit(8 << 20);
/// let rocket = rocket::build()
///     .mount("/", rocket::routes![health])
///     .mount("/", api_proxy(proxy))
///     .attach(QelosFairing::new(config));
/// # Ok(rocket) }
/// ```
pub fn api_proxy(proxy: Proxy) -> Vec<Route> {
    let handler = ProxyHandler(proxy);
    METHODS
        .iter()
        .map(|method| Route::ranked(PROXY_RANK, *method, "/api/<path..>", handler.clone()))
        .collect()
}

impl QelosFairing {
    /// The auth routes (`POST /login`, `POST /logout`, `GET /auth/<provider>`,
    /// `GET /auth/callback`) bound to this fairing's integrator. Mount them at `/`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use qelos_integrator_rocket::{QelosConfig, QelosFairing};
    /// # fn build() -> Result<rocket::Rocket<rocket::Build>, qelos_integrator_rocket::ConfigError> {
    /// let qelos = QelosFairing::new(QelosConfig::from_env()?);
    /// let rocket = rocket::build().mount("/", qelos.auth_routes()).attach(qelos);
    /// # Ok(rocket) }
    /// ```
    pub fn auth_routes(&self) -> Vec<Route> {
        let integrator = self.integrator().clone();
        vec![
            Route::new(
                Method::Post,
                "/login",
                AuthHandler::Login(integrator.clone()),
            ),
            Route::new(
                Method::Post,
                "/logout",
                AuthHandler::Logout(integrator.clone()),
            ),
            Route::new(
                Method::Get,
                "/auth/callback",
                AuthHandler::Callback(integrator.clone()),
            ),
            Route::new(
                Method::Get,
                "/auth/<provider>",
                AuthHandler::Social(integrator),
            ),
        ]
    }

    /// [`api_proxy`] to this fairing's Qelos (or the `QELOS_PROXY_TARGET` environment
    /// override), with the config's body limit and timeout, signed in as the caller when the
    /// request carries the integrator's cookies ([`Proxy::for_integrator`]).
    pub fn api_proxy(&self) -> Vec<Route> {
        api_proxy(Proxy::for_integrator(self.integrator()))
    }
}
