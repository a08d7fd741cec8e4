//! The tower layer that resolves the Qelos context before the handler runs.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::{Request, Response};
use pin_project_lite::pin_project;
use qelos_integrator_core::{
    Attached, Integrator, OnTokenRefresh, Outcome, QelosConfig, Rejection, ResolveWorkspace,
    Resolving, append_set_cookies,
};
use tower_layer::Layer;
use tower_service::Service;

/// A [`Layer`] that gives every request a Qelos context (or refuses it).
///
/// # Examples
///
/// ```no_run
/// use axum::{Router, routing::get};
/// use qelos_integrator_axum::{Qelos, QelosConfig, QelosLayer};
///
/// # fn app() -> Result<Router, qelos_integrator_axum::ConfigError> {
/// let config = QelosConfig::from_env()?;
/// let app = Router::new()
///     .route("/me", get(|q: Qelos| async move {
///         q.user().map(|u| u.username.clone()).unwrap_or_default()
///     }))
///     .layer(QelosLayer::new(config));
/// # Ok(app) }
/// ```
#[derive(Clone, Debug)]
pub struct QelosLayer {
    integrator: Integrator,
}

impl QelosLayer {
    /// A layer for `config`.
    pub fn new(config: QelosConfig) -> Self {
        Self::from_integrator(Integrator::new(config))
    }

    /// A layer over an existing integrator (to share its refresh coordinator and cache).
    pub fn from_integrator(integrator: Integrator) -> Self {
        Self { integrator }
    }

    /// Chooses each request's workspace with `resolver` (a closure
    /// `Fn(&RequestHead, &User, &[Workspace]) -> Option<Workspace>` or
    /// [`resolve_async`](qelos_integrator_core::resolve_async)).
    #[must_use]
    pub fn resolve_workspace(self, resolver: impl ResolveWorkspace) -> Self {
        Self::from_integrator(self.integrator.resolve_workspace(resolver))
    }

    /// Runs `hook` after each token refresh instead of writing the default cookies.
    #[must_use]
    pub fn on_token_refresh(self, hook: impl OnTokenRefresh) -> Self {
        Self::from_integrator(self.integrator.on_token_refresh(hook))
    }

    /// The integrator behind this layer.
    pub fn integrator(&self) -> &Integrator {
        &self.integrator
    }
}

impl<S> Layer<S> for QelosLayer {
    type Service = QelosService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        QelosService {
            inner,
            integrator: self.integrator.clone(),
        }
    }
}

/// The service made by [`QelosLayer`].
#[derive(Clone, Debug)]
pub struct QelosService<S> {
    inner: S,
    integrator: Integrator,
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for QelosService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S, ReqBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<ReqBody>) -> Self::Future {
        let state = match self.integrator.resolve(&request).into_ready() {
            // Decided without Qelos (no credentials, skipped path, cached identity): the
            // handler runs on the instance `poll_ready` prepared, with nothing to allocate.
            Ok(outcome) => State::run(outcome, &mut self.inner, request),
            Err(resolving) => {
                // `poll_ready` was called on `self.inner`; keep that ready instance for this
                // request and leave a fresh clone behind for the next one.
                let clone = self.inner.clone();
                let inner = std::mem::replace(&mut self.inner, clone);
                State::Resolving {
                    resolving,
                    parked: Some((inner, request)),
                }
            }
        };
        ResponseFuture { state }
    }
}

pin_project! {
    /// The response future of [`QelosService`]: the resolution (when it needs Qelos), then the
    /// inner service's future, then the response cookies.
    pub struct ResponseFuture<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        #[pin]
        state: State<S, ReqBody>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<S, ReqBody>
    where
        S: Service<Request<ReqBody>>,
    {
        Resolving {
            resolving: Resolving,
            parked: Option<(S, Request<ReqBody>)>,
        },
        Running {
            #[pin]
            future: S::Future,
            attached: Attached,
        },
        Refused {
            response: Option<S::Response>,
        },
    }
}

impl<S, ReqBody, ResBody> State<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    /// Attaches `outcome` to `request` and calls `inner`, or answers the refusal.
    fn run(outcome: Outcome, inner: &mut S, mut request: Request<ReqBody>) -> Self {
        match Attached::from_outcome(outcome) {
            Err(rejection) => Self::Refused {
                response: Some(rejection.into_response()),
            },
            Ok(attached) => {
                request.extensions_mut().insert(attached.clone());
                Self::Running {
                    future: inner.call(request),
                    attached,
                }
            }
        }
    }
}

impl<S, ReqBody, ResBody> Future for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    type Output = Result<Response<ResBody>, S::Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Resolving { resolving, parked } => {
                    let outcome = ready!(Pin::new(resolving).poll(cx));
                    let Some((mut inner, request)) = parked.take() else {
                        // Only reachable by polling again after a panic in the inner `call`.
                        return Poll::Ready(Ok(Rejection::middleware_missing(
                            "the Qelos layer's future was polled after it failed",
                        )
                        .into_response()));
                    };
                    let next = State::run(outcome, &mut inner, request);
                    state.set(next);
                }
                StateProj::Running { future, attached } => {
                    let mut response = ready!(future.poll(cx))?;
                    append_set_cookies(response.headers_mut(), attached.take_response_cookies());
                    return Poll::Ready(Ok(response));
                }
                StateProj::Refused { response } => {
                    let response = response.take().unwrap_or_else(|| {
                        Rejection::middleware_missing(
                            "the Qelos layer's future was polled after it completed",
                        )
                        .into_response()
                    });
                    return Poll::Ready(Ok(response));
                }
            }
        }
    }
}

impl<S, ReqBody> std::fmt::Debug for ResponseFuture<S, ReqBody>
where
    S: Service<Request<ReqBody>>,
{
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
