//! Workspace invitations: `GET/POST /api/invites` and the `invites` of a workspace document.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::verify::verify_user;
use crate::MockInner;
use crate::state::MemberRec;
use crate::util::{iso, message, now_ms, object_id, ok};

type Mock = State<Arc<MockInner>>;

/// Workspace id → its invites (`{_id, email, name?, phone?, roles, created}`).
#[derive(Default)]
pub(crate) struct InviteState {
    by_workspace: Mutex<HashMap<String, Vec<Value>>>,
}

impl InviteState {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Vec<Value>>> {
        self.by_workspace
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
    /// The invites of a workspace, as its document shows them.
    pub(crate) fn of(&self, workspace: &str) -> Vec<Value> {
        self.map().get(workspace).cloned().unwrap_or_default()
    }
    /// Replaces the invites of a workspace from an update body (`invites: [...]`): each
    /// needs an `email`; ids and creation dates are kept or given.
    pub(crate) fn replace(&self, workspace: &str, invites: &[Value]) -> Result<(), &'static str> {
        let mut out = Vec::with_capacity(invites.len());
        for inv in invites {
            let Some(email) = inv.get("email").and_then(Value::as_str) else {
                return Err("invite email is required");
            };
            let mut v = json!({
                "_id": inv.get("_id").cloned().unwrap_or_else(|| json!(object_id())),
                "email": email,
                "roles": inv.get("roles").cloned().unwrap_or_else(|| json!(["member"])),
                "created": inv.get("created").cloned().unwrap_or_else(|| json!(iso(now_ms()))),
            });
            for key in ["name", "phone"] {
                if let Some(x) = inv.get(key) {
                    v[key] = x.clone();
                }
            }
            out.push(v);
        }
        self.map().insert(workspace.to_owned(), out);
        Ok(())
    }
}

/// The invite routes.
pub(crate) fn router() -> Router<Arc<MockInner>> {
    Router::new().route("/api/invites", get(list).post(respond))
}

async fn list(State(mock): Mock, headers: HeaderMap) -> Response {
    let caller = match verify_user(&mock.store, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = match caller.require() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let p = match super::impersonation::auth_swap(&mock.store, &headers, &p) {
        Ok(other) => other.unwrap_or(p),
        Err(r) => return caller.finish(r),
    };
    if p.email.is_empty() {
        return caller.finish(message(
            StatusCode::INTERNAL_SERVER_ERROR,
            "missing email or phone",
        ));
    }
    let invited: Vec<String> = mock
        .user_api
        .invites
        .map()
        .iter()
        .filter(|(_, invs)| invs.iter().any(|i| i["email"] == p.email.as_str()))
        .map(|(ws, _)| ws.clone())
        .collect();
    let db = mock.store.db();
    let list: Vec<Value> = db
        .workspaces
        .iter()
        .filter(|w| w.tenant == p.tenant && invited.contains(&w.id))
        .map(|w| {
            let mut v = json!({"_id": w.id, "name": w.name});
            if let Some(logo) = &w.logo {
                v["logo"] = json!(logo);
            }
            v
        })
        .collect();
    drop(db);
    caller.finish(ok(json!(list)))
}

async fn respond(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let caller = match verify_user(&mock.store, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let p = match caller.require() {
        Ok(p) => p.clone(),
        Err(r) => return r,
    };
    let p = match super::impersonation::auth_swap(&mock.store, &headers, &p) {
        Ok(other) => other.unwrap_or(p),
        Err(r) => return caller.finish(r),
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(ws_id) = body.get("workspace").and_then(Value::as_str) else {
        return caller.finish(message(StatusCode::BAD_REQUEST, "missing workspaceId"));
    };
    let kind = body
        .get("kind")
        .and_then(Value::as_str)
        .unwrap_or("decline");
    if kind != "accept" && kind != "decline" {
        return caller.finish(message(
            StatusCode::BAD_REQUEST,
            "respond kind should be either \"accept\" or \"decline\"",
        ));
    }
    // The store before the invites, as `PUT /api/workspaces/{id}` takes them.
    let mut db = mock.store.db();
    let mut invites = mock.user_api.invites.map();
    let ws = db
        .workspaces
        .iter_mut()
        .find(|w| w.id == ws_id && w.tenant == p.tenant);
    let pending = invites.get_mut(ws_id);
    let (Some(ws), Some(pending)) = (ws, pending) else {
        return caller.finish(not_found());
    };
    if !pending.iter().any(|i| i["email"] == p.email.as_str()) {
        return caller.finish(not_found());
    }
    pending.retain(|i| i["email"] != p.email.as_str());
    if kind == "accept" && !ws.members.iter().any(|m| m.user == p.user_id) {
        ws.members.push(MemberRec {
            id: object_id(),
            user: p.user_id.clone(),
            roles: vec!["member".into(), "user".into()],
            created: iso(now_ms()),
        });
    }
    caller.finish(ok(json!({"success": true})))
}

fn not_found() -> Response {
    let mut r = message(StatusCode::NOT_FOUND, "workspace not found");
    let body = json!({"message": "workspace not found", "from": "invite-respond"});
    *r.body_mut() = axum::body::Body::from(body.to_string());
    r
}
