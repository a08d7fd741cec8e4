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
        self.social_login_url_with_state(provider, "", return_url)
    }

    /// [`social_login_redirect`](Self::social_login_redirect) with a `state` Qelos hands back
    /// to the callback (empty: none).
    pub(crate) fn social_login_url_with_state(
        &self,
        provider: &str,
        state: &str,
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
        let state = (!state.is_empty()).then_some(state);
        Ok(self
            .config()
            .base_sdk()
            .social_login_url(provider, state, return_url)
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

pub(crate) fn rewrite_all(set_cookies: &[String], inbound_host: Option<&str>) -> Vec<String> {
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

    #[tokio::test]
    async fn sign_in_with_empty_password_is_a_bad_request_without_an_upstream_call() {
        let err = integrator()
            .sign_in(&Credentials::new("ada", ""))
            .await
            .expect_err("empty password");
        assert!(matches!(err, AuthError::BadRequest(_)));
    }
}
