//! Payments for the signed-in user (`sdk.payments` in the official SDK): public plans,
//! subscribing, checkout, the caller's subscription and invoices, coupon validation.
//! Administrators manage plans, coupons and every subscription through
//! [`ManagePayments`](crate::admin::ManagePayments); the models are the same.
//!
//! ```no_run
//! use qelos_sdk::payments::{BillingCycle, CheckoutRequest};
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! let plans = sdk.payments().get_plans(None).await?;
//! let plan_id = plans[0].id.as_deref().unwrap_or_default();
//! let coupon = sdk.payments().validate_coupon("WELCOME10", Some(plan_id)).await?;
//! let session = sdk
//!     .payments()
//!     .checkout(
//!         &CheckoutRequest::for_plan(plan_id, BillingCycle::Yearly)
//!             .coupon_code(coupon.code.unwrap_or_default())
//!             .success_url("https://app.example.com/thanks"),
//!     )
//!     .await?;
//! println!("pay at {:?}", session.checkout_url);
//! # Ok(()) }
//! ```

use reqwest::Method;
use serde::{Deserialize, Serialize};

pub use crate::admin::payments::{CheckoutAnswer, Coupon, Invoice, Plan, Subscription};
use crate::auth::segment;
use crate::client::QelosSdk;
use crate::error::Error;

/// How often a subscription is billed (`BillingCycle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BillingCycle {
    /// `monthly`.
    Monthly,
    /// `yearly`.
    Yearly,
}

/// The body of [`Payments::checkout`] (`CheckoutRequest`): a plan and billing cycle (a
/// subscription is created inline), or a pre-created pending subscription (required for
/// dynamic plans, whose amount an administrator sets first). Built with
/// [`for_plan`](Self::for_plan) or [`for_subscription`](Self::for_subscription) and the
/// setters, so fields can be added without breaking callers.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CheckoutRequest {
    /// The plan (inline checkout of a non-dynamic plan).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_id: Option<String>,
    /// The billing cycle (inline checkout).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub billing_cycle: Option<BillingCycle>,
    /// A pending subscription to pay; `plan_id` and `billing_cycle` are then ignored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    /// A coupon code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub coupon_code: Option<String>,
    /// Where the provider sends the customer after paying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub success_url: Option<String>,
    /// Where the provider sends the customer after giving up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancel_url: Option<String>,
}

impl CheckoutRequest {
    /// Checkout of `plan_id` billed every `cycle`.
    pub fn for_plan(plan_id: impl Into<String>, cycle: BillingCycle) -> Self {
        Self {
            plan_id: Some(plan_id.into()),
            billing_cycle: Some(cycle),
            ..Self::default()
        }
    }
    /// Checkout of the pending subscription `subscription_id` (see
    /// [`Payments::subscribe_to_plan`]).
    pub fn for_subscription(subscription_id: impl Into<String>) -> Self {
        Self {
            subscription_id: Some(subscription_id.into()),
            ..Self::default()
        }
    }
    /// Applies a coupon.
    #[must_use]
    pub fn coupon_code(mut self, code: impl Into<String>) -> Self {
        self.coupon_code = Some(code.into());
        self
    }
    /// Sets the success URL.
    #[must_use]
    pub fn success_url(mut self, url: impl Into<String>) -> Self {
        self.success_url = Some(url.into());
        self
    }
    /// Sets the cancel URL.
    #[must_use]
    pub fn cancel_url(mut self, url: impl Into<String>) -> Self {
        self.cancel_url = Some(url.into());
        self
    }
}

/// The payments API of one [`QelosSdk`].
#[derive(Clone, Debug)]
pub struct Payments {
    sdk: QelosSdk,
}

impl QelosSdk {
    /// The payments API of the signed-in user.
    pub fn payments(&self) -> Payments {
        Payments { sdk: self.clone() }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Subscribe<'a> {
    plan_id: &'a str,
    billing_cycle: BillingCycle,
    #[serde(skip_serializing_if = "Option::is_none")]
    coupon_code: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValidateCoupon<'a> {
    code: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    plan_id: Option<&'a str>,
}

impl Payments {
    /// `GET /api/plans/public[?isActive=]`: the offered plans, their public fields, by
    /// `sortOrder`. Needs no sign-in.
    ///
    /// # Errors
    ///
    /// Network, timeout, decode errors.
    pub async fn get_plans(&self, is_active: Option<bool>) -> Result<Vec<Plan>, Error> {
        let query: Vec<(&str, String)> = is_active
            .map(|a| ("isActive", a.to_string()))
            .into_iter()
            .collect();
        self.sdk
            .request(Method::GET, "/api/plans/public")
            .query(&query)
            .send()
            .await
    }
    /// `GET /api/plans/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `plan not found` (also for an inactive plan); 401 signed out.
    pub async fn get_plan(&self, plan_id: &str) -> Result<Plan, Error> {
        self.sdk
            .get_json(&format!("/api/plans/{}", segment(plan_id)))
            .await
    }
    /// `POST /api/subscriptions {planId, billingCycle, couponCode}`: a `pending` subscription
    /// billed to the caller, without payment (the first step for a dynamic plan).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `plan not found`; 401 signed out.
    pub async fn subscribe_to_plan(
        &self,
        plan_id: &str,
        billing_cycle: BillingCycle,
        coupon_code: Option<&str>,
    ) -> Result<Subscription, Error> {
        let body = Subscribe {
            plan_id,
            billing_cycle,
            coupon_code,
        };
        self.sdk
            .request(Method::POST, "/api/subscriptions")
            .json(&body)
            .send()
            .await
    }
    /// `POST /api/checkout`: starts a provider checkout; answers the subscription and where to
    /// send the customer.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 (`subscriptionId or planId is required`, `billingCycle is required`,
    /// a dynamic plan without a subscription, a coupon refusal, ...), 404 unknown plan, 409
    /// `An active subscription already exists`; 401 signed out.
    pub async fn checkout(&self, request: &CheckoutRequest) -> Result<CheckoutAnswer, Error> {
        self.sdk
            .request(Method::POST, "/api/checkout")
            .json(request)
            .send()
            .await
    }
    /// `GET /api/subscriptions/me`: the caller's active (or trialing) subscription; `None`
    /// when there is none (Qelos answers `null`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 signed out.
    pub async fn get_my_subscription(&self) -> Result<Option<Subscription>, Error> {
        self.sdk.get_json("/api/subscriptions/me").await
    }
    /// `PUT /api/subscriptions/:id/cancel`: the canceled subscription.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 `access denied` for someone else's, 404 unknown.
    pub async fn cancel_subscription(&self, subscription_id: &str) -> Result<Subscription, Error> {
        let path = format!("/api/subscriptions/{}/cancel", segment(subscription_id));
        self.sdk.request(Method::PUT, path).send().await
    }
    /// `GET /api/invoices[?status=]`: the caller's invoices.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 signed out.
    pub async fn get_invoices(&self, status: Option<&str>) -> Result<Vec<Invoice>, Error> {
        let query: Vec<(&str, &str)> = status.map(|s| ("status", s)).into_iter().collect();
        self.sdk
            .request(Method::GET, "/api/invoices")
            .query(&query)
            .send()
            .await
    }
    /// `GET /api/invoices/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `invoice not found` (also someone else's); 401 signed out.
    pub async fn get_invoice(&self, invoice_id: &str) -> Result<Invoice, Error> {
        self.sdk
            .get_json(&format!("/api/invoices/{}", segment(invoice_id)))
            .await
    }
    /// `POST /api/coupons/validate {code, planId}`: the coupon, when it may be redeemed now
    /// (for the plan).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 with Qelos's message: `coupon not found or inactive`, `coupon has
    /// expired`, `coupon is not yet valid`, `coupon has reached maximum redemptions`, `coupon
    /// is not applicable to this plan`; 401 signed out.
    pub async fn validate_coupon(
        &self,
        code: &str,
        plan_id: Option<&str>,
    ) -> Result<Coupon, Error> {
        self.sdk
            .request(Method::POST, "/api/coupons/validate")
            .json(&ValidateCoupon { code, plan_id })
            .send()
            .await
    }
}
