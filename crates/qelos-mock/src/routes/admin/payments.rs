//! Payments service: plans (the admin CRUD, one plan for signed-in users, the public list),
//! coupons, subscriptions (`/me` included), invoices and the tenant's payments configuration.
//! Checkout, coupon validation and the fake provider live in [`super::checkout`].
//!
//! A non-admin's own subscriptions are billed to the user (`billableEntityType: "user"`, their
//! id), also while a workspace is active.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::{get, post, put};
use serde_json::{Map, Value, json};

use super::checkout::{active_subscription, checkout, validate_coupon as validate_coupon_code};
use super::{
    Guard, Mock, Query, Spec, Who, check, crud_create, crud_list, crud_remove, crud_routes,
    crud_update, new_doc,
};
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

pub(super) static PLANS: Spec = Spec {
    coll: "plans",
    key: "_id",
    read: Guard::PaymentsPrivileged,
    read_one: Guard::PaymentsAuthenticated,
    write: Guard::PaymentsPrivileged,
    not_found: plan_not_found,
    bad_body: "failed to create plan",
    validate: Some(validate_plan),
};

pub(super) static COUPONS: Spec = Spec {
    coll: "coupons",
    key: "_id",
    read: Guard::PaymentsPrivileged,
    read_one: Guard::PaymentsPrivileged,
    write: Guard::PaymentsPrivileged,
    not_found: coupon_not_found,
    bad_body: "failed to create coupon",
    validate: Some(validate_coupon),
};

pub(super) static INVOICES: Spec = Spec {
    coll: "invoices",
    key: "_id",
    read: Guard::PaymentsAuthenticated,
    read_one: Guard::PaymentsAuthenticated,
    write: Guard::PaymentsPrivileged,
    not_found: invoice_not_found,
    bad_body: "",
    validate: None,
};

pub(super) const SUBS: &str = "subscriptions";

pub(super) fn routes(r: Router<Arc<MockInner>>) -> Router<Arc<MockInner>> {
    // Coupons: the generic CRUD. Plans: the generic CRUD, except that `GET /api/plans/{id}` is
    // open to every signed-in user (an inactive plan is `404` to them).
    let r = crud_routes(r, "/api/coupons", &COUPONS);
    let spec = &PLANS;
    r.route(
        "/api/plans",
        get(move |State(m): Mock, h: HeaderMap, q: Query| async move {
            crud_list(&m, &h, &q, spec)
        })
        .post(move |State(m): Mock, h: HeaderMap, b: Bytes| async move {
            crud_create(&m, &h, &b, spec, |_, body| {
                validate_plan(body).map_err(|msg| message(StatusCode::BAD_REQUEST, msg))
            })
        }),
    )
    .route("/api/plans/public", get(public_plans))
    .route(
        "/api/plans/{key}",
        get(get_plan)
            .put(
                move |State(m): Mock, h: HeaderMap, Path(k): Path<String>, b: Bytes| async move {
                    crud_update(&m, &h, &k, &b, spec)
                },
            )
            .delete(
                move |State(m): Mock, h: HeaderMap, Path(k): Path<String>| async move {
                    crud_remove(&m, &h, &k, spec)
                },
            ),
    )
    .route("/api/coupons/validate", post(validate_coupon_code))
    .route(
        "/api/subscriptions",
        get(list_subscriptions).post(create_subscription),
    )
    .route("/api/subscriptions/me", get(my_subscription))
    .route("/api/subscriptions/{id}", get(get_subscription))
    .route("/api/subscriptions/{id}/cancel", put(cancel_subscription))
    .route(
        "/api/subscriptions/{id}/dynamic-amount",
        put(dynamic_amount),
    )
    .route("/api/invoices", get(list_invoices))
    .route("/api/invoices/{id}", get(get_invoice))
    .route("/api/checkout", post(checkout))
    .route(
        "/api/payments/configuration",
        get(get_configuration).put(update_configuration),
    )
}

pub(super) fn body_map(body: &[u8]) -> Map<String, Value> {
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

/// `GET /api/invoices/{id}`: `403 access denied` for someone else's.
async fn get_invoice(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let who = match check(&mock, &headers, INVOICES.read_one) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match mock.admin.find(INVOICES.coll, who.tenant(), "_id", &id) {
        Some(i) if visible(&who, &i) => who.finish(ok(i)),
        Some(_) => who.finish(message(StatusCode::FORBIDDEN, "access denied")),
        None => who.finish((INVOICES.not_found)()),
    }
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

/// Who a new subscription bills: an admin may name any entity (default: themselves as a user);
/// anyone else bills themselves.
pub(super) fn billable(who: &Who, m: &Map<String, Value>) -> (String, String) {
    if who.privileged {
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
    }
}

/// A pending subscription for `plan` (or the refusal).
pub(super) fn pending(
    mock: &MockInner,
    who: &Who,
    m: &Map<String, Value>,
) -> Result<Value, Response> {
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
    let (kind, entity) = billable(who, m);
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

/// `GET /api/plans/public` (no sign-in; the `tenant` header): the active plans, their public
/// fields only, by `sortOrder`.
async fn public_plans(State(mock): Mock, headers: HeaderMap) -> Response {
    const PUBLIC: [&str; 11] = [
        "_id",
        "name",
        "description",
        "features",
        "monthlyPrice",
        "yearlyPrice",
        "currency",
        "sortOrder",
        "limits",
        "metadata",
        "dynamic",
    ];
    let tenant = crate::util::tenant(&headers);
    let mut plans: Vec<Value> = mock
        .admin
        .list(PLANS.coll, &tenant)
        .into_iter()
        .filter(|p| p["isActive"] != false)
        .map(|p| {
            let mut out = Map::new();
            for k in PUBLIC {
                if let Some(v) = p.get(k) {
                    out.insert(k.to_owned(), v.clone());
                }
            }
            Value::Object(out)
        })
        .collect();
    plans.sort_by(|a, b| {
        let key = |p: &Value| p["sortOrder"].as_f64().unwrap_or(0.0);
        key(a).total_cmp(&key(b))
    });
    ok(Value::from(plans))
}

/// `GET /api/plans/{id}` (signed in): an inactive plan is `404 plan not found` to non-admins.
async fn get_plan(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let who = match check(&mock, &headers, PLANS.read_one) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match mock.admin.find(PLANS.coll, who.tenant(), "_id", &id) {
        Some(p) if who.privileged || p["isActive"] != false => who.finish(ok(p)),
        _ => who.finish(plan_not_found()),
    }
}

/// `GET /api/subscriptions/me`: the caller's active (or trialing) subscription, or `null`.
async fn my_subscription(State(mock): Mock, headers: HeaderMap) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsAuthenticated) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let found = active_subscription(&mock, who.tenant(), "user", &who.p.user_id);
    who.finish(ok(found.unwrap_or(Value::Null)))
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
