//! The escape hatch (`QelosSdk::request`) and custom headers against qelos-mock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use std::time::Duration;

use futures_util::TryStreamExt as _;
use qelos_mock::Fault;
use qelos_sdk::{Auth, Error, Method, StatusCode, User};
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn request_decodes_a_typed_answer_with_the_instance_credentials() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let me: User = sdk.request(Method::GET, "/api/me").send().await.unwrap();
    assert_eq!(me.username, "test@test.com");
    let auth = last_header(&mock, "GET", "/api/me", "authorization").unwrap();
    assert!(auth.starts_with("Bearer "), "{auth}");
}

#[tokio::test]
async fn request_refreshes_once_on_a_401_and_retries() {
    let mock = mock().await;
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(minted(&mock, true)), None);
    let me: User = sdk.request(Method::GET, "/api/me").send().await.unwrap();
    assert_eq!(me.username, "test@test.com");
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
    assert_eq!(mock.calls("GET /api/me"), 2);
}

#[tokio::test]
async fn request_sends_json_bodies_and_query_pairs() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let created: Value = sdk
        .request(Method::POST, "/api/blueprints/products/entities")
        .json(&json!({"metadata": {"name": "Lamp", "price": 12}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created["metadata"]["name"], "Lamp");
    let found: Vec<Value> = sdk
        .request(Method::GET, "/api/blueprints/products/entities")
        .query(&[("metadata.name", "Lamp")])
        .query(&[("$limit", 5)])
        .send()
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0]["identifier"], created["identifier"]);
}

#[tokio::test]
async fn request_refusals_are_api_errors_with_the_server_message() {
    let mock = mock().await;
    let user = plain_user(&mock).await;
    let err = user
        .request(Method::GET, "/api/blueprints/audit/entities")
        .send::<Value>()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403), "{err}");
    let err = user
        .request(Method::DELETE, "/api/workspaces/nope")
        .send_empty()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Api { .. }), "{err}");
}

#[tokio::test]
async fn send_raw_answers_any_status_with_headers_and_a_streamed_body() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let answer = sdk
        .request(Method::GET, "/api/no-such-endpoint")
        .send_raw()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::NOT_FOUND);
    assert!(answer.headers().contains_key("content-type"));
    let err = answer.error_for_status().await.unwrap_err();
    assert_eq!(err.status(), Some(404));

    let answer = sdk
        .request(Method::GET, "/api/workspaces")
        .send_raw()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let chunks: Vec<bytes::Bytes> = answer.into_stream().try_collect().await.unwrap();
    let body: Vec<u8> = chunks.concat();
    let list: Vec<Value> = serde_json::from_slice(&body).unwrap();
    assert_eq!(list.len(), 2);
}

#[tokio::test]
async fn paths_that_could_leave_the_application_are_refused_before_sending() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    mock.reset_calls();
    for bad in [
        "api/me",
        "//evil.example/api",
        "/api/me?token=1",
        "/api/me#x",
    ] {
        let err = sdk
            .request(Method::GET, bad)
            .send::<Value>()
            .await
            .unwrap_err();
        assert!(matches!(err, Error::InvalidUrl(_)), "{bad}: {err}");
        assert!(!err.to_string().contains("token=1"), "{err}");
    }
    assert_eq!(mock.total_calls(), 0);
}

#[tokio::test]
async fn per_call_headers_and_timeout_apply_to_that_call_only() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let _: Value = sdk
        .request(Method::GET, "/api/workspaces")
        .header("x-request-id", "abc")
        .send()
        .await
        .unwrap();
    assert_eq!(
        last_header(&mock, "GET", "/api/workspaces", "x-request-id").as_deref(),
        Some("abc")
    );
    let _: Value = sdk
        .request(Method::GET, "/api/workspaces")
        .send()
        .await
        .unwrap();
    assert_eq!(
        last_header(&mock, "GET", "/api/workspaces", "x-request-id"),
        None
    );
    mock.set_fault("GET /api/me", Fault::Latency(Duration::from_secs(3)));
    let err = sdk
        .request(Method::GET, "/api/me")
        .timeout(Duration::from_millis(100))
        .send::<Value>()
        .await
        .unwrap_err();
    assert_eq!(err, Error::Timeout);
    let err = sdk
        .request(Method::GET, "/api/me")
        .header("bad header", "x")
        .send::<Value>()
        .await
        .unwrap_err();
    assert!(matches!(err, Error::InvalidHeader(_)), "{err}");
}

#[tokio::test]
async fn a_streamed_body_is_sent_once_and_its_401_is_returned_not_retried() {
    let mock = mock().await;
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(minted(&mock, true)), None);
    let chunks = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"{\"name\":")),
        Ok(bytes::Bytes::from_static(b"\"Streamed\"}")),
    ]);
    let err = sdk
        .request(Method::POST, "/api/workspaces")
        .body(reqwest::Body::wrap_stream(chunks), "application/json")
        .send::<Value>()
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    assert_eq!(mock.calls("POST /api/token/refresh"), 0);
    // The same body as bytes is replayable: refreshed and resent.
    let created: Value = sdk
        .request(Method::POST, "/api/workspaces")
        .bytes(&b"{\"name\":\"Bytes\"}"[..], "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(created["name"], "Bytes");
    assert_eq!(mock.calls("POST /api/token/refresh"), 1);
}

#[tokio::test]
async fn custom_headers_reach_every_call_of_the_instance_and_its_clones() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    sdk.set_custom_header("x-app", "one").unwrap();
    let clone = sdk.clone();
    clone.workspaces().list().await.unwrap();
    assert_eq!(
        last_header(&mock, "GET", "/api/workspaces", "x-app").as_deref(),
        Some("one")
    );
    // A later `with_auth` starts with a copy; changes do not flow back.
    let other = sdk.with_auth(Auth::OAuth(minted(&mock, false)), None);
    other.set_custom_header("x-app", "two").unwrap();
    sdk.workspaces().list().await.unwrap();
    assert_eq!(
        last_header(&mock, "GET", "/api/workspaces", "x-app").as_deref(),
        Some("one")
    );
    other.workspaces().list().await.unwrap();
    assert_eq!(
        last_header(&mock, "GET", "/api/workspaces", "x-app").as_deref(),
        Some("two")
    );
    sdk.remove_custom_header("x-app");
    clone.workspaces().list().await.unwrap();
    assert_eq!(last_header(&mock, "GET", "/api/workspaces", "x-app"), None);
    // Credentials win over a custom header of the same name.
    sdk.set_custom_header("authorization", "Bearer forged")
        .unwrap();
    sdk.get_logged_in_user().await.unwrap();
    let auth = last_header(&mock, "GET", "/api/me", "authorization").unwrap();
    assert_ne!(auth, "Bearer forged");
    assert!(matches!(
        sdk.set_custom_header("x-bad", "line\nbreak"),
        Err(Error::InvalidHeader(_))
    ));
}
