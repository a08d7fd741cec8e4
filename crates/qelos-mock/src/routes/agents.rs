//! AI agents (`/api/ai/agents`): chat-completion integrations seen through the AI service.
//!
//! As in Qelos, an agent is stored as an integration (the same documents as
//! `/api/integrations`) with a `chatCompletion` trigger; the trigger's `details` hold `name`,
//! `systemPrompt`, `tools`, `workspace`, the target's `details` hold `model`, `temperature`,
//! `max_tokens` and the system prompt as a `pre_messages` entry. Managing agents goes through
//! the plugins service with the caller's identity, so only admins (and plugins) may list,
//! read, create, update or delete them; the AI service reports the plugins service's refusal
//! with its own message (`500 Failed to list agents`, `401 Failed to get agent`, ...). Any
//! signed-in user whose roles match the trigger's `roles` may chat with an active agent; the
//! fake model of [`crate::fakes`] answers, and each chat without a `threadId` starts a thread.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Map, Value, json};

use super::admin::{Guard, check, new_doc};
use super::verify::verify_user;
use crate::MockInner;
use crate::util::{empty, message, ok};

type Mock = State<Arc<MockInner>>;

const COLL: &str = "integrations";

/// The agent routes.
pub(crate) fn router() -> Router<Arc<MockInner>> {
    Router::new()
        .route("/api/ai/agents", get(list).post(create))
        .route(
            "/api/ai/agents/{id}",
            get(get_one).put(update).delete(remove),
        )
        .route("/api/ai/agents/{id}/chat", get(chat).post(chat))
}

fn is_object_id(v: &str) -> bool {
    v.len() == 24 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

fn is_agent(doc: &Value) -> bool {
    doc["trigger"]["operation"] == "chatCompletion"
}

/// The agent integration `id` of `tenant`.
pub(super) fn find(mock: &MockInner, tenant: &str, id: &str) -> Option<Value> {
    mock.admin.find(COLL, tenant, "_id", id).filter(is_agent)
}

/// `integrationToAgent`.
fn to_agent(doc: &Value) -> Value {
    let trigger = &doc["trigger"]["details"];
    let target = &doc["target"]["details"];
    let id_of = |v: &Value| v.get("_id").cloned().unwrap_or_else(|| v.clone());
    let mut agent = json!({
        "_id": doc["_id"],
        "name": trigger["name"].as_str().unwrap_or_default(),
        "model": target["model"].as_str().unwrap_or_default(),
        "systemPrompt": trigger["systemPrompt"].as_str().unwrap_or_default(),
        "tools": if trigger["tools"].is_array() { trigger["tools"].clone() } else { json!([]) },
        "tenant": doc["tenant"],
        "triggerSource": id_of(&doc["trigger"]["source"]),
        "targetSource": id_of(&doc["target"]["source"]),
        "active": doc["active"] != false,
        "created": doc["created"],
    });
    for (from, to, key) in [
        (target, "temperature", "temperature"),
        (target, "max_tokens", "maxTokens"),
        (trigger, "workspace", "workspace"),
    ] {
        if let Some(v) = from.get(to).filter(|v| !v.is_null()) {
            agent[key] = v.clone();
        }
    }
    agent
}

/// `agentPayloadToTrigger` / `agentPayloadToTarget` applied to `existing` (or a new document).
fn apply(payload: &Map<String, Value>, existing: Option<&Value>) -> Map<String, Value> {
    let details = |side: &str| {
        existing
            .and_then(|e| e[side]["details"].as_object().cloned())
            .unwrap_or_default()
    };
    let source = |side: &str, key: &str| {
        payload
            .get(key)
            .filter(|v| v.as_str().is_some_and(|s| !s.is_empty()))
            .cloned()
            .or_else(|| existing.map(|e| e[side]["source"].clone()))
            .unwrap_or(Value::Null)
    };
    let mut trigger = details("trigger");
    for k in ["name", "systemPrompt", "tools", "workspace"] {
        if let Some(v) = payload.get(k) {
            trigger.insert(k.into(), v.clone());
        }
    }
    let mut target = details("target");
    for (from, to) in [
        ("model", "model"),
        ("temperature", "temperature"),
        ("maxTokens", "max_tokens"),
    ] {
        if let Some(v) = payload.get(from) {
            target.insert(to.into(), v.clone());
        }
    }
    if let Some(prompt) = payload.get("systemPrompt").and_then(Value::as_str) {
        let mut pre: Vec<Value> = target
            .get("pre_messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        pre.retain(|m| !(m["role"] == "system" && m["__agentSystemPrompt"] == true));
        if !prompt.is_empty() {
            pre.insert(
                0,
                json!({"role": "system", "content": prompt, "__agentSystemPrompt": true}),
            );
        }
        target.insert("pre_messages".into(), Value::from(pre));
    }
    let mut doc = Map::new();
    doc.insert(
        "trigger".into(),
        json!({"source": source("trigger", "triggerSource"), "operation": "chatCompletion", "details": trigger}),
    );
    doc.insert(
        "target".into(),
        json!({"source": source("target", "targetSource"), "operation": "chatCompletion", "details": target}),
    );
    doc
}

fn body_map(body: &[u8]) -> Map<String, Value> {
    match serde_json::from_slice(body) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// The AI service's own check (`verifyUser`: an empty 401 when anonymous), then the plugins
/// service's (admins and plugins), whose refusal the AI service answers as `status` + `text`.
fn manager(
    mock: &MockInner,
    headers: &HeaderMap,
    status: StatusCode,
    text: &str,
) -> Result<super::admin::Who, Response> {
    match verify_user(&mock.store, headers) {
        Ok(c) if c.principal.is_some() => {}
        _ => return Err(empty(StatusCode::UNAUTHORIZED)),
    }
    check(mock, headers, Guard::EditOrPlugin).map_err(|_| message(status, text))
}

fn valid_id(id: &str) -> Result<(), Response> {
    if is_object_id(id) {
        Ok(())
    } else {
        Err(message(
            StatusCode::BAD_REQUEST,
            "Valid agent ID is required",
        ))
    }
}

fn not_found() -> Response {
    message(StatusCode::NOT_FOUND, "Agent not found")
}

/// `GET /api/ai/agents?active=&kind=`.
async fn list(
    State(mock): Mock,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let who = match manager(
        &mock,
        &headers,
        StatusCode::INTERNAL_SERVER_ERROR,
        "Failed to list agents",
    ) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let agents: Vec<Value> = mock
        .admin
        .list(COLL, who.tenant())
        .into_iter()
        .filter(is_agent)
        .filter(|d| {
            q.get("active")
                .is_none_or(|a| (d["active"] != false).to_string() == *a)
        })
        .filter(|d| {
            q.get("kind").is_none_or(|k| match &d["kind"] {
                Value::Array(kinds) => kinds.iter().any(|x| x == k.as_str()),
                other => other == k.as_str(),
            })
        })
        .map(|d| to_agent(&d))
        .collect();
    who.finish(ok(Value::from(agents)))
}

/// `GET /api/ai/agents/{id}`.
async fn get_one(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = valid_id(&id) {
        return r;
    }
    let who = match manager(
        &mock,
        &headers,
        StatusCode::UNAUTHORIZED,
        "Failed to get agent",
    ) {
        Ok(w) => w,
        Err(r) => return r,
    };
    match find(&mock, who.tenant(), &id) {
        Some(doc) => who.finish(ok(to_agent(&doc))),
        None => who.finish(not_found()),
    }
}

/// `POST /api/ai/agents`: `201` with the agent.
async fn create(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let payload = body_map(&body);
    let has = |k: &str| {
        payload
            .get(k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    };
    let who = match manager(
        &mock,
        &headers,
        StatusCode::UNAUTHORIZED,
        "Failed to create agent",
    ) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if !has("name") {
        return who.finish(message(StatusCode::BAD_REQUEST, "name is required"));
    }
    if !has("triggerSource") || !has("targetSource") {
        return who.finish(message(
            StatusCode::BAD_REQUEST,
            "triggerSource and targetSource are required",
        ));
    }
    let mut doc = apply(&payload, None);
    doc.insert(
        "active".into(),
        Value::Bool(payload.get("active") != Some(&Value::Bool(false))),
    );
    doc.insert("dataManipulation".into(), json!([]));
    doc.insert("targetManipulation".into(), json!([]));
    doc.insert("kind".into(), json!([]));
    let doc = new_doc(doc, who.tenant());
    mock.admin.insert(COLL, doc.clone());
    who.finish((StatusCode::CREATED, axum::Json(to_agent(&doc))).into_response())
}

/// `PUT /api/ai/agents/{id}`.
async fn update(
    State(mock): Mock,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(r) = valid_id(&id) {
        return r;
    }
    let who = match manager(
        &mock,
        &headers,
        StatusCode::UNAUTHORIZED,
        "Failed to update agent",
    ) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let Some(existing) = find(&mock, who.tenant(), &id) else {
        return who.finish(not_found());
    };
    let payload = body_map(&body);
    let mut changes = apply(&payload, Some(&existing));
    if let Some(a) = payload.get("active") {
        changes.insert("active".into(), a.clone());
    }
    match mock.admin.update(COLL, who.tenant(), "_id", &id, &changes) {
        Some(doc) => who.finish(ok(to_agent(&doc))),
        None => who.finish(not_found()),
    }
}

/// `DELETE /api/ai/agents/{id}`: `{success: true, message: "Agent deleted"}`.
async fn remove(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    if let Err(r) = valid_id(&id) {
        return r;
    }
    let who = match manager(
        &mock,
        &headers,
        StatusCode::UNAUTHORIZED,
        "Failed to delete agent",
    ) {
        Ok(w) => w,
        Err(r) => return r,
    };
    if find(&mock, who.tenant(), &id).is_none() {
        return who.finish(not_found());
    }
    mock.admin.remove(COLL, who.tenant(), "_id", &id);
    who.finish(ok(json!({"success": true, "message": "Agent deleted"})))
}

/// `POST /api/ai/agents/{id}/chat` (JSON `{messages, threadId?}`) and `GET` (Server-Sent
/// Events; `messages` JSON-encoded or `message` in the query, `threadId` in the query).
async fn chat(
    State(mock): Mock,
    method: Method,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    let caller = match verify_user(&mock.store, &headers) {
        Ok(c) if c.principal.is_some() => c,
        Ok(c) => return c.finish(empty(StatusCode::UNAUTHORIZED)),
        Err(_) => return empty(StatusCode::UNAUTHORIZED),
    };
    let Some(p) = caller.principal.clone() else {
        return empty(StatusCode::UNAUTHORIZED);
    };
    if let Err(r) = valid_id(&id) {
        return caller.finish(r);
    }
    let Some(agent) = find(&mock, &p.tenant, &id).filter(|a| a["active"] != false) else {
        return caller.finish(not_found());
    };
    let required: Vec<&str> = agent["trigger"]["details"]["roles"]
        .as_array()
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    if !required.is_empty()
        && !required.contains(&"*")
        && !required
            .iter()
            .any(|r| p.roles.iter().any(|mine| mine == r))
    {
        return caller.finish(message(
            StatusCode::FORBIDDEN,
            "User does not have required roles",
        ));
    }
    let sse = method == Method::GET;
    let (messages, thread) = if sse {
        let mut messages: Vec<Value> = q
            .get("messages")
            .and_then(|m| serde_json::from_str::<Vec<Value>>(m).ok())
            .unwrap_or_default();
        if messages.is_empty()
            && let Some(m) = q.get("message")
        {
            messages.push(json!({"role": "user", "content": m}));
        }
        (messages, q.get("threadId").cloned())
    } else {
        let body = body_map(&body);
        let messages = body
            .get("messages")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let thread = body
            .get("threadId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        (messages, thread)
    };
    if messages.is_empty() {
        return caller.finish(message(StatusCode::BAD_REQUEST, "messages are required"));
    }
    let thread = match thread.filter(|t| is_object_id(t)) {
        Some(t) => t,
        None => super::ai::new_thread(&mock, &p, &id, None)["_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    };
    super::ai::answer(&mock, &caller, &p, &id, Some(&thread), &messages, sse)
}
