//! No-code service: `/api/blueprints` (list and get for every signed-in user, with the viewer
//! fields only for non-admins; create, update, remove for admins). Blueprints created here
//! are usable by the entity routes at once.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::{Guard, Mock, Query, check, new_doc, object_body};
use crate::MockInner;
use crate::state::{BlueprintRec, Permission, Property};
use crate::util::{iso, message, now_ms, ok};

const COLL: &str = "blueprints";
const VIEWER_FIELDS: [&str; 7] = [
    "tenant",
    "identifier",
    "name",
    "description",
    "properties",
    "created",
    "updated",
];

pub(super) fn routes(r: Router<Arc<MockInner>>) -> Router<Arc<MockInner>> {
    r.route("/api/blueprints", get(list).post(create)).route(
        "/api/blueprints/{key}",
        get(one).put(update).patch(update).delete(remove),
    )
}

fn scope(s: &str) -> &'static str {
    match s {
        "workspace" => "workspace",
        "tenant" => "tenant",
        _ => "user",
    }
}

fn operation(s: &str) -> Option<&'static str> {
    ["create", "read", "update", "delete"]
        .into_iter()
        .find(|o| *o == s)
}

fn kind(s: &str) -> &'static str {
    [
        "string", "number", "boolean", "date", "datetime", "time", "object", "file",
    ]
    .into_iter()
    .find(|k| *k == s)
    .unwrap_or("string")
}

/// The JSON of a blueprint the seed created (it has no stored document).
fn render(key: &str, rec: &BlueprintRec, tenant: &str) -> Value {
    let now = iso(now_ms());
    let properties: Map<String, Value> = rec
        .properties
        .iter()
        .map(|(name, p)| {
            (
                name.clone(),
                json!({"title": name, "type": p.kind, "required": p.required, "multi": false, "description": ""}),
            )
        })
        .collect();
    let permissions: Vec<Value> = rec
        .permissions
        .iter()
        .map(|p| json!({"scope": p.scope, "operation": p.operation, "roleBased": p.role_based, "guest": p.guest}))
        .collect();
    json!({
        "_id": crate::util::object_id(), "tenant": tenant, "identifier": key, "name": key,
        "description": "", "entityIdentifierMechanism": "objectid", "permissionScope": rec.permission_scope,
        "permissions": permissions, "properties": properties, "relations": [], "updateMapping": {},
        "dispatchers": {"create": false, "update": false, "delete": false},
        "created": now, "updated": now,
    })
}

/// The entity layer's view of a blueprint document.
fn to_rec(doc: &Value) -> BlueprintRec {
    let permissions = doc["permissions"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| {
                    Some(Permission {
                        operation: operation(p["operation"].as_str()?)?,
                        scope: scope(p["scope"].as_str().unwrap_or("user")),
                        role_based: p["roleBased"]
                            .as_array()
                            .map(|r| {
                                r.iter()
                                    .filter_map(|x| x.as_str().map(str::to_owned))
                                    .collect()
                            })
                            .unwrap_or_default(),
                        guest: p["guest"].as_bool().unwrap_or(false),
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let properties = doc["properties"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        Property {
                            kind: kind(v["type"].as_str().unwrap_or("string")),
                            required: v["required"].as_bool().unwrap_or(false),
                        },
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    BlueprintRec {
        permission_scope: scope(doc["permissionScope"].as_str().unwrap_or("user")),
        permissions,
        properties,
    }
}

/// Stores documents for the blueprints the seed created, once.
fn sync(mock: &MockInner, tenant: &str) {
    let db = mock.store.db();
    let missing: Vec<Value> = db
        .blueprints
        .iter()
        .filter(|(k, _)| mock.admin.find(COLL, tenant, "identifier", k).is_none())
        .map(|(k, rec)| render(k, rec, tenant))
        .collect();
    drop(db);
    for doc in missing {
        mock.admin.insert(COLL, doc);
    }
}

/// Properties as Qelos keeps them: only those with `title` and `type`, normalised.
fn clean_properties(body: &mut Map<String, Value>) {
    let Some(props) = body.get("properties").and_then(Value::as_object) else {
        body.insert("properties".into(), json!({}));
        return;
    };
    let cleaned: Map<String, Value> = props
        .iter()
        .filter(|(_, p)| p.get("title").is_some() && p.get("type").is_some())
        .map(|(k, p)| {
            let mut d = json!({
                "title": p["title"], "description": p["description"].as_str().unwrap_or(""),
                "type": p["type"].as_str().unwrap_or("string"),
                "required": p["required"].as_bool().unwrap_or(false),
                "multi": p["multi"].as_bool().unwrap_or(false),
            });
            for extra in ["min", "max", "enum", "schema"] {
                if let Some(v) = p.get(extra) {
                    d[extra] = v.clone();
                }
            }
            (k.clone(), d)
        })
        .collect();
    body.insert("properties".into(), Value::Object(cleaned));
}

fn viewer(doc: Value, privileged: bool) -> Value {
    if privileged {
        return doc;
    }
    match doc {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(k, _)| k == "_id" || VIEWER_FIELDS.contains(&k.as_str()))
                .collect(),
        ),
        other => other,
    }
}

/// `GET /api/blueprints?name=&identifier=a,b`.
async fn list(State(mock): Mock, headers: HeaderMap, q: Query) -> Response {
    let who = match check(&mock, &headers, Guard::SignedIn) {
        Ok(w) => w,
        Err(r) => return r,
    };
    sync(&mock, who.tenant());
    let ids: Vec<&str> = q
        .get("identifier")
        .map(|i| i.split(',').collect())
        .unwrap_or_default();
    let out: Vec<Value> = mock
        .admin
        .list(COLL, who.tenant())
        .into_iter()
        .filter(|b| ids.is_empty() || ids.iter().any(|i| b["identifier"] == *i))
        .filter(|b| {
            q.get("name").is_none_or(|n| {
                b["name"]
                    .as_str()
                    .is_some_and(|x| x.to_lowercase().contains(&n.to_lowercase()))
            })
        })
        .map(|b| viewer(b, who.privileged))
        .collect();
    who.finish(ok(Value::from(out)))
}

/// `GET /api/blueprints/{key}`: the blueprint, or `null` (200) when there is none, as Qelos.
async fn one(State(mock): Mock, headers: HeaderMap, Path(key): Path<String>) -> Response {
    let who = match check(&mock, &headers, Guard::SignedIn) {
        Ok(w) => w,
        Err(r) => return r,
    };
    sync(&mock, who.tenant());
    let doc = mock
        .admin
        .find(COLL, who.tenant(), "identifier", &key)
        .map_or(Value::Null, |d| viewer(d, who.privileged));
    who.finish(ok(doc))
}

/// `POST /api/blueprints`: `400 failed to create a blueprint` without an identifier or when
/// it is taken.
async fn create(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let who = match check(&mock, &headers, Guard::EditPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    sync(&mock, who.tenant());
    let failed = || message(StatusCode::BAD_REQUEST, "failed to create a blueprint");
    let Ok(mut body) = object_body(&body, "failed to create a blueprint") else {
        return who.finish(failed());
    };
    let Some(key) = body
        .get("identifier")
        .and_then(Value::as_str)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
    else {
        return who.finish(failed());
    };
    if mock
        .admin
        .find(COLL, who.tenant(), "identifier", &key)
        .is_some()
    {
        return who.finish(failed());
    }
    clean_properties(&mut body);
    for (k, default) in [
        ("name", json!(key)),
        ("description", json!("")),
        ("permissionScope", json!("user")),
        ("permissions", json!([])),
        ("relations", json!([])),
        ("entityIdentifierMechanism", json!("objectid")),
    ] {
        body.entry(k).or_insert(default);
    }
    let doc = new_doc(body, who.tenant());
    mock.store.db().blueprints.insert(key, to_rec(&doc));
    mock.admin.insert(COLL, doc.clone());
    who.finish(ok(doc))
}

/// `PUT`/`PATCH /api/blueprints/{key}`: `404 blueprint not found`.
async fn update(
    State(mock): Mock,
    headers: HeaderMap,
    Path(key): Path<String>,
    body: Bytes,
) -> Response {
    let who = match check(&mock, &headers, Guard::EditPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    sync(&mock, who.tenant());
    let Ok(mut body) = object_body(&body, "failed to update blueprint") else {
        return who.finish(message(
            StatusCode::BAD_REQUEST,
            "failed to update blueprint",
        ));
    };
    body.remove("identifier");
    if body.contains_key("properties") {
        clean_properties(&mut body);
    }
    match mock
        .admin
        .update(COLL, who.tenant(), "identifier", &key, &body)
    {
        Some(doc) => {
            mock.store.db().blueprints.insert(key, to_rec(&doc));
            who.finish(ok(doc))
        }
        None => who.finish(message(StatusCode::NOT_FOUND, "blueprint not found")),
    }
}

/// `DELETE /api/blueprints/{key}`: the removed blueprint (`null` if none);
/// `400 cannot remove blueprint with existing entities`.
async fn remove(State(mock): Mock, headers: HeaderMap, Path(key): Path<String>) -> Response {
    let who = match check(&mock, &headers, Guard::EditPrivileged) {
        Ok(w) => w,
        Err(r) => return r,
    };
    sync(&mock, who.tenant());
    let mut db = mock.store.db();
    if db
        .entities
        .iter()
        .any(|e| e.blueprint == key && e.tenant == who.tenant())
    {
        drop(db);
        return who.finish(message(
            StatusCode::BAD_REQUEST,
            "cannot remove blueprint with existing entities",
        ));
    }
    db.blueprints.remove(&key);
    drop(db);
    let removed = mock.admin.remove(COLL, who.tenant(), "identifier", &key);
    who.finish(ok(removed.unwrap_or(Value::Null)))
}
