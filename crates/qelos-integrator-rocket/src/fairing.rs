//! The fairing: resolves the context once per request, reroutes refusals, writes cookies.

use std::borrow::Cow;
use std::io::Cursor;
use std::sync::{Mutex, PoisonError};

use qelos_integrator_core::adapter::{RequestView, header_map};
use qelos_integrator_core::{Integrator, Rejection, RequestState};

use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Method, Status};
use rocket::{Build, Data, Request, Response, Rocket, get, routes, uri};

/// What the fairing left for this request in the request-local cache (one entry per request):
/// the core's `RequestState` (`None` when the fairing did not run: not attached, or an excluded
/// path) and a refusal to render.
#[derive(Debug, Default)]
pub(crate) struct State {
    pub(crate) attached: Option<RequestState>,
    pending: Pending,
}

/// A refusal to answer for this request, set by the fairing or by a guard.
#[derive(Debug, Default)]
struct Pending(Mutex<Option<Rejection>>);

impl State {
    fn new(attached: RequestState) -> Self {
        Self {
            attached: Some(attached),
            pending: Pending::default(),
        }
    }

    /// Remembers a refusal for `on_response` to render.
    pub(crate) fn refuse(&self, rejection: Rejection) {
        *self
            .pending
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Some(rejection);
    }

    fn take_refusal(&self) -> Option<Rejection> {
        self.pending
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
    }
}

pub(crate) fn state<'r>(req: &'r Request<'_>) -> &'r State {
    req.local_cache(State::default)
}

/// The request as the core reads it. Rocket has its own header type: headers are converted
/// only when the core asks for them, which it does not for requests without credentials.
struct View<'a, 'r>(&'a Request<'r>);

impl RequestView for View<'_, '_> {
    fn path(&self) -> &str {
        self.0.uri().path().as_str()
    }
    fn headers(&self) -> Cow<'_, http::HeaderMap> {
        // Rocket's header iterator yields headers by value, borrowing the request.
        let pairs = self.0.headers().iter().map(|h| {
            let value = match h.value {
                Cow::Borrowed(text) => Cow::Borrowed(text.as_bytes()),
                Cow::Owned(text) => Cow::Owned(text.into_bytes()),
            };
            (h.name, value)
        });
        Cow::Owned(header_map(pairs))
    }
    fn has_header(&self, name: &http::HeaderName) -> bool {
        self.0.headers().contains(name.as_str())
    }
}

/// The internal route a refused request is rerouted to, so no handler of the application runs.
#[get("/__qelos/refused")]
fn refused() -> Status {
    Status::InternalServerError
}

/// A Rocket fairing that gives every request a Qelos context (or refuses it).
///
/// A fairing cannot answer a request itself, so a refusal (`require_auth` without a user, or an
/// outage where a user is required) reroutes the request to an internal route mounted by the
/// fairing, and `on_response` writes the contract's JSON, status and cookies. Guards that refuse
/// (`RequireUser`, a missing context) are rendered the same way.
///
/// # Examples
///
/// ```no_run
/// use qelos_integrator_rocket::{Qelos, QelosConfig, QelosFairing};
/// use rocket::get;
///
/// #[get("/me")]
/// fn me(q: &Qelos) -> String {
///     q.user().map(|u| u.username.clone()).unwrap_or_default()
/// }
///
/// # fn build() -> Result<rocket::Rocket<rocket::Build>, qelos_integrator_rocket::ConfigError> {
/// let rocket = rocket::build()
///     .mount("/", rocket::routes![me])
///     .attach(QelosFairing::new(QelosConfig::from_env()?));
/// # Ok(rocket) }
/// ```
#[derive(Clone, Debug)]
pub struct QelosFairing {
    integrator: Integrator,
    excluded: Vec<String>,
}

impl QelosFairing {
    /// A fairing over an existing integrator.
    pub fn from_integrator(integrator: Integrator) -> Self {
        Self {
            integrator,
            excluded: Vec::new(),
        }
    }
    /// Leaves requests under `prefix` entirely alone (as routes outside a middleware in other
    /// frameworks): guards there answer `500 QELOS_MIDDLEWARE_MISSING`. For paths that should
    /// simply get no context, use the config's skip paths.
    #[must_use]
    pub fn exclude(mut self, prefix: impl Into<String>) -> Self {
        self.excluded.push(prefix.into());
        self
    }
}

qelos_integrator_core::integrator_methods!(QelosFairing);

#[rocket::async_trait]
impl Fairing for QelosFairing {
    fn info(&self) -> Info {
        Info {
            name: "Qelos",
            kind: Kind::Ignite | Kind::Request | Kind::Response,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> rocket::fairing::Result {
        Ok(rocket.mount("/", routes![refused]))
    }

    async fn on_request(&self, req: &mut Request<'_>, _data: &mut Data<'_>) {
        let path = req.uri().path().as_str();
        if self
            .excluded
            .iter()
            .any(|p| qelos_integrator_core::config::path_is_under(path, p))
        {
            return;
        }
        let attached = self.integrator.attach(&View(req));
        match attached.admit().await {
            Ok(()) => {
                req.local_cache(|| State::new(attached));
            }
            Err(rejection) => {
                state(req).refuse(rejection);
                req.set_method(Method::Get);
                req.set_uri(uri!("/__qelos/refused"));
            }
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let state = state(req);
        let cookies = state
            .attached
            .as_ref()
            .map(RequestState::take_response_cookies);
        write_cookies(res, cookies.unwrap_or_default());
        if let Some(rejection) = state.take_refusal() {
            let code = rejection.status().as_u16();
            // A refusal wrapped in `Option<…>` by the handler let the handler run: only a
            // response that carries the refusal's status is rewritten.
            if res.status().code == code || req.uri().path() == "/__qelos/refused" {
                let body = rejection.body();
                res.set_status(Status::new(code));
                res.set_header(ContentType::JSON);
                res.set_sized_body(body.len(), Cursor::new(body));
                write_cookies(res, rejection.set_cookies().to_vec());
            }
        }
    }
}

/// Writes cookies the way core says (`Set-Cookie` appended, `Cache-Control: no-store` set).
fn write_cookies(res: &mut Response<'_>, set_cookies: Vec<String>) {
    for (name, value) in qelos_integrator_core::adapter::set_cookie_headers(set_cookies) {
        if name == "set-cookie" {
            res.adjoin_raw_header(name, value);
        } else {
            res.set_raw_header(name, value);
        }
    }
}
