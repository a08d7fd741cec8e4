//! The filters: the context, the optional context, the signed-in user and the SDK, read from
//! the state [`QelosLayer`](crate::QelosLayer) left in the request.

use std::convert::Infallible;

use qelos_integrator_core::adapter::{FromState, optional_context, optional_user as signed_in};
use qelos_integrator_core::{Rejection, RequestState};
use warp::Filter;
use warp::reply::Response;

const HINT: &str = "serve the routes inside `QelosLayer` (`qelos_integrator_warp::serve`)";

qelos_integrator_core::extractor_types! {
    /// The request's Qelos context: user (may be `None`), workspace, workspaces, SDK and tokens.
    Qelos;
    /// A signed-in user with the whole context.
    RequireUser;
    /// The request's SDK alone, bound to the caller's tokens.
    QelosSdk;
}

qelos_integrator_core::rejection_type! {
    /// A Qelos refusal as a warp rejection; [`recover`] answers it.
    QelosRejection
}

impl warp::reject::Reject for QelosRejection {}

fn refused(rejection: Rejection) -> warp::Rejection {
    warp::reject::custom(QelosRejection(rejection))
}

/// `T` made from the state the layer left, or a refusal [`recover`] answers.
fn extract<T: FromState + Send>() -> impl Filter<Extract = (T,), Error = warp::Rejection> + Clone {
    warp::ext::optional::<RequestState>()
        .and_then(|state| async move { T::from_state(state, HINT).await.map_err(refused) })
}

/// The context (user may be `None`).
pub fn qelos() -> impl Filter<Extract = (Qelos,), Error = warp::Rejection> + Clone {
    extract()
}

/// `Option<Qelos>`: `None` exactly where the layer did not run (outside it, or a skip path);
/// otherwise the context, whether or not a user is signed in.
pub fn optional() -> impl Filter<Extract = (Option<Qelos>,), Error = warp::Rejection> + Clone {
    warp::ext::optional::<RequestState>().and_then(|state: Option<RequestState>| async move {
        let ctx = optional_context(state.as_ref()).await.map_err(refused)?;
        Ok::<_, warp::Rejection>(ctx.map(Qelos))
    })
}

/// `Option<RequireUser>`: `Some` only for a signed-in caller.
pub fn optional_user() -> impl Filter<Extract = (Option<RequireUser>,), Error = Infallible> + Clone
{
    warp::ext::optional::<RequestState>().then(|state: Option<RequestState>| async move {
        signed_in(state.as_ref()).await.map(RequireUser)
    })
}

/// A signed-in user, or a rejection [`recover`] answers as `401 {"code":"UNAUTHORIZED"}`
/// (503 `QELOS_UNAVAILABLE` when Qelos is down).
pub fn require_user() -> impl Filter<Extract = (RequireUser,), Error = warp::Rejection> + Clone {
    extract()
}

/// The request's SDK alone.
pub fn sdk() -> impl Filter<Extract = (QelosSdk,), Error = warp::Rejection> + Clone {
    extract()
}

/// Answers a [`QelosRejection`] with the contract's status, JSON body and cookies; passes
/// every other rejection on.
///
/// # Errors
///
/// `err` itself when it is not a Qelos refusal.
pub async fn recover(err: warp::Rejection) -> Result<Response, warp::Rejection> {
    match err.find::<QelosRejection>() {
        Some(QelosRejection(rejection)) => Ok(rejection.clone().into_response()),
        None => Err(err),
    }
}
