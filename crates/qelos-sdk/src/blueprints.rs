//! Blueprints: their definitions, their entities and their charts (`sdk.blueprints` in the
//! official SDK).
//!
//! ```no_run
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! let blueprints = sdk.blueprints();
//! let n = blueprints.get_count("products", &[("category", "tools")]).await?;
//! let tools = blueprints.entities_of::<serde_json::Value>("products").where_("category", "tools").find().await?;
//! # let _ = (n, tools); Ok(()) }
//! ```

use reqwest::Method;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth::segment;
use crate::client::QelosSdk;
use crate::entities::Entities;
use crate::error::Error;

/// A blueprint definition (`IBlueprint`): identifier, name, and the rest (properties,
/// permissions, relations, ...) in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Blueprint {
    /// The blueprint key.
    #[serde(default)]
    pub identifier: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A sum card (`getSum`): the total and, with a group-by property, the groups.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SumCard {
    /// The total.
    #[serde(default)]
    pub sum: f64,
    /// The groups, when a group-by property was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<SumGroup>>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One group of a [`SumCard`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SumGroup {
    /// The group key: the property's value, or for dates the day of the week (`1` = Sunday)
    /// and for times the hour; `null` for entities without the property.
    #[serde(default)]
    pub group: Value,
    /// The sum of the group.
    #[serde(default)]
    pub sum: f64,
}

/// The blueprints API of one [`QelosSdk`].
#[derive(Clone, Debug)]
pub struct Blueprints {
    sdk: QelosSdk,
}

impl QelosSdk {
    /// The blueprints API.
    pub fn blueprints(&self) -> Blueprints {
        Blueprints { sdk: self.clone() }
    }
}

impl Blueprints {
    /// `GET /api/blueprints/:key`: `None` for an unknown key (Qelos answers `null` with 200).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when signed out (the no-code service's empty 401).
    pub async fn get_blueprint(&self, key: &str) -> Result<Option<Blueprint>, Error> {
        self.sdk
            .get_json(&format!("/api/blueprints/{}", segment(key)))
            .await
    }
    /// `GET /api/blueprints`: every blueprint of the tenant.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 when signed out; network, timeout, decode errors.
    pub async fn get_list(&self) -> Result<Vec<Blueprint>, Error> {
        self.sdk.get_json("/api/blueprints").await
    }
    /// The entities of blueprint `key` (the same as [`QelosSdk::entities`]).
    pub fn entities_of<T>(&self, key: &str) -> Entities<T> {
        self.sdk.entities(key)
    }
    async fn chart<T: DeserializeOwned>(
        &self,
        key: &str,
        kind: &str,
        query: &[(&str, &str)],
    ) -> Result<T, Error> {
        let path = format!("/api/blueprints/{}/charts/{}", segment(key), segment(kind));
        self.sdk
            .request(Method::GET, path)
            .query(&query)
            .send()
            .await
    }
    /// `GET /api/blueprints/:key/charts/:chartType` (`line`, `bar`, ...) with filters; `x`
    /// names the property to group by. The answer is an ECharts option: the group keys on
    /// `xAxis.data`, the counts in `series[0].data`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 `not permitted`, 400 `xAxis is required` (no `x`, or not a property),
    /// 400 `cannot aggregate objects`, 404 unknown blueprint, 401 signed out.
    pub async fn get_chart(
        &self,
        key: &str,
        chart_type: &str,
        query: &[(&str, &str)],
    ) -> Result<Value, Error> {
        self.chart(key, chart_type, query).await
    }
    /// `GET /api/blueprints/:key/charts/pie` (`x` names the property to group by): an ECharts
    /// pie option, `series[0].data` = `[{name, value}]`.
    ///
    /// # Errors
    ///
    /// As [`get_chart`](Self::get_chart).
    pub async fn get_pie_chart(&self, key: &str, query: &[(&str, &str)]) -> Result<Value, Error> {
        self.chart(key, "pie", query).await
    }
    /// `GET /api/blueprints/:key/charts/count` with filters.
    ///
    /// # Errors
    ///
    /// As [`get_chart`](Self::get_chart); 401 signed out.
    pub async fn get_count(&self, key: &str, query: &[(&str, &str)]) -> Result<u64, Error> {
        let v: Value = self.chart(key, "count", query).await?;
        v.get("count").and_then(Value::as_u64).ok_or(Error::Decode {
            status: 200,
            detail: "the answer has no count".into(),
        })
    }
    /// `GET /api/blueprints/:key/charts/sum?sum=<property>[&groupBy=<property>]` with filters.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `sum property is required`, `sum property must be of type number`,
    /// `groupBy property not found`; otherwise as [`get_chart`](Self::get_chart).
    pub async fn get_sum(
        &self,
        key: &str,
        sum: &str,
        group_by: Option<&str>,
        query: &[(&str, &str)],
    ) -> Result<SumCard, Error> {
        let mut pairs: Vec<(&str, &str)> = query.to_vec();
        pairs.push(("sum", sum));
        if let Some(g) = group_by {
            pairs.push(("groupBy", g));
        }
        self.chart(key, "sum", &pairs).await
    }
}
