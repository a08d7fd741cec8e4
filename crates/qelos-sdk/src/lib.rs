//! An async client for the [Qelos](https://qelos.io) HTTP API: authentication, workspaces, invites,
//! blocks, app configuration, lambdas, payments, AI (threads, chat, streamed chat, RAG), blueprint entities,
//! API tokens, the administrator API ([`QelosSdk::admin`], see the [`admin`] module), and an
//! escape hatch ([`QelosSdk::request`]) for the rest.
//!
//! One [`QelosSdk`] per set of credentials, all sharing one pooled `reqwest::Client`. Cloning an
//! instance is cheap (an `Arc`) and shares its token state; [`QelosSdk::with_auth`] makes an
//! instance with other credentials on the same client.
//!
//! # Example
//!
//! ```no_run
//! use qelos_sdk::{Auth, Credentials, EntityQuery, QelosSdk};
//!
//! # async fn run() -> Result<(), qelos_sdk::Error> {
//! let qelos = QelosSdk::builder("http://localhost:3000").build()?;
//! let session = qelos.oauth_signin(&Credentials::new("test@test.com", "admin")).await?;
//! let sdk = qelos.with_auth(Auth::OAuth(session.tokens), None);
//!
//! let me = sdk.get_logged_in_user().await?;
//! let workspaces = sdk.workspaces().list().await?;
//! let products = sdk.entities::<serde_json::Value>("products").list(&EntityQuery::new().limit(10)).await?;
//! println!("{} · {} workspaces · {} products", me.username, workspaces.len(), products.len());
//! # Ok(()) }
//! ```
//!
//! # Auth modes
//!
//! [`Auth`] is fixed for an instance's lifetime:
//!
//! | mode | sent on every call | on a 401 |
//! |---|---|---|
//! | [`Auth::CookieSession`] | `Cookie: qlt_…` | nothing (Qelos rotates the cookie itself; see [`SessionHooks::on_set_cookie`]) |
//! | [`Auth::OAuth`] | `Authorization: Bearer <access>` | one refresh, one retry |
//! | [`Auth::ApiToken`] | `x-api-key: ql_…` | nothing |
//!
//! `/api/signin`, `/api/signup`, `/api/token/refresh` and `/api/auth/callback` never carry the
//! instance's credentials and never refresh.
//!
//! ```no_run
//! use std::time::Duration;
//! use qelos_sdk::{QelosSdk, TokenPair};
//!
//! # fn run(access: String, refresh: String) -> Result<(), qelos_sdk::Error> {
//! let sdk = QelosSdk::builder("https://app.example.com")
//!     .timeout(Duration::from_secs(5))      // per call; default 10 s
//!     .header("tenant", "0")               // sent on every call
//!     .oauth(TokenPair::new(Some(access.into()), Some(refresh.into())))
//!     .build()?;                           // the URL and headers are checked here
//! # Ok(()) }
//! ```
//!
//! # Refresh and hooks
//!
//! In OAuth mode only a 401 triggers a refresh (never a 403, 404 or 422), once per call, and
//! single-flight per instance: concurrent 401s on clones of one instance make one refresh
//! call, and a call that failed with tokens that were replaced meanwhile just retries with the
//! new ones. [`QelosSdk::tokens`] reads the latest pair. [`SessionHooks`] lets an integrator
//! perform the refresh itself (for a process-wide single flight) and hear about new tokens and
//! Qelos's own `Set-Cookie` headers:
//!
//! ```no_run
//! use std::sync::Arc;
//! use qelos_sdk::{Auth, QelosSdk, SessionHooks, TokenPair};
//!
//! struct WriteBack;
//! impl SessionHooks for WriteBack {
//!     fn on_tokens(&self, _tokens: &TokenPair) { /* store the new pair */ }
//!     fn on_set_cookie(&self, _set_cookie: &[String]) { /* forward to the browser */ }
//! }
//!
//! # async fn run(qelos: QelosSdk, pair: TokenPair) -> Result<(), qelos_sdk::Error> {
//! let sdk = qelos.with_auth(Auth::OAuth(pair), Some(Arc::new(WriteBack)));
//! let _me = sdk.get_logged_in_user().await?; // refreshes on a 401, calls `on_tokens`
//! # Ok(()) }
//! ```
//!
//! # Errors and secrets
//!
//! [`Error`] separates refusals ([`Error::Api`] with the server's status and message) from
//! outages ([`Error::is_unavailable`]: timeout, network, garbage, 5xx). Errors never contain a
//! token, a URL or response text; [`Secret`], [`TokenPair`], [`Auth`] and [`QelosSdk`] redact
//! `Debug`. Every upstream call runs in a `qelos.request` `tracing` span with the method, the
//! path (never the query) and the status; credential headers are marked sensitive.
//!
//! ```no_run
//! # async fn run(sdk: qelos_sdk::QelosSdk) {
//! match sdk.workspaces().list().await {
//!     Ok(list) => println!("{} workspaces", list.len()),
//!     Err(e) if e.is_unauthorized() => println!("signed out"),
//!     Err(e) if e.is_unavailable() => println!("Qelos is unavailable: {e}"),
//!     Err(e) => println!("refused: {e}"),
//! }
//! # }
//! ```
//!
//! # Entities
//!
//! [`QelosSdk::entities`] is generic over the entity type; [`Entity`] exposes the `id`, your
//! `T`, and keeps the other fields. See the [`entities`] module.
//!
//! # Feature flags
//!
//! | feature | default | what |
//! |---|---|---|
//! | `rustls` | yes | TLS for `https://` Qelos URLs: rustls with the aws-lc provider (builds aws-lc: needs cmake and a C compiler) |
//! | `rustls-ring` | no | rustls with the ring provider, for platforms where aws-lc does not build; installs ring as the process's rustls provider when none is installed |
//! | `native-tls` | no | the platform's TLS library (OpenSSL on Linux: `libssl-dev` and `pkg-config`) |
//!
//! Without any of the three, an `https://` URL is refused by [`QelosSdkBuilder::build`] with
//! [`Error::TlsNotCompiled`] (plain `http://` works).

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod admin;
mod agents;
pub mod ai;
mod answer;
pub mod auth;
pub mod blocks;
pub mod blueprints;
mod chat_stream;
mod client;
pub mod configurations;
mod deadline;
pub mod entities;
pub mod entity_find;
mod error;
pub mod invites;
pub mod lambdas;
pub mod mcp;
mod models;
mod object;
pub mod payments;
pub mod request;
mod secret;
mod sse;
mod tls;
pub mod workspaces;

pub use admin::AdminSdk;
pub use answer::Answer;
pub use auth::SocialLoginOptions;
pub use client::{Auth, AuthKind, DEFAULT_TIMEOUT, QelosSdk, QelosSdkBuilder, SessionHooks};
pub use deadline::with_deadline;
pub use entities::{Entities, Entity, EntityQuery};
pub use entity_find::EntityFind;
pub use error::Error;
pub use models::{
    ApiTokenInfo, AuthCallback, CookieRefresh, CreatedApiToken, Credentials, Member, NewApiToken,
    NewWorkspace, OAuthSignin, SigninResponse, Signup, User, UserUpdate, Workspace,
};
pub use request::{ApiRequest, ApiResponse};
pub use reqwest::{Method, StatusCode};
pub use secret::{Secret, TokenPair};
pub use workspaces::Workspaces;

// Crates whose types appear in this crate's public API (`QelosSdkBuilder::client`,
// `QelosSdk::http_client`, `QelosSdk::app_url`), re-exported so a caller names the very
// versions this crate was built with.
#[doc(no_inline)]
pub use reqwest;
#[doc(no_inline)]
pub use url;

/// The code blocks of `docs/sdk.md`, compiled (and run where they make no network call) by
/// `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/sdk.md")]
pub struct SdkGuideDoctests;

/// The code blocks of this crate's `README.md`, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
