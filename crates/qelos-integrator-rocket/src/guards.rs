//! Request guards: `&Qelos`, `Option<&Qelos>`, [`RequireUser`] and [`QelosSdk`].

use std::ops::Deref;

use qelos_integrator_core::{QelosContext, SignedIn};

use crate::QelosRejection as Rejection;
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use crate::fairing::state;

const HINT: &str =
    "attach `QelosFairing::new(config)` to the Rocket instance (and do not exclude this path)";

/// The request's Qelos context: user, workspace, workspaces, SDK and tokens.
///
/// As `&Qelos` it is there for every request the fairing saw (the user may be `None`); without
/// the fairing, 500 `QELOS_MIDDLEWARE_MISSING`. `Option<&Qelos>` is `None` on skip paths (Rocket
/// turns any guard error into `None`, so a missing fairing is also `None` there).
///
/// # Examples
///
/// ```
/// use qelos_integrator_rocket::Qelos;
///
/// #[rocket::get("/me")]
/// fn me(q: &Qelos) -> String {
///     format!("{:?} in {:?}", q.user().map(|u| &u.username), q.workspace().map(|w| &w.name))
/// }
/// ```
#[derive(Debug)]
pub struct Qelos(pub(crate) QelosContext);

impl Qelos {
    /// The context.
    pub fn context(&self) -> &QelosContext {
        &self.0
    }
}

impl Deref for Qelos {
    type Target = QelosContext;
    fn deref(&self) -> &QelosContext {
        &self.0
    }
}

fn refuse<T>(req: &Request<'_>, rejection: Rejection) -> Outcome<T, Rejection> {
    let status = Status::new(rejection.status().as_u16());
    state(req).refuse(rejection.clone());
    Outcome::Error((status, rejection))
}

/// A deferred context once resolved, kept in the request-local cache.
/// The request's context once read from the fairing's `RequestState` (resolved on first use for
/// deferred paths), kept in the request-local cache so guards can lend it out.
struct Resolved(Result<Qelos, Rejection>);

async fn context<'r>(req: &'r Request<'_>) -> Outcome<&'r Qelos, Rejection> {
    let resolved = req
        .local_cache_async(async {
            Resolved(match &state(req).attached {
                Some(attached) => attached.context().await.map(Qelos),
                None => Err(Rejection::middleware_missing(HINT)),
            })
        })
        .await;
    match &resolved.0 {
        Ok(q) => Outcome::Success(q),
        Err(rejection) => refuse(req, rejection.clone()),
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for &'r Qelos {
    type Error = Rejection;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        context(req).await
    }
}

/// A signed-in user, or `401 {"code":"UNAUTHORIZED"}` (503 `QELOS_UNAVAILABLE` when Qelos is
/// down), rendered by the fairing.
///
/// # Examples
///
/// ```
/// use qelos_integrator_rocket::RequireUser;
///
/// #[rocket::get("/secret")]
/// fn secret(user: RequireUser) -> String {
///     user.user().id.clone()
/// }
/// ```
#[derive(Clone, Debug)]
pub struct RequireUser(pub SignedIn);

impl Deref for RequireUser {
    type Target = SignedIn;
    fn deref(&self) -> &SignedIn {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for RequireUser {
    type Error = Rejection;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        if state(req).attached.as_ref().is_some_and(|s| s.is_skipped()) {
            return refuse(req, Rejection::unauthorized());
        }
        let q = match context(req).await {
            Outcome::Success(q) => q,
            Outcome::Error(e) => return Outcome::Error(e),
            Outcome::Forward(f) => return Outcome::Forward(f),
        };
        match q.signed_in() {
            Ok(signed_in) => Outcome::Success(RequireUser(signed_in)),
            Err(rejection) => refuse(req, rejection),
        }
    }
}

/// The request's SDK alone, bound to the caller's tokens.
///
/// # Examples
///
/// ```
/// use qelos_integrator_rocket::QelosSdk;
///
/// #[rocket::get("/workspaces")]
/// async fn workspaces(sdk: QelosSdk) -> String {
///     match sdk.workspaces().list().await {
///         Ok(list) => list.len().to_string(),
///         Err(err) => err.to_string(),
///     }
/// }
/// ```
#[derive(Clone, Debug)]
pub struct QelosSdk(pub qelos_integrator_core::qelos_sdk::QelosSdk);

impl Deref for QelosSdk {
    type Target = qelos_integrator_core::qelos_sdk::QelosSdk;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for QelosSdk {
    type Error = Rejection;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        context(req).await.map(|q| QelosSdk(q.sdk().clone()))
    }
}
