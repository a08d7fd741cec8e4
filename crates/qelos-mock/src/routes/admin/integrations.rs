//! Plugins service: `/api/integration-sources` (with `status` checks) and `/api/integrations`,
//! for admins and plugins. Status checks do not reach the third party: the fake answers
//! `{"ok": true}` when the source has its `kind` and `metadata`, deterministically.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::{Guard, Mock, Spec, check, crud_routes};
use crate::MockInner;
use crate::util::{empty, message, ok};

fn source_not_found() -> Response {
    empty(StatusCode::NOT_FOUND)
}
fn integration_not_found() -> Response {
    message(StatusCode::NOT_FOUND, "integration not found")
}

/// Sources keep their `authentication` out of every answer (Qelos stores it as a secret).
fn validate_source(m: &mut Map<String, Value>) -> Result<(), &'static str> {
    if m.get("kind")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err("invalid metadata");
    }
    if m.get("authentication").is_some() {
        m.insert("authentication".into(), json!({}));
    }
    m.entry("labels").or_insert(json!([]));
    m.entry("metadata").or_insert(json!({}));
    Ok(())
}

fn validate_integration(m: &mut Map<String, Value>) -> Result<(), &'static str> {
    if !(m.get("trigger").is_some_and(Value::is_object)
        && m.get("target").is_some_and(Value::is_object))
    {
        return Err("trigger and target are required");
    }
    m.entry("active").or_insert(Value::Bool(false));
    m.entry("dataManipulation").or_insert(json!([]));
    m.entry("kind").or_insert(json!([]));
    Ok(())
}

pub(crate) static SOURCES: Spec = Spec {
    coll: "integrationSources",
    key: "_id",
    read: Guard::EditOrPlugin,
    read_one: Guard::EditOrPlugin,
    write: Guard::EditOrPlugin,
    not_found: source_not_found,
    bad_body: "invalid metadata",
    validate: Some(validate_source),
};

static INTEGRATIONS: Spec = Spec {
    coll: "integrations",
    key: "_id",
    read: Guard::EditOrPlugin,
    read_one: Guard::EditOrPlugin,
    write: Guard::EditOrPlugin,
    not_found: integration_not_found,
    bad_body: "trigger and target are required",
    validate: Some(validate_integration),
};

pub(super) fn routes(r: Router<Arc<MockInner>>) -> Router<Arc<MockInner>> {
    let r = crud_routes(r, "/api/integration-sources", &SOURCES)
        .route("/api/integration-sources/status", post(draft_status))
        .route("/api/integration-sources/{key}/status", post(status));
    crud_routes(r, "/api/integrations", &INTEGRATIONS)
}

fn verdict(kind: Option<&Value>, metadata: Option<&Value>) -> Response {
    if kind.and_then(Value::as_str).is_none_or(str::is_empty) {
        return bad("kind is required", "MISSING_KIND");
    }
    if !metadata.is_some_and(Value::is_object) {
        return bad("metadata is required", "MISSING_METADATA");
    }
    ok(json!({"ok": true, "kind": kind, "checkedAt": crate::util::iso(crate::util::now_ms())}))
}

fn bad(msg: &str, code: &str) -> Response {
    let mut r = message(StatusCode::BAD_REQUEST, msg);
    *r.body_mut() = axum::body::Body::from(json!({"message": msg, "code": code}).to_string());
    r
}

/// `POST /api/integration-sources/status`: checks an unsaved source.
async fn draft_status(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let who = match check(&mock, &headers, SOURCES.read) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    who.finish(verdict(body.get("kind"), body.get("metadata")))
}

/// `POST /api/integration-sources/{id}/status` with optional overrides.
async fn status(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let who = match check(&mock, &headers, SOURCES.read) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(source) = mock.admin.find(SOURCES.coll, who.tenant(), "_id", &id) else {
        let mut r = message(StatusCode::NOT_FOUND, "integration source not found");
        *r.body_mut() = axum::body::Body::from(
            json!({"message": "integration source not found", "code": "INTEGRATION_SOURCE_NOT_FOUND"}).to_string(),
        );
        return who.finish(r);
    };
    let overrides: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let metadata = overrides.get("metadata").or_else(|| source.get("metadata"));
    who.finish(verdict(source.get("kind"), metadata))
}
