//! `/api/webhooks/{integration}`: lambdas, with a deterministic fake lambda target.
//!
//! The seeded lambda integration ([`LAMBDA_INTEGRATION_ID`](crate::fakes::LAMBDA_INTEGRATION_ID))
//! answers every method with `{"method", "query", "body", "user"}`: what it received and who
//! called. Any other id answers `404 {"message":"integration not found"}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::any;
use serde_json::{Value, json};

use super::verify::verify_user;
use crate::MockInner;
use crate::fakes::LAMBDA_INTEGRATION_ID;
use crate::util::{message, ok};

/// The lambda routes.
pub(crate) fn router() -> Router<Arc<MockInner>> {
    Router::new().route("/api/webhooks/{integration}", any(trigger))
}

async fn trigger(
    State(mock): State<Arc<MockInner>>,
    method: Method,
    headers: HeaderMap,
    Path(integration): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let caller = match verify_user(&mock.store, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if integration != LAMBDA_INTEGRATION_ID {
        return caller.finish(message(StatusCode::NOT_FOUND, "integration not found"));
    }
    let p = match caller.require() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(_) => return caller.finish(message(StatusCode::BAD_REQUEST, "invalid JSON body")),
        }
    };
    caller.finish(ok(json!({
        "method": method.as_str(),
        "query": q,
        "body": body,
        "user": p.user_id,
    })))
}
