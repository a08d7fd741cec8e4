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
