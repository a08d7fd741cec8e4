//! The response future of [`QelosService`](crate::QelosService): the handoff from the
//! middleware to the inner service, and the cookies written after it.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_util::future::BoxFuture;
use http::Response;
use pin_project_lite::pin_project;
use qelos_integrator_core::RequestState;
use qelos_integrator_core::adapter::append_set_cookies;

pin_project! {
    /// Runs the inner service's future and writes the request's response cookies onto its
    /// answer. Requests decided without Qelos (no credentials, a skipped path, a cached
    /// identity, `/api/**` resolved on demand) call the inner service at once and box nothing;
    /// requests that wait on Qelos box one future.
    pub struct ResponseFuture<F, B, E> {
        #[pin]
        kind: Kind<F, B, E>,
    }
}

pin_project! {
    #[project = KindProj]
    enum Kind<F, B, E> {
        Running { #[pin] future: F, state: RequestState },
        Refused { response: Option<Response<B>> },
        Waiting { future: BoxFuture<'static, Result<Response<B>, E>> },
    }
}

impl<F, B, E> ResponseFuture<F, B, E> {
    pub(crate) fn running(future: F, state: RequestState) -> Self {
        Self {
            kind: Kind::Running { future, state },
        }
    }

    pub(crate) fn refused(response: Response<B>) -> Self {
        Self {
            kind: Kind::Refused {
                response: Some(response),
            },
        }
    }

    pub(crate) fn waiting(future: BoxFuture<'static, Result<Response<B>, E>>) -> Self {
        Self {
            kind: Kind::Waiting { future },
        }
    }
}

/// The inner service's answer with the state's cookies appended.
pub(crate) fn with_cookies<B>(mut response: Response<B>, state: &RequestState) -> Response<B> {
    append_set_cookies(response.headers_mut(), state.take_response_cookies());
    response
}

impl<F, B, E> Future for ResponseFuture<F, B, E>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: From<String>,
{
    type Output = Result<Response<B>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            KindProj::Running { future, state } => {
                let answer = ready!(future.poll(cx));
                Poll::Ready(answer.map(|response| with_cookies(response, state)))
            }
            KindProj::Refused { response } => Poll::Ready(Ok(response.take().unwrap_or_else(
                // Polled again after it answered: a caller bug, answered instead of a panic.
                || {
                    qelos_integrator_core::Rejection::middleware_missing(
                        "the Qelos middleware's future was polled after it completed",
                    )
                    .into_response()
                },
            ))),
            KindProj::Waiting { future } => future.as_mut().poll(cx),
        }
    }
}

impl<F, B, E> std::fmt::Debug for ResponseFuture<F, B, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
