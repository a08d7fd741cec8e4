//! Payments service: plans, coupons, subscriptions, invoices, checkout and the tenant's
//! payments configuration. The payment provider is faked: checkout answers a deterministic
//! `checkoutUrl` on the mock itself and never charges; no invoice is ever issued by it.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};

use super::{Guard, Mock, Query, Spec, Who, check, crud_get, crud_routes, new_doc};
use crate::MockInner;
use crate::util::{message, ok};

fn plan_not_found() -> Response {
    message(StatusCode::NOT_FOUND, "plan not found")
}
fn coupon_not_found() -> Response {
    message(StatusCode::NOT_FOUND, "coupon not found")
}
fn subscription_not_found() -> Response {
    message(StatusCode::NOT_FOUND, "subscription not found")
}
fn invoice_not_found() -> Response {
    message(StatusCode::NOT_FOUND, "invoice not found")
}

fn validate_plan(m: &mut Map<String, Value>) -> Result<(), &'static str> {
    if m.get("name")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("name is required");
    }
    m.entry("isActive").or_insert(Value::Bool(true));
    m.entry("features").or_insert(json!([]));
    m.entry("currency").or_insert(json!("USD"));
    Ok(())
}

fn validate_coupon(m: &mut Map<String, Value>) -> Result<(), &'static str> {
    if m.get("code")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("code is required");
    }
    m.entry("isActive").or_insert(Value::Bool(true));
    m.insert("currentRedemptions".into(), json!(0));
    Ok(())
}

static PLANS: Spec = Spec {
    coll: "plans",
    key: "_id",
    read: Guard::PaymentsPrivileged,
    read_one: Guard::PaymentsAuthenticated,
    write: Guard::PaymentsPrivileged,
    not_found: plan_not_found,
    bad_body: "failed to create plan",
    validate: Some(validate_plan),
};

static COUPONS: Spec = Spec {
    coll: "coupons",
    key: "_id",
    read: Guard::PaymentsPrivileged,
    read_one: Guard::PaymentsPrivileged,
    write: Guard::PaymentsPrivileged,
    not_found: coupon_not_found,
    bad_body: "failed to create coupon",
    validate: Some(validate_coupon),
};

static INVOICES: Spec = Spec {
    coll: "invoices",
    key: "_id",
    read: Guard::PaymentsAuthenticated,
    read_one: Guard::PaymentsAuthenticated,
    write: Guard::PaymentsPrivileged,
    not_found: invoice_not_found,
    bad_body: "",
    validate: None,
};

const SUBS: &str = "subscriptions";

pub(super) fn routes(r: Router<Arc<MockInner>>) -> Router<Arc<MockInner>> {
    // Plans and coupons: the generic CRUD, except that `GET /api/plans/{id}` is open to every
    // signed-in user and `DELETE` deactivates.
    let r = crud_routes(r, "/api/coupons", &COUPONS);
    let r = crud_routes(r, "/api/plans", &PLANS);
    r.route(
        "/api/subscriptions",
        get(list_subscriptions).post(create_subscription),
    )
    .route("/api/subscriptions/{id}", get(get_subscription))
    .route("/api/subscriptions/{id}/cancel", put(cancel_subscription))
    .route(
        "/api/subscriptions/{id}/dynamic-amount",
        put(dynamic_amount),
    )
    .route("/api/invoices", get(list_invoices))
    .route(
        "/api/invoices/{id}",
        get(
            |State(m): Mock, h: HeaderMap, Path(k): Path<String>| async move {
                crud_get(&m, &h, &k, &INVOICES)
            },
        ),
    )
    .route("/api/checkout", post(checkout))
    .route(
        "/api/payments/configuration",
        get(get_configuration).put(update_configuration),
    )
}

fn body_map(body: &[u8]) -> Map<String, Value> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// A non-admin sees only the subscriptions billed to them.
fn visible(who: &Who, s: &Value) -> bool {
    who.privileged || s["billableEntityId"] == who.p.user_id.as_str()
}

/// `GET /api/invoices?billableEntityType=&billableEntityId=&status=`: a non-admin sees the
/// invoices billed to them only.
async fn list_invoices(State(mock): Mock, headers: HeaderMap, q: Query) -> Response {
    let who = match check(&mock, &headers, INVOICES.read) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let out: Vec<Value> = mock
        .admin
        .list(INVOICES.coll, who.tenant())
        .into_iter()
        .filter(|i| visible(&who, i))
        .filter(|i| {
            ["billableEntityType", "billableEntityId", "status"]
                .iter()
                .all(|k| q.get(*k).is_none_or(|v| i[*k] == v.as_str()))
        })
        .collect();
    who.finish(ok(Value::from(out)))
}

/// `GET /api/subscriptions?billableEntityType=&billableEntityId=&status=`.
async fn list_subscriptions(State(mock): Mock, headers: HeaderMap, q: Query) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsAuthenticated) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let out: Vec<Value> = mock
        .admin
        .list(SUBS, who.tenant())
        .into_iter()
        .filter(|s| visible(&who, s))
        .filter(|s| {
            ["billableEntityType", "billableEntityId", "status"]
                .iter()
                .all(|k| q.get(*k).is_none_or(|v| s[*k] == v.as_str()))
        })
        .collect();
    who.finish(ok(Value::from(out)))
}

/// `GET /api/subscriptions/{id}`: `403 access denied` for someone else's.
async fn get_subscription(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsAuthenticated) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match mock.admin.find(SUBS, who.tenant(), "_id", &id) {
        Some(s) if visible(&who, &s) => who.finish(ok(s)),
        Some(_) => who.finish(message(StatusCode::FORBIDDEN, "access denied")),
        None => who.finish(subscription_not_found()),
    }
}

/// A pending subscription for `plan` (or the refusal).
fn pending(mock: &MockInner, who: &Who, m: &Map<String, Value>) -> Result<Value, Response> {
    let plan_id = m.get("planId").and_then(Value::as_str);
    let cycle = m.get("billingCycle").and_then(Value::as_str);
    let (Some(plan_id), Some(cycle)) = (plan_id, cycle) else {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "planId and billingCycle are required",
        ));
    };
    if mock
        .admin
        .find(PLANS.coll, who.tenant(), "_id", plan_id)
        .is_none()
    {
        return Err(plan_not_found());
    }
    let (kind, entity) = if who.privileged {
        (
            m.get("billableEntityType")
                .and_then(Value::as_str)
                .unwrap_or("user")
                .to_owned(),
            m.get("billableEntityId")
                .and_then(Value::as_str)
                .map_or_else(|| who.p.user_id.clone(), str::to_owned),
        )
    } else {
        ("user".to_owned(), who.p.user_id.clone())
    };
    let mut doc = Map::new();
    doc.insert("planId".into(), json!(plan_id));
    doc.insert("billingCycle".into(), json!(cycle));
    doc.insert("billableEntityType".into(), json!(kind));
    doc.insert("billableEntityId".into(), json!(entity));
    doc.insert("status".into(), json!("pending"));
    if who.privileged
        && let Some(a) = m.get("dynamicAmount").or_else(|| m.get("amount"))
    {
        doc.insert("dynamicAmount".into(), a.clone());
    }
    if let Some(c) = m.get("couponCode") {
        doc.insert("couponCode".into(), c.clone());
    }
    let doc = new_doc(doc, who.tenant());
    mock.admin.insert(SUBS, doc.clone());
    Ok(doc)
}

/// `POST /api/subscriptions`: a pending subscription; `400 planId and billingCycle are required`.
async fn create_subscription(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsAuthenticated) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match pending(&mock, &who, &body_map(&body)) {
        Ok(doc) => who.finish(ok(doc)),
        Err(r) => who.finish(r),
    }
}

/// `PUT /api/subscriptions/{id}/cancel`.
async fn cancel_subscription(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsAuthenticated) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match mock.admin.find(SUBS, who.tenant(), "_id", &id) {
        Some(s) if visible(&who, &s) => {
            let mut changes = Map::new();
            changes.insert("status".into(), json!("canceled"));
            let doc = mock.admin.update(SUBS, who.tenant(), "_id", &id, &changes);
            who.finish(ok(doc.unwrap_or(Value::Null)))
        }
        Some(_) => who.finish(message(StatusCode::FORBIDDEN, "access denied")),
        None => who.finish(subscription_not_found()),
    }
}

/// `PUT /api/subscriptions/{id}/dynamic-amount` (admins): `400 amount must be a positive number`.
async fn dynamic_amount(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let body = body_map(&body);
    let Some(amount) = body
        .get("amount")
        .and_then(Value::as_f64)
        .filter(|a| *a > 0.0)
    else {
        return who.finish(message(
            StatusCode::BAD_REQUEST,
            "amount must be a positive number",
        ));
    };
    let mut changes = Map::new();
    changes.insert("dynamicAmount".into(), json!(amount));
    match mock.admin.update(SUBS, who.tenant(), "_id", &id, &changes) {
        Some(doc) => who.finish(ok(doc)),
        None => who.finish(subscription_not_found()),
    }
}

/// `POST /api/checkout`: a pending subscription and the fake provider's checkout URL.
async fn checkout(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsAuthenticated) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let body = body_map(&body);
    if body.get("planId").is_none() && body.get("subscriptionId").is_none() {
        return who.finish(message(
            StatusCode::BAD_REQUEST,
            "subscriptionId or planId is required",
        ));
    }
    if !matches!(
        body.get("billingCycle").and_then(Value::as_str),
        Some("monthly" | "yearly")
    ) {
        return who.finish(message(
            StatusCode::BAD_REQUEST,
            "billingCycle must be monthly or yearly",
        ));
    }
    let sub = match pending(&mock, &who, &body) {
        Ok(s) => s,
        Err(r) => return who.finish(r),
    };
    let id = sub["_id"].as_str().unwrap_or_default().to_owned();
    who.finish(ok(json!({
        "subscriptionId": id,
        "checkoutUrl": format!("{}/__mock/checkout/{id}", mock.url),
    })))
}

const CONFIG_KEY: &str = "payments-configuration";

/// `GET /api/payments/configuration`: the record, or an empty one.
async fn get_configuration(State(mock): Mock, headers: HeaderMap) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let rec = mock
        .admin
        .find("paymentsConfiguration", who.tenant(), "key", CONFIG_KEY)
        .unwrap_or_else(|| json!({"key": CONFIG_KEY, "metadata": {}}));
    who.finish(ok(json!({"key": rec["key"], "metadata": rec["metadata"]})))
}

/// `PUT /api/payments/configuration` `{metadata}`: merged into the stored metadata.
async fn update_configuration(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let body = body_map(&body);
    let coll = "paymentsConfiguration";
    let mut metadata = mock
        .admin
        .remove(coll, who.tenant(), "key", CONFIG_KEY)
        .and_then(|r| r["metadata"].as_object().cloned())
        .unwrap_or_default();
    if let Some(changes) = body.get("metadata").and_then(Value::as_object) {
        for (k, v) in changes {
            metadata.insert(k.clone(), v.clone());
        }
    }
    let rec = json!({"key": CONFIG_KEY, "tenant": who.tenant(), "metadata": metadata});
    mock.admin.insert(coll, rec);
    who.finish(ok(json!({"key": CONFIG_KEY, "metadata": metadata})))
}
