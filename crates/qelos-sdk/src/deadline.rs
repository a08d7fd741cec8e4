//! One deadline for a group of calls, instead of one timer per call.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

tokio::task_local! {
    /// Set while a [`with_deadline`] future is polled: calls made inside it skip their own
    /// per-call timeout, because the enclosing deadline already bounds them.
    static SHARED_DEADLINE: ();
}

/// Runs `future` under one deadline for every SDK call it makes, and answers `None` if the
/// deadline passed first.
///
/// Each SDK call normally carries its own timeout (the builder's
/// [`timeout`](crate::QelosSdkBuilder::timeout)), which costs one runtime timer per call. Inside
/// `with_deadline` the calls skip theirs: one timer bounds the whole group (for example the two
/// concurrent calls that identify a user, plus a refresh and a retry). Calls in tasks spawned
/// from inside keep their own timeouts.
///
/// # Examples
///
/// ```no_run
/// use std::time::Duration;
/// use qelos_sdk::{QelosSdk, TokenPair};
/// # async fn run(sdk: QelosSdk) {
/// let both = qelos_sdk::with_deadline(Duration::from_secs(5), async {
///     let workspaces = sdk.workspaces();
///     tokio::join!(sdk.get_logged_in_user(), workspaces.list())
/// });
/// match both.await {
///     Some((me, workspaces)) => println!("{:?} {:?}", me.is_ok(), workspaces.is_ok()),
///     None => println!("Qelos did not answer within 5 s"),
/// }
/// # }
/// ```
pub fn with_deadline<F: Future>(
    limit: Duration,
    future: F,
) -> impl Future<Output = Option<F::Output>> {
    WithDeadline {
        future: SHARED_DEADLINE.scope((), future),
        limit,
        timer: None,
    }
}

pin_project_lite::pin_project! {
    /// The future of [`with_deadline`]. Written out rather than an `async fn`, which would hold
    /// the future twice (as the argument and inside the timer) and so double the size of every
    /// future that awaits this one. The timer starts on the first poll.
    struct WithDeadline<F: Future> {
        #[pin]
        future: tokio::task::futures::TaskLocalFuture<(), F>,
        limit: Duration,
        #[pin]
        timer: Option<tokio::time::Sleep>,
    }
}

impl<F: Future> Future for WithDeadline<F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if this.timer.is_none() {
            this.timer.set(Some(tokio::time::sleep(*this.limit)));
        }
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Some(output));
        }
        match this.timer.as_pin_mut() {
            Some(timer) => timer.poll(cx).map(|()| None),
            None => Poll::Pending,
        }
    }
}

/// `true` when the current call runs inside [`with_deadline`].
pub(crate) fn bounded_by_caller() -> bool {
    SHARED_DEADLINE.try_with(|()| ()).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_inside_know_a_deadline_bounds_them() {
        assert!(!bounded_by_caller());
        let inside = with_deadline(Duration::from_secs(1), async { bounded_by_caller() }).await;
        assert_eq!(inside, Some(true));
        assert!(!bounded_by_caller());
    }

    #[test]
    fn a_deadline_made_outside_a_runtime_starts_on_its_first_poll() {
        let group = with_deadline(Duration::from_millis(50), async { bounded_by_caller() });
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        assert_eq!(rt.block_on(group), Some(true));
    }

    #[tokio::test]
    async fn a_group_slower_than_the_deadline_answers_none() {
        let slow = with_deadline(Duration::from_millis(20), async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            "finished"
        });
        assert_eq!(slow.await, None);
    }

    #[tokio::test]
    async fn spawned_tasks_keep_their_own_timeouts() {
        let spawned = with_deadline(Duration::from_secs(1), async {
            tokio::spawn(async { bounded_by_caller() }).await.ok()
        })
        .await;
        assert_eq!(spawned, Some(Some(false)));
    }
}
