//! The [`Layer`] and its [`Service`].

use std::task::{Context, Poll};

use http::{Request, Response};
use qelos_integrator_core::Integrator;
use tower_layer::Layer;
use tower_service::Service;

use crate::future::{ResponseFuture, with_cookies};

/// A [`Layer`] that gives every request a Qelos state (or refuses it), and writes the response
/// cookies after every inner response. Clones share one [`Integrator`]: one refresh per token
/// across every route the layer wraps.
///
/// # Examples
///
/// ```
/// use qelos_integrator_tower::{QelosConfig, QelosLayer};
/// use tower_layer::Layer;
///
/// # fn run() -> Result<(), qelos_integrator_tower::ConfigError> {
/// let layer = QelosLayer::new(QelosConfig::builder("http://localhost:3000").build()?);
/// // axum: `Router::new().layer(layer)`; anything else: wrap the service.
/// let service = layer.layer(my_service);
/// # let _ = service; Ok(()) }
/// # #[allow(non_upper_case_globals)] const my_service: () = ();
/// ```
#[derive(Clone, Debug)]
pub struct QelosLayer {
    integrator: Integrator,
}

qelos_integrator_core::integrator_methods!(QelosLayer {});

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
    S::Error: Send + 'static,
    ReqBody: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let state = self.integrator.attach(&request);
        if state.is_settled() {
            // Decided without Qelos: answer or run the instance `poll_ready` prepared, now.
            if let Some(refusal) = state.refusal() {
                return ResponseFuture::refused(refusal.into_response());
            }
            request.extensions_mut().insert(state.clone());
            return ResponseFuture::running(self.inner.call(request), state);
        }
        // Waiting on Qelos: keep the ready instance for this request, leave a clone behind.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        ResponseFuture::waiting(Box::pin(async move {
            if let Err(refusal) = state.admit().await {
                return Ok(refusal.into_response());
            }
            request.extensions_mut().insert(state.clone());
            let response = inner.call(request).await?;
            Ok(with_cookies(response, &state))
        }))
    }
}
