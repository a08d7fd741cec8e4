//! Plugins service, lambdas: `/api/lambdas/{sourceId}[/{name}]` over an integration source of
//! kind `aws` or `cloudflare`. The fake does not call AWS or Cloudflare: it keeps the
//! functions in memory per source and answers in Qelos's normalised shape.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::integrations::SOURCES;
use super::{Guard, Mock, Who, check};
use crate::MockInner;
use crate::util::{empty, message, ok};

const COLL: &str = "lambdas";

pub(super) fn routes(r: Router<Arc<MockInner>>) -> Router<Arc<MockInner>> {
    r.route("/api/lambdas/{source}", get(list).post(create))
        .route(
            "/api/lambdas/{source}/{name}",
            get(one).put(update).delete(remove),
        )
}

/// The caller and the source's kind, or the refusal (`404 Source not found`,
/// `400 Unsupported source kind`).
fn source(mock: &MockInner, headers: &HeaderMap, id: &str) -> Result<(Who, String), Response> {
    let who = check(mock, headers, Guard::EditPrivileged)?;
    let Some(src) = mock.admin.find(SOURCES.coll, who.tenant(), "_id", id) else {
        return Err(who.finish(message(StatusCode::NOT_FOUND, "Source not found")));
    };
    let kind = src["kind"].as_str().unwrap_or_default().to_owned();
    if kind != "aws" && kind != "cloudflare" {
        return Err(who.finish(message(StatusCode::BAD_REQUEST, "Unsupported source kind")));
    }
    Ok((who, kind))
}

fn key(source: &str, name: &str) -> String {
    format!("{source}/{name}")
}

/// The normalised function: the stored fields without the fake's bookkeeping.
fn normalized(mut doc: Value) -> Value {
    if let Some(m) = doc.as_object_mut() {
        for k in ["_id", "tenant", "key", "source", "created", "updated"] {
            m.remove(k);
        }
    }
    doc
}

fn function_not_found(who: &Who) -> Response {
    who.finish(message(StatusCode::NOT_FOUND, "Function not found"))
}

/// `GET /api/lambdas/{source}`.
async fn list(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (who, _) = match source(&mock, &headers, &id) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let out: Vec<Value> = mock
        .admin
        .list(COLL, who.tenant())
        .into_iter()
        .filter(|f| f["source"] == id.as_str())
        .map(normalized)
        .collect();
    who.finish(ok(Value::from(out)))
}

/// `GET /api/lambdas/{source}/{name}`.
async fn one(
    State(mock): Mock,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let (who, _) = match source(&mock, &headers, &id) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match mock.admin.find(COLL, who.tenant(), "key", &key(&id, &name)) {
        Some(f) => who.finish(ok(normalized(f))),
        None => function_not_found(&who),
    }
}

fn valid_worker_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `POST /api/lambdas/{source}`: `201` with the function; a Cloudflare source refuses an
/// invalid worker name with `400 Invalid Cloudflare worker name`.
async fn create(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (who, kind) = match source(&mock, &headers, &id) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let body: Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let name = body
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    if kind == "cloudflare" && !valid_worker_name(&name) {
        return who.finish(message(
            StatusCode::BAD_REQUEST,
            "Invalid Cloudflare worker name",
        ));
    }
    if name.is_empty() {
        return who.finish(message(StatusCode::BAD_REQUEST, "Error creating function"));
    }
    let k = key(&id, &name);
    if mock.admin.find(COLL, who.tenant(), "key", &k).is_some() {
        return who.finish(message(StatusCode::CONFLICT, "Function already exists"));
    }
    let mut doc = body;
    doc.insert("key".into(), json!(k));
    doc.insert("source".into(), json!(id));
    doc.entry("runtime").or_insert(json!(if kind == "aws" {
        "nodejs20.x"
    } else {
        "javascript"
    }));
    let doc = super::new_doc(doc, who.tenant());
    mock.admin.insert(COLL, doc.clone());
    who.finish((StatusCode::CREATED, axum::Json(normalized(doc))).into_response())
}

/// `PUT /api/lambdas/{source}/{name}`.
async fn update(
    State(mock): Mock,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (who, _) = match source(&mock, &headers, &id) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut changes: Map<String, Value> = match serde_json::from_slice(&body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    changes.remove("name");
    match mock
        .admin
        .update(COLL, who.tenant(), "key", &key(&id, &name), &changes)
    {
        Some(f) => who.finish(ok(normalized(f))),
        None => function_not_found(&who),
    }
}

/// `DELETE /api/lambdas/{source}/{name}`: `204`.
async fn remove(
    State(mock): Mock,
    headers: HeaderMap,
    Path((id, name)): Path<(String, String)>,
) -> Response {
    let (who, _) = match source(&mock, &headers, &id) {
        Ok(v) => v,
        Err(r) => return r,
    };
    match mock
        .admin
        .remove(COLL, who.tenant(), "key", &key(&id, &name))
    {
        Some(_) => who.finish(empty(StatusCode::NO_CONTENT)),
        None => function_not_found(&who),
    }
}
