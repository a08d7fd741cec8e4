//! Framework-agnostic verification of a proxied request: the plugin token, then the user.

use http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use qelos_sdk::User;
use serde_json::{Value, json};

use crate::store::StoreError;
use crate::user::parse_user;

/// A request Qelos proxied to the plugin, after its plugin token was verified.
///
/// The `user` is only believed because the token proved the caller is Qelos.
///
/// # Examples
///
/// ```
/// use qelos_plugin::PluginRequest;
/// async fn handler(req: PluginRequest) -> String {
///     match req.user() {
///         Some(user) => format!("{} in tenant {:?}", user.username, req.tenant),
///         None => "anonymous".to_owned(),
///     }
/// }
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct PluginRequest {
    /// The signed-in Qelos user (`/api/me` shape); `None` for an anonymous caller.
    pub user: Option<User>,
    /// The tenant: the `tenant` header with a static token; with a minted token, the tenant
    /// the token was registered for (a different `tenant` header is refused).
    pub tenant: Option<String>,
    /// The `tenanthost` header: the host the client called Qelos on.
    pub tenant_host: Option<String>,
    /// For minted tokens, the registration the token was issued to.
    pub registration: Option<String>,
    /// For a micro-frontend call (cookie session), the authorization code of its cookie.
    pub frontend_code: Option<String>,
}

impl PluginRequest {
    /// The user, or `None` for an anonymous caller.
    pub fn user(&self) -> Option<&User> {
        self.user.as_ref()
    }
}

/// Why a proxied request was refused; turn it into a response with [`status`](Self::status),
/// [`headers`](Self::headers) and [`body`](Self::body).
///
/// Bodies carry fixed messages only; the token and the header values are never part of it.
///
/// # Examples
///
/// ```
/// use qelos_plugin::VerifyError;
/// let e = VerifyError::InvalidToken;
/// assert_eq!(e.status().as_u16(), 407);
/// assert_eq!(e.headers()[0].0.as_str(), "x-q-auth");
/// assert_eq!(e.body()["statusCode"], 407);
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// No `Authorization: Bearer` token.
    #[error("authorization token was not provided")]
    MissingToken,
    /// The token is not the plugin's (wrong static token, bad signature, expired, revoked).
    #[error("authorization token was not valid")]
    InvalidToken,
    /// The token is valid but the `user` header is not a user.
    #[error("invalid user header")]
    InvalidUser,
    /// A minted token of one tenant came with another tenant's `tenant` header.
    #[error("the tenant header does not match the plugin token")]
    TenantMismatch,
    /// A micro-frontend call without the `code` header.
    #[error("authorization code was not provided")]
    MissingCode,
    /// A micro-frontend call without a valid `token_<code>` cookie.
    #[error("user is not authorized")]
    NotAuthorized,
    /// The registration store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The header Qelos watches to drop its cached plugin token.
pub const X_Q_AUTH: &str = "x-q-auth";

impl VerifyError {
    /// `407` for token problems (Qelos then drops its cached token), `400` for a bad user
    /// header, `500` for a store failure.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::MissingToken | Self::InvalidToken => StatusCode::PROXY_AUTHENTICATION_REQUIRED,
            Self::InvalidUser => StatusCode::BAD_REQUEST,
            Self::TenantMismatch => StatusCode::FORBIDDEN,
            Self::MissingCode | Self::NotAuthorized => StatusCode::UNAUTHORIZED,
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// Response headers: `x-q-auth: unauthorized` on a `407`.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut h = Vec::new();
        if self.status() == StatusCode::PROXY_AUTHENTICATION_REQUIRED {
            h.push((
                HeaderName::from_static(X_Q_AUTH),
                HeaderValue::from_static("unauthorized"),
            ));
        }
        h.push((
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        ));
        h
    }

    /// The JSON body (plugin-play's shape for `407`, `{"code","message"}` otherwise).
    pub fn body(&self) -> Value {
        match self {
            Self::MissingToken | Self::InvalidToken => json!({
                "statusCode": 407,
                "error": "Proxy Authentication Required",
                "message": "authorization token was not valid",
            }),
            Self::InvalidUser => json!({
                "code": "INVALID_USER",
                "message": "the user header is neither JSON nor base64 JSON of a Qelos user",
            }),
            Self::TenantMismatch => json!({
                "code": "TENANT_MISMATCH",
                "message": "the tenant header does not match the plugin token",
            }),
            Self::MissingCode | Self::NotAuthorized => json!({
                "message": self.to_string(),
            }),
            Self::Store(_) => json!({
                "code": "PLUGIN_STORE_FAILED",
                "message": "the plugin could not read its registrations",
            }),
        }
    }
}

/// The Bearer token of `Authorization`, if any (scheme compared case-insensitively).
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

pub(crate) fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

/// Reads the user and tenant headers once the token has been accepted.
pub(crate) fn request_after_token(
    headers: &HeaderMap,
    registration: Option<(String, String)>,
) -> Result<PluginRequest, VerifyError> {
    let user = match headers.get("user") {
        None => None,
        Some(v) => {
            let text = std::str::from_utf8(v.as_bytes()).map_err(|_| VerifyError::InvalidUser)?;
            parse_user(text).map_err(|_| VerifyError::InvalidUser)?
        }
    };
    let (registration, registered_tenant) = registration.unzip();
    let header_tenant = header_str(headers, "tenant");
    let tenant = match registered_tenant {
        Some(bound) => {
            if header_tenant.as_ref().is_some_and(|h| *h != bound) {
                return Err(VerifyError::TenantMismatch);
            }
            Some(bound)
        }
        None => header_tenant,
    };
    Ok(PluginRequest {
        user,
        tenant,
        tenant_host: header_str(headers, "tenanthost"),
        registration,
        frontend_code: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_needs_the_scheme_and_a_value() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer "));
        assert_eq!(bearer(&h), None);
    }

    #[test]
    fn refusal_bodies_never_echo_input() {
        for e in [
            VerifyError::MissingToken,
            VerifyError::InvalidToken,
            VerifyError::InvalidUser,
        ] {
            assert!(!e.body().to_string().contains("abc"));
        }
    }
}
