#![doc = include_str!("../README.md")]
//!
//! ---
//!
//! Qelos for axum: know, before any handler runs, which Qelos user is calling, which workspace
//! is active, and get an SDK bound to that user's tokens, with expiry, refresh and cookie
//! rotation handled.
//!
//! # Example
//!
//! ```no_run
//! use axum::{Json, Router, routing::get};
//! use qelos_integrator_axum::{Qelos, QelosConfig, QelosLayer, RequireUser};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let config = QelosConfig::builder("https://app.example.com")
//!         .skip_path("/health")
//!         .build()?;
//!     let app = Router::new()
//!         .route("/me", get(|q: Qelos| async move {
//!             Json(q.user().map(|u| u.username.clone()))
//!         }))
//!         .route("/secret", get(|u: RequireUser| async move { u.user().id.clone() }))
//!         .route("/health", get(|| async { "ok" }))
//!         .layer(QelosLayer::new(config));
//!     let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
//!     axum::serve(listener, app).await?;
//!     Ok(())
//! }
//! ```
//!
//! # Extractors
//!
//! | extractor | gives | refuses with |
//! |---|---|---|
//! | [`Qelos`] | the context (user may be `None`) | 500 `QELOS_MIDDLEWARE_MISSING` without the layer or on a skip path |
//! | `Option<Qelos>` | `None` exactly where the layer did not run | never |
//! | [`RequireUser`] | a signed-in user | 401 `UNAUTHORIZED` (also on a skip path), 503 `QELOS_UNAVAILABLE` |
//! | `Option<RequireUser>` | `Some` only for a signed-in caller | never |
//! | [`QelosSdk`] | the request's SDK | 500 without the layer |
//!
//! The crate README walks through configuration, authentication, entities and pitfalls.
//!
//! # Several instances
//!
//! Behind a load balancer, turn on the `redis` feature and pass a
//! `core::store::redis::RedisStore` to
//! [`QelosConfigBuilder::shared_store`](qelos_integrator_core::QelosConfigBuilder::shared_store):
//! two requests carrying the same refresh token on two instances then cause one upstream
//! refresh. [`docs/scaling.md`](https://github.com/qelos-rs/qelos-rs/blob/main/docs/scaling.md) describes the guarantees and failure modes.

#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod bff;
mod extract;

pub use bff::{QelosRoutes, api_proxy};
pub use extract::{Qelos, QelosRejection, QelosSdk, RequireUser};
pub use qelos_integrator_tower::{QelosLayer, QelosService, ResponseFuture};

qelos_integrator_core::application_api!();

/// The code block of the repository's `README.md`, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
pub struct ReadmeDoctests;

/// The code blocks of `docs/porting.md`, compiled by `cargo test --doc`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/porting.md")]
pub struct PortingGuideDoctests;

/// The code block of `docs/scaling.md`, compiled by `cargo test --doc`. It needs `RedisStore`
/// (the `redis` feature of `qelos-integrator-core`), which this crate's dev-dependency on the
/// core always enables, so it compiles in every doctest run, with or without `--features redis`.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/scaling.md")]
pub struct ScalingGuideDoctests;
