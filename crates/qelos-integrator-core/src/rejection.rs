//! The responses the integrator answers by itself: 401, 503 and the missing-middleware 500.

use http::StatusCode;

/// Why a request was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RejectionKind {
    /// No signed-in user where one is required: `401 {"code":"UNAUTHORIZED"}`.
    Unauthorized,
    /// A user is required but Qelos could not be reached (connect error, timeout, 5xx, garbage):
    /// `503 {"code":"QELOS_UNAVAILABLE"}`. An outage is not a logout.
    Unavailable,
    /// A handler asked for the Qelos context but no middleware built one:
    /// `500 {"code":"QELOS_MIDDLEWARE_MISSING"}`.
    MiddlewareMissing,
}

/// A finished refusal: status, a fixed JSON body, and any cookies to write with it
/// (for example the expiry of a dead session's cookies).
///
/// `Debug` shows the cookie count, never the cookies.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::Rejection;
/// let r = Rejection::unauthorized();
/// assert_eq!(r.status().as_u16(), 401);
/// assert_eq!(r.body(), r#"{"code":"UNAUTHORIZED"}"#);
/// let resp: http::Response<String> = r.into_response();
/// assert_eq!(resp.headers()["content-type"], "application/json");
/// ```
#[derive(Clone)]
pub struct Rejection {
    kind: RejectionKind,
    hint: Option<&'static str>,
    set_cookies: Vec<String>,
}

impl std::fmt::Debug for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rejection")
            .field("kind", &self.kind)
            .field("set_cookies", &self.set_cookies.len())
            .finish()
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status().as_u16(), self.code())
    }
}

impl std::error::Error for Rejection {}

impl Rejection {
    /// `401 {"code":"UNAUTHORIZED"}`.
    pub fn unauthorized() -> Self {
        Self::new(RejectionKind::Unauthorized)
    }
    /// `503 {"code":"QELOS_UNAVAILABLE"}`.
    pub fn unavailable() -> Self {
        Self::new(RejectionKind::Unavailable)
    }
    /// `500 {"code":"QELOS_MIDDLEWARE_MISSING","message":…}`; `hint` names what to install,
    /// for example `"add QelosLayer to the router"`.
    pub fn middleware_missing(hint: &'static str) -> Self {
        Self {
            hint: Some(hint),
            ..Self::new(RejectionKind::MiddlewareMissing)
        }
    }

    fn new(kind: RejectionKind) -> Self {
        Self {
            kind,
            hint: None,
            set_cookies: Vec::new(),
        }
    }

    /// Attaches `Set-Cookie` values to send with the refusal.
    #[must_use]
    pub fn with_cookies(mut self, set_cookies: Vec<String>) -> Self {
        self.set_cookies = set_cookies;
        self
    }

    /// The kind of refusal.
    pub fn kind(&self) -> RejectionKind {
        self.kind
    }
    /// HTTP status.
    pub fn status(&self) -> StatusCode {
        match self.kind {
            RejectionKind::Unauthorized => StatusCode::UNAUTHORIZED,
            RejectionKind::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            RejectionKind::MiddlewareMissing => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
    /// The fixed code in the JSON body.
    pub fn code(&self) -> &'static str {
        match self.kind {
            RejectionKind::Unauthorized => "UNAUTHORIZED",
            RejectionKind::Unavailable => "QELOS_UNAVAILABLE",
            RejectionKind::MiddlewareMissing => "QELOS_MIDDLEWARE_MISSING",
        }
    }
    /// The JSON body (`application/json`).
    pub fn body(&self) -> String {
        match self.hint {
            Some(hint) => serde_json::json!({
                "code": self.code(),
                "message": format!("no Qelos context on this request: {hint}"),
            })
            .to_string(),
            None => format!(r#"{{"code":"{}"}}"#, self.code()),
        }
    }
    /// The `Set-Cookie` values to send.
    pub fn set_cookies(&self) -> &[String] {
        &self.set_cookies
    }

    /// Builds an `http` response (status, JSON content type, body, cookies). Adapters on
    /// `http` 1.x use this directly.
    pub fn into_response<B: From<String>>(self) -> http::Response<B> {
        json_response(self.status(), self.body(), &self.set_cookies)
    }
}

/// A JSON response with `status`, `body` and `Set-Cookie` values.
pub(crate) fn json_response<B: From<String>>(
    status: StatusCode,
    body: String,
    set_cookies: &[String],
) -> http::Response<B> {
    let mut response = http::Response::new(B::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    crate::headers::append_set_cookies(headers, set_cookies.to_vec());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_the_contract_codes() {
        assert_eq!(
            Rejection::unauthorized().body(),
            r#"{"code":"UNAUTHORIZED"}"#
        );
        assert_eq!(
            Rejection::unavailable().body(),
            r#"{"code":"QELOS_UNAVAILABLE"}"#
        );
        assert_eq!(
            Rejection::unavailable().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        let missing = Rejection::middleware_missing("add QelosLayer");
        let v: serde_json::Value = serde_json::from_str(&missing.body()).unwrap();
        assert_eq!(v["code"], "QELOS_MIDDLEWARE_MISSING");
        assert!(v["message"].as_str().unwrap().contains("add QelosLayer"));
    }

    #[test]
    fn response_carries_the_cookies_and_debug_hides_them() {
        let r = Rejection::unauthorized().with_cookies(vec!["a=secretvalue; Max-Age=0".into()]);
        assert!(!format!("{r:?}").contains("secretvalue"));
        let resp: http::Response<String> = r.into_response();
        assert_eq!(resp.headers().get_all("set-cookie").iter().count(), 1);
    }
}
