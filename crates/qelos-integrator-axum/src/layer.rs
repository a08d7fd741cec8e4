//! The tower layer that resolves the Qelos context before the handler runs.

use std::marker::PhantomData;
use std::task::{Context, Poll};

use http::{Request, Response};
use qelos_integrator_core::{
    Attached, Handoff, HandoffFuture, Integrator, OnTokenRefresh, QelosConfig, Rejection,
    ResolveWorkspace, append_set_cookies,
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
        let resolving = self.integrator.resolve(&request);
        // Decided without Qelos: the handler runs now on the instance `poll_ready` prepared.
        // Waiting on Qelos: keep that ready instance for this request and leave a fresh clone
        // behind for the next one.
        HandoffFuture::new(resolving, &mut self.inner, request, |inner: &mut S| {
            let clone = inner.clone();
            std::mem::replace(inner, clone)
        })
    }
}

/// The response future of [`QelosService`].
pub type ResponseFuture<S, ReqBody> = HandoffFuture<TowerHandoff<S, ReqBody>>;

/// How [`QelosService`] hands a request to the service it wraps (the tower half of the core's
/// [`HandoffFuture`]).
pub struct TowerHandoff<S, ReqBody>(PhantomData<fn() -> (S, ReqBody)>);

impl<S, ReqBody> std::fmt::Debug for TowerHandoff<S, ReqBody> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TowerHandoff")
    }
}

impl<S, ReqBody, ResBody> Handoff for TowerHandoff<S, ReqBody>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    ResBody: From<String>,
{
    type Service = S;
    type Request = Request<ReqBody>;
    type Future = S::Future;
    type Output = Result<Response<ResBody>, S::Error>;

    fn call(service: &mut S, mut request: Request<ReqBody>, attached: &Attached) -> S::Future {
        request.extensions_mut().insert(attached.clone());
        service.call(request)
    }

    fn refuse(_request: Request<ReqBody>, rejection: Rejection) -> Self::Output {
        Ok(rejection.into_response())
    }

    fn respond(answer: Self::Output, set_cookies: Vec<String>) -> Self::Output {
        answer.map(|mut response| {
            append_set_cookies(response.headers_mut(), set_cookies);
            response
        })
    }

    fn misused(message: &'static str) -> Self::Output {
        Ok(Rejection::middleware_missing(message).into_response())
    }
}
