//! The `on_token_refresh` hook and `sdk_options`, against qelos-mock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use qelos_integrator_core::cookies::{SameSite, SetCookie};
use qelos_integrator_core::{Integrator, QelosConfig, QelosContext, RequestHead, TokenRefresh};
use qelos_mock::{Fault, MintRequest, MintedTokens, MockServer};

fn signed_in(outcome: Result<QelosContext, qelos_integrator_core::Rejection>) -> QelosContext {
    match outcome {
        Ok(ctx) => ctx,
        other => panic!("expected a context, got {other:?}"),
    }
}

fn minted(mock: &MockServer, expired: bool) -> MintedTokens {
    let mut req = MintRequest::for_user("test@test.com");
    req.expired = expired;
    mock.mint_tokens(&req)
}

fn cookie_head(path: &str, t: &MintedTokens) -> RequestHead {
    let cookie = format!("q_access_token={}; q_refresh_token={}", t.access, t.refresh);
    RequestHead::new(path)
        .header("cookie", &cookie)
        .header("x-trace", "abc")
}

/// What a hook saw: the method, the path, a header, the old and new access and refresh tokens.
#[derive(Debug, Default, Clone)]
struct Seen {
    method: String,
    path: String,
    trace: Option<String>,
    old_access: Option<String>,
    new_access: Option<String>,
    old_refresh: Option<String>,
    new_refresh: Option<String>,
}

fn recording_hook(
    seen: Arc<Mutex<Vec<Seen>>>,
) -> impl Fn(TokenRefresh) -> std::future::Ready<()> + Send + Sync + 'static {
    move |event: TokenRefresh| {
        let expose = |s: &Option<qelos_integrator_core::qelos_sdk::Secret>| {
            s.as_ref().map(|s| s.expose().to_owned())
        };
        seen.lock().unwrap().push(Seen {
            method: event.request().method.to_string(),
            path: event.request().path.clone(),
            trace: event.request().header_str("x-trace").map(str::to_owned),
            old_access: expose(&event.old_tokens().access),
            new_access: expose(&event.new_tokens().access),
            old_refresh: expose(&event.old_tokens().refresh),
            new_refresh: expose(&event.new_tokens().refresh),
        });
        event.set_tokens();
        std::future::ready(())
    }
}

#[tokio::test]
async fn the_hook_sees_the_request_and_the_old_and_new_pair() {
    let mock = MockServer::start().await.unwrap();
    let t = minted(&mock, true);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let integrator = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap())
        .on_token_refresh(recording_hook(Arc::clone(&seen)));
    let head = cookie_head("/dashboard", &t).method("POST");
    let ctx = signed_in(integrator.resolve(&head).await);
    assert!(ctx.is_authenticated());
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "one refresh, one call: {seen:?}");
    let event = &seen[0];
    assert_eq!(event.method, "POST");
    assert_eq!(event.path, "/dashboard");
    assert_eq!(event.trace.as_deref(), Some("abc"));
    assert_eq!(event.old_access.as_deref(), Some(t.access.as_str()));
    assert_eq!(event.old_refresh.as_deref(), Some(t.refresh.as_str()));
    let new = ctx.tokens();
    assert_eq!(
        event.new_access.as_deref(),
        new.access.as_ref().map(|s| s.expose())
    );
    assert_eq!(
        event.new_refresh.as_deref(),
        new.refresh.as_ref().map(|s| s.expose())
    );
    assert_ne!(event.new_access, event.old_access);
    // The hook called `set_tokens`: the default cookies are there.
    let cookies = ctx.take_response_cookies();
    assert!(cookies.iter().any(|c| c.starts_with("q_access_token=")));
    assert!(cookies.iter().any(|c| c.starts_with("q_refresh_token=")));
}

#[tokio::test]
async fn a_hook_sets_its_own_cookie_with_attributes_and_no_default_cookies_unless_it_asks() {
    let mock = MockServer::start().await.unwrap();
    let t = minted(&mock, true);
    let integrator = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap())
        .on_token_refresh(|event: TokenRefresh| async move {
            let cookie = SetCookie::new("q_refreshed", "1")
                .path("/app")
                .domain("app.example.com")
                .max_age(Duration::from_secs(600))
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(true);
            event.cookies().set(&cookie).expect("a valid cookie");
        });
    let ctx = signed_in(integrator.resolve(&cookie_head("/", &t)).await);
    assert!(ctx.is_authenticated());
    let cookies = ctx.take_response_cookies();
    assert_eq!(
        cookies,
        vec![
            "q_refreshed=1; Path=/app; Domain=app.example.com; Max-Age=600; HttpOnly; \
             SameSite=Strict; Secure"
                .to_owned()
        ],
        "only the hook's cookie: it did not call set_tokens"
    );
}

#[tokio::test]
async fn async_work_in_the_hook_is_awaited_before_the_cookies_are_taken() {
    let mock = MockServer::start().await.unwrap();
    let t = minted(&mock, true);
    let integrator = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap())
        .on_token_refresh(|event: TokenRefresh| async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            event.set_tokens();
            event
                .cookies()
                .set(&SetCookie::new("late", "yes"))
                .expect("valid");
        });
    let state = integrator.attach(&cookie_head("/", &t));
    state.admit().await.expect("admitted");
    let cookies = state.take_response_cookies();
    assert!(cookies.iter().any(|c| c == "late=yes"), "{}", cookies.len());
    assert!(cookies.iter().any(|c| c.starts_with("q_access_token=")));
}

#[tokio::test]
async fn a_hook_given_in_the_config_runs_and_the_integrators_own_replaces_it() {
    let mock = MockServer::start().await.unwrap();
    let config = QelosConfig::builder(mock.url())
        .on_token_refresh(|event: TokenRefresh| async move {
            event
                .cookies()
                .set(&SetCookie::new("from", "config"))
                .expect("valid");
        })
        .build()
        .unwrap();
    assert!(format!("{config:?}").contains("on_token_refresh: true"));
    let from_config = Integrator::new(config.clone());
    let ctx = signed_in(
        from_config
            .resolve(&cookie_head("/", &minted(&mock, true)))
            .await,
    );
    assert_eq!(ctx.take_response_cookies(), vec!["from=config".to_owned()]);
    let replaced = Integrator::new(config).on_token_refresh(|event: TokenRefresh| async move {
        event
            .cookies()
            .set(&SetCookie::new("from", "integrator"))
            .expect("valid");
    });
    let ctx = signed_in(
        replaced
            .resolve(&cookie_head("/", &minted(&mock, true)))
            .await,
    );
    assert_eq!(
        ctx.take_response_cookies(),
        vec!["from=integrator".to_owned()]
    );
}

#[tokio::test]
async fn the_request_sdks_own_refresh_runs_the_hook_with_the_request() {
    let mock = MockServer::start().await.unwrap();
    let t = minted(&mock, false);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let integrator = Integrator::new(QelosConfig::builder(mock.url()).build().unwrap())
        .on_token_refresh(recording_hook(Arc::clone(&seen)));
    let ctx = signed_in(integrator.resolve(&cookie_head("/sdk/me", &t)).await);
    assert!(seen.lock().unwrap().is_empty(), "no refresh yet");
    // The access token expires while the handler runs: the handler's SDK call refreshes.
    mock.expire_token(&t.access);
    mock.reset_calls();
    let me = ctx
        .sdk()
        .get_logged_in_user()
        .await
        .expect("refreshed and retried");
    assert_eq!(me.username, "test@test.com");
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path, "/sdk/me");
    assert_eq!(seen[0].old_access.as_deref(), Some(t.access.as_str()));
    assert_ne!(seen[0].new_access, seen[0].old_access);
    let cookies = ctx.take_response_cookies();
    assert!(cookies.iter().any(|c| c.starts_with("q_access_token=")));
}

#[tokio::test]
async fn a_request_answered_from_the_identity_cache_still_gives_the_hook_its_request() {
    let mock = MockServer::start().await.unwrap();
    let t = minted(&mock, false);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let config = QelosConfig::builder(mock.url())
        .identity_cache(Duration::from_secs(60))
        .build()
        .unwrap();
    let integrator = Integrator::new(config).on_token_refresh(recording_hook(Arc::clone(&seen)));
    signed_in(integrator.resolve(&cookie_head("/first", &t)).await);
    let ctx = signed_in(integrator.resolve(&cookie_head("/cached", &t)).await);
    ctx.sdk().refresh_token().await.expect("refreshed");
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path, "/cached");
    assert_eq!(seen[0].trace.as_deref(), Some("abc"));
}

#[tokio::test]
async fn sdk_options_reach_every_upstream_call_and_their_timeout_bounds_resolution() {
    let mock = MockServer::start().await.unwrap();
    let t = minted(&mock, false);
    let config = QelosConfig::builder(mock.url())
        .header("tenant", "from-config")
        .sdk_options(|sdk| {
            sdk.header("tenant", "t1")
                .header("x-app", "hooks-test")
                .timeout(Duration::from_millis(300))
        })
        .build()
        .unwrap();
    assert_eq!(config.timeout(), Duration::from_millis(300));
    let integrator = Integrator::new(config);
    let head = RequestHead::new("/").header("authorization", &format!("Bearer {}", t.access));
    mock.reset_calls();
    let ctx = signed_in(integrator.resolve(&head).await);
    assert!(ctx.is_authenticated());
    let me = mock
        .requests()
        .into_iter()
        .find(|r| r.method == "GET" && r.path == "/api/me")
        .expect("GET /api/me recorded");
    let values = |name: &str| -> Vec<String> {
        me.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .collect()
    };
    assert!(
        values("tenant").contains(&"t1".to_owned()),
        "{:?}",
        values("tenant")
    );
    assert_eq!(values("x-app"), vec!["hooks-test".to_owned()]);
    // Qelos slower than the SDK's timeout: the request goes on anonymous within it.
    mock.set_fault("GET /api/me", Fault::Latency(Duration::from_secs(3)));
    let started = Instant::now();
    let ctx = signed_in(integrator.resolve(&head).await);
    assert_eq!(
        ctx.anonymous_reason(),
        Some(qelos_integrator_core::AnonymousReason::Unavailable)
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn the_proxys_refresh_runs_the_hook_with_the_proxied_request() {
    use qelos_integrator_core::proxy::{Inbound, Proxy};
    use qelos_integrator_core::{bytes::Bytes, http, http_body_util::Full};
    let mock = MockServer::start().await.unwrap();
    let t = minted(&mock, true);
    let seen = Arc::new(Mutex::new(Vec::new()));
    let config = QelosConfig::builder(mock.url())
        .proxy_target(mock.url())
        .build()
        .unwrap();
    let integrator = Integrator::new(config).on_token_refresh(recording_hook(Arc::clone(&seen)));
    let proxy = Proxy::for_integrator(&integrator);
    let cookie = format!("q_access_token={}; q_refresh_token={}", t.access, t.refresh);
    let request = http::Request::builder()
        .uri("/api/me")
        .header("cookie", cookie)
        .header("x-trace", "abc")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = proxy.forward(request, Inbound::default()).await;
    assert_eq!(
        response.status(),
        200,
        "forwarded with the new access token"
    );
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].path, "/api/me");
    assert_eq!(seen[0].trace.as_deref(), Some("abc"));
    assert_eq!(seen[0].old_refresh.as_deref(), Some(t.refresh.as_str()));
    let written: Vec<_> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    assert!(
        written.iter().any(|c| c.starts_with("q_access_token=")),
        "the hook's set_tokens reached the response: {} cookies",
        written.len()
    );
}

#[tokio::test]
async fn a_cached_identitys_sdk_built_on_first_use_refreshes_and_rotates_the_cookies() {
    let mock = MockServer::start().await.unwrap();
    let t = minted(&mock, false);
    let config = QelosConfig::builder(mock.url())
        .identity_cache(Duration::from_secs(60))
        .build()
        .unwrap();
    let integrator = Integrator::new(config);
    signed_in(integrator.resolve(&cookie_head("/first", &t)).await);
    let ctx = signed_in(integrator.resolve(&cookie_head("/cached", &t)).await);
    let before = ctx.tokens();
    assert_eq!(
        before.access.as_ref().map(|a| a.expose()),
        Some(t.access.as_str())
    );
    ctx.sdk().refresh_token().await.expect("refreshed");
    let after = ctx.tokens();
    assert_ne!(
        after.access, before.access,
        "tokens() follows the SDK's refresh"
    );
    let cookies = ctx.take_response_cookies();
    assert!(
        cookies.iter().any(|c| c.starts_with("q_access_token=")),
        "{cookies:?}"
    );
    assert!(
        cookies.iter().any(|c| c.starts_with("q_refresh_token=")),
        "{cookies:?}"
    );
}
