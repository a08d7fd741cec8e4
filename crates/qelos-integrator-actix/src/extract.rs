//! Extractors: [`Qelos`], `Option<Qelos>`, [`RequireUser`] and [`QelosSdk`].

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest, HttpResponse, ResponseError};
use futures_util::future::LocalBoxFuture;
use qelos_integrator_core::adapter::require_state;
use qelos_integrator_core::{Rejection, RequestState};

use crate::middleware::rejection_response;

const HINT: &str =
    "add `.wrap(QelosMiddleware::new(config))` to the App or scope serving this route";

/// A Qelos refusal as an actix error: the contract's status, JSON body and cookies.
#[derive(Debug)]
pub struct QelosRejection(pub Rejection);

impl std::fmt::Display for QelosRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl ResponseError for QelosRejection {
    fn status_code(&self) -> actix_web::http::StatusCode {
        actix_web::http::StatusCode::from_u16(self.0.status().as_u16())
            .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR)
    }
    fn error_response(&self) -> HttpResponse {
        rejection_response(self.0.clone())
    }
}

impl From<Rejection> for QelosRejection {
    fn from(rejection: Rejection) -> Self {
        Self(rejection)
    }
}

/// The future of the Qelos extractors.
pub type ExtractFuture<T> = LocalBoxFuture<'static, Result<T, QelosRejection>>;

/// The state the middleware left in the request.
fn state(req: &HttpRequest) -> Result<RequestState, QelosRejection> {
    let extensions = req.extensions();
    Ok(require_state(extensions.get::<RequestState>(), HINT)?.clone())
}

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

impl FromRequest for Qelos {
    type Error = QelosRejection;
    type Future = ExtractFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        Box::pin(async move { Ok(Qelos(state?.context().await?)) })
    }
}

impl FromRequest for RequireUser {
    type Error = QelosRejection;
    type Future = ExtractFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        Box::pin(async move { Ok(RequireUser(state?.signed_in().await?)) })
    }
}

impl FromRequest for QelosSdk {
    type Error = QelosRejection;
    type Future = ExtractFuture<Self>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state(req);
        Box::pin(async move { Ok(QelosSdk(state?.context().await?.sdk().clone())) })
    }
}
