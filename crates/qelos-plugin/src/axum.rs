//! axum glue: the handshake [`Router`](axum::Router) and the [`PluginRequest`] extractor.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use serde_json::json;

use crate::handshake::HandshakeError;
use crate::plugin::Plugin;
use crate::rejection::PluginRejection;
use crate::verify::{PluginRequest, VerifyError};

impl IntoResponse for VerifyError {
    fn into_response(self) -> Response {
        crate::dispatch::refused(&self).map(axum::body::Body::from)
    }
}

impl IntoResponse for HandshakeError {
    fn into_response(self) -> Response {
        if let Self::Verify(e) = self {
            return e.into_response();
        }
        tracing::debug!(target: "qelos_plugin::rejection", reason = %self, "handshake refused");
        (self.status(), Json(self.body())).into_response()
    }
}

impl IntoResponse for PluginRejection {
    fn into_response(self) -> Response {
        self.to_response().map(axum::body::Body::from)
    }
}

/// Verifies the plugin token, then reads the user: handlers taking a `PluginRequest` only run
/// for requests that came through Qelos. Needs `.layer(axum::Extension(plugin))`.
///
/// # Examples
///
/// ```
/// use axum::{Extension, Router, routing::get};
/// use qelos_plugin::{Plugin, PluginRequest};
///
/// async fn me(req: PluginRequest) -> String {
///     req.user().map_or_else(|| "anonymous".to_owned(), |u| u.username.clone())
/// }
///
/// # fn run() -> Result<(), qelos_plugin::ConfigError> {
/// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
///     .build()?;
/// let app: Router = Router::new()
///     .route("/api/play/me", get(me))
///     .layer(Extension(plugin.clone()))
///     .merge(plugin.router());
/// # Ok(()) }
/// ```
impl<S: Send + Sync> FromRequestParts<S> for PluginRequest {
    type Rejection = PluginRejection;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        if let Some(done) = parts.extensions.get::<PluginRequest>() {
            return Ok(done.clone());
        }
        let plugin = parts
            .extensions
            .get::<Plugin>()
            .cloned()
            .ok_or(PluginRejection::MissingPlugin)?;
        let req = plugin.verify(&parts.headers).await?;
        parts.extensions.insert(req.clone());
        Ok(req)
    }
}

async fn dispatch(State(plugin): State<Plugin>, request: axum::extract::Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, crate::MAX_BODY).await else {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            Json(json!({"message": "request body too large"})),
        )
            .into_response();
    };
    match plugin.handle(http::Request::from_parts(parts, body)).await {
        Some(response) => response.map(axum::body::Body::from),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

impl Plugin {
    /// The plugin's own routes at the URLs its manifest names ([`Plugin::routes`]): manifest,
    /// register and refresh (option B), callback, authorize, un-authorize, event hooks and
    /// cruds, all answered by [`Plugin::handle`]. Merge it into the app; see
    /// [`PluginRequest`] for the proxied routes.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_plugin::Plugin;
    /// # fn run() -> Result<(), qelos_plugin::ConfigError> {
    /// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
    ///     .static_token("a static token of 32 bytes......")
    ///     .build()?;
    /// // A static-token plugin has nothing to register or refresh.
    /// let app: axum::Router = plugin.router();
    /// # let _ = app; Ok(()) }
    /// ```
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        let mut router = axum::Router::new();
        for route in self.routes() {
            router = router.route(&route.path, any(dispatch));
            if route.prefix {
                router = router.route(&format!("{}/{{id}}", route.path), any(dispatch));
            }
        }
        router.with_state(self.clone())
    }
}
