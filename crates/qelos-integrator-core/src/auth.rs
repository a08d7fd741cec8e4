//! Sign-in, sign-out and social-login helpers for apps that front Qelos on their own origin.
//!
//! Every helper returns what the adapter must put on the response (`Set-Cookie` values, a
//! redirect target, a JSON body); none of them touch a framework type. Adapters expose them as
//! handlers or methods; see each adapter's guide.

use http::StatusCode;
use qelos_sdk::{Auth, Credentials, Secret, TokenPair, User};
use tracing::Instrument as _;

use crate::context::QelosContext;
use crate::cookies;
use crate::pipeline::Integrator;

/// Why an auth helper could not finish.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Qelos refused the credentials or the callback token.
    #[error("Qelos refused the credentials")]
    InvalidCredentials,
    /// The request was missing something the helper needs (a field, a provider name).
    #[error("invalid request: {0}")]
    BadRequest(&'static str),
    /// Qelos could not be reached, timed out, or answered garbage or a 5xx.
    #[error("Qelos is unavailable")]
    Unavailable,
}

impl AuthError {
    fn from_sdk(err: &qelos_sdk::Error) -> Self {
        if err.is_unavailable() {
            tracing::warn!(error = %err, "Qelos unavailable during an auth helper call");
            Self::Unavailable
        } else {
            Self::InvalidCredentials
        }
    }

    /// The HTTP status to answer with: 401, 400 or 503.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::InvalidCredentials => StatusCode::UNAUTHORIZED,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The machine-readable code in the JSON body.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "INVALID_CREDENTIALS",
            Self::BadRequest(_) => "BAD_REQUEST",
            Self::Unavailable => "QELOS_UNAVAILABLE",
        }
    }

    /// The JSON body: `{"code": …, "message": …}`.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::auth::AuthError;
    /// assert_eq!(
    ///     AuthError::InvalidCredentials.body(),
    ///     r#"{"code":"INVALID_CREDENTIALS","message":"Qelos refused the credentials"}"#
    /// );
    /// ```
    pub fn body(&self) -> String {
        serde_json::json!({ "code": self.code(), "message": self.to_string() }).to_string()
    }

    /// A ready `http::Response` with the status and JSON body.
    pub fn into_response<B: From<String>>(self) -> http::Response<B> {
        crate::rejection::json_response(self.status(), self.body(), &[])
    }
}

/// The result of [`Integrator::sign_in`]: the user and the cookies that start the session.
#[derive(Clone)]
pub struct SignedInUser {
    /// The signed-in user.
    pub user: User,
    /// The integrator token cookies to set (contract attributes: `Path=/; HttpOnly;
    /// SameSite=Lax`, `Secure` unless Qelos is plain `http://`).
    pub set_cookies: Vec<String>,
}

impl std::fmt::Debug for SignedInUser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignedInUser")
            .field("user", &self.user.username)
            .field("set_cookies", &self.set_cookies.len())
            .finish()
    }
}

/// The cookies a social-login callback forwards.
#[derive(Clone)]
pub struct SocialCallback {
    /// The user Qelos signed in (without credential fields).
    pub user: serde_json::Value,
    /// The Qelos session cookies, `Domain` rewritten to the inbound host.
    pub set_cookies: Vec<String>,
}

impl std::fmt::Debug for SocialCallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SocialCallback")
            .field("set_cookies", &self.set_cookies.len())
            .finish_non_exhaustive()
    }
}

impl Integrator {
    /// Signs a user in with the OAuth flow and returns the user and the integrator cookies
    /// (access and refresh) to set.
    ///
    /// # Errors
    ///
    /// [`AuthError::InvalidCredentials`] when Qelos refuses them, [`AuthError::BadRequest`] for
    /// an empty username or password, [`AuthError::Unavailable`] on an outage.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use qelos_integrator_core::{Integrator, QelosConfig, qelos_sdk::Credentials};
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let integrator = Integrator::new(QelosConfig::builder("http://localhost:3000").build()?);
    /// let signed_in = integrator.sign_in(&Credentials::new("ada@example.com", "secret")).await?;
    /// println!("hello {}; {} cookies to set", signed_in.user.username, signed_in.set_cookies.len());
    /// # Ok(()) }
    /// ```
    pub async fn sign_in(&self, credentials: &Credentials) -> Result<SignedInUser, AuthError> {
        if credentials.username.trim().is_empty() || credentials.password.expose().is_empty() {
            return Err(AuthError::BadRequest("username and password are required"));
        }
        let sdk = self.config().base_sdk();
        let span = tracing::debug_span!("qelos.sign_in");
        let signed = sdk
            .oauth_signin(credentials)
            .instrument(span)
            .await
            .map_err(|e| AuthError::from_sdk(&e))?;
        // The sign-in answer's user has no `_id`: read the full user with the new tokens.
        let user = sdk
            .with_auth(Auth::OAuth(signed.tokens.clone()), None)
            .get_logged_in_user()
            .instrument(tracing::debug_span!("qelos.sign_in.me"))
            .await
            .map_err(|e| AuthError::from_sdk(&e))?;
        Ok(SignedInUser {
            user,
            set_cookies: self.token_cookies(&signed.tokens),
        })
    }

    /// Signs the caller out: `POST /api/logout` with the caller's credentials (best effort: an
    /// outage or an already dead session still signs the browser out) and returns the
    /// `Set-Cookie` values that expire the integrator cookies and Qelos's session cookie.
    ///
    /// Cookies the context had queued (a refresh during this request) are dropped, so nothing
    /// written after the handler can sign the browser back in.
    pub async fn sign_out(&self, ctx: &QelosContext, inbound_host: Option<&str>) -> Vec<String> {
        drop(ctx.take_response_cookies());
        let mut set_cookies = Vec::new();
        if ctx.is_authenticated() || !ctx.tokens().is_empty() {
            let span = tracing::debug_span!("qelos.sign_out");
            match ctx.sdk().logout().instrument(span).await {
                Ok(upstream) => set_cookies.extend(rewrite_all(&upstream, inbound_host)),
                Err(err) => tracing::debug!(error = %err, "logout call failed; expiring cookies"),
            }
        }
        let config = self.config();
        let secure = config.secure_cookies();
        for name in [config.access_token_cookie(), config.refresh_token_cookie()] {
            set_cookies.push(cookies::expired_cookie(name, secure));
        }
        set_cookies
    }

    /// Where to send the browser to start a social login with `provider` (`linkedin`,
    /// `github`, …): Qelos's `/api/auth/<provider>` with the return URL.
    ///
    /// # Errors
    ///
    /// [`AuthError::BadRequest`] for an empty or non-alphanumeric provider name.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::{Integrator, QelosConfig};
    /// # fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let integrator = Integrator::new(QelosConfig::builder("https://q.example.com").build()?);
    /// let url = integrator.social_login_redirect("github", Some("https://app.example.com/auth/callback"))?;
    /// assert!(url.starts_with("https://q.example.com/api/auth/github?returnUrl="));
    /// # Ok(()) }
    /// ```
    pub fn social_login_redirect(
        &self,
        provider: &str,
        return_url: Option<&str>,
    ) -> Result<String, AuthError> {
        let valid = !provider.is_empty()
            && provider.len() <= 64
            && provider
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !valid {
            return Err(AuthError::BadRequest("unknown social login provider"));
        }
        Ok(self
            .config()
            .base_sdk()
            .social_login_url(provider, None, return_url)
            .to_string())
    }

    /// Finishes a social login: exchanges the single-use `rt` for Qelos's session cookie and
    /// returns it with `Domain` rewritten to `inbound_host`. Append the values to the response
    /// (never replace `Set-Cookie` headers already there).
    ///
    /// # Errors
    ///
    /// [`AuthError::BadRequest`] for an empty `rt`, [`AuthError::InvalidCredentials`] when
    /// Qelos refuses it (used or expired), [`AuthError::Unavailable`] on an outage.
    pub async fn complete_social_callback(
        &self,
        rt: &str,
        inbound_host: Option<&str>,
    ) -> Result<SocialCallback, AuthError> {
        if rt.trim().is_empty() {
            return Err(AuthError::BadRequest("the rt parameter is required"));
        }
        let span = tracing::debug_span!("qelos.social_callback");
        let sdk = self.config().base_sdk().with_auth(Auth::None, None);
        let done = sdk
            .exchange_auth_callback(&Secret::from(rt))
            .instrument(span)
            .await
            .map_err(|e| AuthError::from_sdk(&e))?;
        Ok(SocialCallback {
            user: done.user,
            set_cookies: rewrite_all(&done.set_cookies, inbound_host),
        })
    }

    fn token_cookies(&self, tokens: &TokenPair) -> Vec<String> {
        let config = self.config();
        let secure = config.secure_cookies();
        let mut out = Vec::with_capacity(2);
        if let Some(access) = &tokens.access {
            out.push(cookies::token_cookie(
                config.access_token_cookie(),
                access.expose(),
                secure,
            ));
        }
        if let Some(refresh) = &tokens.refresh {
            out.push(cookies::token_cookie(
                config.refresh_token_cookie(),
                refresh.expose(),
                secure,
            ));
        }
        out
    }
}

/// A framework-neutral HTTP answer from the ready-made auth endpoints: status, optional
/// redirect, cookies and JSON body. Adapters turn it into their response type.
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

    /// An `http` response (adapters on `http` 1.x use this directly).
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
        response
    }
}

/// Where to go after a browser form: `next` if it is a local path, else `/`. Never an
/// absolute or protocol-relative URL (no open redirect).
fn local_target(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_owned(),
        _ => "/".to_owned(),
    }
}

fn with_query(target: &str, key: &str, value: &str) -> String {
    let sep = if target.contains('?') { '&' } else { '?' };
    format!("{target}{sep}{key}={value}")
}

fn is_form(content_type: Option<&str>) -> bool {
    content_type.is_some_and(|c| {
        c.trim_start()
            .to_ascii_lowercase()
            .starts_with("application/x-www-form-urlencoded")
    })
}

fn query_value(query: Option<&str>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The ready-made endpoints every adapter mounts: `POST /login`, `POST /logout`,
/// `GET /auth/{provider}`, `GET /auth/callback`. Each takes what the framework already parsed
/// (content type, body bytes, query string, host) and returns an [`AuthReply`].
impl Integrator {
    /// `POST /login`: a JSON (`{"username","password"}`) or form body. JSON callers get
    /// `200 {"user": …}` or the error's status and JSON; form posts (a plain HTML form) are
    /// redirected (`303`) to the form's local `next` field (default `/`), with `?error=CODE`
    /// on failure. Both set the integrator cookies on success.
    pub async fn login_endpoint(&self, content_type: Option<&str>, body: &[u8]) -> AuthReply {
        let form = is_form(content_type);
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
        let result = match fields {
            Ok((username, password, next)) => (
                self.sign_in(&Credentials::new(username, password)).await,
                next,
            ),
            Err(e) => (Err(e), None),
        };
        match (form, result) {
            (true, (Ok(done), next)) => {
                AuthReply::redirect(local_target(next.as_deref()), done.set_cookies)
            }
            (true, (Err(e), next)) => AuthReply::redirect(
                with_query(&local_target(next.as_deref()), "error", e.code()),
                Vec::new(),
            ),
            (false, (Ok(done), _)) => AuthReply::json(
                StatusCode::OK,
                serde_json::json!({ "user": done.user }).to_string(),
                done.set_cookies,
            ),
            (false, (Err(e), _)) => AuthReply::error(&e),
        }
    }

    /// `POST /logout`: signs the caller out (see [`sign_out`](Self::sign_out)). Form posts are
    /// redirected to `/`; other callers get `200 {"signedOut": true}`.
    pub async fn logout_endpoint(
        &self,
        ctx: &QelosContext,
        content_type: Option<&str>,
        inbound_host: Option<&str>,
    ) -> AuthReply {
        let set_cookies = self.sign_out(ctx, inbound_host).await;
        if is_form(content_type) {
            AuthReply::redirect("/".into(), set_cookies)
        } else {
            AuthReply::json(StatusCode::OK, r#"{"signedOut":true}"#.into(), set_cookies)
        }
    }

    /// `GET /auth/{provider}?returnUrl=…`: `302` to Qelos's social login, or `400` for a bad
    /// provider name.
    pub fn social_redirect_endpoint(&self, provider: &str, query: Option<&str>) -> AuthReply {
        let return_url = query_value(query, "returnUrl");
        match self.social_login_redirect(provider, return_url.as_deref()) {
            Ok(url) => AuthReply {
                status: StatusCode::FOUND,
                ..AuthReply::redirect(url, Vec::new())
            },
            Err(e) => AuthReply::error(&e),
        }
    }

    /// `GET /auth/callback?rt=…&next=/…`: exchanges `rt` for Qelos's session cookie (with
    /// `Domain` rewritten to `inbound_host`) and redirects to the local `next` (default `/`);
    /// the error's status and JSON when Qelos refuses.
    pub async fn callback_endpoint(
        &self,
        query: Option<&str>,
        inbound_host: Option<&str>,
    ) -> AuthReply {
        let rt = query_value(query, "rt").unwrap_or_default();
        match self.complete_social_callback(&rt, inbound_host).await {
            Ok(done) => AuthReply::redirect(
                local_target(query_value(query, "next").as_deref()),
                done.set_cookies,
            ),
            Err(e) => AuthReply::error(&e),
        }
    }
}

fn rewrite_all(set_cookies: &[String], inbound_host: Option<&str>) -> Vec<String> {
    let domain = inbound_host.and_then(cookies::cookie_domain);
    set_cookies
        .iter()
        .map(|c| cookies::rewrite_domain(c, domain.as_deref()))
        .collect()
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

    #[test]
    fn social_redirect_refuses_provider_names_that_could_change_the_path() {
        let i = integrator();
        for bad in ["", "../admin", "git hub", "a/b", "x?y=1"] {
            assert!(matches!(
                i.social_login_redirect(bad, None),
                Err(AuthError::BadRequest(_))
            ));
        }
        let ok = i
            .social_login_redirect("linkedin", Some("http://app/cb"))
            .expect("url");
        assert_eq!(
            ok,
            "http://127.0.0.1:9/api/auth/linkedin?returnUrl=http%3A%2F%2Fapp%2Fcb"
        );
    }

    #[test]
    fn auth_errors_map_to_statuses_and_codes() {
        assert_eq!(
            AuthError::InvalidCredentials.status(),
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            AuthError::Unavailable.status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(AuthError::BadRequest("x").code(), "BAD_REQUEST");
        let r: http::Response<String> = AuthError::Unavailable.into_response();
        assert_eq!(r.status(), 503);
        assert!(r.body().contains("QELOS_UNAVAILABLE"));
    }

    #[test]
    fn rewrite_all_sets_every_cookie_domain_to_the_inbound_host() {
        let out = rewrite_all(
            &[
                "a=1; Domain=q.internal; Path=/".into(),
                "b=2; Path=/".into(),
            ],
            Some("app.example.com:8080"),
        );
        assert_eq!(out, ["a=1; Domain=app.example.com; Path=/", "b=2; Path=/"]);
    }

    #[test]
    fn form_redirects_stay_on_this_site() {
        assert_eq!(local_target(Some("/dash?x=1")), "/dash?x=1");
        for evil in ["https://evil.com", "//evil.com", "/\\evil.com", "evil"] {
            assert_eq!(local_target(Some(evil)), "/");
        }
        assert_eq!(with_query("/a?b=1", "error", "X"), "/a?b=1&error=X");
    }

    #[tokio::test]
    async fn login_endpoint_refuses_a_body_without_fields_as_bad_request() {
        let reply = integrator()
            .login_endpoint(Some("application/json"), b"{\"username\":1}")
            .await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST);
        assert!(reply.set_cookies.is_empty());
        let form = integrator()
            .login_endpoint(
                Some("application/x-www-form-urlencoded"),
                b"username=&next=%2Fhome",
            )
            .await;
        assert_eq!(form.status, StatusCode::SEE_OTHER);
        assert_eq!(form.location.as_deref(), Some("/home?error=BAD_REQUEST"));
    }

    #[tokio::test]
    async fn sign_in_with_empty_password_is_a_bad_request_without_an_upstream_call() {
        let err = integrator()
            .sign_in(&Credentials::new("ada", ""))
            .await
            .expect_err("empty password");
        assert!(matches!(err, AuthError::BadRequest(_)));
    }
}
