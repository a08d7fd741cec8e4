//! Refresh behaviour and failure modes: 401-only refresh, single-flight, timeouts, garbage,
//! 5xx, network errors, and redaction.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use qelos_mock::Fault;
use qelos_sdk::{Auth, EntityQuery, Error, QelosSdk, SessionHooks, TokenPair};
use serde_json::Value;
use support::*;

#[tokio::test]
async fn a_401_refreshes_once_and_retries() {
    let mock = mock().await;
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(minted(&mock, true)), None);
    mock.reset_calls();
    assert_eq!(
        sdk.get_logged_in_user().await.unwrap().username,
        "test@test.com"
    );
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
    assert_eq!(
        mock.calls("GET /api/me"),
        2,
        "the failed call and its retry"
    );
}

#[tokio::test]
async fn concurrent_401s_on_clones_refresh_exactly_once() {
    let mock = mock().await;
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(minted(&mock, true)), None);
    mock.reset_calls();
    let calls = (0..20).map(|_| {
        let sdk = sdk.clone();
        async move { sdk.get_logged_in_user().await }
    });
    for r in futures_util::future::join_all(calls).await {
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
}

#[tokio::test]
async fn a_403_never_triggers_a_refresh() {
    let mock = mock().await;
    let user = plain_user(&mock).await;
    mock.reset_calls();
    let err = user
        .entities::<Value>("audit")
        .list(&EntityQuery::new())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    assert_eq!(mock.calls("POST /api/token/refresh"), 0);
}

#[tokio::test]
async fn hooks_supply_the_refresh_and_hear_new_tokens() {
    struct Counting(AtomicUsize, AtomicUsize);
    impl SessionHooks for Counting {
        fn refresh<'a>(
            &'a self,
            sdk: &'a QelosSdk,
            current: &'a TokenPair,
        ) -> futures_util::future::BoxFuture<'a, Result<TokenPair, Error>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(sdk.exchange_tokens(current))
        }
        fn on_tokens(&self, _tokens: &TokenPair) {
            self.1.fetch_add(1, Ordering::SeqCst);
        }
    }
    let mock = mock().await;
    let hooks = Arc::new(Counting(AtomicUsize::new(0), AtomicUsize::new(0)));
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(minted(&mock, true)), Some(hooks.clone()));
    sdk.workspaces().list().await.unwrap();
    assert_eq!(hooks.0.load(Ordering::SeqCst), 1);
    assert_eq!(hooks.1.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_dead_refresh_token_surfaces_the_401() {
    let mock = mock().await;
    let pair = minted(&mock, true);
    mock.expire_token(pair.refresh.as_ref().unwrap().expose());
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(pair), None);
    assert!(
        sdk.get_logged_in_user()
            .await
            .unwrap_err()
            .is_unauthorized()
    );
}

#[tokio::test]
async fn injected_latency_beyond_the_timeout_is_a_timeout() {
    let mock = mock().await;
    mock.set_fault("GET /api/me", Fault::Latency(Duration::from_secs(3)));
    let base = QelosSdk::builder(mock.url())
        .timeout(Duration::from_millis(300))
        .build()
        .unwrap();
    let sdk = base.with_auth(Auth::OAuth(minted(&mock, false)), None);
    let err = sdk.get_logged_in_user().await.unwrap_err();
    assert_eq!(err, Error::Timeout);
    assert!(err.is_unavailable());
}

#[tokio::test]
async fn garbage_json_is_a_decode_error_without_body_text() {
    let mock = mock().await;
    mock.set_fault("GET /api/me", Fault::GarbageJson);
    let sdk = admin(&mock).await;
    let err = sdk.get_logged_in_user().await.unwrap_err();
    assert!(matches!(err, Error::Decode { status: 200, .. }), "{err:?}");
    assert!(!err.to_string().contains("garbage"));
}

#[tokio::test]
async fn a_5xx_is_unavailable_not_a_refusal() {
    let mock = mock().await;
    mock.set_fault("GET /api/workspaces", Fault::Status(503));
    let err = admin(&mock).await.workspaces().list().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.is_unavailable());
}

#[tokio::test]
async fn a_dropped_connection_is_a_network_error() {
    let mock = mock().await;
    mock.set_fault("GET /api/me", Fault::DropConnection);
    let err = admin(&mock).await.get_logged_in_user().await.unwrap_err();
    assert!(matches!(err, Error::Network(_)), "{err:?}");
}

#[tokio::test]
async fn a_closed_port_is_a_network_error() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let sdk = QelosSdk::builder(format!("http://127.0.0.1:{port}"))
        .build()
        .unwrap();
    assert!(sdk.get_logged_in_user().await.unwrap_err().is_unavailable());
}

#[tokio::test]
async fn tokens_never_appear_in_debug_or_errors() {
    let mock = mock().await;
    let pair = minted(&mock, true);
    mock.expire_token(pair.refresh.as_ref().unwrap().expose());
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(pair.clone()), None);
    let err = sdk.get_logged_in_user().await.unwrap_err();
    let rt = qelos_sdk::Secret::new(pair.refresh.as_ref().unwrap().expose());
    let callback = anonymous(&mock)
        .exchange_auth_callback(&rt)
        .await
        .unwrap_err();
    let text = format!(
        "{sdk:?} {:?} {err} {err:?} {callback} {callback:?}",
        sdk.tokens()
    );
    for t in [pair.access.unwrap(), pair.refresh.unwrap()] {
        assert!(
            !text.contains(&t.expose()[20..40]),
            "token fragment in {text}"
        );
    }
}
