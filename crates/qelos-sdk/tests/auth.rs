//! Authentication against qelos-mock: sign-in both modes, sign-up, refresh, logout, the user,
//! API tokens, social login.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use qelos_sdk::{Auth, Credentials, Error, NewApiToken, Secret, Signup, TokenPair, UserUpdate};
use support::*;

#[tokio::test]
async fn cookie_signin_returns_the_session_cookie_to_forward() {
    let mock = mock().await;
    let r = anonymous(&mock)
        .signin(&Credentials::new("test@test.com", "admin"))
        .await
        .unwrap();
    assert_eq!(r.user["username"], "test@test.com");
    assert_eq!(
        r.workspace.as_ref().map(|w| w.name.as_str()),
        Some("Acme Inc")
    );
    let cookie = r
        .set_cookies
        .iter()
        .find(|c| c.starts_with("qlt_0="))
        .expect("qlt_0 cookie");
    for attr in [
        "Path=/api",
        "HttpOnly",
        "Secure",
        "SameSite=None",
        "Max-Age=2592000",
    ] {
        assert!(cookie.contains(attr), "{attr} in {cookie}");
    }
}

#[tokio::test]
async fn cookie_session_mode_authenticates_with_the_forwarded_cookie() {
    let mock = mock().await;
    let base = anonymous(&mock);
    let r = base
        .signin(&Credentials::new("test@test.com", "admin"))
        .await
        .unwrap();
    let pair = r.set_cookies[0].split(';').next().unwrap().to_owned();
    let sdk = base.with_auth(Auth::CookieSession(Secret::new(pair)), None);
    assert_eq!(
        sdk.get_logged_in_user().await.unwrap().username,
        "test@test.com"
    );
}

#[tokio::test]
async fn oauth_signin_returns_a_working_pair_and_decoded_names() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let me = sdk.get_logged_in_user().await.unwrap();
    assert_eq!(me.id, mock.seed().admin.id);
    assert_eq!(me.full_name.as_deref(), Some("Test Admin"));
    assert_eq!(
        me.workspace.as_ref().map(|w| w.name.as_str()),
        Some("Acme Inc"),
        "URI-encoded name decoded"
    );
}

#[tokio::test]
async fn bad_credentials_are_a_401_with_the_server_message() {
    let mock = mock().await;
    let err = anonymous(&mock)
        .oauth_signin(&Credentials::new("test@test.com", "wrong"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::Api {
            status: 401,
            message: "Invalid username or password".into()
        }
    );
    assert!(!err.is_unavailable());
}

#[tokio::test]
async fn signup_creates_a_user_and_reports_validation_errors() {
    let mock = mock().await;
    let base = anonymous(&mock);
    let signup = Signup {
        username: "new@test.com".into(),
        password: Secret::new("longenough"),
        email: "new@test.com".into(),
        first_name: "New".into(),
        last_name: Some("Person".into()),
    };
    let created = base.oauth_signup(&signup).await.unwrap();
    assert!(created.tokens.access.is_some() && created.tokens.refresh.is_some());
    let dup = base.signup(&signup).await.unwrap_err();
    assert_eq!(dup.status(), Some(400));
    let bad = Signup {
        email: "nope".into(),
        password: Secret::new("short"),
        ..signup
    };
    let err = base.signup(&bad).await.unwrap_err();
    let Error::Api { message, .. } = err else {
        panic!("api error")
    };
    assert!(
        message.contains("INVALID_EMAIL") && message.contains("INVALID_PASSWORD"),
        "{message}"
    );
}

#[tokio::test]
async fn refresh_rotates_and_a_reused_refresh_token_is_refused() {
    let mock = mock().await;
    let base = anonymous(&mock);
    let old = minted(&mock, false);
    let sdk = base.with_auth(Auth::OAuth(old.clone()), None);
    let fresh = sdk.refresh_token().await.unwrap();
    assert_ne!(fresh, old);
    assert_eq!(sdk.tokens(), fresh, "the instance stores the new pair");
    let reuse = base.exchange_tokens(&old).await.unwrap_err();
    assert!(reuse.is_unauthorized(), "{reuse:?}");
}

#[tokio::test]
async fn exchange_tokens_without_tokens_is_no_refresh_token() {
    let mock = mock().await;
    assert_eq!(
        anonymous(&mock)
            .exchange_tokens(&TokenPair::default())
            .await,
        Err(Error::NoRefreshToken)
    );
}

#[tokio::test]
async fn cookie_refresh_issues_a_new_session_cookie() {
    let mock = mock().await;
    let t = mock.mint_tokens(&qelos_mock::MintRequest::for_user("test@test.com"));
    let r = anonymous(&mock)
        .refresh_cookie_token(Some(&Secret::new(t.cookie.clone())))
        .await
        .unwrap();
    assert_ne!(r.cookie_token.expose(), t.cookie);
    assert!(r.set_cookies.iter().any(|c| c.starts_with("qlt_0=")));
    let oauth = anonymous(&mock)
        .refresh_cookie_token(Some(&Secret::new(t.access)))
        .await
        .unwrap_err();
    assert!(
        oauth.is_unauthorized(),
        "OAuth access JWTs cannot cookie-refresh"
    );
}

#[tokio::test]
async fn logout_revokes_the_paired_refresh_token() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let tokens = sdk.tokens();
    sdk.logout().await.unwrap();
    assert!(
        anonymous(&mock)
            .exchange_tokens(&tokens)
            .await
            .unwrap_err()
            .is_unauthorized()
    );
    let anon = anonymous(&mock).logout().await.unwrap_err();
    assert_eq!(anon.status(), Some(401));
}

#[tokio::test]
async fn update_logged_in_user_changes_names() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let update = UserUpdate {
        first_name: Some("Renamed".into()),
        full_name: Some("Renamed Admin".into()),
        ..Default::default()
    };
    let me = sdk.update_logged_in_user(&update).await.unwrap();
    assert_eq!(me.first_name.as_deref(), Some("Renamed"));
    assert_eq!(
        sdk.get_logged_in_user().await.unwrap().full_name.as_deref(),
        Some("Renamed Admin")
    );
}

#[tokio::test]
async fn api_tokens_can_be_created_used_listed_and_deleted() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let created = sdk
        .create_api_token(&NewApiToken {
            nickname: "ci".into(),
            expires_at: "2099-01-01T00:00:00.000Z".into(),
            workspace: None,
        })
        .await
        .unwrap();
    assert!(created.token.expose().starts_with("ql_"));
    assert_eq!(created.info.nickname, "ci");
    let (api, me) = anonymous(&mock)
        .api_token_signin(created.token.clone())
        .await
        .unwrap();
    assert_eq!(me.username, "test@test.com");
    let forbidden = api.list_api_tokens().await.unwrap_err();
    assert_eq!(
        forbidden.status(),
        Some(403),
        "token management is not allowed via token authentication"
    );
    let listed = sdk.list_api_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].token_prefix, created.token.expose()[..8]);
    sdk.delete_api_token(&created.info.id).await.unwrap();
    assert_eq!(
        sdk.delete_api_token(&created.info.id)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
    let past = sdk
        .create_api_token(&NewApiToken {
            nickname: "old".into(),
            expires_at: "2000-01-01T00:00:00.000Z".into(),
            workspace: None,
        })
        .await
        .unwrap_err();
    assert_eq!(
        past,
        Error::Api {
            status: 400,
            message: "expiresAt must be a valid future date".into()
        }
    );
}

#[tokio::test]
async fn social_login_round_trip_through_the_callback() {
    let mock = mock().await;
    let base = anonymous(&mock);
    let url = base.social_login_url("github", Some("s1"), Some("/after"));
    assert_eq!(url.path(), "/api/auth/github");
    assert!(url.query().unwrap().contains("returnUrl=%2Fafter"));
    // Follow the provider redirect by hand to the return URL carrying `rt`.
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let to_provider = http.get(url).send().await.unwrap();
    let provider = to_provider.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let back = http.get(provider).send().await.unwrap();
    let location = back.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/after?rt="), "{location}");
    let rt = location
        .split("rt=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap();
    let rt = percent_encoding::percent_decode_str(rt)
        .decode_utf8()
        .unwrap()
        .into_owned();
    let r = base
        .exchange_auth_callback(&Secret::new(rt.clone()))
        .await
        .unwrap();
    assert_eq!(r.user["username"], "test@test.com");
    assert!(r.set_cookies.iter().any(|c| c.starts_with("qlt_0=")));
    let again = base
        .exchange_auth_callback(&Secret::new(rt))
        .await
        .unwrap_err();
    assert!(again.is_unauthorized(), "the callback token is single-use");
}
