//! Social callback URL and MCP authorisation (authorize, consent, code exchange) against
//! qelos-mock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use qelos_mock::MockServer;
use qelos_sdk::admin::Configuration;
use qelos_sdk::mcp::{McpAuthorize, McpTokenExchange};
use qelos_sdk::{Auth, Method, QelosSdk, Secret};
use support::*;

const CB: &str = "https://client.example/cb";
// RFC 7636 appendix B.
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

async fn enable_mcp(mock: &MockServer) {
    admin(mock)
        .await
        .admin()
        .manage_configurations()
        .create(&Configuration {
            key: "mcp-configuration".into(),
            metadata: serde_json::json!({"enabled": true, "permittedCallbackUrls": [CB]}),
            ..Configuration::default()
        })
        .await
        .unwrap();
}

fn location(r: &qelos_sdk::ApiResponse) -> String {
    r.headers()["location"].to_str().unwrap().to_owned()
}

fn query_of(url: &str) -> Vec<(String, String)> {
    let url = qelos_sdk::url::Url::parse(&format!("http://x.invalid{url}"))
        .or_else(|_| qelos_sdk::url::Url::parse(url))
        .unwrap();
    url.query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn get<'a>(q: &'a [(String, String)], k: &str) -> Option<&'a str> {
    q.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str())
}

/// Authorize then accept as `user`: the `code` and `state` the client gets back.
async fn code_for(user: &QelosSdk, authorize: &McpAuthorize) -> (String, String) {
    let url = user.mcp_authorize_url(authorize);
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    let r = user
        .request(Method::GET, url.path())
        .query(&pairs)
        .send_raw()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let consent_page = location(&r);
    assert!(
        consent_page.starts_with("/mcp/authorize?mcp_state="),
        "{consent_page}"
    );
    let mcp_state = get(&query_of(&consent_page), "mcp_state")
        .unwrap()
        .to_owned();
    let form = qelos_sdk::url::form_urlencoded::Serializer::new(String::new())
        .append_pair("mcp_state", &mcp_state)
        .append_pair("action", "accept")
        .finish();
    let r = user
        .request(Method::POST, "/api/auth/mcp/consent")
        .bytes(form, "application/x-www-form-urlencoded")
        .send_raw()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let back = location(&r);
    assert!(back.starts_with(CB), "{back}");
    let q = query_of(&back);
    (
        get(&q, "code").unwrap().to_owned(),
        get(&q, "state").unwrap_or_default().to_owned(),
    )
}

#[tokio::test]
async fn social_and_mcp_urls_are_built_on_the_app_url() {
    let sdk = QelosSdk::builder("https://app.example.com/base/")
        .build()
        .unwrap();
    assert_eq!(
        sdk.social_callback_url("google").as_str(),
        "https://app.example.com/base/api/auth/google/callback"
    );
    let login = sdk.social_login_url_with(
        "github",
        &qelos_sdk::SocialLoginOptions::new()
            .state("s")
            .return_url("/after")
            .redirect_url("https://www.example.com"),
    );
    assert_eq!(
        login.as_str(),
        "https://app.example.com/base/api/auth/github?state=s&returnUrl=%2Fafter&redirectUrl=https%3A%2F%2Fwww.example.com"
    );
    let url = sdk.mcp_authorize_url(
        &McpAuthorize::new("cursor://anysphere.cursor-mcp/oauth/callback")
            .state("s 1")
            .code_challenge("abc", "S256")
            .client_id("claude"),
    );
    assert_eq!(url.path(), "/base/api/auth/mcp/authorize");
    let q: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (k.into(), v.into()))
        .collect();
    assert_eq!(
        get(&q, "redirect_uri"),
        Some("cursor://anysphere.cursor-mcp/oauth/callback")
    );
    assert_eq!(get(&q, "state"), Some("s 1"));
    assert_eq!(get(&q, "code_challenge_method"), Some("S256"));
    assert_eq!(get(&q, "client_id"), Some("claude"));
    let exchange = McpTokenExchange::new(Secret::new("the-code"), CB, Secret::new("the-verifier"));
    let shown = format!("{exchange:?}");
    assert!(
        !shown.contains("the-code") && !shown.contains("the-verifier"),
        "{shown}"
    );
}

#[tokio::test]
async fn mcp_code_with_pkce_is_exchanged_once_for_a_working_session() {
    let mock = mock().await;
    enable_mcp(&mock).await;
    let user = plain_user(&mock).await;
    let (code, state) = code_for(
        &user,
        &McpAuthorize::new(CB)
            .state("csrf-9")
            .code_challenge(CHALLENGE, "S256"),
    )
    .await;
    assert_eq!(state, "csrf-9");
    let qelos = anonymous(&mock);
    let exchange = McpTokenExchange::new(Secret::new(code.clone()), CB, Secret::new(VERIFIER));
    let session = qelos
        .exchange_mcp_authorization_code(&exchange)
        .await
        .unwrap();
    assert_eq!(session.user.id, mock.seed().user.id);
    assert_eq!(session.expires_in, 5 * 3600);
    assert!(!format!("{session:?}").contains(session.tokens.access.as_ref().unwrap().expose()));
    let me = qelos
        .with_auth(Auth::OAuth(session.tokens), None)
        .get_logged_in_user()
        .await
        .unwrap();
    assert_eq!(me.username, "user@test.com");
    // Single use.
    let err = qelos
        .exchange_mcp_authorization_code(&exchange)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 400: invalid_grant");
}

#[tokio::test]
async fn mcp_refuses_a_wrong_verifier_an_anonymous_authorize_and_a_disabled_tenant() {
    let mock = mock().await;
    let user = plain_user(&mock).await;
    // Not enabled: 503 on authorize and token.
    let r = user
        .request(Method::GET, "/api/auth/mcp/authorize")
        .query(&[("redirect_uri", CB)])
        .send_raw()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 503);
    let exchange = McpTokenExchange::new(Secret::new("c"), CB, Secret::new(VERIFIER));
    let err = anonymous(&mock)
        .exchange_mcp_authorization_code(&exchange)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    enable_mcp(&mock).await;
    // Anonymous: sent to the login page, which returns to the same authorize request.
    let r = anonymous(&mock)
        .request(Method::GET, "/api/auth/mcp/authorize")
        .query(&[("redirect_uri", CB), ("state", "s")])
        .send_raw()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 302);
    let login = location(&r);
    let back = get(&query_of(&login), "redirect").unwrap().to_owned();
    assert!(login.starts_with("/login?redirect="), "{login}");
    assert!(
        back.starts_with("/api/auth/mcp/authorize?redirect_uri="),
        "{back}"
    );
    // A redirect URI the tenant does not permit.
    let r = user
        .request(Method::GET, "/api/auth/mcp/authorize")
        .query(&[("redirect_uri", "https://evil.example/cb")])
        .send_raw()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    // A wrong verifier burns the code.
    let (code, _) = code_for(
        &user,
        &McpAuthorize::new(CB).code_challenge(CHALLENGE, "S256"),
    )
    .await;
    let wrong = McpTokenExchange::new(Secret::new(code.clone()), CB, Secret::new("x".repeat(43)));
    let err = anonymous(&mock)
        .exchange_mcp_authorization_code(&wrong)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 400: invalid_grant");
    let right = McpTokenExchange::new(Secret::new(code), CB, Secret::new(VERIFIER));
    let err = anonymous(&mock)
        .exchange_mcp_authorization_code(&right)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
}
