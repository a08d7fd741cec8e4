//! Integrator configuration: a validated [`QelosConfig`], built with [`QelosConfigBuilder`] or
//! read from the environment.

use std::sync::Arc;
use std::time::Duration;

use qelos_sdk::{QelosSdk, QelosSdkBuilder, Secret};

use crate::hooks::{OnTokenRefresh, SharedHook};

use crate::refresh::DEFAULT_REFRESH_LOCK_TTL;
use crate::store::SharedStore;

/// Default name of the access-token cookie.
pub const DEFAULT_ACCESS_COOKIE: &str = "q_access_token";
/// Default name of the refresh-token cookie.
pub const DEFAULT_REFRESH_COOKIE: &str = "q_refresh_token";
/// Default per-call timeout for upstream calls.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default grace window during which a just-rotated refresh token still yields the new pair.
pub const DEFAULT_REFRESH_GRACE: Duration = Duration::from_secs(30);

/// Why a configuration could not be built. Raised at start-up, never per request.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No Qelos URL was given (`QELOS_APP_URL` unset or empty).
    #[error("QELOS_APP_URL is not set: the integrator needs the URL of your Qelos application")]
    MissingAppUrl,
    /// The Qelos URL or an SDK option was refused.
    #[error("invalid Qelos SDK options: {0}")]
    Sdk(#[from] qelos_sdk::Error),
    /// A cookie name contains characters a cookie name cannot have.
    #[error("invalid cookie name {0:?}: use letters, digits, '-' and '_'")]
    InvalidCookieName(String),
    /// A skip path is not an absolute path.
    #[error("invalid skip path {0:?}: skip paths start with '/'")]
    InvalidSkipPath(String),
    /// A [`require_auth_under`](QelosConfigBuilder::require_auth_under) prefix is not an
    /// absolute path.
    #[error("invalid require_auth_under prefix {0:?}: prefixes start with '/'")]
    InvalidRequireAuthPath(String),
    /// A trusted or redirect origin is not an absolute `http(s)` origin
    /// (`scheme://host[:port]`, nothing after it).
    #[error("invalid origin {0:?}: use scheme://host[:port]")]
    InvalidOrigin(String),
    /// An environment variable has a value that cannot be used.
    #[error("environment variable {var} has an invalid value: {reason}")]
    InvalidEnv {
        /// The variable's name.
        var: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// The validated integrator configuration.
///
/// Cheap to clone. Build it with [`QelosConfig::builder`] or [`QelosConfig::from_env`]; a bad
/// URL is an error here, at start-up, not on the first request.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use qelos_integrator_core::QelosConfig;
///
/// let config = QelosConfig::builder("https://app.example.com")
///     .require_auth(true)
///     .skip_paths(["/health", "/static"])
///     .timeout(Duration::from_secs(5))
///     .build()?;
/// assert!(config.is_skipped("/health/db"));
/// assert!(!config.is_skipped("/healthz"));
/// # Ok::<(), qelos_integrator_core::ConfigError>(())
/// ```
#[derive(Clone)]
pub struct QelosConfig {
    pub(crate) sdk: QelosSdk,
    pub(crate) api_token: Option<Secret>,
    pub(crate) access_cookie: String,
    pub(crate) refresh_cookie: String,
    pub(crate) require_auth: bool,
    pub(crate) require_auth_under: Vec<String>,
    pub(crate) skip_paths: Vec<String>,
    pub(crate) refresh_grace: Duration,
    pub(crate) identity_cache_ttl: Option<Duration>,
    pub(crate) store: Option<Arc<dyn SharedStore>>,
    pub(crate) shared_identity_ttl: Option<Duration>,
    pub(crate) refresh_lock_ttl: Duration,
    pub(crate) secure_cookies: bool,
    pub(crate) api_proxy: bool,
    pub(crate) proxy: ProxySettings,
    pub(crate) site: SiteSettings,
    pub(crate) on_refresh: Option<SharedHook>,
}

/// The cross-site and redirect rules' settings.
#[derive(Clone, Debug, Default)]
pub(crate) struct SiteSettings {
    pub(crate) cross_site: crate::cross_site::CrossSitePolicy,
    pub(crate) proxy: crate::cross_site::ProxyCrossSite,
    pub(crate) redirect_origins: Vec<url::Origin>,
}

/// The `/api/**` proxy's settings, read by [`Proxy::new`](crate::proxy::Proxy::new).
#[derive(Clone, Debug, Default)]
pub(crate) struct ProxySettings {
    /// Explicit target (`Some("")`: none, the proxy answers 503).
    pub(crate) target: Option<String>,
    pub(crate) timeout: Option<Duration>,
    pub(crate) body_limit: Option<u64>,
}

impl std::fmt::Debug for QelosConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QelosConfig")
            .field("app_url", &self.sdk.app_url().as_str())
            .field("api_token", &self.api_token.as_ref().map(|_| "***"))
            .field("access_cookie", &self.access_cookie)
            .field("refresh_cookie", &self.refresh_cookie)
            .field("require_auth", &self.require_auth)
            .field("require_auth_under", &self.require_auth_under)
            .field("skip_paths", &self.skip_paths)
            .field("timeout", &self.sdk.timeout())
            .field("refresh_grace", &self.refresh_grace)
            .field("identity_cache_ttl", &self.identity_cache_ttl)
            .field("shared_store", &self.store)
            .field("shared_identity_ttl", &self.shared_identity_ttl)
            .field("refresh_lock_ttl", &self.refresh_lock_ttl)
            .field("api_proxy", &self.api_proxy)
            .field("site", &self.site)
            .field("on_token_refresh", &self.on_refresh.is_some())
            .finish()
    }
}

impl QelosConfig {
    /// Starts a configuration for the Qelos application at `app_url`.
    pub fn builder(app_url: impl Into<String>) -> QelosConfigBuilder {
        QelosConfigBuilder::new(app_url.into())
    }

    /// Reads the configuration from the environment: `QELOS_APP_URL` (required),
    /// `QELOS_API_TOKEN`, `QELOS_REQUIRE_AUTH` (`true`/`false`/`1`/`0`), `QELOS_SKIP_PATHS`
    /// (comma list), `QELOS_TIMEOUT_MS` and `QELOS_API_PROXY` (`true`/`false`/`1`/`0`).
    ///
    /// # Errors
    ///
    /// [`ConfigError::MissingAppUrl`] without `QELOS_APP_URL`, [`ConfigError::InvalidEnv`] for
    /// unusable values, and every error of [`QelosConfigBuilder::build`].
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::builder_from_env()?.build()
    }

    /// Like [`from_env`](Self::from_env) but returns the builder, to add settings in code.
    ///
    /// # Errors
    ///
    /// As [`from_env`](Self::from_env), for the environment part.
    pub fn builder_from_env() -> Result<QelosConfigBuilder, ConfigError> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let app_url = var("QELOS_APP_URL").ok_or(ConfigError::MissingAppUrl)?;
        let mut builder = Self::builder(app_url.trim());
        if let Some(token) = var("QELOS_API_TOKEN") {
            builder = builder.api_token(token.trim());
        }
        if let Some(value) = var("QELOS_REQUIRE_AUTH") {
            builder = builder.require_auth(parse_bool("QELOS_REQUIRE_AUTH", &value)?);
        }
        if let Some(value) = var("QELOS_API_PROXY") {
            builder = builder.api_proxy(parse_bool("QELOS_API_PROXY", &value)?);
        }
        if let Some(value) = var("QELOS_SKIP_PATHS") {
            builder = builder.skip_paths(value.split(',').map(str::trim).filter(|p| !p.is_empty()));
        }
        if let Some(value) = var("QELOS_TIMEOUT_MS") {
            let ms: u64 = value.trim().parse().map_err(|_| ConfigError::InvalidEnv {
                var: "QELOS_TIMEOUT_MS",
                reason: "expected a number of milliseconds".into(),
            })?;
            builder = builder.timeout(Duration::from_millis(ms));
        }
        Ok(builder)
    }

    /// `true` when the app mounts the `/api/**` proxy (see
    /// [`QelosConfigBuilder::api_proxy`]).
    pub fn api_proxy(&self) -> bool {
        self.api_proxy
    }

    /// `true` for paths whose context is resolved only on demand: `/api/**` when
    /// [`api_proxy`](Self::api_proxy) is on.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::QelosConfig;
    /// let config = QelosConfig::builder("http://localhost:3000").api_proxy(true).build()?;
    /// assert!(config.is_deferred("/api/blueprints"));
    /// assert!(!config.is_deferred("/apis"));
    /// # Ok::<(), qelos_integrator_core::ConfigError>(())
    /// ```
    pub fn is_deferred(&self, path: &str) -> bool {
        self.api_proxy && path_is_under(path, "/api")
    }

    /// The Qelos application URL.
    pub fn app_url(&self) -> &url::Url {
        self.sdk.app_url()
    }
    /// `true` when an API token is configured (every upstream call then uses `x-api-key`).
    pub fn has_api_token(&self) -> bool {
        self.api_token.is_some()
    }
    /// Name of the access-token cookie.
    pub fn access_token_cookie(&self) -> &str {
        &self.access_cookie
    }
    /// Name of the refresh-token cookie.
    pub fn refresh_token_cookie(&self) -> &str {
        &self.refresh_cookie
    }
    /// Whether anonymous requests are rejected with 401 everywhere.
    pub fn require_auth(&self) -> bool {
        self.require_auth
    }
    /// `true` when some path requires a user (global [`require_auth`](Self::require_auth) or a
    /// [`require_auth_under`](QelosConfigBuilder::require_auth_under) prefix): an adapter whose
    /// middleware runs before routing only needs to look at requests then.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::QelosConfig;
    /// let open = QelosConfig::builder("http://localhost:3000").build()?;
    /// assert!(!open.requires_auth_anywhere());
    /// let config = QelosConfig::builder("http://localhost:3000").require_auth_under("/private");
    /// assert!(config.build()?.requires_auth_anywhere());
    /// # Ok::<(), qelos_integrator_core::ConfigError>(())
    /// ```
    pub fn requires_auth_anywhere(&self) -> bool {
        self.require_auth || !self.require_auth_under.is_empty()
    }
    /// The [`require_auth_under`](QelosConfigBuilder::require_auth_under) prefixes
    /// (normalised like skip paths).
    pub fn require_auth_prefixes(&self) -> &[String] {
        &self.require_auth_under
    }
    /// `true` when anonymous requests to `path` are refused: global
    /// [`require_auth`](Self::require_auth), or `path` under a
    /// [`require_auth_under`](QelosConfigBuilder::require_auth_under) prefix (whole segments).
    /// Skip paths are never refused, whatever this says.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::QelosConfig;
    /// let config = QelosConfig::builder("http://localhost:3000")
    ///     .require_auth_under("/private")
    ///     .build()?;
    /// assert!(config.requires_auth("/private/me"));
    /// assert!(!config.requires_auth("/privateer"));
    /// assert!(!config.requires_auth("/me"));
    /// # Ok::<(), qelos_integrator_core::ConfigError>(())
    /// ```
    pub fn requires_auth(&self, path: &str) -> bool {
        self.require_auth
            || self
                .require_auth_under
                .iter()
                .any(|p| path_is_under(path, p))
    }
    /// The skip-path prefixes (normalised: leading `/`, no trailing `/`).
    pub fn skip_path_prefixes(&self) -> &[String] {
        &self.skip_paths
    }
    /// Per-call upstream timeout.
    pub fn timeout(&self) -> Duration {
        self.sdk.timeout()
    }
    /// Grace window of the refresh single-flight.
    pub fn refresh_grace(&self) -> Duration {
        self.refresh_grace
    }
    /// TTL of the identity cache, when it is on.
    pub fn identity_cache_ttl(&self) -> Option<Duration> {
        self.identity_cache_ttl
    }
    /// The shared store, when one was configured with
    /// [`QelosConfigBuilder::shared_store`].
    pub fn shared_store(&self) -> Option<&Arc<dyn SharedStore>> {
        self.store.as_ref()
    }
    /// TTL of the shared identity cache, when on.
    pub fn shared_identity_cache_ttl(&self) -> Option<Duration> {
        self.shared_identity_ttl
    }
    /// Lifetime of a refresh lock in the shared store.
    pub fn refresh_lock_ttl(&self) -> Duration {
        self.refresh_lock_ttl
    }
    /// Whether written cookies carry `Secure` (every scheme but `http://`).
    pub fn secure_cookies(&self) -> bool {
        self.secure_cookies
    }
    /// The shared base SDK (no credentials) whose HTTP client every request reuses.
    pub fn base_sdk(&self) -> &QelosSdk {
        &self.sdk
    }

    /// The cross-site rule for the login, logout and callback routes (and the proxy).
    pub fn cross_site_policy(&self) -> &crate::cross_site::CrossSitePolicy {
        &self.site.cross_site
    }

    /// What the `/api/**` proxy does with cross-site requests.
    pub fn proxy_cross_site(&self) -> crate::cross_site::ProxyCrossSite {
        self.site.proxy
    }

    /// The origins, besides the request's own, a `next` redirect may go to.
    pub fn redirect_origins(&self) -> &[url::Origin] {
        &self.site.redirect_origins
    }

    /// `true` when `path` is under a skip prefix. Prefixes match whole segments:
    /// `/health` skips `/health` and `/health/db`, not `/healthz`.
    pub fn is_skipped(&self, path: &str) -> bool {
        self.skip_paths.iter().any(|p| path_is_under(path, p))
    }
}

/// Whole-segment prefix match used for skip paths.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::config::path_is_under;
/// assert!(path_is_under("/health", "/health"));
/// assert!(path_is_under("/health/db", "/health"));
/// assert!(!path_is_under("/healthz", "/health"));
/// assert!(path_is_under("/anything", "/"));
/// ```
pub fn path_is_under(path: &str, prefix: &str) -> bool {
    if prefix == "/" || prefix.is_empty() {
        return true;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

/// Validates and normalises path prefixes (leading `/`, no trailing `/`; `/` stays `/`).
fn prefixes(
    raw: Vec<String>,
    invalid: fn(String) -> ConfigError,
) -> Result<Vec<String>, ConfigError> {
    raw.into_iter()
        .map(|p| {
            if !p.starts_with('/') {
                return Err(invalid(p));
            }
            let trimmed = p.trim_end_matches('/');
            Ok(if trimmed.is_empty() { "/" } else { trimmed }.to_owned())
        })
        .collect()
}

fn parse_bool(var: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        other => Err(ConfigError::InvalidEnv {
            var,
            reason: format!("expected true or false, got {other:?}"),
        }),
    }
}

fn valid_cookie_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Builder for [`QelosConfig`]. Setters never fail; problems are reported by [`build`](Self::build).
#[must_use]
pub struct QelosConfigBuilder {
    app_url: String,
    api_token: Option<Secret>,
    access_cookie: String,
    refresh_cookie: String,
    require_auth: bool,
    require_auth_under: Vec<String>,
    skip_paths: Vec<String>,
    timeout: Duration,
    refresh_grace: Duration,
    identity_cache_ttl: Option<Duration>,
    store: Option<Arc<dyn SharedStore>>,
    shared_identity_ttl: Option<Duration>,
    refresh_lock_ttl: Duration,
    api_proxy: bool,
    proxy: ProxySettings,
    client: Option<reqwest::Client>,
    headers: Vec<(String, String)>,
    trusted_origins: Vec<String>,
    redirect_origins: Vec<String>,
    allow_same_site: bool,
    proxy_cross_site: crate::cross_site::ProxyCrossSite,
    on_refresh: Option<SharedHook>,
    sdk_options: Vec<SdkOptions>,
}

/// A change to the per-request SDK's builder, from [`QelosConfigBuilder::sdk_options`].
type SdkOptions = Box<dyn FnOnce(QelosSdkBuilder) -> QelosSdkBuilder + Send>;

impl std::fmt::Debug for QelosConfigBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QelosConfigBuilder")
            .field("app_url", &self.app_url)
            .field("api_token", &self.api_token.as_ref().map(|_| "***"))
            .field("require_auth", &self.require_auth)
            .field("require_auth_under", &self.require_auth_under)
            .field("skip_paths", &self.skip_paths)
            .field("on_token_refresh", &self.on_refresh.is_some())
            .field("sdk_options", &self.sdk_options.len())
            .finish_non_exhaustive()
    }
}

impl QelosConfigBuilder {
    fn new(app_url: String) -> Self {
        Self {
            app_url,
            api_token: None,
            access_cookie: DEFAULT_ACCESS_COOKIE.into(),
            refresh_cookie: DEFAULT_REFRESH_COOKIE.into(),
            require_auth: false,
            require_auth_under: Vec::new(),
            skip_paths: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
            refresh_grace: DEFAULT_REFRESH_GRACE,
            identity_cache_ttl: None,
            store: None,
            shared_identity_ttl: None,
            refresh_lock_ttl: DEFAULT_REFRESH_LOCK_TTL,
            api_proxy: false,
            proxy: ProxySettings::default(),
            client: None,
            headers: Vec::new(),
            trusted_origins: Vec::new(),
            redirect_origins: Vec::new(),
            allow_same_site: false,
            proxy_cross_site: crate::cross_site::ProxyCrossSite::default(),
            on_refresh: None,
            sdk_options: Vec::new(),
        }
    }

    /// Where the `/api/**` proxy forwards to, instead of `QELOS_PROXY_TARGET` / `QELOS_IP` /
    /// `QELOS_API_IP` / the app URL. An empty string means "no target": the proxy answers
    /// `503 QELOS_PROXY_NOT_CONFIGURED`.
    pub fn proxy_target(mut self, target: impl Into<String>) -> Self {
        self.proxy.target = Some(target.into());
        self
    }

    /// Time the proxy waits for the upstream's response headers (default 30 s); then `504`.
    pub fn proxy_timeout(mut self, timeout: Duration) -> Self {
        self.proxy.timeout = Some(timeout);
        self
    }

    /// Largest request body the proxy forwards (default 64 MiB); larger ones get `413`.
    pub fn proxy_body_limit(mut self, bytes: u64) -> Self {
        self.proxy.body_limit = Some(bytes);
        self
    }

    /// Trusts `origin` (`https://admin.example.com`) for state-changing requests: a login,
    /// logout or proxied call whose `Origin` is this is allowed even from another site. Checked
    /// by [`build`](Self::build).
    pub fn trusted_origin(mut self, origin: impl Into<String>) -> Self {
        self.trusted_origins.push(origin.into());
        self
    }

    /// Lets a `next` redirect go to `origin` (`https://shop.example.com`) besides the
    /// request's own host. Checked by [`build`](Self::build).
    pub fn redirect_origin(mut self, origin: impl Into<String>) -> Self {
        self.redirect_origins.push(origin.into());
        self
    }

    /// Counts same-site requests (`Sec-Fetch-Site: same-site`: a sibling subdomain of the same
    /// registrable domain) as the application's own. Off by default: a sibling subdomain is
    /// often run by someone else.
    pub fn allow_same_site(mut self, on: bool) -> Self {
        self.allow_same_site = on;
        self
    }

    /// What the `/api/**` proxy does with cross-site requests (default
    /// [`RefuseUnsafeWithCookies`](crate::cross_site::ProxyCrossSite::RefuseUnsafeWithCookies)).
    pub fn proxy_cross_site(mut self, policy: crate::cross_site::ProxyCrossSite) -> Self {
        self.proxy_cross_site = policy;
        self
    }

    /// Declares that the app mounts the same-origin `/api/**` proxy
    /// ([`proxy::Proxy`](crate::proxy::Proxy)). Requests under `/api/` are then not resolved
    /// by the middleware: the context is resolved only when a handler asks for it (the app's
    /// own `/api/...` routes), so traffic the proxy forwards costs no `/api/me` probe. Off by
    /// default.
    pub fn api_proxy(mut self, on: bool) -> Self {
        self.api_proxy = on;
        self
    }

    /// Authenticate every upstream call with this API token (`x-api-key`) instead of the
    /// caller's tokens. No cookies are read or written and nothing is refreshed.
    pub fn api_token(mut self, token: impl Into<String>) -> Self {
        self.api_token = Some(Secret::new(token.into()));
        self
    }
    /// Name of the access-token cookie (default `q_access_token`).
    pub fn access_token_cookie(mut self, name: impl Into<String>) -> Self {
        self.access_cookie = name.into();
        self
    }
    /// Name of the refresh-token cookie (default `q_refresh_token`).
    pub fn refresh_token_cookie(mut self, name: impl Into<String>) -> Self {
        self.refresh_cookie = name.into();
        self
    }
    /// Reject anonymous requests with `401 {"code":"UNAUTHORIZED"}` (default `false`).
    pub fn require_auth(mut self, on: bool) -> Self {
        self.require_auth = on;
        self
    }
    /// Requires a signed-in user under `prefix` only (repeatable): requests under it behave as
    /// with [`require_auth(true)`](Self::require_auth) (anonymous: `401
    /// {"code":"UNAUTHORIZED"}`; Qelos down: `503 {"code":"QELOS_UNAVAILABLE"}`), the rest of
    /// the app stays open. Prefixes match whole segments, like skip paths: `/private` covers
    /// `/private` and `/private/me`, not `/privateer`; a skip path wins over it. It is the same
    /// integrator, so a refresh is shared with the rest of the app.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::{ConfigError, QelosConfig};
    /// let config = QelosConfig::builder("http://localhost:3000")
    ///     .require_auth_under("/private")
    ///     .require_auth_under("/admin/")
    ///     .build()?;
    /// assert_eq!(config.require_auth_prefixes(), ["/private", "/admin"]);
    /// assert!(matches!(
    ///     QelosConfig::builder("http://localhost:3000").require_auth_under("private").build(),
    ///     Err(ConfigError::InvalidRequireAuthPath(_))
    /// ));
    /// # Ok::<(), ConfigError>(())
    /// ```
    pub fn require_auth_under(mut self, prefix: impl Into<String>) -> Self {
        self.require_auth_under.push(prefix.into());
        self
    }
    /// Adds one skip-path prefix: requests under it get no context and cause no upstream call.
    pub fn skip_path(mut self, prefix: impl Into<String>) -> Self {
        self.skip_paths.push(prefix.into());
        self
    }
    /// Adds several skip-path prefixes.
    pub fn skip_paths<I, S>(mut self, prefixes: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.skip_paths.extend(prefixes.into_iter().map(Into::into));
        self
    }
    /// Per-call timeout of upstream calls (default 10 s). Identity resolution as a whole is
    /// bounded by the same value.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }
    /// How long a finished refresh is remembered for late requests still carrying the old
    /// refresh token (default 30 s).
    pub fn refresh_grace(mut self, grace: Duration) -> Self {
        self.refresh_grace = grace;
        self
    }
    /// Turns on the in-memory identity cache: user and workspaces are remembered for `ttl`,
    /// keyed by a SHA-256 hash of the credential (off by default). An entry is never used after
    /// its access token's JWT `exp`: such a request is refreshed as without the cache. A request
    /// answered from the cache makes no upstream call and awaits nothing.
    pub fn identity_cache(mut self, ttl: Duration) -> Self {
        self.identity_cache_ttl = Some(ttl);
        self
    }
    /// Coordinates refreshes (and, with [`shared_identity_cache`](Self::shared_identity_cache),
    /// caches identities) through `store`, shared by every instance of the app: with several
    /// instances behind a load balancer, two requests carrying the same refresh token then
    /// cause one upstream refresh, not a logout. Default: in-process
    /// ([`MemoryStore`](crate::store::MemoryStore)). See [`docs/scaling.md`](https://github.com/qelos-rs/qelos-rs/blob/main/docs/scaling.md).
    ///
    /// When the store fails or is slow, requests carry on with in-process behaviour and a
    /// `warn!`; they never fail because of it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// use std::time::Duration;
    /// use qelos_integrator_core::{MemoryStore, QelosConfig};
    ///
    /// let config = QelosConfig::builder("https://app.example.com")
    ///     .shared_store(Arc::new(MemoryStore::new()))
    ///     .shared_identity_cache(Duration::from_secs(10))
    ///     .build()?;
    /// assert!(config.shared_store().is_some());
    /// # Ok::<(), qelos_integrator_core::ConfigError>(())
    /// ```
    pub fn shared_store(mut self, store: Arc<dyn SharedStore>) -> Self {
        self.store = Some(store);
        self
    }
    /// Caches user and workspaces in the [`shared_store`](Self::shared_store) for `ttl`, keyed
    /// by a SHA-256 hash of the credential and encrypted under a key derived from it (off by
    /// default). A cached identity outlives a logout by at most `ttl`: keep it short. Without a
    /// shared store it caches in-process, like [`identity_cache`](Self::identity_cache); the
    /// two can be combined (the in-memory cache is looked up first).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use qelos_integrator_core::QelosConfig;
    ///
    /// let config = QelosConfig::builder("https://app.example.com")
    ///     .identity_cache(Duration::from_secs(2))
    ///     .shared_identity_cache(Duration::from_secs(10))
    ///     .build()?;
    /// assert_eq!(config.shared_identity_cache_ttl(), Some(Duration::from_secs(10)));
    /// # Ok::<(), qelos_integrator_core::ConfigError>(())
    /// ```
    pub fn shared_identity_cache(mut self, ttl: Duration) -> Self {
        self.shared_identity_ttl = Some(ttl);
        self
    }
    /// How long a refresh lock lives in the shared store before it expires by itself (default
    /// 5 s). Keep it above the time Qelos takes to answer a refresh: an instance that dies
    /// mid-refresh delays the others by at most this long.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use qelos_integrator_core::QelosConfig;
    ///
    /// let config = QelosConfig::builder("https://app.example.com")
    ///     .refresh_lock_ttl(Duration::from_secs(3))
    ///     .build()?;
    /// assert_eq!(config.refresh_lock_ttl(), Duration::from_secs(3));
    /// # Ok::<(), qelos_integrator_core::ConfigError>(())
    /// ```
    pub fn refresh_lock_ttl(mut self, ttl: Duration) -> Self {
        self.refresh_lock_ttl = ttl;
        self
    }
    /// Uses this `reqwest::Client` (shared, pooled) for every upstream call.
    pub fn http_client(mut self, client: reqwest::Client) -> Self {
        self.client = Some(client);
        self
    }
    /// Sends a custom header (for example `tenant`) on every upstream call.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Changes the builder of the SDK every request uses, after the integrator's own settings
    /// ([`timeout`](Self::timeout), [`http_client`](Self::http_client),
    /// [`header`](Self::header)): any [`QelosSdkBuilder`] option is reachable. A timeout or
    /// client set here replaces the integrator's; headers add to its headers. Called once, by
    /// [`build`](Self::build); several calls apply in order.
    ///
    /// The SDK's [`timeout`](QelosSdkBuilder::timeout) set here is also the bound on identity
    /// resolution ([`QelosConfig::timeout`]). A Qelos served under a path prefix needs no
    /// option: give the prefix in the app URL (`https://host/qelos`), and every call goes to
    /// `https://host/qelos/api/...`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use qelos_integrator_core::QelosConfig;
    ///
    /// let config = QelosConfig::builder("https://host.example.com/qelos")
    ///     .sdk_options(|sdk| sdk.header("tenant", "t1").timeout(Duration::from_secs(3)))
    ///     .build()?;
    /// assert_eq!(config.timeout(), Duration::from_secs(3));
    /// assert_eq!(config.app_url().path(), "/qelos");
    /// # Ok::<(), qelos_integrator_core::ConfigError>(())
    /// ```
    pub fn sdk_options(
        mut self,
        f: impl FnOnce(QelosSdkBuilder) -> QelosSdkBuilder + Send + 'static,
    ) -> Self {
        self.sdk_options.push(Box::new(f));
        self
    }

    /// Runs `hook` after every refresh of a request's tokens, instead of writing the default
    /// token cookies (see [`OnTokenRefresh`]); the same as
    /// [`Integrator::on_token_refresh`](crate::Integrator::on_token_refresh) and the adapters'
    /// `on_token_refresh`, which replace it.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::cookies::SetCookie;
    /// use qelos_integrator_core::{QelosConfig, TokenRefresh};
    ///
    /// let config = QelosConfig::builder("https://app.example.com")
    ///     .on_token_refresh(|event: TokenRefresh| async move {
    ///         event.set_tokens();
    ///         let _ = event.cookies().set(&SetCookie::new("q_refreshed", "1").path("/"));
    ///     })
    ///     .build()?;
    /// # let _ = config;
    /// # Ok::<(), qelos_integrator_core::ConfigError>(())
    /// ```
    pub fn on_token_refresh(mut self, hook: impl OnTokenRefresh) -> Self {
        self.on_refresh = Some(Arc::new(hook));
        self
    }

    /// Validates and builds the configuration, including the shared HTTP client.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Sdk`] for a bad URL or header, [`ConfigError::InvalidCookieName`],
    /// [`ConfigError::InvalidSkipPath`], [`ConfigError::InvalidRequireAuthPath`].
    pub fn build(self) -> Result<QelosConfig, ConfigError> {
        for name in [&self.access_cookie, &self.refresh_cookie] {
            if !valid_cookie_name(name) {
                return Err(ConfigError::InvalidCookieName(name.clone()));
            }
        }
        let skip_paths = prefixes(self.skip_paths, ConfigError::InvalidSkipPath)?;
        let require_auth_under =
            prefixes(self.require_auth_under, ConfigError::InvalidRequireAuthPath)?;
        let trusted = parse_origins(&self.trusted_origins)?;
        let redirect_origins = parse_origins(&self.redirect_origins)?;
        let mut sdk = QelosSdk::builder(self.app_url.trim()).timeout(self.timeout);
        if let Some(client) = self.client {
            sdk = sdk.client(client);
        }
        for (name, value) in &self.headers {
            sdk = sdk.header(name, value);
        }
        for options in self.sdk_options {
            sdk = options(sdk);
        }
        let sdk = sdk.build()?;
        let secure_cookies = !sdk.app_url().scheme().eq_ignore_ascii_case("http");
        Ok(QelosConfig {
            sdk,
            api_token: self.api_token,
            access_cookie: self.access_cookie,
            refresh_cookie: self.refresh_cookie,
            require_auth: self.require_auth,
            require_auth_under,
            skip_paths,
            refresh_grace: self.refresh_grace,
            identity_cache_ttl: self.identity_cache_ttl,
            store: self.store,
            shared_identity_ttl: self.shared_identity_ttl,
            refresh_lock_ttl: self.refresh_lock_ttl,
            secure_cookies,
            api_proxy: self.api_proxy,
            proxy: self.proxy,
            site: SiteSettings {
                cross_site: crate::cross_site::CrossSitePolicy::new(trusted, self.allow_same_site),
                proxy: self.proxy_cross_site,
                redirect_origins,
            },
            on_refresh: self.on_refresh,
        })
    }
}

/// Origins given as `scheme://host[:port]` (a trailing `/` tolerated).
fn parse_origins(raw: &[String]) -> Result<Vec<url::Origin>, ConfigError> {
    raw.iter()
        .map(|o| {
            url::Url::parse(o.trim())
                .ok()
                .filter(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.username().is_empty()
                        && u.password().is_none()
                        && u.path() == "/"
                        && u.query().is_none()
                        && u.fragment().is_none()
                })
                .map(|u| u.origin())
                .ok_or_else(|| ConfigError::InvalidOrigin(o.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skip_prefixes_match_whole_segments() {
        let c = QelosConfig::builder("http://localhost:3000")
            .skip_paths(["/health/", "/static"])
            .build()
            .unwrap();
        assert!(c.is_skipped("/health"));
        assert!(c.is_skipped("/health/db"));
        assert!(!c.is_skipped("/healthz"));
        assert!(c.is_skipped("/static/app.js"));
        assert!(!c.is_skipped("/"));
    }

    #[test]
    fn bad_url_is_a_startup_error() {
        assert!(matches!(
            QelosConfig::builder("not a url").build(),
            Err(ConfigError::Sdk(_))
        ));
    }

    #[test]
    #[cfg(not(any(feature = "rustls", feature = "rustls-ring", feature = "native-tls")))]
    fn an_https_url_without_tls_is_a_startup_error_naming_the_features() {
        let err = QelosConfig::builder("https://app.example.com")
            .build()
            .expect_err("no TLS in this build");
        assert!(matches!(
            err,
            ConfigError::Sdk(qelos_sdk::Error::TlsNotCompiled)
        ));
        assert!(err.to_string().contains("`rustls-ring`"), "{err}");
    }

    #[test]
    fn relative_skip_path_is_refused() {
        assert!(matches!(
            QelosConfig::builder("http://x").skip_path("health").build(),
            Err(ConfigError::InvalidSkipPath(_))
        ));
    }

    #[test]
    fn require_auth_under_matches_whole_segments_and_refuses_relative_prefixes() {
        let config = QelosConfig::builder("http://x")
            .require_auth_under("/private/")
            .require_auth_under("/admin")
            .build()
            .unwrap();
        assert!(!config.require_auth());
        assert!(config.requires_auth("/private"));
        assert!(config.requires_auth("/private/me"));
        assert!(config.requires_auth("/admin/users"));
        assert!(!config.requires_auth("/privateer"));
        assert!(!config.requires_auth("/"));
        assert!(matches!(
            QelosConfig::builder("http://x")
                .require_auth_under("private")
                .build(),
            Err(ConfigError::InvalidRequireAuthPath(p)) if p == "private"
        ));
    }

    #[test]
    fn global_require_auth_covers_every_path() {
        let config = QelosConfig::builder("http://x")
            .require_auth(true)
            .build()
            .unwrap();
        assert!(config.requires_auth("/anything"));
    }

    #[test]
    fn bad_cookie_name_is_refused() {
        assert!(matches!(
            QelosConfig::builder("http://x")
                .access_token_cookie("a;b")
                .build(),
            Err(ConfigError::InvalidCookieName(_))
        ));
    }

    #[test]
    fn secure_cookies_follow_the_scheme() {
        assert!(
            !QelosConfig::builder("http://x")
                .build()
                .unwrap()
                .secure_cookies()
        );
        assert!(
            !QelosConfig::builder("HTTP://x")
                .build()
                .unwrap()
                .secure_cookies()
        );
        assert!(
            QelosConfig::builder("https://x")
                .build()
                .unwrap()
                .secure_cookies()
        );
    }

    #[test]
    fn debug_redacts_the_api_token() {
        let c = QelosConfig::builder("http://x")
            .api_token("ql_topsecret")
            .build()
            .unwrap();
        assert!(!format!("{c:?}").contains("topsecret"));
    }

    #[test]
    fn parse_bool_accepts_the_usual_spellings() {
        assert!(parse_bool("V", "TRUE").unwrap());
        assert!(!parse_bool("V", "0").unwrap());
        assert!(parse_bool("V", "maybe").is_err());
    }
}
