//! Checkout, coupon validation and the fake payment provider.
//!
//! `POST /api/checkout` refuses as Qelos's checkout service does (`{code, message}` bodies) and
//! answers a `checkoutUrl` on the mock itself: `/__mock/checkout/{subscriptionId}`. Nothing is
//! charged. Opening that URL (or [`crate::MockServer::complete_checkout`]) plays the provider's
//! successful payment: the subscription becomes `active`, a coupon is redeemed once, and one
//! `paid` invoice is issued for the plan's price of the billing cycle (or the dynamic amount),
//! after the coupon's discount, in the plan's currency. The outcome depends on nothing but the
//! stored documents.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::payments::{COUPONS, PLANS, SUBS, body_map, pending};
use super::{Guard, Mock, Who, check, new_doc};
use crate::MockInner;
use crate::util::{message, now_ms, ok, parse_iso};

/// A refusal of the payments service with its error `code`.
pub(super) fn coded(status: StatusCode, code: &str, msg: &str) -> Response {
    crate::util::json_response(status, &json!({ "code": code, "message": msg }))
}

/// `calculateDiscountedPrice`: percentage or fixed, rounded to cents, never below 0.
fn discounted(base: f64, coupon: &Value) -> f64 {
    let value = coupon["discountValue"].as_f64().unwrap_or(0.0);
    match coupon["discountType"].as_str() {
        Some("percentage") => (base * (1.0 - value / 100.0) * 100.0).round() / 100.0,
        Some("fixed") => ((base - value) * 100.0).round().max(0.0) / 100.0,
        _ => base,
    }
}

/// The coupon `code` if it may be redeemed now (for `plan_id`), else the coded 400.
pub(super) fn valid_coupon(
    mock: &MockInner,
    tenant: &str,
    code: &str,
    plan_id: Option<&str>,
) -> Result<Value, Response> {
    let bad = |c: &str, m: &str| coded(StatusCode::BAD_REQUEST, c, m);
    let Some(coupon) = mock
        .admin
        .list(COUPONS.coll, tenant)
        .into_iter()
        .find(|c| c["code"] == code && c["isActive"] != false)
    else {
        return Err(bad("COUPON_NOT_FOUND", "coupon not found or inactive"));
    };
    let now = now_ms();
    let at = |k: &str| coupon[k].as_str().and_then(parse_iso);
    if at("validFrom").is_some_and(|t| now < t) {
        return Err(bad("COUPON_NOT_YET_VALID", "coupon is not yet valid"));
    }
    if at("validUntil").is_some_and(|t| now > t) {
        return Err(bad("COUPON_EXPIRED", "coupon has expired"));
    }
    if let Some(max) = coupon["maxRedemptions"].as_u64()
        && coupon["currentRedemptions"].as_u64().unwrap_or(0) >= max
    {
        return Err(bad(
            "COUPON_MAX_REDEMPTIONS",
            "coupon has reached maximum redemptions",
        ));
    }
    if let (Some(plan), Some(plans)) = (plan_id, coupon["applicablePlanIds"].as_array())
        && !plans.is_empty()
        && !plans.iter().any(|p| p == plan)
    {
        return Err(bad(
            "COUPON_NOT_APPLICABLE",
            "coupon is not applicable to this plan",
        ));
    }
    Ok(coupon)
}

/// `POST /api/coupons/validate` `{code, planId?}` (signed in): the coupon, or the coded 400.
pub(super) async fn validate_coupon(
    State(mock): Mock,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsAuthenticated) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let body = body_map(&body);
    let Some(code) = body
        .get("code")
        .and_then(Value::as_str)
        .filter(|c| !c.is_empty())
    else {
        return who.finish(message(StatusCode::BAD_REQUEST, "coupon code is required"));
    };
    let plan_id = body.get("planId").and_then(Value::as_str);
    match valid_coupon(&mock, who.tenant(), code, plan_id) {
        Ok(c) => who.finish(ok(c)),
        Err(r) => who.finish(r),
    }
}

/// The active (or trialing) subscription billed to `(kind, id)`.
pub(super) fn active_subscription(
    mock: &MockInner,
    tenant: &str,
    kind: &str,
    id: &str,
) -> Option<Value> {
    mock.admin.list(SUBS, tenant).into_iter().find(|s| {
        s["billableEntityType"] == kind
            && s["billableEntityId"] == id
            && matches!(s["status"].as_str(), Some("active" | "trialing"))
    })
}

/// `POST /api/checkout`: a pending subscription (or the given one) and the fake provider's
/// checkout URL.
pub(super) async fn checkout(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let who = match check(&mock, &headers, Guard::PaymentsAuthenticated) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match start(&mock, &who, &body_map(&body)) {
        Ok(v) => who.finish(ok(v)),
        Err(r) => who.finish(r),
    }
}

fn start(mock: &MockInner, who: &Who, body: &Map<String, Value>) -> Result<Value, Response> {
    let bad = |c: &str, m: &str| coded(StatusCode::BAD_REQUEST, c, m);
    let sub_id = body.get("subscriptionId").and_then(Value::as_str);
    if body.get("planId").is_none() && sub_id.is_none() {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "subscriptionId or planId is required",
        ));
    }
    if let Some(cycle) = body.get("billingCycle")
        && !matches!(cycle.as_str(), Some("monthly" | "yearly"))
    {
        return Err(message(
            StatusCode::BAD_REQUEST,
            "billingCycle must be monthly or yearly",
        ));
    }
    let tenant = who.tenant();
    // Admin convenience: a plan and an `amount` make a pending subscription with that dynamic
    // amount, which is then checked out.
    let created;
    let mut sub_id = sub_id;
    if sub_id.is_none() && who.privileged && body.get("amount").is_some_and(|a| !a.is_null()) {
        if body.get("billingCycle").is_none() {
            return Err(message(StatusCode::BAD_REQUEST, "billingCycle is required"));
        }
        created = pending(mock, who, body)?;
        sub_id = created["_id"].as_str();
    }
    let plan_of = |id: &str| {
        mock.admin
            .find(PLANS.coll, tenant, "_id", id)
            .ok_or_else(|| coded(StatusCode::NOT_FOUND, "PLAN_NOT_FOUND", "plan not found"))
    };
    let (sub, plan) = if let Some(id) = sub_id {
        let Some(sub) = mock.admin.find(SUBS, tenant, "_id", id) else {
            return Err(coded(
                StatusCode::NOT_FOUND,
                "SUBSCRIPTION_NOT_FOUND",
                "subscription not found",
            ));
        };
        if sub["status"] != "pending" {
            return Err(bad(
                "SUBSCRIPTION_NOT_PENDING",
                "Subscription is not in pending status",
            ));
        }
        let plan = plan_of(sub["planId"].as_str().unwrap_or_default())?;
        (Some(sub), plan)
    } else {
        let plan = plan_of(
            body.get("planId")
                .and_then(Value::as_str)
                .unwrap_or_default(),
        )?;
        if plan["dynamic"] == true {
            return Err(bad(
                "DYNAMIC_PLAN_REQUIRES_SUBSCRIPTION",
                "Dynamic plans require a pre-created subscription; ask an admin to set the amount first",
            ));
        }
        if body.get("billingCycle").is_none() {
            return Err(message(StatusCode::BAD_REQUEST, "billingCycle is required"));
        }
        (None, plan)
    };
    if plan["isActive"] == false {
        return Err(bad(
            "PLAN_NOT_ACTIVE",
            "This plan is not currently available",
        ));
    }
    if plan["dynamic"] == true
        && sub
            .as_ref()
            .and_then(|s| s["dynamicAmount"].as_f64())
            .is_none_or(|a| a <= 0.0)
    {
        return Err(bad(
            "DYNAMIC_AMOUNT_NOT_SET",
            "Admin must set the dynamic amount on this subscription before checkout",
        ));
    }
    let plan_id = plan["_id"].as_str().unwrap_or_default();
    if let Some(code) = body.get("couponCode").and_then(Value::as_str) {
        valid_coupon(mock, tenant, code, Some(plan_id))?;
    }
    let (kind, entity) = match &sub {
        Some(s) => (
            s["billableEntityType"]
                .as_str()
                .unwrap_or("user")
                .to_owned(),
            s["billableEntityId"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ),
        None => super::payments::billable(who, body),
    };
    if let Some(active) = active_subscription(mock, tenant, &kind, &entity) {
        if body.get("reset") == Some(&Value::Bool(true)) {
            let mut changes = Map::new();
            changes.insert("status".into(), json!("canceled"));
            let id = active["_id"].as_str().unwrap_or_default();
            mock.admin.update(SUBS, tenant, "_id", id, &changes);
        } else {
            let mut body = Map::new();
            body.insert("code".into(), json!("ACTIVE_SUBSCRIPTION_EXISTS"));
            body.insert(
                "message".into(),
                json!("An active subscription already exists"),
            );
            body.insert("existingSubscriptionId".into(), active["_id"].clone());
            return Err(crate::util::json_response(
                StatusCode::CONFLICT,
                &Value::Object(body),
            ));
        }
    }
    let sub = match sub {
        Some(mut s) => {
            // A coupon given at checkout applies to the pre-created subscription.
            if let Some(c) = body.get("couponCode") {
                let mut changes = Map::new();
                changes.insert("couponCode".into(), c.clone());
                let id = s["_id"].as_str().unwrap_or_default().to_owned();
                s = mock
                    .admin
                    .update(SUBS, tenant, "_id", &id, &changes)
                    .unwrap_or(s);
            }
            s
        }
        None => pending(mock, who, body)?,
    };
    let id = sub["_id"].as_str().unwrap_or_default().to_owned();
    Ok(json!({
        "subscriptionId": id,
        "checkoutUrl": format!("{}/__mock/checkout/{id}", mock.url),
    }))
}

/// The fake provider's successful payment of pending subscription `id` in any tenant:
/// `{subscription, invoice}`, or `None` when there is no such pending subscription.
pub(crate) fn complete(mock: &MockInner, id: &str) -> Option<Value> {
    let sub = mock.admin.find_any(SUBS, "_id", id)?;
    if sub["status"] != "pending" {
        return None;
    }
    let tenant = sub["tenant"].as_str().unwrap_or_default().to_owned();
    let plan = mock
        .admin
        .find(
            PLANS.coll,
            &tenant,
            "_id",
            sub["planId"].as_str().unwrap_or_default(),
        )
        .unwrap_or(Value::Null);
    let base = sub["dynamicAmount"].as_f64().unwrap_or_else(|| {
        let key = if sub["billingCycle"] == "yearly" {
            "yearlyPrice"
        } else {
            "monthlyPrice"
        };
        plan[key].as_f64().unwrap_or(0.0)
    });
    let mut amount = base;
    if let Some(code) = sub["couponCode"].as_str()
        && let Some(coupon) = mock
            .admin
            .list(COUPONS.coll, &tenant)
            .into_iter()
            .find(|c| c["code"] == code)
    {
        amount = discounted(base, &coupon);
        let mut changes = Map::new();
        let n = coupon["currentRedemptions"].as_u64().unwrap_or(0) + 1;
        changes.insert("currentRedemptions".into(), json!(n));
        let cid = coupon["_id"].as_str().unwrap_or_default();
        mock.admin
            .update(COUPONS.coll, &tenant, "_id", cid, &changes);
    }
    let mut changes = Map::new();
    changes.insert("status".into(), json!("active"));
    changes.insert(
        "currentPeriodStart".into(),
        json!(crate::util::iso(now_ms())),
    );
    let sub = mock.admin.update(SUBS, &tenant, "_id", id, &changes)?;
    let mut invoice = Map::new();
    invoice.insert("subscriptionId".into(), json!(id));
    invoice.insert(
        "billableEntityType".into(),
        sub["billableEntityType"].clone(),
    );
    invoice.insert("billableEntityId".into(), sub["billableEntityId"].clone());
    invoice.insert("status".into(), json!("paid"));
    invoice.insert("amount".into(), json!(amount));
    invoice.insert(
        "currency".into(),
        plan.get("currency").cloned().unwrap_or(json!("USD")),
    );
    invoice.insert("paidAt".into(), json!(crate::util::iso(now_ms())));
    let invoice = new_doc(invoice, &tenant);
    mock.admin
        .insert(super::payments::INVOICES.coll, invoice.clone());
    Some(json!({ "subscription": sub, "invoice": invoice }))
}

/// `GET /__mock/checkout/{id}`: the fake provider's checkout page, paid at once.
pub(crate) async fn pay(State(mock): Mock, Path(id): Path<String>) -> Response {
    match complete(&mock, &id) {
        Some(v) => ok(v),
        None => message(StatusCode::NOT_FOUND, "no pending subscription"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discounts_round_to_cents_and_never_go_below_zero() {
        let pct = json!({"discountType": "percentage", "discountValue": 15});
        assert_eq!(discounted(9.99, &pct), 8.49);
        let fixed = json!({"discountType": "fixed", "discountValue": 20});
        assert_eq!(discounted(12.0, &fixed), 0.0);
        assert_eq!(discounted(12.0, &json!({})), 12.0);
    }
}
