//! Plugins service, events: `/api/events` (a page of events for admins; `POST` for admins and
//! plugins, answered `200` with no body before the event is stored, as Qelos does).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{Guard, Mock, Query, check, new_doc};
use crate::MockInner;
use crate::util::{empty, ok};

const COLL: &str = "events";

pub(super) fn routes(r: Router<Arc<MockInner>>) -> Router<Arc<MockInner>> {
    r.route("/api/events", get(list).post(create))
        .route("/api/events/{id}", get(one))
}

/// `GET /api/events?page=&limit=&kind=&eventName=&source=&user=&workspace=&search=`:
/// `{events, total, page, limit, totalPages}`, newest first (`limit` default 50).
async fn list(State(mock): Mock, headers: HeaderMap, q: Query) -> Response {
    let who = match check(&mock, &headers, Guard::EditPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let page: usize = q.get("page").and_then(|p| p.parse().ok()).unwrap_or(0);
    let limit: usize = q
        .get("limit")
        .and_then(|p| p.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(50)
        .min(500);
    let matches = |e: &Value, field: &str| {
        q.get(field)
            .filter(|v| v.as_str() != "*")
            .is_none_or(|v| e[field] == v.as_str())
    };
    let mut all: Vec<Value> = mock
        .admin
        .list(COLL, who.tenant())
        .into_iter()
        .filter(|e| {
            ["kind", "eventName", "source", "user", "workspace"]
                .iter()
                .all(|f| matches(e, f))
        })
        .filter(|e| {
            q.get("search").is_none_or(|s| {
                let s = s.to_lowercase();
                ["description", "eventName", "kind"].iter().any(|f| {
                    e[*f]
                        .as_str()
                        .is_some_and(|v| v.to_lowercase().contains(&s))
                })
            })
        })
        .collect();
    all.reverse();
    let total = all.len();
    let events: Vec<Value> = all.into_iter().skip(page * limit).take(limit).collect();
    who.finish(ok(json!({
        "events": events, "total": total, "page": page, "limit": limit,
        "totalPages": total.div_ceil(limit),
    })))
}

/// `GET /api/events/{id}`: the event, or `null`.
async fn one(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    match check(&mock, &headers, Guard::EditPrivileged) {
        Ok(who) => {
            let e = mock
                .admin
                .find(COLL, who.tenant(), "_id", &id)
                .unwrap_or(Value::Null);
            who.finish(ok(e))
        }
        Err(r) => r,
    }
}

/// `POST /api/events`: `200` with an empty body; a plugin's `source` gets the `plugin:` prefix.
async fn create(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let who = match check(&mock, &headers, Guard::EditOrPlugin) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if let Ok(Value::Object(mut m)) = serde_json::from_slice::<Value>(&body) {
        let is_plugin = who.p.roles.iter().any(|r| r == "plugin");
        if let Some(src) = m.get("source").and_then(Value::as_str)
            && is_plugin
            && !src.starts_with("plugin:")
        {
            let prefixed = format!("plugin:{src}");
            m.insert("source".into(), Value::from(prefixed));
        }
        let valid = ["source", "kind", "eventName"]
            .iter()
            .all(|k| m.get(*k).and_then(Value::as_str).is_some());
        if valid {
            mock.admin.insert(COLL, new_doc(m, who.tenant()));
        }
    }
    who.finish(empty(StatusCode::OK))
}
