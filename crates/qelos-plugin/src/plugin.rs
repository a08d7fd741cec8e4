//! [`Plugin`]: configuration, token verification, the handshake, revocation.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use http::{HeaderMap, StatusCode};
use qelos_sdk::{Credentials, QelosSdk, Secret};
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;
use tracing::Instrument as _;

use crate::jwt;
use crate::manifest::{AuthAcquire, Manifest};
use crate::store::{MemoryStore, Registration, RegistrationStore, StoreError};
use crate::verify::{PluginRequest, VerifyError, bearer, request_after_token};

/// plugin-play's access-token lifetime (1 h).
pub const ACCESS_TTL: Duration = Duration::from_secs(3600);
/// plugin-play's refresh-token lifetime (90 d).
pub const REFRESH_TTL: Duration = Duration::from_secs(90 * 86_400);
/// plugin-play's callback-token lifetime (30 min).
pub const CALLBACK_TTL: Duration = Duration::from_secs(30 * 60);
const MIN_SECRET_LEN: usize = 16;

/// How the plugin tells Qelos from everyone else.
#[derive(Clone)]
enum TokenMode {
    /// Option A: one token shared with Qelos (the plugin record's `token`).
    Static(Secret),
    /// Option B: HS256 tokens the plugin minted at registration.
    Minted {
        access_secret: Secret,
        refresh_secret: Secret,
        access_ttl: Duration,
        refresh_ttl: Duration,
    },
}

/// A configuration mistake found by [`PluginBuilder::build`].
///
/// # Examples
///
/// ```
/// use qelos_plugin::{ConfigError, Plugin};
/// let weak = Plugin::builder("todo", "http://127.0.0.1:1086").static_token("short").build();
/// assert!(matches!(weak, Err(ConfigError::WeakSecret)));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Neither [`PluginBuilder::static_token`] nor [`PluginBuilder::minted_tokens`] was called.
    #[error("choose a token option: static_token or minted_tokens")]
    NoTokenOption,
    /// A secret or the static token is shorter than 16 bytes.
    #[error("plugin secrets and the static token need at least 16 bytes")]
    WeakSecret,
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built")]
    Client(#[source] reqwest::Error),
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

/// A Qelos plugin backend: verifies proxied requests and answers the handshake. Cheap to clone.
///
/// # Examples
///
/// ```
/// use qelos_plugin::Plugin;
/// let plugin = Plugin::builder("todo", "https://plugin.example.com")
///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
///     .build()?;
/// assert_eq!(plugin.manifest().api_path, "todo");
/// # Ok::<(), qelos_plugin::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct Plugin {
    inner: Arc<Inner>,
}

struct Inner {
    mode: TokenMode,
    manifest: Manifest,
    store: Arc<dyn RegistrationStore>,
    http: reqwest::Client,
    signin_timeout: Duration,
    allowed_tenant_hosts: Vec<String>,
    check_domain: bool,
    /// Serialises read-modify-write of registrations (refresh rotation, revocation).
    lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for Plugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mode = match self.inner.mode {
            TokenMode::Static(_) => "static",
            TokenMode::Minted { .. } => "minted",
        };
        f.debug_struct("Plugin")
            .field("api_path", &self.inner.manifest.api_path)
            .field("token_option", &mode)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Plugin`]. Setters never fail; [`build`](Self::build) checks.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use qelos_plugin::{MemoryStore, Plugin};
/// let plugin = Plugin::builder("todo", "https://plugin.example.com")
///     .minted_tokens("an access secret of 32 bytes....", "a refresh secret of 32 bytes....")
///     .token_lifetimes(Duration::from_secs(600), Duration::from_secs(86_400))
///     .token_keys("refreshToken", "accessToken")
///     .allowed_tenant_hosts(["tenant.example.com"])
///     .store(Arc::new(MemoryStore::default()))
///     .signin_timeout(Duration::from_secs(5))
///     .build()?;
/// let acquire = plugin.manifest().auth_acquire.clone().unwrap_or_default();
/// assert_eq!(acquire.access_token_key, "accessToken");
/// # Ok::<(), qelos_plugin::ConfigError>(())
/// ```
#[must_use]
pub struct PluginBuilder {
    manifest: Manifest,
    mode: Option<TokenMode>,
    store: Option<Arc<dyn RegistrationStore>>,
    signin_timeout: Duration,
    allowed_tenant_hosts: Vec<String>,
    check_domain: bool,
    access_ttl: Duration,
    refresh_ttl: Duration,
}

impl std::fmt::Debug for PluginBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginBuilder")
            .field("api_path", &self.manifest.api_path)
            .finish_non_exhaustive()
    }
}

impl PluginBuilder {
    /// Option A: Qelos holds this token (the plugin record's `token`) and sends it on every
    /// proxied request; compared in constant time. No register/refresh endpoints.
    pub fn static_token(mut self, token: impl Into<Secret>) -> Self {
        self.mode = Some(TokenMode::Static(token.into()));
        self
    }

    /// Option B: the plugin mints HS256 tokens at registration (access 1 h, refresh 90 d, as
    /// plugin-play) and Qelos refreshes them through `authAcquire`.
    pub fn minted_tokens(
        mut self,
        access_secret: impl Into<Secret>,
        refresh_secret: impl Into<Secret>,
    ) -> Self {
        self.mode = Some(TokenMode::Minted {
            access_secret: access_secret.into(),
            refresh_secret: refresh_secret.into(),
            access_ttl: self.access_ttl,
            refresh_ttl: self.refresh_ttl,
        });
        self
    }

    /// Token lifetimes for option B (defaults [`ACCESS_TTL`], [`REFRESH_TTL`]).
    pub fn token_lifetimes(mut self, access: Duration, refresh: Duration) -> Self {
        self.access_ttl = access;
        self.refresh_ttl = refresh;
        if let Some(TokenMode::Minted {
            access_ttl,
            refresh_ttl,
            ..
        }) = self.mode.as_mut()
        {
            *access_ttl = access;
            *refresh_ttl = refresh;
        }
        self
    }

    /// Key names of the token pair in register/refresh answers (defaults `refresh_token`,
    /// `access_token`); published in the manifest's `authAcquire`.
    pub fn token_keys(mut self, refresh_key: &str, access_key: &str) -> Self {
        let acquire = self
            .manifest
            .auth_acquire
            .get_or_insert_with(AuthAcquire::default);
        acquire.refresh_token_key = refresh_key.to_owned();
        acquire.access_token_key = access_key.to_owned();
        self
    }

    /// Replaces the manifest (its paths should stay those the router serves).
    pub fn manifest(mut self, manifest: Manifest) -> Self {
        self.manifest = manifest;
        self
    }

    /// Where registrations live (default: a [`MemoryStore`]).
    pub fn store(mut self, store: Arc<dyn RegistrationStore>) -> Self {
        self.store = Some(store);
        self
    }

    /// Only tenants whose `appUrl` host is listed may register (default: any).
    pub fn allowed_tenant_hosts<I, T>(mut self, hosts: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.allowed_tenant_hosts = hosts.into_iter().map(Into::into).collect();
        self
    }

    /// Require the service user's email domain to be the `appUrl` host (default on, as
    /// plugin-play).
    pub fn check_username_domain(mut self, on: bool) -> Self {
        self.check_domain = on;
        self
    }

    /// Timeout of the sign-in back to Qelos (default 10 s).
    pub fn signin_timeout(mut self, timeout: Duration) -> Self {
        self.signin_timeout = timeout;
        self
    }

    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// [`ConfigError::NoTokenOption`] without a token option, [`ConfigError::WeakSecret`] for a
    /// secret under 16 bytes, [`ConfigError::Client`] if the HTTP client cannot be built.
    pub fn build(self) -> Result<Plugin, ConfigError> {
        let mode = self.mode.ok_or(ConfigError::NoTokenOption)?;
        let mut manifest = self.manifest;
        match &mode {
            TokenMode::Static(t) => {
                if t.expose().len() < MIN_SECRET_LEN {
                    return Err(ConfigError::WeakSecret);
                }
                manifest.register_url = None;
                manifest.auth_acquire = None;
            }
            TokenMode::Minted {
                access_secret,
                refresh_secret,
                ..
            } => {
                if access_secret.expose().len() < MIN_SECRET_LEN
                    || refresh_secret.expose().len() < MIN_SECRET_LEN
                {
                    return Err(ConfigError::WeakSecret);
                }
                manifest
                    .register_url
                    .get_or_insert_with(|| crate::REGISTER_PATH.to_owned());
                manifest
                    .auth_acquire
                    .get_or_insert_with(AuthAcquire::default);
            }
        }
        let http = reqwest::Client::builder()
            .timeout(self.signin_timeout)
            .build()
            .map_err(ConfigError::Client)?;
        Ok(Plugin {
            inner: Arc::new(Inner {
                mode,
                manifest,
                store: self
                    .store
                    .unwrap_or_else(|| Arc::new(MemoryStore::default())),
                http,
                signin_timeout: self.signin_timeout,
                allowed_tenant_hosts: self.allowed_tenant_hosts,
                check_domain: self.check_domain,
                lock: tokio::sync::Mutex::new(()),
            }),
        })
    }
}

fn random_hex() -> String {
    format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    )
}

fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

fn host_of(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .host_str()
        .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
}

impl Plugin {
    /// A builder for the plugin `name` (also its `apiPath`) served at `app_url`.
    pub fn builder(name: &str, app_url: &str) -> PluginBuilder {
        PluginBuilder {
            manifest: Manifest::new(name, app_url),
            mode: None,
            store: None,
            signin_timeout: Duration::from_secs(10),
            allowed_tenant_hosts: Vec::new(),
            check_domain: true,
            access_ttl: ACCESS_TTL,
            refresh_ttl: REFRESH_TTL,
        }
    }

    /// The manifest to serve (with the handshake URLs of the chosen token option).
    pub fn manifest(&self) -> &Manifest {
        &self.inner.manifest
    }

    /// The registration store.
    pub fn store(&self) -> &Arc<dyn RegistrationStore> {
        &self.inner.store
    }

    /// `true` for option A (static token).
    pub fn uses_static_token(&self) -> bool {
        matches!(self.inner.mode, TokenMode::Static(_))
    }

    /// Verifies a proxied request: the Bearer plugin token first, and only then the `user`,
    /// `tenant` and `tenanthost` headers. Framework-agnostic: give it the request headers.
    ///
    /// # Errors
    ///
    /// [`VerifyError::MissingToken`] / [`VerifyError::InvalidToken`] (`407`,
    /// `x-q-auth: unauthorized`; the user header is not read), [`VerifyError::InvalidUser`]
    /// (`400`), [`VerifyError::Store`] (`500`).
    ///
    /// # Examples
    ///
    /// ```
    /// use http::{HeaderMap, HeaderValue};
    /// use qelos_plugin::Plugin;
    /// # fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// #     tokio::runtime::Builder::new_current_thread().build().map(|rt| rt.block_on(f)).unwrap_or_else(|_| std::process::exit(1))
    /// # }
    /// let plugin = Plugin::builder("todo", "http://127.0.0.1:1086")
    ///     .static_token("a static token of 32 bytes......")
    ///     .build()?;
    /// let mut headers = HeaderMap::new();
    /// headers.insert("authorization", HeaderValue::from_static("Bearer a static token of 32 bytes......"));
    /// headers.insert("user", HeaderValue::from_static(r#"{"_id":"u1","username":"a@b.c"}"#));
    /// let req = block_on(plugin.verify(&headers)).map_err(|e| e.to_string())?;
    /// assert_eq!(req.user.map(|u| u.username).as_deref(), Some("a@b.c"));
    ///
    /// headers.insert("authorization", HeaderValue::from_static("Bearer forged"));
    /// let refused = block_on(plugin.verify(&headers)).err().map(|e| e.status().as_u16());
    /// assert_eq!(refused, Some(407));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub async fn verify(&self, headers: &HeaderMap) -> Result<PluginRequest, VerifyError> {
        let token = bearer(headers).ok_or(VerifyError::MissingToken)?;
        match &self.inner.mode {
            TokenMode::Static(expected) => {
                if !ct_eq(token, expected.expose()) {
                    return Err(VerifyError::InvalidToken);
                }
                request_after_token(headers, None)
            }
            TokenMode::Minted { access_secret, .. } => {
                let claims = jwt::verify(token, access_secret.expose().as_bytes(), jwt::now_s())
                    .filter(|c| c.get("typ").and_then(Value::as_str) == Some("access"))
                    .ok_or(VerifyError::InvalidToken)?;
                let sub = claims
                    .get("sub")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                let epoch = claims.get("epoch").and_then(Value::as_u64);
                let reg = self
                    .inner
                    .store
                    .load(sub)
                    .await?
                    .ok_or(VerifyError::InvalidToken)?;
                if epoch != Some(reg.access_epoch) {
                    return Err(VerifyError::InvalidToken);
                }
                request_after_token(headers, Some((reg.id, reg.tenant)))
            }
        }
    }

    fn mint_pair(&self, reg: &Registration) -> Option<Map<String, Value>> {
        let TokenMode::Minted {
            access_secret,
            refresh_secret,
            access_ttl,
            refresh_ttl,
        } = &self.inner.mode
        else {
            return None;
        };
        let now = jwt::now_s();
        let access = jwt::sign(
            &json!({"sub": reg.id, "typ": "access", "epoch": reg.access_epoch,
                "jti": random_hex(), "iat": now, "exp": now + access_ttl.as_secs()}),
            access_secret.expose().as_bytes(),
        );
        let refresh = jwt::sign(
            &json!({"sub": reg.id, "typ": "refresh", "identifier": reg.refresh_identifier.expose(),
                "iat": now, "exp": now + refresh_ttl.as_secs()}),
            refresh_secret.expose().as_bytes(),
        );
        let acquire = self.inner.manifest.auth_acquire.clone().unwrap_or_default();
        let mut out = Map::new();
        out.insert(acquire.refresh_token_key, json!(refresh));
        out.insert(acquire.access_token_key, json!(access));
        Some(out)
    }

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
        let _guard = self.inner.lock.lock().await;
        let existing = self.inner.store.find_tenant(&tenant).await?;
        let reg = Registration {
            id: existing.as_ref().map_or_else(random_hex, |r| r.id.clone()),
            tenant,
            app_url,
            username,
            password,
            qelos_tokens: signed.tokens,
            refresh_identifier: Secret::new(random_hex()),
            access_epoch: existing.map_or(0, |r| r.access_epoch),
        };
        let pair = self.mint_pair(&reg).ok_or(HandshakeError::StaticToken)?;
        tracing::info!(tenant = %reg.tenant, registration = %reg.id, "qelos tenant registered");
        self.inner.store.save(reg).await?;
        Ok(Value::Object(pair))
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
        let TokenMode::Minted { refresh_secret, .. } = &self.inner.mode else {
            return Err(HandshakeError::StaticToken);
        };
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
        let _guard = self.inner.lock.lock().await;
        let mut reg = self
            .inner
            .store
            .load(sub)
            .await?
            .ok_or(HandshakeError::InvalidRefreshToken)?;
        if !ct_eq(identifier, reg.refresh_identifier.expose()) {
            tracing::info!(registration = %reg.id, "refused a used or revoked refresh token");
            return Err(HandshakeError::InvalidRefreshToken);
        }
        reg.refresh_identifier = Secret::new(random_hex());
        let pair = self.mint_pair(&reg).ok_or(HandshakeError::StaticToken)?;
        self.inner.store.save(reg).await?;
        Ok(Value::Object(pair))
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
                "registration": req.registration, "code": code,
                "iat": now, "exp": now + CALLBACK_TTL.as_secs()}),
            self.session_key().as_bytes(),
        );
        let sep = if return_url.contains('?') { '&' } else { '?' };
        let with_code = format!("{return_url}{sep}code={code}&token={token}");
        Ok(json!({"code": code, "token": token, "returnUrl": with_code}))
    }

    fn session_key(&self) -> &str {
        match &self.inner.mode {
            TokenMode::Static(t) => t.expose(),
            TokenMode::Minted { access_secret, .. } => access_secret.expose(),
        }
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
        self.change_registration(tenant, |r| r.access_epoch += 1)
            .await
    }

    /// Revokes the tenant's refresh token (Qelos's next refresh fails and it re-registers).
    ///
    /// # Errors
    ///
    /// [`StoreError`] from the store.
    pub async fn revoke_refresh(&self, tenant: &str) -> Result<bool, StoreError> {
        self.change_registration(tenant, |r| r.refresh_identifier = Secret::new(random_hex()))
            .await
    }

    /// [`revoke_access`](Self::revoke_access) and [`revoke_refresh`](Self::revoke_refresh).
    ///
    /// # Errors
    ///
    /// [`StoreError`] from the store.
    pub async fn revoke(&self, tenant: &str) -> Result<bool, StoreError> {
        self.change_registration(tenant, |r| {
            r.access_epoch += 1;
            r.refresh_identifier = Secret::new(random_hex());
        })
        .await
    }

    async fn change_registration(
        &self,
        tenant: &str,
        change: impl FnOnce(&mut Registration),
    ) -> Result<bool, StoreError> {
        let _guard = self.inner.lock.lock().await;
        let Some(mut reg) = self.inner.store.find_tenant(tenant).await? else {
            return Ok(false);
        };
        change(&mut reg);
        tracing::info!(tenant = %tenant, "plugin tokens revoked");
        self.inner.store.save(reg).await?;
        Ok(true)
    }
}
