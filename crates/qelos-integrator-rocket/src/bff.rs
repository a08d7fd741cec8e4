//! The same-origin front (core's route table): the login, logout and social-login routes and
//! the `/api/**` proxy, as Rocket routes.

use qelos_integrator_core::adapter::{AUTH_ROUTES, Front, FrontEndpoint, FrontRequest};
use qelos_integrator_core::adapter::{FrontRoute, Inbound, PROXY_ROUTES, Proxy};
use qelos_integrator_core::adapter::{body_channel, body_stream};
use rocket::data::ByteUnit;
use rocket::http::Status;
use rocket::route::{Handler, Outcome, Route};
use rocket::{Data, Request, Response};
use tokio_util::io::{ReaderStream, StreamReader};

use crate::QelosFairing;

/// Rank of the proxy routes: after every route of the application (Rocket's default ranks are
/// negative to -1 for paths without a query), so the app's own `/api/...` routes win.
const PROXY_RANK: isize = 100;

/// One front route's handler.
#[derive(Clone, Debug)]
struct FrontHandler(Front, FrontEndpoint);

#[rocket::async_trait]
impl Handler for FrontHandler {
    async fn handle<'r>(&self, req: &'r Request<'_>, data: Data<'r>) -> Outcome<'r> {
        let inbound = Inbound::new(req.remote().map(|a| a.ip()), false);
        // Rocket's data borrows the request: it is pumped into a bounded channel that the core
        // reads, both in this future (backpressure keeps memory flat).
        let (sender, body) = body_channel();
        let pump = sender.pump(ReaderStream::new(data.open(ByteUnit::max_value())));
        let uri = req.uri().to_string();
        let headers = req.headers().iter().map(|h| (h.name, h.value.into_owned()));
        let request = FrontRequest::from_raw(req.method().as_str(), &uri, headers, body);
        let (response, ()) = tokio::join!(self.0.serve(self.1, request.inbound(inbound)), pump);
        let (head, body) = response.into_parts();
        let mut response = Response::build();
        response.status(Status::new(head.status.as_u16()));
        for (name, value) in &head.headers {
            if let Ok(value) = value.to_str() {
                response.raw_header_adjoin(name.as_str().to_owned(), value.to_owned());
            }
        }
        let response = response.streamed_body(StreamReader::new(body_stream(body)));
        Outcome::Success(response.finalize())
    }
}

/// `routes` as Rocket routes answered by `front`, ranked `rank` (`None`: Rocket's default).
fn mount(front: &Front, routes: &[FrontRoute], rank: Option<isize>) -> Vec<Route> {
    let mut mounted = Vec::new();
    for r in routes {
        let path = r.path(|p| format!("<{p}>"), |r| format!("<{r}..>"));
        let handler = FrontHandler(front.clone(), r.endpoint);
        for method in r.methods().iter().filter_map(|m| m.as_str().parse().ok()) {
            mounted.push(Route::ranked(rank, method, &path, handler.clone()));
        }
    }
    mounted
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
    proxy_routes(&Front::proxy_only(proxy))
}

/// The proxy's routes, ranked after the app's. Rocket's `<path..>` also matches `/api` itself:
/// the rest-of-path route alone.
fn proxy_routes(front: &Front) -> Vec<Route> {
    mount(front, &PROXY_ROUTES[1..], Some(PROXY_RANK))
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
        mount(&Front::new(self.integrator()), &AUTH_ROUTES, None)
    }

    /// [`api_proxy`] to this fairing's Qelos (or the `QELOS_PROXY_TARGET` environment
    /// override), with the config's body limit and timeout, signed in as the caller when the
    /// request carries the integrator's cookies ([`Proxy::for_integrator`]).
    pub fn api_proxy(&self) -> Vec<Route> {
        proxy_routes(&Front::new(self.integrator()))
    }
}
