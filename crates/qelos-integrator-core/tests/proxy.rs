//! The `/api` proxy against qelos-mock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use qelos_integrator_core::QelosConfig;
use qelos_integrator_core::proxy::{Inbound, Proxy};
use qelos_mock::{Fault, MintRequest, MockServer};

fn request(method: &str, uri: &str, body: &str) -> http::Request<Full<Bytes>> {
    http::Request::builder()
        .method(method)
        .uri(uri)
        .header("host", "app.example.com:8443")
        .header("content-type", "application/json")
        .header("connection", "keep-alive")
        .body(Full::new(Bytes::from(body.to_owned())))
        .unwrap()
}

async fn body_json(
    resp: http::Response<qelos_integrator_core::proxy::ProxyBody>,
) -> serde_json::Value {
    let bytes = resp.into_body().collect().await.unwrap().to_bytes();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn signin_through_the_proxy_rewrites_the_cookie_domain() {
    let mock = MockServer::start().await.unwrap();
    let proxy = Proxy::with_target(
        &QelosConfig::builder(mock.url()).build().unwrap(),
        Some(&mock.url()),
    );
    let resp = proxy
        .forward(
            request(
                "POST",
                "/api/signin",
                r#"{"username":"test@test.com","password":"admin"}"#,
            ),
            Inbound::default(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let cookie = resp.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("Domain=app.example.com;"), "{cookie}");
    assert!(
        cookie.contains("Path=/api") && cookie.contains("SameSite=None"),
        "{cookie}"
    );
    let recorded = mock.requests();
    let signin = recorded.iter().find(|r| r.path == "/api/signin").unwrap();
    let header = |n: &str| {
        signin
            .headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(
        header("x-forwarded-host").as_deref(),
        Some("app.example.com:8443")
    );
    assert_eq!(
        header("tenanthost").as_deref(),
        Some("app.example.com:8443")
    );
    assert!(header("connection").is_none_or(|v| v != "keep-alive" || v.is_empty()));
}

#[tokio::test]
async fn query_strings_and_head_are_kept() {
    let mock = MockServer::start().await.unwrap();
    let t = mock.mint_tokens(&MintRequest::for_user("test@test.com"));
    let proxy = Proxy::with_target(
        &QelosConfig::builder(mock.url()).build().unwrap(),
        Some(&mock.url()),
    );
    for name in ["a", "b", "c"] {
        let mut req = request(
            "POST",
            "/api/blueprints/products/entities",
            &format!(r#"{{"name":"{name}"}}"#),
        );
        req.headers_mut().insert(
            "authorization",
            format!("Bearer {}", t.access).parse().unwrap(),
        );
        assert_eq!(proxy.forward(req, Inbound::default()).await.status(), 200);
    }
    let mut req = request(
        "GET",
        "/api/blueprints/products/entities?$limit=2&$sort=-metadata.name",
        "",
    );
    req.headers_mut().insert(
        "authorization",
        format!("Bearer {}", t.access).parse().unwrap(),
    );
    let list = body_json(proxy.forward(req, Inbound::default()).await).await;
    let names: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names, ["c", "b"]);
    let mut head = request("HEAD", "/api/me", "");
    head.headers_mut().insert(
        "authorization",
        format!("Bearer {}", t.access).parse().unwrap(),
    );
    let resp = proxy.forward(head, Inbound::default()).await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.into_body()
            .collect()
            .await
            .unwrap()
            .to_bytes()
            .is_empty()
    );
}

#[tokio::test]
async fn misconfigured_and_failing_targets_answer_json_errors() {
    let mock = MockServer::start().await.unwrap();
    let config = QelosConfig::builder(mock.url()).build().unwrap();
    let none = Proxy::with_target(&config, None)
        .forward(request("GET", "/api/me", ""), Inbound::default())
        .await;
    assert_eq!(none.status(), 503);
    assert_eq!(body_json(none).await["code"], "QELOS_PROXY_NOT_CONFIGURED");
    let bad = Proxy::with_target(&config, Some("ftp://nope"))
        .forward(request("GET", "/api/me", ""), Inbound::default())
        .await;
    assert_eq!(bad.status(), 502);
    assert_eq!(body_json(bad).await["code"], "QELOS_PROXY_BAD_TARGET");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = Proxy::with_target(&config, Some(&format!("http://127.0.0.1:{port}")))
        .forward(request("GET", "/api/me", ""), Inbound::default())
        .await;
    assert_eq!(down.status(), 502);
    assert_eq!(body_json(down).await["code"], "QELOS_PROXY_UPSTREAM_ERROR");
    mock.set_fault("GET /api/me", Fault::Latency(Duration::from_secs(3)));
    let slow = Proxy::with_target(&config, Some(&mock.url()))
        .timeout(Duration::from_millis(300))
        .forward(request("GET", "/api/me", ""), Inbound::default())
        .await;
    assert_eq!(slow.status(), 504);
    let mut big = request("POST", "/api/signin", &"x".repeat(2048));
    big.headers_mut()
        .insert("content-length", "2048".parse().unwrap());
    let limited = Proxy::with_target(&config, Some(&mock.url()))
        .body_limit(1024)
        .forward(big, Inbound::default())
        .await;
    assert_eq!(limited.status(), 413);
    let mut ws = request("GET", "/api/ws", "");
    ws.headers_mut()
        .insert("upgrade", "websocket".parse().unwrap());
    let refused = Proxy::with_target(&config, Some(&mock.url()))
        .forward(ws, Inbound::default())
        .await;
    assert_eq!(refused.status(), 501);
}
