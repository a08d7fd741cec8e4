//! Authentication: sign-in (cookie and OAuth), sign-up, refresh, logout, the signed-in user,
//! API tokens and social login.
//!
//! ```no_run
//! # async fn run() -> Result<(), qelos_sdk::Error> {
//! use qelos_sdk::{Auth, Credentials, QelosSdk};
//! let qelos = QelosSdk::builder("http://localhost:3000").build()?;
//! let session = qelos.oauth_signin(&Credentials::new("test@test.com", "admin")).await?;
//! let me = qelos.with_auth(Auth::OAuth(session.tokens), None).get_logged_in_user().await?;
//! assert_eq!(me.username, "test@test.com");
//! # Ok(()) }
//! ```

use reqwest::Method;
use serde_json::Value;

use crate::answer::Answer;
use crate::client::{Auth, Call, QelosSdk};
use crate::error::Error;
use crate::models::{
    ApiTokenInfo, AuthCallback, CookieRefresh, CreatedApiToken, Credentials, NewApiToken,
    OAuthSignin, SigninResponse, Signup, User, UserUpdate, Workspace,
};
use crate::secret::{Secret, TokenPair};

fn workspace_of(payload: &Value) -> Option<Workspace> {
    payload
        .get("workspace")
        .filter(|w| w.is_object())
        .and_then(|w| serde_json::from_value(w.clone()).ok())
}

/// Sign-up answers HTTP 200 with `{"errors":…}` on validation failure; that is an error here.
fn refuse_errors(v: &Value) -> Result<(), Error> {
    if v.get("errors").is_some() && v.get("payload").is_none() {
        return Err(Error::Api {
            status: 400,
            message: crate::error::message_of(v).unwrap_or_else(|| "signup failed".into()),
        });
    }
    Ok(())
}

impl QelosSdk {
    /// Cookie-mode sign-in: `POST /api/signin`. Returns the user and the `Set-Cookie` values to
    /// forward to the browser.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for bad credentials; network, timeout and decode errors.
    pub async fn signin(&self, credentials: &Credentials) -> Result<SigninResponse, Error> {
        let call = Call::new(Method::POST, "/api/signin").json(credentials.body("cookie"));
        let raw = self.send_plain(call).await?.ok()?;
        let set_cookies = raw.set_cookies();
        let v: Value = raw.json()?;
        let payload = v.get("payload").cloned().unwrap_or(Value::Null);
        Ok(SigninResponse {
            user: payload.get("user").cloned().unwrap_or(Value::Null),
            workspace: workspace_of(&payload),
            set_cookies,
        })
    }

    /// OAuth sign-in: `POST /api/signin` with `authType: "oauth"`; returns the token pair. In
    /// OAuth mode the instance also stores the pair.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for bad credentials; network, timeout and decode errors.
    pub async fn oauth_signin(&self, credentials: &Credentials) -> Result<OAuthSignin, Error> {
        let call = Call::new(Method::POST, "/api/signin").json(credentials.body("oauth"));
        let v: Value = self.send_plain(call).await?.json()?;
        self.oauth_result(&v)
    }

    fn oauth_result(&self, v: &Value) -> Result<OAuthSignin, Error> {
        let payload = v.get("payload").cloned().unwrap_or(Value::Null);
        let token = |k: &str| payload.get(k).and_then(Value::as_str).map(Secret::from);
        let tokens = TokenPair::new(token("token"), token("refreshToken"));
        if tokens.access.is_none() {
            return Err(Error::Decode {
                status: 200,
                detail: "sign-in answer has no payload.token".into(),
            });
        }
        if matches!(self.auth_kind(), crate::AuthKind::OAuth) {
            self.replace_tokens(&tokens);
        }
        Ok(OAuthSignin {
            tokens,
            user: payload.get("user").cloned().unwrap_or(Value::Null),
            workspace: workspace_of(&payload),
        })
    }

    /// Cookie-mode sign-up: `POST /api/signup`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 with the validation codes (Qelos answers them with HTTP 200).
    pub async fn signup(&self, signup: &Signup) -> Result<SigninResponse, Error> {
        let call = Call::new(Method::POST, "/api/signup").json(signup.body("cookie"));
        let raw = self.send_plain(call).await?.ok()?;
        let set_cookies = raw.set_cookies();
        let v: Value = raw.json()?;
        refuse_errors(&v)?;
        let payload = v.get("payload").cloned().unwrap_or(Value::Null);
        Ok(SigninResponse {
            user: payload.get("user").cloned().unwrap_or(Value::Null),
            workspace: None,
            set_cookies,
        })
    }

    /// OAuth sign-up: `POST /api/signup` with `authType: "oauth"`.
    ///
    /// # Errors
    ///
    /// As [`signup`](Self::signup).
    pub async fn oauth_signup(&self, signup: &Signup) -> Result<OAuthSignin, Error> {
        let call = Call::new(Method::POST, "/api/signup").json(signup.body("oauth"));
        let v: Value = self.send_plain(call).await?.json()?;
        refuse_errors(&v)?;
        self.oauth_result(&v)
    }

    /// `POST /api/cookie/refresh`: a new session cookie for `cookie_token` (or for this
    /// instance's session cookie when `None`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when the cookie is not refreshable.
    pub async fn refresh_cookie_token(
        &self,
        cookie_token: Option<&Secret>,
    ) -> Result<CookieRefresh, Error> {
        let mut call = Call::new(Method::POST, "/api/cookie/refresh").keep_cookies();
        call.bearer = cookie_token;
        let raw = match cookie_token {
            Some(_) => self.send_plain(call).await?,
            None => self.send(call).await?,
        };
        let raw = raw.ok()?;
        let set_cookies = raw.set_cookies();
        let v: Value = raw.json()?;
        let payload = v.get("payload").cloned().unwrap_or(Value::Null);
        let cookie = payload
            .get("cookieToken")
            .and_then(Value::as_str)
            .ok_or(Error::Decode {
                status: 200,
                detail: "answer has no payload.cookieToken".into(),
            })?;
        Ok(CookieRefresh {
            cookie_token: Secret::from(cookie),
            user: payload.get("user").cloned().unwrap_or(Value::Null),
            workspace: payload.get("workspace").filter(|w| !w.is_null()).cloned(),
            set_cookies,
        })
    }

    /// Signs in with an API token: a new instance in API-token mode, and its user.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for an invalid or expired token.
    pub async fn api_token_signin(&self, token: Secret) -> Result<(QelosSdk, User), Error> {
        let sdk = self.with_auth(Auth::ApiToken(token), None);
        let user = sdk.get_logged_in_user().await?;
        Ok((sdk, user))
    }

    /// `POST /api/logout`; returns the `Set-Cookie` values that clear the session cookie.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when not signed in.
    pub async fn logout(&self) -> Result<Vec<String>, Error> {
        let raw = self
            .send(Call::new(Method::POST, "/api/logout").keep_cookies())
            .await?
            .ok()?;
        Ok(raw.set_cookies())
    }

    /// `GET /api/me`, with URI-encoded names decoded.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when not signed in; network, timeout and decode errors.
    pub async fn get_logged_in_user(&self) -> Result<User, Error> {
        self.fetch_logged_in_user().await?.decode()
    }

    /// `GET /api/me`, read but not decoded yet: see [`Answer`].
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when not signed in; network and timeout errors. Decode errors come
    /// from [`Answer::decode`].
    pub async fn fetch_logged_in_user(&self) -> Result<Answer<User>, Error> {
        self.fetch("/api/me", |raw| {
            let mut user: User = raw.json()?;
            user.decode_names();
            Ok(user)
        })
        .await
    }

    /// `POST /api/me`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] for refusals; network, timeout and decode errors.
    pub async fn update_logged_in_user(&self, update: &UserUpdate) -> Result<User, Error> {
        let call = Call::new(Method::POST, "/api/me").json(update.body());
        let mut user: User = self.send(call).await?.json()?;
        user.decode_names();
        Ok(user)
    }

    /// `GET /api/me/api-tokens`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 when the tenant does not allow API tokens.
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiTokenInfo>, Error> {
        self.get_json("/api/me/api-tokens").await
    }

    /// `POST /api/me/api-tokens`; the raw token is in the result, shown once.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 for a missing nickname or past expiry, 403 when not allowed.
    pub async fn create_api_token(&self, new: &NewApiToken) -> Result<CreatedApiToken, Error> {
        let mut body = serde_json::json!({ "nickname": new.nickname, "expiresAt": new.expires_at });
        if let Some(ws) = &new.workspace {
            body["workspace"] = Value::String(ws.clone());
        }
        let call = Call::new(Method::POST, "/api/me/api-tokens").json(body);
        let v: Value = self.send(call).await?.json()?;
        let token = v
            .get("token")
            .and_then(Value::as_str)
            .ok_or(Error::Decode {
                status: 201,
                detail: "answer has no token".into(),
            })?;
        let info = v
            .get("apiToken")
            .cloned()
            .map(serde_json::from_value::<ApiTokenInfo>)
            .transpose()
            .map_err(|e| Error::decode(201, &e))?
            .ok_or(Error::Decode {
                status: 201,
                detail: "answer has no apiToken".into(),
            })?;
        Ok(CreatedApiToken {
            token: Secret::from(token),
            info,
        })
    }

    /// `DELETE /api/me/api-tokens/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 for an unknown token.
    pub async fn delete_api_token(&self, id: &str) -> Result<(), Error> {
        let path = format!("/api/me/api-tokens/{}", segment(id));
        self.send(Call::new(Method::DELETE, &path)).await?.ok()?;
        Ok(())
    }

    /// The URL that starts a social login: `<app>/api/auth/<provider>?state=…&returnUrl=…`.
    pub fn social_login_url(
        &self,
        provider: &str,
        state: Option<&str>,
        return_url: Option<&str>,
    ) -> url::Url {
        let options = SocialLoginOptions {
            state: state.map(str::to_owned),
            return_url: return_url.map(str::to_owned),
            redirect_url: None,
        };
        self.social_login_url_with(provider, &options)
    }

    /// [`social_login_url`](Self::social_login_url) with every option of `getSocialLoginUrl`
    /// (`state`, `returnUrl`, `redirectUrl`).
    pub fn social_login_url_with(&self, provider: &str, options: &SocialLoginOptions) -> url::Url {
        let mut url = self.app_url().clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/api/auth/{}", segment(provider)));
        {
            let mut q = url.query_pairs_mut();
            for (k, v) in [
                ("state", &options.state),
                ("returnUrl", &options.return_url),
                ("redirectUrl", &options.redirect_url),
            ] {
                if let Some(v) = v {
                    q.append_pair(k, v);
                }
            }
        }
        if url.query() == Some("") {
            url.set_query(None);
        }
        url
    }

    /// The provider callback URL Qelos registers for a social login:
    /// `<app>/api/auth/<provider>/callback` (what to enter in the provider's console).
    pub fn social_callback_url(&self, provider: &str) -> url::Url {
        let mut url = self.app_url().clone();
        let base = url.path().trim_end_matches('/').to_owned();
        url.set_path(&format!("{base}/api/auth/{}/callback", segment(provider)));
        url.set_query(None);
        url
    }

    /// `POST /api/auth/callback?rt=…`: exchanges the single-use refresh token of a social login
    /// for a session cookie.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for an invalid or already used token.
    pub async fn exchange_auth_callback(&self, rt: &Secret) -> Result<AuthCallback, Error> {
        let call = Call::new(Method::POST, "/api/auth/callback")
            .query(vec![("rt".into(), rt.expose().to_owned())]);
        let raw = self.send_plain(call).await?.ok()?;
        let set_cookies = raw.set_cookies();
        let v: Value = raw.json()?;
        let payload = v.get("payload").cloned().unwrap_or(Value::Null);
        let mut user = payload.get("user").cloned().unwrap_or(Value::Null);
        // Qelos serialises the raw user document here: drop its credential fields.
        if let Some(doc) = user.as_object_mut() {
            for secret in ["password", "salt", "tokens"] {
                doc.remove(secret);
            }
        }
        Ok(AuthCallback {
            user,
            workspace: payload.get("workspace").filter(|w| !w.is_null()).cloned(),
            set_cookies,
        })
    }
}

/// Options of [`QelosSdk::social_login_url_with`] (`SocialLoginOptions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocialLoginOptions {
    /// OAuth state forwarded to the provider.
    pub state: Option<String>,
    /// Where Qelos sends the browser after the login, with `?rt=<refresh token>` (an absolute
    /// URL must be on a host of the app configuration's `websiteUrls`).
    pub return_url: Option<String>,
    /// Another origin for the provider callback (its host must be in `websiteUrls`).
    pub redirect_url: Option<String>,
}

impl SocialLoginOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the state.
    #[must_use]
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }
    /// Sets the return URL.
    #[must_use]
    pub fn return_url(mut self, url: impl Into<String>) -> Self {
        self.return_url = Some(url.into());
        self
    }
    /// Sets the callback origin.
    #[must_use]
    pub fn redirect_url(mut self, url: impl Into<String>) -> Self {
        self.redirect_url = Some(url.into());
        self
    }
}

/// Percent-encodes one path segment.
pub(crate) fn segment(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string()
}
