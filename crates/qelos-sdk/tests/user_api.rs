//! Blocks, app configuration, invites and member management, lambdas and the fluent entity
//! query against qelos-mock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use qelos_mock::fakes::LAMBDA_INTEGRATION_ID;
use qelos_sdk::Method;
use qelos_sdk::blocks::Block;
use serde_json::{Value, json};
use support::*;

#[tokio::test]
async fn blocks_crud_for_editors_and_public_reads() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let blocks = sdk.blocks();
    let created = blocks
        .create(&Block::new("footer", "<p>hi</p>"))
        .await
        .unwrap();
    assert!(!created.id.is_empty());
    assert_eq!(blocks.list().await.unwrap().len(), 1);
    let updated = blocks
        .update(&created.id, &json!({"content": "<p>bye</p>"}))
        .await
        .unwrap();
    assert_eq!(updated.content, "<p>bye</p>");
    // Reading one block is public.
    let public = anonymous(&mock).blocks().get(&created.id).await.unwrap();
    assert_eq!(public.name, "footer");
    blocks.remove(&created.id).await.unwrap();
    let err = blocks.get(&created.id).await.unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 404: block not exists");
}

#[tokio::test]
async fn blocks_refuse_non_editors_with_the_content_service_401() {
    let mock = mock().await;
    let user = plain_user(&mock).await;
    let err = user.blocks().list().await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Qelos answered 401: you are not authorized"
    );
    let err = user
        .blocks()
        .create(&Block::new("x", "y"))
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
}

#[tokio::test]
async fn app_configuration_is_public_to_read_and_admin_to_update() {
    let mock = mock().await;
    let config = anonymous(&mock).app_configurations().get().await.unwrap();
    assert_eq!(config.metadata["name"], "Qelos Mock");
    let sdk = admin(&mock).await;
    let updated = sdk
        .app_configurations()
        .update(&json!({"name": "Renamed"}))
        .await
        .unwrap();
    assert_eq!(updated.metadata["name"], "Renamed");
    assert_eq!(updated.metadata["language"], "en", "other fields are kept");
    let err = plain_user(&mock)
        .await
        .app_configurations()
        .update(&json!({"name": "x"}))
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
}

#[tokio::test]
async fn invite_accept_decline_and_revoke_through_the_workspace() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let beta = mock.seed().workspaces[1].id.clone();
    let ws = sdk
        .workspaces()
        .invite_user(&beta, "user@test.com", &["editor"])
        .await
        .unwrap();
    assert_eq!(ws.id, beta);
    // The same email again replaces the roles instead of adding a second invite.
    sdk.workspaces()
        .invite_user(&beta, " USER@test.com ", &[])
        .await
        .unwrap();
    let invites = sdk.workspaces().list_invites(&beta).await.unwrap();
    assert_eq!(invites.len(), 1);
    assert_eq!(invites[0].roles, ["member"]);

    let user = plain_user(&mock).await;
    let inviting = user.invites().list().await.unwrap();
    assert_eq!(inviting.len(), 1);
    assert_eq!(inviting[0].id, beta);
    user.invites().accept_workspace(&beta).await.unwrap();
    assert!(user.invites().list().await.unwrap().is_empty());
    let members = sdk.workspaces().members(&beta).await.unwrap();
    assert!(members.iter().any(|m| m.user == mock.seed().user.id));
    // Answering again: there is no invite any more.
    let err = user.invites().decline_workspace(&beta).await.unwrap_err();
    assert_eq!(err.status(), Some(404));

    // Revoke: a second invite, then remove it by id; an unknown id is refused.
    sdk.workspaces()
        .invite_user(&beta, "later@test.com", &["member"])
        .await
        .unwrap();
    let pending = sdk.workspaces().list_invites(&beta).await.unwrap();
    sdk.workspaces()
        .revoke_invite(&beta, &pending[0].id)
        .await
        .unwrap();
    assert!(
        sdk.workspaces()
            .list_invites(&beta)
            .await
            .unwrap()
            .is_empty()
    );
    let err = sdk
        .workspaces()
        .revoke_invite(&beta, "nope")
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 404: Invitation not found");
}

#[tokio::test]
async fn members_roles_update_and_removal_by_workspace_admins_only() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let acme = mock.seed().workspaces[0].id.clone();
    let user_id = mock.seed().user.id.clone();
    let user = plain_user(&mock).await;
    let err = user
        .workspaces()
        .update_member_roles(&acme, &user_id, &["admin"])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    let changed = sdk
        .workspaces()
        .update_member_roles(&acme, &user_id, &["editor"])
        .await
        .unwrap();
    assert_eq!(changed.extra["updatedMember"]["roles"], json!(["editor"]));
    let removed = sdk
        .workspaces()
        .remove_member(&acme, &user_id)
        .await
        .unwrap();
    assert!(!removed.message.is_empty());
    let err = sdk
        .workspaces()
        .remove_member(&acme, &user_id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
}

#[tokio::test]
async fn lambdas_run_every_method_against_the_fake_target() {
    let mock = mock().await;
    let sdk = plain_user(&mock).await;
    let lambdas = sdk.lambdas();
    let got: Value = lambdas.get(LAMBDA_INTEGRATION_ID).await.unwrap();
    assert_eq!(got["method"], "GET");
    assert_eq!(got["user"], mock.seed().user.id.as_str());
    let posted: Value = lambdas
        .post(LAMBDA_INTEGRATION_ID, &json!({"n": 1}))
        .await
        .unwrap();
    assert_eq!(posted["body"]["n"], 1);
    let put: Value = lambdas
        .put(LAMBDA_INTEGRATION_ID, &json!({"n": 2}))
        .await
        .unwrap();
    assert_eq!(put["method"], "PUT");
    let deleted: Value = lambdas.delete(LAMBDA_INTEGRATION_ID).await.unwrap();
    assert_eq!(deleted["method"], "DELETE");
    let executed: Value = lambdas
        .execute(Method::PATCH, LAMBDA_INTEGRATION_ID, &[("q", "1")], None)
        .await
        .unwrap();
    assert_eq!(executed["query"]["q"], "1");
    let err = lambdas
        .get::<Value>("6650ffffffffffffffffffff")
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let err = anonymous(&mock)
        .lambdas()
        .get::<Value>(LAMBDA_INTEGRATION_ID)
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
}

#[tokio::test]
async fn the_fluent_entity_query_filters_sorts_skips_limits_and_selects() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let products = sdk.entities::<Value>("products");
    for (name, price) in [("a", 1), ("b", 2), ("c", 3), ("d", 4)] {
        products
            .create(&json!({"metadata": {"name": name, "price": price, "category": "tools"}}))
            .await
            .unwrap();
    }
    let found = products
        .where_("category", "tools")
        .sort("-metadata.price")
        .skip(1)
        .limit(2)
        .select(["name"])
        .find()
        .await
        .unwrap();
    let names: Vec<_> = found
        .iter()
        .map(|e| e.data["name"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(names, ["c", "b"]);
    assert!(found[0].data.get("price").is_none(), "{:?}", found[0].data);
    let first = products
        .query()
        .sort("metadata.price")
        .find_one()
        .await
        .unwrap();
    assert_eq!(first.unwrap().data["name"], "a");
    assert_eq!(
        products.where_("category", "tools").count().await.unwrap(),
        4
    );
    let err = plain_user(&mock)
        .await
        .entities::<Value>("audit")
        .query()
        .find()
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
}

#[tokio::test]
async fn blueprint_count_card_filters_and_refuses() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let products = sdk.blueprints().entities_of::<Value>("products");
    for category in ["tools", "tools", "toys"] {
        products
            .create(&json!({"metadata": {"name": "x", "category": category}}))
            .await
            .unwrap();
    }
    let n = sdk
        .blueprints()
        .get_count("products", &[("category", "tools")])
        .await
        .unwrap();
    assert_eq!(n, 2);
    let err = anonymous(&mock)
        .blueprints()
        .get_count("products", &[])
        .await
        .unwrap_err();
    assert!(err.is_unauthorized());
    let err = plain_user(&mock)
        .await
        .blueprints()
        .get_count("audit", &[])
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
}
