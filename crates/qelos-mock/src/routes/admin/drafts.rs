//! Drafts service: `/api/drafts` (the caller's own drafts, keyed by `contextType` and
//! `contextId`) and `/api/drafts/all`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{Guard, Mock, Query, check};
use crate::MockInner;
use crate::util::{iso, message, now_ms, ok};

const COLL: &str = "drafts";

pub(super) fn routes(r: Router<Arc<MockInner>>) -> Router<Arc<MockInner>> {
    r.route("/api/drafts/all", get(all))
        .route("/api/drafts", get(one).put(set).delete(remove))
}

fn key(user: &str, context_type: &str, context_id: &str) -> String {
    format!("{user}\u{1f}{context_type}\u{1f}{context_id}")
}

fn strip(mut doc: Value) -> Value {
    if let Some(m) = doc.as_object_mut() {
        m.remove("key");
    }
    doc
}

/// `GET /api/drafts/all`: the caller's drafts.
async fn all(State(mock): Mock, headers: HeaderMap) -> Response {
    let who = match check(&mock, &headers, Guard::SignedIn) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let list: Vec<Value> = mock
        .admin
        .list(COLL, who.tenant())
        .into_iter()
        .filter(|d| d["user"] == who.p.user_id.as_str())
        .map(strip)
        .collect();
    who.finish(ok(Value::from(list)))
}

/// `GET /api/drafts?contextType=&contextId=`: `404 draft not found`.
async fn one(State(mock): Mock, headers: HeaderMap, q: Query) -> Response {
    let who = match check(&mock, &headers, Guard::SignedIn) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let k = key(
        &who.p.user_id,
        q.get("contextType").map_or("", String::as_str),
        q.get("contextId").map_or("", String::as_str),
    );
    match mock.admin.find(COLL, who.tenant(), "key", &k) {
        Some(d) if q.contains_key("contextType") => who.finish(ok(strip(d))),
        _ => who.finish(message(StatusCode::NOT_FOUND, "draft not found")),
    }
}

/// `PUT /api/drafts`: creates or replaces the draft of `contextType` + `contextId`.
async fn set(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let who = match check(&mock, &headers, Guard::SignedIn) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(context_type) = body["contextType"].as_str() else {
        return who.finish(message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "error mutating draft",
        ));
    };
    let context_id = body["contextId"].as_str();
    let k = key(&who.p.user_id, context_type, context_id.unwrap_or(""));
    let previous = mock.admin.remove(COLL, who.tenant(), "key", &k);
    let now = iso(now_ms());
    let doc = json!({
        "_id": previous.as_ref().map_or_else(crate::util::object_id, |p| p["_id"].as_str().unwrap_or_default().to_owned()),
        "key": k, "tenant": who.tenant(), "user": who.p.user_id,
        "contextType": context_type, "contextId": context_id,
        "contextData": body.get("contextData").cloned().unwrap_or(json!({})),
        "contextDisplayName": body["contextDisplayName"].as_str().unwrap_or(""),
        "contextRouteParams": body.get("contextRouteParams").cloned().unwrap_or(json!({})),
        "created": previous.as_ref().map_or(Value::from(now.clone()), |p| p["created"].clone()),
        "updated": now,
    });
    mock.admin.insert(COLL, doc.clone());
    who.finish(ok(strip(doc)))
}

/// `DELETE /api/drafts?contextType=&contextId=`: `{"success": true}` (also when none existed).
async fn remove(State(mock): Mock, headers: HeaderMap, q: Query) -> Response {
    let who = match check(&mock, &headers, Guard::SignedIn) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let k = key(
        &who.p.user_id,
        q.get("contextType").map_or("", String::as_str),
        q.get("contextId").map_or("", String::as_str),
    );
    mock.admin.remove(COLL, who.tenant(), "key", &k);
    who.finish(ok(json!({"success": true})))
}
