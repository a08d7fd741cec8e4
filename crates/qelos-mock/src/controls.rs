//! Test controls a real Qelos lacks: call counting, request recording, fault injection, and the
//! `/__mock/*` HTTP router.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::MockInner;

/// A fault injected on one endpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Wait this long before answering normally.
    Latency(Duration),
    /// Answer this status with `{"message":"injected fault"}`.
    Status(u16),
    /// Answer 200 `application/json` with a body that is not JSON.
    GarbageJson,
    /// Send the headers, then break the connection mid-body.
    DropConnection,
}

/// A request the mock received.
#[derive(Clone, Debug)]
pub struct RecordedRequest {
    /// Method.
    pub method: String,
    /// Path (no query).
    pub path: String,
    /// Headers (kept in memory for assertions, never logged).
    pub headers: Vec<(String, String)>,
}

const MAX_RECORDED: usize = 20_000;

#[derive(Default)]
pub(crate) struct Controls {
    pub(crate) total: AtomicU64,
    pub(crate) calls: Mutex<HashMap<String, u64>>,
    pub(crate) faults: Mutex<HashMap<String, Fault>>,
    pub(crate) recorded: Mutex<Vec<RecordedRequest>>,
}

impl Controls {
    pub(crate) fn calls(&self, endpoint: &str) -> u64 {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }
    pub(crate) fn all_calls(&self) -> HashMap<String, u64> {
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
    /// Counts one call of a pseudo-endpoint (e.g. `"PLUGIN register todo"`).
    pub(crate) fn count(&self, endpoint: &str) {
        *self
            .calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(endpoint.to_owned())
            .or_insert(0) += 1;
    }
    pub(crate) fn reset(&self) {
        self.total.store(0, Ordering::SeqCst);
        self.calls
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
        self.recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
    pub(crate) fn set_fault(&self, endpoint: &str, fault: Fault) {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(endpoint.to_owned(), fault);
    }
    pub(crate) fn clear_faults(&self) {
        self.faults
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
    pub(crate) fn recorded(&self) -> Vec<RecordedRequest> {
        self.recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Counts, records and applies faults to every `/api` request.
pub(crate) async fn observe(
    State(mock): State<Arc<MockInner>>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().as_str().to_owned();
    let pattern = request.extensions().get::<MatchedPath>().map_or_else(
        || request.uri().path().to_owned(),
        |m| m.as_str().to_owned(),
    );
    let endpoint = format!("{method} {pattern}");
    let controls = &mock.controls;
    controls.total.fetch_add(1, Ordering::SeqCst);
    *controls
        .calls
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(endpoint.clone())
        .or_insert(0) += 1;
    if mock.store.config.record_requests {
        let mut recorded = controls
            .recorded
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if recorded.len() < MAX_RECORDED {
            recorded.push(RecordedRequest {
                method: method.clone(),
                path: request.uri().path().to_owned(),
                headers: request
                    .headers()
                    .iter()
                    .map(|(k, v)| {
                        (
                            k.as_str().to_owned(),
                            String::from_utf8_lossy(v.as_bytes()).into_owned(),
                        )
                    })
                    .collect(),
            });
        }
    }
    tracing::debug!(endpoint = %endpoint, "request");
    let fault = controls
        .faults
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .get(&endpoint)
        .cloned();
    match fault {
        None => next.run(request).await,
        Some(Fault::Latency(d)) => {
            tokio::time::sleep(d).await;
            next.run(request).await
        }
        Some(Fault::Status(s)) => (
            StatusCode::from_u16(s).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            Json(json!({"message": "injected fault"})),
        )
            .into_response(),
        Some(Fault::GarbageJson) => (
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            "{\"_id\": \"6650\", <<garbage>>",
        )
            .into_response(),
        Some(Fault::DropConnection) => {
            let broken = futures_util::stream::once(async {
                Err::<bytes::Bytes, std::io::Error>(std::io::Error::other(
                    "injected connection drop",
                ))
            });
            let mut response = Response::new(Body::from_stream(broken));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("application/json"),
            );
            response
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MintBody {
    username: String,
    workspace: Option<String>,
    #[serde(default)]
    expired: bool,
    access_ttl_ms: Option<u64>,
    cookie_age_ms: Option<u64>,
}

#[derive(Deserialize)]
struct ExpireBody {
    token: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FaultBody {
    endpoint: String,
    fault: FaultSpec,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FaultSpec {
    latency_ms: Option<u64>,
    status: Option<u16>,
    #[serde(default)]
    garbage: bool,
    #[serde(default)]
    drop: bool,
}

/// The `/__mock` router.
pub(crate) fn router() -> Router<Arc<MockInner>> {
    Router::new()
        .route("/__mock/seed", get(seed))
        .route("/__mock/tokens", post(mint))
        .route("/__mock/expire", post(expire))
        .route("/__mock/calls", get(calls))
        .route("/__mock/reset-calls", post(reset_calls))
        .route("/__mock/faults", post(set_fault).delete(clear_faults))
        .route("/__mock/faults/all", delete(clear_faults))
        .route("/__mock/plugins", post(add_plugin))
}

/// `POST /__mock/plugins`: a plugin manifest, plus `token` (static) and `tenant`.
async fn add_plugin(State(mock): State<Arc<MockInner>>, Json(manifest): Json<Value>) -> Response {
    let spec = match crate::PluginSpec::from_manifest(&manifest) {
        Ok(s) => s,
        Err(e) => return crate::util::message(StatusCode::BAD_REQUEST, &e.to_string()),
    };
    match crate::routes::plugins::add(&mock, spec) {
        Ok(id) => Json(json!({"_id": id})).into_response(),
        Err(e) => crate::util::message(StatusCode::BAD_REQUEST, &e),
    }
}

async fn seed(State(mock): State<Arc<MockInner>>) -> Response {
    let s = &mock.seed;
    Json(json!({
        "admin": {"id": s.admin.id, "username": s.admin.username, "password": s.admin.password},
        "user": {"id": s.user.id, "username": s.user.username, "password": s.user.password},
        "workspaces": s.workspaces.iter().map(|w| json!({"id": w.id, "name": w.name})).collect::<Vec<_>>(),
        "blueprints": s.blueprints,
    }))
    .into_response()
}

async fn mint(State(mock): State<Arc<MockInner>>, Json(body): Json<MintBody>) -> Response {
    let req = crate::MintRequest {
        username: body.username,
        workspace: body.workspace,
        expired: body.expired,
        access_ttl: body.access_ttl_ms.map(Duration::from_millis),
        cookie_age: body.cookie_age_ms.map(Duration::from_millis),
    };
    match mock.mint(&req) {
        Some(t) => Json(json!({"access": t.access, "refresh": t.refresh, "cookie": t.cookie}))
            .into_response(),
        None => crate::util::message(StatusCode::NOT_FOUND, "user not found"),
    }
}

async fn expire(State(mock): State<Arc<MockInner>>, Json(body): Json<ExpireBody>) -> Response {
    mock.store.db().revoked.insert(body.token);
    Json(json!({"ok": true})).into_response()
}

async fn calls(State(mock): State<Arc<MockInner>>) -> Response {
    let mut all: serde_json::Map<String, Value> = mock
        .controls
        .all_calls()
        .into_iter()
        .map(|(k, v)| (k, json!(v)))
        .collect();
    all.insert(
        "total".into(),
        json!(mock.controls.total.load(Ordering::SeqCst)),
    );
    Json(Value::Object(all)).into_response()
}

async fn reset_calls(State(mock): State<Arc<MockInner>>) -> Response {
    mock.controls.reset();
    Json(json!({"ok": true})).into_response()
}

async fn set_fault(State(mock): State<Arc<MockInner>>, Json(body): Json<FaultBody>) -> Response {
    let f = body.fault;
    let fault = if let Some(ms) = f.latency_ms {
        Fault::Latency(Duration::from_millis(ms))
    } else if let Some(s) = f.status {
        Fault::Status(s)
    } else if f.garbage {
        Fault::GarbageJson
    } else if f.drop {
        Fault::DropConnection
    } else {
        return crate::util::message(
            StatusCode::BAD_REQUEST,
            "fault needs latencyMs, status, garbage or drop",
        );
    };
    mock.controls.set_fault(&body.endpoint, fault);
    Json(json!({"ok": true})).into_response()
}

async fn clear_faults(State(mock): State<Arc<MockInner>>) -> Response {
    mock.controls.clear_faults();
    Json(json!({"ok": true})).into_response()
}
