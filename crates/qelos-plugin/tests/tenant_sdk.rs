//! `Plugin::sdk_for_tenant` against the qelos-mock gateway: Qelos called back as the tenant's
//! plugin user, across an access-token expiry and across a dead refresh token.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    unreachable_pub,
    dead_code
)]

#[path = "frameworks/apps.rs"]
mod apps;
#[path = "frameworks/scenarios.rs"]
mod scenarios;

use qelos_plugin::{PluginRequest, TenantSdkError};

const REFRESH: &str = "POST /api/token/refresh";
const SIGNIN: &str = "POST /api/signin";

async fn registered() -> scenarios::Stack {
    let s = scenarios::stack(apps::axum, |b| b).await;
    let (status, _) = s
        .call(reqwest::Method::GET, "/api/on/todo/whoami", None)
        .await;
    assert_eq!(status, 200);
    s
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_for_tenant_calls_qelos_as_the_tenants_plugin_user() {
    let s = registered().await;
    let sdk = s.plugin.sdk_for_tenant("0").await.unwrap();
    let me = sdk.get_logged_in_user().await.unwrap();
    let reg = s.plugin.registration("0").await.unwrap().unwrap();
    assert_eq!(me.username, reg.username);
    assert!(me.roles.iter().any(|r| r == "plugin"));
    let mut req = PluginRequest::default();
    req.tenant = Some("0".into());
    let by_request = s.plugin.sdk_for(&req).await.unwrap();
    assert_eq!(by_request.get_logged_in_user().await.unwrap().id, me.id);
    assert!(matches!(
        s.plugin.sdk_for_tenant("9").await,
        Err(TenantSdkError::NotRegistered)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_access_token_is_refreshed_and_the_new_pair_is_stored() {
    let s = registered().await;
    let before = s
        .plugin
        .registration("0")
        .await
        .unwrap()
        .unwrap()
        .qelos_tokens;
    s.mock
        .expire_token(before.access.as_ref().unwrap().expose());
    let sdk = s.plugin.sdk_for_tenant("0").await.unwrap();
    let refreshes = s.mock.calls(REFRESH);
    let signins = s.mock.calls(SIGNIN);
    sdk.get_logged_in_user().await.unwrap();
    assert_eq!(s.mock.calls(REFRESH), refreshes + 1);
    assert_eq!(s.mock.calls(SIGNIN), signins, "no sign-in needed");
    let after = s
        .plugin
        .registration("0")
        .await
        .unwrap()
        .unwrap()
        .qelos_tokens;
    assert_ne!(after, before, "the rotated pair is persisted");
    assert_eq!(after, sdk.tokens());
    // A fresh SDK starts from the stored pair and needs no refresh.
    let again = s.plugin.sdk_for_tenant("0").await.unwrap();
    again.get_logged_in_user().await.unwrap();
    assert_eq!(s.mock.calls(REFRESH), refreshes + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_refresh_token_signs_in_again_with_the_stored_credentials() {
    let s = registered().await;
    let before = s
        .plugin
        .registration("0")
        .await
        .unwrap()
        .unwrap()
        .qelos_tokens;
    s.mock
        .expire_token(before.access.as_ref().unwrap().expose());
    s.mock
        .expire_token(before.refresh.as_ref().unwrap().expose());
    let sdk = s.plugin.sdk_for_tenant("0").await.unwrap();
    let signins = s.mock.calls(SIGNIN);
    let me = sdk.get_logged_in_user().await.unwrap();
    assert!(me.roles.iter().any(|r| r == "plugin"));
    assert_eq!(s.mock.calls(SIGNIN), signins + 1, "signed in again");
    let after = s
        .plugin
        .registration("0")
        .await
        .unwrap()
        .unwrap()
        .qelos_tokens;
    assert_ne!(after.refresh, before.refresh);
    assert_eq!(after, sdk.tokens(), "the new pair is persisted");
}
