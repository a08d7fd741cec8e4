//! The user blueprints API against qelos-mock: definitions and the charts computed from the
//! stored entities.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use serde_json::{Value, json};
use support::*;

async fn seed_products(sdk: &qelos_sdk::QelosSdk) {
    let products = sdk.entities::<Value>("products");
    for (name, price, category) in [
        ("hammer", 10, Some("tools")),
        ("saw", 25, Some("tools")),
        ("ball", 5, Some("toys")),
        ("mystery", 7, None),
    ] {
        let mut metadata = json!({"name": name, "price": price});
        if let Some(c) = category {
            metadata["category"] = json!(c);
        }
        products
            .create(&json!({ "metadata": metadata }))
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn get_list_and_get_blueprint_read_the_definitions_and_none_for_unknown() {
    let mock = mock().await;
    let sdk = plain_user(&mock).await;
    let list = sdk.blueprints().get_list().await.unwrap();
    let keys: Vec<&str> = list.iter().map(|b| b.identifier.as_str()).collect();
    assert!(
        keys.contains(&"products") && keys.contains(&"audit"),
        "{keys:?}"
    );
    let products = sdk
        .blueprints()
        .get_blueprint("products")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(products.identifier, "products");
    assert!(
        products.extra.contains_key("properties"),
        "{:?}",
        products.extra
    );
    assert_eq!(sdk.blueprints().get_blueprint("nope").await.unwrap(), None);
    let err = anonymous(&mock).blueprints().get_list().await.unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
    let err = anonymous(&mock)
        .blueprints()
        .get_blueprint("products")
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
}

#[tokio::test]
async fn pie_chart_counts_entities_per_value_with_unknown_for_missing() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    seed_products(&sdk).await;
    let pie = sdk
        .blueprints()
        .get_pie_chart("products", &[("x", "category")])
        .await
        .unwrap();
    assert_eq!(
        pie["series"][0]["data"],
        json!([
            {"value": 1, "name": "Unknown"},
            {"value": 2, "name": "tools"},
            {"value": 1, "name": "toys"}
        ])
    );
    assert_eq!(pie["legend"]["data"], json!(["Unknown", "tools", "toys"]));
    // Filters narrow the entities first.
    let pie = sdk
        .blueprints()
        .get_pie_chart("products", &[("x", "category"), ("name", "saw")])
        .await
        .unwrap();
    assert_eq!(
        pie["series"][0]["data"],
        json!([{"value": 1, "name": "tools"}])
    );
    let err = sdk
        .blueprints()
        .get_pie_chart("products", &[("x", "colour")])
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 400: xAxis is required");
}

#[tokio::test]
async fn standard_chart_puts_group_keys_on_the_axis_and_counts_in_the_series() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    seed_products(&sdk).await;
    let bar = sdk
        .blueprints()
        .get_chart("products", "bar", &[("x", "category")])
        .await
        .unwrap();
    assert_eq!(bar["xAxis"]["data"], json!([null, "tools", "toys"]));
    assert_eq!(bar["series"][0]["data"], json!([1, 2, 1]));
    assert_eq!(bar["series"][0]["type"], "bar");
    let err = plain_user(&mock)
        .await
        .blueprints()
        .get_chart("audit", "line", &[("x", "name")])
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "Qelos answered 403: not permitted");
}

#[tokio::test]
async fn sum_card_totals_and_groups_a_number_property() {
    let mock = mock().await;
    let sdk = admin(&mock).await;
    seed_products(&sdk).await;
    let total = sdk
        .blueprints()
        .get_sum("products", "price", None, &[])
        .await
        .unwrap();
    assert_eq!(total.sum, 47.0);
    assert_eq!(total.groups, None);
    let grouped = sdk
        .blueprints()
        .get_sum("products", "price", Some("category"), &[])
        .await
        .unwrap();
    let groups: Vec<(Value, f64)> = grouped
        .groups
        .unwrap()
        .into_iter()
        .map(|g| (g.group, g.sum))
        .collect();
    assert_eq!(
        groups,
        [
            (Value::Null, 7.0),
            (json!("tools"), 35.0),
            (json!("toys"), 5.0)
        ]
    );
    assert_eq!(grouped.sum, 47.0);
    let filtered = sdk
        .blueprints()
        .get_sum("products", "price", None, &[("category", "tools")])
        .await
        .unwrap();
    assert_eq!(filtered.sum, 35.0);
    let err = sdk
        .blueprints()
        .get_sum("products", "name", None, &[])
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Qelos answered 400: sum property must be of type number"
    );
    let err = anonymous(&mock)
        .blueprints()
        .get_sum("products", "price", None, &[])
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
}
