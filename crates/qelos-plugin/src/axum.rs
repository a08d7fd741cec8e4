//! axum glue: the handshake [`Router`](axum::Router) and the [`PluginRequest`] extractor.

use axum::Json;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::json;

use crate::plugin::{HandshakeError, Plugin};
use crate::verify::{PluginRequest, VerifyError};

impl IntoResponse for VerifyError {
    fn into_response(self) -> Response {
        tracing::debug!(target: "qelos_plugin::rejection", reason = %self, "plugin request refused");
        let mut response = (self.status(), Json(self.body())).into_response();
        for (name, value) in self.headers() {
            response.headers_mut().insert(name, value);
        }
        response
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

/// The [`PluginRequest`] extractor could not run.
///
/// # Examples
///
/// ```
/// use axum::response::IntoResponse;
/// use qelos_plugin::PluginRejection;
/// let missing = PluginRejection::MissingPlugin.into_response();
/// assert_eq!(missing.status().as_u16(), 500);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginRejection {
    /// No [`Plugin`] in the request extensions: add `.layer(axum::Extension(plugin))`.
    #[error("qelos_plugin::Plugin missing: add .layer(axum::Extension(plugin)) to the router")]
    MissingPlugin,
    /// The request was refused.
    #[error(transparent)]
    Refused(#[from] VerifyError),
}

impl IntoResponse for PluginRejection {
    fn into_response(self) -> Response {
        match self {
            Self::Refused(e) => e.into_response(),
            Self::MissingPlugin => {
                tracing::error!(target: "qelos_plugin::rejection", "{self}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"code": "QELOS_PLUGIN_MISSING", "message": self.to_string()})),
                )
                    .into_response()
            }
        }
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

#[derive(Deserialize)]
struct CallbackQuery {
    #[serde(rename = "returnUrl", default)]
    return_url: String,
}

async fn manifest(State(plugin): State<Plugin>) -> Response {
    let mut response = Json(plugin.manifest().clone()).into_response();
    response.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    response
}

async fn register(
    State(plugin): State<Plugin>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match plugin.register(&headers, &body).await {
        Ok(pair) => Json(pair).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn refresh(State(plugin): State<Plugin>, headers: HeaderMap) -> Response {
    match plugin.refresh(&headers).await {
        Ok(pair) => Json(pair).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn callback(
    State(plugin): State<Plugin>,
    headers: HeaderMap,
    Query(q): Query<CallbackQuery>,
) -> Response {
    match plugin.callback(&headers, &q.return_url).await {
        Ok(v) => Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

impl Plugin {
    /// The handshake routes: `GET /api/play-manifest`, `POST /api/register`,
    /// `POST /api/token/refresh` (option B only) and `GET /api/callback`. Merge it into the
    /// app; see [`PluginRequest`] for the proxied routes.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_plugin::Plugin;
    /// # fn run() -> Result<(), qelos_plugin::ConfigError> {
    /// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
    ///     .static_token("a static token of 32 bytes......")
    ///     .build()?;
    /// // Manifest and callback only: a static-token plugin has nothing to register or refresh.
    /// let app: axum::Router = plugin.router();
    /// # let _ = app; Ok(()) }
    /// ```
    pub fn router<S: Clone + Send + Sync + 'static>(&self) -> axum::Router<S> {
        let mut router = axum::Router::new()
            .route(crate::MANIFEST_PATH, get(manifest))
            .route(crate::CALLBACK_PATH, get(callback));
        if !self.uses_static_token() {
            router = router
                .route(crate::REGISTER_PATH, post(register))
                .route(crate::REFRESH_PATH, post(refresh));
        }
        router.with_state(self.clone())
    }
}
