//! The layer on plain hyper, against qelos-mock over real HTTP.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code

#[path = "../examples/hyper.rs"]
#[allow(dead_code, unreachable_pub)]
mod example;

use qelos_integrator_tower::{QelosConfig, QelosLayer};
use qelos_mock::{MintRequest, MockServer};

async fn start(mock: &MockServer, require_auth: bool) -> String {
    let config = QelosConfig::builder(mock.url())
        .require_auth(require_auth)
        .build()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(example::serve(listener, QelosLayer::new(config)));
    url
}

#[tokio::test]
async fn a_plain_hyper_handler_sees_the_signed_in_user() {
    let mock = MockServer::start().await.unwrap();
    let tokens = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let url = start(&mock, false).await;
    let response = reqwest::Client::new()
        .get(format!("{url}/"))
        .bearer_auth(&tokens.access)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.text().await.unwrap(), "hello test@test.com");
}

#[tokio::test]
async fn a_plain_string_answer_after_a_refresh_carries_both_rotated_cookies() {
    let mock = MockServer::start().await.unwrap();
    let mut request = MintRequest::for_user("test@test.com");
    request.expired = true;
    let tokens = mock.mint_tokens(&request);
    let url = start(&mock, false).await;
    let cookie = format!(
        "q_access_token={}; q_refresh_token={}",
        tokens.access, tokens.refresh
    );
    let response = reqwest::Client::new()
        .get(format!("{url}/"))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    let set_cookies: Vec<String> = response
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert_eq!(response.status(), 200);
    for name in ["q_access_token=", "q_refresh_token="] {
        assert!(
            set_cookies
                .iter()
                .any(|c| c.starts_with(name) && !c.contains("Max-Age=0")),
            "{name} is rotated: {set_cookies:?}"
        );
    }
    assert_eq!(response.headers()["cache-control"], "no-store");
    assert_eq!(response.text().await.unwrap(), "hello test@test.com");
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
}

#[tokio::test]
async fn the_layer_answers_a_refusal_without_running_the_handler() {
    let mock = MockServer::start().await.unwrap();
    let url = start(&mock, true).await;
    let response = reqwest::get(format!("{url}/")).await.unwrap();
    assert_eq!(response.status(), 401);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "UNAUTHORIZED");
}
