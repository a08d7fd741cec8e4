//! Blueprint entities against qelos-mock.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use qelos_sdk::{EntityQuery, Error};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use support::*;

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Product {
    name: String,
    price: f64,
}

#[tokio::test]
async fn typed_crud_round_trip() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let products = sdk.entities::<Product>("products");
    let created = products
        .create(&Product {
            name: "Widget".into(),
            price: 10.0,
        })
        .await
        .unwrap();
    assert!(!created.id.is_empty());
    assert_eq!(
        created.data,
        Product {
            name: "Widget".into(),
            price: 10.0
        }
    );
    let got = products.get(&created.id).await.unwrap();
    assert_eq!(got.data.name, "Widget");
    let updated = products
        .update(&created.id, &json!({"price": 12}))
        .await
        .unwrap();
    assert_eq!(updated.data.price, 12.0);
    assert_eq!(products.count(&EntityQuery::new()).await.unwrap(), 1);
    products.remove(&created.id).await.unwrap();
    let gone = products.get(&created.id).await.unwrap_err();
    assert_eq!(
        gone,
        Error::Api {
            status: 404,
            message: "entity not found".into()
        }
    );
}

#[tokio::test]
async fn untyped_entities_keep_every_field() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let created = sdk
        .entities::<Value>("products")
        .create(&json!({"name": "A"}))
        .await
        .unwrap();
    assert_eq!(created.data["metadata"]["name"], "A");
    assert_eq!(created.data["blueprint"], "products");
    let round = serde_json::to_value(&created).unwrap();
    assert_eq!(round["id"], json!(created.id));
}

#[tokio::test]
async fn query_filters_sorts_and_pages() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let products = sdk.entities::<Product>("products");
    for (name, price) in [("a", 3.0), ("b", 1.0), ("c", 2.0)] {
        products
            .create(&Product {
                name: name.into(),
                price,
            })
            .await
            .unwrap();
    }
    let sorted = products
        .list(&EntityQuery::new().sort("-metadata.price"))
        .await
        .unwrap();
    let names: Vec<_> = sorted.iter().map(|e| e.data.name.as_str()).collect();
    assert_eq!(names, ["a", "c", "b"]);
    let page2 = products
        .list(&EntityQuery::new().sort("metadata.price").limit(2).page(2))
        .await
        .unwrap();
    assert_eq!(page2.len(), 1);
    assert_eq!(page2[0].data.name, "a");
    let filtered = products
        .list(&EntityQuery::new().where_("name", "c"))
        .await
        .unwrap();
    assert_eq!(filtered.len(), 1);
    assert_eq!(
        products
            .count(&EntityQuery::new().where_("name", "b"))
            .await
            .unwrap(),
        1
    );
}

#[tokio::test]
async fn permissions_and_validation_are_typed_errors() {
    let mock = mock().await;
    let user = plain_user(&mock).await;
    let denied = user
        .entities::<Value>("audit")
        .list(&EntityQuery::new())
        .await
        .unwrap_err();
    assert_eq!(
        denied,
        Error::Api {
            status: 403,
            message: "not permitted".into()
        }
    );
    let admin = admin(&mock).await;
    let invalid = admin
        .entities::<Value>("products")
        .create(&json!({"name": "x", "price": "cheap"}))
        .await
        .unwrap_err();
    assert_eq!(
        invalid,
        Error::Api {
            status: 406,
            message: "Property price must be a number".into()
        }
    );
    let missing = admin
        .entities::<Value>("nope")
        .list(&EntityQuery::new())
        .await
        .unwrap_err();
    assert_eq!(missing.status(), Some(404));
}

#[tokio::test]
async fn a_foreign_workspace_entity_is_out_of_scope() {
    let mock = mock().await;
    let admin = admin(&mock).await; // active: Acme
    let beta = mock.seed().workspaces[1].id.clone();
    let mut req = qelos_mock::MintRequest::for_user("test@test.com");
    req.workspace = Some(beta);
    let t = mock.mint_tokens(&req);
    let in_beta = anonymous(&mock).with_auth(
        qelos_sdk::Auth::OAuth(qelos_sdk::TokenPair::new(Some(t.access.into()), None)),
        None,
    );
    let e = in_beta
        .entities::<Value>("products")
        .create(&json!({"name": "beta only"}))
        .await
        .unwrap();
    // Admins see every workspace; a plain member of Acme does not see Beta's entity.
    assert!(admin.entities::<Value>("products").get(&e.id).await.is_ok());
    let user = plain_user(&mock).await;
    assert_eq!(
        user.entities::<Value>("products")
            .get(&e.id)
            .await
            .unwrap_err()
            .status(),
        Some(404)
    );
}

#[tokio::test]
async fn responses_are_flat_unless_the_query_asks_otherwise() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let products = sdk.entities::<Value>("products");
    products.create(&json!({"name": "flat?"})).await.unwrap();
    let flat = products.list(&EntityQuery::new()).await.unwrap();
    assert_eq!(flat[0].data["name"], "flat?");
    let wrapped = products
        .list(&EntityQuery::new().flat(false))
        .await
        .unwrap();
    assert!(wrapped[0].data.get("name").is_none());
    assert_eq!(wrapped[0].data["metadata"]["name"], "flat?");
}

#[tokio::test]
async fn a_typed_entity_keeps_the_fields_it_does_not_name() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let created = sdk
        .entities::<Product>("products")
        .create(&Product {
            name: "Kept".into(),
            price: 5.0,
        })
        .await
        .unwrap();
    assert_eq!(created.extra["blueprint"], "products");
    assert_eq!(created.extra["metadata"]["price"], json!(5.0));
    let raw = sdk
        .entities::<Value>("products")
        .get(&created.id)
        .await
        .unwrap();
    let typed = sdk
        .entities::<Product>("products")
        .get(&created.id)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(&typed).unwrap(),
        serde_json::to_value(&raw).unwrap(),
        "serialising gives the API's JSON back"
    );
    assert_eq!(raw.data["id"], json!(created.id));
}

#[tokio::test]
async fn a_foreign_workspaces_entity_cannot_be_changed_or_removed() {
    let mock = mock().await;
    let beta = mock.seed().workspaces[1].id.clone();
    let mut req = qelos_mock::MintRequest::for_user("test@test.com");
    req.workspace = Some(beta);
    let t = mock.mint_tokens(&req);
    let in_beta = anonymous(&mock).with_auth(
        qelos_sdk::Auth::OAuth(qelos_sdk::TokenPair::new(Some(t.access.into()), None)),
        None,
    );
    let e = in_beta
        .entities::<Value>("products")
        .create(&json!({"name": "beta only"}))
        .await
        .unwrap();
    let user = plain_user(&mock).await.entities::<Value>("products");
    let not_found = Error::Api {
        status: 404,
        message: "entity not found".into(),
    };
    assert_eq!(
        user.update(&e.id, &json!({"name": "x"})).await.unwrap_err(),
        not_found
    );
    assert_eq!(user.remove(&e.id).await.unwrap_err(), not_found);
    assert!(user.list(&EntityQuery::new()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_caller_without_a_workspace_is_refused_workspace_scoped_entities() {
    let mock = mock().await;
    let base = anonymous(&mock);
    let signed_up = base
        .oauth_signup(&qelos_sdk::Signup::new(
            "loner@test.com",
            qelos_sdk::Secret::new("longenough"),
            "loner@test.com",
            "Lone",
        ))
        .await
        .unwrap();
    let loner = base.with_auth(qelos_sdk::Auth::OAuth(signed_up.tokens), None);
    assert_eq!(
        loner
            .entities::<Value>("products")
            .list(&EntityQuery::new())
            .await
            .unwrap_err(),
        Error::Api {
            status: 403,
            message: "user is not connected to a workspace".into()
        }
    );
}

#[tokio::test]
async fn the_forbidden_blueprint_refuses_every_operation() {
    let mock = mock().await;
    let audit = plain_user(&mock).await.entities::<Value>("audit");
    let forbidden = Error::Api {
        status: 403,
        message: "not permitted".into(),
    };
    assert_eq!(audit.create(&json!({"a": 1})).await.unwrap_err(), forbidden);
    assert_eq!(audit.get("any").await.unwrap_err(), forbidden);
    assert_eq!(
        audit.count(&EntityQuery::new()).await.unwrap_err(),
        forbidden
    );
}

#[tokio::test]
async fn counting_needs_a_signed_in_caller() {
    let mock = mock().await;
    let err = anonymous(&mock)
        .entities::<Value>("products")
        .count(&EntityQuery::new())
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn entity_outages_are_typed() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    let products = sdk.entities::<Product>("products");
    mock.set_fault(
        "GET /api/blueprints/{key}/entities",
        qelos_mock::Fault::GarbageJson,
    );
    let garbage = products.list(&EntityQuery::new()).await.unwrap_err();
    assert!(
        matches!(garbage, Error::Decode { status: 200, .. }),
        "{garbage:?}"
    );
    mock.set_fault(
        "GET /api/blueprints/{key}/entities/{id}",
        qelos_mock::Fault::Status(502),
    );
    let bad_gateway = products.get("x").await.unwrap_err();
    assert_eq!(bad_gateway.status(), Some(502));
    assert!(bad_gateway.is_unavailable());
}
