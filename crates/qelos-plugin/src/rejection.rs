//! Why a framework extractor gave no [`PluginRequest`](crate::PluginRequest), as one `http`
//! response every framework module sends.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use serde_json::json;

use crate::verify::VerifyError;

/// The `PluginRequest` extractor (guard, filter) could not run.
///
/// # Examples
///
/// ```
/// use qelos_plugin::PluginRejection;
/// let missing = PluginRejection::MissingPlugin.to_response();
/// assert_eq!(missing.status().as_u16(), 500);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PluginRejection {
    /// The framework has no [`Plugin`](crate::Plugin) to verify with (axum:
    /// `.layer(Extension(plugin))`; actix: `.app_data(plugin)`; Rocket: `.manage(plugin)`;
    /// poem: `.data(plugin)`).
    #[error("qelos_plugin::Plugin missing: give the framework the plugin (see PluginRejection)")]
    MissingPlugin,
    /// The request was refused.
    #[error(transparent)]
    Refused(#[from] VerifyError),
}

impl PluginRejection {
    /// The response: the refusal's status, headers and body, or `500` without a plugin.
    pub fn to_response(&self) -> Response<Bytes> {
        match self {
            Self::Refused(e) => crate::dispatch::refused(e),
            Self::MissingPlugin => {
                tracing::error!(target: "qelos_plugin::rejection", "{self}");
                let body = json!({"code": "QELOS_PLUGIN_MISSING", "message": self.to_string()});
                let mut r = Response::new(Bytes::from(body.to_string()));
                *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
                r.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                );
                r
            }
        }
    }

    /// The status of [`to_response`](Self::to_response).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Refused(e) => e.status(),
            Self::MissingPlugin => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Copies foreign (name, bytes) header pairs into an `http` 1 map, skipping invalid ones.
#[allow(dead_code)]
pub(crate) fn header_map<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a [u8])>,
) -> http::HeaderMap {
    let mut out = http::HeaderMap::new();
    for (name, value) in pairs {
        if let (Ok(n), Ok(v)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_bytes(value),
        ) {
            out.append(n, v);
        }
    }
    out
}
