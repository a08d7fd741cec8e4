//! The poem middleware that resolves the Qelos context before the endpoint runs.

use std::borrow::Cow;

use poem::{Endpoint, IntoResponse, Middleware, Request, Response};
use qelos_integrator_core::adapter::{RequestView, append_set_cookies};
use qelos_integrator_core::{Integrator, Rejection};

/// A poem [`Middleware`] that gives every request a Qelos context (or refuses it).
///
/// # Examples
///
/// ```
/// use poem::{EndpointExt, Route, get, handler};
/// use qelos_integrator_poem::{Qelos, QelosConfig, QelosMiddleware};
///
/// #[handler]
/// fn me(q: Qelos) -> String {
///     q.user().map(|u| u.username.clone()).unwrap_or_default()
/// }
///
/// # fn app() -> Result<(), qelos_integrator_poem::ConfigError> {
/// let app = Route::new()
///     .at("/me", get(me))
///     .with(QelosMiddleware::new(QelosConfig::builder("http://localhost:3000").build()?));
/// # let _ = app; Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct QelosMiddleware {
    integrator: Integrator,
}

qelos_integrator_core::integrator_methods!(QelosMiddleware {});

impl<E: Endpoint> Middleware<E> for QelosMiddleware {
    type Output = QelosEndpoint<E>;

    fn transform(&self, inner: E) -> Self::Output {
        QelosEndpoint {
            inner,
            integrator: self.integrator.clone(),
        }
    }
}

/// The endpoint made by [`QelosMiddleware`].
#[derive(Debug)]
pub struct QelosEndpoint<E> {
    inner: E,
    integrator: Integrator,
}

struct View<'a>(&'a Request);

impl RequestView for View<'_> {
    fn method(&self) -> &str {
        self.0.method().as_str()
    }
    fn path(&self) -> &str {
        self.0.uri().path()
    }
    fn headers(&self) -> Cow<'_, http::HeaderMap> {
        Cow::Borrowed(self.0.headers())
    }
    fn header_map(&self) -> Option<&http::HeaderMap> {
        Some(self.0.headers())
    }
}

/// The core rejection as a poem response.
pub(crate) fn rejection_response(rejection: Rejection) -> Response {
    let mut response = Response::builder()
        .status(rejection.status())
        .content_type("application/json")
        .body(rejection.body());
    append_set_cookies(response.headers_mut(), rejection.set_cookies().to_vec());
    response
}

impl<E: Endpoint> Endpoint for QelosEndpoint<E> {
    type Output = Response;

    async fn call(&self, mut req: Request) -> poem::Result<Response> {
        let state = self.integrator.attach(&View(&req));
        match state.admit().await {
            Err(rejection) => Ok(rejection_response(rejection)),
            Ok(()) => {
                req.extensions_mut().insert(state.clone());
                let answer = self.inner.call(req).await;
                let cookies = state.take_response_cookies();
                let mut response = match answer {
                    Ok(output) => output.into_response(),
                    // Errors pass through unchanged (an outer `catch_error` sees them), unless
                    // rotated tokens must reach the client: a `poem::Error` carries no headers.
                    Err(err) if cookies.is_empty() => return Err(err),
                    Err(err) => err.into_response(),
                };
                append_set_cookies(response.headers_mut(), cookies);
                Ok(response)
            }
        }
    }
}
