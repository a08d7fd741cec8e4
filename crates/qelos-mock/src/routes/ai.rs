//! AI routes: threads, chat completions (whole and Server-Sent Events) and RAG storage, with
//! a deterministic fake model in place of the AI provider.
//!
//! The fake model answers `Echo: <the last user message>`; streamed, each word is one `chunk`
//! event, then `done`. Two messages steer it for tests: `__cut__` sends two chunks and then
//! breaks the connection (no `done`); `__endless__` streams chunks until the client leaves, and
//! the mock counts `"AI stream dropped"` in `calls` when it notices.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::verify::{Caller, verify_user};
use crate::MockInner;
use crate::fakes::{AI_INTEGRATION_ID, AI_SOURCE_ID};
use crate::state::Principal;
use crate::util::{iso, message, now_ms, object_id, ok};

type Mock = State<Arc<MockInner>>;

#[derive(Clone, Debug)]
struct ThreadRec {
    id: String,
    tenant: String,
    integration: String,
    title: Option<String>,
    user: String,
    workspace: Option<String>,
    messages: Vec<Value>,
    created: String,
    updated_ms: u64,
}

#[derive(Default)]
struct Db {
    threads: Vec<ThreadRec>,
    /// vector store id → (scope, subject, file ids)
    stores: HashMap<String, (String, Option<String>, Vec<String>)>,
}

/// The AI part of the mock's memory.
#[derive(Default)]
pub(crate) struct AiState {
    db: Mutex<Db>,
}

impl AiState {
    fn db(&self) -> MutexGuard<'_, Db> {
        self.db.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The AI routes.
pub(crate) fn router() -> Router<Arc<MockInner>> {
    Router::new()
        .route("/api/ai/threads", post(create_thread).get(list_threads))
        .route(
            "/api/ai/threads/{id}",
            get(get_thread).delete(delete_thread),
        )
        .route("/api/ai/{integration}/chat-completion", post(chat))
        .route(
            "/api/ai/{integration}/chat-completion/{thread}",
            post(chat_in_thread),
        )
        .route("/api/ai/sources/{source}/storage", post(create_storage))
        .route("/api/ai/sources/{source}/storage/upload", post(upload))
        .route("/api/ai/sources/{source}/storage/clear", post(clear))
}

fn error(status: StatusCode, text: &str) -> Response {
    (status, axum::Json(json!({ "error": text }))).into_response()
}

fn signed_in(mock: &MockInner, headers: &HeaderMap) -> Result<(Principal, Caller), Response> {
    let caller = verify_user(&mock.store, headers)?;
    let p = caller.require()?.clone();
    Ok((p, caller))
}

fn is_object_id(v: &str) -> bool {
    v.len() == 24 && v.bytes().all(|b| b.is_ascii_hexdigit())
}

fn thread_json(t: &ThreadRec, with_messages: bool) -> Value {
    let mut v = json!({
        "_id": t.id, "integration": t.integration, "user": t.user,
        "messageSummaries": [], "created": t.created, "updated": iso(t.updated_ms),
    });
    if let Some(title) = &t.title {
        v["title"] = json!(title);
    }
    if let Some(ws) = &t.workspace {
        v["workspace"] = json!(ws);
    }
    if with_messages {
        v["messages"] = json!(t.messages);
    }
    v
}

/// Whether `p` may see thread `t`: its owner, or a privileged user of the tenant.
fn may_see(p: &Principal, t: &ThreadRec) -> bool {
    t.tenant == p.tenant && (t.user == p.user_id || p.is_privileged())
}

async fn create_thread(State(mock): Mock, headers: HeaderMap, body: Bytes) -> Response {
    let (p, caller) = match signed_in(&mock, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let integration = body
        .get("integration")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !is_object_id(integration) {
        return caller.finish(error(
            StatusCode::BAD_REQUEST,
            "Valid integration ID is required",
        ));
    }
    if !chat_integration(&mock, &p.tenant, integration) {
        return caller.finish(error(StatusCode::NOT_FOUND, "Integration not found"));
    }
    let title = body.get("title").and_then(Value::as_str).map(str::to_owned);
    let v = new_thread(&mock, &p, integration, title);
    caller.finish((StatusCode::CREATED, axum::Json(v)).into_response())
}

/// Whether `id` is a chat-completion integration of `tenant`: the seeded one, or an agent.
fn chat_integration(mock: &MockInner, tenant: &str, id: &str) -> bool {
    id == AI_INTEGRATION_ID || super::agents::find(mock, tenant, id).is_some()
}

/// Stores a new empty thread of `p` on `integration`; answers its JSON.
pub(super) fn new_thread(
    mock: &MockInner,
    p: &Principal,
    integration: &str,
    title: Option<String>,
) -> Value {
    let now = now_ms();
    let thread = ThreadRec {
        id: object_id(),
        tenant: p.tenant.clone(),
        integration: integration.to_owned(),
        title,
        user: p.user_id.clone(),
        workspace: p.workspace_id(),
        messages: Vec::new(),
        created: iso(now),
        updated_ms: now,
    };
    let v = thread_json(&thread, true);
    mock.user_api.ai.db().threads.push(thread);
    v
}

async fn list_threads(
    State(mock): Mock,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (p, caller) = match signed_in(&mock, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let db = mock.user_api.ai.db();
    let mut found: Vec<&ThreadRec> = db
        .threads
        .iter()
        .filter(|t| t.tenant == p.tenant)
        .filter(|t| {
            if p.is_privileged() {
                q.get("user").is_none_or(|u| *u == t.user)
            } else {
                t.user == p.user_id
            }
        })
        .filter(|t| q.get("integration").is_none_or(|i| *i == t.integration))
        .filter(|t| {
            q.get("workspace")
                .is_none_or(|w| t.workspace.as_deref() == Some(w.as_str()))
        })
        .collect();
    // Default sort: `-updated`.
    found.sort_by(|a, b| b.updated_ms.cmp(&a.updated_ms).then(b.id.cmp(&a.id)));
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(usize::MAX);
    let page = q
        .get("page")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(0);
    let list: Vec<Value> = found
        .into_iter()
        .skip(page.saturating_mul(limit.min(1 << 20)))
        .take(limit)
        .map(|t| thread_json(t, false))
        .collect();
    caller.finish(ok(json!(list)))
}

fn find_thread<'a>(db: &'a mut Db, p: &Principal, id: &str) -> Result<&'a mut ThreadRec, Response> {
    if !is_object_id(id) {
        return Err(error(
            StatusCode::BAD_REQUEST,
            "Valid thread ID is required",
        ));
    }
    db.threads
        .iter_mut()
        .find(|t| t.id == id && may_see(p, t))
        .ok_or_else(|| error(StatusCode::NOT_FOUND, "Thread not found"))
}

async fn get_thread(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (p, caller) = match signed_in(&mock, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut db = mock.user_api.ai.db();
    caller.finish(match find_thread(&mut db, &p, &id) {
        Ok(t) => ok(thread_json(t, true)),
        Err(r) => r,
    })
}

async fn delete_thread(State(mock): Mock, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let (p, caller) = match signed_in(&mock, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let mut db = mock.user_api.ai.db();
    let found = find_thread(&mut db, &p, &id).map(|t| t.id.clone());
    caller.finish(match found {
        Ok(id) => {
            db.threads.retain(|t| t.id != id);
            ok(json!({"message": "Thread deleted successfully"}))
        }
        Err(r) => r,
    })
}

async fn chat(
    State(mock): Mock,
    headers: HeaderMap,
    Path(integration): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    complete(&mock, &headers, &integration, None, &q, &body)
}

async fn chat_in_thread(
    State(mock): Mock,
    headers: HeaderMap,
    Path((integration, thread)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> Response {
    complete(&mock, &headers, &integration, Some(&thread), &q, &body)
}

/// The fake model's answer to a conversation.
fn fake_answer(messages: &[Value]) -> String {
    let last = messages
        .iter()
        .rev()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("user"))
        .and_then(|m| m.get("content"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    format!("Echo: {last}")
}

fn complete(
    mock: &Arc<MockInner>,
    headers: &HeaderMap,
    integration: &str,
    thread: Option<&str>,
    q: &HashMap<String, String>,
    body: &[u8],
) -> Response {
    let (p, caller) = match signed_in(mock, headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !chat_integration(mock, &p.tenant, integration) {
        return caller.finish(message(StatusCode::NOT_FOUND, "integration not found"));
    }
    let body: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let messages: Vec<Value> = body
        .get("messages")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if messages.is_empty() {
        return caller.finish(message(StatusCode::BAD_REQUEST, "messages are required"));
    }
    let streamed = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("text/event-stream"))
        || q.get("stream").is_some_and(|s| s == "true");
    answer(mock, &caller, &p, integration, thread, &messages, streamed)
}

/// The fake model's answer to `messages` on `integration` (recorded in `thread`), whole or as
/// Server-Sent Events.
pub(super) fn answer(
    mock: &Arc<MockInner>,
    caller: &Caller,
    p: &Principal,
    integration: &str,
    thread: Option<&str>,
    messages: &[Value],
    streamed: bool,
) -> Response {
    let answer = fake_answer(messages);
    if let Some(thread) = thread {
        let mut db = mock.user_api.ai.db();
        match find_thread(&mut db, p, thread) {
            Ok(t) => {
                if t.integration != integration {
                    return caller.finish(message(StatusCode::NOT_FOUND, "thread not found"));
                }
                t.messages.extend(messages.iter().cloned());
                t.messages.push(
                    json!({"role": "assistant", "content": answer, "timestamp": iso(now_ms())}),
                );
                t.updated_ms = now_ms();
            }
            Err(_) => return caller.finish(message(StatusCode::NOT_FOUND, "thread not found")),
        }
    }
    if !streamed {
        return caller.finish(ok(json!({
            "id": format!("chatcmpl-{}", object_id()),
            "object": "chat.completion",
            "created": now_ms() / 1000,
            "model": "qelos-mock-echo",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": messages.len(), "completion_tokens": answer.split(' ').count(), "total_tokens": messages.len() + answer.split(' ').count()},
        })));
    }
    let last = answer.trim_start_matches("Echo: ").to_owned();
    let stream_body = match last.as_str() {
        "__cut__" => cut_stream(),
        "__endless__" => endless_stream(Arc::clone(mock)),
        _ => word_stream(&answer),
    };
    let mut response = Response::new(stream_body);
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        header::HeaderValue::from_static("text/event-stream"),
    );
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-cache"),
    );
    caller.finish(response)
}

fn sse(v: &Value) -> Bytes {
    Bytes::from(format!("data: {v}\n\n"))
}

/// One `chunk` per word (the spaces kept), then `done`.
fn word_stream(answer: &str) -> Body {
    let mut events: Vec<Result<Bytes, std::io::Error>> = answer
        .split_inclusive(' ')
        .map(|w| Ok(sse(&json!({"type": "chunk", "content": w}))))
        .collect();
    events.push(Ok(sse(&json!({"type": "done"}))));
    Body::from_stream(futures_util::stream::iter(events))
}

/// Two chunks, then a broken connection. The break waits until what came before was written
/// (the body answers `Pending` once, so the server flushes the head and the chunks first).
fn cut_stream() -> Body {
    let sent = futures_util::stream::iter(vec![
        Ok::<_, std::io::Error>(sse(&json!({"type": "chunk", "content": "Echo: "}))),
        Ok(Bytes::from_static(
            b"data: {\"type\":\"chunk\",\"content\":\"__c",
        )),
    ]);
    let cut = futures_util::stream::once(async {
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        Err::<Bytes, _>(std::io::Error::other("fake model cut the stream"))
    });
    Body::from_stream(futures_util::StreamExt::chain(sent, cut))
}

/// Counts `"AI stream dropped"` when the endless stream is dropped (the client left).
struct DropSignal {
    mock: Arc<MockInner>,
}

impl Drop for DropSignal {
    fn drop(&mut self) {
        self.mock.controls.count("AI stream dropped");
    }
}

/// Chunks until the client leaves; produced one at a time as the connection takes them.
fn endless_stream(mock: Arc<MockInner>) -> Body {
    let signal = DropSignal { mock };
    let counter = AtomicU64::new(0);
    let stream = futures_util::stream::unfold((signal, counter), |(signal, counter)| async move {
        let n = counter.fetch_add(1, Ordering::Relaxed);
        let chunk = sse(&json!({"type": "chunk", "content": format!("{n} ")}));
        Some((Ok::<_, std::io::Error>(chunk), (signal, counter)))
    });
    Body::from_stream(stream)
}

/// `getSourceToIntegrate` + the privileged check of the storage routes.
fn storage_caller(
    mock: &MockInner,
    headers: &HeaderMap,
    source: &str,
) -> Result<(Principal, Caller), Response> {
    let (p, caller) = signed_in(mock, headers)?;
    if !p.is_privileged() {
        return Err(caller.finish(message(StatusCode::FORBIDDEN, "not permitted")));
    }
    if source != AI_SOURCE_ID {
        return Err(caller.finish(message(StatusCode::NOT_FOUND, "source not found")));
    }
    Ok((p, caller))
}

async fn create_storage(
    State(mock): Mock,
    headers: HeaderMap,
    Path(source): Path<String>,
    body: Bytes,
) -> Response {
    let (p, caller) = match storage_caller(&mock, &headers, &source) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    let Some(integration) = s("integrationId") else {
        return caller.finish(error(
            StatusCode::BAD_REQUEST,
            "Integration ID (agent) is required",
        ));
    };
    let Some(scope) = s("scope") else {
        return caller.finish(error(StatusCode::BAD_REQUEST, "Scope is required"));
    };
    if !["thread", "user", "workspace", "tenant"].contains(&scope.as_str()) {
        return caller.finish(error(
            StatusCode::BAD_REQUEST,
            "Invalid scope. Must be one of: thread, user, workspace, tenant",
        ));
    }
    let subject = s("subjectId");
    if scope != "tenant" && subject.is_none() {
        return caller.finish(error(
            StatusCode::BAD_REQUEST,
            "Subject ID is required for scope other than tenant",
        ));
    }
    let id = object_id();
    let external = format!("vs_{id}");
    mock.user_api.ai.db().stores.insert(
        external.clone(),
        (scope.clone(), subject.clone(), Vec::new()),
    );
    caller.finish(ok(json!({
        "success": true,
        "message": "Vector storage created successfully",
        "vectorStore": {"_id": id, "scope": scope, "subjectId": subject, "tenant": p.tenant,
            "agent": integration, "externalId": external,
            "expirationAfterDays": body.get("expirationAfterDays"), "created": iso(now_ms())},
    })))
}

async fn upload(
    State(mock): Mock,
    headers: HeaderMap,
    Path(source): Path<String>,
    body: Bytes,
) -> Response {
    let (_, caller) = match storage_caller(&mock, &headers, &source) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let content_len = match body.get("content") {
        Some(Value::String(s)) if !s.is_empty() => s.len(),
        Some(v @ Value::Object(_)) => v.to_string().len(),
        Some(Value::String(_)) | None | Some(Value::Null) => {
            return caller.finish(error(StatusCode::BAD_REQUEST, "Content is required"));
        }
        Some(_) => {
            return caller.finish(error(
                StatusCode::BAD_REQUEST,
                "Content must be a string or object",
            ));
        }
    };
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    if s("integrationId").is_none() {
        return caller.finish(error(StatusCode::BAD_REQUEST, "Integration ID is required"));
    }
    let mut db = mock.user_api.ai.db();
    let store_id = match s("vectorStoreId") {
        Some(id) => id,
        None => db
            .stores
            .iter()
            .find(|(_, (scope, _, _))| scope == "tenant")
            .map(|(id, _)| id.clone())
            .unwrap_or_else(|| {
                let id = format!("vs_{}", object_id());
                db.stores
                    .insert(id.clone(), ("tenant".into(), None, Vec::new()));
                id
            }),
    };
    let Some(store) = db.stores.get_mut(&store_id) else {
        return caller.finish(error(StatusCode::NOT_FOUND, "Vector store not found"));
    };
    let file_id = format!("file-{}", object_id());
    store.2.push(file_id.clone());
    caller.finish(ok(json!({
        "success": true,
        "message": "Content uploaded successfully",
        "fileId": file_id,
        "vectorStoreId": store_id,
        "bytes": content_len,
        "fileName": s("fileName"),
    })))
}

async fn clear(
    State(mock): Mock,
    headers: HeaderMap,
    Path(source): Path<String>,
    body: Bytes,
) -> Response {
    let (_, caller) = match storage_caller(&mock, &headers, &source) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let s = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_owned);
    if s("integrationId").is_none() && s("vectorStoreId").is_none() {
        return caller.finish(error(StatusCode::BAD_REQUEST, "Integration ID is required"));
    }
    let only: Option<Vec<String>> = body.get("fileIds").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    });
    let mut db = mock.user_api.ai.db();
    let mut cleared = 0usize;
    let mut touched = Vec::new();
    for (id, store) in db.stores.iter_mut() {
        if s("vectorStoreId").is_some_and(|v| v != *id) {
            continue;
        }
        let before = store.2.len();
        match &only {
            Some(ids) => store.2.retain(|f| !ids.contains(f)),
            None => store.2.clear(),
        }
        cleared += before - store.2.len();
        touched.push(id.clone());
    }
    if let Some(v) = s("vectorStoreId")
        && touched.is_empty()
    {
        return caller.finish(error(
            StatusCode::NOT_FOUND,
            &format!("Vector store {v} not found"),
        ));
    }
    caller.finish(ok(json!({
        "success": true,
        "message": "Files cleared successfully",
        "clearedCount": cleared,
        "vectorStoreId": touched.first(),
    })))
}
