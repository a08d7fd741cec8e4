//! The fairing: leaves each request what its guards need, refuses requests to paths that
//! require a user before routing, renders refusals with catchers, and writes cookies.
//!
//! Why it looks like this: a Rocket fairing cannot answer a request, and it runs before
//! routing, so it cannot know whether the route asks for a Qelos guard. So `on_request` only
//! leaves the integrator in the request-local cache, and the guards attach and resolve the
//! request when a route first asks (routes without a Qelos guard, static files included, cost
//! no upstream call). Paths under `require_auth`/`require_auth_under` are the exception: a
//! guard-less route there must still refuse anonymous callers, so `on_request` decides them at
//! once and, when refused, reroutes the request to an internal route whose handler fails with
//! the refusal's status (from outside, with no refusal pending, it forwards: 404). Every refusal
//! is rendered by a catcher; the fairing registers 401, 500 and 503 catchers at `/` only for
//! the statuses the application has no catcher for there, so the application's own catchers
//! keep answering. No response is rewritten.

use std::{borrow::Cow, sync::OnceLock};

use qelos_integrator_core::adapter::{RequestView, header_map, set_cookie_headers};
use qelos_integrator_core::{Integrator, Rejection, RequestState, config::path_is_under};
use rocket::catcher::{self, Catcher};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Method, Status};
use rocket::{Build, Data, Request, Response, Rocket, response::Responder, route, uri};

const HINT: &str =
    "attach `QelosFairing::new(config)` to the Rocket instance (and do not exclude this path)";

/// What a request carries in its local cache: the fairing's integrator (`None`: the fairing did
/// not run here), the state attached on first use, and the first refusal to render.
#[derive(Default)]
struct Local {
    integrator: Option<Integrator>,
    state: OnceLock<RequestState>,
    refusal: OnceLock<Rejection>,
}

fn local<'r>(req: &'r Request<'_>) -> &'r Local {
    req.local_cache(Local::default)
}

/// The request's state, attached on the first call.
///
/// # Errors
///
/// `500 QELOS_MIDDLEWARE_MISSING` where the fairing did not run.
pub(crate) fn state<'r>(req: &'r Request<'_>) -> Result<&'r RequestState, Rejection> {
    let local = local(req);
    let integrator = local.integrator.as_ref();
    let integrator = integrator.ok_or_else(|| Rejection::middleware_missing(HINT))?;
    Ok(local.state.get_or_init(|| integrator.attach(&View(req))))
}

/// Remembers `rejection` for the catcher (the first refusal of a request wins); its status.
pub(crate) fn remember(req: &Request<'_>, rejection: Rejection) -> Status {
    let status = status(&rejection);
    let _ = local(req).refusal.set(rejection);
    status
}

fn status(rejection: &Rejection) -> Status {
    Status::new(rejection.status().as_u16())
}

/// The Qelos refusal of this request, if a guard or the fairing refused it: for an
/// application's own catcher, which answers Qelos refusals of its status too (Rocket routes an
/// error status to one catcher). The fairing writes the refusal's cookies whichever catcher
/// answers.
///
/// # Examples
///
/// ```
/// use rocket::{Request, catch, http::ContentType};
///
/// #[catch(401)]
/// fn unauthorized(req: &Request<'_>) -> (ContentType, String) {
///     match qelos_integrator_rocket::refusal(req) {
///         Some(refusal) => (ContentType::JSON, refusal.body()),
///         None => (ContentType::Plain, "please sign in".into()),
///     }
/// }
/// ```
pub fn refusal<'r>(req: &'r Request<'_>) -> Option<&'r Rejection> {
    local(req).refusal.get()
}

/// The request as the core reads it. Rocket has its own header type: headers are converted
/// only when the core asks for them, which it does not for requests without credentials.
struct View<'a, 'r>(&'a Request<'r>);

impl RequestView for View<'_, '_> {
    fn path(&self) -> &str {
        self.0.uri().path().as_str()
    }
    fn headers(&self) -> Cow<'_, http::HeaderMap> {
        let pairs = self
            .0
            .headers()
            .iter()
            .map(|h| (h.name, h.value.into_owned()));
        Cow::Owned(header_map(pairs))
    }
    fn has_header(&self, name: &http::HeaderName) -> bool {
        self.0.headers().contains(name.as_str())
    }
}

/// The internal route a request refused before routing goes to: it fails with the refusal's
/// status (its catcher renders it), and forwards (404) when no refusal is pending.
fn refused<'r>(req: &'r Request<'_>, data: Data<'r>) -> route::BoxFuture<'r> {
    let outcome = match refusal(req) {
        Some(refused) => route::Outcome::Error(status(refused)),
        None => route::Outcome::Forward((data, Status::NotFound)),
    };
    Box::pin(async move { outcome })
}

/// A catcher that renders the request's refusal of its status as JSON, and otherwise answers
/// as the catcher it stands in for (the application's default catcher, or Rocket's).
#[derive(Clone)]
struct Render(Box<dyn catcher::Handler>);

#[rocket::async_trait]
impl catcher::Handler for Render {
    async fn handle<'r>(&self, status: Status, req: &'r Request<'_>) -> catcher::Result<'r> {
        match refusal(req).filter(|r| self::status(r) == status) {
            Some(r) => (status, (ContentType::JSON, r.body())).respond_to(req),
            None => self.0.handle(status, req).await,
        }
    }
}

/// A Rocket fairing that gives every request a Qelos context on demand (or refuses it).
///
/// Guards resolve the request on first use; refusals are answered by catchers (see the crate
/// docs). Paths under `require_auth` or `require_auth_under` are decided before routing, so a
/// route without a Qelos guard there refuses anonymous callers too.
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
        let kind = Kind::Ignite | Kind::Request | Kind::Response;
        Info {
            name: "Qelos",
            kind,
        }
    }

    async fn on_ignite(&self, rocket: Rocket<Build>) -> rocket::fairing::Result {
        let at_root = || rocket.catchers().filter(|c| c.base.path() == "/");
        let fallback = at_root().find(|c| c.code.is_none()).cloned();
        let fallback = fallback.unwrap_or_default().handler;
        let taken: Vec<u16> = at_root().filter_map(|c| c.code).collect();
        let catchers: Vec<Catcher> = [401, 500, 503]
            .into_iter()
            .filter(|code| !taken.contains(code))
            .map(|code| Catcher::new(code, Render(fallback.clone())))
            .collect();
        let route = route::Route::ranked(-100, Method::Get, "/__qelos/refused", refused);
        Ok(rocket.register("/", catchers).mount("/", vec![route]))
    }

    async fn on_request(&self, req: &mut Request<'_>, _data: &mut Data<'_>) {
        let path = req.uri().path().as_str();
        if self.excluded.iter().any(|p| path_is_under(path, p)) {
            return;
        }
        let required = self.integrator.config().requires_auth(path);
        req.local_cache(|| Local {
            integrator: Some(self.integrator.clone()),
            ..Local::default()
        });
        let Some(state) = state(req).ok().filter(|_| required).cloned() else {
            return;
        };
        if let Err(rejection) = state.admit().await {
            remember(req, rejection);
            req.set_method(Method::Get);
            req.set_uri(uri!("/__qelos/refused"));
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        let local = local(req);
        let state = local.state.get().map(RequestState::take_response_cookies);
        let refused = local.refusal.get().map(|r| r.set_cookies().to_vec());
        let cookies = [state, refused].into_iter().flatten().flatten().collect();
        for (name, value) in set_cookie_headers(cookies) {
            if name == "set-cookie" {
                res.adjoin_raw_header(name, value);
            } else {
                res.set_raw_header(name, value);
            }
        }
    }
}
