//! No-code service, components: `/api/components` (admins only) and `/bulk`.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::post;
use serde_json::{Map, Value, json};

use super::{Guard, Mock, Spec, check, crud_routes, new_doc};
use crate::MockInner;
use crate::util::{message, ok};

fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "component not found")
}

static SPEC: Spec = Spec {
    coll: "components",
    key: "_id",
    read: Guard::EditPrivileged,
    read_one: Guard::EditPrivileged,
    write: Guard::EditPrivileged,
    not_found,
    bad_body: "failed to create a component",
    validate: Some(validate),
};

/// `identifier`, `componentName` and `content` are required.
fn validate(m: &mut Map<String, Value>) -> Result<(), &'static str> {
    let present = ["identifier", "componentName", "content"].iter().all(|k| {
        m.get(*k)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    });
    if !present {
        return Err("failed to create a component");
    }
    compiled(m);
    Ok(())
}

pub(super) fn routes(r: Router<Arc<MockInner>>) -> Router<Arc<MockInner>> {
    crud_routes(r, "/api/components", &SPEC).route("/api/components/bulk", post(bulk))
}

/// Components are not compiled by the fake: `compiledContent` echoes the source as `js`.
fn compiled(m: &mut Map<String, Value>) {
    let content = m.get("content").cloned().unwrap_or(Value::Null);
    m.insert("compiledContent".into(), json!({"js": content, "css": ""}));
    m.entry("requiredProps").or_insert(json!([]));
}

/// `POST /api/components/bulk` `{components: [...]}`: creates or updates each by
/// `identifier`; `400 components array is required`.
async fn bulk(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let who = match check(&mock, &headers, Guard::EditPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(list) = body["components"].as_array() else {
        return who.finish(message(
            StatusCode::BAD_REQUEST,
            "components array is required",
        ));
    };
    let mut results = Vec::new();
    let mut ok_count = 0;
    for c in list {
        let identifier = c["identifier"].as_str().unwrap_or_default().to_owned();
        let valid = c.as_object().filter(|m| {
            ["identifier", "componentName", "content"].iter().all(|k| {
                m.get(*k)
                    .and_then(Value::as_str)
                    .is_some_and(|v| !v.is_empty())
            })
        });
        let Some(m) = valid else {
            results.push(json!({"identifier": identifier, "success": false,
                "error": "identifier, componentName and content are required"}));
            continue;
        };
        let mut m = m.clone();
        compiled(&mut m);
        let component =
            match mock
                .admin
                .update(SPEC.coll, who.tenant(), "identifier", &identifier, &m)
            {
                Some(doc) => doc,
                None => {
                    let doc = new_doc(m, who.tenant());
                    mock.admin.insert(SPEC.coll, doc.clone());
                    doc
                }
            };
        ok_count += 1;
        results.push(json!({"identifier": identifier, "success": true, "component": component}));
    }
    who.finish(ok(json!({
        "total": list.len(), "succeeded": ok_count, "failed": list.len() - ok_count, "results": results,
    })))
}
