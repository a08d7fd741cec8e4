//! AI agents (`ai.agents` in the official SDK): chat-completion integrations managed by name,
//! model, system prompt and tools, and chats with them (whole, or streamed over `GET` + SSE).

use reqwest::Method;
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::ai::{Ai, ChatCompletion, ChatStream, Message};
use crate::auth::segment;
use crate::client::{Call, QelosSdk};
use crate::error::Error;

/// A tool an agent may call (`IAgentTool`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AgentTool {
    /// The tool's name.
    pub name: String,
    /// What it does, for the model.
    #[serde(default)]
    pub description: String,
    /// JSON schema of its arguments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<Value>,
}

impl AgentTool {
    /// A tool without an argument schema.
    pub fn new(name: impl Into<String>, description: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            description: description.into(),
            schema: None,
        }
    }
    /// Sets the argument schema.
    #[must_use]
    pub fn schema(mut self, schema: Value) -> Self {
        self.schema = Some(schema);
        self
    }
}

/// An agent (`IAgent`). Unknown fields stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Agent {
    /// Agent id (`_id`, the integration's id).
    #[serde(rename = "_id", default)]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// The model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// The tools.
    #[serde(default)]
    pub tools: Vec<AgentTool>,
    /// Sampling temperature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Token limit of an answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// The integration source that triggers it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger_source: Option<String>,
    /// The AI provider's integration source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_source: Option<String>,
    /// Whether it answers chats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// Every other field (`tenant`, `workspace`, `created`, ...).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The body of [`Agents::create`] and [`Agents::update`] (`ICreateAgentRequest` /
/// `IUpdateAgentRequest`): unset fields are not sent, so an update changes only what it sets.
/// Built with [`new`](Self::new) (a complete new agent) or `AgentChanges::default()` and the
/// setters.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AgentChanges {
    /// Name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The triggering integration source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trigger_source: Option<String>,
    /// The AI provider's integration source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_source: Option<String>,
    /// The system prompt (an empty one removes it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub system_prompt: Option<String>,
    /// The tools.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<AgentTool>>,
    /// Sampling temperature.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Token limit of an answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// A workspace.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Whether it answers chats.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
}

macro_rules! setters {
    ($($(#[$doc:meta])* $name:ident: $ty:ty),* $(,)?) => {
        $(
            $(#[$doc])*
            #[must_use]
            pub fn $name(mut self, value: impl Into<$ty>) -> Self {
                self.$name = Some(value.into());
                self
            }
        )*
    };
}

impl AgentChanges {
    /// A new agent's required fields: name, model, and the trigger and target sources.
    pub fn new(
        name: impl Into<String>,
        model: impl Into<String>,
        trigger_source: impl Into<String>,
        target_source: impl Into<String>,
    ) -> Self {
        Self {
            name: Some(name.into()),
            model: Some(model.into()),
            trigger_source: Some(trigger_source.into()),
            target_source: Some(target_source.into()),
            ..Self::default()
        }
    }
    setters! {
        /// Sets the name.
        name: String,
        /// Sets the model.
        model: String,
        /// Sets the triggering source.
        trigger_source: String,
        /// Sets the target source.
        target_source: String,
        /// Sets the system prompt.
        system_prompt: String,
        /// Sets the tools.
        tools: Vec<AgentTool>,
        /// Sets the temperature.
        temperature: f64,
        /// Sets the token limit.
        max_tokens: u32,
        /// Sets the workspace.
        workspace: String,
        /// Sets whether it is active.
        active: bool,
    }
}

/// Filters of [`Agents::list`] (`active`, `kind`, `limit`, `page`, `sort`, or any other).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AgentFilter {
    pairs: Vec<(String, String)>,
}

impl AgentFilter {
    /// No filter.
    pub fn new() -> Self {
        Self::default()
    }
    /// Any query pair.
    #[must_use]
    pub fn with(mut self, key: &str, value: impl ToString) -> Self {
        self.pairs.push((key.to_owned(), value.to_string()));
        self
    }
    /// Only active (or inactive) agents.
    #[must_use]
    pub fn active(self, active: bool) -> Self {
        self.with("active", active)
    }
    /// Only agents of this kind.
    #[must_use]
    pub fn kind(self, kind: &str) -> Self {
        self.with("kind", kind)
    }
}

/// Options of an agent chat (`IAgentChatOptions`): earlier messages to send before the new
/// one, a thread to continue, query parameters, and any chat-completion option
/// (`temperature`, `model`, ...) in `extra`.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct AgentChatOptions {
    /// Messages before the user's message.
    pub history: Vec<Message>,
    /// A thread of an earlier agent chat to continue.
    pub thread_id: Option<String>,
    /// Query parameters of the call.
    pub query_params: Vec<(String, String)>,
    /// Other chat-completion options, sent in the body of [`Agents::chat`] (the streamed
    /// chat, a `GET`, sends only the messages, the thread and the query parameters).
    pub extra: Map<String, Value>,
}

impl AgentChatOptions {
    /// No options.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets the history.
    #[must_use]
    pub fn history(mut self, history: Vec<Message>) -> Self {
        self.history = history;
        self
    }
    /// Continues a thread.
    #[must_use]
    pub fn thread_id(mut self, thread_id: impl Into<String>) -> Self {
        self.thread_id = Some(thread_id.into());
        self
    }
    /// Adds a query parameter.
    #[must_use]
    pub fn query_param(mut self, key: &str, value: impl ToString) -> Self {
        self.query_params.push((key.to_owned(), value.to_string()));
        self
    }
    /// Adds a chat-completion option.
    #[must_use]
    pub fn option(mut self, key: &str, value: Value) -> Self {
        self.extra.insert(key.to_owned(), value);
        self
    }
    fn messages(&self, message: &str) -> Vec<Message> {
        let mut all = self.history.clone();
        all.push(Message::user(message));
        all
    }
}

/// The agents API (`sdk.ai().agents()`).
#[derive(Clone, Debug)]
pub struct Agents {
    sdk: QelosSdk,
}

impl Ai {
    /// AI agents.
    pub fn agents(&self) -> Agents {
        Agents {
            sdk: self.sdk.clone(),
        }
    }
}

fn path(id: &str, tail: &str) -> String {
    format!("/api/ai/agents/{}{tail}", segment(id))
}

fn to_value(value: &impl Serialize) -> Result<Value, Error> {
    serde_json::to_value(value).map_err(|e| Error::encode(&e))
}

impl Agents {
    /// `GET /api/ai/agents`: the tenant's agents.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 401 signed out; Qelos answers a non-admin `500 Failed to list agents`
    /// (the plugins service refuses the AI service on their behalf).
    pub async fn list(&self, filter: &AgentFilter) -> Result<Vec<Agent>, Error> {
        let call = Call::new(Method::GET, "/api/ai/agents").query(filter.pairs.clone());
        self.sdk.send(call).await?.json()
    }
    /// `GET /api/ai/agents/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `Agent not found`, 400 `Valid agent ID is required`; 401 for
    /// non-admins (`Failed to get agent`).
    pub async fn get(&self, agent_id: &str) -> Result<Agent, Error> {
        self.sdk.get_json(&path(agent_id, "")).await
    }
    /// `POST /api/ai/agents`: the new agent (`201`).
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 400 `name is required`, `triggerSource and targetSource are required`;
    /// 401 for non-admins.
    pub async fn create(&self, agent: &AgentChanges) -> Result<Agent, Error> {
        let call = Call::new(Method::POST, "/api/ai/agents").json(to_value(agent)?);
        self.sdk.send(call).await?.json()
    }
    /// `PUT /api/ai/agents/:id`: changes what `changes` sets.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `Agent not found`; 401 for non-admins.
    pub async fn update(&self, agent_id: &str, changes: &AgentChanges) -> Result<Agent, Error> {
        let p = path(agent_id, "");
        let call = Call::new(Method::PUT, &p).json(to_value(changes)?);
        self.sdk.send(call).await?.json()
    }
    /// `DELETE /api/ai/agents/:id`.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `Agent not found`; 401 for non-admins.
    pub async fn remove(&self, agent_id: &str) -> Result<(), Error> {
        let p = path(agent_id, "");
        self.sdk
            .send(Call::new(Method::DELETE, &p))
            .await?
            .ok()
            .map(drop)
    }
    /// `POST /api/ai/agents/:id/chat {messages: history + message, threadId?, ...}`: the whole
    /// answer. Without a thread id Qelos starts a thread.
    ///
    /// # Errors
    ///
    /// [`Error::Api`] 404 `Agent not found` (also inactive), 404 `thread not found`, 403 when
    /// the caller lacks the agent's roles; 401 signed out.
    pub async fn chat(
        &self,
        agent_id: &str,
        message: &str,
        options: &AgentChatOptions,
    ) -> Result<ChatCompletion, Error> {
        let mut body = options.extra.clone();
        body.insert("messages".into(), to_value(&options.messages(message))?);
        if let Some(t) = &options.thread_id {
            body.insert("threadId".into(), Value::from(t.as_str()));
        }
        let p = path(agent_id, "/chat");
        let call = Call::new(Method::POST, &p)
            .query(options.query_params.clone())
            .json(Value::Object(body));
        self.sdk.send(call).await?.json()
    }
    /// [`chat`](Self::chat) in the thread `thread_id`.
    ///
    /// # Errors
    ///
    /// As [`chat`](Self::chat).
    pub async fn chat_in_thread(
        &self,
        agent_id: &str,
        thread_id: &str,
        message: &str,
        options: &AgentChatOptions,
    ) -> Result<ChatCompletion, Error> {
        let options = options.clone().thread_id(thread_id);
        self.chat(agent_id, message, &options).await
    }
    /// `GET /api/ai/agents/:id/chat?messages=<JSON>&threadId=` with `Accept:
    /// text/event-stream`: the answer as a [`ChatStream`].
    ///
    /// # Errors
    ///
    /// As [`chat`](Self::chat), when Qelos refuses before streaming.
    pub async fn stream_chat(
        &self,
        agent_id: &str,
        message: &str,
        options: &AgentChatOptions,
    ) -> Result<ChatStream, Error> {
        let messages =
            serde_json::to_string(&options.messages(message)).map_err(|e| Error::encode(&e))?;
        let mut query = vec![("messages".to_owned(), messages)];
        if let Some(t) = &options.thread_id {
            query.push(("threadId".into(), t.clone()));
        }
        query.extend(options.query_params.iter().cloned());
        let p = path(agent_id, "/chat");
        let mut call = Call::new(Method::GET, &p).query(query);
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("text/event-stream"));
        call.headers = Some(Box::new(headers));
        call.streamed = true;
        let (response, span) = self.sdk.send_response(&call).await?;
        ChatStream::open(response, span).await
    }
    /// [`stream_chat`](Self::stream_chat) in the thread `thread_id`.
    ///
    /// # Errors
    ///
    /// As [`stream_chat`](Self::stream_chat).
    pub async fn stream_chat_in_thread(
        &self,
        agent_id: &str,
        thread_id: &str,
        message: &str,
        options: &AgentChatOptions,
    ) -> Result<ChatStream, Error> {
        let options = options.clone().thread_id(thread_id);
        self.stream_chat(agent_id, message, &options).await
    }
}
