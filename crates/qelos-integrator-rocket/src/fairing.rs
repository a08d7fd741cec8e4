//! The fairing: leaves each request what its guards need, refuses requests to paths that
//! require a user before routing, renders refusals with catchers, and writes cookies.
//!
//! Why it looks like this: a Rocket fairing cannot answer a request, and it runs before
//! routing, so it cannot know whether the route asks for a Qelos guard. So `on_request` only
//! attaches the request (a `RequestSlot` in the request-local cache, no upstream call), and the
//! guards resolve it when a route first asks (routes without a Qelos guard, static files
//! included, cost no upstream call). Paths under `require_auth`/`require_auth_under` are the
//! exception: a guard-less route there must still refuse anonymous callers, so `on_request`
//! decides them at once and, when refused, reroutes the request to an internal route whose
//! handler fails with the refusal's status (from outside, with no refusal pending, it forwards:
//! 404). Every refusal is rendered by a catcher; the fairing registers 401, 500 and 503 catchers
//! at `/` only for the statuses the application has no catcher for there (none when it has a
//! default catcher there), so the application's own catchers keep answering. No response is
//! rewritten: `on_response` only adds the cookies.

use qelos_integrator_core::adapter::{ForeignView, RequestSlot, each_value, header_map};
use qelos_integrator_core::{Integrator, Rejection, config::path_is_under};
use rocket::catcher::{self, Catcher};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Method, Status};
use rocket::{Build, Data, Request, Response, Rocket, response::Responder, route, uri};

/// What the fairing left for this request (the default where it did not run).
pub(crate) fn slot<'r>(req: &'r Request<'_>) -> &'r RequestSlot {
    req.local_cache(RequestSlot::default)
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
    slot(req).refusal()
}

/// The internal route a request refused before routing goes to: it fails with the refusal's
/// status (a catcher renders it), and forwards (404) when no refusal is pending.
fn refused<'r>(req: &'r Request<'_>, data: Data<'r>) -> route::BoxFuture<'r> {
    let outcome = match refusal(req) {
        Some(r) => route::Outcome::Error(Status::new(r.status().as_u16())),
        None => route::Outcome::Forward((data, Status::NotFound)),
    };
    Box::pin(async move { outcome })
}

/// The fairing's catcher: the request's refusal of its status as JSON, else Rocket's default.
fn render<'r>(status: Status, req: &'r Request<'_>) -> catcher::BoxFuture<'r> {
    Box::pin(async move {
        match refusal(req).filter(|r| r.status().as_u16() == status.code) {
            Some(r) => (status, (ContentType::JSON, r.body())).respond_to(req),
            None => Catcher::default().handler.handle(status, req).await,
        }
    })
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
    /// Leaves requests under `prefix` entirely alone (as routes outside a middleware in other
    /// frameworks): guards there answer `500 QELOS_MIDDLEWARE_MISSING`. For paths that should
    /// simply get no context, use the config's skip paths.
    #[must_use]
    pub fn exclude(mut self, prefix: impl Into<String>) -> Self {
        self.excluded.push(prefix.into());
        self
    }
}

qelos_integrator_core::integrator_methods!(QelosFairing {
    excluded: Vec::new()
});

#[rocket::async_trait]
impl Fairing for QelosFairing {
    fn info(&self) -> Info {
        Info {
            name: "Qelos",
            kind: Kind::Ignite | Kind::Request | Kind::Response,
        }
    }

    /// Registers the catchers of the statuses a refusal has (401, 500, 503) that the
    /// application has no catcher for at `/` (none when it has a default catcher there), and
    /// the internal route of refused requests.
    async fn on_ignite(&self, rocket: Rocket<Build>) -> rocket::fairing::Result {
        let at_root = rocket.catchers().filter(|c| c.base.path() == "/");
        let taken: Vec<Option<u16>> = at_root.map(|c| c.code).collect();
        let catchers: Vec<_> = [401, 500, 503]
            .into_iter()
            .filter(|code| !taken.contains(&Some(*code)) && !taken.contains(&None))
            .map(|code| Catcher::new(code, render))
            .collect();
        let route = route::Route::ranked(-100, Method::Get, "/__qelos/refused", refused);
        Ok(rocket.register("/", catchers).mount("/", vec![route]))
    }

    async fn on_request(&self, req: &mut Request<'_>, _data: &mut Data<'_>) {
        let path = req.uri().path().as_str();
        if self.excluded.iter().any(|p| path_is_under(path, p)) {
            return;
        }
        // Rocket has its own header type: headers are converted only when the core asks for
        // them, which it does not for requests without credentials.
        let view = ForeignView {
            method: req.method().as_str(),
            path,
            get: each_value(|name| req.headers().get(name)),
            all: || header_map(req.headers().iter().map(|h| (h.name, h.value.into_owned()))),
        };
        let slot = req.local_cache(|| self.integrator.attach_slot(&view));
        drop(view); // its lookups borrow `req`, which a refusal reroutes below
        if slot.refuse_before_routing().await {
            req.set_method(Method::Get);
            req.set_uri(uri!("/__qelos/refused"));
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        for (name, value) in slot(req).response_headers() {
            if name == "set-cookie" {
                res.adjoin_raw_header(name, value);
            } else {
                res.set_raw_header(name, value);
            }
        }
    }
}
