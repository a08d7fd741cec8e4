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

#[tokio::test]
async fn concurrent_401s_with_a_dead_refresh_token_refresh_once_and_all_fail() {
    let mock = mock().await;
    let pair = minted(&mock, true);
    mock.expire_token(pair.refresh.as_ref().unwrap().expose());
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(pair), None);
    mock.reset_calls();
    let calls = (0..10).map(|_| {
        let sdk = sdk.clone();
        async move { sdk.get_logged_in_user().await }
    });
    for r in futures_util::future::join_all(calls).await {
        let err = r.unwrap_err();
        assert_eq!(
            err,
            Error::Api {
                status: 401,
                message: "authorization token is not valid.".into()
            },
            "the call's own 401, not the refresh's"
        );
    }
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
}

#[tokio::test]
async fn a_call_whose_tokens_were_replaced_meanwhile_retries_without_refreshing() {
    /// Refreshes only when told to, so two calls can both hold a 401 first.
    struct Gated(tokio::sync::Semaphore, AtomicUsize);
    impl SessionHooks for Gated {
        fn refresh<'a>(
            &'a self,
            sdk: &'a QelosSdk,
            current: &'a TokenPair,
        ) -> futures_util::future::BoxFuture<'a, Result<TokenPair, Error>> {
            Box::pin(async move {
                self.1.fetch_add(1, Ordering::SeqCst);
                let _permit = self.0.acquire().await.expect("open");
                sdk.exchange_tokens(current).await
            })
        }
    }
    let mock = mock().await;
    let hooks = Arc::new(Gated(tokio::sync::Semaphore::new(0), AtomicUsize::new(0)));
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(minted(&mock, true)), Some(hooks.clone()));
    mock.reset_calls();
    let (a, b) = (sdk.clone(), sdk.clone());
    let first = tokio::spawn(async move { a.get_logged_in_user().await });
    let second = tokio::spawn(async move { b.get_logged_in_user().await });
    // Both calls have their 401 before the refresh may finish.
    while mock.calls("GET /api/me") < 2 || hooks.1.load(Ordering::SeqCst) < 1 {
        tokio::task::yield_now().await;
    }
    hooks.0.add_permits(1);
    assert!(first.await.unwrap().is_ok());
    assert!(second.await.unwrap().is_ok());
    assert_eq!(hooks.1.load(Ordering::SeqCst), 1, "one refresh");
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
    assert_eq!(mock.calls("GET /api/me"), 4, "two 401s, two retries");
}

#[tokio::test]
async fn an_outage_during_refresh_is_reported_and_the_next_call_refreshes_again() {
    let mock = mock().await;
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(minted(&mock, true)), None);
    mock.set_fault("POST /api/token/refresh", Fault::Status(503));
    let err = sdk.get_logged_in_user().await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.is_unavailable());
    mock.clear_faults();
    mock.reset_calls();
    assert!(sdk.get_logged_in_user().await.is_ok());
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
}

#[tokio::test]
async fn only_a_refresh_token_refreshes_before_the_first_call() {
    let mock = mock().await;
    let pair = minted(&mock, false);
    let recorder = Arc::new(Recorder::default());
    let sdk = anonymous(&mock).with_auth(
        Auth::OAuth(TokenPair::new(None, pair.refresh.clone())),
        Some(recorder.clone()),
    );
    mock.reset_calls();
    sdk.get_logged_in_user().await.unwrap();
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
    assert_eq!(mock.calls("GET /api/me"), 1, "no call bound to fail");
    assert_eq!(recorder.tokens.lock().unwrap().as_slice(), [sdk.tokens()]);
    assert!(sdk.tokens().access.is_some());
}

#[tokio::test]
async fn other_refusals_and_other_modes_never_refresh() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    mock.reset_calls();
    let missing = sdk
        .workspaces()
        .get("000000000000000000000000")
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404));
    let invalid = sdk
        .entities::<Value>("products")
        .create(&serde_json::json!({"price": "x"}))
        .await
        .unwrap_err();
    assert_eq!(invalid.status(), Some(406));
    mock.set_fault("GET /api/me", Fault::Status(422));
    assert_eq!(
        sdk.get_logged_in_user().await.unwrap_err().status(),
        Some(422)
    );
    mock.clear_faults();
    let bad_key =
        anonymous(&mock).with_auth(Auth::ApiToken(qelos_sdk::Secret::new("ql_expired")), None);
    assert!(
        bad_key
            .get_logged_in_user()
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    assert_eq!(mock.calls("POST /api/token/refresh"), 0);
    assert_eq!(mock.calls("POST /api/cookie/refresh"), 0);
}

#[tokio::test]
async fn a_refresh_token_call_shares_the_single_flight_and_tells_the_hooks() {
    let mock = mock().await;
    let recorder = Arc::new(Recorder::default());
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(minted(&mock, false)), Some(recorder.clone()));
    mock.reset_calls();
    let (a, b) = futures_util::future::join(sdk.refresh_token(), sdk.clone().refresh_token()).await;
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_ne!(a, b, "an explicit refresh always refreshes");
    assert_eq!(
        mock.calls("POST /api/token/refresh"),
        2,
        "one after the other"
    );
    assert_eq!(recorder.refreshes.load(Ordering::SeqCst), 2);
    assert_eq!(recorder.tokens.lock().unwrap().len(), 2);
    assert_eq!(sdk.tokens(), recorder.tokens.lock().unwrap()[1]);
    let none = anonymous(&mock).refresh_token().await.unwrap_err();
    assert_eq!(none, Error::NoRefreshToken);
}

#[tokio::test]
async fn timeouts_apply_to_every_kind_of_call() {
    let mock = mock().await;
    let base = QelosSdk::builder(mock.url())
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let sdk = base.with_auth(Auth::OAuth(minted(&mock, false)), None);
    mock.set_fault("POST /api/signin", Fault::Latency(Duration::from_secs(2)));
    mock.set_fault(
        "POST /api/blueprints/{key}/entities",
        Fault::Latency(Duration::from_secs(2)),
    );
    mock.set_fault(
        "POST /api/token/refresh",
        Fault::Latency(Duration::from_secs(2)),
    );
    let signin = base
        .oauth_signin(&qelos_sdk::Credentials::new("test@test.com", "admin"))
        .await;
    assert_eq!(signin.unwrap_err(), Error::Timeout);
    let create = sdk
        .entities::<Value>("products")
        .create(&serde_json::json!({"name": "slow"}))
        .await;
    assert_eq!(create.unwrap_err(), Error::Timeout);
    assert_eq!(sdk.refresh_token().await.unwrap_err(), Error::Timeout);
}

#[tokio::test]
async fn garbage_and_5xx_on_auth_calls_are_outages() {
    let mock = mock().await;
    mock.set_fault("POST /api/token/refresh", Fault::GarbageJson);
    let err = anonymous(&mock)
        .exchange_tokens(&minted(&mock, false))
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Decode { status: 200, .. }), "{err:?}");
    mock.set_fault("POST /api/signin", Fault::Status(500));
    let err = anonymous(&mock)
        .signin(&qelos_sdk::Credentials::new("test@test.com", "admin"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::Api {
            status: 500,
            message: "injected fault".into()
        }
    );
    assert!(err.is_unavailable() && !err.is_unauthorized());
}

#[tokio::test]
async fn fetched_answers_decode_later_to_what_the_plain_calls_return() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let workspaces = sdk.workspaces();
    let (me, list) =
        futures_util::future::join(sdk.fetch_logged_in_user(), workspaces.fetch_list()).await;
    let (me, list) = (me.unwrap(), list.unwrap());
    assert_eq!(me.status(), 200);
    assert!(format!("{me:?}").contains("body_bytes"));
    let me = me.decode().unwrap();
    assert_eq!(me, sdk.get_logged_in_user().await.unwrap());
    assert_eq!(
        me.full_name.as_deref(),
        Some("Test Admin"),
        "names are URI-decoded as by get_logged_in_user"
    );
    assert_eq!(list.decode().unwrap(), workspaces.list().await.unwrap());
}

#[tokio::test]
async fn a_fetch_fails_on_the_status_and_garbage_fails_only_at_decode() {
    let mock = mock().await;
    let refused = anonymous(&mock).fetch_logged_in_user().await.unwrap_err();
    assert!(refused.is_unauthorized(), "{refused:?}");
    mock.set_fault("GET /api/me", Fault::GarbageJson);
    let sdk = admin(&mock).await;
    let fetched = sdk.fetch_logged_in_user().await.unwrap();
    let err = fetched.decode().unwrap_err();
    assert!(matches!(err, Error::Decode { status: 200, .. }), "{err:?}");
    assert!(err.is_unavailable());
}
