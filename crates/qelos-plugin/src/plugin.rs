//! [`Plugin`]: configuration, token verification and minting.

use std::sync::Arc;
use std::time::Duration;

use http::HeaderMap;
use qelos_sdk::Secret;
use serde_json::{Map, Value, json};
use subtle::ConstantTimeEq;

use crate::crud::ErasedCrud;
use crate::crypto::Sealer;
use crate::events::Hook;
use crate::jwt;
use crate::manifest::{AuthAcquire, Manifest};
use crate::store::{MemoryStore, RegistrationStore};
use crate::verify::{PluginRequest, VerifyError, bearer, request_after_token};

/// plugin-play's access-token lifetime (1 h).
pub const ACCESS_TTL: Duration = Duration::from_secs(3600);
/// plugin-play's refresh-token lifetime (90 d).
pub const REFRESH_TTL: Duration = Duration::from_secs(90 * 86_400);
/// plugin-play's callback-token and frontend-cookie lifetime (30 min).
pub const CALLBACK_TTL: Duration = Duration::from_secs(30 * 60);
const MIN_SECRET_LEN: usize = 16;

/// How the plugin tells Qelos from everyone else.
#[derive(Clone)]
pub(crate) enum TokenMode {
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
    /// A secret, the static token or the encryption key is shorter than 16 bytes.
    #[error("plugin secrets, the static token and the encryption key need at least 16 bytes")]
    WeakSecret,
    /// The HTTP client could not be built.
    #[error("the HTTP client could not be built")]
    Client(#[source] reqwest::Error),
}

/// A Qelos plugin backend: verifies proxied requests, answers the handshake, the
/// micro-frontend authorization, its cruds and event hooks, and calls Qelos back as a tenant.
/// Cheap to clone.
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
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) mode: TokenMode,
    pub(crate) manifest: Manifest,
    pub(crate) store: Arc<dyn RegistrationStore>,
    pub(crate) sealer: Sealer,
    pub(crate) http: reqwest::Client,
    pub(crate) signin_timeout: Duration,
    pub(crate) allowed_tenant_hosts: Vec<String>,
    pub(crate) check_domain: bool,
    pub(crate) cruds: Vec<Arc<dyn ErasedCrud>>,
    pub(crate) hooks: Vec<Hook>,
    pub(crate) secure_cookies: bool,
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
///     .encryption_key("a registration key of 32 bytes..")
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
    encryption_key: Option<Secret>,
    signin_timeout: Duration,
    allowed_tenant_hosts: Vec<String>,
    check_domain: bool,
    access_ttl: Duration,
    refresh_ttl: Duration,
    cruds: Vec<Arc<dyn ErasedCrud>>,
    hooks: Vec<Hook>,
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

    /// The key registrations are encrypted with at rest (AES-256-GCM, key derived with
    /// HKDF-SHA256). Every process sharing a store needs the same key. Default: derived from
    /// the refresh secret (option B) or the static token (option A).
    pub fn encryption_key(mut self, key: impl Into<Secret>) -> Self {
        self.encryption_key = Some(key.into());
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

    /// Replaces the manifest. The plugin serves its routes at the URLs it names; cruds and
    /// event hooks added to the builder are appended to it.
    pub fn manifest(mut self, manifest: Manifest) -> Self {
        self.manifest = manifest;
        self
    }

    /// Changes the manifest in place (micro-frontends, nav-bar groups, injectables, URLs).
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_plugin::{Injectable, Plugin};
    /// let plugin = Plugin::builder("todo", "https://p.example.com")
    ///     .static_token("a static token of 32 bytes......")
    ///     .with_manifest(|m| m.injectable(Injectable::new("banner", "<b>hi</b>")))
    ///     .build()?;
    /// assert_eq!(plugin.manifest().injectables.len(), 1);
    /// # Ok::<(), qelos_plugin::ConfigError>(())
    /// ```
    pub fn with_manifest(mut self, change: impl FnOnce(Manifest) -> Manifest) -> Self {
        self.manifest = change(self.manifest);
        self
    }

    /// Adds a CRUD resource: its REST endpoints under `proxyPath`, its `cruds` entry, its
    /// nav-bar group and list/create/edit micro-frontends (plugin-play's `createCrud`).
    pub fn crud<S: crate::CrudStore>(mut self, crud: crate::Crud<S>) -> Self {
        let (entry, group, mfes) = crud.manifest_entries();
        self.manifest.cruds.push(entry);
        self.manifest = self.manifest.grouped_micro_frontends(group, mfes);
        self.cruds.push(Arc::new(crud));
        self
    }

    /// Subscribes to Qelos events (`*` matches any) and hands them to `handler` (plugin-play's
    /// `registerToHook`). The hook is served at `/api/hooks/<base64 of the filter>`.
    pub fn on_event<H: crate::EventHandler>(
        mut self,
        filter: crate::EventFilter,
        handler: H,
    ) -> Self {
        self.hooks.push(Hook::new(filter, Arc::new(handler)));
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

    /// Timeout of calls back to Qelos (default 10 s).
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
        let default_key = match &mode {
            TokenMode::Static(t) => {
                if t.expose().len() < MIN_SECRET_LEN {
                    return Err(ConfigError::WeakSecret);
                }
                manifest.register_url = None;
                manifest.auth_acquire = None;
                t.clone()
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
                refresh_secret.clone()
            }
        };
        let key = self.encryption_key.unwrap_or(default_key);
        if key.expose().len() < MIN_SECRET_LEN {
            return Err(ConfigError::WeakSecret);
        }
        for hook in &self.hooks {
            manifest
                .subscribed_events
                .push(hook.subscribed_event(&manifest.app_url));
        }
        let http = reqwest::Client::builder()
            .timeout(self.signin_timeout)
            .build()
            .map_err(ConfigError::Client)?;
        Ok(Plugin {
            inner: Arc::new(Inner {
                mode,
                secure_cookies: manifest.app_url.starts_with("https://"),
                manifest,
                store: self
                    .store
                    .unwrap_or_else(|| Arc::new(MemoryStore::default())),
                sealer: Sealer::new(key.expose().as_bytes()),
                http,
                signin_timeout: self.signin_timeout,
                allowed_tenant_hosts: self.allowed_tenant_hosts,
                check_domain: self.check_domain,
                cruds: self.cruds,
                hooks: self.hooks,
            }),
        })
    }
}

pub(crate) fn ct_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

impl Plugin {
    /// A builder for the plugin `name` (also its `apiPath`) served at `app_url`.
    pub fn builder(name: &str, app_url: &str) -> PluginBuilder {
        PluginBuilder {
            manifest: Manifest::new(name, app_url),
            mode: None,
            store: None,
            encryption_key: None,
            signin_timeout: Duration::from_secs(10),
            allowed_tenant_hosts: Vec::new(),
            check_domain: true,
            access_ttl: ACCESS_TTL,
            refresh_ttl: REFRESH_TTL,
            cruds: Vec::new(),
            hooks: Vec::new(),
        }
    }

    /// The manifest to serve (with the handshake URLs of the chosen token option, the cruds'
    /// entries and the subscribed events).
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
    /// `tenant` and `tenanthost` headers. A minted token must be signed with the access secret,
    /// unexpired, and belong to a live registration whose access epoch it carries.
    ///
    /// # Errors
    ///
    /// [`VerifyError::MissingToken`]/[`VerifyError::InvalidToken`] (`407`),
    /// [`VerifyError::InvalidUser`] (`400`), [`VerifyError::TenantMismatch`] (`403`),
    /// [`VerifyError::Store`].
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
    /// let req = block_on(plugin.verify(&headers))?;
    /// assert_eq!(req.user().map(|u| u.id.as_str()), Some("u1"));
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

    /// Either kind of caller plugin-play accepts on its endpoints: Qelos (a Bearer plugin
    /// token, see [`verify`](Self::verify)) or a micro-frontend that was authorized (header
    /// `code` and cookie `token_<code>`, see [`verify_cookie`](Self::verify_cookie)).
    ///
    /// # Errors
    ///
    /// As [`verify`](Self::verify) with an `Authorization` header, else as
    /// [`verify_cookie`](Self::verify_cookie).
    pub async fn verify_any(&self, headers: &HeaderMap) -> Result<PluginRequest, VerifyError> {
        if headers.contains_key(http::header::AUTHORIZATION) {
            self.verify(headers).await
        } else {
            self.verify_cookie(headers)
        }
    }

    pub(crate) fn mint_pair(
        &self,
        id: &str,
        access_epoch: u64,
        identifier: &str,
    ) -> Option<Map<String, Value>> {
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
            &json!({"sub": id, "typ": "access", "epoch": access_epoch,
                "jti": crate::crypto::random_hex(), "iat": now, "exp": now + access_ttl.as_secs()}),
            access_secret.expose().as_bytes(),
        );
        let refresh = jwt::sign(
            &json!({"sub": id, "typ": "refresh", "identifier": identifier,
                "iat": now, "exp": now + refresh_ttl.as_secs()}),
            refresh_secret.expose().as_bytes(),
        );
        let acquire = self.inner.manifest.auth_acquire.clone().unwrap_or_default();
        let mut out = Map::new();
        out.insert(acquire.refresh_token_key, json!(refresh));
        out.insert(acquire.access_token_key, json!(access));
        Some(out)
    }

    pub(crate) fn session_key(&self) -> &str {
        match &self.inner.mode {
            TokenMode::Static(t) => t.expose(),
            TokenMode::Minted { access_secret, .. } => access_secret.expose(),
        }
    }

    pub(crate) fn refresh_secret(&self) -> Option<&Secret> {
        match &self.inner.mode {
            TokenMode::Static(_) => None,
            TokenMode::Minted { refresh_secret, .. } => Some(refresh_secret),
        }
    }
}
