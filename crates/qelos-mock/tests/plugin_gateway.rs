//! The plugin gateway of the fake, against a minimal plugin written with axum alone.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use axum::Json;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::IntoResponse;
use axum::routing::{any, post};
use qelos_mock::{MintRequest, MockServer, PluginSpec};
use serde_json::{Value, json};

/// Echoes what it received.
async fn echo(headers: HeaderMap, uri: Uri) -> Json<Value> {
    let h = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    Json(json!({
        "authorization": h("authorization"),
        "user": h("user"),
        "cookie": h("cookie"),
        "tenant": h("tenant"),
        "tenanthost": h("tenanthost"),
        "uri": uri.to_string(),
    }))
}

async fn refuse_register() -> impl IntoResponse {
    (
        StatusCode::UNAUTHORIZED,
        Json(json!({"message": "not today"})),
    )
}

async fn plugin() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/api/play/{*rest}", any(echo))
        .route("/api/register", post(refuse_register));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn plugin_added_over_the_control_endpoint_gets_the_rewritten_request() {
    let mock = MockServer::start().await.unwrap();
    let plugin = plugin().await;
    let r = http()
        .post(format!("{}/__mock/plugins", mock.url()))
        .json(&json!({"name": "echo", "appUrl": plugin, "proxyUrl": "/api/play", "token": "static-token"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let access = mock
        .mint_tokens(&MintRequest::for_user("test@test.com"))
        .access;
    let r = http()
        .get(format!("{}/api/on/echo/a/b?c=1", mock.url()))
        .bearer_auth(&access)
        .header("cookie", "x=y")
        .header("user", "forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let seen: Value = r.json().await.unwrap();
    assert_eq!(seen["authorization"], "Bearer static-token");
    assert_eq!(seen["cookie"], Value::Null);
    assert_eq!(seen["tenant"], "0");
    assert_eq!(seen["tenanthost"], json!(mock.addr().to_string()));
    assert_eq!(seen["uri"], "/api/play/a/b?c=1");
    let user: Value = serde_json::from_str(seen["user"].as_str().unwrap()).unwrap();
    assert_eq!(user["_id"], json!(mock.seed().admin.id));
    assert_eq!(mock.calls("PLUGIN proxy echo"), 1);
}

#[tokio::test]
async fn anonymous_caller_reaches_the_plugin_with_an_empty_user_header() {
    let mock = MockServer::start().await.unwrap();
    let plugin = plugin().await;
    mock.add_plugin(
        PluginSpec::new("echo", &format!("{plugin}/api/play")).static_token("static-token"),
    )
    .unwrap();
    let seen: Value = http()
        .get(format!("{}/api/echo/x", mock.url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(seen["user"], "");
}

#[tokio::test]
async fn unknown_api_paths_keep_404_and_unknown_on_paths_are_401_plugin_not_exist() {
    let mock = MockServer::start().await.unwrap();
    let r = http()
        .get(format!("{}/api/nothing/here", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(r.json::<Value>().await.unwrap()["message"], "api not found");
    let r = http()
        .get(format!("{}/api/on/nothing", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "plugin not exist"
    );
}

#[tokio::test]
async fn a_refused_registration_is_502_with_the_plugin_message() {
    let mock = MockServer::start().await.unwrap();
    let plugin = plugin().await;
    let mut spec = PluginSpec::new("echo", "/api/play");
    spec.app_url = Some(plugin);
    spec.register_url = Some("/api/register".into());
    mock.add_plugin(spec).unwrap();
    let r = http()
        .get(format!("{}/api/on/echo/x", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(
        r.json::<Value>().await.unwrap()["message"],
        "could not register to plugin: not today"
    );
    assert_eq!(mock.calls("PLUGIN register echo"), 1);
}

#[tokio::test]
async fn a_plugin_needs_a_token_or_a_register_url() {
    let mock = MockServer::start().await.unwrap();
    assert!(
        mock.add_plugin(PluginSpec::new("x", "http://127.0.0.1:9/api"))
            .is_err()
    );
    let spec = PluginSpec::new("x", "/relative").static_token("t");
    assert!(
        mock.add_plugin(spec).is_err(),
        "relative URL without appUrl"
    );
}
