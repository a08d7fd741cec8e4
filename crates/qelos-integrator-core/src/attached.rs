//! What the middleware leaves in the request for the extractors, and how extractors read it.

use crate::context::QelosContext;
use crate::deferred::Deferred;
use crate::pipeline::Outcome;
use crate::rejection::Rejection;

/// The per-request state an adapter stores (request extensions, local cache, …) between its
/// middleware and its extractors. Every adapter stores this one type, so "what does the
/// extractor answer" is decided here, once.
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::{Attached, Outcome};
/// # async fn run(outcome: Outcome) {
/// match Attached::from_outcome(outcome) {
///     Ok(attached) => {
///         // store `attached.clone()` in the request, run the handler, then:
///         let _set_cookies = attached.take_response_cookies();
///     }
///     Err(refusal) => { /* answer refusal.status(), refusal.body() */ }
/// }
/// # }
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Attached {
    /// The context, resolved before the handler.
    Ready(QelosContext),
    /// Resolved when an extractor first asks (`/api/**` with the proxy mounted).
    Deferred(Deferred),
    /// The path is skipped: no context; `Option` extractors answer `None`.
    Skipped,
}

impl Attached {
    /// What to store for an [`Outcome`], or the refusal to answer instead of the handler.
    ///
    /// # Errors
    ///
    /// [`Outcome::Reject`]'s refusal.
    pub fn from_outcome(outcome: Outcome) -> Result<Self, Rejection> {
        match outcome {
            Outcome::Continue(ctx) => Ok(Self::Ready(ctx)),
            Outcome::Deferred(deferred) => Ok(Self::Deferred(deferred)),
            Outcome::Skipped => Ok(Self::Skipped),
            Outcome::Reject(rejection) => Err(rejection),
        }
    }

    /// The context for an extractor that needs one (`Qelos`, `QelosSdk`, `RequireUser`).
    /// `state` is what the adapter found in the request (`None`: the middleware is missing;
    /// `hint` says how to add it).
    ///
    /// # Errors
    ///
    /// `500 QELOS_MIDDLEWARE_MISSING` without middleware or on a skipped path, or the deferred
    /// resolution's refusal.
    pub async fn context(
        state: Option<&Self>,
        hint: &'static str,
    ) -> Result<QelosContext, Rejection> {
        match state {
            Some(Self::Ready(ctx)) => Ok(ctx.clone()),
            Some(Self::Deferred(deferred)) => deferred.context().await,
            Some(Self::Skipped) | None => Err(Rejection::middleware_missing(hint)),
        }
    }

    /// [`context`](Self::context) without a future, when no wait is needed: `None` for a
    /// deferred context nobody resolved yet (await [`context`](Self::context) then). Lets an
    /// extractor whose framework wants a nameable future answer most requests with a ready one.
    ///
    /// # Examples
    ///
    /// ```
    /// use qelos_integrator_core::Attached;
    /// // No middleware ran: the answer is known at once (a 500 that says how to add it).
    /// let answer = Attached::context_now(None, "add the middleware");
    /// assert_eq!(answer.map(|r| r.map(|_| ()).unwrap_err().status().as_u16()), Some(500));
    /// ```
    pub fn context_now(
        state: Option<&Self>,
        hint: &'static str,
    ) -> Option<Result<QelosContext, Rejection>> {
        match state {
            Some(Self::Ready(ctx)) => Some(Ok(ctx.clone())),
            Some(Self::Deferred(deferred)) => deferred.resolved(),
            Some(Self::Skipped) | None => Some(Err(Rejection::middleware_missing(hint))),
        }
    }

    /// The context for an optional extractor (`Option<Qelos>`): `Some` only for a signed-in
    /// caller, `None` for anonymous callers and skipped paths.
    ///
    /// # Errors
    ///
    /// `500 QELOS_MIDDLEWARE_MISSING` without middleware, or the deferred resolution's refusal.
    pub async fn signed_in_context(
        state: Option<&Self>,
        hint: &'static str,
    ) -> Result<Option<QelosContext>, Rejection> {
        match state {
            Some(Self::Skipped) => Ok(None),
            other => {
                let ctx = Self::context(other, hint).await?;
                Ok(ctx.is_authenticated().then_some(ctx))
            }
        }
    }

    /// [`signed_in_context`](Self::signed_in_context) without a future, when no wait is
    /// needed: `None` for a deferred context nobody resolved yet.
    pub fn signed_in_context_now(
        state: Option<&Self>,
        hint: &'static str,
    ) -> Option<Result<Option<QelosContext>, Rejection>> {
        match state {
            Some(Self::Skipped) => Some(Ok(None)),
            other => Self::context_now(other, hint)
                .map(|answer| answer.map(|ctx| ctx.is_authenticated().then_some(ctx))),
        }
    }

    /// The `Set-Cookie` values to write after the handler.
    pub fn take_response_cookies(&self) -> Vec<String> {
        match self {
            Self::Ready(ctx) => ctx.take_response_cookies(),
            Self::Deferred(deferred) => deferred.take_response_cookies(),
            Self::Skipped => Vec::new(),
        }
    }
}
