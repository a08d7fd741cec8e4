//! The pipeline without any framework, against qelos-mock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use qelos_integrator_core::{Integrator, Outcome, QelosConfig, QelosContext, RequestHead};
use qelos_mock::{Fault, MintRequest, MockServer};

fn signed_in(outcome: Outcome) -> QelosContext {
    match outcome {
        Outcome::Continue(ctx) => ctx,
        other => panic!("expected a context, got {other:?}"),
    }
}

fn bearer(token: &str) -> RequestHead {
    RequestHead::new("/page").header("authorization", &format!("Bearer {token}"))
}

#[tokio::test]
async fn a_signed_in_request_makes_exactly_two_upstream_calls() {
    let mock = MockServer::start().await.unwrap();
    let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let integrator = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap());
    mock.reset_calls();
    let ctx = signed_in(integrator.resolve(&bearer(&t.access)).await);
    assert!(ctx.is_authenticated());
    assert_eq!(mock.calls("GET /api/me"), 1);
    assert_eq!(mock.calls("GET /api/workspaces"), 1);
    assert_eq!(mock.total_calls(), 2);
}

#[tokio::test]
async fn an_anonymous_request_makes_no_upstream_call() {
    let mock = MockServer::start().await.unwrap();
    let integrator = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap());
    let head = RequestHead::new("/").header("cookie", "theme=dark; lang=en");
    let ctx = signed_in(integrator.resolve(&head).await);
    assert!(!ctx.is_authenticated());
    assert_eq!(mock.total_calls(), 0);
}

#[tokio::test]
async fn me_and_workspaces_run_concurrently() {
    // Each call takes 800 ms; with a 1.3 s budget only concurrent calls can finish.
    let mock = MockServer::start().await.unwrap();
    mock.set_fault("GET /api/me", Fault::Latency(Duration::from_millis(800)));
    mock.set_fault(
        "GET /api/workspaces",
        Fault::Latency(Duration::from_millis(800)),
    );
    let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let config = QelosConfig::builder(mock.url())
        .timeout(Duration::from_millis(1300))
        .build()
        .unwrap();
    let ctx = signed_in(Integrator::new(config).resolve(&bearer(&t.access)).await);
    assert!(
        ctx.is_authenticated(),
        "both calls fit in the budget only when concurrent"
    );
    assert_eq!(ctx.workspaces().len(), 2);
}

#[tokio::test]
async fn the_identity_cache_serves_repeats_without_upstream_calls() {
    let mock = MockServer::start().await.unwrap();
    let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let config = QelosConfig::builder(mock.url())
        .identity_cache(Duration::from_secs(30))
        .build()
        .unwrap();
    let integrator = Integrator::new(config);
    mock.reset_calls();
    for _ in 0..5 {
        assert!(signed_in(integrator.resolve(&bearer(&t.access)).await).is_authenticated());
    }
    assert_eq!(
        mock.total_calls(),
        2,
        "only the first request went upstream"
    );
    let other = mock.mint_tokens(&MintRequest::for_user("user@test.com"));
    let ctx = signed_in(integrator.resolve(&bearer(&other.access)).await);
    assert_eq!(
        ctx.user().unwrap().username,
        "user@test.com",
        "keys are per credential"
    );
}

#[tokio::test]
async fn a_cached_identity_is_not_served_once_its_access_token_expires() {
    let mock = MockServer::start().await.unwrap();
    let mut req = MintRequest::for_user("test@test.com");
    // The mock's `exp` is whole seconds (`now + ttl`): with 2 s the token lives at least 1 s,
    // enough for the first request even on a loaded machine, and at most 2 s.
    req.access_ttl = Some(Duration::from_secs(2));
    let t = mock.mint_tokens(&req);
    let config = QelosConfig::builder(mock.url())
        .identity_cache(Duration::from_secs(60))
        .build()
        .unwrap();
    let integrator = Integrator::new(config);
    let cookie = format!("q_access_token={}; q_refresh_token={}", t.access, t.refresh);
    let head = RequestHead::new("/").header("cookie", &cookie);
    assert!(signed_in(integrator.resolve(&head).await).is_authenticated());
    assert_eq!(mock.calls("POST /api/token/refresh"), 0);
    // Wait until `exp` has certainly passed.
    tokio::time::sleep(Duration::from_millis(2200)).await;
    let later = signed_in(integrator.resolve(&head).await);
    assert!(later.is_authenticated());
    assert_eq!(
        mock.calls("POST /api/token/refresh"),
        1,
        "the expired token was refreshed, not answered from the cache"
    );
    assert_ne!(later.tokens().access.unwrap().expose(), t.access);
}

#[tokio::test]
async fn a_late_request_with_the_rotated_refresh_token_gets_the_same_pair() {
    let mock = MockServer::start().await.unwrap();
    let mut req = MintRequest::for_user("test@test.com");
    req.expired = true;
    let t = mock.mint_tokens(&req);
    let integrator = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap());
    let cookie = format!("q_access_token={}; q_refresh_token={}", t.access, t.refresh);
    let head = RequestHead::new("/").header("cookie", &cookie);
    let first = signed_in(integrator.resolve(&head).await);
    // The refresh token is now used up upstream; within the grace window the same pair comes back.
    let late = signed_in(integrator.resolve(&head).await);
    assert!(first.is_authenticated() && late.is_authenticated());
    assert_eq!(first.tokens(), late.tokens());
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
    let cookies = late.take_response_cookies();
    assert!(
        cookies.iter().any(|c| c.starts_with("q_access_token=")),
        "{} cookies",
        cookies.len()
    );
}

#[tokio::test]
async fn require_auth_refuses_before_any_upstream_call_without_credentials() {
    let mock = MockServer::start().await.unwrap();
    let config = QelosConfig::builder(mock.url())
        .require_auth(true)
        .build()
        .unwrap();
    match Integrator::new(config)
        .resolve(&RequestHead::new("/"))
        .await
    {
        Outcome::Reject(r) => assert_eq!(r.status().as_u16(), 401),
        other => panic!("{other:?}"),
    }
    assert_eq!(mock.total_calls(), 0);
}

#[tokio::test]
async fn an_async_resolver_picks_the_workspace() {
    let mock = MockServer::start().await.unwrap();
    let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let integrator = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap())
        .resolve_workspace(qelos_integrator_core::resolve_async(
            |req, _user, workspaces: Vec<qelos_integrator_core::qelos_sdk::Workspace>| async move {
                let wanted = req.header_str("x-ws")?.to_owned();
                workspaces.into_iter().find(|w| w.name == wanted)
            },
        ));
    let head = bearer(&t.access).header("x-ws", "Beta Labs");
    let ctx = signed_in(integrator.resolve(&head).await);
    assert_eq!(ctx.workspace().unwrap().name, "Beta Labs");
}

#[tokio::test]
async fn a_refresh_answered_after_the_request_gave_up_is_kept_for_the_next_request() {
    let mock = MockServer::start().await.unwrap();
    let mut expired = MintRequest::for_user("test@test.com");
    expired.expired = true;
    let t = mock.mint_tokens(&expired);
    // Qelos answers the refresh after the request's 1 s deadline, within twice that.
    mock.set_fault(
        "POST /api/token/refresh",
        Fault::Latency(Duration::from_millis(1500)),
    );
    let config = QelosConfig::builder(mock.url())
        .timeout(Duration::from_secs(1))
        .build()
        .unwrap();
    let integrator = Integrator::new(config);
    let cookie = format!("q_access_token={}; q_refresh_token={}", t.access, t.refresh);
    let head = RequestHead::new("/").header("cookie", &cookie);
    mock.reset_calls();
    let first = signed_in(integrator.resolve(&head).await);
    assert!(!first.is_authenticated(), "the first request gave up");
    // The browser's next request still carries the old pair: the refresh Qelos is answering
    // serves it, instead of a second refresh of a token Qelos has already rotated.
    let second = signed_in(integrator.resolve(&head).await);
    assert!(second.is_authenticated(), "the late answer was kept");
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
}

#[tokio::test]
async fn a_refresh_answered_with_another_status_than_401_does_not_end_the_session() {
    let mock = MockServer::start().await.unwrap();
    let mut expired = MintRequest::for_user("test@test.com");
    expired.expired = true;
    let t = mock.mint_tokens(&expired);
    let integrator = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap());
    let cookie = format!("q_access_token={}; q_refresh_token={}", t.access, t.refresh);
    let head = RequestHead::new("/").header("cookie", &cookie);
    for status in [404, 400, 403, 429] {
        // A router or a gateway answering instead of Qelos's refresh: nothing about the token.
        mock.set_fault("POST /api/token/refresh", Fault::Status(status));
        let ctx = signed_in(integrator.resolve(&head).await);
        assert!(!ctx.is_authenticated());
        assert_eq!(
            ctx.anonymous_reason(),
            Some(qelos_integrator_core::AnonymousReason::Unavailable),
            "{status} is not a refusal of the token"
        );
    }
    mock.clear_faults();
    let ctx = signed_in(integrator.resolve(&head).await);
    assert!(ctx.is_authenticated(), "the session is still there");
}
