//! `manageLambdas`: `/api/lambdas/:sourceId[/:functionName]`, functions of an `aws` or
//! `cloudflare` integration source (admins).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{AdminSdk, segment, to_body};
use crate::error::Error;

/// A function in Qelos's normalised shape. Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LambdaFunction {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Runtime.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Other fields (`handler`, `role`, `code`, `memorySize`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The `manageLambdas` area.
#[derive(Clone, Debug)]
pub struct ManageLambdas {
    admin: AdminSdk,
}

impl AdminSdk {
    /// `manageLambdas`.
    pub fn manage_lambdas(&self) -> ManageLambdas {
        ManageLambdas {
            admin: self.clone(),
        }
    }
}

fn path(source: &str, name: Option<&str>) -> String {
    match name {
        Some(n) => format!("/api/lambdas/{}/{}", segment(source), segment(n)),
        None => format!("/api/lambdas/{}", segment(source)),
    }
}

impl ManageLambdas {
    /// `GET /api/lambdas/:sourceId`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `Source not found`, 400 `Unsupported source kind`, 401.
    pub async fn get_list(&self, source_id: &str) -> Result<Vec<LambdaFunction>, Error> {
        self.admin
            .json(Method::GET, &path(source_id, None), Vec::new(), None)
            .await
    }
    /// `GET /api/lambdas/:sourceId/:functionName`.
    ///
    /// # Errors
    ///
    /// As [`get_list`](Self::get_list), and 404 for an unknown function.
    pub async fn get_lambda(
        &self,
        source_id: &str,
        function_name: &str,
    ) -> Result<LambdaFunction, Error> {
        self.admin
            .json(
                Method::GET,
                &path(source_id, Some(function_name)),
                Vec::new(),
                None,
            )
            .await
    }
    /// `POST /api/lambdas/:sourceId`.
    ///
    /// # Errors
    ///
    /// As [`get_list`](Self::get_list); 400 `Invalid Cloudflare worker name`.
    pub async fn create(
        &self,
        source_id: &str,
        function: &impl Serialize,
    ) -> Result<LambdaFunction, Error> {
        self.admin
            .json(
                Method::POST,
                &path(source_id, None),
                Vec::new(),
                to_body(function)?,
            )
            .await
    }
    /// `PUT /api/lambdas/:sourceId/:functionName`.
    ///
    /// # Errors
    ///
    /// As [`get_lambda`](Self::get_lambda).
    pub async fn update(
        &self,
        source_id: &str,
        function_name: &str,
        changes: &impl Serialize,
    ) -> Result<LambdaFunction, Error> {
        self.admin
            .json(
                Method::PUT,
                &path(source_id, Some(function_name)),
                Vec::new(),
                to_body(changes)?,
            )
            .await
    }
    /// `DELETE /api/lambdas/:sourceId/:functionName` (Qelos answers `204`).
    ///
    /// # Errors
    ///
    /// As [`get_lambda`](Self::get_lambda).
    pub async fn remove(&self, source_id: &str, function_name: &str) -> Result<(), Error> {
        self.admin
            .unit(Method::DELETE, &path(source_id, Some(function_name)), None)
            .await
    }
}
