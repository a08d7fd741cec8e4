//! Content service: `/api/configurations` (list, create, update, remove for admins; a
//! configuration by key for anyone when it is `public`, else for admins).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::Value;

use super::{Guard, Mock, Spec, check, crud_create, crud_list, crud_remove, crud_update};
use crate::MockInner;
use crate::routes::verify::verify_user;
use crate::util::{message, ok};

fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "configuration not exists")
}

static SPEC: Spec = Spec {
    coll: "configurations",
    key: "key",
    read: Guard::ContentAdmin,
    read_one: Guard::ContentAdmin,
    write: Guard::ContentAdmin,
    not_found,
    bad_body: "configuration creation failed",
    validate: None,
};

pub(super) fn routes(r: Router<Arc<MockInner>>) -> Router<Arc<MockInner>> {
    r
        .route(
            "/api/configurations",
            get(|State(m): Mock, h: HeaderMap, q: super::Query| async move {
                crud_list(&m, &h, &q, &SPEC)
            })
            .post(create),
        )
        .route(
            "/api/configurations/{key}",
            get(one)
                .put(
                    |State(m): Mock, h: HeaderMap, Path(k): Path<String>, b: Bytes| async move {
                        crud_update(&m, &h, &k, &b, &SPEC)
                    },
                )
                .delete(remove),
        )
}

/// `POST /api/configurations`: `400 configuration creation failed` without a key, `409` when
/// the key exists.
async fn create(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let m = Arc::clone(&mock);
    crud_create(&mock, &headers, &body, &SPEC, |who, body| {
        let Some(key) = body
            .get("key")
            .and_then(Value::as_str)
            .filter(|k| !k.is_empty())
        else {
            return Err(message(
                StatusCode::BAD_REQUEST,
                "configuration creation failed",
            ));
        };
        if m.admin.find(SPEC.coll, who.tenant(), "key", key).is_some() {
            let msg = format!("Configuration with key '{key}' already exists for this tenant");
            return Err(message(StatusCode::CONFLICT, &msg));
        }
        body.entry("public").or_insert(Value::Bool(false));
        body.entry("metadata")
            .or_insert(Value::Object(Default::default()));
        Ok(())
    })
}

/// `GET /api/configurations/{key}`: public ones for anyone, the others for admins only
/// (`404 configuration not exists` otherwise).
async fn one(State(mock): Mock, headers: HeaderMap, Path(key): Path<String>) -> Response {
    let caller = match verify_user(&mock.store, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let tenant = caller
        .principal
        .as_ref()
        .map_or_else(|| crate::util::tenant(&headers), |p| p.tenant.clone());
    let admin = caller.principal.as_ref().is_some_and(|p| p.is_privileged());
    match mock.admin.find(SPEC.coll, &tenant, "key", &key) {
        Some(doc) if admin || doc["public"] == true => caller.finish(ok(doc)),
        _ => caller.finish(not_found()),
    }
}

/// `DELETE /api/configurations/{key}`: `403 cannot remove app configuration`.
async fn remove(State(mock): Mock, headers: HeaderMap, Path(key): Path<String>) -> Response {
    if key == "app-configuration" {
        return match check(&mock, &headers, Guard::ContentAdmin) {
            Ok(who) => who.finish(message(
                StatusCode::FORBIDDEN,
                "cannot remove app configuration",
            )),
            Err(r) => r,
        };
    }
    crud_remove(&mock, &headers, &key, &SPEC)
}
