//! Content-service routes: blocks and the app configuration.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::verify::{Caller, verify_user};
use crate::MockInner;
use crate::state::Principal;
use crate::util::{iso, message, now_ms, object_id, ok};

type Mock = State<Arc<MockInner>>;

#[derive(Default)]
struct Db {
    /// Block id → block document.
    blocks: Vec<Value>,
    /// Tenant → app-configuration metadata.
    app_config: HashMap<String, Map<String, Value>>,
}

/// Blocks and the app configuration in memory.
#[derive(Default)]
pub(crate) struct ContentState {
    db: Mutex<Db>,
}

impl ContentState {
    fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The content routes.
pub(crate) fn router() -> Router<Arc<MockInner>> {
    Router::new()
        .route("/api/blocks", get(list_blocks).post(create_block))
        .route(
            "/api/blocks/{id}",
            get(get_block).put(update_block).delete(remove_block),
        )
        .route(
            "/api/configurations/app-configuration",
            get(get_app_config).put(update_app_config),
        )
}

/// The content service's own 401 for every refusal of `onlyEditor` / `onlyAdmin`.
fn not_authorized() -> Response {
    message(StatusCode::UNAUTHORIZED, "you are not authorized")
}

fn caller(mock: &MockInner, headers: &HeaderMap) -> Result<Caller, Response> {
    verify_user(&mock.store, headers)
}

fn is_editor(p: Option<&Principal>) -> bool {
    p.is_some_and(|p| p.roles.iter().any(|r| r == "admin" || r == "editor"))
}

fn tenant_of(headers: &HeaderMap) -> String {
    crate::util::tenant(headers)
}

async fn list_blocks(State(mock): Mock, headers: HeaderMap) -> Response {
    let c = match caller(&mock, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !is_editor(c.principal.as_ref()) {
        return c.finish(not_authorized());
    }
    let tenant = tenant_of(&headers);
    let list: Vec<Value> = mock
        .user_api
        .content
        .db()
        .blocks
        .iter()
        .filter(|b| b["tenant"] == tenant.as_str())
        .cloned()
        .collect();
    c.finish(ok(json!(list)))
}

async fn get_block(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let tenant = tenant_of(&headers);
    let db = mock.user_api.content.db();
    match db
        .blocks
        .iter()
        .find(|b| b["_id"] == id.as_str() && b["tenant"] == tenant.as_str())
    {
        Some(b) => ok(b.clone()),
        None => message(StatusCode::NOT_FOUND, "block not exists"),
    }
}

fn block_fields(body: &Value, into: &mut Map<String, Value>) {
    for key in ["name", "description", "content", "contentType"] {
        if let Some(v) = body.get(key) {
            into.insert(key.into(), v.clone());
        }
    }
}

async fn create_block(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let c = match caller(&mock, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !is_editor(c.principal.as_ref()) {
        return c.finish(not_authorized());
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if body.get("name").and_then(Value::as_str).is_none() {
        return c.finish(message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "failed to create block",
        ));
    }
    let mut block = Map::new();
    block.insert("_id".into(), json!(object_id()));
    block.insert("tenant".into(), json!(tenant_of(&headers)));
    block.insert("contentType".into(), json!("content"));
    block.insert("content".into(), json!(""));
    block_fields(&body, &mut block);
    block.insert("created".into(), json!(iso(now_ms())));
    let block = Value::Object(block);
    mock.user_api.content.db().blocks.push(block.clone());
    c.finish(ok(block))
}

async fn update_block(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let c = match caller(&mock, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !is_editor(c.principal.as_ref()) {
        return c.finish(not_authorized());
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let tenant = tenant_of(&headers);
    let mut db = mock.user_api.content.db();
    let Some(Value::Object(block)) = db
        .blocks
        .iter_mut()
        .find(|b| b["_id"] == id.as_str() && b["tenant"] == tenant.as_str())
    else {
        return c.finish(message(StatusCode::NOT_FOUND, "block not exists"));
    };
    block_fields(&body, block);
    c.finish(ok(Value::Object(block.clone())))
}

async fn remove_block(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let c = match caller(&mock, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !is_editor(c.principal.as_ref()) {
        return c.finish(not_authorized());
    }
    let tenant = tenant_of(&headers);
    let mut db = mock.user_api.content.db();
    let Some(at) = db
        .blocks
        .iter()
        .position(|b| b["_id"] == id.as_str() && b["tenant"] == tenant.as_str())
    else {
        return c.finish(message(StatusCode::NOT_FOUND, "block not exists"));
    };
    let removed = db.blocks.remove(at);
    c.finish(ok(removed))
}

fn app_config_doc(tenant: &str, metadata: &Map<String, Value>) -> Value {
    json!({"key": "app-configuration", "public": true, "tenant": tenant, "metadata": metadata})
}

async fn get_app_config(State(mock): Mock, headers: HeaderMap) -> Response {
    let tenant = tenant_of(&headers);
    let mut db = mock.user_api.content.db();
    let metadata = db.app_config.entry(tenant.clone()).or_insert_with(|| {
        let mut m = Map::new();
        m.insert("name".into(), json!("Qelos Mock"));
        m.insert("language".into(), json!("en"));
        m.insert("direction".into(), json!("ltr"));
        m
    });
    ok(app_config_doc(&tenant, metadata))
}

async fn update_app_config(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let c = match caller(&mock, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !c.principal.as_ref().is_some_and(Principal::is_privileged) {
        return c.finish(not_authorized());
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(Value::Object(changes)) = body.get("metadata") else {
        return c.finish(message(
            StatusCode::BAD_REQUEST,
            "configuration update failed",
        ));
    };
    let tenant = tenant_of(&headers);
    let mut db = mock.user_api.content.db();
    let metadata = db.app_config.entry(tenant.clone()).or_default();
    for (k, v) in changes {
        metadata.insert(k.clone(), v.clone());
    }
    let doc = app_config_doc(&tenant, metadata);
    c.finish((StatusCode::OK, axum::Json(doc)).into_response())
}
