//! Answers read whole now and decoded later.

use std::fmt;

use reqwest::StatusCode;

use crate::client::Raw;
use crate::error::Error;

/// A successful answer whose body has been read but not decoded yet.
///
/// The `fetch_*` methods ([`QelosSdk::fetch_logged_in_user`](crate::QelosSdk::fetch_logged_in_user),
/// [`Workspaces::fetch_list`](crate::Workspaces::fetch_list)) return one: the call itself
/// (sending, a refresh on 401, the status check) is done, only [`decode`](Self::decode) is left.
/// Decoding several answers together, after all of them have arrived, keeps the decoded values
/// on the task's current thread, next to the code that uses them: on a multi-threaded runtime
/// the answers of concurrent calls wake the task on whichever worker read them, and values
/// decoded as each arrives would be allocated on one worker and freed on another.
///
/// ```no_run
/// # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
/// let workspaces = sdk.workspaces();
/// // Both calls run at once; both answers are decoded together once both are in.
/// let (me, list) = futures_util::future::join(
///     sdk.fetch_logged_in_user(),
///     workspaces.fetch_list(),
/// )
/// .await;
/// let (me, list) = (me?.decode()?, list?.decode()?);
/// println!("{} is in {} workspaces", me.username, list.len());
/// # Ok(()) }
/// ```
pub struct Answer<T> {
    raw: Raw,
    finish: fn(Raw) -> Result<T, Error>,
}

impl<T> Answer<T> {
    pub(crate) fn new(raw: Raw, finish: fn(Raw) -> Result<T, Error>) -> Self {
        Self { raw, finish }
    }

    /// The answer's status (always a success).
    pub fn status(&self) -> StatusCode {
        self.raw.status
    }

    /// Decodes the body.
    ///
    /// # Errors
    ///
    /// [`Error::Decode`] when the body is not what the call answers.
    pub fn decode(self) -> Result<T, Error> {
        (self.finish)(self.raw)
    }
}

impl<T> fmt::Debug for Answer<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.raw.status.as_u16())
            .field("body_bytes", &self.raw.body.len())
            .finish()
    }
}
