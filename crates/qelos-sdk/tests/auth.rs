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
    let signup = Signup::new(
        "new@test.com",
        Secret::new("longenough"),
        "new@test.com",
        "New",
    )
    .last_name("Person");
    let created = base.oauth_signup(&signup).await.unwrap();
    assert!(created.tokens.access.is_some() && created.tokens.refresh.is_some());
    let dup = base.signup(&signup).await.unwrap_err();
    assert_eq!(dup.status(), Some(400));
    let mut bad = signup.clone();
    bad.email = "nope".into();
    bad.password = Secret::new("short");
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
    let update = UserUpdate::default()
        .first_name("Renamed")
        .full_name("Renamed Admin");
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
        .create_api_token(&NewApiToken::new("ci", "2099-01-01T00:00:00.000Z"))
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
        .create_api_token(&NewApiToken::new("old", "2000-01-01T00:00:00.000Z"))
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

#[tokio::test]
async fn cookie_signin_with_bad_credentials_is_a_401() {
    let mock = mock().await;
    let err = anonymous(&mock)
        .signin(&Credentials::new("test@test.com", "nope"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::Api {
            status: 401,
            message: "Invalid username or password".into()
        }
    );
}

#[tokio::test]
async fn oauth_signin_on_an_oauth_instance_stores_the_new_pair() {
    let mock = mock().await;
    let sdk = anonymous(&mock).with_auth(Auth::OAuth(TokenPair::default()), None);
    let s = sdk
        .oauth_signin(&Credentials::new("user@test.com", "user1234"))
        .await
        .unwrap();
    assert_eq!(sdk.tokens(), s.tokens);
    assert_eq!(s.user["username"], "user@test.com");
    assert_eq!(s.workspace.unwrap().name, "Acme Inc");
}

#[tokio::test]
async fn signin_can_choose_the_workspace() {
    let mock = mock().await;
    let beta = &mock.seed().workspaces[1];
    let s = anonymous(&mock)
        .oauth_signin(&Credentials::new("test@test.com", "admin").workspace(beta.id.clone()))
        .await
        .unwrap();
    assert_eq!(
        s.workspace.as_ref().map(|w| w.id.as_str()),
        Some(beta.id.as_str())
    );
}

#[tokio::test]
async fn the_user_is_refused_without_credentials_and_with_a_bad_api_token() {
    let mock = mock().await;
    let anon = anonymous(&mock).get_logged_in_user().await.unwrap_err();
    assert_eq!(
        anon,
        Error::Api {
            status: 401,
            message: "you are not authorized. must be logged in.".into()
        }
    );
    let bad = anonymous(&mock)
        .api_token_signin(Secret::new("ql_0000"))
        .await
        .unwrap_err();
    assert_eq!(
        bad,
        Error::Api {
            status: 401,
            message: "Invalid or expired API token".into()
        }
    );
    assert!(!bad.to_string().contains("ql_0000"));
    let update = anonymous(&mock)
        .update_logged_in_user(&UserUpdate::default())
        .await
        .unwrap_err();
    assert!(update.is_unauthorized());
}

#[tokio::test]
async fn cookie_refresh_of_the_instances_own_session_returns_its_cookies_not_the_hooks() {
    let mock = mock().await;
    let hooks = std::sync::Arc::new(Recorder::default());
    let cookie = admin_cookie(&mock, None);
    let sdk = anonymous(&mock).with_auth(
        Auth::CookieSession(Secret::new(cookie.clone())),
        Some(hooks.clone()),
    );
    let r = sdk.refresh_cookie_token(None).await.unwrap();
    assert!(!cookie.ends_with(r.cookie_token.expose()));
    assert_eq!(r.user["username"], "test@test.com");
    assert!(r.set_cookies.iter().any(|c| c.starts_with("qlt_0=")));
    assert!(hooks.set_cookies.lock().unwrap().is_empty());
    let anon = anonymous(&mock)
        .refresh_cookie_token(None)
        .await
        .unwrap_err();
    assert!(anon.is_unauthorized());
}

#[tokio::test]
async fn exchange_tokens_with_only_a_cookie_token_refreshes_the_cookie() {
    let mock = mock().await;
    let t = mock.mint_tokens(&qelos_mock::MintRequest::for_user("test@test.com"));
    let before = mock.calls("POST /api/cookie/refresh");
    let pair = anonymous(&mock)
        .exchange_tokens(&TokenPair::new(Some(Secret::new(t.cookie.clone())), None))
        .await
        .unwrap();
    assert_eq!(mock.calls("POST /api/cookie/refresh"), before + 1);
    assert!(pair.refresh.is_none());
    assert_ne!(pair.access.unwrap().expose(), t.cookie);
}

#[tokio::test]
async fn cookie_logout_returns_the_clearing_cookie_and_spares_the_hooks() {
    let mock = mock().await;
    let hooks = std::sync::Arc::new(Recorder::default());
    let sdk = anonymous(&mock).with_auth(
        Auth::CookieSession(Secret::new(admin_cookie(&mock, None))),
        Some(hooks.clone()),
    );
    let cleared = sdk.logout().await.unwrap();
    let cookie = cleared
        .iter()
        .find(|c| c.starts_with("qlt_0=;"))
        .expect("clearing cookie");
    assert!(
        cookie.contains("Max-Age=-1") || cookie.contains("Max-Age=0"),
        "{cookie}"
    );
    assert!(hooks.set_cookies.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_rotated_session_cookie_reaches_the_hooks() {
    let mock = mock().await;
    let hooks = std::sync::Arc::new(Recorder::default());
    let old = admin_cookie(&mock, Some(std::time::Duration::from_secs(3600)));
    let sdk = anonymous(&mock).with_auth(
        Auth::CookieSession(Secret::new(old.clone())),
        Some(hooks.clone()),
    );
    sdk.get_logged_in_user().await.unwrap();
    let heard = hooks.set_cookies.lock().unwrap().clone();
    assert_eq!(heard.len(), 1, "one rotation cookie");
    assert!(heard[0].starts_with("qlt_0="));
    assert!(!heard[0].contains(&old["qlt_0=".len()..]), "a new value");
}

#[tokio::test]
async fn api_token_management_follows_the_tenant_config_and_validates_input() {
    let closed = qelos_mock::MockServer::start_with(qelos_mock::MockConfig {
        allow_api_tokens: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let sdk = admin(&closed).await;
    assert_eq!(
        sdk.list_api_tokens().await.unwrap_err(),
        Error::Api {
            status: 403,
            message: "You do not have permission to manage API tokens".into()
        }
    );
    let open = mock().await;
    let sdk = admin(&open).await;
    let unparsable = sdk
        .create_api_token(&NewApiToken::new("ci", "next tuesday"))
        .await
        .unwrap_err();
    assert_eq!(
        unparsable,
        Error::Api {
            status: 400,
            message: "expiresAt must be a valid future date".into()
        }
    );
    assert!(sdk.list_api_tokens().await.unwrap().is_empty());
}

#[tokio::test]
async fn social_login_url_without_options_has_no_query() {
    let mock = mock().await;
    let url = anonymous(&mock).social_login_url("google", None, None);
    assert_eq!(url.as_str(), format!("{}/api/auth/google", mock.url()));
    let with_state = anonymous(&mock).social_login_url("git hub", Some("a b&c"), None);
    assert_eq!(with_state.path(), "/api/auth/git%20hub");
    assert_eq!(with_state.query(), Some("state=a+b%26c"));
}

#[tokio::test]
async fn a_forged_callback_token_is_refused_without_echoing_it() {
    let mock = mock().await;
    let err = anonymous(&mock)
        .exchange_auth_callback(&Secret::new("forged-callback-token"))
        .await
        .unwrap_err();
    assert_eq!(
        err,
        Error::Api {
            status: 401,
            message: "Invalid refresh token".into()
        }
    );
    assert!(!format!("{err} {err:?}").contains("forged-callback-token"));
}
