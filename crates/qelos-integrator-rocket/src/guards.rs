//! Request guards: `&Qelos` (or `Qelos`), `Option<&Qelos>`, [`RequireUser`] and [`QelosSdk`],
//! each resolving the request on first use.

use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};

use crate::QelosRejection as Rejection;
use crate::fairing::{attach, local};
use qelos_integrator_core::adapter::RequestSlot;

qelos_integrator_core::extractor_types! {
    /// The request's Qelos context: user, workspace, workspaces, SDK and tokens.
    ///
    /// As `&Qelos` (lent from the request-local cache) or `Qelos` (a cheap clone) it is there
    /// for every request the fairing saw (the user may be `None`); without the fairing, or on
    /// a skip path, it fails with 500 `QELOS_MIDDLEWARE_MISSING`. `Option<&Qelos>` is `None`
    /// exactly there (Rocket turns a guard's error into `None`). The request is resolved
    /// when a guard first asks, once.
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
    Qelos;
    /// A signed-in user, or `401 {"code":"UNAUTHORIZED"}` (also on a skip path; 503
    /// `QELOS_UNAVAILABLE` when Qelos is down), rendered by a catcher. `Option<RequireUser>`
    /// is the signed-in-only guard: `Some` only for a signed-in caller.
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
    RequireUser;
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
    QelosSdk;
}

const HINT: &str =
    "attach `QelosFairing::new(config)` to the Rocket instance (and do not exclude this path)";

/// The context, resolved once per request and kept in the request-local cache to be lent.
async fn context<'r>(req: &'r Request<'_>) -> Result<&'r Qelos, Rejection> {
    local(req).lend(HINT, || attach(req), Qelos).await
}

/// The request's slot, attached on first use.
fn slot<'r>(req: &'r Request<'_>) -> &'r RequestSlot {
    local(req).slot(|| attach(req))
}

/// Each guard and how a request gives it; a refusal is remembered for the catcher.
macro_rules! guards {
    ($r:lifetime, $q:ident: $($guard:ty => $value:expr;)*) => {$(
        #[rocket::async_trait]
        impl<$r> FromRequest<$r> for $guard {
            type Error = Rejection;
            async fn from_request($q: &$r Request<'_>) -> Outcome<Self, Rejection> {
                match $value {
                    Ok(value) => Outcome::Success(value),
                    Err(r) => Outcome::Error((Status::new(r.status().into()), slot($q).refuse(r))),
                }
            }
        }
    )*};
}

guards! { 'r, req:
    &'r Qelos => context(req).await;
    Qelos => context(req).await.cloned();
    RequireUser => async { slot(req).state(HINT)?.signed_in().await.map(RequireUser) }.await;
    QelosSdk => context(req).await.map(|q| QelosSdk(q.sdk().clone()));
}
