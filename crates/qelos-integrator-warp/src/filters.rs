//! The filters: context, optional context, required user, SDK, and the extensions reader.

use std::borrow::Cow;
use std::ops::Deref;

use futures_util::future::{BoxFuture, Either, Ready, ready};

use qelos_integrator_core::qelos_sdk::QelosSdk;
use qelos_integrator_core::{
    Attached, Integrator, OnTokenRefresh, QelosConfig, QelosContext, Rejection, RequestView,
    ResolveWorkspace, SignedIn,
};
use warp::Filter;
use warp::filters::path::FullPath;

use crate::reject::QelosRejection;

/// The request's Qelos context: user, workspace, workspaces, SDK and tokens.
#[derive(Clone, Debug)]
pub struct Qelos(pub QelosContext);

impl Deref for Qelos {
    type Target = QelosContext;
    fn deref(&self) -> &QelosContext {
        &self.0
    }
}

/// A signed-in user with the whole context.
#[derive(Clone, Debug)]
pub struct RequireUser(pub SignedIn);

impl Deref for RequireUser {
    type Target = SignedIn;
    fn deref(&self) -> &SignedIn {
        &self.0
    }
}

/// Filters sharing one integrator (one refresh coordinator, one HTTP client). Build it once per
/// application and clone it freely.
///
/// # Examples
///
/// ```
/// use warp::Filter;
/// use qelos_integrator_warp::{Qelos, QelosConfig, QelosFilters, RequireUser};
///
/// # fn routes() -> Result<(), qelos_integrator_warp::ConfigError> {
/// let qelos = QelosFilters::new(QelosConfig::builder("http://localhost:3000").build()?);
/// let me = warp::path("me").and(qelos.context()).map(|q: Qelos| {
///     let name = q.user().map(|u| u.username.clone()).unwrap_or_default();
///     qelos_integrator_warp::reply(&q, name)
/// });
/// let secret = warp::path("secret").and(qelos.require_user()).map(|u: RequireUser| {
///     qelos_integrator_warp::reply(u.context(), u.user().id.clone())
/// });
/// let routes = me.or(secret).recover(qelos_integrator_warp::recover);
/// # let _ = routes; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct QelosFilters {
    integrator: Integrator,
}

/// The request as the core reads it, borrowed from what the filter extracted.
struct View<'a> {
    path: &'a str,
    headers: &'a http::HeaderMap,
}

impl RequestView for View<'_> {
    fn path(&self) -> &str {
        self.path
    }
    fn headers(&self) -> Cow<'_, http::HeaderMap> {
        Cow::Borrowed(self.headers)
    }
}

/// What a Qelos filter's `and_then` returns: ready at once for requests decided without Qelos
/// (no credentials, cached identity, skipped path), boxed only when it waits on Qelos.
type Answer<T> =
    Either<Ready<Result<T, warp::Rejection>>, BoxFuture<'static, Result<T, warp::Rejection>>>;

/// Resolves the request, then reads the attached state with `now` (synchronously) or, when
/// that has to wait (a deferred context), with `later`.
fn answer<T: Send + 'static>(
    integrator: &Integrator,
    path: &FullPath,
    headers: &http::HeaderMap,
    now: fn(&Attached) -> Option<Result<T, Rejection>>,
    later: fn(Attached) -> BoxFuture<'static, Result<T, Rejection>>,
) -> Answer<T> {
    let view = View {
        path: path.as_str(),
        headers,
    };
    match integrator.resolve(&view).into_ready() {
        Ok(outcome) => match Attached::from_outcome(outcome) {
            Err(rejection) => Either::Left(ready(Err(refused(rejection)))),
            Ok(attached) => match now(&attached) {
                Some(result) => Either::Left(ready(result.map_err(refused))),
                None => Either::Right(Box::pin(
                    async move { later(attached).await.map_err(refused) },
                )),
            },
        },
        Err(resolving) => Either::Right(Box::pin(async move {
            let attached = Attached::from_outcome(resolving.await).map_err(refused)?;
            match now(&attached) {
                Some(result) => result.map_err(refused),
                None => later(attached).await.map_err(refused),
            }
        })),
    }
}

/// The context, or a refusal; a skipped path gets none (it must use `optional`).
fn context_now(attached: &Attached) -> Option<Result<Qelos, Rejection>> {
    match attached {
        Attached::Skipped => Some(Err(Rejection::middleware_missing(
            "this path is a skip path; use `optional()`",
        ))),
        attached => Attached::context_now(Some(attached), HINT).map(|r| r.map(Qelos)),
    }
}

fn context_later(attached: Attached) -> BoxFuture<'static, Result<Qelos, Rejection>> {
    Box::pin(async move { Attached::context(Some(&attached), HINT).await.map(Qelos) })
}

fn optional_now(attached: &Attached) -> Option<Result<Option<Qelos>, Rejection>> {
    Attached::signed_in_context_now(Some(attached), HINT).map(|r| r.map(|c| c.map(Qelos)))
}

fn optional_later(attached: Attached) -> BoxFuture<'static, Result<Option<Qelos>, Rejection>> {
    Box::pin(async move {
        Attached::signed_in_context(Some(&attached), HINT)
            .await
            .map(|c| c.map(Qelos))
    })
}

fn refused(rejection: Rejection) -> warp::Rejection {
    warp::reject::custom(QelosRejection(rejection))
}

const HINT: &str = "use `QelosFilters::context()` (or `with_qelos`) on this route";

impl QelosFilters {
    /// Filters for `config`.
    pub fn new(config: QelosConfig) -> Self {
        Self::from_integrator(Integrator::new(config))
    }
    /// Filters over an existing integrator.
    pub fn from_integrator(integrator: Integrator) -> Self {
        Self { integrator }
    }
    /// The integrator (for the auth helpers: `sign_in`, `sign_out`, ...).
    pub fn integrator(&self) -> &Integrator {
        &self.integrator
    }
    /// Chooses each request's workspace with `resolver`.
    #[must_use]
    pub fn resolve_workspace(self, resolver: impl ResolveWorkspace) -> Self {
        Self::from_integrator(self.integrator.resolve_workspace(resolver))
    }
    /// Runs `hook` after each token refresh instead of writing the default cookies.
    #[must_use]
    pub fn on_token_refresh(self, hook: impl OnTokenRefresh) -> Self {
        Self::from_integrator(self.integrator.on_token_refresh(hook))
    }

    /// The context (user may be `None`). Rejects with the integrator's refusal under
    /// `require_auth`, and with 500 `QELOS_MIDDLEWARE_MISSING` on a skip path (skipped paths
    /// get no context: use [`optional`](Self::optional) there).
    pub fn context(
        &self,
    ) -> impl Filter<Extract = (Qelos,), Error = warp::Rejection> + Clone + use<> {
        let integrator = self.integrator.clone();
        warp::path::full()
            .and(warp::header::headers_cloned())
            .and_then(move |path: FullPath, headers: http::HeaderMap| {
                answer(&integrator, &path, &headers, context_now, context_later)
            })
    }

    /// `Some` for a signed-in user, `None` when anonymous or on a skip path.
    pub fn optional(
        &self,
    ) -> impl Filter<Extract = (Option<Qelos>,), Error = warp::Rejection> + Clone + use<> {
        let integrator = self.integrator.clone();
        warp::path::full()
            .and(warp::header::headers_cloned())
            .and_then(move |path: FullPath, headers: http::HeaderMap| {
                answer(&integrator, &path, &headers, optional_now, optional_later)
            })
    }

    /// A signed-in user, or a rejection answered by [`recover`](crate::recover) as
    /// `401 {"code":"UNAUTHORIZED"}` (503 `QELOS_UNAVAILABLE` when Qelos is down).
    pub fn require_user(
        &self,
    ) -> impl Filter<Extract = (RequireUser,), Error = warp::Rejection> + Clone + use<> {
        self.context().and_then(|Qelos(context): Qelos| async move {
            context.signed_in().map(RequireUser).map_err(refused)
        })
    }

    /// The request's SDK alone (with its context, to write cookies through [`reply`](crate::reply)).
    pub fn sdk(
        &self,
    ) -> impl Filter<Extract = (QelosSdk, Qelos), Error = warp::Rejection> + Clone + use<> {
        self.context()
            .map(|q: Qelos| (q.sdk().clone(), q))
            .untuple_one()
    }
}

/// [`QelosFilters::context`] for a one-off filter. Each call builds its own integrator: build
/// [`QelosFilters`] once and clone it when several routes need Qelos.
pub fn with_qelos(
    config: QelosConfig,
) -> impl Filter<Extract = (Qelos,), Error = warp::Rejection> + Clone {
    QelosFilters::new(config).context()
}

/// [`QelosFilters::require_user`] for a one-off filter (see [`with_qelos`]).
pub fn require_user(
    config: QelosConfig,
) -> impl Filter<Extract = (RequireUser,), Error = warp::Rejection> + Clone {
    QelosFilters::new(config).require_user()
}

/// Reads a context that something in front of warp (for example the core run as a tower layer
/// around `warp::service`) put into the request extensions; without one, rejects with
/// `500 {"code":"QELOS_MIDDLEWARE_MISSING"}`.
pub fn from_extensions() -> impl Filter<Extract = (Qelos,), Error = warp::Rejection> + Clone {
    warp::ext::optional::<QelosContext>().and_then(|ctx: Option<QelosContext>| async move {
        ctx.map(Qelos)
            .ok_or_else(|| refused(Rejection::middleware_missing(HINT)))
    })
}
