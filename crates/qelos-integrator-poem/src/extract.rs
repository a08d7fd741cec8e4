//! Extractors: [`Qelos`], `Option<Qelos>`, [`RequireUser`] and [`QelosSdk`].

use poem::{FromRequest, Request, RequestBody};
use qelos_integrator_core::adapter::require_state;
use qelos_integrator_core::{QelosContext, Rejection, RequestState};

use crate::middleware::rejection_response;

const HINT: &str = "add `.with(QelosMiddleware::new(config))` around this route";

/// The refusal of a Qelos extractor: a `poem::Error` answered with the contract's status, JSON
/// body and cookies. An outer `catch_error` can match it
/// (`err.downcast_ref::<QelosRejection>()`).
#[derive(Debug)]
pub struct QelosRejection(pub Rejection);

impl std::fmt::Display for QelosRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for QelosRejection {}

impl poem::error::ResponseError for QelosRejection {
    fn status(&self) -> poem::http::StatusCode {
        self.0.status()
    }

    fn as_response(&self) -> poem::Response {
        rejection_response(self.0.clone())
    }
}

fn refused(rejection: Rejection) -> poem::Error {
    poem::Error::from(QelosRejection(rejection))
}

async fn context(req: &Request) -> poem::Result<QelosContext> {
    let state = require_state(req.extensions().get::<RequestState>(), HINT).map_err(refused)?;
    state.context().await.map_err(refused)
}

qelos_integrator_core::extractor_types! {
    /// The request's Qelos context: user, workspace, workspaces, SDK and tokens.
    ///
    /// Under [`QelosMiddleware`](crate::QelosMiddleware) it is always there (the user may be `None`);
    /// without it, `500 {"code":"QELOS_MIDDLEWARE_MISSING"}`. `Option<Qelos>` is `None` on skipped
    /// paths (poem turns any extractor error into `None`, so a missing middleware is also `None`
    /// there: use `Qelos` where that matters).
    ///
    /// # Examples
    ///
    /// ```
    /// use poem::handler;
    /// use qelos_integrator_poem::Qelos;
    ///
    /// #[handler]
    /// fn me(q: Qelos) -> String {
    ///     format!("{:?} in {:?}", q.user().map(|u| &u.username), q.workspace().map(|w| &w.name))
    /// }
    /// ```
    Qelos;
    /// A signed-in user, or `401 {"code":"UNAUTHORIZED"}` (503 `QELOS_UNAVAILABLE` when Qelos is
    /// down).
    ///
    /// # Examples
    ///
    /// ```
    /// use poem::handler;
    /// use qelos_integrator_poem::RequireUser;
    ///
    /// #[handler]
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
    /// use poem::handler;
    /// use qelos_integrator_poem::QelosSdk;
    ///
    /// #[handler]
    /// async fn workspaces(sdk: QelosSdk) -> String {
    ///     match sdk.workspaces().list().await {
    ///         Ok(list) => list.len().to_string(),
    ///         Err(err) => err.to_string(),
    ///     }
    /// }
    /// ```
    QelosSdk;
}

impl<'a> FromRequest<'a> for Qelos {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        context(req).await.map(Qelos)
    }
}

impl<'a> FromRequest<'a> for RequireUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        let state = require_state(req.extensions().get::<RequestState>(), HINT).map_err(refused)?;
        state.signed_in().await.map(RequireUser).map_err(refused)
    }
}

impl<'a> FromRequest<'a> for QelosSdk {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        context(req).await.map(|c| QelosSdk(c.sdk().clone()))
    }
}
