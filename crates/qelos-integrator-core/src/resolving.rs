//! The future [`Integrator::resolve`](crate::Integrator::resolve) returns, and its synchronous
//! fast path.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::pipeline::Outcome;

/// The boxed upstream part of a resolution.
type Upstream = Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// A request's resolution: already decided, or waiting on Qelos.
///
/// Most requests are decided before `resolve` returns: skipped paths, requests without
/// credentials, identities the cache knows. [`into_ready`](Self::into_ready) hands those over
/// at once, so an adapter can call the handler directly instead of allocating a future for the
/// whole request. The rest (one upstream round trip) is awaited as usual.
///
/// `Send + Unpin + 'static`: it owns everything it needs and moves freely.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::{Integrator, Outcome, QelosConfig, RequestHead};
/// # async fn run() -> Result<(), qelos_integrator_core::ConfigError> {
/// let integrator = Integrator::new(QelosConfig::builder("http://localhost:3000").build()?);
/// let resolving = integrator.resolve(&RequestHead::new("/"));
/// let outcome = match resolving.into_ready() {
///     Ok(outcome) => outcome,         // no credentials: decided without a call
///     Err(pending) => pending.await,  // one round trip to Qelos
/// };
/// assert!(matches!(outcome, Outcome::Continue(ctx) if !ctx.is_authenticated()));
/// # Ok(()) }
/// ```
#[must_use = "a resolution does nothing unless awaited or taken with `into_ready`"]
pub struct Resolving(State);

enum State {
    Ready(Option<Outcome>),
    Upstream(Upstream),
}

impl Resolving {
    pub(crate) fn ready(outcome: Outcome) -> Self {
        Self(State::Ready(Some(outcome)))
    }

    pub(crate) fn upstream(future: impl Future<Output = Outcome> + Send + 'static) -> Self {
        Self(State::Upstream(Box::pin(future)))
    }

    /// The outcome, when it was decided without an upstream call; otherwise the resolution
    /// back, to await.
    ///
    /// # Errors
    ///
    /// `self` when the outcome still needs Qelos (await it), or when it was already taken by
    /// polling.
    pub fn into_ready(self) -> Result<Outcome, Self> {
        match self.0 {
            State::Ready(Some(outcome)) => Ok(outcome),
            state => Err(Self(state)),
        }
    }

    /// `true` when the outcome is known without waiting.
    pub fn is_ready(&self) -> bool {
        matches!(self.0, State::Ready(Some(_)))
    }
}

impl Future for Resolving {
    type Output = Outcome;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Outcome> {
        match &mut self.get_mut().0 {
            State::Upstream(future) => future.as_mut().poll(cx),
            // Polling after completion is a caller bug; answering "pending forever" would hang
            // the request, so answer what `Outcome` has for "nothing to attach".
            State::Ready(outcome) => Poll::Ready(outcome.take().unwrap_or(Outcome::Skipped)),
        }
    }
}

impl fmt::Debug for Resolving {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = match &self.0 {
            State::Ready(Some(_)) => "ready",
            State::Ready(None) => "taken",
            State::Upstream(_) => "upstream",
        };
        f.debug_tuple("Resolving").field(&state).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Integrator, QelosConfig, RequestHead};

    fn integrator() -> Integrator {
        let config = QelosConfig::builder("http://127.0.0.1:9")
            .build()
            .expect("config");
        Integrator::new(config)
    }

    #[test]
    fn a_request_without_credentials_is_ready_without_polling() {
        let resolving = integrator().resolve(&RequestHead::new("/"));
        assert!(resolving.is_ready());
        let outcome = resolving.into_ready().expect("ready");
        assert!(matches!(outcome, Outcome::Continue(ctx) if !ctx.is_authenticated()));
    }

    #[test]
    fn a_request_with_a_token_waits_for_qelos() {
        let head = RequestHead::new("/").header("authorization", "Bearer abc.def.ghi");
        let resolving = integrator().resolve(&head);
        assert!(!resolving.is_ready());
        let pending = resolving.into_ready().expect_err("needs Qelos");
        assert_eq!(format!("{pending:?}"), "Resolving(\"upstream\")");
    }

    #[tokio::test]
    async fn polling_a_taken_outcome_answers_skipped_instead_of_hanging() {
        let mut resolving = integrator().resolve(&RequestHead::new("/"));
        assert!(matches!((&mut resolving).await, Outcome::Continue(_)));
        assert!(matches!(resolving.await, Outcome::Skipped));
    }
}
