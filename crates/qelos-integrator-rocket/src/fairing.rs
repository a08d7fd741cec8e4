//! The fairing: registers what the guards need, refuses requests to paths that require a user
//! before routing, renders refusals with catchers, and writes cookies.
//!
//! Why it looks like this: a Rocket fairing cannot answer a request, and it runs before
//! routing, so it cannot know whether the route asks for a Qelos guard. So the fairing puts
//! itself in Rocket's managed state at ignition, and the guards attach the request when a route
//! first asks (a `RequestSlot` in the request-local cache, then resolved once): routes without a
//! Qelos guard, static files included, do no Qelos work and make no upstream call. Paths under
//! `require_auth`/`require_auth_under` are the exception: a guard-less route there must still
//! refuse anonymous callers, so when the configuration has such paths the fairing also runs
//! `on_request`, which decides them at once and, when refused, reroutes the request to an
//! internal route whose handler fails with the refusal's status (from outside, with no refusal
//! pending, it forwards: 404). Every refusal is rendered by a catcher; the fairing registers
//! 401, 500 and 503 catchers at `/` only for the statuses the application has no catcher for
//! there (none when it has a default catcher there), so the application's own catchers keep
//! answering. No response is rewritten: `on_response` only adds the cookies.

use qelos_integrator_core::adapter::{ForeignView, LocalState, RequestSlot, each_value};
use qelos_integrator_core::adapter::{header_map, uncaught_refusal_statuses};
use qelos_integrator_core::{Integrator, Rejection};
use rocket::catcher::{self, Catcher};
use rocket::fairing::{Fairing, Info, Kind};
use rocket::http::{ContentType, Method, Status};
use rocket::{Build, Data, Request, Response, Rocket, response::Responder, route, uri};

/// What a request holds (one entry of Rocket's request-local cache), filled when first asked.
pub(crate) fn local<'r>(req: &'r Request<'_>) -> &'r LocalState<crate::Qelos> {
    req.local_cache(LocalState::default)
}

/// The fairing, as the guards find it in Rocket's managed state (private: no clash).
struct Managed(QelosFairing);

/// Attaches the request, without any upstream call (the default slot where the fairing is not
/// attached or excludes the path). Rocket has its own header type: headers are converted only
/// when the core asks for them, which it does not without credentials.
pub(crate) fn attach(req: &Request<'_>) -> RequestSlot {
    let path = req.uri().path().as_str();
    match req.rocket().state::<Managed>() {
        Some(Managed(f)) if !f.excludes(path) => f.integrator.attach_slot(&ForeignView {
            method: req.method().as_str(),
            path,
            get: each_value(|name| req.headers().get(name)),
            all: || header_map(req.headers().iter().map(|h| (h.name, h.value.into_owned()))),
        }),
        _ => RequestSlot::default(),
    }
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
    local(req).refusal()
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

qelos_integrator_core::integrator_methods!(QelosFairing { excluded });

#[rocket::async_trait]
impl Fairing for QelosFairing {
    /// `on_request` only when some paths require a user: there is nothing to do before
    /// routing otherwise.
    fn info(&self) -> Info {
        let mut kind = Kind::Ignite | Kind::Response;
        if self.integrator.config().requires_auth_anywhere() {
            kind = kind | Kind::Request;
        }
        Info {
            name: "Qelos",
            kind,
        }
    }

    /// Registers the catchers of the statuses a refusal has (401, 500, 503) that the
    /// application has no catcher for at `/` (none when it has a default catcher there), and
    /// the internal route of refused requests, and puts the fairing in the managed state for
    /// the guards. One Qelos fairing per Rocket instance: a second one fails ignition.
    async fn on_ignite(&self, rocket: Rocket<Build>) -> rocket::fairing::Result {
        if rocket.state::<Managed>().is_some() {
            return Err(rocket); // a second Qelos fairing: one per Rocket instance
        }
        let at_root = rocket.catchers().filter(|c| c.base.path() == "/");
        let statuses = uncaught_refusal_statuses(at_root.map(|c| c.code));
        let catchers: Vec<_> = statuses.map(|code| Catcher::new(code, render)).collect();
        let rocket = rocket.register("/", catchers);
        let route = route::Route::ranked(-100, Method::Get, "/__qelos/refused", refused);
        Ok(rocket.mount("/", vec![route]).manage(Managed(self.clone())))
    }

    /// Registered only when some paths require a user: decides those requests now.
    async fn on_request(&self, req: &mut Request<'_>, _data: &mut Data<'_>) {
        let path = req.uri().path().as_str();
        if !self.integrator.config().requires_auth(path) {
            return; // left to the guards
        }
        let slot = local(req).slot(|| attach(req));
        if slot.refuse_before_routing().await {
            req.set_method(Method::Get);
            req.set_uri(uri!("/__qelos/refused"));
        }
    }

    async fn on_response<'r>(&self, req: &'r Request<'_>, res: &mut Response<'r>) {
        // Nothing when no guard asked and nothing was decided before routing.
        for (name, value) in local(req).response_headers() {
            if name == "set-cookie" {
                res.adjoin_raw_header(name, value);
            } else {
                res.set_raw_header(name, value);
            }
        }
    }
}
