//! Construction against qelos-mock: builder options, custom headers, and which credential each
//! auth mode sends where.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use std::time::Duration;

use qelos_sdk::{Auth, AuthKind, Credentials, DEFAULT_TIMEOUT, Error, QelosSdk, Secret};
use support::*;

#[tokio::test]
async fn custom_headers_go_on_every_call() {
    let mock = mock().await;
    let base = QelosSdk::builder(mock.url())
        .header("tenant", "0")
        .header("x-trace-tag", "sdk-test")
        .build()
        .unwrap();
    base.oauth_signin(&Credentials::new("test@test.com", "admin"))
        .await
        .unwrap();
    assert_eq!(
        last_header(&mock, "POST", "/api/signin", "x-trace-tag").as_deref(),
        Some("sdk-test")
    );
    let sdk = base.with_auth(Auth::OAuth(minted(&mock, false)), None);
    sdk.workspaces().list().await.unwrap();
    assert_eq!(
        last_header(&mock, "GET", "/api/workspaces", "tenant").as_deref(),
        Some("0"),
        "with_auth keeps the custom headers"
    );
}

#[tokio::test]
async fn each_auth_mode_sends_only_its_own_credential() {
    let mock = mock().await;
    let base = anonymous(&mock);
    let pair = minted(&mock, false);
    let cookie = admin_cookie(&mock, None);
    let key = admin(&mock)
        .await
        .create_api_token(&qelos_sdk::NewApiToken::new(
            "modes",
            "2099-01-01T00:00:00.000Z",
        ))
        .await
        .unwrap()
        .token;
    let cases = [
        (Auth::None, None),
        (
            Auth::CookieSession(Secret::new(cookie.clone())),
            Some(("cookie", cookie)),
        ),
        (
            Auth::OAuth(pair.clone()),
            Some((
                "authorization",
                format!("Bearer {}", pair.access.as_ref().unwrap().expose()),
            )),
        ),
        (
            Auth::ApiToken(key.clone()),
            Some(("x-api-key", key.expose().to_owned())),
        ),
    ];
    for (auth, expected) in cases {
        let sdk = base.with_auth(auth, None);
        let result = sdk.get_logged_in_user().await;
        assert_eq!(result.is_ok(), expected.is_some(), "{:?}", sdk.auth_kind());
        for name in ["cookie", "authorization", "x-api-key"] {
            let sent = last_header(&mock, "GET", "/api/me", name);
            let want = expected
                .as_ref()
                .filter(|(n, _)| *n == name)
                .map(|(_, v)| v.clone());
            assert_eq!(sent, want, "{name} for {:?}", sdk.auth_kind());
        }
    }
}

#[tokio::test]
async fn the_no_auth_endpoints_never_carry_the_instances_credentials() {
    let mock = mock().await;
    let sdk = anonymous(&mock).with_auth(Auth::ApiToken(Secret::new("ql_not_sent")), None);
    sdk.oauth_signin(&Credentials::new("test@test.com", "admin"))
        .await
        .unwrap();
    assert_eq!(last_header(&mock, "POST", "/api/signin", "x-api-key"), None);
    let oauth = anonymous(&mock).with_auth(Auth::OAuth(minted(&mock, false)), None);
    oauth
        .signup(&qelos_sdk::Signup::new(
            "fresh@test.com",
            qelos_sdk::Secret::new("longenough"),
            "fresh@test.com",
            "Fresh",
        ))
        .await
        .unwrap();
    assert_eq!(
        last_header(&mock, "POST", "/api/signup", "authorization"),
        None
    );
    let _ = oauth.exchange_auth_callback(&Secret::new("bogus")).await;
    assert_eq!(
        last_header(&mock, "POST", "/api/auth/callback", "authorization"),
        None
    );
}

#[tokio::test]
async fn builder_options_are_kept_and_with_auth_changes_only_the_credentials() {
    let mock = mock().await;
    let client = reqwest::Client::new();
    let sdk = QelosSdk::builder(format!("{}/", mock.url()))
        .client(client)
        .timeout(Duration::from_secs(3))
        .api_token("ql_x")
        .build()
        .unwrap();
    assert_eq!(sdk.timeout(), Duration::from_secs(3));
    assert_eq!(sdk.app_url().as_str(), format!("{}/", mock.url()));
    assert_eq!(sdk.auth_kind(), AuthKind::ApiToken);
    let other = sdk.with_auth(Auth::None, None);
    assert_eq!(other.auth_kind(), AuthKind::None);
    assert_eq!(other.timeout(), Duration::from_secs(3));
    assert!(other.tokens().is_empty());
    assert_eq!(anonymous(&mock).timeout(), DEFAULT_TIMEOUT);
    assert_eq!(DEFAULT_TIMEOUT, Duration::from_secs(10));
}

#[test]
fn builder_errors_wait_for_build_and_never_echo_secrets() {
    let bad = [
        QelosSdk::builder("not a url").build(),
        QelosSdk::builder("ftp://example.com").build(),
        QelosSdk::builder("http://user:hunter2@example.com").build(),
        QelosSdk::builder("http://example.com/?rt=hunter2").build(),
        QelosSdk::builder("http://example.com")
            .header("x-secret", "hunter2\n")
            .build(),
        QelosSdk::builder("http://example.com")
            .cookie_session("qlt_0=hunter2\r\n")
            .build(),
    ];
    for result in bad {
        let err = result.unwrap_err();
        assert!(
            matches!(err, Error::InvalidUrl(_) | Error::InvalidHeader(_)),
            "{err:?}"
        );
        assert!(!format!("{err} {err:?}").contains("hunter2"), "{err}");
    }
    let builder = QelosSdk::builder("http://user:hunter2@example.com").api_token("ql_hunter2");
    assert!(!format!("{builder:?}").contains("hunter2"));
}

/// Serves one HTTP/1.1 request on a local port: answers `body` as JSON and hands back the
/// request line it received.
async fn one_shot_server(body: &'static str) -> (String, tokio::task::JoinHandle<String>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let served = tokio::spawn(async move {
        let (mut stream, _) = listener.accept().await.unwrap();
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut buf).await.unwrap();
            assert!(n > 0, "the request head arrives");
            head.extend_from_slice(&buf[..n]);
        }
        let answer = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(answer.as_bytes()).await.unwrap();
        let head = String::from_utf8(head).unwrap();
        head.lines().next().unwrap_or_default().to_owned()
    });
    (url, served)
}

#[tokio::test]
async fn a_qelos_under_a_path_prefix_is_reached_through_the_app_urls_path() {
    let (url, served) = one_shot_server(r#"{"_id":"u1","username":"jane","roles":[]}"#).await;
    // The base path is the path of the app URL (with or without a trailing slash).
    let sdk = QelosSdk::builder(format!("{url}/qelos/"))
        .oauth(qelos_sdk::TokenPair::new(Some("a.b.c".into()), None))
        .build()
        .unwrap();
    let me = sdk.get_logged_in_user().await.unwrap();
    assert_eq!(me.username, "jane");
    assert_eq!(served.await.unwrap(), "GET /qelos/api/me HTTP/1.1");
}
