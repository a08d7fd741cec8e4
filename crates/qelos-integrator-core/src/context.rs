//! The per-request context handed to handlers, and the cookies that go back with the response.

use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use qelos_sdk::{AuthKind, QelosSdk, TokenPair, User, Workspace};

use crate::cache::Identity;
use crate::cookies;
use crate::rejection::Rejection;

/// Why a request is anonymous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AnonymousReason {
    /// The request carried no credentials (no upstream call was made).
    NoCredentials,
    /// Qelos refused the credentials (invalid token, no such user).
    InvalidCredentials,
    /// The session ended: the access token expired and the refresh token was refused or absent.
    /// The response expires the token cookies.
    SessionExpired,
    /// Qelos could not be reached (connect error, timeout, 5xx, garbage). Not a logout.
    Unavailable,
}

/// Cookie names and attributes for the integrator's own token cookies.
#[derive(Clone, Debug)]
pub(crate) struct CookieSettings {
    pub(crate) access: String,
    pub(crate) refresh: String,
    pub(crate) secure: bool,
}

/// The `Set-Cookie` values collected for one response: written by the pipeline and by the
/// request SDK (a refresh inside the handler), read by the adapter after the handler ran.
///
/// Cheap to clone (shared). `Debug` shows only how many cookies are waiting.
#[derive(Clone)]
pub struct ResponseCookies {
    settings: Arc<CookieSettings>,
    values: Arc<Mutex<Vec<String>>>,
}

impl std::fmt::Debug for ResponseCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseCookies")
            .field("pending", &self.len())
            .finish()
    }
}

impl ResponseCookies {
    pub(crate) fn new(settings: Arc<CookieSettings>) -> Self {
        Self {
            settings,
            values: Arc::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<String>> {
        // A poisoned lock only means another thread panicked while pushing a string; the
        // vector itself is still valid.
        self.values.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues a raw `Set-Cookie` value.
    pub fn push(&self, set_cookie: String) {
        self.lock().push(set_cookie);
    }

    /// Queues the integrator token cookies for `tokens` (contract step 7): the access cookie,
    /// and the refresh cookie when the pair has a refresh token. `Path=/; HttpOnly;
    /// SameSite=Lax`, plus `Secure` unless the Qelos URL is `http://`.
    pub fn set_tokens(&self, tokens: &TokenPair) {
        let s = &self.settings;
        let mut values = self.lock();
        if let Some(access) = &tokens.access {
            values.push(cookies::token_cookie(&s.access, access.expose(), s.secure));
        }
        if let Some(refresh) = &tokens.refresh {
            values.push(cookies::token_cookie(
                &s.refresh,
                refresh.expose(),
                s.secure,
            ));
        }
    }

    /// Queues any cookie, with its attributes. `Secure` follows the token cookies unless the
    /// cookie sets it (see [`SetCookie`](cookies::SetCookie)).
    ///
    /// # Errors
    ///
    /// [`CookieError`](cookies::CookieError) for a name, path or domain a `Set-Cookie` cannot
    /// carry; nothing is queued then.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::cookies::{CookieError, SetCookie};
    /// # fn hook(cookies: &qelos_integrator_core::ResponseCookies) -> Result<(), CookieError> {
    /// cookies.set(&SetCookie::new("q_refreshed", "1").path("/").http_only(true))?;
    /// # Ok(()) }
    /// ```
    pub fn set(&self, cookie: &cookies::SetCookie) -> Result<(), cookies::CookieError> {
        let value = cookie.to_header(self.settings.secure)?;
        self.push(value);
        Ok(())
    }

    /// Queues the expiry (`Max-Age=0`) of both token cookies (contract step 8).
    pub fn expire_tokens(&self) {
        let s = &self.settings;
        let mut values = self.lock();
        values.push(cookies::expired_cookie(&s.access, s.secure));
        values.push(cookies::expired_cookie(&s.refresh, s.secure));
    }

    /// Number of queued cookies.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// `true` when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes every queued cookie, leaving the queue empty.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.lock())
    }
}

/// Which workspace is active: a reference into the shared identity where possible (the default
/// resolver), so no workspace is copied per request.
#[derive(Clone, Debug)]
pub(crate) enum Chosen {
    /// No workspace.
    None,
    /// The identity's workspace list at this index.
    Listed(usize),
    /// The user's own `workspace` field (Qelos reported one but listed none).
    UserActive,
    /// A workspace chosen by an application resolver.
    Custom(Workspace),
}

/// The request's SDK: built with the context (the identification used it), or on first use
/// (an identity from the cache: most handlers read the user and never call Qelos).
pub(crate) enum RequestSdk {
    Ready(QelosSdk),
    OnFirstUse {
        sdk: std::sync::OnceLock<QelosSdk>,
        make: Box<dyn Fn() -> QelosSdk + Send + Sync>,
    },
}

impl RequestSdk {
    pub(crate) fn on_first_use(make: impl Fn() -> QelosSdk + Send + Sync + 'static) -> Self {
        Self::OnFirstUse {
            sdk: std::sync::OnceLock::new(),
            make: Box::new(make),
        }
    }

    fn get(&self) -> &QelosSdk {
        match self {
            Self::Ready(sdk) => sdk,
            Self::OnFirstUse { sdk, make } => sdk.get_or_init(make),
        }
    }

    /// The SDK if it exists yet.
    fn built(&self) -> Option<&QelosSdk> {
        match self {
            Self::Ready(sdk) => Some(sdk),
            Self::OnFirstUse { sdk, .. } => sdk.get(),
        }
    }
}

pub(crate) struct ContextParts {
    /// User and workspaces, shared with the identity cache (no deep copies per request).
    pub(crate) identity: Option<Arc<Identity>>,
    pub(crate) workspace: Chosen,
    pub(crate) sdk: RequestSdk,
    pub(crate) tokens: TokenPair,
    pub(crate) anonymous: Option<AnonymousReason>,
    pub(crate) cookies: Jar,
}

/// A context's cookie jar: made up front where something writes to it before the handler (the
/// pipeline, the request SDK's hooks), else on first use: a request without credentials
/// allocates no jar unless the handler writes a cookie.
pub(crate) enum Jar {
    Made(ResponseCookies),
    OnFirstUse(Arc<CookieSettings>, OnceLock<ResponseCookies>),
}

impl Jar {
    /// A jar made on first use.
    pub(crate) fn on_first_use(settings: Arc<CookieSettings>) -> Self {
        Self::OnFirstUse(settings, OnceLock::new())
    }

    fn get(&self) -> &ResponseCookies {
        match self {
            Self::Made(jar) => jar,
            Self::OnFirstUse(settings, jar) => {
                jar.get_or_init(|| ResponseCookies::new(Arc::clone(settings)))
            }
        }
    }

    pub(crate) fn take(&self) -> Vec<String> {
        match self {
            Self::Made(jar) => jar.take(),
            Self::OnFirstUse(_, jar) => jar.get().map(ResponseCookies::take).unwrap_or_default(),
        }
    }
}

/// Who is calling, in which workspace, and an SDK bound to their tokens.
///
/// One per request; cheap to clone (shared). Built by the integrator before the handler runs.
///
/// # Examples
///
/// ```
/// # fn handler(ctx: qelos_integrator_core::QelosContext) {
/// match ctx.user() {
///     Some(user) => println!("hello {} in {:?}", user.username, ctx.workspace().map(|w| &w.name)),
///     None => println!("anonymous ({:?})", ctx.anonymous_reason()),
/// }
/// # }
/// ```
#[derive(Clone)]
pub struct QelosContext(Arc<ContextParts>);

impl std::fmt::Debug for QelosContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QelosContext")
            .field("user", &self.user().map(|u| &u.id))
            .field("workspace", &self.workspace().map(|w| &w.id))
            .field("workspaces", &self.workspaces().len())
            .field("anonymous", &self.0.anonymous)
            .finish_non_exhaustive()
    }
}

impl QelosContext {
    pub(crate) fn new(parts: ContextParts) -> Self {
        Self(Arc::new(parts))
    }

    /// The signed-in user (`GET /api/me`), `None` when anonymous.
    pub fn user(&self) -> Option<&User> {
        self.0.identity.as_deref().map(|i| &i.user)
    }
    /// The active workspace, as chosen by the workspace resolver.
    pub fn workspace(&self) -> Option<&Workspace> {
        match &self.0.workspace {
            Chosen::None => None,
            Chosen::Listed(index) => self.workspaces().get(*index),
            Chosen::UserActive => self.user().and_then(|u| u.workspace.as_ref()),
            Chosen::Custom(workspace) => Some(workspace),
        }
    }
    /// The user's workspaces (`GET /api/workspaces`); empty when anonymous.
    pub fn workspaces(&self) -> &[Workspace] {
        self.0
            .identity
            .as_deref()
            .map_or(&[], |i| i.workspaces.as_slice())
    }
    /// An SDK bound to this request's credentials. It refreshes by itself; new cookies reach
    /// the response.
    pub fn sdk(&self) -> &QelosSdk {
        self.0.sdk.get()
    }
    /// The tokens of this request, updated after a refresh (OAuth mode); what the request
    /// carried otherwise.
    pub fn tokens(&self) -> TokenPair {
        match self.0.sdk.built() {
            Some(sdk) if sdk.auth_kind() == AuthKind::OAuth => sdk.tokens(),
            // An SDK not built yet has not refreshed: the request's own tokens.
            _ => self.0.tokens.clone(),
        }
    }
    /// `true` when a user is signed in.
    pub fn is_authenticated(&self) -> bool {
        self.0.identity.is_some()
    }
    /// Why the request is anonymous, `None` when signed in.
    pub fn anonymous_reason(&self) -> Option<AnonymousReason> {
        self.0.anonymous
    }
    /// The user, or the refusal a route that needs one must answer: 503 when Qelos was
    /// unreachable, 401 otherwise (with the cookie expiries of a dead session).
    ///
    /// # Errors
    ///
    /// A [`Rejection`] of kind `Unauthorized` or `Unavailable`.
    pub fn require_user(&self) -> Result<&User, Rejection> {
        match (self.user(), self.0.anonymous) {
            (Some(user), _) => Ok(user),
            (None, Some(AnonymousReason::Unavailable)) => {
                Err(Rejection::unavailable().with_cookies(self.0.cookies.take()))
            }
            (None, _) => Err(Rejection::unauthorized().with_cookies(self.0.cookies.take())),
        }
    }
    /// The signed-in user with this context, or the refusal of [`require_user`](Self::require_user).
    /// What every adapter's `RequireUser` extractor holds.
    ///
    /// # Errors
    ///
    /// As [`require_user`](Self::require_user).
    pub fn signed_in(&self) -> Result<SignedIn, Rejection> {
        let user = self.require_user()?.clone();
        Ok(SignedIn {
            user,
            context: self.clone(),
        })
    }
    /// The cookies queued for the response.
    pub fn response_cookies(&self) -> &ResponseCookies {
        self.0.cookies.get()
    }
    /// Takes the queued `Set-Cookie` values. Adapters call this after the handler.
    pub fn take_response_cookies(&self) -> Vec<String> {
        self.0.cookies.take()
    }
}

/// A request with a signed-in user: the user, and the whole context (dereferences to it).
///
/// # Examples
///
/// ```
/// fn greet(signed_in: &qelos_integrator_core::SignedIn) -> String {
///     format!("{} ({} workspaces)", signed_in.user().username, signed_in.workspaces().len())
/// }
/// ```
#[derive(Clone, Debug)]
pub struct SignedIn {
    user: User,
    context: QelosContext,
}

impl SignedIn {
    /// The signed-in user.
    pub fn user(&self) -> &User {
        &self.user
    }
    /// The whole context.
    pub fn context(&self) -> &QelosContext {
        &self.context
    }
}

impl std::ops::Deref for SignedIn {
    type Target = QelosContext;
    fn deref(&self) -> &QelosContext {
        &self.context
    }
}
