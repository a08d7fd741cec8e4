//! Extractors: [`Qelos`], `Option<Qelos>`, [`RequireUser`] and [`QelosSdk`].

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use qelos_integrator_core::RequestState;
use qelos_integrator_core::adapter::FromState;

const HINT: &str =
    "add `.wrap(QelosMiddleware::new(config))` to the App or scope serving this route";

qelos_integrator_core::rejection_type! {
    /// A Qelos refusal as an actix error: the contract's status, JSON body and cookies.
    QelosRejection
}

impl ResponseError for QelosRejection {
    fn status_code(&self) -> actix_web::http::StatusCode {
        self.error_response().status()
    }
    fn error_response(&self) -> HttpResponse {
        let (head, body) = self.0.clone().into_response::<String>().into_parts();
        crate::bff::builder(&head).body(body)
    }
}

/// The future of the Qelos extractors.
pub type ExtractFuture<T> = LocalBoxFuture<'static, Result<T, QelosRejection>>;

/// `FromRequest` for extractor types: made from the state the middleware left in the request.
macro_rules! from_request {
    ($($name:ident),*) => {$(
        impl FromRequest for $name {
            type Error = QelosRejection;
            type Future = ExtractFuture<Self>;

            fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
                let state = req.extensions().get::<RequestState>().cloned();
                Box::pin(async move { Ok($name::from_state(state, HINT).await?) })
            }
        }
    )*};
}

from_request!(Qelos, RequireUser, QelosSdk);

qelos_integrator_core::extractor_types! {
    /// The request's Qelos context: user, workspace, workspaces, SDK and tokens.
    ///
    /// Under [`QelosMiddleware`](crate::QelosMiddleware) it is always there (the user may be
    /// `None`); without it, `500 {"code":"QELOS_MIDDLEWARE_MISSING"}`. `Option<Qelos>` is `None` on
    /// skipped paths (actix turns any extractor error into `None`, so a missing middleware is also
    /// `None` there: use `Qelos` where that matters).
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_actix::Qelos;
    ///
    /// async fn me(q: Qelos) -> String {
    ///     format!("{:?} in {:?}", q.user().map(|u| &u.username), q.workspace().map(|w| &w.name))
    /// }
    /// ```
    Qelos;
    /// A signed-in user, or `401 {"code":"UNAUTHORIZED"}` (503 `QELOS_UNAVAILABLE` when Qelos is down).
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_actix::RequireUser;
    ///
    /// async fn secret(user: RequireUser) -> String {
    ///     user.user().id.clone()
    /// }
    /// ```
    RequireUser;
    /// The request's SDK alone, bound to the caller's tokens.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_actix::QelosSdk;
    ///
    /// async fn workspaces(sdk: QelosSdk) -> String {
    ///     match sdk.workspaces().list().await {
    ///         Ok(list) => list.len().to_string(),
    ///         Err(err) => err.to_string(),
    ///     }
    /// }
    /// ```
    QelosSdk;
}
