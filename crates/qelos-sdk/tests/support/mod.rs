//! Shared set-up: a fresh `qelos-mock` and SDKs signed in to it.

#![allow(dead_code, clippy::expect_used)] // shared by several test files; failing loudly is the point

use qelos_mock::{MintRequest, MockServer};
use qelos_sdk::{Auth, Credentials, QelosSdk, TokenPair};

/// A fresh seeded mock.
pub(crate) async fn mock() -> MockServer {
    MockServer::start().await.expect("mock starts")
}

/// An SDK without credentials.
pub(crate) fn anonymous(mock: &MockServer) -> QelosSdk {
    QelosSdk::builder(mock.url()).build().expect("sdk builds")
}

/// The seeded admin, signed in with OAuth.
pub(crate) async fn admin(mock: &MockServer) -> QelosSdk {
    let base = anonymous(mock);
    let s = base
        .oauth_signin(&Credentials::new("test@test.com", "admin"))
        .await
        .expect("admin signs in");
    base.with_auth(Auth::OAuth(s.tokens), None)
}

/// The seeded plain user, signed in with OAuth.
pub(crate) async fn plain_user(mock: &MockServer) -> QelosSdk {
    let base = anonymous(mock);
    let s = base
        .oauth_signin(&Credentials::new("user@test.com", "user1234"))
        .await
        .expect("user signs in");
    base.with_auth(Auth::OAuth(s.tokens), None)
}

/// A minted admin pair, optionally with an expired access token.
pub(crate) fn minted(mock: &MockServer, expired: bool) -> TokenPair {
    let mut req = MintRequest::for_user("test@test.com");
    req.expired = expired;
    let t = mock.mint_tokens(&req);
    TokenPair::new(Some(t.access.into()), Some(t.refresh.into()))
}

/// The seeded admin's session cookie (`qlt_0=<jwt>`), ready for `Auth::CookieSession`.
pub(crate) fn admin_cookie(mock: &MockServer, cookie_age: Option<std::time::Duration>) -> String {
    let mut req = MintRequest::for_user("test@test.com");
    req.cookie_age = cookie_age;
    format!("qlt_0={}", mock.mint_tokens(&req).cookie)
}

/// The value of header `name` on the last recorded request to `method path`.
pub(crate) fn last_header(
    mock: &MockServer,
    method: &str,
    path: &str,
    name: &str,
) -> Option<String> {
    mock.requests()
        .into_iter()
        .rev()
        .find(|r| r.method == method && r.path == path)
        .expect("request recorded")
        .headers
        .into_iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Records what the session hooks hear.
#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) refreshes: std::sync::atomic::AtomicUsize,
    pub(crate) tokens: std::sync::Mutex<Vec<TokenPair>>,
    pub(crate) set_cookies: std::sync::Mutex<Vec<String>>,
}

impl qelos_sdk::SessionHooks for Recorder {
    fn refresh<'a>(
        &'a self,
        sdk: &'a QelosSdk,
        current: &'a TokenPair,
    ) -> futures_util::future::BoxFuture<'a, Result<TokenPair, qelos_sdk::Error>> {
        self.refreshes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Box::pin(sdk.exchange_tokens(current))
    }
    fn on_tokens(&self, tokens: &TokenPair) {
        self.tokens.lock().expect("lock").push(tokens.clone());
    }
    fn on_set_cookie(&self, set_cookie: &[String]) {
        self.set_cookies
            .lock()
            .expect("lock")
            .extend(set_cookie.iter().cloned());
    }
}
