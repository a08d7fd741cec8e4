//! Extractors: [`Qelos`], `Option<Qelos>`, [`RequireUser`] and [`QelosSdk`].

use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::response::{IntoResponse, Response};
use http::request::Parts;
use qelos_integrator_core::RequestState;
use qelos_integrator_core::adapter::{FromState, optional_context, optional_user};

const HINT: &str = "add `.layer(QelosLayer::new(config))` to the router that serves this route";

qelos_integrator_core::extractor_types! {
    /// The request's Qelos context: user, workspace, workspaces, SDK and tokens.
    ///
    /// As `Qelos`, it is always there when [`QelosLayer`](crate::QelosLayer) ran (the user may be
    /// `None`); without the layer it answers `500 {"code":"QELOS_MIDDLEWARE_MISSING"}`. As
    /// `Option<Qelos>` it is `None` exactly where the layer did not run (a skip path, a route outside
    /// the layer); for anonymous callers it is `Some` with no user (use `Option<RequireUser>` for
    /// "signed in or not").
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_axum::Qelos;
    ///
    /// async fn me(qelos: Qelos) -> String {
    ///     match qelos.user() {
    ///         Some(user) => format!("{} in {:?}", user.username, qelos.workspace().map(|w| &w.name)),
    ///         None => "anonymous".into(),
    ///     }
    /// }
    ///
    /// async fn greet(qelos: Option<Qelos>) -> &'static str {
    ///     match qelos {
    ///         Some(q) if q.user().is_some() => "welcome back",
    ///         Some(_) => "hello, stranger",
    ///         None => "this path is skipped",
    ///     }
    /// }
    /// ```
    Qelos;
    /// A signed-in user, or the refusal: `401 {"code":"UNAUTHORIZED"}`, or
    /// `503 {"code":"QELOS_UNAVAILABLE"}` when Qelos could not be reached.
    ///
    /// Use it as a handler argument, or guard a group of routes with
    /// `route_layer(axum::middleware::from_extractor::<RequireUser>())`. On a skip path it answers
    /// 401 too. `Option<RequireUser>` is the signed-in-only extractor: `Some` only for a signed-in
    /// caller.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_axum::RequireUser;
    ///
    /// async fn secret(user: RequireUser) -> String {
    ///     format!("hello {}", user.user().username)
    /// }
    /// ```
    RequireUser;
    /// The request's SDK alone, bound to the caller's tokens.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_axum::QelosSdk;
    ///
    /// async fn count(sdk: QelosSdk) -> String {
    ///     match sdk.entities::<serde_json::Value>("products").count(&Default::default()).await {
    ///         Ok(n) => n.to_string(),
    ///         Err(err) => err.to_string(),
    ///     }
    /// }
    /// ```
    QelosSdk;
}

impl<S: Send + Sync> FromRequestParts<S> for Qelos {
    type Rejection = QelosRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_state(parts.extensions.get().cloned(), HINT).await?)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for Qelos {
    type Rejection = QelosRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let state = parts.extensions.get::<RequestState>();
        Ok(optional_context(state).await?.map(Qelos))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequireUser {
    type Rejection = QelosRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_state(parts.extensions.get().cloned(), HINT).await?)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for RequireUser {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        _state: &S,
    ) -> Result<Option<Self>, Self::Rejection> {
        let state = parts.extensions.get::<RequestState>();
        Ok(optional_user(state).await.map(RequireUser))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for QelosSdk {
    type Rejection = QelosRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Self::from_state(parts.extensions.get().cloned(), HINT).await?)
    }
}

qelos_integrator_core::rejection_type! {
    /// The refusal of a Qelos extractor, answered as the contract's JSON.
    QelosRejection
}

impl IntoResponse for QelosRejection {
    fn into_response(self) -> Response {
        self.0.into_response()
    }
}
