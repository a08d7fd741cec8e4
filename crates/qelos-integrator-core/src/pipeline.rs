//! The integrator pipeline: from a request to a [`QelosContext`] or a [`Rejection`].

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};

use futures_util::future::BoxFuture;
use qelos_sdk::{Auth, QelosSdk, SessionHooks, TokenPair};
use tracing::Instrument as _;

use crate::cache::{Identity, IdentityCache};
use crate::config::QelosConfig;
use crate::context::{
    AnonymousReason, ContextParts, CookieSettings, QelosContext, RequestSdk, ResponseCookies,
};
use crate::context::{Chosen, Jar};
use crate::cookies;
use crate::credentials::{self, RequestCredentials};
use crate::hooks::{self, OnTokenRefresh, SharedHook};
use crate::jwt;
use crate::observe::{self, Throttle, outage_warn};
use crate::refresh::{RefreshCoordinator, RefreshError};
use crate::rejection::Rejection;
use crate::request::{RequestHead, RequestView};
use crate::seal::Sealer;
use crate::state::{Decision, RequestState};
use crate::store::{MemoryStore, SharedStore};
use crate::token_key::TokenKey;
use crate::workspace::{ResolveWorkspace, default_choice};

/// `true` when the pair has no access token, or one whose JWT `exp` has passed.
fn access_expired(tokens: &TokenPair) -> bool {
    tokens
        .access
        .as_ref()
        .is_none_or(|a| jwt::is_expired(a.expose()))
}

impl Shared {
    /// Refreshes `tokens` through the process-wide coordinator and hands the new pair to the
    /// `on_token_refresh` hook, awaited (by default: the two cookies on `cookies`).
    async fn refresh(
        &self,
        request: Option<&Arc<RequestHead>>,
        tokens: &TokenPair,
        cookies: &ResponseCookies,
    ) -> Result<TokenPair, RefreshError> {
        let pair = self.coordinator.refresh(&self.config.sdk, tokens).await?;
        hooks::after_refresh(self.on_refresh.as_ref(), request, tokens, &pair, cookies).await;
        Ok(pair)
    }

    /// The request's head for the hooks that read it (a workspace resolver, a custom
    /// `on_token_refresh`); `None` without them, so that requests copy no headers for nothing.
    fn head_for_hooks<R: RequestView + ?Sized>(&self, request: &R) -> Option<Arc<RequestHead>> {
        (self.resolver.is_some() || self.on_refresh.is_some()).then(|| {
            Arc::new(RequestHead::copy_of(
                request,
                request.headers().into_owned(),
            ))
        })
    }
}

#[derive(Clone)]
struct Shared {
    config: QelosConfig,
    coordinator: Arc<RefreshCoordinator>,
    cache: Option<Arc<IdentityCache>>,
    /// The shared identity cache: the store and the TTL, when on.
    shared_cache: Option<(Arc<dyn SharedStore>, Duration)>,
    resolver: Option<Arc<dyn ResolveWorkspace>>,
    /// The custom `on_token_refresh` hook; `None`: the default token cookies.
    on_refresh: Option<SharedHook>,
    cookie_settings: Arc<CookieSettings>,
    /// One "Qelos unavailable" warning per interval, however many requests see the outage.
    outages: Arc<Throttle>,
}

/// The framework-agnostic integrator. Build one per application, share it (cheap `Clone`),
/// and call [`attach`](Self::attach) once per request.
///
/// # Examples
///
/// ```no_run
/// use qelos_integrator_core::{Integrator, QelosConfig, RequestHead};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let integrator = Integrator::new(QelosConfig::builder("http://localhost:3000").build()?);
/// let request = RequestHead::new("/me").header("authorization", "Bearer …");
/// let state = integrator.attach(&request);
/// match state.admit().await {
///     Ok(()) => {
///         let ctx = state.context().await?;
///         println!("user: {:?}", ctx.user().map(|u| &u.username));
///         let _cookies = state.take_response_cookies(); // after the handler: write these
///     }
///     Err(rejection) => println!("answer {}", rejection.status()),
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Integrator {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Integrator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Integrator")
            .field("config", &self.shared.config)
            .field("custom_resolver", &self.shared.resolver.is_some())
            .finish_non_exhaustive()
    }
}

impl Integrator {
    /// An integrator for `config`, with its own refresh coordinator (and identity cache when
    /// the config turns it on). Refreshes are coordinated through the config's
    /// [`shared_store`](crate::QelosConfigBuilder::shared_store), in-process by default.
    pub fn new(config: QelosConfig) -> Self {
        let cookie_settings = Arc::new(CookieSettings {
            access: config.access_cookie.clone(),
            refresh: config.refresh_cookie.clone(),
            secure: config.secure_cookies,
        });
        let store: Arc<dyn SharedStore> = match &config.store {
            Some(store) => Arc::clone(store),
            None => Arc::new(MemoryStore::new()),
        };
        let coordinator = RefreshCoordinator::new(config.refresh_grace)
            .with_store(Arc::clone(&store))
            .with_lock_ttl(config.refresh_lock_ttl);
        Self {
            shared: Arc::new(Shared {
                coordinator: Arc::new(coordinator),
                shared_cache: config.shared_identity_ttl.map(|ttl| (store, ttl)),
                cache: config
                    .identity_cache_ttl
                    .map(|ttl| Arc::new(IdentityCache::new(ttl))),
                resolver: None,
                on_refresh: config.on_refresh.clone(),
                cookie_settings,
                outages: Arc::new(Throttle::new(observe::OUTAGE_WARN_INTERVAL)),
                config,
            }),
        }
    }

    /// Uses `resolver` to choose each request's workspace (default: [`active_or_first`](crate::workspace::active_or_first)).
    #[must_use]
    pub fn resolve_workspace(mut self, resolver: impl ResolveWorkspace) -> Self {
        Arc::make_mut(&mut self.shared).resolver = Some(Arc::new(resolver));
        self
    }

    /// Runs `hook` after each refresh instead of writing the default cookies (see
    /// [`OnTokenRefresh`]); replaces a hook given to
    /// [`QelosConfigBuilder::on_token_refresh`](crate::QelosConfigBuilder::on_token_refresh).
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::{Integrator, QelosConfig, TokenRefresh};
    /// # fn run() -> Result<(), qelos_integrator_core::ConfigError> {
    /// let integrator = Integrator::new(QelosConfig::builder("http://localhost:3000").build()?)
    ///     .on_token_refresh(|event: TokenRefresh| async move {
    ///         tracing::info!(path = %event.request().path, "refreshed");
    ///         event.set_tokens();
    ///     });
    /// # let _ = integrator;
    /// # Ok(()) }
    /// ```
    #[must_use]
    pub fn on_token_refresh(mut self, hook: impl OnTokenRefresh) -> Self {
        Arc::make_mut(&mut self.shared).on_refresh = Some(Arc::new(hook));
        self
    }

    /// Shares one refresh coordinator between integrators (for example several routers in one
    /// process).
    #[must_use]
    pub fn with_refresh_coordinator(mut self, coordinator: Arc<RefreshCoordinator>) -> Self {
        Arc::make_mut(&mut self.shared).coordinator = coordinator;
        self
    }

    /// The configuration.
    pub fn config(&self) -> &QelosConfig {
        &self.shared.config
    }

    /// The request's [`RequestState`], for the adapter to leave in the request. The request is
    /// read synchronously, before this returns, so the state owns everything it needs: it is
    /// `Send + Sync + 'static` even when the request type is not (actix).
    ///
    /// Requests under a skip path, requests without credentials and identities the cache knows
    /// are decided here, without any upstream call ([`RequestState::is_settled`]); the others
    /// are identified when the middleware awaits [`RequestState::admit`] (or, under `/api/`
    /// with the proxy on, when an extractor first asks).
    pub fn attach<R>(&self, request: &R) -> RequestState
    where
        R: RequestView + ?Sized,
    {
        let span = resolve_span(request.path());
        let started = observe::wants_clock(&span).then(Instant::now);
        match self.start(request, true) {
            Start::Skipped => {
                observe::finish(&span, observe::SKIPPED, "none", false, started);
                RequestState::skipped()
            }
            Start::Defer(head) => {
                observe::finish(&span, observe::DEFERRED, "none", false, started);
                let integrator = self.clone();
                let head = Arc::new(head);
                RequestState::on_demand(Box::new(move || {
                    let (integrator, head) = (integrator.clone(), Arc::clone(&head));
                    Box::pin(async move { integrator.resolve_now(&head).await })
                }))
            }
            Start::Done(decision) => {
                let labels = observe::labels(&decision);
                observe::finish(&span, labels, ready_source(&decision), false, started);
                RequestState::decided(decision)
            }
            Start::Identify(job) => {
                let shared = Arc::clone(&self.shared);
                let job = Arc::new(job);
                RequestState::pending(Box::new(move || {
                    let (shared, job) = (Arc::clone(&shared), Arc::clone(&job));
                    // Kept under 1 KiB (tested): allocations up to that size take the
                    // allocator's per-thread fast path.
                    Box::pin(identify(shared, job, started).instrument(span.clone()))
                }))
            }
        }
    }

    /// The request's [`RequestSlot`](crate::adapter::RequestSlot), for a middleware that runs
    /// before routing and cannot answer a request itself (Rocket's fairing): [`attach`](Self::attach)
    /// (no upstream call), remembering whether the path requires a user.
    pub fn attach_slot<R>(&self, request: &R) -> crate::adapter::RequestSlot
    where
        R: RequestView + ?Sized,
    {
        let required = self.shared.config.requires_auth(request.path());
        crate::adapter::RequestSlot::new(self.attach(request), required)
    }

    /// The request's context, or the refusal to answer instead of the handler: [`attach`](Self::attach)
    /// and [`RequestState::context`] in one call, for code that serves a request from start to
    /// end itself (a custom framework, a test, a job).
    ///
    /// # Errors
    ///
    /// The request's refusal; `500 QELOS_MIDDLEWARE_MISSING` on a skip path.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// use qelos_integrator_core::{Integrator, QelosConfig, RequestHead};
    /// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
    /// let integrator = Integrator::new(QelosConfig::builder("http://localhost:3000").build()?);
    /// let ctx = integrator.resolve(&RequestHead::new("/").header("authorization", "Bearer …")).await?;
    /// println!("{:?}", ctx.user().map(|u| &u.username));
    /// # Ok(()) }
    /// ```
    pub fn resolve<R>(
        &self,
        request: &R,
    ) -> impl std::future::Future<Output = Decision> + Send + 'static
    where
        R: RequestView + ?Sized,
    {
        let state = self.attach(request);
        async move { state.context().await }
    }

    /// Resolves now, even on deferred paths: an on-demand state's resolution.
    async fn resolve_now(&self, head: &RequestHead) -> Decision {
        let span = resolve_span(&head.path);
        let started = observe::wants_clock(&span).then(Instant::now);
        match self.start(head, false) {
            Start::Done(decision) => {
                let labels = observe::labels(&decision);
                observe::finish(&span, labels, ready_source(&decision), false, started);
                decision
            }
            Start::Identify(job) => {
                identify(Arc::clone(&self.shared), Arc::new(job), started)
                    .instrument(span)
                    .await
            }
            // A skipped path never defers; answer as for a request without credentials.
            Start::Skipped | Start::Defer(_) => {
                let required = self.shared.config.requires_auth(&head.path);
                anonymous(&self.shared, AnonymousReason::NoCredentials, required)
            }
        }
    }

    /// The access token a proxied request should carry when it has no `Authorization`: the one
    /// in the integrator's access cookie, refreshed first (once per refresh token across the
    /// process, like every refresh) when its JWT has expired; with the `Set-Cookie` values of
    /// that refresh. `None`: forward the request as it is.
    pub(crate) async fn proxy_credentials(
        &self,
        request: &http::request::Parts,
    ) -> Option<(qelos_sdk::Secret, Vec<String>)> {
        let headers = &request.headers;
        let shared = &self.shared;
        let config = &shared.config;
        if config.api_token.is_some() || headers.contains_key(http::header::AUTHORIZATION) {
            return None;
        }
        let creds = credentials::read_map(headers, &config.access_cookie, &config.refresh_cookie);
        let tokens = TokenPair::new(creds.access, creds.refresh);
        if !access_expired(&tokens) {
            return tokens.access.map(|access| (access, Vec::new()));
        }
        tokens.refresh.as_ref()?;
        let cookies = ResponseCookies::new(Arc::clone(&shared.cookie_settings));
        let span = tracing::debug_span!("qelos.proxy.refresh");
        let head = shared
            .on_refresh
            .is_some()
            .then(|| Arc::new(RequestHead::from_parts(request)));
        let pair = shared
            .refresh(head.as_ref(), &tokens, &cookies)
            .instrument(span)
            .await
            .ok()?;
        let access = pair.access?;
        Some((access, cookies.take()))
    }

    fn start<R: RequestView + ?Sized>(&self, request: &R, defer: bool) -> Start {
        let shared = &self.shared;
        let config = &shared.config;
        let path = request.path();
        if config.is_skipped(path) {
            return Start::Skipped;
        }
        if defer && config.is_deferred(path) {
            let head = RequestHead::copy_of(request, request.headers().into_owned());
            return Start::Defer(head);
        }
        let required = config.requires_auth(path);
        let caller = config.api_token.is_none();
        if caller
            && !request.has_header(&http::header::AUTHORIZATION)
            && !request.has_header(&http::header::COOKIE)
        {
            // No credentials: decided without reading (or converting) the headers.
            return Start::Done(anonymous(shared, AnonymousReason::NoCredentials, required));
        }
        let (creds, mode) = match &config.api_token {
            Some(token) => (RequestCredentials::default(), Mode::ApiToken(token.clone())),
            None => {
                let creds =
                    credentials::read(request, &config.access_cookie, &config.refresh_cookie);
                if creds.is_empty() {
                    let reason = if creds.garbage {
                        AnonymousReason::InvalidCredentials
                    } else {
                        AnonymousReason::NoCredentials
                    };
                    return Start::Done(anonymous(shared, reason, required));
                }
                if shared.resolver.is_none()
                    && let Some(identity) = cached_identity(shared, &creds)
                {
                    let host = request.host();
                    let head = shared.head_for_hooks(request);
                    return Start::Done(from_cache(shared, creds, host, head, identity));
                }
                (creds, Mode::Caller)
            }
        };
        let head = shared.head_for_hooks(request);
        Start::Identify(Job {
            creds,
            mode,
            host: request.host(),
            head,
            required,
        })
    }
}

/// The `qelos.resolve` span: the path now, the outcome fields when the request is decided
/// (see `docs/operations.md`). Free when no subscriber listens at `debug`.
fn resolve_span(path: &str) -> tracing::Span {
    if !observe::debug_spans() {
        return tracing::Span::none();
    }
    tracing::debug_span!(
        "qelos.resolve",
        path = %path,
        outcome = tracing::field::Empty,
        reason = tracing::field::Empty,
        cache = tracing::field::Empty,
        refreshed = tracing::field::Empty,
        elapsed_us = tracing::field::Empty,
    )
}

/// Where the identity of a request decided without an upstream call came from: a signed-in
/// request decided early was answered by the in-memory cache.
fn ready_source(decision: &Decision) -> observe::CacheLabel {
    match decision {
        Ok(ctx) if ctx.is_authenticated() => "memory",
        _ => "none",
    }
}

/// A request without usable credentials, decided before any upstream call; `required`: its
/// path requires a user ([`QelosConfig::requires_auth`]).
fn anonymous(shared: &Arc<Shared>, reason: AnonymousReason, required: bool) -> Decision {
    let cookies = Jar::on_first_use(Arc::clone(&shared.cookie_settings));
    finish_anonymous(shared, reason, cookies, None, required)
}

enum Mode {
    ApiToken(qelos_sdk::Secret),
    Caller,
}

struct Job {
    creds: RequestCredentials,
    mode: Mode,
    /// The request's `Host`, for the domain of Qelos's own cookies.
    host: Option<http::HeaderValue>,
    /// For the workspace resolver and the `on_token_refresh` hook, when either is set.
    head: Option<Arc<RequestHead>>,
    /// The path requires a user (global `require_auth` or `require_auth_under`).
    required: bool,
}

enum Start {
    Skipped,
    Defer(RequestHead),
    Done(Decision),
    Identify(Job),
}

fn finish_anonymous(
    shared: &Shared,
    reason: AnonymousReason,
    cookies: Jar,
    sdk: Option<QelosSdk>,
    required: bool,
) -> Decision {
    if required {
        let rejection = if reason == AnonymousReason::Unavailable {
            Rejection::unavailable()
        } else {
            Rejection::unauthorized()
        };
        return Err(rejection.with_cookies(cookies.take()));
    }
    Ok(QelosContext::new(ContextParts {
        identity: None,
        workspace: Chosen::None,
        sdk: RequestSdk::Ready(sdk.unwrap_or_else(|| shared.config.sdk.clone())),
        tokens: TokenPair::default(),
        anonymous: Some(reason),
        cookies,
    }))
}

/// The identity the cache remembers for the request's access token, if any. A hit needs no
/// look at the token's JWT: the entry knows when the token expires.
fn cached_identity(shared: &Shared, creds: &RequestCredentials) -> Option<Arc<Identity>> {
    let cache = shared.cache.as_ref()?;
    let access = creds.access.as_ref()?;
    cache.get(&TokenKey::new("access", access.expose()), now_s())
}

/// A request answered from the identity cache, without a future: the context is built here.
/// Its SDK, bound to the request's tokens and hooks as for an identity fetched upstream, is
/// built when the handler first asks for it.
fn from_cache(
    shared: &Arc<Shared>,
    creds: RequestCredentials,
    host: Option<http::HeaderValue>,
    head: Option<Arc<RequestHead>>,
    identity: Arc<Identity>,
) -> Decision {
    let cookies = ResponseCookies::new(Arc::clone(&shared.cookie_settings));
    let tokens = TokenPair::new(creds.access, creds.refresh);
    let workspace = default_choice(&identity.user, &identity.workspaces);
    let sdk = {
        let (shared, cookies, tokens) = (Arc::clone(shared), cookies.clone(), tokens.clone());
        RequestSdk::on_first_use(move || {
            let hooks: Arc<dyn SessionHooks> =
                RequestHooks::new(&shared, &cookies, host.clone(), head.clone());
            let auth = Auth::OAuth(tokens.clone());
            shared.config.sdk.with_auth(auth, Some(hooks))
        })
    };
    Ok(QelosContext::new(ContextParts {
        tokens,
        identity: Some(identity),
        workspace,
        sdk,
        anonymous: None,
        cookies: Jar::Made(cookies),
    }))
}

/// The context of a signed-in request.
fn signed_in(
    sdk: QelosSdk,
    identity: Arc<Identity>,
    workspace: Chosen,
    cookies: ResponseCookies,
) -> Decision {
    Ok(QelosContext::new(ContextParts {
        tokens: sdk.tokens(),
        identity: Some(identity),
        workspace,
        sdk: RequestSdk::Ready(sdk),
        anonymous: None,
        cookies: Jar::Made(cookies),
    }))
}

/// The SDK hooks of one request: refreshes go through the process-wide coordinator, new tokens
/// and Qelos's own `Set-Cookie`s land in the response's cookie queue.
struct RequestHooks {
    shared: Arc<Shared>,
    cookies: ResponseCookies,
    /// The request's `Host`: Qelos's own cookies are rewritten to its domain.
    host: Option<http::HeaderValue>,
    /// The request, for the `on_token_refresh` hook.
    head: Option<Arc<RequestHead>>,
    session_dead: AtomicBool,
    /// A refresh ran for this request (before or during the identifying calls).
    refreshed: AtomicBool,
    /// Where the identity came from ([`Source`]).
    source: AtomicU8,
}

/// Where a request's identity came from, for the span and the metrics.
#[derive(Clone, Copy)]
#[repr(u8)]
enum Source {
    None = 0,
    Memory = 1,
    Shared = 2,
    Upstream = 3,
}

impl Source {
    fn label(raw: u8) -> observe::CacheLabel {
        match raw {
            1 => "memory",
            2 => "shared",
            3 => "upstream",
            _ => "none",
        }
    }
}

impl SessionHooks for RequestHooks {
    fn refresh<'a>(
        &'a self,
        sdk: &'a QelosSdk,
        current: &'a TokenPair,
    ) -> BoxFuture<'a, Result<TokenPair, qelos_sdk::Error>> {
        Box::pin(async move {
            self.refreshed.store(true, Ordering::Relaxed);
            match self.shared.coordinator.refresh(sdk, current).await {
                Ok(pair) => {
                    // The hook runs here rather than in `on_tokens` (synchronous): the SDK awaits
                    // it before retrying the call, so its cookies are queued before the handler
                    // returns.
                    let hook = self.shared.on_refresh.as_ref();
                    hooks::after_refresh(hook, self.head.as_ref(), current, &pair, &self.cookies)
                        .await;
                    Ok(pair)
                }
                Err(RefreshError::Unavailable(message)) => Err(qelos_sdk::Error::Network(message)),
                Err(RefreshError::NoRefreshToken) => Err(qelos_sdk::Error::NoRefreshToken),
                Err(_) => {
                    self.mark_dead();
                    Err(qelos_sdk::Error::Api {
                        status: 401,
                        message: "the session has expired".into(),
                    })
                }
            }
        })
    }

    fn on_set_cookie(&self, set_cookie: &[String]) {
        if set_cookie.is_empty() {
            return;
        }
        let domain = credentials::inbound_cookie_domain(self.host.as_ref());
        for value in set_cookie {
            self.cookies
                .push(cookies::rewrite_domain(value, domain.as_deref()));
        }
    }
}

impl RequestHooks {
    fn new(
        shared: &Arc<Shared>,
        cookies: &ResponseCookies,
        host: Option<http::HeaderValue>,
        head: Option<Arc<RequestHead>>,
    ) -> Arc<Self> {
        Arc::new(Self {
            shared: Arc::clone(shared),
            cookies: cookies.clone(),
            host,
            head,
            session_dead: AtomicBool::new(false),
            refreshed: AtomicBool::new(false),
            source: AtomicU8::new(Source::None as u8),
        })
    }

    fn set_source(&self, source: Source) {
        self.source.store(source as u8, Ordering::Relaxed);
    }

    fn mark_dead(&self) {
        if !self.session_dead.swap(true, Ordering::AcqRel) {
            self.cookies.expire_tokens();
        }
    }
}

async fn identify(shared: Arc<Shared>, job: Arc<Job>, started: Option<Instant>) -> Decision {
    let cookies = ResponseCookies::new(Arc::clone(&shared.cookie_settings));
    let hooks = RequestHooks::new(&shared, &cookies, job.host.clone(), job.head.clone());
    let decision = decide(&shared, &job, &hooks, cookies).await;
    // The `qelos.resolve` span this future runs in, when debug spans are on; otherwise none
    // (the current span would be the application's).
    let span = if observe::debug_spans() {
        tracing::Span::current()
    } else {
        tracing::Span::none()
    };
    observe::finish(
        &span,
        observe::labels(&decision),
        Source::label(hooks.source.load(Ordering::Relaxed)),
        hooks.refreshed.load(Ordering::Relaxed),
        started,
    );
    decision
}

/// The identification of a request with credentials: the upstream calls, the workspace, and
/// the decision.
async fn decide(
    shared: &Arc<Shared>,
    job: &Job,
    hooks: &Arc<RequestHooks>,
    cookies: ResponseCookies,
) -> Decision {
    let deadline = shared.config.timeout();
    // One timer for the whole identification (both calls, a refresh, the retry): the SDK calls
    // inside skip their own per-call timeouts. Timers are a measurable cost per request under
    // load (docs/benchmarks.md).
    let attempt = qelos_sdk::with_deadline(deadline, authenticate(shared, job, hooks)).await;
    let (reason, sdk) = match attempt {
        Some(Authenticated::User(identified)) => {
            let Identified { sdk, identity } = *identified;
            let (user, workspaces) = (&identity.user, identity.workspaces.as_slice());
            let workspace = match (&shared.resolver, &job.head) {
                (Some(resolver), Some(head)) => resolver
                    .resolve(head, user, workspaces)
                    .await
                    .map_or(Chosen::None, Chosen::Custom),
                _ => default_choice(user, workspaces),
            };
            tracing::debug!(user = %user.id, "request authenticated");
            return signed_in(sdk, identity, workspace, cookies);
        }
        Some(Authenticated::Anonymous(reason, sdk)) => (reason, sdk),
        None => {
            outage_warn!(shared.outages, timeout = ?deadline, "Qelos did not answer in time; request continues anonymous");
            (AnonymousReason::Unavailable, None)
        }
    };
    let reason = if hooks.session_dead.load(Ordering::Acquire) {
        AnonymousReason::SessionExpired
    } else {
        reason
    };
    finish_anonymous(shared, reason, Jar::Made(cookies), sdk, job.required)
}

enum Authenticated {
    User(Box<Identified>),
    Anonymous(AnonymousReason, Option<QelosSdk>),
}

struct Identified {
    sdk: QelosSdk,
    identity: Arc<Identity>,
}

async fn authenticate(shared: &Arc<Shared>, job: &Job, hooks: &Arc<RequestHooks>) -> Authenticated {
    let base = &shared.config.sdk;
    let dyn_hooks =
        || -> Option<Arc<dyn SessionHooks>> { Some(Arc::clone(hooks) as Arc<dyn SessionHooks>) };
    let sdk = match &job.mode {
        Mode::ApiToken(token) => base.with_auth(Auth::ApiToken(token.clone()), None),
        Mode::Caller => {
            let creds = &job.creds;
            if creds.access.is_some() || creds.refresh.is_some() {
                let mut tokens = TokenPair::new(creds.access.clone(), creds.refresh.clone());
                if access_expired(&tokens) {
                    if tokens.refresh.is_none() {
                        // A known-expired access token and nothing to refresh it with: the
                        // session is over, without spending a round trip on a certain 401.
                        if let Some(cookie) = &creds.session_cookie {
                            base.with_auth(Auth::CookieSession(cookie.clone()), dyn_hooks())
                        } else {
                            hooks.mark_dead();
                            return Authenticated::Anonymous(AnonymousReason::SessionExpired, None);
                        }
                    } else {
                        // Boxed: refreshing is rare, and inline it would enlarge every
                        // request's future.
                        hooks.refreshed.store(true, Ordering::Relaxed);
                        let refresh = shared.refresh(job.head.as_ref(), &tokens, &hooks.cookies);
                        match Box::pin(refresh).await {
                            Ok(pair) => tokens = pair,
                            Err(RefreshError::Unavailable(_)) => {
                                return Authenticated::Anonymous(
                                    AnonymousReason::Unavailable,
                                    None,
                                );
                            }
                            Err(_) => {
                                hooks.mark_dead();
                                return Authenticated::Anonymous(
                                    AnonymousReason::SessionExpired,
                                    None,
                                );
                            }
                        }
                        base.with_auth(Auth::OAuth(tokens), dyn_hooks())
                    }
                } else {
                    base.with_auth(Auth::OAuth(tokens), dyn_hooks())
                }
            } else if let Some(cookie) = &creds.session_cookie {
                base.with_auth(Auth::CookieSession(cookie.clone()), dyn_hooks())
            } else {
                return Authenticated::Anonymous(AnonymousReason::NoCredentials, None);
            }
        }
    };

    let caching = shared.cache.is_some() || shared.shared_cache.is_some();
    let before = if caching { credential(&sdk, job) } else { None };
    let cache_key = before
        .as_ref()
        .map(|(kind, token)| TokenKey::new(kind, token.expose()));
    if let (Some(cache), Some(key)) = (&shared.cache, &cache_key)
        && let Some(identity) = cache.get(key, now_s())
    {
        hooks.set_source(Source::Memory);
        return Authenticated::User(Box::new(Identified { sdk, identity }));
    }
    let exp_before = before.as_ref().and_then(credential_exp);
    let shared_entry = match (&shared.shared_cache, before, &cache_key) {
        (Some((store, ttl)), Some((kind, token)), Some(key)) => Some(SharedIdentity {
            store: store.as_ref(),
            outages: &shared.outages,
            ttl: *ttl,
            key: format!("identity:{}", key.to_hex()),
            sealer: Sealer::new(&format!("{kind}-identity"), token.expose()),
        }),
        _ => None,
    };
    if let Some(entry) = &shared_entry
        && let Some(identity) = Box::pin(entry.get()).await
    {
        hooks.set_source(Source::Shared);
        let identity = Arc::new(identity);
        if let (Some(cache), Some(key)) = (&shared.cache, cache_key) {
            cache.insert(key, Arc::clone(&identity), exp_before);
        }
        return Authenticated::User(Box::new(Identified { sdk, identity }));
    }

    let workspaces_api = sdk.workspaces();
    hooks.set_source(Source::Upstream);
    // Both answers are read concurrently and decoded together once both are in: the decoded
    // user and workspaces are then allocated on the worker that goes on to run the handler and
    // drop them. Decoded as each arrived, on a multi-threaded runtime they were often allocated
    // on one worker and freed on the other, a slow path of the allocator (measured: 14 more
    // cross-thread frees per signed-in request than the hand-written lower bound).
    // Boxed: the two calls' futures are most of this future's size, which every request's
    // boxed resolution would otherwise copy whole.
    let ((me, me_lap), (workspaces, workspaces_lap)) = futures_util::future::join(
        Box::pin(observe::metrics::lap(sdk.fetch_logged_in_user())),
        Box::pin(observe::metrics::lap(workspaces_api.fetch_list())),
    )
    .await;
    // Decoded in a plain function: only the shared identity is held across the await below,
    // not the decoded user (the match's scrutinee would be, and it is large).
    match decode_identity(shared, (me, me_lap), (workspaces, workspaces_lap)) {
        Ok(identity) => {
            // Key by the credential the next request will carry (after a refresh inside the
            // calls above: the new one).
            if let Some(found) = caching.then(|| credential(&sdk, job)).flatten() {
                let (kind, token) = &found;
                let key = TokenKey::new(kind, token.expose());
                if let Some(cache) = &shared.cache {
                    cache.insert(key, Arc::clone(&identity), credential_exp(&found));
                }
                if let Some((store, ttl)) = &shared.shared_cache {
                    let entry = SharedIdentity {
                        store: store.as_ref(),
                        outages: &shared.outages,
                        ttl: *ttl,
                        key: format!("identity:{}", key.to_hex()),
                        sealer: Sealer::new(&format!("{kind}-identity"), token.expose()),
                    };
                    Box::pin(entry.put(&identity)).await;
                }
            }
            Authenticated::User(Box::new(Identified { sdk, identity }))
        }
        // Qelos refuses credentials with 401 (403 where an impersonation target is unknown);
        // any other answer (a 404 from a router or gateway mid-restart, a 429, a 5xx, garbage)
        // says nothing about them: the request goes on anonymous as during an outage (found
        // by the fault suite: Qelos restarting answered 404 and `/secret` answered 401).
        Err(err) if err.is_unavailable() || !matches!(err.status(), Some(401 | 403) | None) => {
            outage_warn!(shared.outages, error = %err, "Qelos unavailable while resolving the user; request continues anonymous");
            Authenticated::Anonymous(AnonymousReason::Unavailable, Some(sdk))
        }
        Err(err) => {
            tracing::debug!(error = %err, "Qelos refused the credentials");
            Authenticated::Anonymous(AnonymousReason::InvalidCredentials, Some(sdk))
        }
    }
}

type Fetched<T> = (
    Result<qelos_sdk::Answer<T>, qelos_sdk::Error>,
    observe::metrics::Lap,
);

/// The identity from the two identifying answers, decoded together (each call recorded in the
/// metrics once its result is final). A workspace list that cannot be read is an empty one.
fn decode_identity(
    shared: &Shared,
    (me, me_lap): Fetched<qelos_sdk::User>,
    (workspaces, workspaces_lap): Fetched<Vec<qelos_sdk::Workspace>>,
) -> Result<Arc<Identity>, qelos_sdk::Error> {
    let me = me.and_then(qelos_sdk::Answer::decode);
    observe::metrics::record("me", me_lap, &me);
    let workspaces = workspaces.and_then(qelos_sdk::Answer::decode);
    observe::metrics::record("workspaces", workspaces_lap, &workspaces);
    let user = me?;
    let workspaces = workspaces.unwrap_or_else(|err| {
        outage_warn!(shared.outages, error = %err, "could not list workspaces; continuing with none");
        Vec::new()
    });
    Ok(Arc::new(Identity { user, workspaces }))
}

/// When a cached credential expires: the `exp` of an access token's JWT.
fn credential_exp((kind, token): &(&'static str, qelos_sdk::Secret)) -> Option<u64> {
    (*kind == "access")
        .then(|| jwt::peek_exp(token.expose()))
        .flatten()
}

/// Seconds since the Unix epoch.
fn now_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The credential the identity is cached under: its kind and value.
fn credential(sdk: &QelosSdk, job: &Job) -> Option<(&'static str, qelos_sdk::Secret)> {
    match &job.mode {
        Mode::ApiToken(token) => Some(("api-token", token.clone())),
        Mode::Caller => match sdk.tokens().access {
            Some(access) => Some(("access", access)),
            None => job
                .creds
                .session_cookie
                .clone()
                .map(|c| ("session-cookie", c)),
        },
    }
}

/// One identity in the shared store: sealed under a key derived from its credential.
struct SharedIdentity<'a> {
    store: &'a dyn SharedStore,
    outages: &'a Throttle,
    ttl: Duration,
    key: String,
    sealer: Sealer,
}

impl SharedIdentity<'_> {
    async fn get(&self) -> Option<Identity> {
        let found = tokio::time::timeout(crate::refresh::STORE_TIMEOUT, self.store.get(&self.key))
            .await
            .unwrap_or(Err(crate::store::StoreError::Timeout));
        match found {
            Ok(Some(sealed)) => {
                let identity = self
                    .sealer
                    .open(&self.key, &sealed)
                    .and_then(|plain| serde_json::from_slice(&plain).ok());
                if identity.is_none() {
                    tracing::warn!("unreadable identity in the shared store; ignoring it");
                }
                identity
            }
            Ok(None) => None,
            Err(err) => {
                outage_warn!(self.outages, error = %err, "shared identity cache unavailable; asking Qelos");
                None
            }
        }
    }

    async fn put(&self, identity: &Identity) {
        let Some(sealed) = serde_json::to_vec(identity)
            .ok()
            .and_then(|plain| self.sealer.seal(&self.key, &plain))
        else {
            return;
        };
        let stored = tokio::time::timeout(
            crate::refresh::STORE_TIMEOUT,
            self.store.set(&self.key, sealed, self.ttl),
        )
        .await
        .unwrap_or(Err(crate::store::StoreError::Timeout));
        if let Err(err) = stored {
            outage_warn!(self.outages, error = %err, "could not write the shared identity cache");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// glibc serves allocations of up to 1032 bytes from a per-thread cache; larger ones take
    /// the locked arena path, which showed up as a cost per request under load. Every
    /// identifying request boxes this future once.
    #[test]
    fn an_identifying_requests_boxed_future_stays_under_one_kib() {
        let integrator =
            Integrator::new(QelosConfig::builder("http://127.0.0.1:9").build().unwrap());
        let head = RequestHead::new("/me").header("authorization", "Bearer abc");
        let Start::Identify(job) = integrator.start(&head, true) else {
            panic!("a request with a bearer token is identified");
        };
        let boxed = identify(Arc::clone(&integrator.shared), Arc::new(job), None)
            .instrument(tracing::Span::none());
        let size = std::mem::size_of_val(&boxed);
        assert!(size <= 1024, "identification future is {size} bytes");
    }

    #[tokio::test]
    async fn an_anonymous_context_writes_only_the_cookies_its_own_handler_sets() {
        let integrator =
            Integrator::new(QelosConfig::builder("http://127.0.0.1:9").build().unwrap());
        let first = integrator.resolve(&RequestHead::new("/")).await.unwrap();
        let second = integrator.resolve(&RequestHead::new("/")).await.unwrap();
        assert!(
            first.take_response_cookies().is_empty(),
            "nothing written, nothing sent"
        );
        let cookie = crate::cookies::SetCookie::new("theme", "dark");
        first.response_cookies().set(&cookie).unwrap();
        first.clone().response_cookies().push("seen=1".to_owned());
        let written = first.take_response_cookies();
        assert_eq!(written.len(), 2, "{written:?}");
        assert!(written[0].starts_with("theme=dark"), "{written:?}");
        assert!(
            second.take_response_cookies().is_empty(),
            "another request's jar is its own"
        );
    }
}
