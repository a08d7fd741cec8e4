//! The rejection type, its `recover` handler, and the cookie-writing reply wrapper.

use qelos_integrator_core::{QelosContext, Rejection, append_set_cookies};
use warp::Reply;
use warp::reply::Response;

/// A Qelos refusal carried through warp's rejection system; answered by [`recover`].
#[derive(Debug)]
pub struct QelosRejection(pub Rejection);

impl warp::reject::Reject for QelosRejection {}

fn into_response(rejection: &Rejection) -> Response {
    let mut response = warp::reply::with_status(
        warp::reply::with_header(rejection.body(), "content-type", "application/json"),
        rejection.status(),
    )
    .into_response();
    append_set_cookies(response.headers_mut(), rejection.set_cookies().to_vec());
    response
}

/// Answers Qelos rejections with the contract's status, JSON body and cookies; passes every
/// other rejection on. Use it with `.recover(qelos_integrator_warp::recover)`.
///
/// # Errors
///
/// Returns the rejection unchanged when it is not a [`QelosRejection`].
pub async fn recover(err: warp::Rejection) -> Result<Response, warp::Rejection> {
    match err.find::<QelosRejection>() {
        Some(QelosRejection(rejection)) => Ok(into_response(rejection)),
        None => Err(err),
    }
}

/// A reply with the context's pending cookies (from a refresh before or during the handler).
#[derive(Debug)]
pub struct WithCookies<R> {
    reply: R,
    cookies: Vec<String>,
}

/// Wraps `reply` so the context's queued `Set-Cookie`s are written. warp has no after-response
/// hook, so every handler that has a context returns its reply through this.
pub fn reply<R: Reply>(ctx: &QelosContext, reply: R) -> WithCookies<R> {
    WithCookies {
        reply,
        cookies: ctx.take_response_cookies(),
    }
}

impl<R: Reply> Reply for WithCookies<R> {
    fn into_response(self) -> Response {
        let mut response = self.reply.into_response();
        append_set_cookies(response.headers_mut(), self.cookies);
        response
    }
}
