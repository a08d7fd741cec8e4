//! The `on_token_refresh` hook: what runs after a request's tokens were refreshed.

use std::future::Future;
use std::sync::Arc;

use futures_util::future::BoxFuture;
use qelos_sdk::TokenPair;
use tracing::Instrument as _;

use crate::context::ResponseCookies;
use crate::request::RequestHead;

/// One refresh, as an [`OnTokenRefresh`] hook sees it: the request, the pair it carried, the
/// new pair, and the response's cookies.
///
/// Owned and cheap to move (the request head is shared), so an `async move` hook can hold it
/// across `.await`. `Debug` shows the path, the header names and no token.
#[derive(Clone)]
pub struct TokenRefresh {
    request: Arc<RequestHead>,
    old: TokenPair,
    new: TokenPair,
    cookies: ResponseCookies,
}

impl std::fmt::Debug for TokenRefresh {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRefresh")
            .field("request", &self.request)
            .field("old", &self.old)
            .field("new", &self.new)
            .field("cookies", &self.cookies)
            .finish()
    }
}

impl TokenRefresh {
    pub(crate) fn new(
        request: Arc<RequestHead>,
        old: TokenPair,
        new: TokenPair,
        cookies: ResponseCookies,
    ) -> Self {
        Self {
            request,
            old,
            new,
            cookies,
        }
    }

    /// The request whose tokens were refreshed: its method, path and headers.
    pub fn request(&self) -> &RequestHead {
        &self.request
    }

    /// The pair the request carried (the refresh token in it is now used up).
    pub fn old_tokens(&self) -> &TokenPair {
        &self.old
    }

    /// The new pair.
    pub fn new_tokens(&self) -> &TokenPair {
        &self.new
    }

    /// The response's cookies: [`ResponseCookies::set`] writes any cookie,
    /// [`ResponseCookies::set_tokens`] the token cookies.
    pub fn cookies(&self) -> &ResponseCookies {
        &self.cookies
    }

    /// Queues the default token cookies for the new pair (what happens without a hook).
    pub fn set_tokens(&self) {
        self.cookies.set_tokens(&self.new);
    }
}

/// Runs after every refresh of a request's tokens, instead of writing the default token
/// cookies: the official integrators' `onTokenRefresh`. Async closures taking a
/// [`TokenRefresh`] implement it.
///
/// It runs for every refresh a request sees: the middleware's (an expired access token, a 401
/// while identifying the caller), the request SDK's (a 401 inside the handler, or
/// [`QelosSdk::refresh_token`](qelos_sdk::QelosSdk::refresh_token)), and the `/api/**`
/// proxy's. It is awaited before the response's cookies are taken. The default token cookies
/// are written only if the hook calls [`TokenRefresh::set_tokens`].
///
/// Refreshes stay single-flight: when several requests carry the same refresh token, Qelos is
/// asked once, and the hook runs once per request that receives the new pair (each with its
/// own response's cookies). A hook awaited while the middleware identifies the caller counts
/// towards the config's timeout: keep slow work out of it (spawn it).
///
/// # Examples
///
/// ```
/// use qelos_integrator_core::cookies::SetCookie;
/// use qelos_integrator_core::{OnTokenRefresh, TokenRefresh};
///
/// let hook = |event: TokenRefresh| async move {
///     tracing::info!(path = %event.request().path, "tokens refreshed");
///     event.set_tokens(); // keep the default cookies
///     let marker = SetCookie::new("q_refreshed", "1").path("/").http_only(true);
///     if let Err(err) = event.cookies().set(&marker) {
///         tracing::warn!(%err, "cookie not written");
///     }
/// };
/// fn assert_hook(_: impl OnTokenRefresh) {}
/// assert_hook(hook);
/// ```
pub trait OnTokenRefresh: Send + Sync + 'static {
    /// Called with each refresh; the returned future is awaited.
    fn on_token_refresh(&self, event: TokenRefresh) -> BoxFuture<'_, ()>;
}

impl<F, Fut> OnTokenRefresh for F
where
    F: Fn(TokenRefresh) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    fn on_token_refresh(&self, event: TokenRefresh) -> BoxFuture<'_, ()> {
        Box::pin(self(event))
    }
}

/// The hook as configured: shared between the config and the integrators made from it.
pub(crate) type SharedHook = Arc<dyn OnTokenRefresh>;

/// Runs `hook` for one refresh, or writes the default token cookies without one.
pub(crate) async fn after_refresh(
    hook: Option<&SharedHook>,
    request: Option<&Arc<RequestHead>>,
    old: &TokenPair,
    new: &TokenPair,
    cookies: &ResponseCookies,
) {
    match hook {
        None => cookies.set_tokens(new),
        Some(hook) => {
            // The pipeline keeps the head whenever a hook is set; an empty one otherwise.
            let request = request.map_or_else(|| Arc::new(RequestHead::default()), Arc::clone);
            let event = TokenRefresh::new(request, old.clone(), new.clone(), cookies.clone());
            hook.on_token_refresh(event)
                .instrument(tracing::debug_span!("qelos.on_token_refresh"))
                .await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::CookieSettings;

    fn cookies() -> ResponseCookies {
        ResponseCookies::new(Arc::new(CookieSettings {
            access: "q_access_token".into(),
            refresh: "q_refresh_token".into(),
            secure: false,
        }))
    }

    fn event(cookies: &ResponseCookies) -> TokenRefresh {
        let request = RequestHead::new("/page").header("authorization", "Bearer old-access-secret");
        TokenRefresh::new(
            Arc::new(request),
            TokenPair::new(
                Some("old-access-secret".into()),
                Some("old-refresh-secret".into()),
            ),
            TokenPair::new(
                Some("new-access-secret".into()),
                Some("new-refresh-secret".into()),
            ),
            cookies.clone(),
        )
    }

    #[test]
    fn the_events_debug_shows_the_path_and_no_token() {
        let dbg = format!("{:?}", event(&cookies()));
        assert!(dbg.contains("/page"), "{dbg}");
        assert!(!dbg.contains("secret"), "{dbg}");
    }

    #[tokio::test]
    async fn without_a_hook_the_default_token_cookies_are_written() {
        let cookies = cookies();
        let e = event(&cookies);
        after_refresh(None, None, e.old_tokens(), e.new_tokens(), &cookies).await;
        let written = cookies.take();
        assert_eq!(written.len(), 2);
        assert!(written[0].starts_with("q_access_token=new-access-secret;"));
        assert!(written[1].starts_with("q_refresh_token=new-refresh-secret;"));
    }

    #[tokio::test]
    async fn a_hook_that_does_nothing_writes_no_cookie() {
        let cookies = cookies();
        let e = event(&cookies);
        let hook: SharedHook = Arc::new(|_event: TokenRefresh| async {});
        after_refresh(Some(&hook), None, e.old_tokens(), e.new_tokens(), &cookies).await;
        assert!(cookies.is_empty());
    }
}
