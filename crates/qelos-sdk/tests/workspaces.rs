//! Workspaces against qelos-mock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use qelos_sdk::{Auth, Credentials, NewWorkspace, Secret};
use support::*;

#[tokio::test]
async fn list_get_create_update_remove() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let list = sdk.workspaces().list().await.unwrap();
    let names: Vec<_> = list.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["Acme Inc", "Beta Labs"]);
    let created = sdk
        .workspaces()
        .create(&NewWorkspace {
            name: "Gamma".into(),
            labels: vec!["x".into()],
            logo: None,
        })
        .await
        .unwrap();
    assert_eq!(created.name, "Gamma");
    assert_eq!(
        sdk.workspaces().get(&created.id).await.unwrap().labels,
        ["x"]
    );
    let renamed = sdk
        .workspaces()
        .update(&created.id, &serde_json::json!({"name": "Gamma 2"}))
        .await
        .unwrap();
    assert_eq!(renamed.name, "Gamma 2");
    let members = sdk.workspaces().members(&created.id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].user, mock.seed().admin.id);
    sdk.workspaces().remove(&created.id).await.unwrap();
    assert_eq!(
        sdk.workspaces()
            .get(&created.id)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
}

#[tokio::test]
async fn the_active_workspace_cannot_be_removed() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let active = sdk.get_logged_in_user().await.unwrap().workspace.unwrap();
    let err = sdk.workspaces().remove(&active.id).await.unwrap_err();
    assert_eq!(err.status(), Some(400));
}

#[tokio::test]
async fn a_foreign_workspace_is_not_found_for_a_plain_user() {
    let mock = mock().await;
    let user = plain_user(&mock).await;
    let beta = &mock.seed().workspaces[1];
    assert_eq!(
        user.workspaces().get(&beta.id).await.unwrap_err().status(),
        Some(404)
    );
    assert_eq!(user.workspaces().list().await.unwrap().len(), 1);
}

#[tokio::test]
async fn activate_needs_a_cookie_session_and_reissues_the_cookie() {
    let mock = mock().await;
    let base = anonymous(&mock);
    let beta = mock.seed().workspaces[1].id.clone();
    let bearer = admin(&mock).await;
    assert_eq!(
        bearer
            .workspaces()
            .activate(&beta)
            .await
            .unwrap_err()
            .status(),
        Some(500)
    );
    let r = base
        .signin(&Credentials::new("test@test.com", "admin"))
        .await
        .unwrap();
    let cookie = r.set_cookies[0].split(';').next().unwrap().to_owned();
    let session = base.with_auth(Auth::CookieSession(Secret::new(cookie)), None);
    let ws = session.workspaces().activate(&beta).await.unwrap();
    assert_eq!(ws.name, "Beta Labs");
}
