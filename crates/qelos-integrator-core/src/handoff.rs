//! The middleware future shared by adapters whose framework wants a nameable one (tower's and
//! actix's `Service`): resolve, call the handler, write the cookies.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use pin_project_lite::pin_project;

use crate::attached::Attached;
use crate::pipeline::Outcome;
use crate::rejection::Rejection;
use crate::resolving::Resolving;

/// How one framework hands a request to its inner service: the adapter's half of
/// [`HandoffFuture`]. Implemented by a marker type in each adapter; the future does the rest.
pub trait Handoff {
    /// The inner service, as the middleware keeps it.
    type Service;
    /// The framework's request.
    type Request;
    /// The inner service's future.
    type Future: Future;
    /// What the middleware's future yields.
    type Output;

    /// Stores `attached` in `request` (for the extractors) and calls `service`.
    fn call(
        service: &mut Self::Service,
        request: Self::Request,
        attached: &Attached,
    ) -> Self::Future;
    /// The answer to a refused request; the handler does not run.
    fn refuse(request: Self::Request, rejection: Rejection) -> Self::Output;
    /// The inner service's answer with `set_cookies` appended (cookies queued before and
    /// during the handler).
    fn respond(answer: <Self::Future as Future>::Output, set_cookies: Vec<String>) -> Self::Output;
    /// The answer when the future is polled again after it finished or after the inner `call`
    /// panicked: a caller bug, answered instead of a panic.
    fn misused(message: &'static str) -> Self::Output;
}

pin_project! {
    /// A middleware's response future: waits for the resolution when it needs Qelos, then runs
    /// the inner service's future, then writes the response cookies.
    ///
    /// Requests decided without Qelos (no credentials, a skipped path, a cached identity) call
    /// the inner service inside [`new`](Self::new): nothing is boxed and the service is not
    /// cloned. See the axum adapter's `QelosService` for a use.
    pub struct HandoffFuture<H: Handoff> {
        #[pin]
        state: State<H>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<H: Handoff> {
        Resolving {
            resolving: Resolving,
            parked: Option<(H::Service, H::Request)>,
        },
        Running {
            #[pin]
            future: H::Future,
            attached: Attached,
        },
        Refused {
            output: Option<H::Output>,
        },
    }
}

impl<H: Handoff> State<H> {
    fn run(outcome: Outcome, service: &mut H::Service, request: H::Request) -> Self {
        match Attached::from_outcome(outcome) {
            Err(rejection) => Self::Refused {
                output: Some(H::refuse(request, rejection)),
            },
            Ok(attached) => Self::Running {
                future: H::call(service, request, &attached),
                attached,
            },
        }
    }
}

impl<H: Handoff> HandoffFuture<H> {
    /// The future for `request`. When `resolving` is ready the inner `service` is called now;
    /// otherwise `park` gives the service to keep until Qelos answers (the one `poll_ready`
    /// prepared, or a shared handle).
    pub fn new(
        resolving: Resolving,
        service: &mut H::Service,
        request: H::Request,
        park: impl FnOnce(&mut H::Service) -> H::Service,
    ) -> Self {
        let state = match resolving.into_ready() {
            Ok(outcome) => State::run(outcome, service, request),
            Err(resolving) => State::Resolving {
                resolving,
                parked: Some((park(service), request)),
            },
        };
        Self { state }
    }
}

impl<H: Handoff> Future for HandoffFuture<H> {
    type Output = H::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<H::Output> {
        let mut state = self.project().state;
        loop {
            match state.as_mut().project() {
                StateProj::Resolving { resolving, parked } => {
                    let outcome = ready!(Pin::new(resolving).poll(cx));
                    let Some((mut service, request)) = parked.take() else {
                        return Poll::Ready(H::misused(
                            "the Qelos middleware's future was polled after its handler panicked",
                        ));
                    };
                    let next = State::run(outcome, &mut service, request);
                    state.set(next);
                }
                StateProj::Running { future, attached } => {
                    let answer = ready!(future.poll(cx));
                    return Poll::Ready(H::respond(answer, attached.take_response_cookies()));
                }
                StateProj::Refused { output } => {
                    return Poll::Ready(output.take().unwrap_or_else(|| {
                        H::misused("the Qelos middleware's future was polled after it completed")
                    }));
                }
            }
        }
    }
}

impl<H: Handoff> std::fmt::Debug for HandoffFuture<H> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HandoffFuture").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::future::{Ready, ready};

    use super::*;
    use crate::{Integrator, QelosConfig, RequestHead};

    /// A service that counts its calls and answers with the context's anonymity.
    struct Counting;

    impl Handoff for Counting {
        type Service = u32;
        type Request = ();
        type Future = Ready<String>;
        type Output = (String, Vec<String>);

        fn call(service: &mut u32, (): (), attached: &Attached) -> Ready<String> {
            *service += 1;
            let kind = match attached {
                Attached::Ready(ctx) if ctx.is_authenticated() => "user",
                Attached::Ready(_) => "anonymous",
                _ => "other",
            };
            ready(kind.to_owned())
        }
        fn refuse((): (), rejection: Rejection) -> Self::Output {
            (
                rejection.code().to_owned(),
                rejection.set_cookies().to_vec(),
            )
        }
        fn respond(answer: String, set_cookies: Vec<String>) -> Self::Output {
            (answer, set_cookies)
        }
        fn misused(message: &'static str) -> Self::Output {
            (message.to_owned(), Vec::new())
        }
    }

    fn integrator(require_auth: bool) -> Integrator {
        let config = QelosConfig::builder("http://127.0.0.1:9")
            .require_auth(require_auth)
            .timeout(std::time::Duration::from_millis(200))
            .build()
            .expect("config");
        Integrator::new(config)
    }

    #[tokio::test]
    async fn a_ready_request_calls_the_service_inside_new_without_parking_it() {
        let mut calls = 0;
        let resolving = integrator(false).resolve(&RequestHead::new("/"));
        let future = HandoffFuture::<Counting>::new(resolving, &mut calls, (), |_| {
            unreachable!("a ready request parks nothing")
        });
        assert_eq!(calls, 1);
        assert_eq!(future.await, ("anonymous".to_owned(), Vec::new()));
    }

    #[tokio::test]
    async fn a_refused_request_never_reaches_the_service() {
        let mut calls = 0;
        let resolving = integrator(true).resolve(&RequestHead::new("/"));
        let answer = HandoffFuture::<Counting>::new(resolving, &mut calls, (), |c| *c).await;
        assert_eq!(calls, 0);
        assert_eq!(answer.0, "UNAUTHORIZED");
    }

    #[tokio::test]
    async fn a_request_waiting_on_qelos_runs_the_parked_service_after_the_answer() {
        let mut calls = 0;
        // Nothing listens on port 9: Qelos is unavailable, the request continues anonymous.
        let head = RequestHead::new("/").header("authorization", "Bearer a.b.c");
        let resolving = integrator(false).resolve(&head);
        let future = HandoffFuture::<Counting>::new(resolving, &mut calls, (), |c| *c + 10);
        assert_eq!(calls, 0, "the service runs only once Qelos answered");
        assert_eq!(future.await.0, "anonymous");
    }
}
