//! The framework-agnostic core of the Qelos integrators.
//!
//! Before a handler runs, the integrator works out which Qelos user is calling, which workspace
//! is active, and builds a [`QelosSdk`](qelos_sdk::QelosSdk) bound to that user's tokens, with
//! expiry, refresh and cookie rotation handled. Framework adapters (axum, actix, rocket, poem,
//! warp; axum and warp over `qelos-integrator-tower`'s layer) are thin layers over
//! [`Integrator::attach`] and the [`adapter`] module, which also holds the same-origin front
//! (login, logout, social login and the `/api/**` proxy) as one route table; see
//! [`docs/porting.md`](https://github.com/qelos-rs/qelos-rs/blob/main/docs/porting.md) for
//! writing one.
//!
//! # Example
//!
//! ```no_run
//! use qelos_integrator_core::{Integrator, QelosConfig, RequestHead};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let config = QelosConfig::builder("https://app.example.com")
//!     .skip_path("/health")
//!     .build()?;
//! let integrator = Integrator::new(config);
//!
//! let request = RequestHead::new("/dashboard").header("cookie", "q_access_token=…");
//! match integrator.resolve(&request).await {
//!     Ok(ctx) => {
//!         if let Some(user) = ctx.user() {
//!             let products = ctx.sdk().entities::<serde_json::Value>("products").list(&Default::default()).await?;
//!             println!("{} sees {} products", user.username, products.len());
//!         }
//!         for set_cookie in ctx.take_response_cookies() {
//!             println!("Set-Cookie: {set_cookie}");
//!         }
//!     }
//!     Err(rejection) => println!("{} {}", rejection.status(), rejection.body()),
//! }
//! # Ok(()) }
//! ```
//!
//! # The pipeline
//!
//! 1. skip paths (whole segments);
//! 2. read tokens (Bearer, cookies, Qelos session cookie);
//! 3. no credentials: anonymous with no upstream call;
//! 4. `api_token` mode;
//! 5. `/api/me` and `/api/workspaces` concurrently (an access JWT known to be expired is
//!    refreshed first);
//! 6. refresh on 401 only, single-flight across the process with a grace window (and across
//!    instances through a [`SharedStore`] such as Redis: see [`store`] and [`docs/scaling.md`](https://github.com/qelos-rs/qelos-rs/blob/main/docs/scaling.md));
//! 7. cookies written after a refresh;
//! 8. dead sessions expire their cookies;
//! 9. workspace resolution;
//! 10. 401 / 503 decisions.
//!
//! [`docs/architecture.md`](https://github.com/qelos-rs/qelos-rs/blob/main/docs/architecture.md) walks through each step.
//!
//! # Feature flags
//!
//! | feature | default | what |
//! |---|---|---|
//! | `rustls` | yes | TLS to Qelos: rustls with the aws-lc provider |
//! | `rustls-ring` | no | rustls with the ring provider (no cmake needed) |
//! | `native-tls` | no | the platform's TLS library (OpenSSL on Linux) |
//! | `redis` | no | `store::redis::RedisStore`, for several instances |
//! | `redis-tls` | no | `rediss://` for the Redis store |
//! | `metrics` | no | counters and histograms through the `metrics` facade |
//!
//! Without a TLS feature an `https` app URL is refused by [`QelosConfigBuilder::build`]. The
//! `qelos.resolve` span, the log events, the metrics and what to alert on are listed in
//! [`docs/operations.md`](https://github.com/qelos-rs/qelos-rs/blob/main/docs/operations.md).

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod adapter;
pub mod auth;
mod cache;
pub mod config;
pub mod context;
pub mod cookies;
mod credentials;
pub mod cross_site;
mod endpoints;
mod front;
mod headers;
mod hooks;
mod jwt;
mod observe;
mod pipeline;
pub mod proxy;
pub mod redirect;
pub mod refresh;
mod rejection;
mod request;
mod seal;
mod state;
pub mod store;
mod token_key;
pub mod workspace;

/// The per-request pure functions, for the crate's Criterion benchmarks only: not part of the
/// API, and may change in any release.
#[doc(hidden)]
pub mod __bench {
    /// `cookies::token_cookie`.
    pub fn token_cookie(name: &str, value: &str, secure: bool) -> String {
        crate::cookies::token_cookie(name, value, secure)
    }
    /// `cookies::rewrite_domain`.
    pub fn rewrite_domain(set_cookie: &str, domain: Option<&str>) -> String {
        crate::cookies::rewrite_domain(set_cookie, domain)
    }
    /// `credentials::read`: whether the headers carry credentials.
    pub fn read(headers: &http::HeaderMap, access: &str, refresh: &str) -> bool {
        !crate::credentials::read_map(headers, access, refresh).is_empty()
    }
    /// `jwt::peek_exp`.
    pub fn peek_exp(token: &str) -> Option<u64> {
        crate::jwt::peek_exp(token)
    }
}

pub use config::{ConfigError, QelosConfig, QelosConfigBuilder};
pub use context::{AnonymousReason, QelosContext, ResponseCookies, SignedIn};
pub use hooks::{OnTokenRefresh, TokenRefresh};
pub use pipeline::Integrator;
pub use refresh::{RefreshCoordinator, RefreshError};
pub use rejection::{Rejection, RejectionKind};
pub use request::RequestHead;
pub use state::RequestState;
pub use store::{MemoryStore, SharedStore, StoreError};
pub use token_key::TokenKey;
pub use workspace::{ResolveWorkspace, resolve_async};

#[doc(no_inline)]
pub use qelos_sdk;

// Crates whose types appear in this crate's public API, re-exported so a caller names the very
// versions this crate was built with.
#[doc(no_inline)]
pub use bytes;
#[doc(no_inline)]
pub use http;
#[doc(no_inline)]
pub use http_body;
#[doc(no_inline)]
pub use http_body_util;
#[doc(no_inline)]
pub use qelos_sdk::{reqwest, url};

/// The code blocks of `docs/architecture.md`, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/architecture.md")]
pub struct ArchitectureDoctests;

/// The code blocks of this crate's `README.md`, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
