//! AI: threads, chat completions (whole or streamed as Server-Sent Events), RAG storage and
//! agents (the official SDK's `ai.threads`, `ai.chat`, `ai.rag`, `ai.agents`).
//!
//! ```no_run
//! use futures_util::StreamExt as _;
//! use qelos_sdk::ai::{ChatOptions, Message};
//! # async fn run(sdk: qelos_sdk::QelosSdk) -> Result<(), qelos_sdk::Error> {
//! let options = ChatOptions::new(vec![Message::user("Hello")]);
//! let mut stream = sdk.ai().chat().stream("integration-id", &options).await?;
//! while let Some(event) = stream.next().await {
//!     if let Some(text) = event?.text() {
//!         print!("{text}");
//!     }
//! }
//! # Ok(()) }
//! ```

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::auth::segment;
use crate::client::{Call, QelosSdk};
use crate::error::Error;

pub use crate::agents::{Agent, AgentChanges, AgentChatOptions, AgentFilter, AgentTool, Agents};
pub use crate::chat_stream::{ChatEvent, ChatStream};
pub use crate::sse::SseEvent;

/// One chat message.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// `user`, `assistant`, `system`, `tool`.
    pub role: String,
    /// The text.
    #[serde(default)]
    pub content: String,
    /// Every other field (`timestamp`, `tool_calls`, `name`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Message {
    /// A message with this role and text.
    pub fn new(role: &str, content: &str) -> Self {
        Self {
            role: role.to_owned(),
            content: content.to_owned(),
            extra: Map::new(),
        }
    }
    /// A `user` message.
    pub fn user(content: &str) -> Self {
        Self::new("user", content)
    }
}

/// An AI thread (`IThread`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Thread {
    /// Thread id (`_id`).
    #[serde(rename = "_id")]
    pub id: String,
    /// The AI integration it talks to.
    #[serde(default)]
    pub integration: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The conversation so far.
    #[serde(default)]
    pub messages: Vec<Message>,
    /// Every other field (`messageSummaries`, `user`, `workspace`, `created`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What [`Threads::create`] sends (`ICreateThreadRequest`): [`NewThread::new`], then
/// [`title`](NewThread::title).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NewThread {
    /// The AI integration id.
    pub integration: String,
    /// Title.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
}

impl NewThread {
    /// A thread on `integration`.
    pub fn new(integration: impl Into<String>) -> Self {
        Self {
            integration: integration.into(),
            title: None,
        }
    }
    /// Sets the title.
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

/// Filters of [`Threads::list`] (`integration`, `limit`, `page`, `sort`, `user`, `workspace`,
/// or any other query key).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadFilter {
    pairs: Vec<(String, String)>,
}

impl ThreadFilter {
    /// No filter.
    pub fn new() -> Self {
        Self::default()
    }
    /// Any query key.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl ToString) -> Self {
        self.pairs.push((key.to_owned(), value.to_string()));
        self
    }
    /// Threads of this integration.
    #[must_use]
    pub fn integration(self, id: &str) -> Self {
        self.with("integration", id)
    }
    /// At most this many.
    #[must_use]
    pub fn limit(self, limit: u32) -> Self {
        self.with("limit", limit)
    }
    /// This page (with `limit`).
    #[must_use]
    pub fn page(self, page: u32) -> Self {
        self.with("page", page)
    }
}

/// Options of a chat completion (`IChatCompletionOptions`): [`ChatOptions::new`], then the
/// setters.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ChatOptions {
    /// The conversation.
    pub messages: Vec<Message>,
    /// Model override.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Token limit of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Query parameters of the call (`queryParams`; sent in the URL, not the body).
    #[serde(skip)]
    pub query_params: Vec<(String, String)>,
    /// Every other option (`top_p`, `stop`, `response_format`, `context`, `clientTools`,
    /// `rules`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatOptions {
    /// Options with these messages.
    pub fn new(messages: Vec<Message>) -> Self {
        Self {
            messages,
            ..Self::default()
        }
    }
    /// Sets the model.
    #[must_use]
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.model = Some(model.into());
        self
    }
    /// Sets the temperature.
    #[must_use]
    pub fn temperature(mut self, temperature: f64) -> Self {
        self.temperature = Some(temperature);
        self
    }
    /// Sets the token limit.
    #[must_use]
    pub fn max_tokens(mut self, max_tokens: u32) -> Self {
        self.max_tokens = Some(max_tokens);
        self
    }
    /// Adds a query parameter.
    #[must_use]
    pub fn query_param(mut self, key: &str, value: impl ToString) -> Self {
        self.query_params.push((key.to_owned(), value.to_string()));
        self
    }
    /// Adds any other option.
    #[must_use]
    pub fn option(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }
}

/// One choice of a chat completion.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Its index.
    #[serde(default)]
    pub index: u32,
    /// The answer.
    pub message: Message,
    /// Why the model stopped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A whole chat completion (`IChatCompletionResponse`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatCompletion {
    /// Completion id.
    #[serde(default)]
    pub id: String,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// The answers.
    #[serde(default)]
    pub choices: Vec<Choice>,
    /// Every other field (`object`, `created`, `usage`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl ChatCompletion {
    /// The first choice's text.
    pub fn text(&self) -> Option<&str> {
        self.choices.first().map(|c| c.message.content.as_str())
    }
}

/// What [`Rag::create_storage`] sends (`ICreateVectorStorageRequest`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NewStorage {
    /// The AI integration id.
    pub integration_id: String,
    /// `thread`, `user`, `workspace` or `tenant`.
    pub scope: String,
    /// The thread, user or workspace id the storage belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject_id: Option<String>,
    /// Days until the storage expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration_after_days: Option<u32>,
}

/// What [`Rag::upload_content`] sends (`IUploadContentRequest`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UploadContent {
    /// The AI integration id (or `vector_store_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    /// The vector store id (or `integration_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_store_id: Option<String>,
    /// The content: a string or any JSON.
    pub content: Value,
    /// The file name to store it under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_name: Option<String>,
    /// Metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

/// What [`Rag::clear_storage`] sends (`IClearStorageRequest`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct ClearStorage {
    /// The AI integration id (or `vector_store_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integration_id: Option<String>,
    /// The vector store id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_store_id: Option<String>,
    /// Only these files (all when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_ids: Option<Vec<String>>,
}

impl NewStorage {
    /// A storage of `integration_id` in `scope` (`thread`, `user`, `workspace`, `tenant`).
    pub fn new(integration_id: impl Into<String>, scope: impl Into<String>) -> Self {
        Self {
            integration_id: integration_id.into(),
            scope: scope.into(),
            ..Self::default()
        }
    }
    /// Sets the thread, user or workspace the storage belongs to.
    #[must_use]
    pub fn subject_id(mut self, subject_id: impl Into<String>) -> Self {
        self.subject_id = Some(subject_id.into());
        self
    }
    /// Sets the days until the storage expires.
    #[must_use]
    pub fn expiration_after_days(mut self, days: u32) -> Self {
        self.expiration_after_days = Some(days);
        self
    }
}

impl UploadContent {
    /// Uploads `content` (a string or any JSON); name the integration or the vector store
    /// with the setters.
    pub fn new(content: Value) -> Self {
        Self {
            content,
            ..Self::default()
        }
    }
    /// Sets the integration.
    #[must_use]
    pub fn integration_id(mut self, id: impl Into<String>) -> Self {
        self.integration_id = Some(id.into());
        self
    }
    /// Sets the vector store.
    #[must_use]
    pub fn vector_store_id(mut self, id: impl Into<String>) -> Self {
        self.vector_store_id = Some(id.into());
        self
    }
    /// Sets the file name.
    #[must_use]
    pub fn file_name(mut self, name: impl Into<String>) -> Self {
        self.file_name = Some(name.into());
        self
    }
    /// Sets the metadata.
    #[must_use]
    pub fn metadata(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata = Some(metadata);
        self
    }
}

impl ClearStorage {
    /// Clears the storage of an integration.
    pub fn integration(id: impl Into<String>) -> Self {
        Self {
            integration_id: Some(id.into()),
            ..Self::default()
        }
    }
    /// Clears a vector store.
    pub fn vector_store(id: impl Into<String>) -> Self {
        Self {
            vector_store_id: Some(id.into()),
            ..Self::default()
        }
    }
    /// Only these files.
    #[must_use]
    pub fn file_ids(mut self, ids: Vec<String>) -> Self {
        self.file_ids = Some(ids);
        self
    }
}

/// The answer of a RAG call: `success`, `message` and the call's own fields (`vectorStore`,
/// `fileId`, `vectorStoreId`, `clearedCount`) in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RagResult {
    /// Whether it worked.
    #[serde(default)]
    pub success: bool,
    /// What happened.
    #[serde(default)]
    pub message: String,
    /// Every other field.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The AI API of one [`QelosSdk`].
#[derive(Clone, Debug)]
pub struct Ai {
    pub(crate) sdk: QelosSdk,
}

/// `ai.threads`.
#[derive(Clone, Debug)]
pub struct Threads {
    sdk: QelosSdk,
}

/// `ai.chat`.
#[derive(Clone, Debug)]
pub struct Chat {
    sdk: QelosSdk,
}

/// `ai.rag`.
#[derive(Clone, Debug)]
pub struct Rag {
    sdk: QelosSdk,
}

impl QelosSdk {
    /// The AI API.
    pub fn ai(&self) -> Ai {
        Ai { sdk: self.clone() }
    }
}

impl Ai {
    /// Threads.
    pub fn threads(&self) -> Threads {
        Threads {
            sdk: self.sdk.clone(),
        }
    }
    /// Chat completions.
    pub fn chat(&self) -> Chat {
        Chat {
            sdk: self.sdk.clone(),
        }
    }
    /// RAG storage.
    pub fn rag(&self) -> Rag {
        Rag {
            sdk: self.sdk.clone(),
        }
    }
}

fn to_body(value: &impl Serialize) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::encode(&e))
}

impl Threads {
    /// `POST /api/ai/threads`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 signed out, 404 unknown integration, 400 without one.
    pub async fn create(&self, new: &NewThread) -> Result<Thread, Error> {
        let call = Call::new(Method::POST, "/api/ai/threads").json(to_body(new)?);
        self.sdk.send(call).await?.json()
    }
    /// `GET /api/ai/threads/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 unknown, or another user's thread.
    pub async fn get_one(&self, id: &str) -> Result<Thread, Error> {
        self.sdk
            .get_json(&format!("/api/ai/threads/{}", segment(id)))
            .await
    }
    /// `GET /api/ai/threads` with filters.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 signed out.
    pub async fn list(&self, filter: &ThreadFilter) -> Result<Vec<Thread>, Error> {
        let call = Call::new(Method::GET, "/api/ai/threads").query(filter.pairs.clone());
        self.sdk.send(call).await?.json()
    }
    /// `DELETE /api/ai/threads/:id`. Qelos answers `{message}` (not the `{success}` the
    /// TypeScript typing promises), so success is the `Ok`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 unknown, or another user's thread.
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        let path = format!("/api/ai/threads/{}", segment(id));
        self.sdk
            .send(Call::new(Method::DELETE, &path))
            .await?
            .ok()
            .map(drop)
    }
}

impl Chat {
    fn path(integration: &str, thread: Option<&str>) -> String {
        match thread {
            Some(t) => format!(
                "/api/ai/{}/chat-completion/{}",
                segment(integration),
                segment(t)
            ),
            None => format!("/api/ai/{}/chat-completion", segment(integration)),
        }
    }

    async fn complete(
        &self,
        integration: &str,
        thread: Option<&str>,
        options: &ChatOptions,
    ) -> Result<ChatCompletion, Error> {
        let path = Self::path(integration, thread);
        let call = Call::new(Method::POST, &path)
            .query(options.query_params.clone())
            .json(to_body(options)?);
        self.sdk.send(call).await?.json()
    }

    /// `POST /api/ai/:integration/chat-completion`: the whole answer.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 unknown integration, 400 without messages.
    pub async fn chat(
        &self,
        integration: &str,
        options: &ChatOptions,
    ) -> Result<ChatCompletion, Error> {
        self.complete(integration, None, options).await
    }

    /// `POST /api/ai/:integration/chat-completion/:thread`: the whole answer; the thread
    /// keeps both messages.
    ///
    /// # Errors
    ///
    /// As [`chat`](Self::chat); 404 unknown thread.
    pub async fn chat_in_thread(
        &self,
        integration: &str,
        thread: &str,
        options: &ChatOptions,
    ) -> Result<ChatCompletion, Error> {
        self.complete(integration, Some(thread), options).await
    }

    /// The answer as a [`ChatStream`] of typed events (`?stream=true`, `Accept:
    /// text/event-stream`). The per-call timeout bounds the wait for the answer's head only.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] when Qelos refuses before streaming (404 unknown integration, 401, ...).
    pub async fn stream(
        &self,
        integration: &str,
        options: &ChatOptions,
    ) -> Result<ChatStream, Error> {
        self.open_stream(integration, None, options).await
    }

    /// [`stream`](Self::stream) in a thread.
    ///
    /// # Errors
    ///
    /// As [`stream`](Self::stream); 404 unknown thread.
    pub async fn stream_in_thread(
        &self,
        integration: &str,
        thread: &str,
        options: &ChatOptions,
    ) -> Result<ChatStream, Error> {
        self.open_stream(integration, Some(thread), options).await
    }

    async fn open_stream(
        &self,
        integration: &str,
        thread: Option<&str>,
        options: &ChatOptions,
    ) -> Result<ChatStream, Error> {
        let path = Self::path(integration, thread);
        let mut body = to_body(options)?;
        if let Value::Object(map) = &mut body {
            map.insert("stream".into(), Value::Bool(true));
        }
        let mut query = options.query_params.clone();
        query.push(("stream".into(), "true".into()));
        let mut call = Call::new(Method::POST, &path).query(query).json(body);
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::ACCEPT,
            reqwest::header::HeaderValue::from_static("text/event-stream"),
        );
        call.headers = Some(Box::new(headers));
        call.streamed = true;
        let (response, span) = self.sdk.send_response(&call).await?;
        ChatStream::open(response, span).await
    }
}

impl Rag {
    async fn post(&self, source: &str, tail: &str, body: Value) -> Result<RagResult, Error> {
        let path = format!("/api/ai/sources/{}/storage{tail}", segment(source));
        self.sdk
            .send(Call::new(Method::POST, &path).json(body))
            .await?
            .json()
    }
    /// `POST /api/ai/sources/:source/storage`: creates a vector store (`extra["vectorStore"]`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 for non-admins, 404 unknown source, 400 bad scope.
    pub async fn create_storage(&self, source: &str, new: &NewStorage) -> Result<RagResult, Error> {
        self.post(source, "", to_body(new)?).await
    }
    /// `POST /api/ai/sources/:source/storage/upload` with JSON content
    /// (`extra["fileId"]`, `extra["vectorStoreId"]`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 for non-admins, 404 unknown source or store, 400 without content.
    pub async fn upload_content(
        &self,
        source: &str,
        upload: &UploadContent,
    ) -> Result<RagResult, Error> {
        self.post(source, "/upload", to_body(upload)?).await
    }
    /// Streams a UTF-8 document from any `AsyncRead` to
    /// `POST /api/ai/sources/:source/storage/upload` without reading it into memory: the body
    /// is the same JSON as [`upload_content`](Self::upload_content)'s, with `content` escaped
    /// chunk by chunk as the reader yields it. A streamed body is sent once (see
    /// [`ApiRequest::body`](crate::ApiRequest::body)).
    ///
    /// # Errors
    ///
    /// As [`upload_content`](Self::upload_content); [`Error::Network`] when reading fails.
    pub async fn upload_reader<R>(
        &self,
        source: &str,
        target: &UploadTarget,
        reader: R,
    ) -> Result<RagResult, Error>
    where
        R: tokio::io::AsyncRead + Send + 'static,
    {
        let chunks = tokio_util::io::ReaderStream::new(reader);
        self.upload_stream(source, target, chunks).await
    }

    /// [`upload_reader`](Self::upload_reader) from a stream of byte chunks.
    ///
    /// # Errors
    ///
    /// As [`upload_reader`](Self::upload_reader).
    pub async fn upload_stream<S, E>(
        &self,
        source: &str,
        target: &UploadTarget,
        chunks: S,
    ) -> Result<RagResult, Error>
    where
        S: futures_util::Stream<Item = Result<bytes::Bytes, E>> + Send + 'static,
        E: Into<Box<dyn std::error::Error + Send + Sync>> + 'static,
    {
        use futures_util::StreamExt as _;
        let mut head = serde_json::Map::new();
        for (key, value) in target.pairs() {
            head.insert(key.into(), Value::String(value.to_owned()));
        }
        let head = Value::Object(head).to_string();
        // `{"k":"v",...,"content":"` + escaped chunks + `"}`
        let open = format!(
            "{}{}\"content\":\"",
            &head[..head.len() - 1],
            if head.len() > 2 { "," } else { "" }
        );
        let body = futures_util::stream::once(async move { Ok(bytes::Bytes::from(open)) })
            .chain(chunks.map(|chunk| chunk.map(|c| json_escape(&c))))
            .chain(futures_util::stream::once(async {
                Ok(bytes::Bytes::from_static(b"\"}"))
            }));
        let path = format!("/api/ai/sources/{}/storage/upload", segment(source));
        self.sdk
            .request(Method::POST, path)
            .body(reqwest::Body::wrap_stream(body), "application/json")
            .send()
            .await
    }

    /// `POST /api/ai/sources/:source/storage/clear` (`extra["clearedCount"]`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 403 for non-admins, 404 unknown source or store.
    pub async fn clear_storage(
        &self,
        source: &str,
        clear: &ClearStorage,
    ) -> Result<RagResult, Error> {
        self.post(source, "/clear", to_body(clear)?).await
    }
}

/// Where [`Rag::upload_stream`] stores a streamed document.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UploadTarget {
    /// The AI integration id (or `vector_store_id`).
    pub integration_id: Option<String>,
    /// The vector store id.
    pub vector_store_id: Option<String>,
    /// The file name.
    pub file_name: Option<String>,
}

impl UploadTarget {
    fn pairs(&self) -> Vec<(&'static str, &str)> {
        [
            ("integrationId", &self.integration_id),
            ("vectorStoreId", &self.vector_store_id),
            ("fileName", &self.file_name),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
    }
}

/// Escapes bytes for the inside of a JSON string. Bytes above 0x7f pass through, so a UTF-8
/// character split across two chunks is rejoined by the reader of the whole body.
fn json_escape(chunk: &[u8]) -> bytes::Bytes {
    let mut out = Vec::with_capacity(chunk.len() + chunk.len() / 8);
    for &b in chunk {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => out.extend_from_slice(format!("\\u{b:04x}").as_bytes()),
            _ => out.push(b),
        }
    }
    bytes::Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaped_chunks_make_the_same_json_string_however_split() {
        let text = "line \"one\"\n\ttab \\ caf\u{e9} \u{1}";
        let whole = format!(
            "\"{}\"",
            String::from_utf8(json_escape(text.as_bytes()).to_vec()).unwrap()
        );
        assert_eq!(serde_json::from_str::<String>(&whole).unwrap(), text);
        for split in 1..text.len() {
            let (a, b) = text.as_bytes().split_at(split);
            let mut joined = json_escape(a).to_vec();
            joined.extend_from_slice(&json_escape(b));
            assert_eq!(
                joined,
                json_escape(text.as_bytes()).to_vec(),
                "split at {split}"
            );
        }
    }
}
