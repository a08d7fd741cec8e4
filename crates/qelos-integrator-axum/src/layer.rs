//! The tower layer that resolves the Qelos context before the handler runs.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::{Request, Response};
use qelos_integrator_core::{
    Attached, Integrator, OnTokenRefresh, QelosConfig, ResolveWorkspace, append_set_cookies,
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
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        // `poll_ready` was called on `self.inner`; keep that ready instance for this request
        // and leave a fresh clone behind for the next one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let resolving = self.integrator.resolve(&request);
        Box::pin(async move {
            match Attached::from_outcome(resolving.await) {
                Err(rejection) => Ok(rejection.into_response()),
                Ok(attached) => {
                    request.extensions_mut().insert(attached.clone());
                    let mut response = inner.call(request).await?;
                    append_set_cookies(response.headers_mut(), attached.take_response_cookies());
                    Ok(response)
                }
            }
        })
    }
}
