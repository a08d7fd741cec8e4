//! The one per-request state an adapter stores between its middleware and its extractors.

use std::sync::{Arc, OnceLock};

use futures_util::future::BoxFuture;
use tokio::sync::OnceCell;

use crate::context::{QelosContext, SignedIn};
use crate::rejection::Rejection;

/// What a request resolves to: its context, or the refusal to answer instead of the handler.
pub(crate) type Decision = Result<QelosContext, Rejection>;

/// The upstream part of a resolution, run at most once per request (again only if a first
/// attempt was cancelled before it finished).
pub(crate) type Resolve = Box<dyn Fn() -> BoxFuture<'static, Decision> + Send + Sync>;

/// A request's Qelos state, made by [`Integrator::attach`](crate::Integrator::attach) and left
/// in the request (extensions, local cache, …) for the extractors.
///
/// It is one cell holding the request's [`QelosContext`] or its refusal:
///
/// - requests decided at once (no credentials, a cached identity, a refusal) carry the
///   decision itself;
/// - requests whose caller Qelos must identify carry a lazy cell that the middleware fills
///   before the handler ([`admit`](Self::admit));
/// - `/api/**` requests with the same-origin proxy on carry a lazy cell that only an extractor
///   fills (forwarded traffic costs no upstream probe);
/// - skipped paths carry none.
///
/// Cheap to clone (shared): every clone sees the same cell and the same response cookies.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::{Integrator, QelosConfig, RequestHead};
/// # async fn run() -> Result<(), qelos_integrator_core::ConfigError> {
/// let integrator = Integrator::new(QelosConfig::builder("http://localhost:3000").build()?);
/// let state = integrator.attach(&RequestHead::new("/"));
/// assert!(state.is_settled()); // no credentials: decided without Qelos
/// match state.admit().await {
///     Ok(()) => {
///         // store `state.clone()` in the request, run the handler, then write:
///         let _set_cookies = state.take_response_cookies();
///     }
///     Err(refusal) => { /* answer refusal.status(), refusal.body() */ }
/// }
/// assert!(state.signed_in_context().await.is_ok_and(|ctx| ctx.is_none()));
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct RequestState(Repr);

#[derive(Clone)]
enum Repr {
    /// A skip path: the middleware does not run here.
    Skipped,
    /// Decided when attached: the decision itself (a context is one shared pointer), so the
    /// most common requests allocate no cell.
    Decided(Decision),
    /// Filled by the middleware before the handler (`eager`), or when an extractor first asks
    /// (`/api/**` with the proxy on).
    Lazy(Arc<Lazy>),
}

struct Lazy {
    cell: OnceCell<Decision>,
    resolve: Resolve,
    eager: bool,
}

impl std::fmt::Debug for RequestState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (kind, resolved) = match &self.0 {
            Repr::Skipped => ("Skipped", false),
            Repr::Decided(_) => ("Eager", true),
            Repr::Lazy(lazy) if lazy.eager => ("Eager", lazy.cell.initialized()),
            Repr::Lazy(lazy) => ("OnDemand", lazy.cell.initialized()),
        };
        f.debug_struct("RequestState")
            .field("kind", &format_args!("{kind}"))
            .field("resolved", &resolved)
            .finish()
    }
}

impl RequestState {
    pub(crate) fn skipped() -> Self {
        Self(Repr::Skipped)
    }

    pub(crate) fn decided(decision: Decision) -> Self {
        Self(Repr::Decided(decision))
    }

    fn lazy(resolve: Resolve, eager: bool) -> Self {
        Self(Repr::Lazy(Arc::new(Lazy {
            cell: OnceCell::new(),
            resolve,
            eager,
        })))
    }

    pub(crate) fn pending(resolve: Resolve) -> Self {
        Self::lazy(resolve, true)
    }

    pub(crate) fn on_demand(resolve: Resolve) -> Self {
        Self::lazy(resolve, false)
    }

    /// `true` on a skip path: no context here.
    pub fn is_skipped(&self) -> bool {
        matches!(self.0, Repr::Skipped)
    }

    /// `true` when the middleware need not wait before the handler: the request is decided,
    /// skipped, or resolved on demand. A middleware can then call [`refusal`](Self::refusal)
    /// and the handler without a future of its own.
    pub fn is_settled(&self) -> bool {
        match &self.0 {
            Repr::Lazy(lazy) => !lazy.eager || lazy.cell.initialized(),
            _ => true,
        }
    }

    /// The refusal to answer instead of the handler, when it is already known.
    pub fn refusal(&self) -> Option<Rejection> {
        match &self.0 {
            Repr::Decided(Err(rejection)) => Some(rejection.clone()),
            Repr::Lazy(lazy) if lazy.eager => lazy.cell.get()?.as_ref().err().cloned(),
            _ => None,
        }
    }

    /// What the middleware awaits before the handler: resolves the request when Qelos must be
    /// asked first (never on skipped or on-demand paths).
    ///
    /// # Errors
    ///
    /// The refusal to answer instead of the handler (`require_auth` with no user: 401; an
    /// outage under `require_auth`: 503), with its cookies.
    pub async fn admit(&self) -> Result<(), Rejection> {
        match &self.0 {
            Repr::Decided(decision) => decision.as_ref().map(drop).map_err(Clone::clone),
            Repr::Lazy(lazy) if lazy.eager => self.decision().await.map(drop),
            _ => Ok(()),
        }
    }

    async fn decision(&self) -> Decision {
        match &self.0 {
            Repr::Decided(decision) => decision.clone(),
            Repr::Lazy(lazy) => lazy.cell.get_or_init(|| (lazy.resolve)()).await.clone(),
            Repr::Skipped => Err(Rejection::middleware_missing(SKIPPED)),
        }
    }

    /// The context (the user may be `None`), resolved on the first call on on-demand paths.
    ///
    /// # Errors
    ///
    /// The request's refusal; on a skip path, `500 QELOS_MIDDLEWARE_MISSING` saying so.
    pub async fn context(&self) -> Result<QelosContext, Rejection> {
        if self.is_skipped() {
            return Err(Rejection::middleware_missing(SKIPPED));
        }
        self.decision().await
    }

    /// The context of a signed-in caller; `None` for anonymous callers and skip paths.
    ///
    /// # Errors
    ///
    /// The request's refusal (an outage under `require_auth`, for example).
    pub async fn signed_in_context(&self) -> Result<Option<QelosContext>, Rejection> {
        if self.is_skipped() {
            return Ok(None);
        }
        let ctx = self.decision().await?;
        Ok(ctx.is_authenticated().then_some(ctx))
    }

    /// A signed-in caller.
    ///
    /// # Errors
    ///
    /// `401 UNAUTHORIZED` for anonymous callers and on skip paths (like the `require_user`
    /// guard of the official integrators), `503 QELOS_UNAVAILABLE` during an outage, or the
    /// request's refusal.
    pub async fn signed_in(&self) -> Result<SignedIn, Rejection> {
        if self.is_skipped() {
            return Err(Rejection::unauthorized());
        }
        self.decision().await?.signed_in()
    }

    /// The `Set-Cookie` values to write after the handler (none when nothing resolved).
    pub fn take_response_cookies(&self) -> Vec<String> {
        let decision = match &self.0 {
            Repr::Decided(decision) => Some(decision),
            Repr::Lazy(lazy) => lazy.cell.get(),
            Repr::Skipped => None,
        };
        match decision {
            Some(Ok(ctx)) => ctx.take_response_cookies(),
            _ => Vec::new(),
        }
    }
}

/// What `Option<Qelos>` answers: `None` exactly where the middleware did not run (no state, or
/// a skip path); otherwise the context, whether or not a user is signed in.
///
/// # Errors
///
/// The request's refusal (an on-demand resolution refused under `require_auth`, for example).
pub async fn optional_context(
    state: Option<&RequestState>,
) -> Result<Option<QelosContext>, Rejection> {
    match state {
        Some(state) if !state.is_skipped() => state.decision().await.map(Some),
        _ => Ok(None),
    }
}

/// What the signed-in-only extractor (`Option<RequireUser>`) answers: `Some` only for a
/// signed-in caller; `None` for anonymous callers, skip paths, a missing middleware and any
/// refusal (as a framework's blanket `Option<T>` does).
pub async fn optional_user(state: Option<&RequestState>) -> Option<SignedIn> {
    let ctx = state?.signed_in_context().await.ok()??;
    ctx.signed_in().ok()
}

/// The hint of the refusal a context extractor answers on a skip path.
const SKIPPED: &str = "this path is a skip path: the Qelos middleware does not run here; \
                       use `Option<Qelos>` on routes under a skip path";

/// What an extractor answers when the request carries no [`RequestState`] (the middleware did
/// not run on this route), given the state it found.
///
/// # Errors
///
/// `500 QELOS_MIDDLEWARE_MISSING` with `hint` when `state` is `None`.
pub fn require_state<'a>(
    state: Option<&'a RequestState>,
    hint: &'static str,
) -> Result<&'a RequestState, Rejection> {
    state.ok_or_else(|| Rejection::middleware_missing(hint))
}

/// A request's Qelos state for a middleware that runs before routing and cannot answer a
/// request itself (Rocket's fairing): the [`RequestState`] it attached, and the request's first
/// refusal (its own or an extractor's), kept for the framework's error handler and for the
/// cookies written after the response. `Default` is the slot of a request the middleware did
/// not see.
///
/// Attaching costs no upstream call: the request is resolved when an extractor first asks,
/// except on paths that require a user ([`refuse_before_routing`](Self::refuse_before_routing)).
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::adapter::RequestSlot;
/// use qelos_integrator_core::{Integrator, QelosConfig, RequestHead};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = QelosConfig::builder("http://localhost:3000").require_auth_under("/private");
/// let integrator = Integrator::new(config.build()?);
/// let slot = integrator.attach_slot(&RequestHead::new("/private/me"));
/// assert!(slot.refuse_before_routing().await, "anonymous under /private");
/// assert_eq!(slot.refusal().map(|r| r.code()), Some("UNAUTHORIZED"));
/// let open = integrator.attach_slot(&RequestHead::new("/me"));
/// assert!(!open.refuse_before_routing().await);
/// assert!(open.state("attach the middleware")?.context().await.is_ok());
/// assert!(RequestSlot::default().state("attach the middleware").is_err());
/// # Ok(()) }
/// ```
#[derive(Debug, Default)]
pub struct RequestSlot {
    state: Option<RequestState>,
    required: bool,
    refusal: OnceLock<Rejection>,
}

impl RequestSlot {
    /// The slot of an attached request; `required`: its path requires a user.
    pub(crate) fn new(state: RequestState, required: bool) -> Self {
        Self {
            state: Some(state),
            required,
            refusal: OnceLock::new(),
        }
    }

    /// On a path that requires a user (`require_auth`, `require_auth_under`), decides now
    /// whether the request is refused, since a route without an extractor there must refuse
    /// too; `true` when it is (the refusal is remembered: [`refusal`](Self::refusal)).
    /// Elsewhere nothing is resolved here, and the answer is `false`.
    pub async fn refuse_before_routing(&self) -> bool {
        let Some(state) = self.state.as_ref().filter(|_| self.required) else {
            return false;
        };
        match state.admit().await {
            Ok(()) => false,
            Err(rejection) => {
                self.refuse(rejection);
                true
            }
        }
    }

    /// The request's state.
    ///
    /// # Errors
    ///
    /// `500 QELOS_MIDDLEWARE_MISSING` with `hint` where the middleware did not run.
    pub fn state(&self, hint: &'static str) -> Result<&RequestState, Rejection> {
        require_state(self.state.as_ref(), hint)
    }

    /// Remembers `rejection` for the error handler (the first refusal of a request wins) and
    /// gives it back, for the extractor to fail with.
    pub fn refuse(&self, rejection: Rejection) -> Rejection {
        let _ = self.refusal.set(rejection.clone());
        rejection
    }

    /// The request's first refusal, if it was refused.
    pub fn refusal(&self) -> Option<&Rejection> {
        self.refusal.get()
    }

    /// What to write after the response, whichever handler answered, in the form of
    /// [`set_cookie_headers`](crate::adapter::set_cookie_headers): the rotated cookies, and the
    /// cookies of the refusal.
    pub fn response_headers(&self) -> Vec<(&'static str, String)> {
        let mut cookies = match &self.state {
            Some(state) => state.take_response_cookies(),
            None => Vec::new(),
        };
        if let Some(refusal) = self.refusal() {
            cookies.extend_from_slice(refusal.set_cookies());
        }
        if cookies.is_empty() {
            return Vec::new();
        }
        crate::headers::set_cookie_headers(cookies)
    }
}

/// What an adapter whose framework keeps values per request (Rocket's request-local cache)
/// leaves there: the request's [`RequestSlot`], attached when first asked for, and the value its
/// extractors lend (`T`: the adapter's context type), resolved once.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::adapter::LocalState;
/// use qelos_integrator_core::{Integrator, QelosConfig, RequestHead};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let integrator = Integrator::new(QelosConfig::builder("http://localhost:3000").build()?);
/// let local: LocalState<String> = LocalState::default();
/// assert!(local.attached().is_none(), "nothing asked yet: nothing to write after the response");
/// let lent = local
///     .lend("attach the middleware", || integrator.attach_slot(&RequestHead::new("/")), |ctx| {
///         format!("signed in: {}", ctx.is_authenticated())
///     })
///     .await?;
/// assert_eq!(lent, "signed in: false");
/// assert!(local.attached().is_some() && local.response_headers().is_empty());
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct LocalState<T> {
    slot: OnceLock<RequestSlot>,
    lent: OnceLock<Result<T, Rejection>>,
}

impl<T> Default for LocalState<T> {
    fn default() -> Self {
        Self {
            slot: OnceLock::new(),
            lent: OnceLock::new(),
        }
    }
}

impl<T> LocalState<T> {
    /// The request's slot, made by `attach` on the first call.
    pub fn slot(&self, attach: impl FnOnce() -> RequestSlot) -> &RequestSlot {
        self.slot.get_or_init(attach)
    }

    /// The slot, if something attached the request.
    pub fn attached(&self) -> Option<&RequestSlot> {
        self.slot.get()
    }

    /// The request's first refusal, if it was attached and refused.
    pub fn refusal(&self) -> Option<&Rejection> {
        self.attached()?.refusal()
    }

    /// What to write after the response ([`RequestSlot::response_headers`]); nothing when the
    /// request was never attached.
    pub fn response_headers(&self) -> Vec<(&'static str, String)> {
        self.attached()
            .map(RequestSlot::response_headers)
            .unwrap_or_default()
    }

    /// The context, made into `T` by `wrap` and lent for the rest of the request: resolved on
    /// the first call (attaching the request with `attach` if nothing did), remembered after.
    ///
    /// # Errors
    ///
    /// The request's refusal; `500 QELOS_MIDDLEWARE_MISSING` with `hint` where the slot has no
    /// state (the middleware is not attached, or excludes the path).
    pub async fn lend(
        &self,
        hint: &'static str,
        attach: impl FnOnce() -> RequestSlot,
        wrap: impl FnOnce(QelosContext) -> T,
    ) -> Result<&T, Rejection> {
        if self.lent.get().is_none() {
            let resolved = async { self.slot(attach).state(hint)?.context().await.map(wrap) };
            // Extractors of one request run one after another: at most one resolves here, and
            // the state itself resolves once whatever happens.
            let _ = self.lent.set(resolved.await);
        }
        match self.lent.get() {
            Some(resolved) => resolved.as_ref().map_err(Clone::clone),
            None => Err(Rejection::middleware_missing(hint)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Integrator, QelosConfig, RequestHead};

    /// An integrator whose Qelos is a closed port: any upstream call fails at once.
    fn integrator(
        configure: impl FnOnce(crate::QelosConfigBuilder) -> crate::QelosConfigBuilder,
    ) -> Integrator {
        let builder = QelosConfig::builder("http://127.0.0.1:9")
            .timeout(std::time::Duration::from_millis(500))
            .skip_path("/health");
        Integrator::new(configure(builder).build().expect("config"))
    }

    #[tokio::test]
    async fn a_request_without_credentials_is_settled_and_anonymous() {
        let state = integrator(|b| b).attach(&RequestHead::new("/"));
        assert!(state.is_settled());
        assert!(state.refusal().is_none());
        assert!(state.admit().await.is_ok());
        let ctx = state.context().await.expect("context");
        assert!(!ctx.is_authenticated());
        assert!(state.signed_in_context().await.expect("answer").is_none());
        assert_eq!(
            state.signed_in().await.expect_err("anonymous").status(),
            401
        );
    }

    #[tokio::test]
    async fn a_request_with_a_token_waits_for_qelos_and_is_decided_once() {
        let head = RequestHead::new("/").header("authorization", "Bearer a.b.c");
        let state = integrator(|b| b).attach(&head);
        assert!(!state.is_settled(), "Qelos must be asked first");
        assert!(state.admit().await.is_ok(), "an outage continues anonymous");
        assert!(state.is_settled());
        let ctx = state.context().await.expect("context");
        assert_eq!(
            ctx.anonymous_reason(),
            Some(crate::AnonymousReason::Unavailable)
        );
    }

    #[tokio::test]
    async fn require_auth_refuses_before_the_handler_with_the_refusal_known_at_once() {
        let state = integrator(|b| b.require_auth(true)).attach(&RequestHead::new("/"));
        assert!(state.is_settled());
        assert_eq!(state.refusal().expect("refused").code(), "UNAUTHORIZED");
        assert_eq!(state.admit().await.expect_err("refused").status(), 401);
    }

    #[tokio::test]
    async fn a_skip_path_has_no_context_no_optional_user_and_refuses_a_required_user() {
        let state = integrator(|b| b.require_auth(true)).attach(&RequestHead::new("/health/db"));
        assert!(state.is_skipped() && state.is_settled());
        assert!(state.admit().await.is_ok(), "skip paths are never refused");
        assert_eq!(state.context().await.expect_err("no context").status(), 500);
        assert!(state.signed_in_context().await.expect("answer").is_none());
        assert_eq!(state.signed_in().await.expect_err("no user").status(), 401);
        assert!(state.take_response_cookies().is_empty());
    }

    #[tokio::test]
    async fn an_api_path_under_the_proxy_is_resolved_only_when_an_extractor_asks() {
        let head = RequestHead::new("/api/reports").header("authorization", "Bearer a.b.c");
        let state = integrator(|b| b.api_proxy(true).require_auth(true)).attach(&head);
        assert!(state.is_settled(), "forwarded traffic waits for nothing");
        assert!(
            state.admit().await.is_ok(),
            "the middleware does not decide it"
        );
        assert!(format!("{state:?}").contains("resolved: false"));
        // The handler asks: resolved now (Qelos is down: 503 under require_auth).
        assert_eq!(state.context().await.expect_err("down").status(), 503);
        let clone = state.clone();
        assert_eq!(clone.signed_in().await.expect_err("shared").status(), 503);
    }

    #[tokio::test]
    async fn require_auth_under_refuses_anonymous_callers_under_the_prefix_only() {
        let integrator = integrator(|b| b.require_auth_under("/private"));
        let under = integrator.attach(&RequestHead::new("/private/me"));
        assert_eq!(under.refusal().expect("refused").code(), "UNAUTHORIZED");
        assert_eq!(under.admit().await.expect_err("refused").status(), 401);
        for open in ["/me", "/privateer", "/"] {
            let state = integrator.attach(&RequestHead::new(open));
            assert!(state.refusal().is_none(), "{open} stays open");
            assert!(state.admit().await.is_ok(), "{open} stays open");
        }
    }

    #[tokio::test]
    async fn require_auth_under_answers_an_outage_with_503_under_the_prefix_only() {
        let integrator = integrator(|b| b.require_auth_under("/private"));
        let bearer = |path| RequestHead::new(path).header("authorization", "Bearer a.b.c");
        let under = integrator.attach(&bearer("/private/me"));
        assert_eq!(under.admit().await.expect_err("down").status(), 503);
        let open = integrator.attach(&bearer("/me"));
        assert!(open.admit().await.is_ok(), "an outage continues anonymous");
        let ctx = open.context().await.expect("context");
        assert_eq!(
            ctx.anonymous_reason(),
            Some(crate::AnonymousReason::Unavailable)
        );
    }

    #[tokio::test]
    async fn a_skip_path_inside_a_required_prefix_is_still_skipped() {
        let integrator = integrator(|b| b.require_auth_under("/health"));
        let state = integrator.attach(&RequestHead::new("/health/db"));
        assert!(state.is_skipped());
        assert!(state.admit().await.is_ok());
    }

    #[tokio::test]
    async fn an_api_path_under_a_required_prefix_is_refused_when_an_extractor_asks() {
        let integrator = integrator(|b| b.api_proxy(true).require_auth_under("/api/private"));
        let state = integrator.attach(&RequestHead::new("/api/private/x"));
        assert!(
            state.admit().await.is_ok(),
            "forwarded traffic waits for nothing"
        );
        assert_eq!(state.context().await.expect_err("anonymous").status(), 401);
        let open = integrator.attach(&RequestHead::new("/api/x"));
        assert!(open.context().await.is_ok());
    }

    #[tokio::test]
    async fn a_slot_refuses_before_routing_only_where_a_user_is_required() {
        let integrator = integrator(|b| b.require_auth_under("/private"));
        let refused = integrator.attach_slot(&RequestHead::new("/private/plain"));
        assert!(refused.refuse_before_routing().await);
        assert_eq!(refused.refusal().expect("remembered").status(), 401);
        let open = integrator.attach_slot(&RequestHead::new("/plain"));
        assert!(!open.refuse_before_routing().await);
        assert!(open.refusal().is_none());
        assert!(open.response_headers().is_empty());
    }

    #[tokio::test]
    async fn a_slot_resolves_nothing_until_asked_and_keeps_the_first_refusal() {
        let head = RequestHead::new("/me").header("authorization", "Bearer a.b.c");
        let slot = integrator(|b| b).attach_slot(&head);
        assert!(!slot.refuse_before_routing().await);
        let state = slot.state("hint").expect("attached");
        assert!(!state.is_settled(), "no upstream call yet");
        assert_eq!(slot.refuse(Rejection::unavailable()).status(), 503);
        slot.refuse(Rejection::unauthorized());
        assert_eq!(slot.refusal().expect("kept").code(), "QELOS_UNAVAILABLE");
    }

    #[test]
    fn a_slot_the_middleware_did_not_see_names_the_missing_middleware() {
        let slot = RequestSlot::default();
        assert_eq!(slot.state("add it").expect_err("missing").status(), 500);
        assert!(slot.response_headers().is_empty());
    }

    #[test]
    fn require_state_names_the_missing_middleware() {
        let refusal = require_state(None, "add the layer").expect_err("missing");
        assert_eq!(refusal.status(), 500);
        assert_eq!(refusal.code(), "QELOS_MIDDLEWARE_MISSING");
    }
}
