//! Protocol facts of the fake, over raw HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use qelos_mock::{Fault, MintRequest, MockConfig, MockServer};
use reqwest::StatusCode;
use serde_json::{Value, json};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn cookie_signin_sets_the_real_session_cookie_attributes() {
    let mock = MockServer::start().await.unwrap();
    let r = http()
        .post(format!("{}/api/signin", mock.url()))
        .header("host", "tenant.example.com:8080")
        .json(&json!({"username": "test@test.com", "password": "admin"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let cookie = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.starts_with("qlt_0="));
    for attr in [
        "Max-Age=2592000",
        "Domain=tenant.example.com",
        "Path=/api",
        "Expires=",
        "HttpOnly",
        "Secure",
        "SameSite=None",
    ] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
    let body: Value = r.json().await.unwrap();
    assert!(body["payload"]["user"].get("_id").is_none());
    assert_eq!(body["payload"]["user"]["name"], "Test Admin");
}

#[tokio::test]
async fn an_invalid_bearer_is_401_with_the_protocol_body() {
    let mock = MockServer::start().await.unwrap();
    let r = http()
        .get(format!("{}/api/me", mock.url()))
        .bearer_auth("garbage")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "authorization token is not valid."})
    );
    let anon = http()
        .get(format!("{}/api/me", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(
        anon.json::<Value>().await.unwrap(),
        json!({"message": "you are not authorized. must be logged in."})
    );
    let empty_bearer = http()
        .get(format!("{}/api/me", mock.url()))
        .header("authorization", "Bearer ")
        .send()
        .await
        .unwrap();
    assert_eq!(
        empty_bearer.status(),
        401,
        "an empty bearer is anonymous, then 'must be logged in'"
    );
}

#[tokio::test]
async fn the_session_cookie_wins_over_the_bearer_and_an_invalid_one_is_anonymous() {
    let mock = MockServer::start().await.unwrap();
    let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let r = http()
        .get(format!("{}/api/me", mock.url()))
        .bearer_auth(&t.access)
        .header("cookie", "qlt_0=not-a-jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        401,
        "invalid cookie → anonymous, even with a valid bearer"
    );
    let key = http()
        .get(format!("{}/api/me", mock.url()))
        .header("x-api-key", "ql_nope")
        .header("cookie", format!("qlt_0={}", t.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(
        key.json::<Value>().await.unwrap(),
        json!({"message": "Invalid or expired API token"})
    );
}

#[tokio::test]
async fn me_has_no_workspace_key_when_none_is_active() {
    let mock = MockServer::start_with(MockConfig::default()).await.unwrap();
    let created: Value = http()
        .post(format!("{}/api/signup", mock.url()))
        .json(&json!({"username": "n@x.io", "email": "n@x.io", "password": "password1", "firstName": "Nora", "authType": "oauth"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["payload"]["token"].as_str().unwrap();
    let me: Value = http()
        .get(format!("{}/api/me", mock.url()))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "n@x.io");
    assert!(me.get("workspace").is_none(), "absent, not null: {me}");
}

#[tokio::test]
async fn refresh_is_single_use_with_empty_401s() {
    let mock = MockServer::start().await.unwrap();
    let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let url = format!("{}/api/token/refresh", mock.url());
    let first = http()
        .post(&url)
        .bearer_auth(&t.refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let body: Value = first.json().await.unwrap();
    assert_eq!(body["payload"]["user"].as_object().unwrap().len(), 2);
    let second = http()
        .post(&url)
        .bearer_auth(&t.refresh)
        .send()
        .await
        .unwrap();
    assert_eq!(second.status(), 401);
    assert!(second.bytes().await.unwrap().is_empty());
    let none = http().post(&url).send().await.unwrap();
    assert_eq!(none.status(), 401);
}

#[tokio::test]
async fn old_session_cookies_rotate_once_within_the_lock_window() {
    let mock = MockServer::start().await.unwrap();
    let mut req = MintRequest::for_user("test@test.com");
    req.cookie_age = Some(std::time::Duration::from_secs(3600));
    let t = mock.mint_tokens(&req);
    let get = || {
        http()
            .get(format!("{}/api/me", mock.url()))
            .header("cookie", format!("qlt_0={}", t.cookie))
            .send()
    };
    let first = get().await.unwrap();
    assert_eq!(first.status(), 200);
    assert!(
        first.headers().get("set-cookie").is_some(),
        "rotated on first use"
    );
    let second = get().await.unwrap();
    assert_eq!(second.status(), 200, "the old cookie is still accepted");
    assert!(
        second.headers().get("set-cookie").is_none(),
        "no second rotation within 30 s"
    );
}

#[tokio::test]
async fn wrapped_entities_carry_the_deprecation_headers() {
    let mock = MockServer::start().await.unwrap();
    let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let base = format!("{}/api/blueprints/products/entities", mock.url());
    http()
        .post(&base)
        .bearer_auth(&t.access)
        .json(&json!({"metadata": {"name": "W"}}))
        .send()
        .await
        .unwrap();
    let r = http()
        .get(format!("{base}?$flat=false"))
        .bearer_auth(&t.access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["deprecation"], "true");
    let list: Value = r.json().await.unwrap();
    assert!(list[0].get("name").is_none() && list[0]["metadata"]["name"] == "W");
    let anon_count = http()
        .get(format!(
            "{}/api/blueprints/products/charts/count",
            mock.url()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(anon_count.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn http_controls_mint_count_fault_and_reset() {
    let mock = MockServer::start().await.unwrap();
    let c = http();
    let minted: Value = c
        .post(format!("{}/__mock/tokens", mock.url()))
        .json(&json!({"username": "test@test.com", "expired": true}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let expired = minted["access"].as_str().unwrap();
    let r = c
        .get(format!("{}/api/me", mock.url()))
        .bearer_auth(expired)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401, "minted expired");
    c.post(format!("{}/__mock/faults", mock.url()))
        .json(&json!({"endpoint": "GET /api/workspaces", "fault": {"status": 502}}))
        .send()
        .await
        .unwrap();
    let r = c
        .get(format!("{}/api/workspaces", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    let calls: Value = c
        .get(format!("{}/__mock/calls", mock.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(calls["GET /api/me"], 1);
    assert_eq!(calls["GET /api/workspaces"], 1);
    assert_eq!(calls["total"], 2, "controls are not counted");
    c.delete(format!("{}/__mock/faults", mock.url()))
        .send()
        .await
        .unwrap();
    c.post(format!("{}/__mock/reset-calls", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(mock.total_calls(), 0);
    mock.set_fault("GET /api/me", Fault::GarbageJson);
    let garbage = c
        .get(format!("{}/api/me", mock.url()))
        .send()
        .await
        .unwrap();
    assert!(serde_json::from_slice::<Value>(&garbage.bytes().await.unwrap()).is_err());
}

#[tokio::test]
async fn controls_can_be_left_off() {
    let mock = MockServer::start_with(MockConfig {
        controls: false,
        ..MockConfig::default()
    })
    .await
    .unwrap();
    let r = http()
        .get(format!("{}/__mock/seed", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn garbage_input_gets_protocol_errors_not_panics() {
    let mock = MockServer::start().await.unwrap();
    let c = http();
    let r = c
        .post(format!("{}/api/signin", mock.url()))
        .body("{{{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(format!("{}/api/me", mock.url()))
        .header("authorization", "Bearer a.b.c")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = c
        .get(format!("{}/api/me", mock.url()))
        .header("cookie", "qlt_0=%%%")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}
