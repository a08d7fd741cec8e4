//! The user payments API against qelos-mock and its deterministic fake payment provider.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test code: failing loudly is the point

mod support;

use qelos_sdk::QelosSdk;
use qelos_sdk::admin::{Coupon, Plan};
use qelos_sdk::payments::{BillingCycle, CheckoutRequest};
use serde_json::json;
use support::*;

/// An active "Pro" plan (10/month, 100/year), an inactive "Old" one, and coupon `TEN` (10 %).
async fn catalogue(admin: &QelosSdk) -> (String, String) {
    let pay = admin.admin().manage_payments();
    let pro = pay
        .create_plan(&Plan {
            name: Some("Pro".into()),
            monthly_price: Some(10.0),
            yearly_price: Some(100.0),
            extra: json!({"sortOrder": 2}).as_object().unwrap().clone(),
            ..Plan::default()
        })
        .await
        .unwrap();
    let old = pay
        .create_plan(&Plan {
            name: Some("Old".into()),
            is_active: Some(false),
            ..Plan::default()
        })
        .await
        .unwrap();
    pay.create_coupon(&Coupon {
        code: Some("TEN".into()),
        discount_type: Some("percentage".into()),
        discount_value: Some(10.0),
        ..Coupon::default()
    })
    .await
    .unwrap();
    (pro.id.unwrap(), old.id.unwrap())
}

fn status(e: &qelos_sdk::Error) -> (Option<u16>, String) {
    (e.status(), e.to_string())
}

#[tokio::test]
async fn public_plans_list_the_active_plans_without_sign_in_and_hide_inactive_ones() {
    let mock = mock().await;
    let (pro, old) = catalogue(&admin(&mock).await).await;
    let plans = anonymous(&mock).payments().get_plans(None).await.unwrap();
    assert_eq!(plans.len(), 1);
    assert_eq!(plans[0].name.as_deref(), Some("Pro"));
    assert_eq!(
        plans[0].extra["sortOrder"], 2,
        "unknown fields stay in extra"
    );
    assert_eq!(plans[0].is_active, None, "isActive is not a public field");
    let user = plain_user(&mock).await;
    assert_eq!(
        user.payments().get_plan(&pro).await.unwrap().monthly_price,
        Some(10.0)
    );
    let err = user.payments().get_plan(&old).await.unwrap_err();
    assert_eq!(
        status(&err),
        (Some(404), "Qelos answered 404: plan not found".into())
    );
    let err = anonymous(&mock)
        .payments()
        .get_plan(&pro)
        .await
        .unwrap_err();
    assert!(err.is_unauthorized(), "{err}");
}

#[tokio::test]
async fn checkout_then_the_fake_provider_payment_activates_and_invoices_with_the_coupon() {
    let mock = mock().await;
    let (pro, _) = catalogue(&admin(&mock).await).await;
    let user = plain_user(&mock).await;
    let pay = user.payments();
    assert_eq!(pay.get_my_subscription().await.unwrap(), None);
    let coupon = pay.validate_coupon("TEN", Some(&pro)).await.unwrap();
    assert_eq!(coupon.discount_value, Some(10.0));
    let session = pay
        .checkout(&CheckoutRequest::for_plan(&pro, BillingCycle::Yearly).coupon_code("TEN"))
        .await
        .unwrap();
    let url = session.checkout_url.clone().unwrap();
    assert!(url.ends_with(&format!("/__mock/checkout/{}", session.subscription_id)));
    assert_eq!(
        pay.get_my_subscription().await.unwrap(),
        None,
        "pending until paid"
    );
    // The customer opens the provider's page: paid at once.
    let paid: serde_json::Value = reqwest::get(&url).await.unwrap().json().await.unwrap();
    assert_eq!(paid["invoice"]["amount"], 90.0);
    let mine = pay.get_my_subscription().await.unwrap().unwrap();
    assert_eq!(mine.id.as_deref(), Some(session.subscription_id.as_str()));
    assert_eq!(mine.status.as_deref(), Some("active"));
    let invoices = pay.get_invoices(Some("paid")).await.unwrap();
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0].amount, Some(90.0));
    assert_eq!(invoices[0].currency.as_deref(), Some("USD"));
    let one = pay
        .get_invoice(invoices[0].id.as_deref().unwrap())
        .await
        .unwrap();
    assert_eq!(one, invoices[0]);
    assert!(pay.get_invoices(Some("open")).await.unwrap().is_empty());
    // A second checkout while one is active is a conflict.
    let err = pay
        .checkout(&CheckoutRequest::for_plan(&pro, BillingCycle::Monthly))
        .await
        .unwrap_err();
    assert_eq!(
        status(&err),
        (
            Some(409),
            "Qelos answered 409: An active subscription already exists".into()
        )
    );
    let canceled = pay
        .cancel_subscription(&session.subscription_id)
        .await
        .unwrap();
    assert_eq!(canceled.status.as_deref(), Some("canceled"));
    assert_eq!(pay.get_my_subscription().await.unwrap(), None);
}

#[tokio::test]
async fn subscribe_to_a_dynamic_plan_needs_the_admin_amount_before_checkout() {
    let mock = mock().await;
    let admin = admin(&mock).await;
    let dynamic = admin
        .admin()
        .manage_payments()
        .create_plan(&Plan {
            name: Some("Custom".into()),
            extra: json!({"dynamic": true}).as_object().unwrap().clone(),
            ..Plan::default()
        })
        .await
        .unwrap()
        .id
        .unwrap();
    let user = plain_user(&mock).await;
    let pay = user.payments();
    let err = pay
        .checkout(&CheckoutRequest::for_plan(&dynamic, BillingCycle::Monthly))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    let sub = pay
        .subscribe_to_plan(&dynamic, BillingCycle::Monthly, None)
        .await
        .unwrap();
    assert_eq!(sub.status.as_deref(), Some("pending"));
    assert_eq!(sub.billable_entity_id, Some(mock.seed().user.id.clone()));
    let sub_id = sub.id.unwrap();
    let err = pay
        .checkout(&CheckoutRequest::for_subscription(&sub_id))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "Qelos answered 400: Admin must set the dynamic amount on this subscription before checkout"
    );
    admin
        .admin()
        .manage_payments()
        .set_subscription_dynamic_amount(&sub_id, 42.0)
        .await
        .unwrap();
    let session = pay
        .checkout(&CheckoutRequest::for_subscription(&sub_id))
        .await
        .unwrap();
    assert_eq!(session.subscription_id, sub_id);
    let paid = mock.complete_checkout(&sub_id).unwrap();
    assert_eq!(paid["invoice"]["amount"], 42.0);
    assert!(mock.complete_checkout(&sub_id).is_none(), "paid once");
    // An admin may check out a dynamic plan at once by naming the amount.
    let direct = admin
        .admin()
        .manage_payments()
        .checkout(&json!({"planId": dynamic, "billingCycle": "yearly", "amount": 7.5}))
        .await
        .unwrap();
    let paid = mock.complete_checkout(&direct.subscription_id).unwrap();
    assert_eq!(paid["invoice"]["amount"], 7.5);
}

#[tokio::test]
async fn payments_refusals_coupon_codes_other_peoples_invoices_and_signed_out_callers() {
    let mock = mock().await;
    let admin = admin(&mock).await;
    let (pro, _) = catalogue(&admin).await;
    // The admin pays for themselves; the plain user may not read that invoice.
    let session = admin
        .payments()
        .checkout(&CheckoutRequest::for_plan(&pro, BillingCycle::Monthly))
        .await
        .unwrap();
    let invoice = mock.complete_checkout(&session.subscription_id).unwrap()["invoice"]["_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let user = plain_user(&mock).await;
    let pay = user.payments();
    assert!(pay.get_invoices(None).await.unwrap().is_empty());
    let err = pay.get_invoice(&invoice).await.unwrap_err();
    assert_eq!(
        status(&err),
        (Some(403), "Qelos answered 403: access denied".into())
    );
    let err = pay
        .cancel_subscription(&session.subscription_id)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(403));
    let err = pay.validate_coupon("NOPE", None).await.unwrap_err();
    assert_eq!(
        status(&err),
        (
            Some(400),
            "Qelos answered 400: coupon not found or inactive".into()
        )
    );
    let err = pay
        .checkout(&CheckoutRequest::for_plan(&pro, BillingCycle::Monthly).coupon_code("NOPE"))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(400));
    let err = pay
        .subscribe_to_plan("000000000000000000000000", BillingCycle::Yearly, None)
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404));
    let anon = anonymous(&mock).payments();
    for err in [
        anon.get_my_subscription().await.unwrap_err(),
        anon.get_invoices(None).await.unwrap_err(),
        anon.validate_coupon("TEN", None).await.unwrap_err(),
        anon.checkout(&CheckoutRequest::for_plan(&pro, BillingCycle::Monthly))
            .await
            .unwrap_err(),
        anon.subscribe_to_plan(&pro, BillingCycle::Monthly, None)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(
            err.to_string(),
            "Qelos answered 401: authentication required"
        );
    }
}
