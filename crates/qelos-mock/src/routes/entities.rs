//! Blueprint entity routes (§5), reached (as through the gateway) with the caller resolved
//! leniently: a bad credential means anonymous here, not 401.

use std::cmp::Ordering;
use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::verify::{Caller, verify_user};
use crate::MockInner;
use crate::state::{BlueprintRec, EntityRec, Principal};
use crate::util::{iso, message, now_ms, ok};

type Mock = State<Arc<MockInner>>;
type Params = Query<HashMap<String, String>>;

pub(super) fn lenient(mock: &MockInner, headers: &HeaderMap) -> Caller {
    verify_user(&mock.store, headers).unwrap_or(Caller {
        principal: None,
        set_cookie: None,
    })
}

/// The scoping of a permitted operation.
pub(super) struct Scope {
    workspace: Option<String>,
    user: Option<String>,
}

pub(super) fn bypass(headers: &HeaderMap, q: &HashMap<String, String>) -> bool {
    q.get("bypassAdmin").is_some_and(|v| v == "true")
        || headers
            .get("x-bypass-admin")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v == "true" || v == "1")
}

pub(super) fn permitted(
    bp: &BlueprintRec,
    p: Option<&Principal>,
    op: &str,
    bypass_admin: bool,
) -> Result<Scope, Response> {
    let all = Scope {
        workspace: None,
        user: None,
    };
    if p.is_some_and(|p| p.is_privileged()) && !bypass_admin {
        return Ok(all);
    }
    let roles: Vec<String> = p.map(|p| p.roles.clone()).unwrap_or_default();
    let scopes: Vec<&str> = bp
        .permissions
        .iter()
        .filter(|perm| perm.operation == op)
        .filter(|perm| {
            perm.guest
                || (p.is_some()
                    && perm
                        .role_based
                        .iter()
                        .any(|r| r == "*" || roles.contains(r)))
        })
        .map(|perm| perm.scope)
        .collect();
    if scopes.is_empty() {
        return Err(message(StatusCode::FORBIDDEN, "not permitted"));
    }
    if scopes.contains(&"tenant") {
        return Ok(all);
    }
    match bp.permission_scope {
        "workspace" => match p.and_then(Principal::workspace_id) {
            Some(ws) => Ok(Scope {
                workspace: Some(ws),
                user: None,
            }),
            None => Err(message(
                StatusCode::FORBIDDEN,
                "user is not connected to a workspace",
            )),
        },
        "user" => match p {
            Some(p) => Ok(Scope {
                workspace: None,
                user: Some(p.user_id.clone()),
            }),
            None => Err(message(
                StatusCode::UNAUTHORIZED,
                "you must be logged in to access",
            )),
        },
        _ => Ok(all),
    }
}

pub(super) fn in_scope(e: &EntityRec, s: &Scope) -> bool {
    s.workspace
        .as_ref()
        .is_none_or(|w| e.workspace.as_ref() == Some(w))
        && s.user.as_ref().is_none_or(|u| e.user.as_ref() == Some(u))
}

enum Shape {
    List,
    Single,
    Write,
}

fn entity_json(e: &EntityRec, flat: bool, shape: Shape) -> Value {
    let mut v = Map::new();
    v.insert("tenant".into(), json!(e.tenant));
    v.insert("identifier".into(), json!(e.identifier));
    v.insert("blueprint".into(), json!(e.blueprint));
    if let Some(u) = &e.user {
        v.insert("user".into(), json!(u));
    }
    if let Some(w) = &e.workspace {
        v.insert("workspace".into(), json!(w));
    }
    v.insert("metadata".into(), Value::Object(e.metadata.clone()));
    v.insert("indexes".into(), json!([]));
    v.insert("created".into(), json!(e.created));
    v.insert("updated".into(), json!(e.created));
    if !matches!(shape, Shape::List) {
        v.insert("__v".into(), json!(0));
    }
    v.insert("id".into(), json!(e.identifier));
    if flat {
        for (k, val) in &e.metadata {
            v.insert(k.clone(), val.clone());
        }
    }
    Value::Object(v)
}

fn is_flat(headers: &HeaderMap, q: &HashMap<String, String>) -> bool {
    if headers.get("accept-version").and_then(|v| v.to_str().ok()) == Some("v1") {
        return true;
    }
    !q.get("$flat")
        .is_some_and(|v| v.eq_ignore_ascii_case("false") || v == "0")
}

fn respond(caller: &Caller, value: Value, flat: bool) -> Response {
    let mut r = caller.finish(ok(value));
    if !flat {
        r.headers_mut()
            .insert("deprecation", HeaderValue::from_static("true"));
        r.headers_mut().insert(
            "link",
            HeaderValue::from_static("<https://docs.qelos.io/api/blueprint-entities#flat-response-shape>; rel=\"deprecation\"; type=\"text/html\""),
        );
    }
    r
}

/// Validates and coerces properties; unknown keys are dropped.
fn validate(
    bp: &BlueprintRec,
    input: &Map<String, Value>,
    creating: bool,
) -> Result<Map<String, Value>, Response> {
    let mut out = Map::new();
    for (name, prop) in &bp.properties {
        let value = input.get(name);
        let bad = |what: &str| {
            Err(message(
                StatusCode::NOT_ACCEPTABLE,
                &format!("Property {name} must be a {what}"),
            ))
        };
        match (prop.kind, value) {
            ("string", Some(Value::String(s))) => {
                out.insert(name.clone(), json!(s));
            }
            ("string", None | Some(Value::Null)) if prop.required && creating => {
                return bad("string");
            }
            ("string", Some(v)) if !v.is_null() => return bad("string"),
            ("number", Some(Value::Number(n))) => {
                out.insert(name.clone(), Value::Number(n.clone()));
            }
            ("number", Some(Value::String(s))) => match s.trim().parse::<f64>() {
                Ok(n) => {
                    out.insert(name.clone(), json!(n));
                }
                Err(_) => return bad("number"),
            },
            ("number", None | Some(Value::Null)) if prop.required && creating => {
                return bad("number");
            }
            ("number", Some(v)) if !v.is_null() => return bad("number"),
            ("boolean", Some(v)) if !v.is_null() => {
                let b = match v {
                    Value::Bool(b) => *b,
                    Value::String(s) => s == "true" || s == "1",
                    Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
                    _ => false,
                };
                out.insert(name.clone(), json!(b));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// Props from a body: flat keys, overridden by `metadata`.
fn body_props(body: &[u8]) -> Map<String, Value> {
    let v: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let mut props = v.as_object().cloned().unwrap_or_default();
    if let Some(Value::Object(meta)) = props.remove("metadata") {
        for (k, val) in meta {
            props.insert(k, val);
        }
    }
    props
}

pub(super) fn matches_filters(
    e: &EntityRec,
    bp: &BlueprintRec,
    q: &HashMap<String, String>,
) -> bool {
    q.iter()
        .filter(|(k, _)| !k.starts_with('$') && k.as_str() != "bypassAdmin")
        .all(|(k, want)| {
            if bp.properties.iter().any(|(name, _)| name == k) {
                match e.metadata.get(k) {
                    Some(Value::String(s)) => s == want,
                    Some(Value::Number(n)) => want.parse::<f64>().ok() == n.as_f64(),
                    Some(Value::Bool(b)) => (want == "true" || want == "1") == *b,
                    _ => false,
                }
            } else {
                match k.as_str() {
                    "user" => e.user.as_deref() == Some(want.as_str()),
                    "workspace" => e.workspace.as_deref() == Some(want.as_str()),
                    "identifier" => e.identifier == *want,
                    _ => true,
                }
            }
        })
}

/// `$select`: keep the listed fields (top level or under `metadata`) and `identifier`.
fn select_fields(mut v: Value, select: Option<&[&str]>) -> Value {
    let Some(fields) = select else { return v };
    let keep = |k: &str| k == "identifier" || k == "_id" || fields.contains(&k);
    if let Value::Object(map) = &mut v {
        map.retain(|k, _| keep(k) || k == "metadata");
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            meta.retain(|k, _| fields.contains(&k.as_str()));
        }
    }
    v
}

fn sort_key(e: &EntityRec, field: &str) -> Value {
    match field {
        "created" | "updated" => json!(e.created_ms),
        "identifier" => json!(e.identifier),
        f => f
            .strip_prefix("metadata.")
            .and_then(|p| e.metadata.get(p).cloned())
            .unwrap_or(Value::Null),
    }
}

fn compare(a: &Value, b: &Value) -> Ordering {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.partial_cmp(&y).unwrap_or(Ordering::Equal),
        _ => a.to_string().cmp(&b.to_string()),
    }
}

macro_rules! blueprint {
    ($mock:expr, $key:expr) => {{
        let db = $mock.store.db();
        match db.blueprints.get(&$key) {
            Some(bp) => bp.clone(),
            None => return message(StatusCode::NOT_FOUND, "blueprint not found"),
        }
    }};
}

/// `GET /api/blueprints/{key}/entities`.
pub(crate) async fn list(
    State(mock): Mock,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Params,
) -> Response {
    let caller = lenient(&mock, &headers);
    let bp = blueprint!(mock, key);
    let scope = match permitted(&bp, caller.principal.as_ref(), "read", bypass(&headers, &q)) {
        Ok(s) => s,
        Err(r) => return caller.finish(r),
    };
    let flat = is_flat(&headers, &q);
    let db = mock.store.db();
    let mut found: Vec<&EntityRec> = db
        .entities
        .iter()
        .filter(|e| e.blueprint == key && in_scope(e, &scope) && matches_filters(e, &bp, &q))
        .collect();
    let sort = q.get("$sort").cloned().unwrap_or_else(|| "created".into());
    let (desc, field) = sort
        .strip_prefix('-')
        .map_or((false, sort.as_str()), |f| (true, f));
    found.sort_by(|a, b| {
        let o = compare(&sort_key(a, field), &sort_key(b, field));
        if desc { o.reverse() } else { o }
    });
    let page = q
        .get("$page")
        .and_then(|p| p.parse::<usize>().ok())
        .filter(|p| *p >= 1);
    let limit = q
        .get("$limit")
        .map(|l| l.parse::<usize>().unwrap_or(1000))
        .or(page.map(|_| 1000));
    let skip = page.map_or(0, |p| (p - 1) * limit.unwrap_or(1000))
        + q.get("$skip")
            .and_then(|s| s.parse::<usize>().ok())
            .unwrap_or(0);
    let select: Option<Vec<&str>> = q.get("$select").map(|s| s.split(',').collect());
    let out: Vec<Value> = found
        .into_iter()
        .skip(skip)
        .take(limit.unwrap_or(usize::MAX))
        .map(|e| select_fields(entity_json(e, flat, Shape::List), select.as_deref()))
        .collect();
    drop(db);
    respond(&caller, json!(out), flat)
}

/// `GET /api/blueprints/{key}/entities/{id}`.
pub(crate) async fn get(
    State(mock): Mock,
    headers: HeaderMap,
    Path((key, id)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    let caller = lenient(&mock, &headers);
    let bp = blueprint!(mock, key);
    let scope = match permitted(&bp, caller.principal.as_ref(), "read", bypass(&headers, &q)) {
        Ok(s) => s,
        Err(r) if r.status() == StatusCode::FORBIDDEN => return caller.finish(r),
        Err(_) => {
            return message(
                StatusCode::INTERNAL_SERVER_ERROR,
                "something went wrong with entity",
            );
        }
    };
    let flat = is_flat(&headers, &q);
    let db = mock.store.db();
    match db
        .entities
        .iter()
        .find(|e| e.blueprint == key && e.identifier == id && in_scope(e, &scope))
    {
        Some(e) => {
            let v = entity_json(e, flat, Shape::Single);
            drop(db);
            respond(&caller, v, flat)
        }
        None => message(StatusCode::NOT_FOUND, "entity not found"),
    }
}

/// The platform event of an entity change (`source: blueprints`, `kind: <blueprint key>`).
fn entity_event(e: &EntityRec, event_name: &str) -> super::plugins::PlatformEvent {
    super::plugins::PlatformEvent {
        tenant: e.tenant.clone(),
        user: e.user.clone(),
        source: "blueprints".into(),
        kind: e.blueprint.clone(),
        event_name: event_name.into(),
        description: format!("{} {event_name}d", e.blueprint),
        metadata: entity_json(e, true, Shape::Write),
    }
}

/// `POST /api/blueprints/{key}/entities`.
pub(crate) async fn create(
    State(mock): Mock,
    headers: HeaderMap,
    Path(key): Path<String>,
    Query(q): Params,
    body: axum::body::Bytes,
) -> Response {
    let caller = lenient(&mock, &headers);
    let bp = blueprint!(mock, key);
    let p = caller.principal.clone();
    if let Err(r) = permitted(&bp, p.as_ref(), "create", bypass(&headers, &q)) {
        return caller.finish(r);
    }
    let metadata = match validate(&bp, &body_props(&body), true) {
        Ok(m) => m,
        Err(r) => return caller.finish(r),
    };
    let now = now_ms();
    let e = EntityRec {
        tenant: p
            .as_ref()
            .map_or_else(|| "0".to_owned(), |p| p.tenant.clone()),
        identifier: uuid::Uuid::now_v7().to_string(),
        blueprint: key,
        user: p.as_ref().map(|p| p.user_id.clone()),
        workspace: p.as_ref().and_then(Principal::workspace_id),
        metadata,
        created_ms: now,
        created: iso(now),
    };
    let flat = is_flat(&headers, &q);
    let v = entity_json(&e, flat, Shape::Write);
    let event = entity_event(&e, "create");
    mock.store.db().entities.push(e);
    super::plugins::emit(&mock, event);
    respond(&caller, v, flat)
}

/// `PUT /api/blueprints/{key}/entities/{id}`.
pub(crate) async fn update(
    State(mock): Mock,
    headers: HeaderMap,
    Path((key, id)): Path<(String, String)>,
    Query(q): Params,
    body: axum::body::Bytes,
) -> Response {
    let caller = lenient(&mock, &headers);
    let bp = blueprint!(mock, key);
    let scope = match permitted(
        &bp,
        caller.principal.as_ref(),
        "update",
        bypass(&headers, &q),
    ) {
        Ok(s) => s,
        Err(r) => return caller.finish(r),
    };
    let flat = is_flat(&headers, &q);
    let mut db = mock.store.db();
    let Some(e) = db
        .entities
        .iter_mut()
        .find(|e| e.blueprint == key && e.identifier == id && in_scope(e, &scope))
    else {
        return message(StatusCode::NOT_FOUND, "entity not found");
    };
    let mut merged = e.metadata.clone();
    for (k, v) in body_props(&body) {
        merged.insert(k, v);
    }
    match validate(&bp, &merged, true) {
        Ok(m) => e.metadata = m,
        Err(r) => return caller.finish(r),
    }
    let v = entity_json(e, flat, Shape::Write);
    let event = entity_event(e, "update");
    drop(db);
    super::plugins::emit(&mock, event);
    respond(&caller, v, flat)
}

/// `DELETE /api/blueprints/{key}/entities/{id}` (and `…/all`).
pub(crate) async fn remove(
    State(mock): Mock,
    headers: HeaderMap,
    Path((key, id)): Path<(String, String)>,
    Query(q): Params,
) -> Response {
    let caller = lenient(&mock, &headers);
    let bp = blueprint!(mock, key);
    let scope = match permitted(
        &bp,
        caller.principal.as_ref(),
        "delete",
        bypass(&headers, &q),
    ) {
        Ok(s) => s,
        Err(r) => return caller.finish(r),
    };
    let mut db = mock.store.db();
    if id == "all" {
        let before = db.entities.len();
        db.entities
            .retain(|e| !(e.blueprint == key && in_scope(e, &scope)));
        let n = before - db.entities.len();
        drop(db);
        return caller.finish(ok(json!({"acknowledged": true, "deletedCount": n})));
    }
    let Some(pos) = db
        .entities
        .iter()
        .position(|e| e.blueprint == key && e.identifier == id && in_scope(e, &scope))
    else {
        return message(StatusCode::NOT_FOUND, "entity not found");
    };
    let e = db.entities.remove(pos);
    drop(db);
    super::plugins::emit(&mock, entity_event(&e, "delete"));
    caller.finish(ok(entity_json(&e, true, Shape::Write)))
}
