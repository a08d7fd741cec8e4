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
