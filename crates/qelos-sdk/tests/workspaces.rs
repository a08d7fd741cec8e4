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
        .create(&NewWorkspace::new("Gamma").labels(vec!["x".into()]))
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

#[tokio::test]
async fn plain_members_cannot_administer_a_workspace() {
    let mock = mock().await;
    let user = plain_user(&mock).await;
    let acme = mock.seed().workspaces[0].id.clone();
    let not_admin = qelos_sdk::Error::Api {
        status: 403,
        message: "not authorized".into(),
    };
    assert_eq!(
        user.workspaces()
            .update(&acme, &serde_json::json!({"name": "Mine"}))
            .await
            .unwrap_err(),
        not_admin
    );
    assert_eq!(
        user.workspaces().members(&acme).await.unwrap_err(),
        not_admin
    );
    let own = user.workspaces().get(&acme).await.unwrap();
    assert_eq!(own.name, "Acme Inc");
}

#[tokio::test]
async fn creating_a_workspace_without_a_name_fails_with_the_server_message() {
    let mock = mock().await;
    let err = admin(&mock)
        .await
        .workspaces()
        .create(&NewWorkspace::default())
        .await
        .unwrap_err();
    assert_eq!(
        err,
        qelos_sdk::Error::Api {
            status: 500,
            message: "failed to create workspace".into()
        }
    );
}

#[tokio::test]
async fn workspaces_need_a_signed_in_caller() {
    let mock = mock().await;
    let err = anonymous(&mock).workspaces().list().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err:?}");
}

#[tokio::test]
async fn activation_hands_the_new_session_cookie_to_the_hooks() {
    let mock = mock().await;
    let hooks = std::sync::Arc::new(Recorder::default());
    let beta = mock.seed().workspaces[1].id.clone();
    let session = anonymous(&mock).with_auth(
        Auth::CookieSession(Secret::new(admin_cookie(&mock, None))),
        Some(hooks.clone()),
    );
    session.workspaces().activate(&beta).await.unwrap();
    let heard = hooks.set_cookies.lock().unwrap().clone();
    assert!(
        heard.iter().any(|c| c.starts_with("qlt_0=")),
        "{}",
        heard.len()
    );
    // The re-issued cookie carries the new active workspace.
    let pair = heard[0].split(';').next().unwrap().to_owned();
    let me = anonymous(&mock)
        .with_auth(Auth::CookieSession(Secret::new(pair)), None)
        .get_logged_in_user()
        .await
        .unwrap();
    assert_eq!(me.workspace.unwrap().id, beta);
}
