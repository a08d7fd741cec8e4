//! `managePayments`: plans, subscriptions, invoices, coupons, checkout and the tenant's
//! payments configuration.

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::{AdminSdk, segment, to_body};
use crate::error::Error;

macro_rules! record {
    ($(#[$doc:meta])* $name:ident { $($(#[$fdoc:meta])* $field:ident : $ty:ty),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct $name {
            /// `_id`.
            #[serde(rename = "_id", default, skip_serializing_if = "Option::is_none")]
            pub id: Option<String>,
            $($(#[$fdoc])* #[serde(default, skip_serializing_if = "Option::is_none")] pub $field: $ty,)*
            /// Other fields.
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }
    };
}

record!(
    /// A pricing plan. Unknown fields stay in `extra`.
    Plan {
        /// Name.
        name: Option<String>,
        /// Description.
        description: Option<String>,
        /// Offered.
        is_active: Option<bool>,
        /// Monthly price.
        monthly_price: Option<f64>,
        /// Yearly price.
        yearly_price: Option<f64>,
        /// Currency.
        currency: Option<String>,
    }
);

record!(
    /// A subscription. Unknown fields stay in `extra`.
    Subscription {
        /// The plan.
        plan_id: Option<String>,
        /// `monthly` or `yearly`.
        billing_cycle: Option<String>,
        /// `user` or `workspace`.
        billable_entity_type: Option<String>,
        /// The user or workspace id.
        billable_entity_id: Option<String>,
        /// `pending`, `active`, `canceled`, ...
        status: Option<String>,
        /// Amount of a dynamic plan.
        dynamic_amount: Option<f64>,
        /// Coupon.
        coupon_code: Option<String>,
    }
);

record!(
    /// An invoice. Unknown fields stay in `extra`.
    Invoice {
        /// The subscription.
        subscription_id: Option<String>,
        /// Status.
        status: Option<String>,
        /// Amount.
        amount: Option<f64>,
        /// Currency.
        currency: Option<String>,
    }
);

record!(
    /// A coupon. Unknown fields stay in `extra`.
    Coupon {
        /// The code customers type.
        code: Option<String>,
        /// `percentage` or `fixed`.
        discount_type: Option<String>,
        /// Discount.
        discount_value: Option<f64>,
        /// Redeemable.
        is_active: Option<bool>,
        /// Redemptions so far (set by Qelos).
        current_redemptions: Option<u64>,
    }
);

/// The answer of [`ManagePayments::checkout`].
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckoutAnswer {
    /// The pending subscription.
    #[serde(default)]
    pub subscription_id: String,
    /// Where to send the customer.
    #[serde(default)]
    pub checkout_url: Option<String>,
    /// A provider client token, for embedded checkouts.
    #[serde(default)]
    pub client_token: Option<String>,
    /// Other fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The tenant's payments settings (`payments-configuration`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PaymentsConfiguration {
    /// `payments-configuration`.
    #[serde(default)]
    pub key: String,
    /// The settings (provider, currency, ...).
    #[serde(default)]
    pub metadata: Map<String, Value>,
}

/// The `managePayments` area.
#[derive(Clone, Debug)]
pub struct ManagePayments {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `managePayments`.
    pub fn manage_payments(&self) -> ManagePayments {
        ManagePayments {
            admin: self.clone(),
        }
    }
}

fn active(is_active: Option<bool>) -> Vec<(String, String)> {
    super::pairs([("isActive", is_active.map(|a| a.to_string()))])
}

fn owned(query: &[(&str, &str)]) -> Vec<(String, String)> {
    query
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

impl ManagePayments {
    /// `GET /api/plans?isActive=`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 `insufficient permissions` for non-admins.
    pub async fn get_plans(&self, is_active: Option<bool>) -> Result<Vec<Plan>, Error> {
        self.admin
            .json(Method::GET, "/api/plans", active(is_active), None)
            .await
    }
    /// `GET /api/plans/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `plan not found`.
    pub async fn get_plan(&self, plan_id: &str) -> Result<Plan, Error> {
        let path = format!("/api/plans/{}", segment(plan_id));
        self.admin.json(Method::GET, &path, Vec::new(), None).await
    }
    /// `POST /api/plans`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400; 401 for non-admins.
    pub async fn create_plan(&self, plan: &Plan) -> Result<Plan, Error> {
        self.admin
            .json(Method::POST, "/api/plans", Vec::new(), to_body(plan)?)
            .await
    }
    /// `PUT /api/plans/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401 for non-admins.
    pub async fn update_plan(
        &self,
        plan_id: &str,
        changes: &impl Serialize,
    ) -> Result<Plan, Error> {
        let path = format!("/api/plans/{}", segment(plan_id));
        self.admin
            .json(Method::PUT, &path, Vec::new(), to_body(changes)?)
            .await
    }
    /// `DELETE /api/plans/:id`: the plan.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401 for non-admins.
    pub async fn delete_plan(&self, plan_id: &str) -> Result<Plan, Error> {
        let path = format!("/api/plans/{}", segment(plan_id));
        self.admin
            .json(Method::DELETE, &path, Vec::new(), None)
            .await
    }
    /// `POST /api/checkout` (`planId`, `billingCycle`, optional `billableEntityType`,
    /// `billableEntityId`, `couponCode`, `successUrl`, `cancelUrl`, `reset`, `amount`,
    /// `customer`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 (`billingCycle must be monthly or yearly`, ...); 404 for an unknown plan.
    pub async fn checkout(&self, request: &impl Serialize) -> Result<CheckoutAnswer, Error> {
        self.admin
            .json(Method::POST, "/api/checkout", Vec::new(), to_body(request)?)
            .await
    }
    /// `GET /api/subscriptions` filtered by `billableEntityType`, `billableEntityId`, `status`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when not signed in.
    pub async fn get_subscriptions(
        &self,
        query: &[(&str, &str)],
    ) -> Result<Vec<Subscription>, Error> {
        self.admin
            .json(Method::GET, "/api/subscriptions", owned(query), None)
            .await
    }
    /// `GET /api/subscriptions/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 403 `access denied` for someone else's.
    pub async fn get_subscription(&self, subscription_id: &str) -> Result<Subscription, Error> {
        let path = format!("/api/subscriptions/{}", segment(subscription_id));
        self.admin.json(Method::GET, &path, Vec::new(), None).await
    }
    /// `POST /api/subscriptions`: a pending subscription for any billable entity.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `planId and billingCycle are required`.
    pub async fn create_subscription(
        &self,
        subscription: &Subscription,
    ) -> Result<Subscription, Error> {
        self.admin
            .json(
                Method::POST,
                "/api/subscriptions",
                Vec::new(),
                to_body(subscription)?,
            )
            .await
    }
    /// `PUT /api/subscriptions/:id/cancel`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 403.
    pub async fn cancel_subscription(&self, subscription_id: &str) -> Result<Subscription, Error> {
        let path = format!("/api/subscriptions/{}/cancel", segment(subscription_id));
        self.admin.json(Method::PUT, &path, Vec::new(), None).await
    }
    /// `PUT /api/subscriptions/:id/dynamic-amount` `{amount}`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `amount must be a positive number`; 401 for non-admins.
    pub async fn set_subscription_dynamic_amount(
        &self,
        subscription_id: &str,
        amount: f64,
    ) -> Result<Subscription, Error> {
        let path = format!(
            "/api/subscriptions/{}/dynamic-amount",
            segment(subscription_id)
        );
        self.admin
            .json(
                Method::PUT,
                &path,
                Vec::new(),
                Some(json!({ "amount": amount })),
            )
            .await
    }
    /// `GET /api/invoices` filtered by `billableEntityType`, `billableEntityId`, `status`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when not signed in.
    pub async fn get_invoices(&self, query: &[(&str, &str)]) -> Result<Vec<Invoice>, Error> {
        self.admin
            .json(Method::GET, "/api/invoices", owned(query), None)
            .await
    }
    /// `GET /api/invoices/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 403.
    pub async fn get_invoice(&self, invoice_id: &str) -> Result<Invoice, Error> {
        let path = format!("/api/invoices/{}", segment(invoice_id));
        self.admin.json(Method::GET, &path, Vec::new(), None).await
    }
    /// `GET /api/coupons?isActive=`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn get_coupons(&self, is_active: Option<bool>) -> Result<Vec<Coupon>, Error> {
        self.admin
            .json(Method::GET, "/api/coupons", active(is_active), None)
            .await
    }
    /// `GET /api/coupons/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401 for non-admins.
    pub async fn get_coupon(&self, coupon_id: &str) -> Result<Coupon, Error> {
        let path = format!("/api/coupons/{}", segment(coupon_id));
        self.admin.json(Method::GET, &path, Vec::new(), None).await
    }
    /// `POST /api/coupons`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400; 401 for non-admins.
    pub async fn create_coupon(&self, coupon: &Coupon) -> Result<Coupon, Error> {
        self.admin
            .json(Method::POST, "/api/coupons", Vec::new(), to_body(coupon)?)
            .await
    }
    /// `PUT /api/coupons/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401 for non-admins.
    pub async fn update_coupon(
        &self,
        coupon_id: &str,
        changes: &impl Serialize,
    ) -> Result<Coupon, Error> {
        let path = format!("/api/coupons/{}", segment(coupon_id));
        self.admin
            .json(Method::PUT, &path, Vec::new(), to_body(changes)?)
            .await
    }
    /// `DELETE /api/coupons/:id`: the coupon.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404; 401 for non-admins.
    pub async fn delete_coupon(&self, coupon_id: &str) -> Result<Coupon, Error> {
        let path = format!("/api/coupons/{}", segment(coupon_id));
        self.admin
            .json(Method::DELETE, &path, Vec::new(), None)
            .await
    }
    /// `GET /api/payments/configuration`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn get_payments_configuration(&self) -> Result<PaymentsConfiguration, Error> {
        self.admin
            .json(Method::GET, "/api/payments/configuration", Vec::new(), None)
            .await
    }
    /// `PUT /api/payments/configuration` `{metadata}`: merged into the stored settings.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 for non-admins.
    pub async fn update_payments_configuration(
        &self,
        metadata: &Map<String, Value>,
    ) -> Result<PaymentsConfiguration, Error> {
        let body = json!({ "metadata": metadata });
        self.admin
            .json(
                Method::PUT,
                "/api/payments/configuration",
                Vec::new(),
                Some(body),
            )
            .await
    }
}
