//! The ready-made endpoints every adapter mounts: `POST /login`, `POST /logout`,
//! `GET /auth/{provider}`, `GET /auth/callback`.
//!
//! Each takes what the framework already parsed ([`EndpointRequest`]: content type, query,
//! cookies, and the `Host`, `Origin`, `Referer`, `Sec-Fetch-Site` headers; the body bytes for
//! login) and returns an [`AuthReply`]. Every decision is made here: the cross-site rule
//! ([`cross_site`](crate::cross_site)), the redirect rule ([`redirect`](crate::redirect)), the
//! social login's browser binding, and `Cache-Control: no-store` on every answer.

use http::StatusCode;
use qelos_sdk::Credentials;
use subtle::ConstantTimeEq as _;

use crate::auth::AuthError;
use crate::context::QelosContext;
use crate::cookies;
use crate::cross_site::{CrossSiteRefusal, SiteHeaders};
use crate::pipeline::Integrator;
use crate::redirect::SafeRedirect;

/// The cookie that binds a social login to the browser that started it: set by
/// `GET /auth/{provider}`, compared with the `state` Qelos hands back to `/auth/callback`.
pub const SOCIAL_STATE_COOKIE: &str = "q_auth_state";

/// How long a started social login may take (seconds): the state cookie's `Max-Age`.
const SOCIAL_STATE_MAX_AGE: u32 = 600;

/// What the endpoints read from the request. Adapters fill it from their framework's request
/// with [`from_lookup`](Self::from_lookup).
///
/// `Debug` never shows the cookies (they carry tokens).
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::adapter::EndpointRequest;
///
/// let headers = [("host", "app.test"), ("content-type", "application/json")];
/// let req = EndpointRequest::from_lookup(Some("next=/home"), |name| {
///     headers.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
/// });
/// assert_eq!(req.site.host, Some("app.test"));
/// assert_eq!(req.content_type, Some("application/json"));
/// ```
#[derive(Clone, Copy, Default)]
pub struct EndpointRequest<'a> {
    /// `Content-Type`.
    pub content_type: Option<&'a str>,
    /// The query string, without `?`.
    pub query: Option<&'a str>,
    /// `Cookie`.
    pub cookie: Option<&'a str>,
    /// `Host`, `Origin`, `Referer`, `Sec-Fetch-Site`.
    pub site: SiteHeaders<'a>,
}

impl std::fmt::Debug for EndpointRequest<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EndpointRequest")
            .field("content_type", &self.content_type)
            .field("query", &self.query.map(|_| "…"))
            .field("cookie", &self.cookie.map(|_| "…"))
            .field("site", &self.site)
            .finish()
    }
}

impl<'a> EndpointRequest<'a> {
    /// The query string and the headers read through `lookup` (the framework's "first value
    /// of this header as text"; names are given lowercase).
    pub fn from_lookup(query: Option<&'a str>, lookup: impl Fn(&str) -> Option<&'a str>) -> Self {
        Self {
            content_type: lookup("content-type"),
            query,
            cookie: lookup("cookie"),
            site: SiteHeaders::from_lookup(lookup),
        }
    }

    /// From an `http` request head (axum, poem, warp). Without a `Host` header (HTTP/2), the
    /// URI's authority stands in for it.
    pub fn from_parts(uri: &'a http::Uri, headers: &'a http::HeaderMap) -> Self {
        let mut req = Self::from_lookup(uri.query(), |name| {
            headers.get(name).and_then(|v| v.to_str().ok())
        });
        if req.site.host.is_none() {
            req.site.host = uri.authority().map(http::uri::Authority::as_str);
        }
        req
    }

    fn query_value(&self, key: &str) -> Option<String> {
        url::form_urlencoded::parse(self.query.unwrap_or_default().as_bytes())
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.into_owned())
    }
}

/// A framework-neutral HTTP answer from the ready-made auth endpoints: status, optional
/// redirect, cookies and JSON body. Adapters turn it into their response type
/// ([`into_response`](Self::into_response) adds `Cache-Control: no-store`).
#[derive(Clone)]
pub struct AuthReply {
    /// Status code.
    pub status: StatusCode,
    /// `Location` for redirects.
    pub location: Option<String>,
    /// `Set-Cookie` values, appended after any already on the response.
    pub set_cookies: Vec<String>,
    /// JSON body (empty for redirects).
    pub body: String,
}

impl std::fmt::Debug for AuthReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthReply")
            .field("status", &self.status)
            .field("location", &self.location)
            .field("set_cookies", &self.set_cookies.len())
            .finish_non_exhaustive()
    }
}

impl AuthReply {
    fn json(status: StatusCode, body: String, set_cookies: Vec<String>) -> Self {
        Self {
            status,
            location: None,
            set_cookies,
            body,
        }
    }

    fn redirect(location: String, set_cookies: Vec<String>) -> Self {
        Self {
            status: StatusCode::SEE_OTHER,
            location: Some(location),
            set_cookies,
            body: String::new(),
        }
    }

    fn error(err: &AuthError) -> Self {
        Self::json(err.status(), err.body(), Vec::new())
    }

    fn cross_site(refusal: &CrossSiteRefusal) -> Self {
        tracing::info!(reason = refusal.reason(), "cross-site request refused");
        Self::json(StatusCode::FORBIDDEN, refusal.body(), Vec::new())
    }

    /// An `http` response (adapters on `http` 1.x use this directly), with
    /// `Cache-Control: no-store`: these answers set or clear tokens, or redirect a sign-in.
    pub fn into_response<B: From<String>>(self) -> http::Response<B> {
        let mut response =
            crate::rejection::json_response(self.status, self.body, &self.set_cookies);
        if let Some(location) = self
            .location
            .and_then(|l| http::HeaderValue::try_from(l).ok())
        {
            response
                .headers_mut()
                .insert(http::header::LOCATION, location);
        }
        crate::headers::no_store(response.headers_mut());
        response
    }
}

fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    })
}

/// A fresh random state for one social login: 32 hex digits, or `None` if the system has no
/// randomness to give.
fn new_state() -> Option<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).ok()?;
    Some(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

impl Integrator {
    fn redirect_to(&self, next: Option<&str>, req: &EndpointRequest<'_>) -> SafeRedirect {
        SafeRedirect::resolve(next, req.site.host, self.config().redirect_origins())
    }

    fn check_site(&self, req: &EndpointRequest<'_>) -> Result<(), CrossSiteRefusal> {
        self.config().cross_site_policy().check(&req.site)
    }

    /// `POST /login`: a JSON (`{"username","password"}`) or form body. JSON callers get
    /// `200 {"user": …}` or the error's status and JSON; form posts (a plain HTML form) are
    /// redirected (`303`) to the form's `next` field when the redirect rule accepts it (else
    /// `/`), with `?error=CODE` on failure. Both set the integrator cookies on success. A
    /// request from another site's page is refused first: `403 {"code":"CROSS_SITE_REQUEST"}`.
    pub async fn login_endpoint(&self, req: &EndpointRequest<'_>, body: &[u8]) -> AuthReply {
        if let Err(refusal) = self.check_site(req) {
            return AuthReply::cross_site(&refusal);
        }
        let form = is_form(req.content_type);
        let fields: Result<(String, String, Option<String>), AuthError> = if form {
            let mut username = String::new();
            let mut password = String::new();
            let mut next = None;
            for (k, v) in url::form_urlencoded::parse(body) {
                match &*k {
                    "username" => username = v.into_owned(),
                    "password" => password = v.into_owned(),
                    "next" => next = Some(v.into_owned()),
                    _ => {}
                }
            }
            Ok((username, password, next))
        } else {
            serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|v| {
                    let field = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_owned);
                    Some((field("username")?, field("password")?, None))
                })
                .ok_or(AuthError::BadRequest(
                    "expected a JSON body {\"username\", \"password\"}",
                ))
        };
        let (result, next) = match fields {
            Ok((username, password, next)) => (
                self.sign_in(&Credentials::new(username, password)).await,
                next,
            ),
            Err(e) => (Err(e), None),
        };
        match (form, result) {
            (true, Ok(done)) => AuthReply::redirect(
                self.redirect_to(next.as_deref(), req).location(),
                done.set_cookies,
            ),
            (true, Err(e)) => AuthReply::redirect(
                self.redirect_to(next.as_deref(), req)
                    .with_query_pair("error", e.code())
                    .location(),
                Vec::new(),
            ),
            (false, Ok(done)) => AuthReply::json(
                StatusCode::OK,
                serde_json::json!({ "user": done.user }).to_string(),
                done.set_cookies,
            ),
            (false, Err(e)) => AuthReply::error(&e),
        }
    }

    /// `POST /logout`: signs the caller out (see [`sign_out`](Self::sign_out)). Form posts are
    /// redirected to `/`; other callers get `200 {"signedOut": true}`. A request from another
    /// site's page is refused (`403 {"code":"CROSS_SITE_REQUEST"}`) and signs nobody out.
    pub async fn logout_endpoint(
        &self,
        ctx: &QelosContext,
        req: &EndpointRequest<'_>,
    ) -> AuthReply {
        if let Err(refusal) = self.check_site(req) {
            return AuthReply::cross_site(&refusal);
        }
        let set_cookies = self.sign_out(ctx, req.site.host).await;
        if is_form(req.content_type) {
            AuthReply::redirect("/".into(), set_cookies)
        } else {
            AuthReply::json(StatusCode::OK, r#"{"signedOut":true}"#.into(), set_cookies)
        }
    }

    /// `GET /auth/{provider}?returnUrl=…`: `302` to Qelos's social login, or `400` for a bad
    /// provider name. It binds the sign-in to this browser: a random `state` goes to Qelos
    /// (which hands it back to the callback) and into the `q_auth_state` cookie.
    pub fn social_redirect_endpoint(&self, provider: &str, req: &EndpointRequest<'_>) -> AuthReply {
        let return_url = req.query_value("returnUrl");
        let Some(state) = new_state() else {
            return AuthReply::error(&AuthError::Unavailable);
        };
        match self.social_login_url_with_state(provider, &state, return_url.as_deref()) {
            Ok(url) => {
                let cookie = state_cookie(&state, self.config().secure_cookies());
                AuthReply {
                    status: StatusCode::FOUND,
                    ..AuthReply::redirect(url, vec![cookie])
                }
            }
            Err(e) => AuthReply::error(&e),
        }
    }

    /// `GET /auth/callback?rt=…&state=…&next=/…`: checks that `state` is the one this browser's
    /// `q_auth_state` cookie holds (else `403 {"code":"CROSS_SITE_REQUEST"}`: the sign-in was
    /// not started here, so another site may be signing this browser in to its own account),
    /// exchanges `rt` for Qelos's session cookie (with `Domain` rewritten to the request's
    /// host) and redirects to `next` when the redirect rule accepts it (else `/`); the error's
    /// status and JSON when Qelos refuses. The state cookie is cleared either way.
    pub async fn callback_endpoint(&self, req: &EndpointRequest<'_>) -> AuthReply {
        let secure = self.config().secure_cookies();
        let clear_state = cookies::expired_cookie(SOCIAL_STATE_COOKIE, secure);
        let expected = req
            .cookie
            .and_then(|c| cookies::find([c], SOCIAL_STATE_COOKIE));
        let given = req.query_value("state");
        let bound = match (expected, given) {
            (Some(e), Some(g)) => bool::from(e.as_bytes().ct_eq(g.as_bytes())),
            _ => false,
        };
        if !bound {
            let mut reply = AuthReply::cross_site(&CrossSiteRefusal::unbound_social_login());
            reply.set_cookies.push(clear_state);
            return reply;
        }
        let rt = req.query_value("rt").unwrap_or_default();
        match self.complete_social_callback(&rt, req.site.host).await {
            Ok(done) => {
                let mut set_cookies = done.set_cookies;
                set_cookies.push(clear_state);
                AuthReply::redirect(
                    self.redirect_to(req.query_value("next").as_deref(), req)
                        .location(),
                    set_cookies,
                )
            }
            Err(e) => {
                let mut reply = AuthReply::error(&e);
                reply.set_cookies.push(clear_state);
                reply
            }
        }
    }
}

/// `q_auth_state=<state>; Path=/; Max-Age=600; HttpOnly; SameSite=Lax` (`Secure` as the
/// token cookies). `Lax` still reaches the callback: Qelos sends the browser back with a
/// top-level `GET`.
fn state_cookie(state: &str, secure: bool) -> String {
    let mut out = format!(
        "{SOCIAL_STATE_COOKIE}={state}; Path=/; Max-Age={SOCIAL_STATE_MAX_AGE}; HttpOnly; SameSite=Lax"
    );
    if secure {
        out.push_str("; Secure");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QelosConfig;

    fn integrator() -> Integrator {
        Integrator::new(
            QelosConfig::builder("http://127.0.0.1:9")
                .build()
                .expect("config"),
        )
    }

    fn req<'a>(
        content_type: &'a str,
        fetch: Option<&'a str>,
        origin: Option<&'a str>,
    ) -> EndpointRequest<'a> {
        EndpointRequest {
            content_type: Some(content_type),
            query: None,
            cookie: None,
            site: SiteHeaders {
                host: Some("app.test"),
                origin,
                referer: None,
                sec_fetch_site: fetch,
            },
        }
    }

    const FORM: &str = "application/x-www-form-urlencoded";

    #[tokio::test]
    async fn login_endpoint_refuses_a_body_without_fields_as_bad_request() {
        let reply = integrator()
            .login_endpoint(&req("application/json", None, None), b"{\"username\":1}")
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.set_cookies.is_empty());
        let form = integrator()
            .login_endpoint(&req(FORM, None, None), b"username=&next=%2Fhome")
            .await;
        assert_eq!(form.status, StatusCode::SEE_OTHER);
        assert_eq!(form.location.as_deref(), Some("/home?error=BAD_REQUEST"));
    }

    #[tokio::test]
    async fn failed_form_login_never_redirects_off_site_even_with_an_encoded_tab() {
        for next in [
            "%2F%09%2Fevil.test%2Fx",
            "%2F%5Cevil.test",
            "https%3A%2F%2Fevil.test",
        ] {
            let body = format!("username=&password=&next={next}");
            let form = integrator()
                .login_endpoint(&req(FORM, Some("same-origin"), None), body.as_bytes())
                .await;
            assert_eq!(
                form.location.as_deref(),
                Some("/?error=BAD_REQUEST"),
                "{next}"
            );
        }
    }

    #[tokio::test]
    async fn cross_site_login_and_logout_are_refused_before_any_upstream_call() {
        let i = integrator();
        let evil = req(FORM, Some("cross-site"), Some("http://evil.test"));
        let reply = i.login_endpoint(&evil, b"username=a&password=b").await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.body.contains("CROSS_SITE_REQUEST"));
        assert!(reply.set_cookies.is_empty());
        let response: http::Response<String> = reply.into_response();
        assert_eq!(response.headers()["cache-control"], "no-store");

        let ctx = match i.resolve(&crate::RequestHead::new("/logout")).await {
            Ok(ctx) => ctx,
            _ => panic!("an anonymous context was expected"),
        };
        let reply = i.logout_endpoint(&ctx, &evil).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.set_cookies.is_empty(), "nobody is signed out");
    }

    #[tokio::test]
    async fn social_start_sets_a_state_cookie_and_the_callback_refuses_another_state() {
        let i = integrator();
        let start = i.social_redirect_endpoint("github", &EndpointRequest::default());
        assert_eq!(start.status, StatusCode::FOUND);
        let cookie = start.set_cookies.first().expect("state cookie");
        assert!(cookie.starts_with("q_auth_state="), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"));
        let state = cookie
            .trim_start_matches("q_auth_state=")
            .split(';')
            .next()
            .unwrap_or_default()
            .to_owned();
        assert_eq!(state.len(), 32);
        assert!(
            start
                .location
                .as_deref()
                .is_some_and(|l| l.contains(&format!("state={state}")))
        );

        let jar = format!("q_auth_state={state}");
        let forged = EndpointRequest {
            query: Some("rt=attacker&state=someone-elses"),
            cookie: Some(&jar),
            ..EndpointRequest::default()
        };
        let reply = i.callback_endpoint(&forged).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN);
        assert!(reply.body.contains("CROSS_SITE_REQUEST"));
        assert!(
            reply
                .set_cookies
                .iter()
                .any(|c| c.starts_with("q_auth_state=;") && c.contains("Max-Age=0"))
        );
        let no_cookie = EndpointRequest {
            query: Some("rt=attacker&state=x"),
            ..EndpointRequest::default()
        };
        assert_eq!(
            i.callback_endpoint(&no_cookie).await.status,
            StatusCode::FORBIDDEN
        );
    }

    #[test]
    fn an_http2_request_without_host_uses_the_uri_authority() {
        let uri: http::Uri = "https://app.test:8443/login?next=/x".parse().expect("uri");
        let headers = http::HeaderMap::new();
        let req = EndpointRequest::from_parts(&uri, &headers);
        assert_eq!(req.site.host, Some("app.test:8443"));
        assert_eq!(req.query, Some("next=/x"));
    }

    #[test]
    fn endpoint_request_debug_hides_cookies_and_query() {
        let r = EndpointRequest {
            cookie: Some("q_access_token=secret-token"),
            query: Some("rt=secret-rt"),
            ..EndpointRequest::default()
        };
        let shown = format!("{r:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }
}
