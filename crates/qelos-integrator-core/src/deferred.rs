//! On-demand resolution for paths the middleware does not resolve up front (`/api/**` when the
//! app mounts the same-origin proxy).

use std::sync::Arc;

use tokio::sync::OnceCell;

use crate::context::QelosContext;
use crate::pipeline::Integrator;
use crate::rejection::Rejection;
use crate::request::RequestHead;

/// A context that is resolved the first time a handler asks for it, then shared.
///
/// The middleware leaves one in the request (instead of a [`QelosContext`]) for paths under
/// `/api/` when [`api_proxy`](crate::QelosConfigBuilder::api_proxy) is on: the proxy never asks,
/// so forwarded traffic costs no upstream probe; the app's own `/api/...` handlers ask through
/// the adapter's extractors and get the same context, refusals and cookies as anywhere else.
/// After the handler, the middleware writes [`take_response_cookies`](Self::take_response_cookies).
///
/// Cheap to clone (shared).
///
/// # Examples
///
/// ```no_run
/// use qelos_integrator_core::{Integrator, Outcome, QelosConfig, RequestHead};
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let config = QelosConfig::builder("http://localhost:3000").api_proxy(true).build()?;
/// let integrator = Integrator::new(config);
/// let request = RequestHead::new("/api/reports").header("authorization", "Bearer …");
/// if let Outcome::Deferred(deferred) = integrator.resolve(&request).await {
///     // nothing was called yet; a handler that needs the user asks:
///     match deferred.context().await {
///         Ok(ctx) => println!("{:?}", ctx.user().map(|u| &u.username)),
///         Err(refusal) => println!("answer {}", refusal.status()),
///     }
///     let _cookies = deferred.take_response_cookies(); // after the handler
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Deferred(Arc<Inner>);

struct Inner {
    integrator: Integrator,
    head: RequestHead,
    resolved: OnceCell<Result<QelosContext, Rejection>>,
}

impl std::fmt::Debug for Deferred {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deferred")
            .field("path", &self.0.head.path)
            .field("resolved", &self.0.resolved.initialized())
            .finish()
    }
}

impl Deferred {
    pub(crate) fn new(integrator: Integrator, head: RequestHead) -> Self {
        Self(Arc::new(Inner {
            integrator,
            head,
            resolved: OnceCell::new(),
        }))
    }

    /// The request's context, resolved on the first call (later calls share it).
    ///
    /// # Errors
    ///
    /// The refusal the middleware would have answered (`require_auth` with no user: 401;
    /// outage: 503), with its cookies.
    pub async fn context(&self) -> Result<QelosContext, Rejection> {
        let inner = &self.0;
        // Boxed: the resolution is several KiB, and the extractors that await this future are
        // themselves moved into the framework's boxed handler future on every request.
        inner
            .resolved
            .get_or_init(|| Box::pin(inner.integrator.resolve_now(&inner.head)))
            .await
            .clone()
    }

    /// The resolution, if a handler already asked for it.
    pub(crate) fn resolved(&self) -> Option<Result<QelosContext, Rejection>> {
        self.0.resolved.get().cloned()
    }

    /// `true` once a handler asked for the context.
    pub fn is_resolved(&self) -> bool {
        self.0.resolved.initialized()
    }

    /// The `Set-Cookie` values to write after the handler (none when nobody asked).
    pub fn take_response_cookies(&self) -> Vec<String> {
        match self.0.resolved.get() {
            Some(Ok(ctx)) => ctx.take_response_cookies(),
            _ => Vec::new(),
        }
    }
}
