//! Routes added for the administrator SDK, driven over plain HTTP: the blueprint list for the
//! official `blueprints.getList()`, the micro-frontend callback as Qelos answers it, and a
//! plugin created through `POST /api/plugins` served end to end.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use base64::Engine as _;
use qelos_mock::{MintRequest, MockServer};
use serde_json::{Value, json};

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn bearer(mock: &MockServer, user: &str) -> String {
    format!(
        "Bearer {}",
        mock.mint_tokens(&MintRequest::for_user(user)).access
    )
}

/// A plugin whose `/api/callback` refuses anonymous users (`user: undefined`) with a 401 and
/// gives signed-in users a tokenized return URL; counts its callback calls.
async fn plugin(calls: Arc<AtomicUsize>) -> String {
    async fn callback(
        State(calls): State<Arc<AtomicUsize>>,
        headers: HeaderMap,
    ) -> impl IntoResponse {
        calls.fetch_add(1, Ordering::SeqCst);
        let user = headers
            .get("user")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("undefined");
        if user == "undefined" {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"message": "who are you?"})),
            );
        }
        (
            StatusCode::OK,
            Json(
                json!({"returnUrl": "https://app.example/done?token=t1", "code": "c1", "token": "t1"}),
            ),
        )
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/api/callback", get(callback))
        .with_state(calls);
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// Creates a plugin through the admin API; returns its id.
async fn create_plugin(mock: &MockServer, plugin_url: &str) -> String {
    let r = http()
        .post(format!("{}/api/plugins", mock.url()))
        .header("authorization", bearer(mock, "test@test.com"))
        .json(
            &json!({"name": "Shop", "apiPath": "shop", "appUrl": plugin_url, "proxyUrl": "/api",
            "callbackUrl": "/api/callback", "token": "a static token of 32 bytes......"}),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    assert!(body.get("token").is_none(), "the token is not answered");
    body["_id"].as_str().unwrap().to_owned()
}

fn encoded(url: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(url)
}

#[tokio::test]
async fn an_anonymous_callback_is_tried_twice_then_redirects_to_the_decoded_return_url() {
    let mock = MockServer::start().await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let id = create_plugin(&mock, &plugin(Arc::clone(&calls)).await).await;
    let back = "https://app.example/plugin-page?x=1";
    let r = http()
        .get(format!("{}/api/plugins/{id}/callback", mock.url()))
        .query(&[("returnUrl", encoded(back))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], back);
    assert_eq!(
        calls.load(Ordering::SeqCst),
        2,
        "one try, one retry after dropping the token"
    );
}

#[tokio::test]
async fn a_signed_in_callback_redirects_to_the_plugins_return_url_or_answers_json() {
    let mock = MockServer::start().await.unwrap();
    let calls = Arc::new(AtomicUsize::new(0));
    let id = create_plugin(&mock, &plugin(Arc::clone(&calls)).await).await;
    let url = format!("{}/api/plugins/{id}/callback", mock.url());
    let auth = bearer(&mock, "user@test.com");
    let r = http()
        .get(&url)
        .query(&[("returnUrl", encoded("https://ignored.example"))])
        .header("authorization", &auth)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    assert_eq!(r.headers()["location"], "https://app.example/done?token=t1");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let r = http()
        .get(&url)
        .header("authorization", &auth)
        .header("accept", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"code": "c1", "token": "t1"})
    );
}

#[tokio::test]
async fn a_callback_to_an_unreachable_plugin_ends_with_an_empty_200_as_qelos() {
    let mock = MockServer::start().await.unwrap();
    let unreachable = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    let id = create_plugin(&mock, &unreachable).await;
    let r = http()
        .get(format!("{}/api/plugins/{id}/callback", mock.url()))
        .query(&[("returnUrl", encoded("https://app.example"))])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.text().await.unwrap().is_empty());
}

#[tokio::test]
async fn blueprint_list_and_get_answer_signed_in_users_and_refuse_anonymous() {
    let mock = MockServer::start().await.unwrap();
    let r = http()
        .get(format!("{}/api/blueprints", mock.url()))
        .header("authorization", bearer(&mock, "user@test.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let list: Vec<Value> = r.json().await.unwrap();
    assert_eq!(list.len(), 2);
    assert!(
        list.iter().all(|b| b.get("permissions").is_none()),
        "viewer fields only"
    );
    let r = http()
        .get(format!("{}/api/blueprints/products", mock.url()))
        .header("authorization", bearer(&mock, "test@test.com"))
        .send()
        .await
        .unwrap();
    let one: Value = r.json().await.unwrap();
    assert_eq!(one["identifier"], "products");
    assert_eq!(
        one["permissions"].as_array().unwrap().len(),
        4,
        "admins see everything"
    );
    let r = http()
        .get(format!("{}/api/blueprints", mock.url()))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

/// A plugin with a manifest (relative URLs), a register endpoint and an echo API.
async fn manifest_plugin() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app_url = url.clone();
    let app = axum::Router::new()
        .route(
            "/manifest",
            get(move || {
                let app_url = app_url.clone();
                async move {
                    Json(json!({"name": "Play", "description": "from the manifest", "apiPath": "play",
                        "appUrl": app_url, "proxyUrl": "/api/play", "registerUrl": "/api/register",
                        "authAcquire": {"refreshTokenUrl": "/api/refresh"},
                        "microFrontends": [{"name": "Home", "url": "/home"}]}))
                }
            }),
        )
        .route(
            "/api/register",
            axum::routing::post(|| async { Json(json!({"access_token": "access-1", "refresh_token": "refresh-1"})) }),
        )
        .route(
            "/api/play/{*rest}",
            get(|headers: HeaderMap| async move {
                let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
                Json(json!({"authorization": auth}))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

#[tokio::test]
async fn a_plugin_created_from_its_manifest_registers_and_is_proxied() {
    let mock = MockServer::start().await.unwrap();
    let plugin = manifest_plugin().await;
    let r = http()
        .post(format!("{}/api/plugins", mock.url()))
        .header("authorization", bearer(&mock, "test@test.com"))
        .json(&json!({"name": "ignored", "appUrl": plugin, "manifestUrl": format!("{plugin}/manifest")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let created: Value = r.json().await.unwrap();
    assert_eq!(created["name"], "Play", "the manifest's name wins");
    assert_eq!(created["apiPath"], "play");
    assert_eq!(
        created["proxyUrl"],
        format!("{plugin}/api/play"),
        "relative URLs resolve against appUrl"
    );
    assert_eq!(created["microFrontends"][0]["name"], "Home");
    let r = http()
        .get(format!("{}/api/on/play/items", mock.url()))
        .header("authorization", bearer(&mock, "user@test.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.json::<Value>().await.unwrap()["authorization"],
        "Bearer access-1"
    );
    assert_eq!(mock.calls("PLUGIN register play"), 1);
    let r = http()
        .post(format!("{}/api/plugins", mock.url()))
        .header("authorization", bearer(&mock, "test@test.com"))
        .json(&json!({"name": "broken", "manifestUrl": format!("{plugin}/missing")}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 500);
    assert_eq!(
        r.json::<Value>().await.unwrap(),
        json!({"message": "could not create plugin"})
    );
}
