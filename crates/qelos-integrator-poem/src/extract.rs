//! Extractors: [`Qelos`], `Option<Qelos>`, [`RequireUser`] and [`QelosSdk`].

use poem::{FromRequest, Request, RequestBody};
use qelos_integrator_core::RequestState;
use qelos_integrator_core::adapter::FromState;

use crate::middleware::rejection_response;

const HINT: &str = "add `.with(QelosMiddleware::new(config))` around this route";

qelos_integrator_core::rejection_type! {
    /// The refusal of a Qelos extractor: a `poem::Error` answered with the contract's status, JSON
    /// body and cookies. An outer `catch_error` can match it
    /// (`err.downcast_ref::<QelosRejection>()`).
    QelosRejection
}

impl poem::error::ResponseError for QelosRejection {
    fn status(&self) -> poem::http::StatusCode {
        self.0.status()
    }

    fn as_response(&self) -> poem::Response {
        rejection_response(self.0.clone())
    }
}

/// `T` made from the state the middleware left in the request.
async fn extract<T: FromState>(req: &Request) -> poem::Result<T> {
    let state = req.extensions().get::<RequestState>().cloned();
    T::from_state(state, HINT)
        .await
        .map_err(|r| QelosRejection(r).into())
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
        extract(req).await
    }
}

impl<'a> FromRequest<'a> for RequireUser {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        extract(req).await
    }
}

impl<'a> FromRequest<'a> for QelosSdk {
    async fn from_request(req: &'a Request, _body: &mut RequestBody) -> poem::Result<Self> {
        extract(req).await
    }
}
