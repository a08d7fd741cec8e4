//! The handshake: `registerUrl`, `authAcquire.refreshTokenUrl`, `callbackUrl`, and revocation.

use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use qelos_sdk::{Credentials, QelosSdk, Secret};
use serde_json::{Map, Value, json};
use tracing::Instrument as _;

use crate::Plugin;
use crate::crypto::{digest_hex, random_hex};
use crate::jwt;
use crate::plugin::{CALLBACK_TTL, ct_eq};
use crate::store::{Registration, StoreError};
use crate::verify::{VerifyError, bearer};

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .host_str()
        .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
}

/// Why a register, refresh or callback call was refused. [`status`](Self::status) and
/// [`body`](Self::body) make the response; messages never contain a token or a password.
///
/// # Examples
///
/// ```
/// use qelos_plugin::HandshakeError;
/// let e = HandshakeError::MissingCredentials(vec!["password"]);
/// assert_eq!(e.status().as_u16(), 401);
/// assert_eq!(e.body()["message"], "missing credentials: password");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum HandshakeError {
    /// `username`, `password` or `appUrl` missing from the register body (the missing ones).
    #[error("missing credentials: {}", .0.join(", "))]
    MissingCredentials(Vec<&'static str>),
    /// The tenant host is not in the allow-list.
    #[error("your tenant is not allowed for this plugin")]
    TenantNotAllowed,
    /// The username's domain is not the `appUrl` host.
    #[error("email must be provided from the same app url")]
    DomainMismatch,
    /// Signing in back to the tenant's Qelos failed.
    #[error("failed to login to qelos tenant")]
    SigninFailed(#[source] qelos_sdk::Error),
    /// The credentials signed in, but not as a user with role `plugin`.
    #[error("should retrieve a plugin user")]
    NotPluginUser,
    /// Missing, forged, expired or already used refresh token.
    #[error("you are not authorized")]
    InvalidRefreshToken,
    /// The plugin uses a static token: there is nothing to register or refresh.
    #[error("this plugin uses a static token")]
    StaticToken,
    /// The callback's `returnUrl` is missing or not base64 of a URL.
    #[error("returnUrl must be a base64 URL")]
    InvalidReturnUrl,
    /// The callback's plugin token or user was refused.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The registration store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The store kept changing under the refresh (another process rotated the same token).
    #[error("you are not authorized")]
    Conflict,
}

impl HandshakeError {
    /// The HTTP status (plugin-play's: `401` for refusals).
    pub fn status(&self) -> StatusCode {
        match self {
            Self::StaticToken => StatusCode::NOT_FOUND,
            Self::InvalidReturnUrl => StatusCode::BAD_REQUEST,
            Self::Verify(e) => e.status(),
            Self::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::UNAUTHORIZED,
        }
    }

    /// The JSON body, `{"message": …}`.
    pub fn body(&self) -> Value {
        match self {
            Self::Verify(e) => e.body(),
            Self::Store(_) => json!({"message": "the plugin could not store the registration"}),
            other => json!({ "message": other.to_string() }),
        }
    }
}

impl Plugin {
    /// `registerUrl`: proves `{username,password,appUrl}` by signing in to that Qelos (role
    /// `plugin` required), stores the tenant's registration, and answers the token pair under
    /// the configured keys. `x-tenant` names the tenant.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::StaticToken`] in option A; [`HandshakeError::MissingCredentials`],
    /// [`HandshakeError::TenantNotAllowed`], [`HandshakeError::DomainMismatch`],
    /// [`HandshakeError::SigninFailed`], [`HandshakeError::NotPluginUser`],
    /// [`HandshakeError::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use http::HeaderMap;
    /// use qelos_plugin::{HandshakeError, Plugin};
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
    /// # }
    /// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
    ///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
    ///     .build()?;
    /// let body = br#"{"username":"p.0@qelos.example.com"}"#;
    /// let refused = block_on(plugin.register(&HeaderMap::new(), body));
    /// assert!(matches!(refused, Err(HandshakeError::MissingCredentials(m)) if m == ["password", "appUrl"]));
    /// # Ok::<(), qelos_plugin::ConfigError>(())
    /// ```
    pub async fn register(
        &self,
        headers: &HeaderMap,
        body: &[u8],
    ) -> Result<Value, HandshakeError> {
        if self.uses_static_token() {
            return Err(HandshakeError::StaticToken);
        }
        let body: Map<String, Value> = serde_json::from_slice(body).unwrap_or_default();
        let field = |k: &str| {
            body.get(k)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let (username, password, app_url) = (field("username"), field("password"), field("appUrl"));
        let (Some(username), Some(password), Some(app_url)) =
            (username.clone(), password.clone(), app_url.clone())
        else {
            let missing = [
                ("username", username),
                ("password", password),
                ("appUrl", app_url),
            ]
            .into_iter()
            .filter(|(_, v)| v.is_none())
            .map(|(k, _)| k)
            .collect();
            return Err(HandshakeError::MissingCredentials(missing));
        };
        let app_url = app_url.trim_end_matches('/').to_owned();
        let app_host = host_of(&app_url).ok_or(HandshakeError::TenantNotAllowed)?;
        if !self.inner.allowed_tenant_hosts.is_empty()
            && !self
                .inner
                .allowed_tenant_hosts
                .iter()
                .any(|h| h.eq_ignore_ascii_case(&app_host))
        {
            return Err(HandshakeError::TenantNotAllowed);
        }
        if self.inner.check_domain {
            let domain = username
                .rsplit_once('@')
                .map(|(_, d)| d)
                .unwrap_or_default();
            let domain = domain.split(':').next().unwrap_or_default();
            if !domain.eq_ignore_ascii_case(&app_host) {
                return Err(HandshakeError::DomainMismatch);
            }
        }
        let tenant = headers
            .get("x-tenant")
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .unwrap_or("0")
            .to_owned();
        let password = Secret::new(password);
        let signed = self.signin(&app_url, &tenant, &username, &password).await?;
        for _ in 0..8 {
            let existing = self.inner.store.find_tenant(&tenant).await?;
            let reg = Registration {
                id: existing.as_ref().map_or_else(random_hex, |r| r.id.clone()),
                tenant: tenant.clone(),
                app_url: app_url.clone(),
                username: username.clone(),
                password: password.clone(),
                qelos_tokens: signed.tokens.clone(),
                access_epoch: existing.as_ref().map_or(0, |r| r.access_epoch),
            };
            let identifier = random_hex();
            let expected = existing.as_ref().map(|r| r.revision);
            let record = self.seal_registration(
                &reg,
                expected.map_or(1, |r| r + 1),
                digest_hex(&identifier),
            )?;
            if self.inner.store.compare_and_swap(expected, record).await? {
                let pair = self
                    .mint_pair(&reg.id, reg.access_epoch, &identifier)
                    .ok_or(HandshakeError::StaticToken)?;
                tracing::info!(tenant = %reg.tenant, registration = %reg.id, "qelos tenant registered");
                return Ok(Value::Object(pair));
            }
        }
        Err(HandshakeError::Conflict)
    }

    async fn signin(
        &self,
        app_url: &str,
        tenant: &str,
        username: &str,
        password: &Secret,
    ) -> Result<qelos_sdk::OAuthSignin, HandshakeError> {
        let span = tracing::info_span!("qelos_plugin.signin", tenant = %tenant, app_url = %app_url);
        async {
            let sdk = QelosSdk::builder(app_url)
                .client(self.inner.http.clone())
                .timeout(self.inner.signin_timeout)
                .header("tenant", tenant)
                .build()
                .map_err(HandshakeError::SigninFailed)?;
            let signed = sdk
                .oauth_signin(&Credentials::new(username, password.expose()))
                .await
                .map_err(|e| {
                    tracing::warn!(error = %e, "sign-in back to qelos failed");
                    HandshakeError::SigninFailed(e)
                })?;
            let is_plugin = signed
                .user
                .get("roles")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|r| r.as_str() == Some("plugin")));
            if !is_plugin {
                return Err(HandshakeError::NotPluginUser);
            }
            Ok(signed)
        }
        .instrument(span)
        .await
    }

    /// `refreshTokenUrl`: a valid, unused refresh token (Bearer) gets a new pair; the old
    /// refresh token is dead from then on (single use). Earlier access tokens stay valid until
    /// they expire or are revoked.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::InvalidRefreshToken`] (`401`), [`HandshakeError::StaticToken`],
    /// [`HandshakeError::Store`].
    ///
    /// # Examples
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue};
    /// use qelos_plugin::{HandshakeError, Plugin};
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
    /// # }
    /// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
    ///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
    ///     .build()?;
    /// let mut headers = HeaderMap::new();
    /// headers.insert("authorization", HeaderValue::from_static("Bearer not-a-refresh-token"));
    /// let refused = block_on(plugin.refresh(&headers));
    /// assert!(matches!(refused, Err(HandshakeError::InvalidRefreshToken)));
    /// # Ok::<(), qelos_plugin::ConfigError>(())
    /// ```
    pub async fn refresh(&self, headers: &HeaderMap) -> Result<Value, HandshakeError> {
        let refresh_secret = self.refresh_secret().ok_or(HandshakeError::StaticToken)?;
        let token = bearer(headers).ok_or(HandshakeError::InvalidRefreshToken)?;
        let claims = jwt::verify(token, refresh_secret.expose().as_bytes(), jwt::now_s())
            .filter(|c| c.get("typ").and_then(Value::as_str) == Some("refresh"))
            .ok_or(HandshakeError::InvalidRefreshToken)?;
        let sub = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let identifier = claims
            .get("identifier")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let presented = digest_hex(identifier);
        // Compare-and-swap on the stored record: of two processes presenting the same refresh
        // token, one rotates the identifier and the other re-reads a record it no longer
        // matches, so a refresh token works once across every process sharing the store.
        let minted = self
            .update_registration(sub, |reg, rec| {
                if !ct_eq(&presented, &rec.refresh_identifier) {
                    return None;
                }
                let identifier = random_hex();
                rec.refresh_identifier = digest_hex(&identifier);
                self.mint_pair(&reg.id, reg.access_epoch, &identifier)
            })
            .await?;
        match minted {
            Some(pair) => Ok(Value::Object(pair)),
            None => {
                tracing::info!(registration = %sub, "refused a used or revoked refresh token");
                Err(HandshakeError::InvalidRefreshToken)
            }
        }
    }

    /// `callbackUrl` (micro-frontend login): verifies the plugin token and user like
    /// [`verify`](Self::verify), then answers `{code, token, returnUrl}` where `token` is a
    /// 30-minute HS256 JWT of `{user, tenant}` (check it with
    /// [`verify_callback_token`](Self::verify_callback_token)) and `returnUrl` is the decoded
    /// `return_url_b64` with `code` and `token` appended.
    ///
    /// # Errors
    ///
    /// [`HandshakeError::Verify`] (`407`/`400`), [`HandshakeError::InvalidReturnUrl`] (`400`).
    ///
    /// # Examples
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue};
    /// use qelos_plugin::Plugin;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
    /// # }
    /// let token = "a static token of 32 bytes......";
    /// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086").static_token(token).build()?;
    /// let mut headers = HeaderMap::new();
    /// headers.insert("authorization", HeaderValue::from_str(&format!("Bearer {token}"))?);
    /// headers.insert("user", HeaderValue::from_static(r#"{"_id":"u1","username":"a@b.c"}"#));
    /// // "https://app.example.com/done", base64
    /// let answer = block_on(plugin.callback(&headers, "aHR0cHM6Ly9hcHAuZXhhbXBsZS5jb20vZG9uZQ=="))?;
    /// let session = plugin.verify_callback_token(answer["token"].as_str().unwrap_or_default());
    /// assert_eq!(session.map(|c| c["user"]["username"].clone()), Some("a@b.c".into()));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn callback(
        &self,
        headers: &HeaderMap,
        return_url_b64: &str,
    ) -> Result<Value, HandshakeError> {
        let req = self.verify(headers).await?;
        let return_url = base64::engine::general_purpose::STANDARD
            .decode(return_url_b64.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .filter(|u| url::Url::parse(u).is_ok())
            .ok_or(HandshakeError::InvalidReturnUrl)?;
        let code = format!("{:06}", rand::random::<u32>() % 1_000_000);
        let now = jwt::now_s();
        let token = jwt::sign(
            &json!({"typ": "callback", "user": req.user, "tenant": req.tenant,
                "registration": req.registration, "code": code, "returnUrl": return_url,
                "iat": now, "exp": now + CALLBACK_TTL.as_secs()}),
            self.session_key().as_bytes(),
        );
        let sep = if return_url.contains('?') { '&' } else { '?' };
        let with_code = format!("{return_url}{sep}code={code}&token={token}");
        Ok(json!({"code": code, "token": token, "returnUrl": with_code}))
    }

    /// Checks a token [`callback`](Self::callback) issued; returns its `{user, tenant, code}`
    /// claims.
    pub fn verify_callback_token(&self, token: &str) -> Option<Value> {
        jwt::verify(token, self.session_key().as_bytes(), jwt::now_s())
            .filter(|c| c.get("typ").and_then(Value::as_str) == Some("callback"))
    }

    /// Revokes every access token issued to `tenant` (Qelos gets `407` and refreshes).
    /// `Ok(false)` when the tenant never registered.
    ///
    /// # Errors
    ///
    /// [`StoreError`] from the store.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_plugin::Plugin;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
    /// # }
    /// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
    ///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
    ///     .build()?;
    /// assert!(!block_on(plugin.revoke_access("never-registered"))?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn revoke_access(&self, tenant: &str) -> Result<bool, StoreError> {
        self.change_registration(tenant, |r, _| r.access_epoch += 1)
            .await
    }

    /// Revokes the tenant's refresh token (Qelos's next refresh fails and it re-registers).
    ///
    /// # Errors
    ///
    /// [`StoreError`] from the store.
    pub async fn revoke_refresh(&self, tenant: &str) -> Result<bool, StoreError> {
        self.change_registration(tenant, |_, rec| {
            rec.refresh_identifier = digest_hex(&random_hex());
        })
        .await
    }

    /// [`revoke_access`](Self::revoke_access) and [`revoke_refresh`](Self::revoke_refresh).
    ///
    /// # Errors
    ///
    /// [`StoreError`] from the store.
    pub async fn revoke(&self, tenant: &str) -> Result<bool, StoreError> {
        self.change_registration(tenant, |r, rec| {
            r.access_epoch += 1;
            rec.refresh_identifier = digest_hex(&random_hex());
        })
        .await
    }

    async fn change_registration(
        &self,
        tenant: &str,
        change: impl Fn(&mut Registration, &mut crate::StoredRegistration),
    ) -> Result<bool, StoreError> {
        let Some(rec) = self.inner.store.find_tenant(tenant).await? else {
            return Ok(false);
        };
        let done = self
            .update_registration(&rec.id, |reg, rec| {
                change(reg, rec);
                Some(())
            })
            .await?;
        tracing::info!(tenant = %tenant, "plugin tokens revoked");
        Ok(done.is_some())
    }
}
