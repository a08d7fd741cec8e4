//! End to end over real sockets: client → qelos-mock gateway → a plugin built with the crate.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use base64::Engine as _;
use serde_json::{Value, json};
use support::{API_PATH, STATIC_TOKEN, TokenOption, stack, start_plugin};

async fn signed_in_user_arrives_with_its_id_and_username(option: TokenOption) {
    let s = stack(option).await;
    let bearer = s.admin_bearer();
    let (status, _, body) = s.get("/api/on/todo/whoami", Some(&bearer)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userId"], json!(s.mock.seed().admin.id));
    assert_eq!(body["username"], json!(s.mock.seed().admin.username));
    assert_eq!(body["tenant"], "0");
    assert_eq!(body["tenantHost"], json!(s.mock.addr().to_string()));
}

async fn anonymous_caller_arrives_without_a_user(option: TokenOption) {
    let s = stack(option).await;
    let (status, _, body) = s.get("/api/todo/whoami", None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userId"], Value::Null);
    assert_eq!(body["username"], Value::Null);
    assert_eq!(body["tenant"], "0");
}

async fn forged_user_header_straight_to_plugin_is_refused_407(option: TokenOption) {
    let s = stack(option).await;
    let forged = json!({"_id": s.mock.seed().admin.id, "username": "test@test.com"}).to_string();
    for auth in [None, Some("Bearer forged"), Some("Bearer ")] {
        let mut req = s
            .http
            .get(format!("{}/api/play/whoami", s.app.url))
            .header("user", &forged);
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status().as_u16(), 407, "auth {auth:?}");
        assert_eq!(r.headers()["x-q-auth"], "unauthorized");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["statusCode"], 407);
        assert!(!body.to_string().contains("test@test.com"));
    }
}

#[tokio::test]
async fn static_token_signed_in_user_arrives_with_its_id_and_username() {
    signed_in_user_arrives_with_its_id_and_username(TokenOption::Static).await;
}

#[tokio::test]
async fn minted_token_signed_in_user_arrives_with_its_id_and_username() {
    signed_in_user_arrives_with_its_id_and_username(TokenOption::Minted).await;
}

#[tokio::test]
async fn static_token_anonymous_caller_arrives_without_a_user() {
    anonymous_caller_arrives_without_a_user(TokenOption::Static).await;
}

#[tokio::test]
async fn minted_token_anonymous_caller_arrives_without_a_user() {
    anonymous_caller_arrives_without_a_user(TokenOption::Minted).await;
}

#[tokio::test]
async fn static_token_forged_user_header_sent_straight_to_plugin_is_refused_407() {
    forged_user_header_straight_to_plugin_is_refused_407(TokenOption::Static).await;
}

#[tokio::test]
async fn minted_token_forged_user_header_sent_straight_to_plugin_is_refused_407() {
    forged_user_header_straight_to_plugin_is_refused_407(TokenOption::Minted).await;
}

#[tokio::test]
async fn user_header_from_the_client_never_reaches_the_plugin_through_the_gateway() {
    let s = stack(TokenOption::Minted).await;
    let forged = json!({"_id": "forged", "username": "evil@x.io"}).to_string();
    let r = s
        .http
        .get(format!("{}/api/on/todo/whoami", s.mock.url()))
        .header("user", forged)
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["userId"], Value::Null);
}

#[tokio::test]
async fn gateway_strips_the_prefix_keeps_the_query_removes_the_cookie_and_passes_other_headers() {
    let s = stack(TokenOption::Static).await;
    let r = s
        .http
        .get(format!(
            "{}/api/on/todo/nested/whoami?x=1&y=2",
            s.mock.url()
        ))
        .bearer_auth(s.admin_bearer())
        .header("cookie", "theme=dark")
        .header("x-custom", "kept")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["pathAndQuery"], "/api/play/nested/whoami?x=1&y=2");
    assert_eq!(body["cookie"], Value::Null);
    assert_eq!(body["custom"], "kept");
    assert_eq!(body["username"], json!(s.mock.seed().admin.username));
}

#[tokio::test]
async fn first_call_registers_the_tenant_and_later_calls_reuse_the_cached_token() {
    let s = stack(TokenOption::Minted).await;
    for _ in 0..3 {
        assert_eq!(s.get("/api/on/todo/whoami", None).await.0, 200);
    }
    assert_eq!(s.mock.calls("PLUGIN register todo"), 1);
    assert_eq!(s.mock.calls("PLUGIN refresh todo"), 0);
    let reg = s.app.plugin.registration("0").await.unwrap().unwrap();
    assert!(reg.username.ends_with("@127.0.0.1"));
    assert!(!format!("{reg:?}").contains(reg.password.expose()));
}

#[tokio::test]
async fn revoked_access_makes_gateway_refresh_and_revoked_refresh_makes_it_register_again() {
    let s = stack(TokenOption::Minted).await;
    let bearer = s.admin_bearer();
    assert_eq!(s.get("/api/on/todo/whoami", Some(&bearer)).await.0, 200);
    assert_eq!(s.mock.calls("PLUGIN register todo"), 1);

    // The plugin revokes its access token: Qelos passes the 407 on and drops its cache...
    assert!(s.app.plugin.revoke_access("0").await.unwrap());
    let (status, headers, _) = s.get("/api/on/todo/whoami", Some(&bearer)).await;
    assert_eq!(status, 407);
    assert_eq!(headers["x-q-auth"], "unauthorized");
    assert_eq!(s.mock.plugin_token("0", API_PATH), None);
    // ...and the next call refreshes (no new registration).
    let (status, _, body) = s.get("/api/on/todo/whoami", Some(&bearer)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["userId"], json!(s.mock.seed().admin.id));
    assert_eq!(s.mock.calls("PLUGIN refresh todo"), 1);
    assert_eq!(s.mock.calls("PLUGIN register todo"), 1);

    // Both tokens revoked: the refresh is refused, so the gateway registers again.
    assert!(s.app.plugin.revoke("0").await.unwrap());
    assert_eq!(s.get("/api/on/todo/whoami", Some(&bearer)).await.0, 407);
    let (status, _, body) = s.get("/api/on/todo/whoami", Some(&bearer)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["username"], json!(s.mock.seed().admin.username));
    assert_eq!(s.mock.calls("PLUGIN refresh todo"), 2);
    assert_eq!(s.mock.calls("PLUGIN register todo"), 2);
}

#[tokio::test]
async fn refresh_token_works_once_and_the_new_access_token_is_accepted() {
    let s = stack(TokenOption::Minted).await;
    assert_eq!(s.get("/api/on/todo/whoami", None).await.0, 200);
    let old_refresh = s.mock.plugin_refresh_token("0", API_PATH).unwrap();
    let refresh = |token: String| {
        s.http
            .post(format!("{}/api/token/refresh", s.app.url))
            .header("x-tenant", "0")
            .header("x-from", "qelos")
            .bearer_auth(token)
            .send()
    };
    let first = refresh(old_refresh.clone()).await.unwrap();
    assert_eq!(first.status(), 200);
    let pair: Value = first.json().await.unwrap();
    let access = pair["access_token"].as_str().unwrap();
    assert!(
        pair["refresh_token"]
            .as_str()
            .is_some_and(|r| r != old_refresh)
    );
    let again = refresh(old_refresh).await.unwrap();
    assert_eq!(again.status(), 401);
    let r = s
        .http
        .get(format!("{}/api/play/whoami", s.app.url))
        .bearer_auth(access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn register_refuses_missing_fields_and_credentials_that_do_not_sign_in() {
    let s = stack(TokenOption::Minted).await;
    let post = |body: Value| {
        s.http
            .post(format!("{}/api/register", s.app.url))
            .header("x-tenant", "0")
            .header("x-from", "qelos")
            .json(&body)
            .send()
    };
    let r = post(json!({"username": "a@127.0.0.1"})).await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "missing credentials: password, appUrl");

    let r = post(json!({"username": "p.0@127.0.0.1", "password": "wrong", "appUrl": s.mock.url()}))
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["message"], "failed to login to qelos tenant");
    assert!(!body.to_string().contains("wrong"));

    // A real user that is not a plugin user.
    let seed = s.mock.seed().admin.clone();
    let r =
        post(json!({"username": seed.username, "password": seed.password, "appUrl": s.mock.url()}))
            .await
            .unwrap();
    assert_eq!(r.status(), 401, "domain differs from the appUrl host");
}

#[tokio::test]
async fn malformed_user_header_with_a_valid_token_is_a_clear_400() {
    let app = start_plugin(TokenOption::Static).await;
    let r = reqwest::Client::new()
        .get(format!("{}/api/play/whoami", app.url))
        .bearer_auth(STATIC_TOKEN)
        .header("user", "{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "INVALID_USER");
}

#[tokio::test]
async fn base64_user_header_is_accepted_like_plain_json() {
    let app = start_plugin(TokenOption::Static).await;
    let user =
        base64::engine::general_purpose::STANDARD.encode(r#"{"_id":"u9","username":"b@c.d"}"#);
    let r = reqwest::Client::new()
        .get(format!("{}/api/play/whoami", app.url))
        .bearer_auth(STATIC_TOKEN)
        .header("user", user)
        .header("tenant", "t1")
        .send()
        .await
        .unwrap();
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["userId"], "u9");
    assert_eq!(body["tenant"], "t1");
}

#[tokio::test]
async fn callback_through_qelos_answers_a_code_and_a_token_carrying_the_user() {
    let s = stack(TokenOption::Minted).await;
    let return_url =
        base64::engine::general_purpose::STANDARD.encode("https://app.example.com/done");
    let r = s
        .http
        .get(format!(
            "{}/api/plugins/{}/callback?returnUrl={return_url}",
            s.mock.url(),
            s.plugin_id
        ))
        .bearer_auth(s.admin_bearer())
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(body["code"].as_str().is_some());
    let claims = s
        .app
        .plugin
        .verify_callback_token(body["token"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        claims["user"]["username"],
        json!(s.mock.seed().admin.username)
    );
    assert_eq!(claims["tenant"], "0");
}

#[tokio::test]
async fn static_token_plugin_has_no_register_endpoint_and_its_manifest_says_so() {
    let app = start_plugin(TokenOption::Static).await;
    let http = reqwest::Client::new();
    let manifest: Value = http
        .get(format!("{}/api/play-manifest", app.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(manifest["apiPath"], API_PATH);
    assert_eq!(manifest["proxyUrl"], json!(format!("{}/api/play", app.url)));
    assert!(manifest.get("registerUrl").is_none());
    assert!(manifest.get("authAcquire").is_none());
    let r = http
        .post(format!("{}/api/register", app.url))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn minted_token_of_one_tenant_cannot_claim_another_tenant() {
    let s = stack(TokenOption::Minted).await;
    assert_eq!(s.get("/api/on/todo/whoami", None).await.0, 200);
    let access = s.mock.plugin_token("0", API_PATH).unwrap();
    let call = |tenant: &'static str| {
        s.http
            .get(format!("{}/api/play/whoami", s.app.url))
            .bearer_auth(&access)
            .header("tenant", tenant)
            .send()
    };
    assert_eq!(call("0").await.unwrap().status(), 200);
    let r = call("other").await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "TENANT_MISMATCH");
}
