//! Where qelos-mock honours an admin's `x-impersonate-user` / `x-impersonate-workspace`, as
//! Qelos does: `/api/me`, the auth service's own routes, and every service behind the gateway
//! (headers or `impersonateUser` / `impersonateWorkspace` query).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use qelos_sdk::{Method, QelosSdk};
use serde_json::{Value, json};
use support::*;

fn as_user(sdk: &QelosSdk, method: Method, path: &str, user: &str) -> qelos_sdk::ApiRequest {
    sdk.request(method, path).header("x-impersonate-user", user)
}

#[tokio::test]
async fn me_answers_the_impersonated_user_or_403() {
    let mock = mock().await;
    let admin = admin(&mock).await;
    let user_id = mock.seed().user.id.clone();
    let me: Value = as_user(&admin, Method::GET, "/api/me", &user_id)
        .send()
        .await
        .unwrap();
    assert_eq!(me["_id"], user_id.as_str());
    assert_eq!(me["username"], "user@test.com");
    assert_eq!(
        me["workspace"],
        Value::Null,
        "no workspace without the header"
    );
    let err = as_user(&admin, Method::GET, "/api/me", "000000000000000000000000")
        .send::<Value>()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 403: user not exist");
    let err = as_user(&admin, Method::GET, "/api/me", &user_id)
        .header("x-impersonate-workspace", "000000000000000000000000")
        .send::<Value>()
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 403: workspace not exist");
    // A plain user's headers are ignored.
    let plain = plain_user(&mock).await;
    let admin_id = mock.seed().admin.id.clone();
    let me: Value = as_user(&plain, Method::GET, "/api/me", &admin_id)
        .send()
        .await
        .unwrap();
    assert_eq!(me["_id"], user_id.as_str());
}

#[tokio::test]
async fn auth_routes_swap_the_user_and_refuse_an_unknown_one_with_404() {
    let mock = mock().await;
    let admin = admin(&mock).await;
    let plain = plain_user(&mock).await;
    let user_id = mock.seed().user.id.clone();
    let theirs: Vec<Value> = plain
        .request(Method::GET, "/api/workspaces")
        .send()
        .await
        .unwrap();
    let seen: Vec<Value> = as_user(&admin, Method::GET, "/api/workspaces", &user_id)
        .send()
        .await
        .unwrap();
    let ids = |l: &[Value]| l.iter().map(|w| w["_id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(&seen), ids(&theirs));
    let invites: Value = as_user(&admin, Method::GET, "/api/invites", &user_id)
        .send()
        .await
        .unwrap();
    assert!(invites.is_array());
    let err = as_user(
        &admin,
        Method::GET,
        "/api/workspaces",
        "000000000000000000000000",
    )
    .send::<Value>()
    .await
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Qelos answered 404: Impersonated user not found"
    );
}

#[tokio::test]
async fn services_behind_the_gateway_see_the_impersonated_user_with_their_own_roles() {
    let mock = mock().await;
    let admin = admin(&mock).await;
    let plain = plain_user(&mock).await;
    let user_id = mock.seed().user.id.clone();
    let ws = plain
        .get_logged_in_user()
        .await
        .unwrap()
        .workspace
        .unwrap()
        .id;
    // An entity created while impersonating (in the user's workspace) is the user's.
    let created: Value = as_user(
        &admin,
        Method::POST,
        "/api/blueprints/products/entities",
        &user_id,
    )
    .header("x-impersonate-workspace", &ws)
    .json(&json!({"metadata": {"name": "theirs"}}))
    .send()
    .await
    .unwrap();
    assert_eq!(created["user"], user_id.as_str());
    assert_eq!(created["workspace"], ws.as_str());
    // The same through the query parameters the gateway also reads.
    let listed: Vec<Value> = admin
        .request(Method::GET, "/api/blueprints/products/entities")
        .query(&[
            ("impersonateUser", user_id.as_str()),
            ("impersonateWorkspace", ws.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(listed.len(), 1);
    // The impersonated user's own roles apply: the payments admin API refuses them.
    let err = as_user(&admin, Method::GET, "/api/plans", &user_id)
        .send::<Value>()
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Qelos answered 401: insufficient permissions"
    );
    // An AI thread made while impersonating belongs to the user.
    let thread: Value = as_user(&admin, Method::POST, "/api/ai/threads", &user_id)
        .json(&json!({"integration": qelos_mock::fakes::AI_INTEGRATION_ID}))
        .send()
        .await
        .unwrap();
    assert_eq!(thread["user"], user_id.as_str());
    // An unknown user: the gateway forwards no user, so the caller is anonymous.
    let err = as_user(
        &admin,
        Method::GET,
        "/api/ai/threads",
        "000000000000000000000000",
    )
    .send::<Value>()
    .await
    .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    // A plain user cannot impersonate the admin.
    let err = as_user(&plain, Method::GET, "/api/plans", &mock.seed().admin.id)
        .send::<Value>()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
}
