//! Workspace routes (§4).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};

use super::verify::{Caller, verify_user};
use crate::MockInner;
use crate::state::{CredentialKind, MemberRec, Principal, Store, WorkspaceRec};
use crate::util::{iso, message, now_ms, object_id, ok, request_host};

type Mock = State<Arc<MockInner>>;

/// The signed-in caller; an admin's `x-impersonate-user` swaps in that user
/// (`handleImpersonation`).
fn caller(mock: &MockInner, headers: &HeaderMap) -> Result<(Principal, Caller), Response> {
    let caller = verify_user(&mock.store, headers)?;
    let p = caller.require()?.clone();
    match super::impersonation::auth_swap(&mock.store, headers, &p) {
        Ok(Some(other)) => Ok((other, caller)),
        Ok(None) => Ok((p, caller)),
        Err(r) => Err(caller.finish(r)),
    }
}

fn member_json(m: &MemberRec) -> Value {
    json!({"_id": m.id, "user": m.user, "roles": m.roles, "created": m.created})
}

fn is_ws_admin(p: &Principal, ws: &WorkspaceRec) -> bool {
    p.is_privileged()
        || ws
            .members
            .iter()
            .any(|m| m.user == p.user_id && m.roles.iter().any(|r| r == "admin"))
}

fn visible(p: &Principal, ws: &WorkspaceRec) -> bool {
    ws.tenant == p.tenant && (p.is_privileged() || ws.members.iter().any(|m| m.user == p.user_id))
}

fn doc(ws: &WorkspaceRec, p: &Principal) -> Value {
    let members: Vec<Value> = if is_ws_admin(p, ws) {
        ws.members.iter().map(member_json).collect()
    } else {
        ws.members
            .iter()
            .filter(|m| m.user == p.user_id)
            .map(member_json)
            .collect()
    };
    let mut v = json!({"_id": ws.id, "name": ws.name, "labels": ws.labels, "members": members, "tenant": ws.tenant, "created": ws.created});
    if let Some(logo) = &ws.logo {
        v["logo"] = json!(logo);
    }
    v
}

fn not_found() -> Response {
    let mut r = message(StatusCode::NOT_FOUND, "workspace not found");
    let body = json!({"message": "workspace not found", "from": "get-workspace"});
    *r.body_mut() = axum::body::Body::from(body.to_string());
    r
}

/// `GET /api/workspaces`.
pub(crate) async fn list(State(mock): Mock, headers: HeaderMap) -> Response {
    let (p, caller) = match caller(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let db = mock.store.db();
    let out: Vec<Value> = db
        .workspaces
        .iter()
        .filter(|w| w.tenant == p.tenant)
        .filter_map(|w| {
            let own = w.members.iter().find(|m| m.user == p.user_id)?;
            let mut v = json!({"_id": w.id, "name": w.name, "tenant": w.tenant, "members": [member_json(own)],
                "isPrivilegedUser": own.roles.iter().any(|r| r == "admin")});
            if let Some(logo) = &w.logo {
                v["logo"] = json!(logo);
            }
            Some(v)
        })
        .collect();
    drop(db);
    caller.finish(ok(json!(out)))
}

/// `GET /api/workspaces/{id}`.
pub(crate) async fn get(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (p, caller) = match caller(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let db = mock.store.db();
    match db.workspaces.iter().find(|w| w.id == id && visible(&p, w)) {
        Some(ws) => {
            let mut v = doc(ws, &p);
            if is_ws_admin(&p, ws) {
                v["invites"] = json!(mock.user_api.invites.of(&ws.id));
            }
            drop(db);
            caller.finish(ok(v))
        }
        None => not_found(),
    }
}

/// `POST /api/workspaces`.
pub(crate) async fn create(
    State(mock): Mock,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let (p, caller) = match caller(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(name) = body
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.trim().is_empty())
    else {
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "failed to create workspace",
        );
    };
    let labels = match body.get("labels") {
        None => Vec::new(),
        Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(_) => {
            return message(
                StatusCode::BAD_REQUEST,
                "please provide labels with valid values.",
            );
        }
    };
    let created = iso(now_ms());
    let ws = WorkspaceRec {
        id: object_id(),
        tenant: p.tenant.clone(),
        name: name.to_owned(),
        logo: body.get("logo").and_then(Value::as_str).map(str::to_owned),
        labels,
        members: vec![MemberRec {
            id: object_id(),
            user: p.user_id.clone(),
            roles: vec!["admin".into(), "user".into()],
            created: created.clone(),
        }],
        created,
    };
    let v = doc(&ws, &p);
    mock.store.db().workspaces.push(ws);
    caller.finish(ok(v))
}

/// `PUT /api/workspaces/{id}`.
pub(crate) async fn update(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (p, caller) = match caller(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let mut db = mock.store.db();
    let Some(ws) = db
        .workspaces
        .iter_mut()
        .find(|w| w.id == id && visible(&p, w))
    else {
        return not_found();
    };
    if !is_ws_admin(&p, ws) {
        return message(StatusCode::FORBIDDEN, "not authorized");
    }
    if let Some(n) = body.get("name").and_then(Value::as_str) {
        ws.name = n.to_owned();
    }
    if let Some(l) = body.get("logo").and_then(Value::as_str) {
        ws.logo = Some(l.to_owned());
    }
    if let Some(invites) = body.get("invites") {
        let Some(list) = invites.as_array() else {
            return message(StatusCode::BAD_REQUEST, "Invalid data. Must be an array.");
        };
        if let Err(e) = mock.user_api.invites.replace(&ws.id, list) {
            return message(StatusCode::BAD_REQUEST, e);
        }
    }
    if p.is_privileged()
        && let Some(labels) = body.get("labels")
    {
        let Some(a) = labels.as_array() else {
            return message(StatusCode::BAD_REQUEST, "Invalid data. Must be an array.");
        };
        ws.labels = a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
    }
    let mut v = doc(ws, &p);
    v["invites"] = json!(mock.user_api.invites.of(&ws.id));
    drop(db);
    caller.finish(ok(v))
}

/// `DELETE /api/workspaces/{id}`.
pub(crate) async fn remove(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (p, caller) = match caller(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if p.workspace_id().as_deref() == Some(id.as_str()) {
        return message(
            StatusCode::BAD_REQUEST,
            "You cannot remove your active workspace.",
        );
    }
    let mut db = mock.store.db();
    let Some(pos) = db
        .workspaces
        .iter()
        .position(|w| w.id == id && visible(&p, w))
    else {
        return not_found();
    };
    if !is_ws_admin(&p, &db.workspaces[pos]) {
        return message(StatusCode::FORBIDDEN, "not authorized");
    }
    let ws = db.workspaces.remove(pos);
    let v = doc(&ws, &p);
    drop(db);
    caller.finish(ok(v))
}

/// `POST /api/workspaces/{id}/activate` (cookie sessions only).
pub(crate) async fn activate(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let store = &mock.store;
    let (p, caller) = match caller(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if p.kind != CredentialKind::Cookie {
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "failed to activate workspace",
        );
    }
    let mut db = store.db();
    let Some(ws) = db.workspaces.iter().find(|w| w.id == id && visible(&p, w)) else {
        return not_found();
    };
    let body = doc(ws, &p);
    let claim = Store::workspace_claim(&db, &p.user_id, &id, true);
    let Some(user) = db.users.iter_mut().find(|u| u.id == p.user_id) else {
        return message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "failed to activate workspace",
        );
    };
    if let Some(old) = &p.identifier {
        user.tokens.retain(|t| &t.identifier != old);
    }
    let (jwt, _) = store.cookie_jwt(user, claim, Duration::ZERO, store.config.cookie_ttl, true);
    let tenant = user.tenant.clone();
    drop(db);
    let mut response = caller.finish(ok(body));
    let set = store.session_cookie(&tenant, &jwt, request_host(&headers).as_deref());
    if let Ok(v) = HeaderValue::from_str(&set) {
        response.headers_mut().append(header::SET_COOKIE, v);
    }
    response
}

/// `GET /api/workspaces/{id}/members`.
pub(crate) async fn members(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let (p, caller) = match caller(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let db = mock.store.db();
    let Some(ws) = db.workspaces.iter().find(|w| w.id == id && visible(&p, w)) else {
        return message(StatusCode::NOT_FOUND, "workspace not found");
    };
    if !is_ws_admin(&p, ws) {
        return message(StatusCode::FORBIDDEN, "not authorized");
    }
    let out: Vec<Value> = ws
        .members
        .iter()
        .map(|m| {
            let u = db.users.iter().find(|u| u.id == m.user);
            json!({"_id": m.id, "email": u.map(|u| u.email.clone()), "fullName": u.map(|u| u.full_name.clone()),
                "firstName": u.map(|u| u.first_name.clone()), "lastName": u.map(|u| u.last_name.clone()),
                "user": m.user, "roles": m.roles, "created": m.created})
        })
        .collect();
    drop(db);
    caller.finish(ok(json!(out)))
}

/// `POST /api/workspaces/{id}/members` (tenant-privileged).
pub(crate) async fn add_member(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let (p, caller) = match caller(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    if !p.is_privileged() {
        return message(StatusCode::FORBIDDEN, "not authorized");
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (Some(user_id), Some(roles)) = (
        body.get("userId").and_then(Value::as_str),
        body.get("roles").and_then(Value::as_array),
    ) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Invalid input. Provide \"userId\", \"roles\".",
        );
    };
    let roles: Vec<String> = roles
        .iter()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    let mut db = mock.store.db();
    if !db.users.iter().any(|u| u.id == user_id) {
        return message(StatusCode::NOT_FOUND, "User not found.");
    }
    let Some(ws) = db.workspaces.iter_mut().find(|w| w.id == id) else {
        return message(StatusCode::NOT_FOUND, "Workspace not found.");
    };
    if ws.members.iter().any(|m| m.user == user_id) {
        return message(
            StatusCode::BAD_REQUEST,
            "User is already a member of the workspace.",
        );
    }
    ws.members.push(MemberRec {
        id: object_id(),
        user: user_id.to_owned(),
        roles,
        created: iso(now_ms()),
    });
    let v = doc(ws, &p);
    drop(db);
    caller.finish(ok(
        json!({"message": "Member added successfully.", "workspace": v}),
    ))
}

/// `PUT /api/workspaces/{id}/members/{user_id}`.
pub(crate) async fn update_member(
    State(mock): Mock,
    headers: HeaderMap,
    Path((id, user_id)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let (p, caller) = match caller(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(roles) = body.get("roles").and_then(Value::as_array) else {
        return message(
            StatusCode::BAD_REQUEST,
            "Invalid input. \"roles\" must be an array.",
        );
    };
    let roles: Vec<String> = roles
        .iter()
        .filter_map(|r| r.as_str().map(str::to_owned))
        .collect();
    let mut db = mock.store.db();
    let Some(ws) = db.workspaces.iter_mut().find(|w| w.id == id) else {
        return message(StatusCode::NOT_FOUND, "Workspace not found.");
    };
    if !is_ws_admin(&p, ws) {
        return message(StatusCode::FORBIDDEN, "not authorized");
    }
    let Some(m) = ws.members.iter_mut().find(|m| m.user == user_id) else {
        return message(StatusCode::NOT_FOUND, "Member not found in the workspace.");
    };
    m.roles = roles;
    let updated = member_json(m);
    drop(db);
    caller.finish(ok(json!({"message": "Member roles updated successfully.", "updatedMember": updated, "workspaceId": id})))
}

/// `DELETE /api/workspaces/{id}/members/{user_id}`.
pub(crate) async fn remove_member(
    State(mock): Mock,
    headers: HeaderMap,
    Path((id, user_id)): Path<(String, String)>,
) -> Response {
    let (p, caller) = match caller(&mock, &headers) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let mut db = mock.store.db();
    let Some(ws) = db.workspaces.iter_mut().find(|w| w.id == id) else {
        return message(StatusCode::NOT_FOUND, "Workspace not found.");
    };
    if !is_ws_admin(&p, ws) {
        return message(StatusCode::FORBIDDEN, "not authorized");
    }
    let Some(pos) = ws.members.iter().position(|m| m.user == user_id) else {
        return message(StatusCode::NOT_FOUND, "Member not found in the workspace.");
    };
    let removed = ws.members.remove(pos);
    drop(db);
    caller.finish(ok(json!({"message": "Member removed from workspace.", "removedMemberId": removed.id, "userId": user_id})))
}
