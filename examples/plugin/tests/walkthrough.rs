//! The example plugin end to end: the crud through Qelos, the micro-frontend flow, the event
//! hook and the call back to Qelos as the tenant.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use base64::Engine as _;
use qelos_mock::MintRequest;
use serde_json::{Value, json};

async fn json_of(r: reqwest::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_todo_plugin_serves_its_crud_board_hook_and_tenant_summary() {
    let running = plugin_example::start().await.unwrap();
    let qelos = running.qelos.url();
    let http = reqwest::Client::new();
    let mut mint = MintRequest::for_user(&running.qelos.seed().admin.username);
    mint.workspace = Some(running.qelos.seed().workspaces[0].id.clone());
    let token = running.qelos.mint_tokens(&mint).access;

    // The crud through Qelos.
    let (status, created) = json_of(
        http.post(format!("{qelos}/api/on/todo/todo-items"))
            .bearer_auth(&token)
            .json(&json!({"title": "milk", "note": "private"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    assert_eq!(created["title"], "milk");
    assert!(created.get("note").is_none());

    // A new product in Qelos becomes a todo item through the hook.
    let (status, _) = json_of(
        http.post(format!("{qelos}/api/blueprints/products/entities"))
            .bearer_auth(&token)
            .json(&json!({"metadata": {"name": "lamp"}}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert!(status < 300);
    let mut titles = Vec::new();
    for _ in 0..200 {
        let (_, list) = json_of(
            http.get(format!("{qelos}/api/on/todo/todo-items"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap(),
        )
        .await;
        titles = list
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["title"].as_str().unwrap().to_owned())
            .collect();
        if titles.len() == 2 {
            break;
        }
        tokio::task::yield_now().await;
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(titles, ["milk", "review lamp"]);

    // The plugin calls Qelos back as the tenant's plugin user.
    let (status, summary) = json_of(
        http.get(format!("{qelos}/api/on/todo/summary"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["products"], 1);
    assert_eq!(summary["askedBy"], "test@test.com");
    assert_ne!(
        summary["qelosUser"], "test@test.com",
        "Qelos is called as the plugin user"
    );

    // The board: Qelos's callback redirects to it with a code and a token; the board trades
    // them for its cookie and reads the crud directly.
    let board = format!("{}/board.html", running.plugin_url);
    let redirect = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(format!(
            "{qelos}/api/plugins/{}/callback",
            running.plugin_id
        ))
        .query(&[(
            "returnUrl",
            base64::engine::general_purpose::STANDARD.encode(&board),
        )])
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(redirect.status().is_redirection());
    let location = reqwest::Url::parse(redirect.headers()["location"].to_str().unwrap()).unwrap();
    let param = |k: &str| {
        location
            .query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    let (code, board_token) = (param("code"), param("token"));
    let page = http.get(location.as_str()).send().await.unwrap();
    assert!(page.text().await.unwrap().contains("/api/authorize"));
    let authorized = http
        .post(format!("{}/api/authorize", running.plugin_url))
        .json(&json!({"returnUrl": board, "token": board_token}))
        .send()
        .await
        .unwrap();
    assert_eq!(authorized.status().as_u16(), 200);
    let cookie = authorized.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let (status, list) = json_of(
        http.get(format!("{}/api/play/todo-items", running.plugin_url))
            .header("code", &code)
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().map(Vec::len), Some(2));
}
